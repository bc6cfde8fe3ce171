/*
 * Unit tests for lib/client/provider.c: loading etc/providers.json and refusing
 * bad provider files (each written to a mkdtemp directory), checking
 * connection input against a provider, rendering base URLs, and the host
 * check every outbound URL passes (table-driven).  Run from the repository
 * root.
 */
#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "sb/client/provider.h"
#include "support.h"

#define POISON ((struct sb_providers *)(void *)&poison_target)

#define OKTA_KEY "00abcdefghijklmnopqrstuvwxyz_-"
#define GITHUB_TOKEN "ghp_abcdefghijklmnopqrstuvwxyz0123456789"

static char poison_target;

struct fixture {
	char dir[TEST_PATH_MAX];
	struct sb_providers *providers;
	struct sb_config cfg;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char err[SB_PROVIDER_ERROR_MAX];

	if (f == NULL)
		return -1;
	if (test_tmpdir_make(f->dir, sizeof(f->dir), "provider") != 0) {
		free(f);
		return -1;
	}
	if (sb_providers_load(
	        TEST_PROVIDERS, &f->providers, err, sizeof(err)) != SB_OK) {
		fprintf(stderr, "%s\n", err);
		test_tmpdir_remove(f->dir);
		free(f);
		return -1;
	}
	f->cfg.sandbox_port = 8081;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	sb_providers_free(f->providers);
	test_tmpdir_remove(f->dir);
	free(f);
	return 0;
}

static const struct sb_provider *
provider(const struct fixture *f, const char *name)
{
	const struct sb_provider *p = sb_providers_find(f->providers, name);

	assert_non_null(p);
	return p;
}

/* Writes text to dir/name and the file's path into path. */
static void
write_file(const char *dir, const char *name, const char *text, char *path,
    size_t size)
{
	FILE *fp;

	assert_true(snprintf(path, size, "%s/%s", dir, name) < (int)size);
	assert_non_null(fp = fopen(path, "wb"));
	assert_int_equal(fwrite(text, 1, strlen(text), fp), strlen(text));
	assert_int_equal(fclose(fp), 0);
}

/* Parses JSON text of a test case; NULL text gives NULL. */
static cJSON *
parse(const char *text)
{
	cJSON *j;

	if (text == NULL)
		return NULL;
	j = cJSON_Parse(text);
	if (j == NULL)
		fail_msg("test JSON does not parse: %s", text);
	return j;
}

static bool
printable(const char *s)
{
	for (; *s != '\0'; s++)
		if (!isprint((unsigned char)*s))
			return false;
	return true;
}

static void
test_load_shipped(void **state)
{
	static const struct {
		const char *name;
		enum sb_auth_scheme scheme;
		enum sb_pagination pagination;
	} want[] = {
		{ "github", SB_AUTH_BEARER, SB_PAGINATION_LINK },
		{ "hubspot", SB_AUTH_OAUTH2, SB_PAGINATION_CURSOR },
		{ "okta", SB_AUTH_API_KEY_HEADER, SB_PAGINATION_LINK },
		{ "jsonplaceholder", SB_AUTH_NONE, SB_PAGINATION_PAGE },
		{ "sandbox", SB_AUTH_OAUTH2, SB_PAGINATION_NONE },
		{ "sandbox-crm", SB_AUTH_CLIENT_CREDENTIALS,
		    SB_PAGINATION_NONE },
	};
	struct fixture *f = *state;
	const struct sb_provider *p;

	assert_int_equal(sb_providers_count(f->providers), ARRAY_LEN(want));
	for (size_t i = 0; i < ARRAY_LEN(want); i++) {
		p = sb_providers_at(f->providers, i);
		assert_non_null(p);
		assert_string_equal(p->name, want[i].name);
		assert_ptr_equal(
		    sb_providers_find(f->providers, want[i].name), p);
		assert_int_equal(p->auth[0].scheme, want[i].scheme);
		assert_int_equal(p->pagination, want[i].pagination);
		for (size_t a = 0; a < p->auth_count; a++)
			if (sb_auth_obtains_token(p->auth[a].scheme))
				assert_non_null(p->auth[a].token_url);
	}
	assert_null(sb_providers_at(f->providers, ARRAY_LEN(want)));
	assert_null(sb_providers_find(f->providers, "nope"));
	assert_null(sb_providers_find(f->providers, NULL));

	p = provider(f, "okta");
	assert_int_equal(p->auth_count, 3);
	assert_string_equal(p->auth[0].settings.prefix, "SSWS ");
	assert_string_equal(p->auth[0].settings.header, "Authorization");
	assert_int_equal(p->auth[1].scheme, SB_AUTH_BEARER);
	assert_int_equal(p->auth[2].scheme, SB_AUTH_PRIVATE_KEY_JWT);
	assert_string_equal(
	    p->auth[2].settings.scope, "okta.users.read okta.users.manage");
	assert_int_equal(p->host_count, 3);
	assert_string_equal(p->hosts[0], "*.okta.com:443");
	assert_int_equal(p->auth[0].credential_count, 1);
	assert_true(p->auth[0].credentials[0].required);
	assert_non_null(p->auth[0].credentials[0].pattern);
	p = provider(f, "hubspot");
	assert_string_equal(
	    p->rate_limit_remaining, "X-HubSpot-RateLimit-Remaining");
	assert_string_equal(sb_provider_scheme_name(SB_AUTH_OAUTH2), "oauth2");
	assert_string_equal(
	    sb_provider_scheme_name(SB_AUTH_API_KEY_QUERY), "api_key_query");
	assert_string_equal(sb_provider_scheme_name(SB_AUTH_PRIVATE_KEY_JWT),
	    "private_key_jwt");
	assert_non_null(sb_provider_scheme_name(SB_AUTH__MAX));
}

