/*
 * Calling a provider through a connection: the URL is the provider's base
 * URL and a validated path, authentication is added from the sealed
 * credentials, an expired token is refreshed first, a 401 from the provider
 * refreshes once and retries once, and the final URL's host is checked
 * against the provider's before anything is sent.  Token refreshes are
 * single-flight across processes through the connection's refresh lease.
 * Calls are throttled by the connection's rate budget (sb/connect/budget.h,
 * lib/connect/call_throttle.c).
 */
#ifndef SB_CALL_H
#define SB_CALL_H

#include <cJSON.h>

#include "sb/connect/connection.h"
#include "sb/runtime/context.h"
#include "sb/client/http.h"

#define SB_CALL_ERROR_MAX 256
#define SB_CALL_EXPIRY_SKEW_S 30 /* refresh this long before expiry */
#define SB_CALL_LEASE_S 30 /* lease beyond the HTTP limits */
#define SB_CALL_WAIT_MS 10000 /* wait for another refresher, at most */
#define SB_CALL_POLL_MS 50 /* between looks at another's refresh */
#define SB_CALL_WAIT_SLACK_MS \
	100 /* the wait ends this long before the \
	       request's deadline */
#define SB_CALL_BUSY_MESSAGE \
	"another request is refreshing this connection's token and did not " \
	"finish in time; try again"

#define SB_CALL_HEADER_POOL 16384 /* bytes of outbound header text */

struct sb_call {
	const char *method;
	const char *path; /* validated here */
	const char
	    *raw_query; /* as sent (bytes 0x80-0xFF get encoded), or NULL */
	const cJSON *query; /* object of scalars (arrays repeat), or NULL */
	const cJSON *headers; /* object of strings, or NULL */
	const char *body; /* or NULL */
	size_t body_len;
	const char *content_type; /* of body, or NULL */
};

/*
 * Performs call for conn, throttled by the connection's rate budget
 * (lib/connect/call_throttle.c, docs/throttling-and-retries.md): a call
 * may be paced when the last seen budget is low; one the spent budget
 * cannot serve within SB_BUDGET_WAIT_MAX_MS and the deadline is answered
 * as a 429 without calling the provider (resp->attempts is 0, its body
 * Switchboard's error provider_rate_limited); a provider's 429 is waited
 * out and sent once more when its reset fits.  Every 429 that comes back
 * carries Retry-After in whole seconds (>= 1): the provider's own, or one
 * computed from its reset header against its Date.  Reads (GET, HEAD) are
 * retried on 5xx and network errors, writes never (sb/client/http.h).
 * Otherwise as sb_call_send().
 */
enum sb_err sb_call_perform(struct sb_ctx *ctx, struct sb_connection *conn,
    const struct sb_call *call, struct sb_http_response *resp, char *err,
    size_t errsize);

/*
 * Sends call for conn once, as the provider's rate budget aside: refreshes
 * an expired token first, and on a 401 refreshes once and sends once more.
 * Returns SB_OK when the provider answered (resp holds it, whatever its
 * status, a 429 as it came); SB_ERR_INVALID for a refused path,
 * header or query (err says why, nothing was sent); SB_ERR_CRYPTO when
 * the connection's credentials do not open (conn->unreadable, err
 * SB_CONNECTION_UNREADABLE_MESSAGE; nothing was sent); SB_ERR_CONFLICT when the
 * connection needs re-authorisation; SB_ERR_UNAUTHORIZED when a needed token
 * refresh failed; SB_ERR_BUSY when another process's refresh did not end in
 * time; SB_ERR_TIMEOUT, SB_ERR_UPSTREAM, SB_ERR_TOO_LARGE from the HTTP client.
 * err says why whenever it is set; it may be empty only for SB_OK and for store
 * errors.  The caller clears resp with
 * sb_http_response_clear() in every case.
 */
enum sb_err sb_call_send(struct sb_ctx *ctx, struct sb_connection *conn,
    const struct sb_call *call, struct sb_http_response *resp, char *err,
    size_t errsize);

/*
 * Refreshes conn's token (OAuth2 refresh grant, or a client-credentials
 * grant) unless another process already replaced the access token seen as
 * stale (stale_token, may be NULL for "whatever is stored"): at most one
 * process asks the token endpoint at a time, and a lease whose holder died
 * is taken over at once.  The token endpoint's answer is stored
 * (sb_connection_refreshed()) before anything else is done with it.  On
 * SB_OK conn holds the new credentials.  Failures are recorded on the
 * connection and give SB_ERR_UNAUTHORIZED (err says why, without
 * secrets); SB_ERR_BUSY (err SB_CALL_BUSY_MESSAGE) if a live refresher
 * held the lease past SB_CALL_WAIT_MS or past ctx->deadline, whichever
 * comes first; SB_ERR_BUSY or SB_ERR_DB if the lease could not be
 * written; SB_ERR_DB if the outcome could not be recorded; SB_ERR_NOMEM;
 * or sb_connection_load()'s errors while waiting (conn then cleared).  The
 * caller clears conn with sb_connection_clear() in every case.
 */
enum sb_err sb_call_refresh(struct sb_ctx *ctx, struct sb_connection *conn,
    const char *stale_token, char *err, size_t errsize);

#define SB_CALL_REFRESH_AHEAD_S (15 * 60) /* refresh tokens expiring within */
#define SB_CALL_REFRESH_STALE_S 86400 /* and any not refreshed for */
#define SB_CALL_REFRESH_BATCH 500 /* connections per run */

/*
 * `sbctl refresh`: refreshes every OAuth2 or client-credentials connection
 * whose token expires within SB_CALL_REFRESH_AHEAD_S of now or that was
 * not refreshed for SB_CALL_REFRESH_STALE_S, at most
 * SB_CALL_REFRESH_BATCH per run.  *refreshed and *failed count the
 * outcomes (each recorded on its connection); one connection failing does
 * not stop the run.  SB_ERR_NOMEM, or SB_ERR_DB if the due connections
 * could not be listed (then nothing was tried).
 */
enum sb_err sb_call_refresh_due(
    struct sb_ctx *ctx, int64_t now, int *refreshed, int *failed);

/* True if name may not be set by a caller (Authorization, Host, ...). */
bool sb_call_header_forbidden(const char *name);

/* True if a provider's response header may be passed back to the caller. */
bool sb_call_header_passed(
    const struct sb_provider *provider, const char *name);

/* How a failed sb_call_perform() is answered (lib/connect/call_failure.c). */
struct sb_call_failure {
	enum sb_err rc;
	int status; /* 400, 409, 502, 503 or 504 */
	const char *code;
	const char *message; /* when the call's err is empty */
};

/*
 * The answer to sb_call_perform()'s failure rc, borrowed from a static
 * table; NULL for SB_OK, SB_ERR_STORAGE (sb_response_store_failed()
 * answers it) and errors that are the gateway's own (500 internal).  A
 * 503 is sent with Retry-After SB_RESPONSE_BUSY_RETRY_S.
 */
const struct sb_call_failure *sb_call_failure(enum sb_err rc);

#endif
