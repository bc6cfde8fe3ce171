/*
 * The sandbox's OAuth2 provider (RFC 6749), the "sandbox" provider of the
 * gateway.  POST /oauth/grant stands in for the consent screen and hands
 * out an access/refresh pair; POST /oauth/token serves the refresh_token
 * grant (rotating: the old refresh token dies, the old access token lives
 * on until it expires) and the client_credentials grant.  The token
 * endpoint answers errors in RFC 6749 section 5.2's {"error",
 * "error_description"}; everything else in the library's shape.
 *
 * Tokens are kept in the clear in sandbox_tokens (see
 * db/sandbox/0002_oauth.sql): they open nothing but the sandbox.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "sb/core/header.h"
#include "sb/core/log.h"
#include "sb/core/response.h"
#include "sandbox.h"

#define OAUTH_TTL_MAX 86400 /* seconds an access token may live */
#define OAUTH_CLIENT_ID_MAX 256
#define OAUTH_BASIC_MAX 1024 /* bytes of a decoded Basic credential */
#define OAUTH_PURGE_AFTER 86400 /* expired access tokens kept this long */

enum oauth_sql {
	OAUTH_SQL_INSERT,
	OAUTH_SQL_ACCESS_VALID,
	OAUTH_SQL_REFRESH_FIND,
	OAUTH_SQL_REFRESH_RETIRE,
	OAUTH_SQL_PURGE,
	OAUTH_SQL__MAX
};

static const char *const oauth_sql[OAUTH_SQL__MAX] = {
	[OAUTH_SQL_INSERT] = "INSERT INTO sandbox_tokens (token, kind,"
	                     " client_id, grant_type, expires_at, ttl_s,"
	                     " valid, created_at)"
	                     " VALUES (?1, ?2, ?3, ?4, ?5, ?6, 1, ?7)",
	[OAUTH_SQL_ACCESS_VALID] = "SELECT 1 FROM sandbox_tokens"
	                           " WHERE token = ?1 AND kind = 'access'"
	                           " AND valid = 1 AND expires_at >= ?2",
	[OAUTH_SQL_REFRESH_FIND] = "SELECT client_id, ttl_s FROM sandbox_tokens"
	                           " WHERE token = ?1 AND kind = 'refresh'"
	                           " AND valid = 1",
	[OAUTH_SQL_REFRESH_RETIRE] = "UPDATE sandbox_tokens SET valid = 0"
	                             " WHERE token = ?1 AND kind = 'refresh'"
	                             " AND valid = 1",
	[OAUTH_SQL_PURGE] = "DELETE FROM sandbox_tokens"
	                    " WHERE kind = 'access' AND expires_at < ?1",
};

/* One issue of tokens: what the caller asks for, then what was made. */
struct oauth_issue {
	char client_id[OAUTH_CLIENT_ID_MAX + 1];
	const char *grant_type;
	int64_t ttl_s;
	bool with_refresh;
	char access[SB_SECRETS_TOKEN_MAX];
	char refresh[SB_SECRETS_TOKEN_MAX];
};

/* Inserts one token row; kind is "access" or "refresh". */
static enum sb_err
oauth_insert(struct sb_ctx *ctx, const struct oauth_issue *is,
    const char *token, const char *kind)
{
	sqlite3_stmt *stmt;
	int64_t now = sandbox_now();

	if ((stmt = sb_db_stmt(ctx->db, oauth_sql[OAUTH_SQL_INSERT])) == NULL)
		return SB_ERR_DB;
	sqlite3_bind_text(stmt, 1, token, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 2, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 3, is->client_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 4, is->grant_type, -1, SQLITE_STATIC);
	if (strcmp(kind, "access") == 0)
		sqlite3_bind_int64(stmt, 5, now + is->ttl_s);
	else
		sqlite3_bind_null(stmt, 5);
	sqlite3_bind_int64(stmt, 6, is->ttl_s);
	sqlite3_bind_int64(stmt, 7, now);
	return sandbox_step_write(ctx->db, stmt, NULL);
}

/*
 * Makes and stores a fresh access token (and a refresh token if
 * is->with_refresh), dropping access tokens long expired.  Runs in the
 * caller's transaction.
 */