static void
test_describe(void **state)
{
	struct fixture *f = *state;
	const cJSON *creds, *field;
	cJSON *j = sb_provider_describe(provider(f, "okta"));

	assert_non_null(j);
	assert_string_equal(
	    cJSON_GetObjectItemCaseSensitive(j, "name")->valuestring, "okta");
	assert_string_equal(
	    cJSON_GetObjectItemCaseSensitive(j, "auth_scheme")->valuestring,
	    "api_key_header");
	assert_string_equal(
	    cJSON_GetObjectItemCaseSensitive(j, "pagination")->valuestring,
	    "link");
	creds = cJSON_GetObjectItemCaseSensitive(j, "credentials");
	field = cJSON_GetObjectItemCaseSensitive(creds, "api_key");
	assert_true(
	    cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(field, "required")));
	assert_non_null(cJSON_GetObjectItemCaseSensitive(field, "pattern"));
	assert_non_null(cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(j, "config"), "subdomain"));
	cJSON_Delete(j);
}

/* One provider object with the given scheme and extras, as a file. */
#define ONE(body) "{\"providers\": [{\"name\": \"x\", " body "}]}"

static void
test_load_bad(void **state)
{
	static const struct {
		const char *text;
		const char *want; /* in the message */
	} cases[] = {
		{ "{", "not valid JSON" },
		{ "", "not valid JSON" },
		{ ONE("\"base_url\": \"https://x\", \"auth\": {\"scheme\": "
		      "\"magic\"}"),
		    "auth.scheme" },
		{ ONE("\"base_url\": \"https://x\", \"auth\": {}"),
		    "auth.scheme" },
		{ ONE("\"auth\": {\"scheme\": \"none\"}"), "base_url" },
		{ ONE("\"base_url\": \"https://x\", \"auth\": {\"scheme\": "
		      "\"none\"}, \"pagination\": \"scroll\""),
		    "pagination" },
		{ ONE("\"base_url\": \"https://x\", \"auth\": {\"scheme\": "
		      "\"oauth2\"}"),
		    "token_url" },
		{ ONE("\"base_url\": \"https://x\", \"auth\": {\"scheme\": "
		      "\"client_credentials\"}"),
		    "token_url" },
		{ ONE("\"base_url\": \"https://x\", \"auth\": {\"scheme\": "
		      "\"api_key_query\"}"),
		    "auth.query" },
		{ ONE("\"base_url\": \"https://x\", \"auth\": {\"scheme\": "
		      "\"bearer\"}, \"credentials\": {\"access_token\": "
		      "{\"pattern\": \"([\"}}"),
		    "bad pattern" },
		{ ONE("\"base_url\": \"https://x\", \"auth\": {\"scheme\": "
		      "\"bearer\"}, \"credentials\": {\"access_token\": {}, "
		      "\"secret_sauce\": {}}"),
		    "secret_sauce" },
		{ ONE("\"base_url\": \"https://x\", \"auth\": {\"scheme\": "
		      "\"none\"}, \"config\": {\"region\": {}}"),
		    "region" },
		{ ONE("\"base_url\": \"https://x\", \"auth\": {\"scheme\": "
		      "\"none\"}, \"hosts\": [443]"),
		    "hosts" },
		/* auth entries: 1 to SB_PROVIDER_AUTH_MAX, each complete */
		{ ONE("\"base_url\": \"https://x\", \"auth\": []"),
		    "auth holds 1 to" },
		{ ONE("\"base_url\": \"https://x\", \"auth\": [{\"scheme\": "
		      "\"none\"}, {\"scheme\": \"none\"}, {\"scheme\": "
		      "\"none\"}, {\"scheme\": \"none\"}, {\"scheme\": "
		      "\"none\"}]"),
		    "auth holds 1 to" },
		{ ONE("\"base_url\": \"https://x\", \"auth\": [{\"scheme\": "
		      "\"private_key_jwt\", \"token_url\": \"x\", "
		      "\"credentials\": {\"client_id\": {}, \"key_id\": {}}}]"),
		    "needs credentials field 'private_key'" },
		{ ONE("\"base_url\": \"https://x\", \"auth\": [{\"scheme\": "
		      "\"private_key_jwt\", \"credentials\": {\"client_id\": "
		      "{}, \"key_id\": {}, \"private_key\": {}}}]"),
		    "token_url" },
		{ ONE("\"base_url\": \"https://x\", \"auth\": [{\"scheme\": "
		      "\"bearer\", \"credentials\": {\"token\": {}}}]"),
		    "'token' is not allowed" },
		{ ONE("\"base_url\": \"https://x\", \"auth\": [{\"scheme\": "
		      "\"nope\"}]"),
		    "auth.scheme" },
		{ ONE("\"base_url\": \"https://x\", \"auth\": {\"scheme\": "
		      "\"bearer\"}"),
		    "needs credentials field 'access_token'" },
	};
	struct fixture *f = *state;
	char path[TEST_PATH_MAX + 16], err[SB_PROVIDER_ERROR_MAX];
	struct sb_providers *p;

	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		write_file(
		    f->dir, "bad.json", cases[i].text, path, sizeof(path));
		p = POISON; /* must come back NULL */
		err[0] = '\0';
		assert_int_equal(sb_providers_load(path, &p, err, sizeof(err)),
		    SB_ERR_CONFIG);
		assert_null(p);
		if (strstr(err, cases[i].want) == NULL)
			fail_msg(
			    "case %zu: '%s' lacks '%s'", i, err, cases[i].want);
		assert_true(printable(err));
	}
	/* A file that does not exist is a configuration error too. */
	assert_int_equal(sb_providers_load("/nonexistent/providers.json", &p,
	                     err, sizeof(err)),
	    SB_ERR_CONFIG);
	assert_null(p);
	assert_non_null(strstr(err, "cannot read"));
}

