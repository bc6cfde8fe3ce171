/*
 * The sandbox responder's parts (fcgi/sandbox.c and the files of
 * fcgi/sandbox/). Every request passes the gate in fcgi/sandbox.c first: it
 * counts the hit (stats.c), takes the next failure switch set for the path
 * (faults.c), and only then dispatches to the sandbox's own route table.  The
 * OAuth2 provider (oauth.c) issues the tokens that the protected API (api.c)
 * checks.  All state is in the sandbox's own database, so the processes
 * that run side by side agree on it.
 */
#ifndef SANDBOX_H
#define SANDBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sb/core/body.h"
#include "sb/runtime/context.h"
#include "sb/core/request.h"

#define SANDBOX_COMPONENT "sandbox"
#define SANDBOX_PATH_MAX 512 /* bytes of a path counted or switched */
#define SANDBOX_PARAMS_MAX 32 /* fields of a form or JSON body */

/* Failure switches (faults.c); the names are the API's "kind" values. */
enum sandbox_fault_kind {
	SANDBOX_FAULT_STATUS,
	SANDBOX_FAULT_429,
	SANDBOX_FAULT_SLOW,
	SANDBOX_FAULT_MALFORMED,
	SANDBOX_FAULT_OVERSIZED,
	SANDBOX_FAULT_REDIRECT,
	SANDBOX_FAULT_NO_REFRESH_TOKEN,
	SANDBOX_FAULT_TRUNCATED,
	SANDBOX_FAULT_ANSWER_LOST,
	SANDBOX_FAULT__MAX
};

/* One switch taken for the request in hand. */
struct sandbox_fault {
	bool present;
	enum sandbox_fault_kind kind;
	int64_t arg;
};

/* Per-process state in ctx->user, made by the responder's init hook. */
struct sandbox_state {
	/* The request in hand took a no_refresh_token switch. */
	bool no_refresh_token;
	/* The request in hand fired a CRM webhook (crm_webhooks.c). */
	bool crm_fired;
	/* The request in hand took an answer_lost switch: the CRM's user
	 * writes commit, then answer this status instead (0: none). */
	int answer_lost;
};

/* sandbox.c */

/*
 * True iff req carries the sandbox's control token as a bearer token
 * (compared in constant time); false with no token configured.
 */
bool sandbox_control_allowed(
    const struct sb_ctx *ctx, const struct sb_request *req);

/* common.c */

/* Current time in unix seconds. */
int64_t sandbox_now(void);

/*
 * Steps a write statement to its end and resets it; SB_ERR_DB (logged)
 * if SQLite failed.  *changes (if not NULL) gets the rows it changed.
 */
enum sb_err sandbox_step_write(
    struct sb_db *db, sqlite3_stmt *stmt, int *changes);

/* Answers 500 "internal" after logging what failed (no request data). */
void sandbox_internal(struct sb_request *req, const char *what);

/*
 * Reads req's body as a flat set of fields: application/json (an object of
 * strings, numbers and booleans; numbers and booleans become their text)
 * or, for any other or no content type, application/x-www-form-urlencoded.
 * An empty body gives no fields.  On SB_OK *out (arena) holds *count
 * pairs; otherwise err (errsize bytes) says what was wrong.
 */
enum sb_err sandbox_params_read(struct sb_request *req, struct sb_kv **out,
    size_t *count, char *err, size_t errsize);

/*
 * "http://<Host><path>" into req's arena, Host being the one nginx
 * checked (127.0.0.1 when absent or unsafe); NULL on allocation failure.
 */
const char *sandbox_url(struct sb_request *req, const char *path);

/* Value of key among count pairs (first occurrence), or NULL. */
const char *sandbox_params_get(
    const struct sb_kv *kv, size_t count, const char *key);

/* stats.c */

/*
 * Counts one request to path; paths longer than SANDBOX_PATH_MAX are not
 * counted (SB_OK).  SB_ERR_DB (logged) if the counter could not be written.
 */
enum sb_err sandbox_stats_hit(struct sb_ctx *ctx, const char *path);

/*
 * The handlers below are route handlers: each sends exactly one response
 * on req and returns nothing.  A store failure answers 500 "internal"
 * through sandbox_internal(); nothing they make outlives the call.
 */

/* GET /_sandbox/stats: 200 {"paths": {path: count, ...}, "total": sum}. */
void sandbox_stats_get(struct sb_ctx *ctx, struct sb_request *req);

/* DELETE /_sandbox/stats: every counter back to zero; 204. */
void sandbox_stats_reset(struct sb_ctx *ctx, struct sb_request *req);

/* faults.c */

/*
 * Takes the oldest switch set for path, atomically across processes
 * (BEGIN IMMEDIATE): its remaining count goes down by one and it is
 * deleted at zero.  On SB_OK out->present tells whether there was one.
 */
enum sb_err sandbox_fault_take(
    struct sb_ctx *ctx, const char *path, struct sandbox_fault *out);