static enum sb_err
oauth_issue(struct sb_ctx *ctx, struct oauth_issue *is)
{
	sqlite3_stmt *stmt;
	enum sb_err rc;

	if ((stmt = sb_db_stmt(ctx->db, oauth_sql[OAUTH_SQL_PURGE])) == NULL)
		return SB_ERR_DB;
	sqlite3_bind_int64(stmt, 1, sandbox_now() - OAUTH_PURGE_AFTER);
	if ((rc = sandbox_step_write(ctx->db, stmt, NULL)) != SB_OK)
		return rc;
	if ((rc = sb_secrets_token_new(
	         "sat", is->access, sizeof(is->access))) != SB_OK ||
	    (rc = oauth_insert(ctx, is, is->access, "access")) != SB_OK)
		return rc;
	is->refresh[0] = '\0';
	if (!is->with_refresh)
		return SB_OK;
	if ((rc = sb_secrets_token_new(
	         "srt", is->refresh, sizeof(is->refresh))) != SB_OK)
		return rc;
	return oauth_insert(ctx, is, is->refresh, "refresh");
}

enum sb_err
sandbox_oauth_issue_access(struct sb_ctx *ctx, const char *client_id,
    const char *grant_type, int64_t ttl_s, char *token, size_t size)
{
	struct oauth_issue is = { .grant_type = grant_type, .ttl_s = ttl_s };
	enum sb_err rc;

	if (strlen(client_id) > OAUTH_CLIENT_ID_MAX || size < sizeof(is.access))
		return SB_ERR_INVALID;
	snprintf(is.client_id, sizeof(is.client_id), "%s", client_id);
	if ((rc = oauth_issue(ctx, &is)) == SB_OK)
		memcpy(token, is.access, sizeof(is.access));
	sodium_memzero(is.access, sizeof(is.access));
	return rc;
}

/* Sends the token answer of RFC 6749 section 5.1 with status. */
static void
oauth_answer(struct sb_request *req, int status, const struct oauth_issue *is)
{
	cJSON *root;

	sb_response_header(req, "Cache-Control", "no-store");
	sb_response_header(req, "Pragma", "no-cache");
	if ((root = cJSON_CreateObject()) == NULL ||
	    cJSON_AddStringToObject(root, "access_token", is->access) == NULL ||
	    cJSON_AddStringToObject(root, "token_type", "Bearer") == NULL ||
	    cJSON_AddNumberToObject(root, "expires_in", (double)is->ttl_s) ==
	        NULL ||
	    (is->refresh[0] != '\0' &&
	        cJSON_AddStringToObject(root, "refresh_token", is->refresh) ==
	            NULL)) {
		sandbox_internal(req, "building the token answer");
		goto out;
	}
	sb_response_json(req, status, root);
out:
	cJSON_Delete(root);
}

void
sandbox_oauth_error(struct sb_request *req, int status, const char *error,
    const char *description)
{
	cJSON *root;

	sb_response_header(req, "Cache-Control", "no-store");
	sb_response_header(req, "Pragma", "no-cache");
	if ((root = cJSON_CreateObject()) == NULL ||
	    cJSON_AddStringToObject(root, "error", error) == NULL ||
	    cJSON_AddStringToObject(root, "error_description", description) ==
	        NULL) {
		sandbox_internal(req, "building the token error");
		goto out;
	}
	sb_response_json(req, status, root);
out:
	cJSON_Delete(root);
}

/* Issues in a transaction of its own and answers status, or 500. */
static void
oauth_issue_and_answer(struct sb_ctx *ctx, struct sb_request *req,
    struct oauth_issue *is, int status)
{
	enum sb_err rc;

	if ((rc = sb_db_begin(ctx->db)) == SB_OK &&
	    (rc = oauth_issue(ctx, is)) == SB_OK)
		rc = sb_db_commit(ctx->db);
	if (rc != SB_OK) {
		sb_db_rollback(ctx->db);
		sandbox_internal(req, "issuing tokens");
		return;
	}
	oauth_answer(req, status, is);
}

/* POST /oauth/grant [{client_id, expires_in}]: 201 a fresh token pair. */
void
sandbox_oauth_grant(struct sb_ctx *ctx, struct sb_request *req)
{
	struct sandbox_state *state = ctx->user;
	struct oauth_issue is = { .grant_type = "grant" };
	const char *client_id, *ttl;
	char err[128];
	struct sb_kv *kv;
	size_t n;

	if (sandbox_params_read(req, &kv, &n, err, sizeof(err)) != SB_OK) {
		sb_response_error(req, 400, "invalid_request", err);
		return;
	}
	client_id = sandbox_params_get(kv, n, "client_id");
	ttl = sandbox_params_get(kv, n, "expires_in");
	if (client_id != NULL && strlen(client_id) > OAUTH_CLIENT_ID_MAX) {
		sb_response_errorf(req, 400, "invalid_request",
		    "client_id is longer than %d characters",
		    OAUTH_CLIENT_ID_MAX);
		return;
	}
	is.ttl_s = ctx->config.sandbox_token_ttl_s;
	if (ttl != NULL &&
	    !sb_request_parse_int(ttl, 1, OAUTH_TTL_MAX, &is.ttl_s)) {
		sb_response_errorf(req, 400, "invalid_request",
		    "expires_in must be an integer from 1 to %d",
		    OAUTH_TTL_MAX);
		return;
	}
	snprintf(is.client_id, sizeof(is.client_id), "%s",
	    client_id != NULL ? client_id : "");
	is.with_refresh = !state->no_refresh_token;
	oauth_issue_and_answer(ctx, req, &is, 201);
}

