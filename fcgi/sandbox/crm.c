/*
 * The sandbox's mock CRM: POST /_sandbox/crm makes or resets it (one per
 * sandbox), POST /crm/token is its OAuth2 token endpoint (the client
 * credentials grant only), and every request to its users API passes
 * crm_enter() first: the request is counted against the CRM's rate budget
 * (a fixed window, X-RateLimit-* headers, 429 with Retry-After past it)
 * and its bearer token checked.  Secrets are compared in constant time.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "sb/core/header.h"
#include "sb/core/response.h"
#include "crm.h"

#define CRM_TTL_DEFAULT 3600 /* seconds an access token lives */
#define CRM_TTL_MAX 86400
#define CRM_RATE_LIMIT_DEFAULT 100 /* requests per window */
#define CRM_RATE_LIMIT_MAX 1000000
#define CRM_RATE_WINDOW_DEFAULT 10 /* seconds */
#define CRM_RATE_WINDOW_MAX 3600
#define CRM_FIRST_NUMBER 100 /* the first user is CRM100 */
#define CRM_PURGE_AFTER_MS 86400000LL /* expired tokens kept this long */
#define CRM_MS 1000

enum crm_sql {
	CRM_SQL_CONFIG_UPSERT,
	CRM_SQL_CLEAR_USERS,
	CRM_SQL_CLEAR_TOKENS,
	CRM_SQL_CLEAR_EVENTS,
	CRM_SQL_CLEAR_DELIVERIES,
	CRM_SQL_CLEAR_KEYS,
	CRM_SQL_KEEP_TOKENS,
	CRM_SQL_KEEP_CONFIG,
	CRM_SQL_COUNT,
	CRM_SQL_TOKEN_VALID,
	CRM_SQL_CLIENT,
	CRM_SQL_TOKEN_PURGE,
	CRM_SQL_TOKEN_INSERT,
	CRM_SQL__MAX
};

static const char *const crm_sql[CRM_SQL__MAX] = {
	[CRM_SQL_CONFIG_UPSERT] =
	    "INSERT OR REPLACE INTO crm_config (id, client_id, client_secret,"
	    " webhook_secret, webhook_url, token_ttl_s, rate_limit,"
	    " rate_window_s, window_start, window_used, next_number,"
	    " created_at) VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 0, ?9,"
	    " ?8)",
	[CRM_SQL_CLEAR_USERS] = "DELETE FROM crm_users",
	[CRM_SQL_CLEAR_TOKENS] = "DELETE FROM crm_tokens",
	[CRM_SQL_CLEAR_EVENTS] = "DELETE FROM crm_events",
	[CRM_SQL_CLEAR_DELIVERIES] = "DELETE FROM crm_deliveries",
	[CRM_SQL_CLEAR_KEYS] = "DELETE FROM crm_idempotency",
	/* keep_users: a new client secret revokes the tokens of the old. */
	[CRM_SQL_KEEP_TOKENS] = "DELETE FROM crm_tokens WHERE EXISTS (SELECT 1"
	                        " FROM crm_config WHERE id = 1"
	                        " AND client_id = ?1 AND client_secret <> ?2)",
	[CRM_SQL_KEEP_CONFIG] =
	    "UPDATE crm_config SET client_secret = ?2, webhook_secret = ?3,"
	    " webhook_url = ?4, token_ttl_s = ?5, rate_limit = ?6,"
	    " rate_window_s = ?7 WHERE id = 1 AND client_id = ?1",
	/* The window restarts once it is over; SET reads the old row. */
	[CRM_SQL_COUNT] =
	    "UPDATE crm_config SET"
	    " window_used = CASE WHEN ?1 >= window_start + rate_window_s"
	    " THEN 1 ELSE window_used + 1 END,"
	    " window_start = CASE WHEN ?1 >= window_start + rate_window_s"
	    " THEN ?1 ELSE window_start END"
	    " WHERE id = 1 RETURNING rate_limit,"
	    " window_start + rate_window_s, window_used",
	[CRM_SQL_TOKEN_VALID] = "SELECT 1 FROM crm_tokens"
	                        " WHERE token = ?1 AND expires_ms > ?2",
	[CRM_SQL_CLIENT] = "SELECT client_id, client_secret, token_ttl_s"
	                   " FROM crm_config WHERE id = 1",
	[CRM_SQL_TOKEN_PURGE] = "DELETE FROM crm_tokens WHERE expires_ms < ?1",
	[CRM_SQL_TOKEN_INSERT] =
	    "INSERT INTO crm_tokens (token, expires_ms) VALUES (?1, ?2)",
};

