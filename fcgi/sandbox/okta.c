/*
 * The sandbox's Okta orgs: POST /_sandbox/okta/{tenant} makes or resets
 * one, and every request to /okta/{tenant}/... passes okta_enter() first:
 * the tenant found, the request counted against the tenant's rate budget
 * (Okta's X-Rate-Limit-Limit, -Remaining and -Reset on every answer, 429
 * E0000047 past it) and its token checked, SSWS for the tenant's API token
 * or Bearer for an access token of the tenant's OAuth client.  Errors are
 * Okta's bodies with Okta's codes, so a client handles them as it would
 * Okta's.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "sb/client/jwt.h"
#include "sb/core/header.h"
#include "sb/core/response.h"
#include "okta.h"

#define OKTA_RATE_LIMIT_DEFAULT 600 /* requests per window, as Okta's */
#define OKTA_RATE_LIMIT_MAX 1000000
#define OKTA_RATE_WINDOW_DEFAULT 60 /* seconds */
#define OKTA_RATE_WINDOW_MAX 3600
#define OKTA_ERROR_ID_BYTES 16
#define OKTA_SSWS "SSWS"

enum okta_sql {
	OKTA_SQL_TENANT_DELETE,
	OKTA_SQL_TENANT_INSERT,
	OKTA_SQL_TENANT_COUNT,
	OKTA_SQL_BEARER_VALID,
	OKTA_SQL__MAX
};

static const char *const okta_sql[OKTA_SQL__MAX] = {
	[OKTA_SQL_TENANT_DELETE] = "DELETE FROM okta_tenants WHERE tenant = ?1",
	[OKTA_SQL_TENANT_INSERT] =
	    "INSERT INTO okta_tenants (tenant, api_token, client_id,"
	    " rate_limit, rate_window_s, window_start, window_used,"
	    " created_at, key_id, public_key)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, 0, ?6, ?7, ?8)",
	/* The window restarts once it is over; SET reads the old row. */
	[OKTA_SQL_TENANT_COUNT] =
	    "UPDATE okta_tenants SET"
	    " window_used = CASE WHEN ?2 >= window_start + rate_window_s"
	    " THEN 1 ELSE window_used + 1 END,"
	    " window_start = CASE WHEN ?2 >= window_start + rate_window_s"
	    " THEN ?2 ELSE window_start END"
	    " WHERE tenant = ?1 RETURNING api_token, client_id, rate_limit,"
	    " window_start + rate_window_s, window_used",
	[OKTA_SQL_BEARER_VALID] = "SELECT 1 FROM sandbox_tokens"
	                          " WHERE token = ?1 AND kind = 'access'"
	                          " AND valid = 1 AND expires_at >= ?2"
	                          " AND client_id = ?3",
};

/* What counting a request found: the tenant's secrets and its budget. */
struct okta_count {
	bool found;
	char api_token[SB_SECRETS_TOKEN_MAX];
	char client_id[SB_SECRETS_TOKEN_MAX];
	int64_t limit;
	int64_t reset; /* unix seconds the window ends */
	int64_t used;
};

void
okta_error(struct sb_request *req, int status, const char *code,
    const char *summary, const char *cause)
{
	unsigned char raw[OKTA_ERROR_ID_BYTES];
	char id[sodium_base64_ENCODED_LEN(
	    OKTA_ERROR_ID_BYTES, sodium_base64_VARIANT_URLSAFE_NO_PADDING)];
	cJSON *root = NULL, *causes, *one;

	randombytes_buf(raw, sizeof(raw));
	sodium_bin2base64(id, sizeof(id), raw, sizeof(raw),
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	if ((root = cJSON_CreateObject()) == NULL ||
	    cJSON_AddStringToObject(root, "errorCode", code) == NULL ||
	    cJSON_AddStringToObject(root, "errorSummary", summary) == NULL ||
	    cJSON_AddStringToObject(root, "errorLink", code) == NULL ||
	    cJSON_AddStringToObject(root, "errorId", id) == NULL ||
	    (causes = cJSON_AddArrayToObject(root, "errorCauses")) == NULL)
		goto fail;
	if (cause != NULL &&
	    ((one = cJSON_CreateObject()) == NULL ||
	        !cJSON_AddItemToArray(causes, one) ||
	        cJSON_AddStringToObject(one, "errorSummary", cause) == NULL))
		goto fail;
	sb_response_json(req, status, root);
	cJSON_Delete(root);
	return;
fail:
	cJSON_Delete(root);
	sandbox_internal(req, "building an Okta error");
}

void
okta_not_found(struct sb_request *req, const char *what)
{
	const char *summary = sb_arena_printf(
	    req->arena, "Not found: Resource not found: %.100s", what);

	okta_error(req, 404, "E0000007",
	    summary != NULL ? summary : "Not found", NULL);
}

/* True iff name is one DNS label of lowercase letters, digits and '-'. */
static bool
okta_tenant_valid(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > OKTA_TENANT_MAX || name[0] == '-' ||
	    name[n - 1] == '-')
		return false;
	for (size_t i = 0; i < n; i++)
		if (strchr("abcdefghijklmnopqrstuvwxyz0123456789-", name[i]) ==
		    NULL)
			return false;
	return true;
}

