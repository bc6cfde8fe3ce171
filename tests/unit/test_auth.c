/*
 * Unit tests for lib/client/auth.c (the scheme table) and the per-
 * connection choice of a provider's auth entry (sb_provider_auth_choose()
 * and sb_provider_check() over the shipped etc/providers.json): what each
 * scheme adds to a request, which obtain tokens and with what form, and
 * which okta entry credentials choose, mixed and unmatched ones refused
 * with the fields named.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <sodium.h>

#include "sb/client/auth.h"
#include "sb/client/jwt.h"
#include "sb/client/provider.h"
#include "support.h"

/* What a scheme added, as "header:Name:prefixvalue" or "query:k=v". */
struct added {
	char text[8][256];
	size_t count;
	bool refuse; /* answer false, as a full header pool would */
};

static bool
record(void *arg, enum sb_auth_place place, const char *name,
    const char *prefix, const char *value)
{
	struct added *a = arg;

	if (a->refuse || a->count == 8)
		return false;
	snprintf(a->text[a->count++], sizeof(a->text[0]), "%s:%s:%s%s",
	    place == SB_AUTH_PLACE_HEADER ? "header" : "query", name, prefix,
	    value);
	return true;
}

static cJSON *
parse(const char *text)
{
	cJSON *j = text != NULL ? cJSON_Parse(text) : NULL;

	assert_true(text == NULL || j != NULL);
	return j;
}

static void
test_table(void **state)
{
	enum sb_auth_scheme s;

	(void)state;
	for (int i = 0; i < SB_AUTH__MAX; i++) {
		const struct sb_auth_impl *impl = sb_auth_impl(i);

		assert_non_null(impl);
		assert_non_null(impl->name);
		assert_non_null(impl->needs);
		assert_non_null(impl->apply);
		assert_true(sb_auth_scheme_find(impl->name, &s));
		assert_int_equal(s, i);
		/* a scheme that obtains tokens needs a token URL */
		assert_true(impl->token_form == NULL || impl->needs_token_url);
	}
	assert_null(sb_auth_impl(SB_AUTH__MAX));
	assert_false(sb_auth_scheme_find("magic", &s));
	assert_false(sb_auth_scheme_find(NULL, &s));
	assert_true(sb_auth_obtains_token(SB_AUTH_OAUTH2));
	assert_true(sb_auth_obtains_token(SB_AUTH_CLIENT_CREDENTIALS));
	assert_true(sb_auth_obtains_token(SB_AUTH_PRIVATE_KEY_JWT));
	assert_false(sb_auth_obtains_token(SB_AUTH_BEARER));
	assert_false(sb_auth_obtains_token(SB_AUTH_API_KEY_HEADER));
	assert_false(sb_auth_obtains_token(SB_AUTH__MAX));
}