int64_t
crm_now_ms(void)
{
	return sb_db_now_ms();
}

void
crm_iso_ms(int64_t ms, char out[CRM_ISO_MAX])
{
	sb_db_iso_ms(ms, out, CRM_ISO_MAX);
}

void
crm_error(
    struct sb_request *req, int status, const char *code, const char *message)
{
	cJSON *root;

	if ((root = cJSON_CreateObject()) == NULL ||
	    cJSON_AddStringToObject(root, "error", code) == NULL ||
	    cJSON_AddStringToObject(root, "message", message) == NULL)
		sandbox_internal(req, "building a CRM error");
	else
		sb_response_json(req, status, root);
	cJSON_Delete(root);
}

void
crm_not_found(struct sb_request *req, const char *what)
{
	const char *message =
	    sb_arena_printf(req->arena, "no such resource: %.100s", what);

	crm_error(req, 404, "not_found", message != NULL ? message : "");
}

/* What counting a request found: the CRM's budget. */
struct crm_count {
	bool found;
	int64_t limit;
	int64_t reset; /* unix seconds the window ends */
	int64_t used;
};

/* Counts one request against the budget, in its own transaction. */
static enum sb_err
crm_count_request(struct sb_ctx *ctx, struct crm_count *out)
{
	sqlite3_stmt *st;
	enum sb_err rc;
	int step;

	out->found = false;
	if ((rc = sb_db_begin(ctx->db)) != SB_OK)
		return rc;
	if ((st = sb_db_stmt(ctx->db, crm_sql[CRM_SQL_COUNT])) == NULL) {
		sb_db_rollback(ctx->db);
		return SB_ERR_DB;
	}
	sqlite3_bind_int64(st, 1, sandbox_now());
	if ((step = sqlite3_step(st)) == SQLITE_ROW) {
		out->found = true;
		out->limit = sqlite3_column_int64(st, 0);
		out->reset = sqlite3_column_int64(st, 1);
		out->used = sqlite3_column_int64(st, 2);
		step = sqlite3_step(st);
	}
	rc = step == SQLITE_DONE ? SB_OK : sb_db_rc(step);
	sqlite3_reset(st);
	if (rc == SB_OK)
		return sb_db_commit(ctx->db);
	sb_db_rollback(ctx->db);
	return rc;
}

/* The budget headers; past the budget also Retry-After. */
static void
crm_rate_headers(struct sb_request *req, const struct crm_count *c)
{
	int64_t remaining = c->limit - c->used;
	int64_t wait = c->reset - sandbox_now();
	char text[32];

	snprintf(text, sizeof(text), "%lld", (long long)c->limit);
	sb_response_header(req, "X-RateLimit-Limit", text);
	snprintf(text, sizeof(text), "%lld",
	    (long long)(remaining > 0 ? remaining : 0));
	sb_response_header(req, "X-RateLimit-Remaining", text);
	snprintf(text, sizeof(text), "%lld", (long long)c->reset);
	sb_response_header(req, "X-RateLimit-Reset", text);
	if (remaining >= 0)
		return;
	snprintf(text, sizeof(text), "%lld", (long long)(wait > 1 ? wait : 1));
	sb_response_header(req, "Retry-After", text);
}

/* Looks token up: SB_OK if live, SB_ERR_NOT_FOUND if not, else DB. */
static enum sb_err
crm_token_find(struct sb_ctx *ctx, const char *token)
{
	sqlite3_stmt *st;
	int step;

	if ((st = sb_db_stmt(ctx->db, crm_sql[CRM_SQL_TOKEN_VALID])) == NULL)
		return SB_ERR_DB;
	sqlite3_bind_text(st, 1, token, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, crm_now_ms());
	step = sqlite3_step(st);
	sqlite3_reset(st);
	if (step == SQLITE_ROW)
		return SB_OK;
	return step == SQLITE_DONE ? SB_ERR_NOT_FOUND : SB_ERR_DB;
}