/* Writes a file of n minimal providers and loads it. */
static enum sb_err
load_many(struct fixture *f, size_t n, struct sb_providers **out, char *err,
    size_t errsize)
{
	size_t size = 64 + n * 128, len = 0;
	char *text = malloc(size), path[TEST_PATH_MAX + 16];
	enum sb_err rc;

	assert_non_null(text);
	len += (size_t)snprintf(text + len, size - len, "{\"providers\": [");
	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(text + len, size - len,
		    "%s{\"name\": \"p%zu\", \"base_url\": \"https://p%zu\", "
		    "\"auth\": {\"scheme\": \"none\"}}",
		    i > 0 ? ", " : "", i, i);
	snprintf(text + len, size - len, "]}");
	write_file(f->dir, "many.json", text, path, sizeof(path));
	free(text);
	rc = sb_providers_load(path, out, err, errsize);
	return rc;
}

static void
test_load_limit(void **state)
{
	struct fixture *f = *state;
	char err[SB_PROVIDER_ERROR_MAX];
	struct sb_providers *p = NULL;

	/* Exactly the limit loads. */
	assert_int_equal(
	    load_many(f, SB_PROVIDER_MAX, &p, err, sizeof(err)), SB_OK);
	assert_int_equal(sb_providers_count(p), SB_PROVIDER_MAX);
	assert_non_null(sb_providers_find(p, "p63"));
	sb_providers_free(p);

	/*
	 * One more is refused with a message that says why.  The loader
	 * formats a reason it never wrote for this case (an uninitialised
	 * buffer), so the message must be checked, not only the result.
	 */
	memset(err, 0, sizeof(err));
	assert_int_equal(
	    load_many(f, SB_PROVIDER_MAX + 1, &p, err, sizeof(err)),
	    SB_ERR_CONFIG);
	assert_null(p);
	assert_true(printable(err));
	if (strstr(err, "64") == NULL)
		fail_msg("the message does not name the limit: '%s'", err);
}

struct check_case {
	const char *provider;
	const char *credentials;
	const char *config;
	bool partial;
	const char *allowed_hosts;
	enum sb_err want;
	const char *message; /* in err when refused */
};