/*
 * Uses the refresh token old inside the caller's transaction: fills is
 * from its row, retires it if is->with_refresh (rotation), and issues.
 * SB_ERR_NOT_FOUND if old is not a live refresh token.
 */
static enum sb_err
oauth_refresh_locked(
    struct sb_ctx *ctx, const char *old, struct oauth_issue *is)
{
	sqlite3_stmt *stmt;
	enum sb_err rc;
	int step, changes;

	if ((stmt = sb_db_stmt(ctx->db, oauth_sql[OAUTH_SQL_REFRESH_FIND])) ==
	    NULL)
		return SB_ERR_DB;
	sqlite3_bind_text(stmt, 1, old, -1, SQLITE_STATIC);
	if ((step = sqlite3_step(stmt)) == SQLITE_ROW) {
		snprintf(is->client_id, sizeof(is->client_id), "%s",
		    (const char *)sqlite3_column_text(stmt, 0));
		is->ttl_s = sqlite3_column_int64(stmt, 1);
	}
	sqlite3_reset(stmt);
	if (step != SQLITE_ROW)
		return step == SQLITE_DONE ? SB_ERR_NOT_FOUND : SB_ERR_DB;
	if (is->with_refresh) {
		stmt = sb_db_stmt(ctx->db, oauth_sql[OAUTH_SQL_REFRESH_RETIRE]);
		if (stmt == NULL)
			return SB_ERR_DB;
		sqlite3_bind_text(stmt, 1, old, -1, SQLITE_STATIC);
		if ((rc = sandbox_step_write(ctx->db, stmt, &changes)) != SB_OK)
			return rc;
		if (changes != 1)
			return SB_ERR_NOT_FOUND;
	}
	return oauth_issue(ctx, is);
}

/* grant_type=refresh_token: a new access token, and a new refresh token
 * in place of the old unless a no_refresh_token switch was taken. */
static void
oauth_refresh(struct sb_ctx *ctx, struct sb_request *req,
    const struct sb_kv *kv, size_t n)
{
	struct sandbox_state *state = ctx->user;
	struct oauth_issue is = { .grant_type = "refresh_token" };
	const char *old = sandbox_params_get(kv, n, "refresh_token");
	enum sb_err rc;

	if (old == NULL || *old == '\0') {
		sandbox_oauth_error(
		    req, 400, "invalid_request", "refresh_token is required");
		return;
	}
	is.with_refresh = !state->no_refresh_token;
	if ((rc = sb_db_begin(ctx->db)) == SB_OK &&
	    (rc = oauth_refresh_locked(ctx, old, &is)) == SB_OK)
		rc = sb_db_commit(ctx->db);
	if (rc != SB_OK)
		sb_db_rollback(ctx->db);
	if (rc == SB_ERR_NOT_FOUND)
		sandbox_oauth_error(req, 400, "invalid_grant",
		    "the refresh token is unknown or no longer valid");
	else if (rc != SB_OK)
		sandbox_internal(req, "refreshing a token");
	else
		oauth_answer(req, 200, &is);
}

/* Decodes one form-encoded half of a Basic credential into the arena. */
static const char *
oauth_basic_part(struct sb_request *req, const char *s, size_t len)
{
	char *out;

	return sb_request_decode(req->arena, s, len, true, &out) == SB_OK
	    ? out
	    : NULL;
}

bool
sandbox_oauth_basic(
    struct sb_request *req, const char **id, const char **secret)
{
	const char *auth = req->authorization, *colon;
	unsigned char *bin;
	size_t len;