bool
crm_enter(struct sb_ctx *ctx, struct sb_request *req)
{
	const char *token = sb_header_bearer(req->authorization);
	struct crm_count count = { .found = false };
	enum sb_err rc = SB_ERR_NOT_FOUND;

	if (crm_count_request(ctx, &count) != SB_OK) {
		sandbox_internal(req, "counting a CRM request");
		return false;
	}
	if (!count.found) {
		crm_error(req, 404, "not_found",
		    "the CRM is not set up (POST /_sandbox/crm)");
		return false;
	}
	crm_rate_headers(req, &count);
	if (count.used > count.limit) {
		crm_error(req, 429, "rate_limited",
		    "too many requests: wait for the window to reset");
		return false;
	}
	if (token != NULL && (rc = crm_token_find(ctx, token)) == SB_OK)
		return true;
	if (rc != SB_ERR_NOT_FOUND) {
		sandbox_internal(req, "checking a CRM token");
		return false;
	}
	sb_response_header(
	    req, "WWW-Authenticate", "Bearer error=\"invalid_token\"");
	crm_error(req, 401, "invalid_token",
	    token == NULL ? "a bearer access token is required"
	                  : "the access token is unknown or has expired");
	return false;
}

/* The CRM's client as the token endpoint checks it. */
struct crm_client {
	char id[CRM_SECRET_MAX + 1];
	char secret[CRM_SECRET_MAX + 1];
	int64_t ttl_s;
};

/* Reads the client: SB_OK, SB_ERR_NOT_FOUND (no CRM) or SB_ERR_DB. */
static enum sb_err
crm_client_read(struct sb_ctx *ctx, struct crm_client *out)
{
	sqlite3_stmt *st;
	int step;

	if ((st = sb_db_stmt(ctx->db, crm_sql[CRM_SQL_CLIENT])) == NULL)
		return SB_ERR_DB;
	if ((step = sqlite3_step(st)) == SQLITE_ROW) {
		snprintf(out->id, sizeof(out->id), "%s",
		    (const char *)sqlite3_column_text(st, 0));
		snprintf(out->secret, sizeof(out->secret), "%s",
		    (const char *)sqlite3_column_text(st, 1));
		out->ttl_s = sqlite3_column_int64(st, 2);
	}
	sqlite3_reset(st);
	if (step == SQLITE_ROW)
		return SB_OK;
	return step == SQLITE_DONE ? SB_ERR_NOT_FOUND : SB_ERR_DB;
}

/* Stores a fresh token living ttl_s seconds into token, dropping those
 * long expired, in one transaction. */
static enum sb_err
crm_token_issue(struct sb_ctx *ctx, int64_t ttl_s, char *token, size_t size)
{
	int64_t now = crm_now_ms();
	sqlite3_stmt *st;
	enum sb_err rc;

	if ((rc = sb_secrets_token_new("crm", token, size)) != SB_OK ||
	    (rc = sb_db_begin(ctx->db)) != SB_OK)
		return rc;
	if ((st = sb_db_stmt(ctx->db, crm_sql[CRM_SQL_TOKEN_PURGE])) != NULL)
		sqlite3_bind_int64(st, 1, now - CRM_PURGE_AFTER_MS);
	if ((rc = sb_db_step_write(ctx->db, st, NULL)) != SB_OK)
		goto out;
	if ((st = sb_db_stmt(ctx->db, crm_sql[CRM_SQL_TOKEN_INSERT])) != NULL) {
		sqlite3_bind_text(st, 1, token, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, now + ttl_s * CRM_MS);
	}
	if ((rc = sb_db_step_write(ctx->db, st, NULL)) != SB_OK)
		goto out;
	return sb_db_commit(ctx->db);
out:
	sb_db_rollback(ctx->db);
	return rc;
}