static void
test_check(void **state)
{
	static const struct check_case cases[] = {
		/* okta: api key with its pattern, subdomain for the host */
		{ "okta", "{\"api_key\": \"" OKTA_KEY "\"}",
		    "{\"subdomain\": \"acme\"}", false, "", SB_OK, NULL },
		{ "okta", "{\"api_key\": \"" OKTA_KEY "\"}",
		    "{\"subdomain\": \"acme\", \"domain\": "
		    "\"oktapreview.com\"}",
		    false, "", SB_OK, NULL },
		{ "okta", "{}", "{\"subdomain\": \"acme\"}", false, "",
		    SB_ERR_INVALID,
		    "are one of: api_key (api_key_header); "
		    "access_token (bearer); client_id, "
		    "private_key, key_id (private_key_jwt)" },
		{ "okta", NULL, "{\"subdomain\": \"acme\"}", false, "",
		    SB_ERR_INVALID, "are one of: api_key" },
		{ "okta", "{\"api_key\": \"short\"}",
		    "{\"subdomain\": \"acme\"}", false, "", SB_ERR_INVALID,
		    "'api_key' does not match" },
		{ "okta", "{\"api_key\": \"" OKTA_KEY "!\"}",
		    "{\"subdomain\": \"acme\"}", false, "", SB_ERR_INVALID,
		    "'api_key' does not match" },
		{ "okta", "{\"api_key\": \"" OKTA_KEY "\"}", NULL, false, "",
		    SB_ERR_INVALID, "'subdomain'" },
		{ "okta", "{\"api_key\": \"" OKTA_KEY "\"}", "{}", false, "",
		    SB_ERR_INVALID, "'subdomain'" },
		{ "okta", "{\"api_key\": \"" OKTA_KEY "\"}",
		    "{\"subdomain\": \"acme/x\"}", false, "", SB_ERR_INVALID,
		    "'subdomain'" },
		{ "okta", "{\"api_key\": \"" OKTA_KEY "\"}",
		    "{\"subdomain\": \"acme@evil.com\"}", false, "",
		    SB_ERR_INVALID, "'subdomain'" },
		{ "okta", "{\"api_key\": \"" OKTA_KEY "\"}",
		    "{\"subdomain\": \"acme.evil.com\"}", false, "",
		    SB_ERR_INVALID, "'subdomain'" },
		{ "okta", "{\"api_key\": \"" OKTA_KEY "\"}",
		    "{\"subdomain\": \".evil.com\"}", false, "", SB_ERR_INVALID,
		    "'subdomain'" },
		{ "okta", "{\"api_key\": \"" OKTA_KEY "\"}",
		    "{\"subdomain\": \"acme\", \"domain\": \"evil.com\"}",
		    false, "", SB_ERR_INVALID, "'domain'" },
		{ "okta", "{\"api_key\": \"" OKTA_KEY "\"}",
		    "{\"subdomain\": \"acme\", \"region\": \"eu\"}", false, "",
		    SB_ERR_INVALID, "'region'" },
		{ "okta", "{\"api_key\": \"" OKTA_KEY "\"}",
		    "{\"subdomain\": 7}", false, "", SB_ERR_INVALID,
		    "'subdomain'" },
		/* a config base_url replaces the template; its host is checked
		 */
		{ "okta", "{\"api_key\": \"" OKTA_KEY "\"}",
		    "{\"base_url\": \"https://acme.okta.com\"}", false, "",
		    SB_OK, NULL },
		{ "okta", "{\"api_key\": \"" OKTA_KEY "\"}",
		    "{\"base_url\": \"https://evil.example.com\"}", false, "",
		    SB_ERR_INVALID, "not one provider 'okta' allows" },
		{ "okta", "{\"api_key\": \"" OKTA_KEY "\"}",
		    "{\"base_url\": \"https://acme.okta.com@evil.example\"}",
		    false, "", SB_ERR_INVALID, "user information" },
		{ "okta", "{\"api_key\": \"" OKTA_KEY "\"}",
		    "{\"base_url\": \"http://127.0.0.1:9999\"}", false, "",
		    SB_ERR_INVALID, "allows" },
		{ "okta", "{\"api_key\": \"" OKTA_KEY "\"}",
		    "{\"base_url\": \"http://127.0.0.1:9999\"}", false,
		    "127.0.0.1:9999", SB_OK, NULL },
		{ "okta", "{\"api_key\": \"" OKTA_KEY "\"}",
		    "{\"base_url\": \"http://127.0.0.1:9998\"}", false,
		    "127.0.0.1:9999", SB_ERR_INVALID, "allows" },
		{ "jsonplaceholder", "{}",
		    "{\"base_url\": \"file:///etc/passwd\"}", false, "",
		    SB_ERR_INVALID, "http://" },
		/* unknown credential fields are named */
		{ "github",
		    "{\"access_token\": \"" GITHUB_TOKEN
		    "\", \"password\": \"hunter2\"}",
		    NULL, false, "", SB_ERR_INVALID,
		    "'password' is not used by provider 'github'" },
		{ "github", "{\"access_token\": \"" GITHUB_TOKEN "\"}", NULL,
		    false, "", SB_OK, NULL },
		{ "github", "{\"access_token\": \"\"}", NULL, false, "",
		    SB_ERR_INVALID, "'access_token'" },
		{ "github", "{\"access_token\": 12345}", NULL, false, "",
		    SB_ERR_INVALID, "'access_token'" },
		{ "github", "[\"" GITHUB_TOKEN "\"]", NULL, false, "",
		    SB_ERR_INVALID, "credentials must be an object" },
		{ "github", "{\"access_token\": \"" GITHUB_TOKEN "\"}",
		    "{\"base_url\": \"https://api.github.com\"}", false, "",
		    SB_ERR_INVALID, "'base_url'" },
		/* partial: a PATCH may leave required credentials out */
		{ "hubspot", "{\"access_token\": \"a\"}", NULL, false, "",
		    SB_ERR_INVALID, "'refresh_token' is required" },
		{ "hubspot", "{\"access_token\": \"a\"}", NULL, true, "", SB_OK,
		    NULL },
		{ "hubspot", "{\"api_key\": \"a\"}", NULL, true, "",
		    SB_ERR_INVALID, "'api_key'" },
		/* expiries may be numbers; nothing else may */
		{ "hubspot",
		    "{\"access_token\": \"a\", \"refresh_token\": \"r\", "
		    "\"client_id\": \"c\", \"client_secret\": \"s\", "
		    "\"expires_in\": 3600}",
		    NULL, false, "", SB_OK, NULL },
		{ "hubspot",
		    "{\"access_token\": \"a\", \"refresh_token\": \"r\", "
		    "\"client_id\": \"c\", \"client_secret\": \"s\", "
		    "\"expires_at\": \"1900000000\"}",
		    NULL, false, "", SB_OK, NULL },
		{ "hubspot",
		    "{\"access_token\": \"a\", \"refresh_token\": \"r\", "
		    "\"client_id\": \"c\", \"client_secret\": \"s\", "
		    "\"expires_in\": -1}",
		    NULL, false, "", SB_ERR_INVALID, "'expires_in'" },
		{ "hubspot",
		    "{\"access_token\": \"a\", \"refresh_token\": \"r\", "
		    "\"client_id\": \"c\", \"client_secret\": 5}",
		    NULL, false, "", SB_ERR_INVALID, "'client_secret'" },
		/* sandbox: loopback hosts only through allowed_hosts */
		{ "sandbox",
		    "{\"access_token\": \"a\", \"refresh_token\": \"r\"}", NULL,
		    false, "", SB_ERR_INVALID, "allows" },
		{ "sandbox",
		    "{\"access_token\": \"a\", \"refresh_token\": \"r\"}", NULL,
		    false, "127.0.0.1:8081", SB_OK, NULL },
		{ "sandbox",
		    "{\"access_token\": \"a\", \"refresh_token\": \"r\"}", NULL,
		    false, "localhost:8081,127.0.0.1:8081", SB_OK, NULL },
		{ "sandbox",
		    "{\"access_token\": \"a\", \"refresh_token\": \"r\"}", NULL,
		    false, "127.0.0.1:9999", SB_ERR_INVALID, "allows" },
		/* allowed_hosts entries scoped to a provider */
		{ "sandbox",
		    "{\"access_token\": \"a\", \"refresh_token\": \"r\"}", NULL,
		    false, "sandbox=127.0.0.1:8081", SB_OK, NULL },
		{ "sandbox",
		    "{\"access_token\": \"a\", \"refresh_token\": \"r\"}", NULL,
		    false, "sandbox-crm=127.0.0.1:8081", SB_ERR_INVALID,
		    "allows" },
		/* a config base_url: scheme, host, port and a clean path */
		{ "jsonplaceholder", "{}",
		    "{\"base_url\": \"http://127.0.0.1:8081/jsonplaceholder\"}",
		    false, "jsonplaceholder=127.0.0.1:8081", SB_OK, NULL },
		{ "jsonplaceholder", "{}",
		    "{\"base_url\": \"http://127.0.0.1:8081/jsonplaceholder\"}",
		    false, "sandbox=127.0.0.1:8081", SB_ERR_INVALID, "allows" },
		{ "jsonplaceholder", "{}",
		    "{\"base_url\": \"http://127.0.0.1:8081/x?a=1\"}", false,
		    "127.0.0.1:8081", SB_ERR_INVALID, "query ('?')" },
		{ "jsonplaceholder", "{}",
		    "{\"base_url\": \"http://127.0.0.1:8081/x#f\"}", false,
		    "127.0.0.1:8081", SB_ERR_INVALID, "fragment ('#')" },
		{ "jsonplaceholder", "{}",
		    "{\"base_url\": \"http://u:p@127.0.0.1:8081/x\"}", false,
		    "127.0.0.1:8081", SB_ERR_INVALID, "user information" },
		{ "jsonplaceholder", "{}",
		    "{\"base_url\": \"http://127.0.0.1:8081/x/../_sandbox\"}",
		    false, "127.0.0.1:8081", SB_ERR_INVALID, "'..'" },
		{ "jsonplaceholder", "{}",
		    "{\"base_url\": \"http://127.0.0.1:8081/x/./y\"}", false,
		    "127.0.0.1:8081", SB_ERR_INVALID, "'..'" },
		{ "jsonplaceholder", "{}",
		    "{\"base_url\": \"http://127.0.0.1:8081/x/%2e%2e\"}", false,
		    "127.0.0.1:8081", SB_ERR_INVALID, "percent" },
		{ "jsonplaceholder", "{}",
		    "{\"base_url\": \"http://127.0.0.1:8081//x\"}", false,
		    "127.0.0.1:8081", SB_ERR_INVALID, "empty path segment" },
		{ "jsonplaceholder", "{}",
		    "{\"base_url\": \"http://127.0.0.1:8081/x/\"}", false,
		    "127.0.0.1:8081", SB_ERR_INVALID, "trailing '/'" },
		{ "jsonplaceholder", "{}",
		    "{\"base_url\": \"http://127.0.0.1:0/x\"}", false,
		    "127.0.0.1:0", SB_ERR_INVALID, "port" },
		{ "jsonplaceholder", "{}",
		    "{\"base_url\": \"ftp://127.0.0.1:8081/x\"}", false,
		    "127.0.0.1:8081", SB_ERR_INVALID, "http://" },
		{ "jsonplaceholder", "{}",
		    "{\"base_url\": \"http://127.0.0.1:8081\"}", false,
		    "127.0.0.1:8081", SB_OK, NULL },
		/* OAuth2 schemes take a raw token response: its informational
		 * fields pass, whatever their value; foreign fields do not */
		{ "sandbox",
		    "{\"access_token\": \"a\", \"token_type\": \"Bearer\", "
		    "\"expires_in\": 300, \"refresh_token\": \"r\", "
		    "\"scope\": \"read write\", \"id_token\": \"e.y.J\"}",
		    NULL, false, "127.0.0.1:8081", SB_OK, NULL },
		{ "sandbox",
		    "{\"access_token\": \"a\", \"refresh_token\": \"r\", "
		    "\"issued_token_type\": \"urn:x\", "
		    "\"refresh_expires_in\": 1800, "
		    "\"refresh_token_expires_in\": 1800, "
		    "\"ext_expires_in\": 3600, \"not-before-policy\": 0, "
		    "\"session_state\": \"s\", \"token_type\": null}",
		    NULL, false, "127.0.0.1:8081", SB_OK, NULL },
		{ "sandbox",
		    "{\"access_token\": \"a\", \"token_type\": \"Bearer\", "
		    "\"refresh_token\": \"r\", \"foo\": \"x\"}",
		    NULL, false, "127.0.0.1:8081", SB_ERR_INVALID,
		    "credentials field 'foo' is not used by provider "
		    "'sandbox'" },
		{ "sandbox",
		    "{\"access_token\": \"a\", \"refresh_token\": \"r\", "
		    "\"Token_Type\": \"Bearer\"}",
		    NULL, false, "127.0.0.1:8081", SB_ERR_INVALID,
		    "'Token_Type' is not used" },
		{ "sandbox", "{\"token_type\": \"Bearer\", \"scope\": \"x\"}",
		    NULL, false, "127.0.0.1:8081", SB_ERR_INVALID,
		    "'access_token' is required" },
		{ "sandbox", "{\"token_type\": \"Bearer\"}", NULL, true,
		    "127.0.0.1:8081", SB_OK, NULL },
		{ "sandbox",
		    "{\"access_token\": \"a\", \"refresh_token\": \"r\"}",
		    "{\"token_type\": \"Bearer\"}", false, "127.0.0.1:8081",
		    SB_ERR_INVALID,
		    "config field 'token_type' is not used by provider "
		    "'sandbox'" },
		{ "sandbox-crm",
		    "{\"client_id\": \"c\", \"client_secret\": \"s\", "
		    "\"access_token\": \"a\", \"token_type\": \"Bearer\", "
		    "\"expires_in\": 300, \"scope\": \"crm\"}",
		    NULL, false, "127.0.0.1:8081", SB_OK, NULL },
		{ "hubspot",
		    "{\"access_token\": \"a\", \"refresh_token\": \"r\", "
		    "\"client_id\": \"c\", \"client_secret\": \"s\", "
		    "\"token_type\": \"bearer\", \"expires_in\": 1800}",
		    NULL, false, "", SB_OK, NULL },
		/* other schemes keep refusing them */
		{ "github",
		    "{\"access_token\": \"" GITHUB_TOKEN
		    "\", \"token_type\": \"bearer\"}",
		    NULL, false, "", SB_ERR_INVALID,
		    "credentials field 'token_type' is not used by provider "
		    "'github'" },
		{ "github",
		    "{\"access_token\": \"" GITHUB_TOKEN
		    "\", \"scope\": \"repo\"}",
		    NULL, false, "", SB_ERR_INVALID,
		    "'scope' is not used by provider 'github'" },
		{ "okta",
		    "{\"api_key\": \"" OKTA_KEY "\", \"id_token\": \"x\"}",
		    "{\"subdomain\": \"acme\"}", false, "", SB_ERR_INVALID,
		    "'id_token' is not used by provider 'okta'" },
	};
	struct fixture *f = *state;
	char err[SB_PROVIDER_ERROR_MAX];
	cJSON *credentials, *config;
	enum sb_err rc;

	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		credentials = parse(cases[i].credentials);
		config = parse(cases[i].config);
		snprintf(f->cfg.allowed_hosts, sizeof(f->cfg.allowed_hosts),
		    "%s", cases[i].allowed_hosts);
		err[0] = '\0';
		rc = sb_provider_check(provider(f, cases[i].provider), &f->cfg,
		    credentials, config, cases[i].partial, err, sizeof(err));
		if (rc != cases[i].want)
			fail_msg("case %zu (%s): got %s, want %s (%s)", i,
			    cases[i].provider, sb_strerror(rc),
			    sb_strerror(cases[i].want), err);
		if (cases[i].message != NULL &&
		    strstr(err, cases[i].message) == NULL)
			fail_msg("case %zu: '%s' lacks '%s'", i, err,
			    cases[i].message);
		cJSON_Delete(credentials);
		cJSON_Delete(config);
	}
}

