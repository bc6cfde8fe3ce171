/*
 * The sandbox's Okta org authorization server: POST
 * /okta/{tenant}/oauth2/v1/token takes the client credentials grant with
 * a private_key_jwt client assertion (RFC 7523), as Okta's org
 * authorization server does for service apps, and verifies everything
 * Okta verifies: the RS256 signature with the key registered for the
 * tenant's client (db/sandbox/0004_okta_keys.sql), the kid, aud = this
 * endpoint's URL, exp not passed and at most five minutes after iat,
 * iss = sub = the client id, and a jti never seen before.  The access
 * token it issues is a sandbox token of the tenant's client, so the
 * tenant's users API takes it as a Bearer until it expires.  Refusals are
 * Okta's OAuth error body {"error", "error_description"}: 400 for a bad
 * request, grant or scope, 401 invalid_client for a bad assertion.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "sb/client/jwt.h"
#include "sb/core/response.h"
#include "okta.h"

#define OKTA_TOKEN_TTL_S 3600 /* an access token lives an hour, as Okta's */
#define OKTA_CLOCK_SKEW_S 60 /* an iat this far ahead is still taken */
#define OKTA_ASSERTION_LIFETIME_MAX_S 300 /* exp - iat, at most */
#define OKTA_JTI_MAX 256
#define OKTA_JWT_BEARER "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

enum token_sql {
	TOKEN_SQL_CLIENT,
	TOKEN_SQL_JTI_PURGE,
	TOKEN_SQL_JTI_INSERT,
	TOKEN_SQL__MAX
};

static const char *const token_sql[TOKEN_SQL__MAX] = {
	[TOKEN_SQL_CLIENT] = "SELECT client_id, key_id, public_key"
	                     " FROM okta_tenants WHERE tenant = ?1",
	[TOKEN_SQL_JTI_PURGE] =
	    "DELETE FROM okta_assertions WHERE expires_at < ?1",
	[TOKEN_SQL_JTI_INSERT] =
	    "INSERT INTO okta_assertions (tenant, jti, expires_at)"
	    " VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
};

/* The scopes the org's users API grants. */
static const char *const token_scopes[] = { "okta.users.read",
	"okta.users.manage", NULL };

/* A tenant's OAuth client, as the token endpoint checks it. */
struct token_client {
	const char *tenant;
	char client_id[SB_SECRETS_TOKEN_MAX];
	char key_id[OKTA_KEY_ID_MAX + 1];
	const char *public_key; /* arena */
	const char *token_url; /* arena: the aud an assertion must name */
};

/* Finds the tenant's client; false with the answer sent if none. */
static bool
token_client_load(
    struct sb_ctx *ctx, struct sb_request *req, struct token_client *c)
{
	sqlite3_stmt *st;
	const char *key;
	int step;

	if ((st = sb_db_stmt(ctx->db, token_sql[TOKEN_SQL_CLIENT])) == NULL) {
		sandbox_internal(req, "finding the tenant");
		return false;
	}
	sqlite3_bind_text(st, 1, c->tenant, -1, SQLITE_STATIC);
	if ((step = sqlite3_step(st)) == SQLITE_ROW) {
		snprintf(c->client_id, sizeof(c->client_id), "%s",
		    (const char *)sqlite3_column_text(st, 0));
		snprintf(c->key_id, sizeof(c->key_id), "%s",
		    sqlite3_column_type(st, 1) == SQLITE_NULL
		        ? ""
		        : (const char *)sqlite3_column_text(st, 1));
		key = (const char *)sqlite3_column_text(st, 2);
		c->public_key =
		    key != NULL ? sb_arena_printf(req->arena, "%s", key) : NULL;
	}
	sqlite3_reset(st);
	if (step != SQLITE_ROW) {
		okta_not_found(req, req->path);
		return false;
	}
	c->token_url = sb_arena_printf(
	    req->arena, "%s/oauth2/v1/token", okta_base_url(req, c->tenant));
	if (c->token_url == NULL) {
		sandbox_internal(req, "building the token URL");
		return false;
	}
	return true;
}