/* 200 {"access_token", "token_type", "expires_in"}, not to be cached. */
static void
crm_token_answer(struct sb_request *req, const char *token, int64_t ttl_s)
{
	cJSON *root;

	sb_response_header(req, "Cache-Control", "no-store");
	sb_response_header(req, "Pragma", "no-cache");
	if ((root = cJSON_CreateObject()) == NULL ||
	    cJSON_AddStringToObject(root, "access_token", token) == NULL ||
	    cJSON_AddStringToObject(root, "token_type", "Bearer") == NULL ||
	    cJSON_AddNumberToObject(root, "expires_in", (double)ttl_s) == NULL)
		sandbox_internal(req, "building the CRM token");
	else
		sb_response_json(req, 200, root);
	cJSON_Delete(root);
}

/* True iff id and secret are the client's; both always compared. */
static bool
crm_client_matches(
    const struct crm_client *c, const char *id, const char *secret)
{
	bool id_ok = sb_secrets_equal_str(id, c->id);
	bool secret_ok = sb_secrets_equal_str(secret, c->secret);

	return id_ok && secret_ok;
}

void
sandbox_crm_token(struct sb_ctx *ctx, struct sb_request *req)
{
	struct crm_client client = { .ttl_s = 0 };
	char err[128], token[SB_SECRETS_TOKEN_MAX];
	const char *grant, *id, *secret;
	struct sb_kv *kv;
	enum sb_err rc;
	size_t n;

	if (sandbox_params_read(req, &kv, &n, err, sizeof(err)) != SB_OK) {
		sandbox_oauth_error(req, 400, "invalid_request", err);
		return;
	}
	if ((grant = sandbox_params_get(kv, n, "grant_type")) == NULL ||
	    strcmp(grant, "client_credentials") != 0) {
		sandbox_oauth_error(req, 400,
		    grant == NULL ? "invalid_request"
		                  : "unsupported_grant_type",
		    "grant_type must be client_credentials");
		return;
	}
	id = sandbox_params_get(kv, n, "client_id");
	secret = sandbox_params_get(kv, n, "client_secret");
	if (id == NULL || secret == NULL)
		sandbox_oauth_basic(req, &id, &secret);
	if ((rc = crm_client_read(ctx, &client)) != SB_OK &&
	    rc != SB_ERR_NOT_FOUND) {
		sandbox_internal(req, "reading the CRM client");
		return;
	}
	if (rc != SB_OK || !crm_client_matches(&client, id, secret)) {
		sb_response_header(
		    req, "WWW-Authenticate", "Basic realm=\"crm\"");
		sandbox_oauth_error(req, 401, "invalid_client",
		    "the client id or secret is wrong");
		return;
	}
	if (crm_token_issue(ctx, client.ttl_s, token, sizeof(token)) != SB_OK) {
		sandbox_internal(req, "issuing a CRM token");
		return;
	}
	crm_token_answer(req, token, client.ttl_s);
}

/* The CRM's settings as POST /_sandbox/crm takes and answers them. */
struct crm_setup {
	char client_id[CRM_SECRET_MAX + 1];
	char client_secret[CRM_SECRET_MAX + 1];
	char webhook_secret[CRM_SECRET_MAX + 1];
	const char *webhook_url;
	int64_t token_ttl_s;
	int64_t rate_limit;
	int64_t rate_window_s;
	bool keep_users; /* asked: keep users when the client id is the same */
	bool kept; /* done: the users, keys and webhooks were kept */
};

/* True iff s is 1 to CRM_SECRET_MAX visible ASCII characters. */
static bool
crm_secret_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > CRM_SECRET_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] <= ' ' || s[i] > '~')
			return false;
	return true;
}

/* True iff url is "" or an http(s) URL of visible characters. */
static bool
crm_url_valid(const char *url)
{
	size_t n = strlen(url);

	if (n == 0)
		return true;
	if (n > CRM_URL_MAX ||
	    (strncmp(url, "http://", 7) != 0 &&
	        strncmp(url, "https://", 8) != 0))
		return false;
	for (size_t i = 0; i < n; i++)
		if (url[i] <= ' ' || url[i] > '~')
			return false;
	return true;
}