const char *
okta_base_url(struct sb_request *req, const char *tenant)
{
	const char *path = sb_arena_printf(req->arena, "/okta/%s", tenant);

	return path != NULL ? sandbox_url(req, path) : NULL;
}

/* Counts one request to tenant in its own transaction (see okta_count). */
static enum sb_err
okta_count_request(
    struct sb_ctx *ctx, const char *tenant, struct okta_count *out)
{
	sqlite3_stmt *st;
	enum sb_err rc;
	int step;

	out->found = false;
	if ((rc = sb_db_begin(ctx->db)) != SB_OK)
		return rc;
	if ((st = sb_db_stmt(ctx->db, okta_sql[OKTA_SQL_TENANT_COUNT])) ==
	    NULL) {
		rc = SB_ERR_DB;
		goto out;
	}
	sqlite3_bind_text(st, 1, tenant, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, sandbox_now());
	if ((step = sqlite3_step(st)) == SQLITE_ROW) {
		out->found = true;
		snprintf(out->api_token, sizeof(out->api_token), "%s",
		    (const char *)sqlite3_column_text(st, 0));
		snprintf(out->client_id, sizeof(out->client_id), "%s",
		    (const char *)sqlite3_column_text(st, 1));
		out->limit = sqlite3_column_int64(st, 2);
		out->reset = sqlite3_column_int64(st, 3);
		out->used = sqlite3_column_int64(st, 4);
		step = sqlite3_step(st);
	}
	rc = step == SQLITE_DONE ? SB_OK : sb_db_rc(step);
	sqlite3_reset(st);
out:
	if (rc == SB_OK)
		return sb_db_commit(ctx->db);
	sb_db_rollback(ctx->db);
	return rc;
}

/* Okta's budget headers: the window's limit, what is left, its end. */
static void
okta_rate_headers(struct sb_request *req, const struct okta_count *c)
{
	char text[32];
	int64_t remaining = c->limit - c->used;

	snprintf(text, sizeof(text), "%lld", (long long)c->limit);
	sb_response_header(req, "X-Rate-Limit-Limit", text);
	snprintf(text, sizeof(text), "%lld",
	    (long long)(remaining > 0 ? remaining : 0));
	sb_response_header(req, "X-Rate-Limit-Remaining", text);
	snprintf(text, sizeof(text), "%lld", (long long)c->reset);
	sb_response_header(req, "X-Rate-Limit-Reset", text);
}

/* True iff token is a live access token issued to client_id. */
static bool
okta_bearer_valid(struct sb_ctx *ctx, const char *token, const char *client_id)
{
	sqlite3_stmt *st;
	bool ok;

	if ((st = sb_db_stmt(ctx->db, okta_sql[OKTA_SQL_BEARER_VALID])) == NULL)
		return false;
	sqlite3_bind_text(st, 1, token, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, sandbox_now());
	sqlite3_bind_text(st, 3, client_id, -1, SQLITE_STATIC);
	ok = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_reset(st);
	return ok;
}

/* True iff authorization opens tenant: SSWS or Bearer, as Okta takes. */
static bool
okta_authorized(
    struct sb_ctx *ctx, const char *authorization, const struct okta_count *c)
{
	const char *bearer = sb_header_bearer(authorization);
	size_t n = strlen(OKTA_SSWS);

	if (bearer != NULL)
		return okta_bearer_valid(ctx, bearer, c->client_id);
	if (authorization == NULL ||
	    strncasecmp(authorization, OKTA_SSWS, n) != 0 ||
	    authorization[n] != ' ')
		return false;
	authorization += n;
	while (*authorization == ' ')
		authorization++;
	return sb_secrets_equal_str(authorization, c->api_token);
}