/*
 * Acts out fault on req.  Returns true if it sent the response (the
 * request ends there); false if the request goes on to its handler
 * (nothing set, "slow" after its sleep, "no_refresh_token" and
 * "answer_lost" after marking the state).
 */
bool sandbox_fault_apply(struct sb_ctx *ctx, struct sb_request *req,
    const struct sandbox_fault *fault);

/*
 * POST /_sandbox/faults {"path", "kind", "count", "arg"}: 201 with the
 * switch set; 400 "invalid_request" for an unknown kind or a bad field.
 */
void sandbox_faults_add(struct sb_ctx *ctx, struct sb_request *req);

/* GET /_sandbox/faults: 200, the switches waiting, oldest first. */
void sandbox_faults_list(struct sb_ctx *ctx, struct sb_request *req);

/* DELETE /_sandbox/faults: every switch off; 204. */
void sandbox_faults_clear(struct sb_ctx *ctx, struct sb_request *req);

/* oauth.c */

/*
 * POST /oauth/grant [{client_id, expires_in}]: stands in for the consent
 * screen; 201 a fresh access/refresh pair, 400 "invalid_request" for a bad
 * field.
 */
void sandbox_oauth_grant(struct sb_ctx *ctx, struct sb_request *req);

/*
 * POST /oauth/token (form or JSON body): the refresh_token grant (rotating
 * the refresh token) and the client_credentials grant.  Errors are
 * RFC 6749 section 5.2 {"error", "error_description"} answers
 * (invalid_request, invalid_grant, unsupported_grant_type, ...).
 */
void sandbox_oauth_token(struct sb_ctx *ctx, struct sb_request *req);

/*
 * An OAuth token endpoint's error (RFC 6749 section 5.2, Okta's too):
 * status with {"error", "error_description"}, not cached.
 */
void sandbox_oauth_error(struct sb_request *req, int status, const char *error,
    const char *description);

/*
 * Reads client_id and client_secret from "Authorization: Basic" (RFC 6749
 * section 2.3.1: each form-encoded, joined by ':', base64) into the
 * arena.  False if the header is absent or malformed.
 */
bool sandbox_oauth_basic(
    struct sb_request *req, const char **id, const char **secret);

/*
 * Issues an access token for client_id alive ttl_s seconds, recorded with
 * grant_type, inside the caller's transaction; token gets it (at least
 * SB_SECRETS_TOKEN_MAX bytes).  SB_ERR_INVALID for a too-long client id
 * or a small buffer; store errors otherwise.
 */
enum sb_err sandbox_oauth_issue_access(struct sb_ctx *ctx,
    const char *client_id, const char *grant_type, int64_t ttl_s, char *token,
    size_t size);

/*
 * True iff req carries "Authorization: Bearer <token>" naming an access
 * token that has not expired.  Otherwise answers 401 invalid_token with
 * WWW-Authenticate and returns false.
 */
bool sandbox_oauth_bearer(struct sb_ctx *ctx, struct sb_request *req);

/* api.c */

/*
 * The protected API: each first checks the bearer token with
 * sandbox_oauth_bearer() (401 "invalid_token" without a live one).
 */

/* GET /api/me: 200, the token's user (always the first). */
void sandbox_api_me(struct sb_ctx *ctx, struct sb_request *req);

/* GET /api/users[?limit=N]: 200, at most N users; 400 for a bad limit. */
void sandbox_api_users(struct sb_ctx *ctx, struct sb_request *req);

/* GET /api/users/{id}: one of the users, or 404 not_found. */
void sandbox_api_user(struct sb_ctx *ctx, struct sb_request *req);

/*
 * Any method on /api/echo: 200 {"method", "path", "query", "args",
 * "headers", "body"}, exactly what the gateway sent, with a cookie the
 * gateway must strip.
 */
void sandbox_api_echo(struct sb_ctx *ctx, struct sb_request *req);

/* okta.c and okta_users.c: an Okta org per tenant (see okta.h) */

/*
 * POST /_sandbox/okta/{tenant} [{rate_limit, rate_window_s, public_key,
 * key_id}]: makes or resets the tenant with OKTA_USERS_SEEDED users in
 * mixed statuses and fresh secrets, and registers the public key sent or
 * a fresh key pair's for its client's private_key_jwt; 201 {"tenant",
 * "base_url", "api_token", "client_id", "key_id", "users"} and
 * "private_key" (PEM PKCS#8) when the pair was made here; 400
 * invalid_request for a bad tenant name or field.
 */
void sandbox_okta_setup(struct sb_ctx *ctx, struct sb_request *req);

/*
 * POST /okta/{tenant}/oauth2/v1/token (form body): the client credentials
 * grant with a private_key_jwt client assertion, verified fully (RS256
 * signature with the tenant's registered key, kid, aud = this URL, exp
 * not passed and at most 5 minutes after iat, iss = sub = the tenant's
 * client id, jti not seen before).  200 {"token_type", "expires_in",
 * "access_token", "scope"}; Okta's OAuth error body
 * {"error", "error_description"} with 400 or 401 otherwise.
 */