/* The informational token response fields, by exact name only. */
static void
test_token_info(void **state)
{
	static const struct {
		const char *name;
		bool want;
	} cases[] = {
		{ "token_type", true },
		{ "scope", true },
		{ "id_token", true },
		{ "issued_token_type", true },
		{ "refresh_expires_in", true },
		{ "refresh_token_expires_in", true },
		{ "ext_expires_in", true },
		{ "not-before-policy", true },
		{ "session_state", true },
		/* what matters of a token response is a credential field */
		{ "access_token", false },
		{ "refresh_token", false },
		{ "expires_in", false },
		{ "TOKEN_TYPE", false },
		{ "token_type ", false },
		{ "", false },
		{ NULL, false },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(cases); i++)
		if (sb_provider_token_info(cases[i].name) != cases[i].want)
			fail_msg("case %zu (%s): want %d", i,
			    cases[i].name != NULL ? cases[i].name : "NULL",
			    cases[i].want);
}

static void
test_check_value_max(void **state)
{
	struct fixture *f = *state;
	char err[SB_PROVIDER_ERROR_MAX], *value;
	cJSON *credentials;

	assert_non_null(value = malloc(SB_PROVIDER_VALUE_MAX + 2));
	for (size_t len = SB_PROVIDER_VALUE_MAX;
	     len <= SB_PROVIDER_VALUE_MAX + 1; len++) {
		memset(value, 'a', len);
		value[len] = '\0';
		credentials = cJSON_CreateObject();
		cJSON_AddStringToObject(credentials, "access_token", value);
		cJSON_AddStringToObject(credentials, "refresh_token", "r");
		snprintf(f->cfg.allowed_hosts, sizeof(f->cfg.allowed_hosts),
		    "127.0.0.1:8081");
		assert_int_equal(
		    sb_provider_check(provider(f, "sandbox"), &f->cfg,
		        credentials, NULL, false, err, sizeof(err)),
		    len <= SB_PROVIDER_VALUE_MAX ? SB_OK : SB_ERR_INVALID);
		cJSON_Delete(credentials);
	}
	free(value);
}