bool
okta_enter(struct sb_ctx *ctx, struct sb_request *req, struct okta_tenant *out)
{
	struct okta_count count = { .found = false };
	enum sb_err rc;

	memset(out, 0, sizeof(*out));
	out->name = sb_request_param(req, "tenant");
	if (out->name == NULL || !okta_tenant_valid(out->name)) {
		okta_not_found(req, req->path);
		return false;
	}
	if ((rc = okta_count_request(ctx, out->name, &count)) != SB_OK) {
		sandbox_internal(req, "counting an Okta request");
		return false;
	}
	if (!count.found) {
		okta_not_found(req, req->path);
		return false;
	}
	okta_rate_headers(req, &count);
	if (count.used > count.limit) {
		okta_error(req, 429, "E0000047",
		    "API call exceeded rate limit due to too many requests.",
		    NULL);
		return false;
	}
	if (!okta_authorized(ctx, req->authorization, &count)) {
		okta_error(
		    req, 401, "E0000011", "Invalid token provided", NULL);
		return false;
	}
	snprintf(out->client_id, sizeof(out->client_id), "%s", count.client_id);
	if ((out->base_url = okta_base_url(req, out->name)) == NULL) {
		sandbox_internal(req, "building the base URL");
		return false;
	}
	return true;
}

/* A tenant's settings as POST /_sandbox/okta/{tenant} takes them. */
struct okta_setup {
	const char *tenant;
	int64_t rate_limit;
	int64_t rate_window_s;
	char api_token[SB_SECRETS_TOKEN_MAX];
	char client_id[SB_SECRETS_TOKEN_MAX];
	char key_id[OKTA_KEY_ID_MAX + 1];
	const char *public_key; /* the caller's, or public_made */
	char *public_made; /* sb_jwt_pem_free() */
	char *private_made; /* the pair made here; sb_jwt_pem_free() */
};

/* True iff id is 1 to OKTA_KEY_ID_MAX letters, digits, '.', '_', '-'. */
static bool
okta_key_id_valid(const char *id)
{
	size_t n = strlen(id);

	return n > 0 && n <= OKTA_KEY_ID_MAX &&
	    strspn(id,
	        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	        "0123456789._-") == n;
}

/*
 * The key the tenant's client signs with: the caller's public_key (and
 * key_id) if sent, else a fresh pair made here.  False with the answer
 * sent on a bad field or a failure.
 */
static bool
okta_setup_key(struct sb_request *req, const struct sb_kv *kv, size_t n,
    struct okta_setup *setup)
{
	const char *key_id = sandbox_params_get(kv, n, "key_id");

	setup->public_key = sandbox_params_get(kv, n, "public_key");
	if (key_id != NULL && !okta_key_id_valid(key_id)) {
		sb_response_errorf(req, 400, "invalid_request",
		    "key_id is 1 to %d letters, digits, '.', '_' and '-'",
		    OKTA_KEY_ID_MAX);
		return false;
	}
	if (setup->public_key != NULL &&
	    !sb_jwt_public_key_check(setup->public_key)) {
		sb_response_errorf(req, 400, "invalid_request",
		    "public_key must be a PEM RSA public key of at least %d "
		    "bits",
		    SB_JWT_RSA_BITS_MIN);
		return false;
	}
	if (key_id != NULL)
		snprintf(setup->key_id, sizeof(setup->key_id), "%s", key_id);
	else if (sb_secrets_token_new(
	             "kid", setup->key_id, sizeof(setup->key_id)) != SB_OK) {
		sandbox_internal(req, "making a key id");
		return false;
	}
	if (setup->public_key != NULL)
		return true;
	if (sb_jwt_key_new(&setup->private_made, &setup->public_made) !=
	    SB_OK) {
		sandbox_internal(req, "making a key pair");
		return false;
	}
	setup->public_key = setup->public_made;
	return true;
}

/* Reads the optional body {"rate_limit", "rate_window_s"} into setup. */
static bool
okta_setup_read(struct sb_request *req, struct okta_setup *setup)
{
	const char *limit, *window;
	char err[128];
	struct sb_kv *kv;
	size_t n;

	if (sandbox_params_read(req, &kv, &n, err, sizeof(err)) != SB_OK) {
		sb_response_error(req, 400, "invalid_request", err);
		return false;
	}
	limit = sandbox_params_get(kv, n, "rate_limit");
	window = sandbox_params_get(kv, n, "rate_window_s");
	if (limit != NULL &&
	    !sb_request_parse_int(
	        limit, 1, OKTA_RATE_LIMIT_MAX, &setup->rate_limit)) {
		sb_response_errorf(req, 400, "invalid_request",
		    "rate_limit must be an integer from 1 to %d",
		    OKTA_RATE_LIMIT_MAX);
		return false;
	}
	if (window != NULL &&
	    !sb_request_parse_int(
	        window, 1, OKTA_RATE_WINDOW_MAX, &setup->rate_window_s)) {
		sb_response_errorf(req, 400, "invalid_request",
		    "rate_window_s must be an integer from 1 to %d",
		    OKTA_RATE_WINDOW_MAX);
		return false;
	}
	return okta_setup_key(req, kv, n, setup);
}