/* True iff every scope of the space-separated list is one granted. */
static bool
token_scope_valid(const char *scope)
{
	const char *p = scope, *end;
	bool known, any = false;

	while (*p != '\0') {
		if (*p == ' ') {
			p++;
			continue;
		}
		end = strchr(p, ' ');
		if (end == NULL)
			end = p + strlen(p);
		known = false;
		for (const char *const *s = token_scopes; *s != NULL; s++)
			known = known ||
			    (strlen(*s) == (size_t)(end - p) &&
			        strncmp(*s, p, (size_t)(end - p)) == 0);
		if (!known)
			return false;
		any = true;
		p = end;
	}
	return any;
}

/* The string claim name of obj, or NULL. */
static const char *
claim_str(const cJSON *obj, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* The whole-number claim name of obj into *out; false if not one. */
static bool
claim_time(const cJSON *obj, const char *name, int64_t *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);

	if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) ||
	    v->valuedouble < 0 || v->valuedouble > 1e12)
		return false;
	*out = (int64_t)v->valuedouble;
	return true;
}

/*
 * Why the claims are refused (Okta's words), or NULL.  *exp gets the
 * expiry, for the jti's record.
 */
static const char *
token_claims_problem(
    const struct token_client *c, const cJSON *claims, int64_t *exp)
{
	const char *iss = claim_str(claims, "iss");
	const char *sub = claim_str(claims, "sub");
	const char *aud = claim_str(claims, "aud");
	const char *jti = claim_str(claims, "jti");
	int64_t iat = 0, now = sandbox_now();

	if (iss == NULL || sub == NULL || strcmp(iss, c->client_id) != 0 ||
	    strcmp(sub, c->client_id) != 0)
		return "The client_assertion token's iss and sub must be the "
		       "client_id.";
	if (aud == NULL || strcmp(aud, c->token_url) != 0)
		return "The audience claim for client_assertion must be the "
		       "endpoint invoking the client_assertion.";
	if (!claim_time(claims, "exp", exp) || !claim_time(claims, "iat", &iat))
		return "The client_assertion token must have iat and exp "
		       "claims.";
	if (*exp <= now)
		return "The client_assertion token is expired.";
	if (iat > now + OKTA_CLOCK_SKEW_S || *exp <= iat)
		return "The client_assertion token has an invalid iat claim.";
	if (*exp - iat > OKTA_ASSERTION_LIFETIME_MAX_S)
		return "The client_assertion token has an expiration too far "
		       "in the future.";
	if (jti == NULL || jti[0] == '\0' || strlen(jti) > OKTA_JTI_MAX)
		return "The client_assertion token must have a jti claim.";
	return NULL;
}

/*
 * Why the assertion is refused, or NULL with *claims (the caller frees
 * it) and *exp set: its form, kid, signature, then its claims.
 */
static const char *
token_assertion_problem(const struct token_client *c, const char *assertion,
    cJSON **claims, int64_t *exp)
{
	cJSON *header = NULL;
	const char *kid, *why = NULL;

	*claims = NULL;
	if (sb_jwt_parse(assertion, &header, claims) != SB_OK)
		return "The client_assertion token is malformed.";
	kid = claim_str(header, "kid");
	if (c->public_key == NULL || kid == NULL || strcmp(kid, c->key_id) != 0)
		why = "The client_assertion token has a kid which does not "
		      "identify a registered key.";
	else if (!sb_jwt_verify(assertion, c->public_key))
		why = "The client_assertion signature is invalid.";
	else
		why = token_claims_problem(c, *claims, exp);
	cJSON_Delete(header);
	if (why != NULL) {
		cJSON_Delete(*claims);
		*claims = NULL;
	}
	return why;
}

/*
 * Records the jti (SB_ERR_CONFLICT if seen before) and issues an access
 * token into token, in one transaction.
 */
static enum sb_err
token_issue(struct sb_ctx *ctx, const struct token_client *c, const char *jti,
    int64_t exp, char *token, size_t size)
{
	sqlite3_stmt *st;
	enum sb_err rc;
	int changes = 0;

	if ((rc = sb_db_begin(ctx->db)) != SB_OK)
		return rc;
	if ((st = sb_db_stmt(ctx->db, token_sql[TOKEN_SQL_JTI_PURGE])) != NULL)
		sqlite3_bind_int64(st, 1, sandbox_now());
	if ((rc = sb_db_step_write(ctx->db, st, NULL)) != SB_OK)
		goto out;
	if ((st = sb_db_stmt(ctx->db, token_sql[TOKEN_SQL_JTI_INSERT])) !=
	    NULL) {
		sqlite3_bind_text(st, 1, c->tenant, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, jti, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, exp);
	}
	if ((rc = sandbox_step_write(ctx->db, st, &changes)) != SB_OK)
		goto out;
	if (changes != 1) {
		rc = SB_ERR_CONFLICT;
		goto out;
	}
	if ((rc = sandbox_oauth_issue_access(ctx, c->client_id,
	         "client_credentials", OKTA_TOKEN_TTL_S, token, size)) != SB_OK)
		goto out;
	return sb_db_commit(ctx->db);
out:
	sb_db_rollback(ctx->db);
	return rc;
}