/* One secret of the set-up: given (checked) or generated with prefix. */
static bool
crm_setup_secret(struct sb_request *req, const struct sb_kv *kv, size_t n,
    const char *name, const char *prefix, char out[CRM_SECRET_MAX + 1])
{
	const char *given = sandbox_params_get(kv, n, name);

	if (given == NULL)
		return sb_secrets_token_new(prefix, out, CRM_SECRET_MAX + 1) ==
		    SB_OK;
	if (!crm_secret_valid(given)) {
		sb_response_errorf(req, 400, "invalid_request",
		    "%s must be 1 to %d visible ASCII characters", name,
		    CRM_SECRET_MAX);
		return false;
	}
	snprintf(out, CRM_SECRET_MAX + 1, "%s", given);
	return true;
}

/* One number of the set-up, kept at its default when absent. */
static bool
crm_setup_int(struct sb_request *req, const struct sb_kv *kv, size_t n,
    const char *name, int64_t max, int64_t *out)
{
	const char *given = sandbox_params_get(kv, n, name);

	if (given == NULL || sb_request_parse_int(given, 1, max, out))
		return true;
	sb_response_errorf(req, 400, "invalid_request",
	    "%s must be an integer from 1 to %lld", name, (long long)max);
	return false;
}

/* Reads the optional body into setup; answers 400 if a field is bad. */
static bool
crm_setup_read(struct sb_request *req, struct crm_setup *setup)
{
	char err[128];
	const char *keep;
	struct sb_kv *kv;
	size_t n;

	if (sandbox_params_read(req, &kv, &n, err, sizeof(err)) != SB_OK) {
		sb_response_error(req, 400, "invalid_request", err);
		return false;
	}
	keep = sandbox_params_get(kv, n, "keep_users");
	if (keep != NULL && strcmp(keep, "true") != 0 &&
	    strcmp(keep, "false") != 0) {
		sb_response_error(req, 400, "invalid_request",
		    "keep_users must be true or false");
		return false;
	}
	setup->keep_users = keep != NULL && strcmp(keep, "true") == 0;
	setup->webhook_url = sandbox_params_get(kv, n, "webhook_url");
	if (setup->webhook_url == NULL)
		setup->webhook_url = "";
	if (!crm_url_valid(setup->webhook_url)) {
		sb_response_errorf(req, 400, "invalid_request",
		    "webhook_url must be empty or an http(s) URL of at most "
		    "%d visible characters",
		    CRM_URL_MAX);
		return false;
	}
	return crm_setup_secret(
	           req, kv, n, "client_id", "crmcli", setup->client_id) &&
	    crm_setup_secret(
	        req, kv, n, "client_secret", "crmsec", setup->client_secret) &&
	    crm_setup_secret(
	        req, kv, n, "webhook_secret", "whsec", setup->webhook_secret) &&
	    crm_setup_int(
	        req, kv, n, "token_ttl_s", CRM_TTL_MAX, &setup->token_ttl_s) &&
	    crm_setup_int(req, kv, n, "rate_limit", CRM_RATE_LIMIT_MAX,
	        &setup->rate_limit) &&
	    crm_setup_int(req, kv, n, "rate_window_s", CRM_RATE_WINDOW_MAX,
	        &setup->rate_window_s);
}

/* Binds the settings as ?1 to ?7 of the upsert and the keep update. */
static void
crm_setup_bind(sqlite3_stmt *st, const struct crm_setup *setup)
{
	sqlite3_bind_text(st, 1, setup->client_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, setup->client_secret, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, setup->webhook_secret, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, setup->webhook_url, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, setup->token_ttl_s);
	sqlite3_bind_int64(st, 6, setup->rate_limit);
	sqlite3_bind_int64(st, 7, setup->rate_window_s);
}

/*
 * keep_users, inside the transaction: when the CRM exists with the same
 * client id, only its settings change (the tokens too when the client
 * secret does) and setup->kept is set.
 */