/* Drops the tenant and its users and makes them anew, in one transaction. */
static enum sb_err
okta_setup_store(struct sb_ctx *ctx, struct okta_setup *setup)
{
	sqlite3_stmt *st;
	enum sb_err rc;

	if ((rc = sb_secrets_token_new("ssws", setup->api_token,
	         sizeof(setup->api_token))) != SB_OK ||
	    (rc = sb_secrets_token_new(
	         "0oa", setup->client_id, sizeof(setup->client_id))) != SB_OK ||
	    (rc = sb_db_begin(ctx->db)) != SB_OK)
		return rc;
	st = sb_db_stmt(ctx->db, okta_sql[OKTA_SQL_TENANT_DELETE]);
	if (st != NULL)
		sqlite3_bind_text(st, 1, setup->tenant, -1, SQLITE_STATIC);
	if ((rc = sb_db_step_write(ctx->db, st, NULL)) != SB_OK)
		goto out;
	if ((st = sb_db_stmt(ctx->db, okta_sql[OKTA_SQL_TENANT_INSERT])) !=
	    NULL) {
		sqlite3_bind_text(st, 1, setup->tenant, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, setup->api_token, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, setup->client_id, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 4, setup->rate_limit);
		sqlite3_bind_int64(st, 5, setup->rate_window_s);
		sqlite3_bind_int64(st, 6, sandbox_now());
		sqlite3_bind_text(st, 7, setup->key_id, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 8, setup->public_key, -1, SQLITE_STATIC);
	}
	if ((rc = sb_db_step_write(ctx->db, st, NULL)) != SB_OK ||
	    (rc = okta_users_seed(ctx, setup->tenant)) != SB_OK)
		goto out;
	return sb_db_commit(ctx->db);
out:
	sb_db_rollback(ctx->db);
	return rc;
}

/*
 * 201 {"tenant", "base_url", "api_token", "client_id", "key_id",
 * "users"}, and "private_key" when the pair was made here.
 */
static void
okta_setup_answer(struct sb_request *req, const struct okta_setup *setup)
{
	const char *base_url = okta_base_url(req, setup->tenant);
	cJSON *root;

	if (base_url == NULL || (root = cJSON_CreateObject()) == NULL) {
		sandbox_internal(req, "building the tenant");
		return;
	}
	if (cJSON_AddStringToObject(root, "tenant", setup->tenant) == NULL ||
	    cJSON_AddStringToObject(root, "base_url", base_url) == NULL ||
	    cJSON_AddStringToObject(root, "api_token", setup->api_token) ==
	        NULL ||
	    cJSON_AddStringToObject(root, "client_id", setup->client_id) ==
	        NULL ||
	    cJSON_AddStringToObject(root, "key_id", setup->key_id) == NULL ||
	    (setup->private_made != NULL &&
	        cJSON_AddStringToObject(
	            root, "private_key", setup->private_made) == NULL) ||
	    cJSON_AddNumberToObject(root, "users", OKTA_USERS_SEEDED) == NULL)
		sandbox_internal(req, "building the tenant");
	else
		sb_response_json(req, 201, root);
	cJSON_Delete(root);
}

void
sandbox_okta_setup(struct sb_ctx *ctx, struct sb_request *req)
{
	struct okta_setup setup = {
		.tenant = sb_request_param(req, "tenant"),
		.rate_limit = OKTA_RATE_LIMIT_DEFAULT,
		.rate_window_s = OKTA_RATE_WINDOW_DEFAULT,
	};
	enum sb_err rc;

	if (setup.tenant == NULL || !okta_tenant_valid(setup.tenant)) {
		sb_response_errorf(req, 400, "invalid_request",
		    "a tenant is 1 to %d lowercase letters, digits and inner "
		    "'-'",
		    OKTA_TENANT_MAX);
		return;
	}
	if (!okta_setup_read(req, &setup))
		goto out;
	if ((rc = okta_setup_store(ctx, &setup)) != SB_OK) {
		sandbox_internal(req, "making the tenant");
		goto out;
	}
	okta_setup_answer(req, &setup);
out:
	sb_jwt_pem_free(setup.private_made);
	sb_jwt_pem_free(setup.public_made);
}