void sandbox_okta_token(struct sb_ctx *ctx, struct sb_request *req);

/*
 * The users API of a tenant, each behind okta_enter() (tenant, rate
 * budget, SSWS or Bearer token), answering Okta's error bodies:
 * GET .../api/v1/users[?limit&after&search&filter&q] (Link pagination),
 * GET .../api/v1/users/{user} (id or login),
 * POST .../api/v1/users/{user}/lifecycle/{action} (suspend, unsuspend,
 * unlock, deactivate; 400 E0000001 when the status forbids it), and
 * DELETE .../api/v1/users/{user}[?sendEmail] (deactivates, or deletes a
 * deactivated user; 204).
 */
void sandbox_okta_users_list(struct sb_ctx *ctx, struct sb_request *req);
void sandbox_okta_user_get(struct sb_ctx *ctx, struct sb_request *req);
void sandbox_okta_user_lifecycle(struct sb_ctx *ctx, struct sb_request *req);
void sandbox_okta_user_delete(struct sb_ctx *ctx, struct sb_request *req);

/* jsonplaceholder.c: JSONPlaceholder's posts, users and comments */

/*
 * GET /jsonplaceholder/{resource}[?field=value] and
 * GET /jsonplaceholder/{resource}/{id}: the items (posts, users,
 * comments), generated on first use, with a weak ETag; 304 when
 * If-None-Match names it; 404 {} for an unknown resource or id.
 */
void sandbox_jp_list(struct sb_ctx *ctx, struct sb_request *req);
void sandbox_jp_get(struct sb_ctx *ctx, struct sb_request *req);

/*
 * The control paths: POST /_sandbox/jsonplaceholder resets every item to
 * the generated ones (200 with the counts); PATCH
 * /_sandbox/jsonplaceholder/{resource}/{id} merges a JSON object into an
 * item (200 the item); POST /_sandbox/jsonplaceholder/{resource} adds one
 * with the next id (201); DELETE .../{resource}/{id} removes it (204).
 * 404 not_found for an unknown resource or item, 400 invalid_request for
 * a body that is not a JSON object.
 */
void sandbox_jp_reset(struct sb_ctx *ctx, struct sb_request *req);
void sandbox_jp_patch(struct sb_ctx *ctx, struct sb_request *req);
void sandbox_jp_add(struct sb_ctx *ctx, struct sb_request *req);
void sandbox_jp_delete(struct sb_ctx *ctx, struct sb_request *req);

/* crm.c, crm_users.c and crm_webhooks.c: the mock CRM (see crm.h) */

/*
 * POST /_sandbox/crm [{client_id, client_secret, webhook_secret,
 * webhook_url, token_ttl_s, rate_limit, rate_window_s}]: makes or resets
 * the CRM (no users, tokens, events or deliveries); 201 with its
 * settings, secrets included; 400 invalid_request for a bad field.
 */
void sandbox_crm_setup(struct sb_ctx *ctx, struct sb_request *req);

/*
 * POST /crm/token: the client credentials grant (form or JSON body, or
 * HTTP Basic); RFC 6749's answers and errors (401 invalid_client).
 */
void sandbox_crm_token(struct sb_ctx *ctx, struct sb_request *req);

/*
 * The users API, each behind crm_enter() (rate budget, bearer token):
 * POST /crm/users (201), GET, PUT (200) and DELETE (204)
 * /crm/users/{crm_id}.  Errors are the CRM's {"error", "message"}
 * bodies, with "fields" for validation_failed.
 */
void sandbox_crm_user_create(struct sb_ctx *ctx, struct sb_request *req);
void sandbox_crm_user_get(struct sb_ctx *ctx, struct sb_request *req);
void sandbox_crm_user_put(struct sb_ctx *ctx, struct sb_request *req);
void sandbox_crm_user_delete(struct sb_ctx *ctx, struct sb_request *req);

/*
 * PATCH /crm/admin/users/{crm_id}[?delivery=late|twice|out_of_order
 * &delay_ms=N] (control token): changes the user and fires the signed
 * webhook, sent after the response; 200 {"user", "event_id",
 * "delivery"}.
 */
void sandbox_crm_admin_patch(struct sb_ctx *ctx, struct sb_request *req);

/* GET /_sandbox/crm/deliveries: 200 {"deliveries", "waiting"}. */
void sandbox_crm_deliveries(struct sb_ctx *ctx, struct sb_request *req);

/*
 * POST /crm/inbox[?status=N]: a stand-in webhook receiver that checks
 * X-CRM-Signature with the CRM's webhook secret: 200 {"received"}, 401
 * invalid_signature, or status N when asked.
 */
void sandbox_crm_inbox(struct sb_ctx *ctx, struct sb_request *req);

/*
 * The responder's after-response hook: sends the CRM's due webhook
 * events; when the request in hand fired one, also waits for a late one
 * that comes due within the deadline.
 */
void sandbox_crm_after_response(struct sb_ctx *ctx);

#endif