static void
test_apply(void **state)
{
	static const struct {
		enum sb_auth_scheme scheme;
		struct sb_auth_settings settings;
		const char *credentials;
		bool ok;
		const char *want; /* the one addition, or NULL for none */
	} cases[] = {
		{ SB_AUTH_NONE, { 0 }, "{\"api_key\": \"k\"}", true, NULL },
		{ SB_AUTH_BEARER, { 0 }, "{\"access_token\": \"t1\"}", true,
		    "header:Authorization:Bearer t1" },
		{ SB_AUTH_BEARER, { 0 }, "{}", true, NULL },
		{ SB_AUTH_OAUTH2, { 0 }, "{\"access_token\": \"t2\"}", true,
		    "header:Authorization:Bearer t2" },
		{ SB_AUTH_PRIVATE_KEY_JWT, { 0 }, "{\"access_token\": \"t3\"}",
		    true, "header:Authorization:Bearer t3" },
		/* no token yet: nothing added, the call path obtains one */
		{ SB_AUTH_PRIVATE_KEY_JWT, { 0 }, "{\"client_id\": \"c\"}",
		    true, NULL },
		{ SB_AUTH_API_KEY_HEADER,
		    { "Authorization", "SSWS ", NULL, NULL },
		    "{\"api_key\": \"k1\"}", true,
		    "header:Authorization:SSWS k1" },
		{ SB_AUTH_API_KEY_HEADER, { "X-Api-Key", NULL, NULL, NULL },
		    "{\"api_key\": \"k2\"}", true, "header:X-Api-Key:k2" },
		{ SB_AUTH_API_KEY_HEADER, { NULL, NULL, NULL, NULL },
		    "{\"api_key\": \"k3\"}", true, "header:Authorization:k3" },
		{ SB_AUTH_API_KEY_QUERY, { NULL, NULL, "key", NULL },
		    "{\"api_key\": \"k4\"}", true, "query:key:k4" },
		{ SB_AUTH_BASIC, { 0 },
		    "{\"username\": \"Aladdin\", \"password\": \"open "
		    "sesame\"}",
		    true,
		    "header:Authorization:Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==" },
		{ SB_AUTH_BASIC, { 0 }, "{\"username\": \"u\"}", false, NULL },
	};
	struct added a;
	cJSON *creds;
	bool ok;

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		memset(&a, 0, sizeof(a));
		creds = parse(cases[i].credentials);
		ok = sb_auth_impl(cases[i].scheme)
		         ->apply(&cases[i].settings, creds, record, &a);
		if (ok != cases[i].ok)
			fail_msg("case %zu: apply gave %d", i, ok);
		if (cases[i].want == NULL)
			assert_int_equal(a.count, 0);
		else {
			assert_int_equal(a.count, 1);
			assert_string_equal(a.text[0], cases[i].want);
		}
		/* a full request fails the scheme that adds something */
		a.refuse = true;
		a.count = 0;
		if (cases[i].want != NULL)
			assert_false(
			    sb_auth_impl(cases[i].scheme)
			        ->apply(&cases[i].settings, creds, record, &a));
		cJSON_Delete(creds);
	}
}

/* The value of key in the form, decoded, into out. */
static bool
form_value(const char *form, const char *key, char *out, size_t size)
{
	size_t n = strlen(key);
	const char *p = form, *end;
	char *decoded;
	int len = 0;

	for (; p != NULL;
	     p = strchr(p, '&') != NULL ? strchr(p, '&') + 1 : NULL)
		if (strncmp(p, key, n) == 0 && p[n] == '=') {
			end = strchr(p, '&');
			decoded = curl_easy_unescape(NULL, p + n + 1,
			    end != NULL ? (int)(end - p - n - 1) : 0, &len);
			snprintf(out, size, "%s", decoded);
			curl_free(decoded);
			return true;
		}
	return false;
}