	if (auth == NULL || strncasecmp(auth, "Basic ", 6) != 0 ||
	    (bin = sb_arena_alloc(req->arena, OAUTH_BASIC_MAX + 1)) == NULL)
		return false;
	if (sodium_base642bin(bin, OAUTH_BASIC_MAX, auth + 6, strlen(auth + 6),
	        " ", &len, NULL, sodium_base64_VARIANT_ORIGINAL) != 0)
		return false;
	bin[len] = '\0';
	if (strlen((char *)bin) != len ||
	    (colon = strchr((char *)bin, ':')) == NULL)
		return false;
	*id = oauth_basic_part(req, (char *)bin, (size_t)(colon - (char *)bin));
	*secret = oauth_basic_part(req, colon + 1, strlen(colon + 1));
	return *id != NULL && *secret != NULL;
}

/* grant_type=client_credentials: an access token for any non-empty
 * client_id and client_secret (in the body or as HTTP Basic). */
static void
oauth_client_credentials(struct sb_ctx *ctx, struct sb_request *req,
    const struct sb_kv *kv, size_t n)
{
	struct oauth_issue is = { .grant_type = "client_credentials" };
	const char *id = sandbox_params_get(kv, n, "client_id");
	const char *secret = sandbox_params_get(kv, n, "client_secret");

	if (id == NULL || secret == NULL)
		sandbox_oauth_basic(req, &id, &secret);
	if (id == NULL || *id == '\0' || secret == NULL || *secret == '\0' ||
	    strlen(id) > OAUTH_CLIENT_ID_MAX) {
		sandbox_oauth_error(req, 400, "invalid_request",
		    "client_id and client_secret are required");
		return;
	}
	snprintf(is.client_id, sizeof(is.client_id), "%s", id);
	is.ttl_s = ctx->config.sandbox_token_ttl_s;
	is.with_refresh = false;
	oauth_issue_and_answer(ctx, req, &is, 200);
}

typedef void (*oauth_grant_fn)(struct sb_ctx *ctx, struct sb_request *req,
    const struct sb_kv *kv, size_t n);

static const struct oauth_grant {
	const char *name;
	oauth_grant_fn fn;
} oauth_grants[] = {
	{ "refresh_token", oauth_refresh },
	{ "client_credentials", oauth_client_credentials },
};

/* POST /oauth/token: the token endpoint, form or JSON body. */
void
sandbox_oauth_token(struct sb_ctx *ctx, struct sb_request *req)
{
	const char *grant;
	char err[128];
	struct sb_kv *kv;
	size_t n;

	if (sandbox_params_read(req, &kv, &n, err, sizeof(err)) != SB_OK) {
		sandbox_oauth_error(req, 400, "invalid_request", err);
		return;
	}
	if ((grant = sandbox_params_get(kv, n, "grant_type")) == NULL ||
	    *grant == '\0') {
		sandbox_oauth_error(
		    req, 400, "invalid_request", "grant_type is required");
		return;
	}
	for (size_t i = 0; i < sizeof(oauth_grants) / sizeof(oauth_grants[0]);
	     i++) {
		if (strcmp(oauth_grants[i].name, grant) == 0) {
			oauth_grants[i].fn(ctx, req, kv, n);
			return;
		}
	}
	sandbox_oauth_error(req, 400, "unsupported_grant_type",
	    "grant_type must be refresh_token or client_credentials");
}

/* Looks token up: SB_OK if live, SB_ERR_NOT_FOUND if not, else SB_ERR_DB. */
static enum sb_err
oauth_access_find(struct sb_ctx *ctx, const char *token)
{
	sqlite3_stmt *stmt;
	int step;

	stmt = sb_db_stmt(ctx->db, oauth_sql[OAUTH_SQL_ACCESS_VALID]);
	if (stmt == NULL)
		return SB_ERR_DB;
	sqlite3_bind_text(stmt, 1, token, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 2, sandbox_now());
	step = sqlite3_step(stmt);
	sqlite3_reset(stmt);
	if (step == SQLITE_ROW)
		return SB_OK;
	return step == SQLITE_DONE ? SB_ERR_NOT_FOUND : SB_ERR_DB;
}

bool
sandbox_oauth_bearer(struct sb_ctx *ctx, struct sb_request *req)
{
	const char *token = sb_header_bearer(req->authorization), *why;
	enum sb_err rc = SB_ERR_NOT_FOUND;

	why = "a bearer access token is required";
	if (token != NULL) {
		if ((rc = oauth_access_find(ctx, token)) == SB_OK)
			return true;
		why = "the access token is unknown or has expired";
	}
	if (rc != SB_ERR_NOT_FOUND) {
		sandbox_internal(req, "checking a token");
		return false;
	}
	sb_response_header(
	    req, "WWW-Authenticate", "Bearer error=\"invalid_token\"");
	sb_response_error(req, 401, "invalid_token", why);
	return false;
}
