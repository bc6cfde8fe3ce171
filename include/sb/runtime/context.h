/*
 * What one responder is (struct sb_app) and the long-lived state it runs
 * with (struct sb_ctx): configuration, database, keyring, HTTP client and
 * provider definitions, made once and passed down (STYLE.md rule 6).
 * Building a context needs no FastCGI, so sbctl and the tests use it too;
 * the serving loop is in sb/runtime/serve.h.
 */
#ifndef SB_CONTEXT_H
#define SB_CONTEXT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sb/client/http.h"
#include "sb/client/provider.h"
#include "sb/core/config.h"
#include "sb/core/route.h"
#include "sb/store/db.h"
#include "sb/store/secrets.h"

struct sb_ctx;
struct sb_work_queue;

/* What one responder is: its name, routes, database and hooks. */
struct sb_app {
	const char *name; /* component name in logs */
	const struct sb_route *routes;
	size_t route_count;
	int error_style; /* enum sb_response_style */
	const char *db_file; /* under var_dir; NULL: no database */
	bool needs_secrets; /* open the keyring */
	bool needs_http; /* make an outbound client */
	bool needs_providers; /* load the provider definitions */
	/*
	 * After-response work (sb/runtime/drain.h): the due jobs of the
	 * queues named in drain (NULL-terminated; NULL: none) are run after
	 * every response, through the table queues (queue_count rows).
	 */
	const struct sb_work_queue *queues;
	size_t queue_count;
	const char *const *drain;
	/*
	 * Called after every response and the drain, with the deadline of
	 * work after a response set; NULL: nothing.  For a responder's own
	 * after-response work that is not a queue's (the sandbox's CRM
	 * webhooks).
	 */
	void (*after_response)(struct sb_ctx *ctx);
	/*
	 * How many workers (threads, each with its own context) serve
	 * requests in one process; NULL: one.  Handlers of a threaded app
	 * must share nothing but what init gives every context.  What the
	 * libraries share underneath is safe across threads (SQLite built
	 * thread-safe, checked at start; libcurl's easy handles and
	 * libsodium after their global set-up in the main thread), but for
	 * cJSON's parse-error position, a static its parser writes and the
	 * library never reads (sb_request_parse_json() finds offsets itself).
	 */
	long (*threads)(const struct sb_config *config);
	/* Called once after each context is ready; non-SB_OK aborts start. */
	enum sb_err (*init)(struct sb_ctx *ctx);
	/* Called once per context at exit; may be NULL. */
	void (*fini)(struct sb_ctx *ctx);
};

/* When the after-response drain last looked (sb/runtime/drain.h). */
/* What the workers of a process share for their drains. */
struct sb_drain_shared {
	atomic_int serving; /* requests accepted and not yet answered */
	atomic_llong checked_ms; /* monotonic time of the process's last look */
};

struct sb_drain_state {
	bool listening; /* fd 0 is FastCGI's listening socket */
	int64_t
	    checked_ms; /* monotonic time of the last look, without shared */
	struct sb_drain_shared *shared; /* the process's workers', or NULL */
};

/* Long-lived state made in main() and passed down (STYLE.md rule 6). */
struct sb_ctx {
	const struct sb_app *app;
	struct sb_config config;
	struct sb_db *db;
	struct sb_secrets *secrets;
	bool secrets_shared; /* secrets is another context's, not freed here */
	struct sb_http *http;
	struct sb_providers *providers;
	void *user; /* the responder's own state */
	int64_t deadline; /* the current request's (sb/core/deadline.h) */
	struct sb_drain_state drain;
};

/*
 * Builds the context for app: configuration, then what app asks for
 * (database, keyring, HTTP client, providers), then app->init.  On SB_OK
 * ctx is ready and the caller releases it with sb_context_clear().
 * Otherwise the result is the first failing step's (logged where it has a
 * message) and ctx may be partly built: release it with sb_context_clear()
 * in every case.
 */
enum sb_err sb_context_init(struct sb_ctx *ctx, const struct sb_app *app);

/*
 * As sb_context_init(), but ctx borrows first's keyring, if first has
 * one, instead of loading its own: the master key source (a command, for
 * one) is asked once per process, not once per worker.  The keyring is
 * read-only once loaded (sb_secrets_open_source() write-protects it), so
 * the threads of the process may use it at once.  first must outlive ctx;
 * sb_context_clear(ctx) does not free the keyring, sb_context_clear(first)
 * does.
 */
enum sb_err sb_context_init_sharing(
    struct sb_ctx *ctx, const struct sb_app *app, const struct sb_ctx *first);

/*
 * Makes ctx->http from the configured limits (after
 * sb_http_global_init()).  On SB_OK ctx owns it and sb_context_clear()
 * frees it; otherwise no client is made and the result is
 * sb_http_global_init()'s or sb_http_new()'s (SB_ERR_INVALID for limits
 * out of range).
 */
enum sb_err sb_context_http_new(struct sb_ctx *ctx);

/*
 * Fills p with the master key settings of c (master_key,
 * master_key_command and its timeout) and dir, the keyring directory
 * (borrowed, as are c's strings), for sb_secrets_open_source() and
 * sb_secrets_keygen_source() with c->master_key_source.
 */
void sb_context_keysource_params(
    const struct sb_config *c, const char *dir, struct sb_keysource_params *p);

/* Releases what ctx holds (calling app->fini); safe on a partly built ctx. */
void sb_context_clear(struct sb_ctx *ctx);

/*
 * Sets the deadline of what ctx does next (sb/core/deadline.h;
 * SB_DEADLINE_NONE for none) on ctx, its HTTP client and its database.
 */
void sb_context_deadline_set(struct sb_ctx *ctx, int64_t deadline);

#endif
