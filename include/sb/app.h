/*
 * The responders' shared main loop: read configuration, open the database
 * and the other long-lived state into one context, then accept, dispatch,
 * finish, run the work queued for after the response, and reset the arena.
 */
#ifndef SB_APP_H
#define SB_APP_H

#include <stddef.h>

#include "sb/config.h"
#include "sb/db.h"
#include "sb/http.h"
#include "sb/provider.h"
#include "sb/route.h"
#include "sb/secrets.h"

#define SB_APP_DEFER_MAX 16 /* after-response tasks per request */
#define SB_APP_ARENA_MAX (8u << 20) /* per-request arena cap */

struct sb_ctx;

typedef void (*sb_deferred)(struct sb_ctx *ctx, void *arg);

/* What one responder is: its name, routes, database and hooks. */
struct sb_app {
	const char *name; /* component name in logs */
	const struct sb_route *routes;
	size_t route_count;
	int error_style; /* enum sb_response_style */
	const char *db_file; /* under var_dir; NULL: no database */
	int needs_secrets; /* open the keyring */
	int needs_http; /* make an outbound client */
	int needs_providers; /* load the provider definitions */
	/* Called once after the context is ready; non-SB_OK aborts start. */
	enum sb_err (*init)(struct sb_ctx *ctx);
	/* Called once at exit; may be NULL. */
	void (*fini)(struct sb_ctx *ctx);
};

/* Long-lived state made in main() and passed down (STYLE.md rule 6). */
struct sb_ctx {
	const struct sb_app *app;
	struct sb_config config;
	struct sb_db *db;
	struct sb_secrets *secrets;
	struct sb_http *http;
	struct sb_providers *providers;
	void *user; /* the responder's own state */
	struct {
		sb_deferred fn;
		void *arg;
	} deferred[SB_APP_DEFER_MAX];
	size_t deferred_count;
};

/*
 * Runs the responder until its socket closes or it is signalled.  Returns
 * the process exit status: non-zero (after a log line) if the context or
 * FastCGI could not be set up.  Everything it made is released before it
 * returns.
 */
int sb_app_main(const struct sb_app *app, int argc, char **argv);

/*
 * Builds the context for app without serving: used by sbctl and tests.  On
 * SB_OK ctx is ready and the caller releases it with sb_app_ctx_clear().
 * Otherwise the result is the first failing step's (configuration,
 * database, keyring, HTTP client, providers or app->init; logged where it
 * has a message) and ctx may be partly built: release it with
 * sb_app_ctx_clear() in every case.
 */
enum sb_err sb_app_ctx_init(struct sb_ctx *ctx, const struct sb_app *app);

/*
 * Makes ctx->http from the configured limits (after
 * sb_http_global_init()).  On SB_OK ctx owns it and sb_app_ctx_clear()
 * frees it; otherwise no client is made and the result is
 * sb_http_global_init()'s or sb_http_new()'s (SB_ERR_INVALID for limits
 * out of range).
 */
enum sb_err sb_app_http_new(struct sb_ctx *ctx);

/* Releases what ctx holds; safe on a partly initialised ctx. */
void sb_app_ctx_clear(struct sb_ctx *ctx);

/*
 * Queues fn(ctx, arg) to run after the response is finished
 * (FCGX_Finish_r).  arg must outlive the request's arena only if fn frees
 * it; arena memory is still valid when fn runs.  Returns SB_ERR_TOO_LARGE
 * when SB_APP_DEFER_MAX tasks are queued (the caller should then rely on
 * cron).
 */
enum sb_err sb_app_defer(struct sb_ctx *ctx, sb_deferred fn, void *arg);

/*
 * Parses req's body as JSON and validates it against fields (field_count
 * rows; fields NULL skips validation).  On success returns the object,
 * owned by req (freed by sb_request_clear).  Otherwise has already sent the
 * error response (400 naming the problem, 413 past the caps, 415 for a
 * content type other than JSON) and returns NULL.
 */
cJSON *sb_app_body(struct sb_ctx *ctx, struct sb_request *req,
    const struct sb_field *fields, size_t field_count);

/* Health: answers {"status": "ok", "service", "schema_version"} after a
 * database read, or 503 if the read fails.  A route handler. */
void sb_app_health(struct sb_ctx *ctx, struct sb_request *req);

#endif