static void
test_render(void **state)
{
	static const struct {
		const char *provider;
		bool token_url;
		const char *config;
		long sandbox_port;
		size_t outsize;
		enum sb_err want;
		const char *url;
	} cases[] = {
		{ "okta", false, "{\"subdomain\": \"acme\"}", 8081, 256, SB_OK,
		    "https://acme.okta.com" },
		{ "okta", false,
		    "{\"subdomain\": \"acme\", \"domain\": \"okta-emea.com\"}",
		    8081, 256, SB_OK, "https://acme.okta-emea.com" },
		{ "okta", false,
		    "{\"base_url\": \"https://other.okta.com/api\"}", 8081, 256,
		    SB_OK, "https://other.okta.com/api" },
		{ "okta", false, NULL, 8081, 256, SB_ERR_INVALID, NULL },
		{ "okta", false, "{\"subdomain\": \"a/b\"}", 8081, 256,
		    SB_ERR_INVALID, NULL },
		{ "okta", false, "{\"subdomain\": \"acme\"}", 8081, 10,
		    SB_ERR_TOO_LARGE, NULL },
		{ "okta", false, "{\"subdomain\": \"acme\"}", 8081, 21,
		    SB_ERR_TOO_LARGE, NULL },
		{ "okta", false, "{\"subdomain\": \"acme\"}", 8081, 22, SB_OK,
		    "https://acme.okta.com" },
		{ "sandbox", false, NULL, 8081, 256, SB_OK,
		    "http://127.0.0.1:8081/api" },
		{ "sandbox", false, NULL, 19999, 256, SB_OK,
		    "http://127.0.0.1:19999/api" },
		{ "sandbox", true, NULL, 8081, 256, SB_OK,
		    "http://127.0.0.1:8081/oauth/token" },
		{ "sandbox-crm", true, NULL, 8081, 256, SB_OK,
		    "http://127.0.0.1:8081/crm/token" },
		{ "github", false, NULL, 8081, 256, SB_OK,
		    "https://api.github.com" },
		/* okta's private_key_jwt token URL follows its base URL */
		{ "okta", true, "{\"subdomain\": \"acme\"}", 8081, 256, SB_OK,
		    "https://acme.okta.com/oauth2/v1/token" },
		{ "okta", true,
		    "{\"base_url\": \"http://127.0.0.1:8081/okta/t1\"}", 8081,
		    256, SB_OK,
		    "http://127.0.0.1:8081/okta/t1/oauth2/v1/token" },
		{ "okta", true, "{\"subdomain\": \"acme\"}", 8081, 30,
		    SB_ERR_TOO_LARGE, NULL },
		{ "okta", true, NULL, 8081, 256, SB_ERR_INVALID, NULL },
	};
	struct fixture *f = *state;
	const struct sb_provider *p;
	char out[256];
	cJSON *config;
	enum sb_err rc;

	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		p = provider(f, cases[i].provider);
		config = parse(cases[i].config);
		f->cfg.sandbox_port = cases[i].sandbox_port;
		rc = sb_provider_render(p,
		    cases[i].token_url ? p->auth[p->auth_count - 1].token_url
		                       : p->base_url,
		    &f->cfg, config, out, cases[i].outsize);
		if (rc != cases[i].want)
			fail_msg("case %zu: got %s, want %s", i,
			    sb_strerror(rc), sb_strerror(cases[i].want));
		if (cases[i].url != NULL)
			assert_string_equal(out, cases[i].url);
		cJSON_Delete(config);
	}
}