static void
test_token_forms(void **state)
{
	struct sb_auth_settings settings = { .scope = "a b" };
	struct sb_auth_token_request r = { .settings = &settings,
		.token_url = "https://acme.okta.com/oauth2/v1/token",
		.now = 1767225600 };
	char form[SB_AUTH_FORM_MAX], v[SB_JWT_MAX], err[256];
	char *private_pem = NULL, *public_pem = NULL, *body;
	cJSON *creds, *header, *claims;

	(void)state;
	creds = parse("{\"refresh_token\": \"r&1\", \"client_id\": \"c\"}");
	r.credentials = creds;
	assert_true(sb_auth_impl(SB_AUTH_OAUTH2)
	                ->token_form(&r, form, sizeof(form), err, sizeof(err)));
	assert_string_equal(form,
	    "grant_type=refresh_token&refresh_token=r%261&client_id=c&"
	    "scope=a%20b");
	cJSON_Delete(creds);
	creds = parse("{\"client_id\": \"c\", \"client_secret\": \"s\"}");
	r.credentials = creds;
	assert_true(sb_auth_impl(SB_AUTH_CLIENT_CREDENTIALS)
	                ->token_form(&r, form, sizeof(form), err, sizeof(err)));
	assert_string_equal(form,
	    "grant_type=client_credentials&client_id=c&client_secret=s&"
	    "scope=a%20b");
	/* too small a form buffer is refused */
	assert_false(sb_auth_impl(SB_AUTH_CLIENT_CREDENTIALS)
	                 ->token_form(&r, form, 20, err, sizeof(err)));
	cJSON_Delete(creds);

	/* private_key_jwt: a signed assertion, no secret in the form */
	assert_int_equal(sb_jwt_key_new(&private_pem, &public_pem), SB_OK);
	creds = cJSON_CreateObject();
	cJSON_AddStringToObject(creds, "client_id", "0oa_c");
	cJSON_AddStringToObject(creds, "key_id", "k1");
	cJSON_AddStringToObject(creds, "private_key", private_pem);
	r.credentials = creds;
	assert_true(sb_auth_impl(SB_AUTH_PRIVATE_KEY_JWT)
	                ->token_form(&r, form, sizeof(form), err, sizeof(err)));
	assert_true(form_value(form, "grant_type", v, sizeof(v)));
	assert_string_equal(v, "client_credentials");
	assert_true(form_value(form, "scope", v, sizeof(v)));
	assert_string_equal(v, "a b");
	assert_true(form_value(form, "client_assertion_type", v, sizeof(v)));
	assert_string_equal(
	    v, "urn:ietf:params:oauth:client-assertion-type:jwt-bearer");
	assert_false(form_value(form, "client_secret", v, sizeof(v)));
	assert_null(strstr(form, "PRIVATE"));
	assert_true(form_value(form, "client_assertion", v, sizeof(v)));
	assert_true(sb_jwt_verify(v, public_pem));
	assert_int_equal(sb_jwt_parse(v, &header, &claims), SB_OK);
	body = cJSON_PrintUnformatted(claims);
	assert_non_null(
	    strstr(body, "\"aud\":\"https://acme.okta.com/oauth2/v1/token\""));
	assert_non_null(strstr(body, "\"iss\":\"0oa_c\",\"sub\":\"0oa_c\""));
	assert_non_null(strstr(body, "\"iat\":1767225600,\"exp\":1767225720"));
	assert_string_equal(
	    cJSON_GetObjectItemCaseSensitive(header, "kid")->valuestring, "k1");
	cJSON_free(body);
	cJSON_Delete(header);
	cJSON_Delete(claims);
	/* a bad key: refused with the reason, never the key */
	cJSON_ReplaceItemInObjectCaseSensitive(
	    creds, "private_key", cJSON_CreateString("junk"));
	assert_false(
	    sb_auth_impl(SB_AUTH_PRIVATE_KEY_JWT)
	        ->token_form(&r, form, sizeof(form), err, sizeof(err)));
	assert_non_null(strstr(err, "private key"));
	assert_null(strstr(err, "junk"));
	cJSON_Delete(creds);
	sb_jwt_pem_free(private_pem);
	sb_jwt_pem_free(public_pem);
}

#define OKTA_KEY "00abcdefghijklmnopqrstuvwxyz0123456789AB"
#define OKTA_TOKEN "eyJraWQiOiJrMSJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"