static enum sb_err
crm_setup_keep(struct sb_ctx *ctx, struct crm_setup *setup)
{
	sqlite3_stmt *st;
	enum sb_err rc;
	int changes = 0;

	if ((st = sb_db_stmt(ctx->db, crm_sql[CRM_SQL_KEEP_TOKENS])) != NULL) {
		sqlite3_bind_text(st, 1, setup->client_id, -1, SQLITE_STATIC);
		sqlite3_bind_text(
		    st, 2, setup->client_secret, -1, SQLITE_STATIC);
	}
	if ((rc = sb_db_step_write(ctx->db, st, NULL)) != SB_OK)
		return rc;
	if ((st = sb_db_stmt(ctx->db, crm_sql[CRM_SQL_KEEP_CONFIG])) != NULL)
		crm_setup_bind(st, setup);
	if ((rc = sb_db_step_write(ctx->db, st, &changes)) != SB_OK)
		return rc;
	setup->kept = changes == 1;
	return SB_OK;
}

/*
 * Writes the settings in one transaction: kept (keep_users and the same
 * client id) or anew, the CRM's tables emptied.
 */
static enum sb_err
crm_setup_store(struct sb_ctx *ctx, struct crm_setup *setup)
{
	sqlite3_stmt *st;
	enum sb_err rc;

	if ((rc = sb_db_begin(ctx->db)) != SB_OK)
		return rc;
	if (setup->keep_users && (rc = crm_setup_keep(ctx, setup)) != SB_OK)
		goto out;
	if (setup->kept)
		return sb_db_commit(ctx->db);
	for (int i = CRM_SQL_CLEAR_USERS; i <= CRM_SQL_CLEAR_KEYS; i++)
		if ((rc = sb_db_step_write(ctx->db,
		         sb_db_stmt(ctx->db, crm_sql[i]), NULL)) != SB_OK)
			goto out;
	if ((st = sb_db_stmt(ctx->db, crm_sql[CRM_SQL_CONFIG_UPSERT])) !=
	    NULL) {
		crm_setup_bind(st, setup);
		sqlite3_bind_int64(st, 8, sandbox_now());
		sqlite3_bind_int64(st, 9, CRM_FIRST_NUMBER);
	}
	if ((rc = sb_db_step_write(ctx->db, st, NULL)) != SB_OK)
		goto out;
	return sb_db_commit(ctx->db);
out:
	sb_db_rollback(ctx->db);
	return rc;
}

/* 201 (200 when kept) with the settings, the secrets and the URLs. */
static void
crm_setup_answer(struct sb_request *req, const struct crm_setup *setup)
{
	const char *base_url = sandbox_url(req, "/crm");
	const char *token_url = sandbox_url(req, "/crm/token");
	cJSON *root = cJSON_CreateObject();

	if (base_url == NULL || token_url == NULL || root == NULL ||
	    cJSON_AddStringToObject(root, "base_url", base_url) == NULL ||
	    cJSON_AddStringToObject(root, "token_url", token_url) == NULL ||
	    cJSON_AddStringToObject(root, "client_id", setup->client_id) ==
	        NULL ||
	    cJSON_AddStringToObject(
	        root, "client_secret", setup->client_secret) == NULL ||
	    cJSON_AddStringToObject(
	        root, "webhook_secret", setup->webhook_secret) == NULL ||
	    cJSON_AddStringToObject(root, "webhook_url", setup->webhook_url) ==
	        NULL ||
	    cJSON_AddNumberToObject(
	        root, "token_ttl_s", (double)setup->token_ttl_s) == NULL ||
	    cJSON_AddNumberToObject(
	        root, "rate_limit", (double)setup->rate_limit) == NULL ||
	    cJSON_AddNumberToObject(
	        root, "rate_window_s", (double)setup->rate_window_s) == NULL ||
	    cJSON_AddBoolToObject(root, "users_kept", setup->kept) == NULL)
		sandbox_internal(req, "building the CRM's settings");
	else
		sb_response_json(req, setup->kept ? 200 : 201, root);
	cJSON_Delete(root);
}

void
sandbox_crm_setup(struct sb_ctx *ctx, struct sb_request *req)
{
	struct crm_setup setup = {
		.token_ttl_s = CRM_TTL_DEFAULT,
		.rate_limit = CRM_RATE_LIMIT_DEFAULT,
		.rate_window_s = CRM_RATE_WINDOW_DEFAULT,
	};

	if (!crm_setup_read(req, &setup))
		return;
	if (crm_setup_store(ctx, &setup) != SB_OK) {
		sandbox_internal(req, "making the CRM");
		return;
	}
	crm_setup_answer(req, &setup);
}
