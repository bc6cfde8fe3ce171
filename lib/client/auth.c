/*
 * The auth schemes (see include/sb/client/auth.h): one entry per scheme in
 * a table indexed by enum sb_auth_scheme.  The functions below are the
 * entries' parts; a scheme that shares another's way of adding a token
 * points at the same function.
 */
#include <stdio.h>
#include <string.h>

#include <curl/curl.h>
#include <sodium.h>

#include "sb/client/auth.h"
#include "sb/client/jwt.h"

#define AUTH_BASIC_MAX 1024 /* bytes of "username:password" */
#define JWT_BEARER_TYPE "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

static const char *
credential(const cJSON *credentials, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(credentials, name);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static bool
apply_none(const struct sb_auth_settings *s, const cJSON *credentials,
    sb_auth_add_fn add, void *arg)
{
	(void)s;
	(void)credentials;
	(void)add;
	(void)arg;
	return true;
}

/* Authorization: Bearer <access_token>, if there is one yet. */
static bool
apply_bearer(const struct sb_auth_settings *s, const cJSON *credentials,
    sb_auth_add_fn add, void *arg)
{
	const char *token = credential(credentials, "access_token");

	(void)s;
	return token == NULL ||
	    add(arg, SB_AUTH_PLACE_HEADER, "Authorization", "Bearer ", token);
}

static bool
apply_basic(const struct sb_auth_settings *s, const cJSON *credentials,
    sb_auth_add_fn add, void *arg)
{
	const char *user = credential(credentials, "username");
	const char *pass = credential(credentials, "password");
	char pair[AUTH_BASIC_MAX],
	    b64[sodium_base64_ENCODED_LEN(
	        AUTH_BASIC_MAX, sodium_base64_VARIANT_ORIGINAL)];
	int n;
	bool ok;

	(void)s;
	if (user == NULL || pass == NULL)
		return false;
	n = snprintf(pair, sizeof(pair), "%s:%s", user, pass);
	if (n < 0 || (size_t)n >= sizeof(pair))
		return false;
	sodium_bin2base64(b64, sizeof(b64), (unsigned char *)pair, (size_t)n,
	    sodium_base64_VARIANT_ORIGINAL);
	sodium_memzero(pair, sizeof(pair));
	ok = add(arg, SB_AUTH_PLACE_HEADER, "Authorization", "Basic ", b64);
	sodium_memzero(b64, sizeof(b64));
	return ok;
}

static bool
apply_api_key_header(const struct sb_auth_settings *s, const cJSON *credentials,
    sb_auth_add_fn add, void *arg)
{
	const char *key = credential(credentials, "api_key");

	return key == NULL ||
	    add(arg, SB_AUTH_PLACE_HEADER,
	        s->header != NULL ? s->header : "Authorization",
	        s->prefix != NULL ? s->prefix : "", key);
}

static bool
apply_api_key_query(const struct sb_auth_settings *s, const cJSON *credentials,
    sb_auth_add_fn add, void *arg)
{
	const char *key = credential(credentials, "api_key");

	return key == NULL || add(arg, SB_AUTH_PLACE_QUERY, s->query, "", key);
}

/* Appends "&key=escaped(value)" to form; true for a NULL value. */
static bool
form_add(char *form, size_t size, const char *key, const char *value)
{
	size_t len = strlen(form);
	char *esc;
	int n;

	if (value == NULL)
		return true;
	if ((esc = curl_easy_escape(NULL, value, 0)) == NULL)
		return false;
	n = snprintf(
	    form + len, size - len, "%s%s=%s", len > 0 ? "&" : "", key, esc);
	sodium_memzero(esc, strlen(esc));
	curl_free(esc);
	return n > 0 && (size_t)n < size - len;
}

static bool
form_too_large(char *err, size_t errsize)
{
	snprintf(err, errsize, "the token request is too large");
	return false;
}

/*
 * grant_type=grant, then each of fields from the credentials (those
 * present), then the scope: the token request of a scheme with a secret.
 */
static bool
form_grant(const struct sb_auth_token_request *r, const char *grant,
    const char *const *fields, char *form, size_t size, char *err,
    size_t errsize)
{
	form[0] = '\0';
	if (!form_add(form, size, "grant_type", grant))
		return form_too_large(err, errsize);
	for (; *fields != NULL; fields++)
		if (!form_add(form, size, *fields,
		        credential(r->credentials, *fields)))
			return form_too_large(err, errsize);
	return form_add(form, size, "scope", r->settings->scope) ||
	    form_too_large(err, errsize);
}

/* The refresh grant (RFC 6749 section 6). */
static bool
form_refresh(const struct sb_auth_token_request *r, char *form, size_t size,
    char *err, size_t errsize)
{
	static const char *const fields[] = { "refresh_token", "client_id",
		"client_secret", NULL };

	return form_grant(r, "refresh_token", fields, form, size, err, errsize);
}

/* The client credentials grant with a secret (RFC 6749 section 4.4). */
static bool
form_client_secret(const struct sb_auth_token_request *r, char *form,
    size_t size, char *err, size_t errsize)
{
	static const char *const fields[] = { "client_id", "client_secret",
		NULL };

	return form_grant(
	    r, "client_credentials", fields, form, size, err, errsize);
}

/*
 * The client credentials grant with a signed assertion (RFC 7523 section
 * 2.2, Okta's private_key_jwt): iss = sub = client_id, aud = the token
 * URL, kid = key_id, alive SB_AUTH_ASSERTION_LIFETIME_S.
 */
static bool
form_private_key_jwt(const struct sb_auth_token_request *r, char *form,
    size_t size, char *err, size_t errsize)
{
	struct sb_jwt_claims claims = {
		.client_id = credential(r->credentials, "client_id"),
		.audience = r->token_url,
		.key_id = credential(r->credentials, "key_id"),
		.issued_at = r->now,
		.lifetime_s = SB_AUTH_ASSERTION_LIFETIME_S,
	};
	char assertion[SB_JWT_MAX];
	bool ok;

	form[0] = '\0';
	if (sb_jwt_sign(credential(r->credentials, "private_key"), &claims,
	        assertion, sizeof(assertion), err, errsize) != SB_OK)
		return false;
	ok = (form_add(form, size, "grant_type", "client_credentials") &&
	         form_add(form, size, "scope", r->settings->scope) &&
	         form_add(
	             form, size, "client_assertion_type", JWT_BEARER_TYPE) &&
	         form_add(form, size, "client_assertion", assertion)) ||
	    form_too_large(err, errsize);
	sodium_memzero(assertion, sizeof(assertion));
	return ok;
}

static bool
check_private_key(const cJSON *credentials, char *err, size_t errsize)
{
	char why[128];

	/* Absent only in a partial check; the required check says so. */
	if (credential(credentials, "private_key") == NULL ||
	    sb_jwt_key_check(
	        credential(credentials, "private_key"), why, sizeof(why)))
		return true;
	snprintf(err, errsize, "credentials field 'private_key': %s", why);
	return false;
}

static const char *const needs_nothing[] = { NULL };
static const char *const needs_access[] = { "access_token", NULL };
static const char *const needs_refresh[] = { "access_token", "refresh_token",
	NULL };
static const char *const needs_secret[] = { "client_id", "client_secret",
	NULL };
static const char *const needs_basic[] = { "username", "password", NULL };
static const char *const needs_api_key[] = { "api_key", NULL };
static const char *const needs_key[] = { "client_id", "private_key", "key_id",
	NULL };

static const struct sb_auth_impl schemes[SB_AUTH__MAX] = {
	[SB_AUTH_NONE] = { "none", needs_nothing, false, false, apply_none,
	    NULL, NULL },
	[SB_AUTH_BEARER] = { "bearer", needs_access, false, false, apply_bearer,
	    NULL, NULL },
	[SB_AUTH_OAUTH2] = { "oauth2", needs_refresh, true, false, apply_bearer,
	    form_refresh, NULL },
	[SB_AUTH_CLIENT_CREDENTIALS] = { "client_credentials", needs_secret,
	    true, false, apply_bearer, form_client_secret, NULL },
	[SB_AUTH_BASIC] = { "basic", needs_basic, false, false, apply_basic,
	    NULL, NULL },
	[SB_AUTH_API_KEY_HEADER] = { "api_key_header", needs_api_key, false,
	    false, apply_api_key_header, NULL, NULL },
	[SB_AUTH_API_KEY_QUERY] = { "api_key_query", needs_api_key, false, true,
	    apply_api_key_query, NULL, NULL },
	[SB_AUTH_PRIVATE_KEY_JWT] = { "private_key_jwt", needs_key, true, false,
	    apply_bearer, form_private_key_jwt, check_private_key },
};

const struct sb_auth_impl *
sb_auth_impl(enum sb_auth_scheme scheme)
{
	return (unsigned)scheme < SB_AUTH__MAX ? &schemes[scheme] : NULL;
}

bool
sb_auth_scheme_find(const char *name, enum sb_auth_scheme *out)
{
	for (int i = 0; name != NULL && i < SB_AUTH__MAX; i++)
		if (strcmp(schemes[i].name, name) == 0) {
			*out = (enum sb_auth_scheme)i;
			return true;
		}
	return false;
}

bool
sb_auth_obtains_token(enum sb_auth_scheme scheme)
{
	return (unsigned)scheme < SB_AUTH__MAX &&
	    schemes[scheme].token_form != NULL;
}