/* 200 {"token_type", "expires_in", "access_token", "scope"}. */
static void
token_answer(struct sb_request *req, const char *token, const char *scope)
{
	cJSON *root;

	sb_response_header(req, "Cache-Control", "no-store");
	sb_response_header(req, "Pragma", "no-cache");
	if ((root = cJSON_CreateObject()) == NULL ||
	    cJSON_AddStringToObject(root, "token_type", "Bearer") == NULL ||
	    cJSON_AddNumberToObject(root, "expires_in", OKTA_TOKEN_TTL_S) ==
	        NULL ||
	    cJSON_AddStringToObject(root, "access_token", token) == NULL ||
	    cJSON_AddStringToObject(root, "scope", scope) == NULL)
		sandbox_internal(req, "building the token answer");
	else
		sb_response_json(req, 200, root);
	cJSON_Delete(root);
}

/*
 * The request's form: grant type, assertion type and scope checked; the
 * assertion into *assertion.  False with the answer sent otherwise.
 */
static bool
token_request_read(
    struct sb_request *req, const char **assertion, const char **scope)
{
	const char *grant, *type;
	char err[128];
	struct sb_kv *kv;
	size_t n;

	if (sandbox_params_read(req, &kv, &n, err, sizeof(err)) != SB_OK) {
		sandbox_oauth_error(req, 400, "invalid_request", err);
		return false;
	}
	grant = sandbox_params_get(kv, n, "grant_type");
	type = sandbox_params_get(kv, n, "client_assertion_type");
	*assertion = sandbox_params_get(kv, n, "client_assertion");
	*scope = sandbox_params_get(kv, n, "scope");
	if (grant == NULL || strcmp(grant, "client_credentials") != 0) {
		sandbox_oauth_error(req, 400, "unsupported_grant_type",
		    "The authorization grant type is not supported by the "
		    "authorization server.");
		return false;
	}
	if (*assertion == NULL || type == NULL) {
		sandbox_oauth_error(req, 401, "invalid_client",
		    "Client authentication failed. Either the client or the "
		    "client credentials are invalid.");
		return false;
	}
	if (strcmp(type, OKTA_JWT_BEARER) != 0) {
		sandbox_oauth_error(req, 400, "invalid_request",
		    "The client_assertion_type is invalid.");
		return false;
	}
	if (*scope == NULL || !token_scope_valid(*scope)) {
		sandbox_oauth_error(req, 400, "invalid_scope",
		    "The requested scope is invalid, unknown, or malformed.");
		return false;
	}
	return true;
}

void
sandbox_okta_token(struct sb_ctx *ctx, struct sb_request *req)
{
	struct token_client c = { .tenant = sb_request_param(req, "tenant") };
	const char *assertion, *scope, *why;
	char token[SB_SECRETS_TOKEN_MAX];
	cJSON *claims = NULL;
	int64_t exp = 0;
	enum sb_err rc;

	if (c.tenant == NULL || !token_client_load(ctx, req, &c) ||
	    !token_request_read(req, &assertion, &scope))
		return;
	why = token_assertion_problem(&c, assertion, &claims, &exp);
	if (why != NULL) {
		sandbox_oauth_error(req, 401, "invalid_client", why);
		return;
	}
	rc = token_issue(
	    ctx, &c, claim_str(claims, "jti"), exp, token, sizeof(token));
	cJSON_Delete(claims);
	if (rc == SB_ERR_CONFLICT)
		sandbox_oauth_error(req, 401, "invalid_client",
		    "The client_assertion token has already been used (its "
		    "jti was seen before).");
	else if (rc != SB_OK)
		sandbox_internal(req, "issuing a token");
	else
		token_answer(req, token, scope);
}