static void
test_choose(void **state)
{
	static const struct {
		const char *credentials;
		int want; /* the scheme chosen, -1 for none */
		const char *message; /* sb_provider_check's, if refused */
	} cases[] = {
		{ "{\"api_key\": \"" OKTA_KEY "\"}", SB_AUTH_API_KEY_HEADER,
		    NULL },
		{ "{\"access_token\": \"" OKTA_TOKEN "\"}", SB_AUTH_BEARER,
		    NULL },
		{ "{\"client_id\": \"0oa1\", \"private_key\": \"@KEY@\", "
		  "\"key_id\": \"k1\"}",
		    SB_AUTH_PRIVATE_KEY_JWT, NULL },
		/* a private_key_jwt connection with its cached token */
		{ "{\"client_id\": \"0oa1\", \"private_key\": \"@KEY@\", "
		  "\"key_id\": \"k1\", \"access_token\": \"" OKTA_TOKEN
		  "\", \"expires_at\": 1767225600}",
		    SB_AUTH_PRIVATE_KEY_JWT, NULL },
		/* mixed: both schemes' fields named */
		{ "{\"api_key\": \"" OKTA_KEY
		  "\", \"access_token\": \"" OKTA_TOKEN "\"}",
		    -1,
		    "mix auth schemes of provider 'okta': 'api_key' "
		    "(api_key_header), 'access_token' (bearer)" },
		{ "{\"api_key\": \"" OKTA_KEY "\", \"client_id\": \"0oa1\", "
		  "\"private_key\": \"@KEY@\", \"key_id\": \"k1\"}",
		    -1, "'api_key' (api_key_header), 'client_id'" },
		/* one scheme's fields, but not all of them */
		{ "{\"client_id\": \"0oa1\", \"key_id\": \"k1\"}", -1,
		    "'private_key' is required by provider 'okta'" },
		{ "{\"access_token\": \"" OKTA_TOKEN "\", \"refresh_token\": "
		  "\"r\"}",
		    -1, "'refresh_token' is not used by provider 'okta'" },
		/* no scheme's fields: the choices listed */
		{ "{\"username\": \"u\"}", -1,
		    "are one of: api_key (api_key_header); access_token "
		    "(bearer); client_id, private_key, key_id "
		    "(private_key_jwt)" },
		{ "{}", -1, "are one of" },
		/* the key must be an RSA private key */
		{ "{\"client_id\": \"0oa1\", \"private_key\": \"-----BEGIN "
		  "PRIVATE KEY-----\\nAAAA\\n-----END PRIVATE KEY-----\\n\", "
		  "\"key_id\": \"k1\"}",
		    SB_AUTH_PRIVATE_KEY_JWT,
		    "credentials field 'private_key': the private key is not" },
	};
	const struct sb_provider *okta, *github;
	const struct sb_provider_auth *a;
	struct sb_providers *providers = NULL;
	char err[SB_PROVIDER_ERROR_MAX], *private_pem, *public_pem;
	struct sb_config cfg = { 0 };
	cJSON *creds, *config = parse("{\"subdomain\": \"acme\"}");
	enum sb_err rc;

	(void)state;
	assert_int_equal(
	    sb_providers_load(TEST_PROVIDERS, &providers, err, sizeof(err)),
	    SB_OK);
	okta = sb_providers_find(providers, "okta");
	github = sb_providers_find(providers, "github");
	assert_int_equal(sb_jwt_key_new(&private_pem, &public_pem), SB_OK);
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		creds = parse(cases[i].credentials);
		if (cJSON_GetObjectItemCaseSensitive(creds, "private_key") !=
		        NULL &&
		    strcmp(
		        cJSON_GetObjectItemCaseSensitive(creds, "private_key")
		            ->valuestring,
		        "@KEY@") == 0)
			cJSON_ReplaceItemInObjectCaseSensitive(creds,
			    "private_key", cJSON_CreateString(private_pem));
		a = sb_provider_auth_choose(okta, creds);
		if (cases[i].want < 0
		        ? a != NULL
		        : a == NULL || (int)a->scheme != cases[i].want)
			fail_msg("case %zu: chose %s", i,
			    a != NULL ? sb_provider_scheme_name(a->scheme)
			              : "none");
		err[0] = '\0';
		rc = sb_provider_check(
		    okta, &cfg, creds, config, false, err, sizeof(err));
		if (cases[i].message == NULL)
			assert_int_equal(rc, SB_OK);
		else if (rc != SB_ERR_INVALID ||
		    strstr(err, cases[i].message) == NULL)
			fail_msg("case %zu: '%s' lacks '%s'", i, err,
			    cases[i].message);
		cJSON_Delete(creds);
	}
	/* a provider of one entry: every connection's, whatever it holds */
	creds = parse("{}");
	a = sb_provider_auth_choose(github, creds);
	assert_non_null(a);
	assert_int_equal(a->scheme, SB_AUTH_BEARER);
	assert_null(sb_provider_auth_choose(okta, NULL));
	assert_null(sb_provider_auth_choose(NULL, creds));
	assert_true(sb_provider_obtains_token(okta));
	assert_false(sb_provider_obtains_token(github));
	cJSON_Delete(creds);
	cJSON_Delete(config);
	sb_jwt_pem_free(private_pem);
	sb_jwt_pem_free(public_pem);
	sb_providers_free(providers);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_apply),
		cmocka_unit_test(test_token_forms),
		cmocka_unit_test(test_choose),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