static void
test_url_allowed(void **state)
{
	static const struct {
		const char *provider;
		const char *allowed_hosts;
		const char *url;
		bool want;
	} cases[] = {
		{ "okta", "", "https://acme.okta.com", true },
		{ "okta", "", "https://acme.okta.com/api/v1/users?limit=2",
		    true },
		{ "okta", "", "https://acme.okta.com:443/api", true },
		{ "okta", "", "https://a.b.okta.com", true },
		{ "okta", "", "https://acme.oktapreview.com", true },
		{ "okta", "", "https://ACME.OKTA.COM", true },
		{ "okta", "", "https://okta.com", false },
		{ "okta", "", "https://.okta.com", false },
		{ "okta", "", "https://evil-okta.com", false },
		{ "okta", "", "https://x.okta.com.evil.com", false },
		{ "okta", "", "https://x.okta.com:8443", false },
		{ "okta", "", "http://x.okta.com", false },
		{ "okta", "", "https://a@x.okta.com", false },
		{ "okta", "", "https://a:b@x.okta.com", false },
		{ "okta", "", "https://x.okta.com@evil.com", false },
		{ "okta", "", "https://:pw@x.okta.com", false },
		{ "okta", "", "https://evil.com#.okta.com", false },
		{ "okta", "", "https://x.okta.com%2eevil.com", false },
		{ "okta", "", "ftp://x.okta.com:443/", false },
		{ "okta", "", "file:///etc/passwd", false },
		{ "okta", "", "x.okta.com", false },
		{ "okta", "", "", false },
		{ "okta", "", "not a url", false },
		{ "github", "", "https://api.github.com/user", true },
		{ "github", "", "https://API.GitHub.com/user", true },
		{ "github", "", "https://api.github.com.evil.com", false },
		{ "github", "", "https://gist.github.com", false },
		{ "github", "", "http://api.github.com", false },
		/* allowed_hosts extends every provider */
		{ "sandbox", "", "http://127.0.0.1:9999/api", false },
		{ "sandbox", "127.0.0.1:9999", "http://127.0.0.1:9999/api",
		    true },
		{ "sandbox", "127.0.0.1:9999", "http://127.0.0.1:9998/api",
		    false },
		{ "sandbox", "127.0.0.1:9999", "http://127.0.0.1/api", false },
		{ "sandbox", "127.0.0.1:9999", "http://127.0.0.2:9999/api",
		    false },
		{ "sandbox", "localhost:1,127.0.0.1:9999",
		    "http://127.0.0.1:9999/api", true },
		{ "sandbox", "localhost:1,127.0.0.1:9999", "http://localhost:1",
		    true },
		{ "sandbox", "*.example.com:443", "https://a.example.com",
		    true },
		{ "sandbox", "*.example.com:443", "https://example.com",
		    false },
		{ "sandbox", "127.0.0.1:9999,", "http://127.0.0.1:9999", true },
		{ "sandbox", "127.0.0.1", "http://127.0.0.1:80", false },
		/* provider=host:port: that provider alone */
		{ "sandbox", "sandbox=127.0.0.1:9999", "http://127.0.0.1:9999",
		    true },
		{ "sandbox-crm", "sandbox=127.0.0.1:9999",
		    "http://127.0.0.1:9999", false },
		{ "okta", "sandbox=127.0.0.1:9999", "http://127.0.0.1:9999",
		    false },
		{ "okta", "sandbox=127.0.0.1:9999, okta=127.0.0.1:9999",
		    "http://127.0.0.1:9999", true },
		{ "sandbox", "=127.0.0.1:9999", "http://127.0.0.1:9999",
		    false },
	};
	struct fixture *f = *state;
	bool got;

	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		snprintf(f->cfg.allowed_hosts, sizeof(f->cfg.allowed_hosts),
		    "%s", cases[i].allowed_hosts);
		got = sb_provider_url_allowed(
		    provider(f, cases[i].provider), &f->cfg, cases[i].url);
		if (got != cases[i].want)
			fail_msg("case %zu: %s '%s' -> %d, want %d", i,
			    cases[i].provider, cases[i].url, got,
			    cases[i].want);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_load_shipped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_describe, setup, teardown),
		cmocka_unit_test_setup_teardown(test_load_bad, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_load_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_check, setup, teardown),
		cmocka_unit_test(test_token_info),
		cmocka_unit_test_setup_teardown(
		    test_check_value_max, setup, teardown),
		cmocka_unit_test_setup_teardown(test_render, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_url_allowed, setup, teardown),
	};

	return cmocka_run_group_tests_name("provider", tests, NULL, NULL);
}
