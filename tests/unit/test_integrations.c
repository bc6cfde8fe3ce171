/*
 * Unit tests for lib/integrations: loading the data file (the real
 * etc/integrations.json, and bad files, each refused with a message
 * naming its fault: unknown keys, reserved names that would shadow a
 * gateway route, bad templates, patterns, status rules, paging), input
 * validation naming every bad field, path and query rendering, the status
 * table and the reading of an upstream error.  Table-driven.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "sb/integrations/integrations.h"
#include "support.h"

#define INTEGRATIONS_FILE "etc/integrations.json"
#define TEXT_MAX 4096

static struct sb_providers *providers;
static struct sb_integrations *real;

static int
setup(void **state)
{
	char err[SB_INTEGRATION_ERROR_MAX];

	(void)state;
	if (sb_providers_load(TEST_PROVIDERS, &providers, err, sizeof(err)) !=
	    SB_OK)
		return -1;
	return sb_integrations_load(INTEGRATIONS_FILE, providers, &real, err,
	           sizeof(err)) == SB_OK
	    ? 0
	    : -1;
}

static int
teardown(void **state)
{
	(void)state;
	sb_integrations_free(real);
	sb_providers_free(providers);
	return 0;
}

static const struct sb_capability *
real_capability(const char *integration, const char *name)
{
	const struct sb_capability *cap = sb_integration_capability(
	    sb_integrations_find(real, integration), name);

	assert_non_null(cap);
	return cap;
}

static void
test_load_real(void **state)
{
	const struct sb_integration *okta;

	(void)state;
	assert_int_equal(sb_integrations_count(real), 2);
	okta = sb_integrations_find(real, "okta");
	assert_non_null(okta);
	assert_string_equal(okta->provider->name, "okta");
	assert_int_equal(okta->capability_count, 5);
	assert_true(real_capability("okta", "list_users")->paging.on);
	assert_int_equal(real_capability("okta", "delete_user")->step_count, 2);
	assert_true(real_capability("okta", "suspend_user")->write);
	assert_non_null(sb_integrations_find(real, "sandbox"));
	assert_null(sb_integrations_find(real, "nosuch"));
	assert_null(sb_integration_capability(okta, "nosuch"));
}

/* A good capability, to build files around. */
#define CAP_OK \
	"{\"name\": \"c\", \"kind\": \"read\", \"description\": \"d\", " \
	"\"input\": {\"id\": {\"type\": \"string\", \"required\": true}}, " \
	"\"steps\": [{\"method\": \"GET\", \"path\": \"/x/{id}\"}], " \
	"\"answer\": {\"mapping\": {\"a\": \"b\"}}}"

/* An integration called name with capability cap and extra members. */
static void
file_text(char *out, const char *name, const char *extra, const char *cap)
{
	snprintf(out, TEXT_MAX,
	    "{\"integrations\": [{\"name\": \"%s\", \"title\": \"t\", "
	    "\"provider\": \"okta\"%s, \"capabilities\": [%s]}]}",
	    name, extra, cap);
}

static const struct {
	const char *name;
	const char *extra;
	const char *cap;
	const char *fault; /* a part of the message */
} bad_files[] = {
	{ "users", "", CAP_OK, "shadow" },
	{ "capabilities", "", CAP_OK, "shadow" },
	{ "connections", "", CAP_OK, "shadow" },
	{ "proxy", "", CAP_OK, "shadow" },
	{ "health", "", CAP_OK, "shadow" },
	{ "webhooks", "", CAP_OK, "shadow" },
	{ "_sandbox", "", CAP_OK, "[a-z]" },
	{ "Okta", "", CAP_OK, "[a-z]" },
	{ "ok", ", \"colour\": 1", CAP_OK, "unknown key 'colour'" },
	{ "ok", "", "{\"name\": \"c\", \"kind\": \"read\", \"wat\": 1}",
	    "unknown key 'wat'" },
	{ "ok", "",
	    "{\"name\": \"c\", \"kind\": \"read\", \"description\": \"d\", "
	    "\"steps\": [{\"method\": \"GET\", \"path\": \"/x/{nosuch}\"}], "
	    "\"answer\": {\"mapping\": {\"a\": \"b\"}}}",
	    "placeholder" },
	{ "ok", "",
	    "{\"name\": \"c\", \"kind\": \"read\", \"description\": \"d\", "
	    "\"input\": {\"id\": {\"type\": \"string\"}}, "
	    "\"steps\": [{\"method\": \"GET\", \"path\": \"/x/{id}\"}], "
	    "\"answer\": {\"mapping\": {\"a\": \"b\"}}}",
	    "required input" },
	{ "ok", "",
	    "{\"name\": \"c\", \"kind\": \"read\", \"description\": \"d\", "
	    "\"steps\": [{\"method\": \"GET\", \"path\": \"x\"}], "
	    "\"answer\": {\"mapping\": {\"a\": \"b\"}}}",
	    "must start with '/'" },
	{ "ok", "",
	    "{\"name\": \"c\", \"kind\": \"read\", \"description\": \"d\", "
	    "\"steps\": [{\"method\": \"GET\", \"path\": \"/a/../b\"}], "
	    "\"answer\": {\"mapping\": {\"a\": \"b\"}}}",
	    "dot segment" },
	{ "ok", "",
	    "{\"name\": \"c\", \"kind\": \"read\", \"description\": \"d\", "
	    "\"steps\": [{\"method\": \"GET\", \"path\": \"/a?b=1\"}], "
	    "\"answer\": {\"mapping\": {\"a\": \"b\"}}}",
	    "not allowed" },
	{ "ok", "",
	    "{\"name\": \"c\", \"kind\": \"read\", \"description\": \"d\", "
	    "\"steps\": [{\"method\": \"TRACE\", \"path\": \"/a\"}], "
	    "\"answer\": {\"mapping\": {\"a\": \"b\"}}}",
	    "method" },
	{ "ok", "",
	    "{\"name\": \"c\", \"kind\": \"read\", \"description\": \"d\", "
	    "\"input\": {\"q\": {\"type\": \"string\", \"pattern\": \"(\"}}, "
	    "\"steps\": [{\"method\": \"GET\", \"path\": \"/a\"}], "
	    "\"answer\": {\"mapping\": {\"a\": \"b\"}}}",
	    "pattern" },
	{ "ok", "",
	    "{\"name\": \"c\", \"kind\": \"read\", \"description\": \"d\", "
	    "\"input\": {\"n\": {\"type\": \"integer\", \"max_length\": 3}}, "
	    "\"steps\": [{\"method\": \"GET\", \"path\": \"/a\"}], "
	    "\"answer\": {\"mapping\": {\"a\": \"b\"}}}",
	    "for strings" },
	{ "ok", "",
	    "{\"name\": \"c\", \"kind\": \"read\", \"description\": \"d\", "
	    "\"input\": {\"n\": {\"type\": \"float\"}}, "
	    "\"steps\": [{\"method\": \"GET\", \"path\": \"/a\"}], "
	    "\"answer\": {\"mapping\": {\"a\": \"b\"}}}",
	    "type must be" },
	{ "ok", "",
	    "{\"name\": \"c\", \"kind\": \"read\", \"description\": \"d\", "
	    "\"steps\": [{\"method\": \"GET\", \"path\": \"/a\", "
	    "\"statuses\": {\"404\": \"explode\"}}], "
	    "\"answer\": {\"mapping\": {\"a\": \"b\"}}}",
	    "statuses" },
	{ "ok", "",
	    "{\"name\": \"c\", \"kind\": \"read\", \"description\": \"d\", "
	    "\"steps\": [{\"method\": \"GET\", \"path\": \"/a\", "
	    "\"statuses\": {\"99\": \"ok\"}}], "
	    "\"answer\": {\"mapping\": {\"a\": \"b\"}}}",
	    "not a status" },
	{ "ok", "",
	    "{\"name\": \"c\", \"kind\": \"read\", \"description\": \"d\", "
	    "\"steps\": [{\"method\": \"GET\", \"path\": \"/a\", "
	    "\"query\": {\"q\": \"{nosuch}\"}}], "
	    "\"answer\": {\"mapping\": {\"a\": \"b\"}}}",
	    "names no input" },
	{ "ok", "",
	    "{\"name\": \"c\", \"kind\": \"read\", \"description\": \"d\", "
	    "\"steps\": [{\"method\": \"GET\", \"path\": \"/a\"}], "
	    "\"answer\": {\"mapping\": {\"a\": \"b[\"}}}",
	    "answer mapping" },
	{ "ok", "",
	    "{\"name\": \"c\", \"kind\": \"write\", \"description\": \"d\", "
	    "\"input\": {\"after\": {\"type\": \"string\"}}, "
	    "\"steps\": [{\"method\": \"GET\", \"path\": \"/a\"}], "
	    "\"answer\": {\"list\": \"x\", \"mapping\": {\"a\": \"b\"}}, "
	    "\"paging\": {\"rel\": \"next\", \"param\": \"after\", "
	    "\"input\": \"after\"}}",
	    "paging" },
	{ "ok", "",
	    "{\"name\": \"c\", \"kind\": \"maybe\", \"description\": \"d\", "
	    "\"steps\": [{\"method\": \"GET\", \"path\": \"/a\"}], "
	    "\"answer\": {\"mapping\": {\"a\": \"b\"}}}",
	    "kind" },
	{ "ok", "",
	    "{\"name\": \"c\", \"kind\": \"read\", \"description\": "
	    "\"d\", \"steps\": [], \"answer\": {\"set\": {}}}",
	    "steps" },
};

static void
test_load_bad(void **state)
{
	char text[TEXT_MAX], err[SB_INTEGRATION_ERROR_MAX];
	struct sb_integrations *list;

	(void)state;
	file_text(text, "ok", "", CAP_OK);
	assert_int_equal(sb_integrations_parse(text, strlen(text), "t",
	                     providers, &list, err, sizeof(err)),
	    SB_OK);
	sb_integrations_free(list);
	for (size_t i = 0; i < ARRAY_LEN(bad_files); i++) {
		file_text(text, bad_files[i].name, bad_files[i].extra,
		    bad_files[i].cap);
		err[0] = '\0';
		list = (void *)&list;
		assert_int_equal(sb_integrations_parse(text, strlen(text), "t",
		                     providers, &list, err, sizeof(err)),
		    SB_ERR_CONFIG);
		assert_null(list);
		if (strstr(err, bad_files[i].fault) == NULL)
			fail_msg("case %zu: '%s' lacks '%s'", i, err,
			    bad_files[i].fault);
	}
}

static void
test_load_other_faults(void **state)
{
	static const char *const texts[] = {
		"not json",
		"{\"integrations\": 1}",
		"{\"integrations\": [], \"more\": 1}",
		"{\"integrations\": [{\"name\": \"a\", \"title\": \"t\", "
		"\"provider\": \"nosuch\", \"capabilities\": [" CAP_OK "]}]}",
		"{\"integrations\": [{\"name\": \"a\", \"title\": \"t\", "
		"\"provider\": \"okta\", \"capabilities\": [" CAP_OK "]}, "
		"{\"name\": \"a\", \"title\": \"t\", "
		"\"provider\": \"okta\", \"capabilities\": [" CAP_OK "]}]}",
		"{\"integrations\": [{\"name\": \"a\", \"title\": \"t\", "
		"\"provider\": \"okta\", \"capabilities\": [" CAP_OK ", " CAP_OK
		"]}]}",
	};
	char err[SB_INTEGRATION_ERROR_MAX];
	struct sb_integrations *list;

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(texts); i++)
		assert_int_equal(
		    sb_integrations_parse(texts[i], strlen(texts[i]), "t",
		        providers, &list, err, sizeof(err)),
		    SB_ERR_CONFIG);
	assert_int_equal(sb_integrations_load("/nonexistent/file.json",
	                     providers, &list, err, sizeof(err)),
	    SB_ERR_CONFIG);
	assert_true(sb_integrations_reserved("data"));
	assert_true(sb_integrations_reserved("fetch"));
	assert_true(sb_integrations_reserved("jobs"));
	assert_true(sb_integrations_reserved("webhook"));
	assert_false(sb_integrations_reserved("okta"));
}

/* Input cases: the given JSON, from a query or not, and the bad fields. */
static const struct {
	const char *integration, *capability;
	const char *given;
	bool from_query;
	const char *bad; /* "a,b" in the order named, or NULL for valid */
} inputs[] = {
	{ "okta", "list_users", "{}", true, NULL },
	{ "okta", "list_users",
	    "{\"limit\": \"5\", \"all\": \"true\", \"q\": \"ada\"}", true,
	    NULL },
	{ "okta", "list_users", "{\"limit\": \"0\"}", true, "limit" },
	{ "okta", "list_users", "{\"limit\": \"201\"}", true, "limit" },
	{ "okta", "list_users", "{\"limit\": \"5x\"}", true, "limit" },
	{ "okta", "list_users",
	    "{\"limit\": \"0\", \"after\": \"a\\u0001b\", \"x\": \"1\"}", true,
	    "limit,after,x" },
	{ "okta", "list_users", "{\"after\": \"a/b\"}", true, "after" },
	{ "okta", "list_users", "{\"all\": \"yes\"}", true, "all" },
	{ "okta", "list_users", "{\"q\": \"a\\u007f\"}", true, "q" },
	{ "okta", "get_user", "{}", true, "user_id" },
	{ "okta", "get_user", "{\"user_id\": \"\"}", true, "user_id" },
	{ "okta", "delete_user", "{\"user_id\": \"u\", \"send_email\": true}",
	    false, NULL },
	{ "okta", "delete_user",
	    "{\"user_id\": \"u\", \"send_email\": \"yes\"}", false,
	    "send_email" },
	{ "okta", "delete_user", "{\"user_id\": 5}", false, "user_id" },
	{ "okta", "delete_user", "{\"user_id\": null}", false, "user_id" },
	{ "okta", "suspend_user", "[1]", false, "(body)" },
	{ "sandbox", "list_users", "{\"limit\": \"100\"}", true, NULL },
	{ "sandbox", "list_users", "{\"limit\": \"-1\"}", true, "limit" },
};

/* The fields named by res, joined with ",". */
static void
bad_fields(const struct sb_integration_result *res, char *out, size_t size)
{
	const cJSON *f;
	size_t used = 0;

	out[0] = '\0';
	cJSON_ArrayForEach(f, res->body)
	{
		used += (size_t)snprintf(out + used, size - used, "%s%s",
		    used > 0 ? "," : "",
		    cJSON_GetObjectItem(f, "field")->valuestring);
	}
}

static void
test_input(void **state)
{
	struct sb_integration_result res = { 0 };
	char names[256];
	cJSON *given, *out;
	enum sb_err rc;

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(inputs); i++) {
		given = cJSON_Parse(inputs[i].given);
		assert_non_null(given);
		rc = sb_capability_input(real_capability(inputs[i].integration,
		                             inputs[i].capability),
		    given, inputs[i].from_query, &out, &res);
		if (inputs[i].bad == NULL) {
			if (rc != SB_OK)
				fail_msg("case %zu: %s", i, res.message);
			assert_non_null(out);
		} else {
			assert_int_equal(rc, SB_ERR_INVALID);
			assert_null(out);
			assert_int_equal(res.status, 400);
			assert_string_equal(res.code, "invalid_input");
			assert_string_equal(res.detail_name, "fields");
			bad_fields(&res, names, sizeof(names));
			if (strcmp(names, inputs[i].bad) != 0)
				fail_msg("case %zu: named '%s', not '%s'", i,
				    names, inputs[i].bad);
		}
		cJSON_Delete(out);
		cJSON_Delete(given);
		sb_integration_result_clear(&res);
	}
}

static void
test_input_typed(void **state)
{
	struct sb_integration_result res = { 0 };
	cJSON *given = cJSON_Parse("{\"limit\": \"7\", \"all\": \"false\"}");
	cJSON *out = NULL;

	(void)state;
	assert_int_equal(
	    sb_capability_input(
	        real_capability("okta", "list_users"), given, true, &out, &res),
	    SB_OK);
	assert_true(cJSON_IsNumber(cJSON_GetObjectItem(out, "limit")));
	assert_int_equal(cJSON_GetObjectItem(out, "limit")->valueint, 7);
	assert_true(cJSON_IsFalse(cJSON_GetObjectItem(out, "all")));
	cJSON_Delete(out);
	cJSON_Delete(given);
}

/*
 * A JSON number in a body is an integer field's value only if it is a
 * whole number a double holds exactly (|n| <= 2^53): past that it is no
 * longer the number that was sent, and casting 1e300 to an integer is
 * undefined.  Each refusal names the field.
 */
static void
test_input_body_integers(void **state)
{
	static const struct {
		const char *given;
		const char *bad; /* NULL: accepted */
	} cases[] = {
		{ "{\"n\": 9007199254740992, \"m\": 5}", NULL },
		{ "{\"n\": -9007199254740992}", NULL },
		{ "{\"n\": 1e18}", "n" },
		{ "{\"n\": -1e18}", "n" },
		{ "{\"n\": 1e300}", "n" },
		{ "{\"n\": -1e300, \"m\": 1e300}", "n,m" },
		{ "{\"n\": 1e309}", "n" }, /* cJSON: infinity */
		{ "{\"n\": 1.5}", "n" },
		{ "{\"m\": 6}", "m" },
	};
	static const char cap[] =
	    "{\"name\": \"c\", \"kind\": \"write\", \"description\": "
	    "\"d\", \"input\": {\"n\": {\"type\": \"integer\"}, "
	    "\"m\": {\"type\": \"integer\", \"min\": 1, \"max\": 5}}, "
	    "\"steps\": [{\"method\": \"POST\", \"path\": \"/a\"}], "
	    "\"answer\": {\"mapping\": {\"a\": \"b\"}}}";
	struct sb_integration_result res = { 0 };
	char text[TEXT_MAX], err[SB_INTEGRATION_ERROR_MAX], names[64];
	struct sb_integrations *list = NULL;
	const struct sb_capability *c;
	cJSON *given, *out;

	(void)state;
	file_text(text, "ok", "", cap);
	assert_int_equal(sb_integrations_parse(text, strlen(text), "t",
	                     providers, &list, err, sizeof(err)),
	    SB_OK);
	c = sb_integration_capability(sb_integrations_find(list, "ok"), "c");
	assert_non_null(c);
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		assert_non_null(given = cJSON_Parse(cases[i].given));
		if (sb_capability_input(c, given, false, &out, &res) == SB_OK) {
			if (cases[i].bad != NULL)
				fail_msg("case %zu: accepted", i);
		} else {
			assert_string_equal(res.code, "invalid_input");
			bad_fields(&res, names, sizeof(names));
			if (cases[i].bad == NULL ||
			    strcmp(names, cases[i].bad) != 0)
				fail_msg("case %zu: named '%s'", i, names);
		}
		cJSON_Delete(out);
		cJSON_Delete(given);
		sb_integration_result_clear(&res);
	}
	sb_integrations_free(list);
}

static void
test_render(void **state)
{
	cJSON *in = cJSON_Parse(
	    "{\"user_id\": \"a b/c?d\", \"n\": 42, \"send_email\": false}");
	const struct sb_capability *del =
	    real_capability("okta", "delete_user");
	char out[64];
	cJSON *q;

	(void)state;
	assert_int_equal(
	    sb_capability_render_path("/u/{user_id}/x", in, out, sizeof(out)),
	    SB_OK);
	assert_string_equal(out, "/u/a%20b%2Fc%3Fd/x");
	assert_int_equal(
	    sb_capability_render_path("/n/{n}", in, out, sizeof(out)), SB_OK);
	assert_string_equal(out, "/n/42");
	assert_int_equal(
	    sb_capability_render_path("/u/{nosuch}", in, out, sizeof(out)),
	    SB_ERR_INVALID);
	assert_int_equal(
	    sb_capability_render_path("/u/{user_id", in, out, sizeof(out)),
	    SB_ERR_INVALID);
	assert_int_equal(sb_capability_render_path("/u/{user_id}", in, out, 8),
	    SB_ERR_TOO_LARGE);
	q = sb_capability_render_query(&del->steps[0], in);
	assert_string_equal(
	    cJSON_GetObjectItem(q, "sendEmail")->valuestring, "false");
	cJSON_Delete(q);
	cJSON_DeleteItemFromObject(in, "send_email");
	q = sb_capability_render_query(&del->steps[0], in);
	assert_null(cJSON_GetObjectItem(q, "sendEmail"));
	cJSON_Delete(q);
	cJSON_Delete(in);
}

static const struct {
	const char *capability;
	size_t step;
	long upstream;
	enum sb_outcome_kind kind;
	int status;
	const char *code;
} outcomes[] = {
	{ "delete_user", 0, 204, SB_OUTCOME_OK, 0, NULL },
	{ "delete_user", 0, 404, SB_OUTCOME_ERROR, 404, "not_found" },
	{ "delete_user", 1, 404, SB_OUTCOME_DONE, 0, NULL },
	{ "delete_user", 1, 204, SB_OUTCOME_OK, 0, NULL },
	{ "suspend_user", 0, 400, SB_OUTCOME_ERROR, 409, "conflict" },
	{ "suspend_user", 0, 200, SB_OUTCOME_OK, 0, NULL },
	{ "list_users", 0, 400, SB_OUTCOME_ERROR, 400, "invalid_request" },
	{ "list_users", 0, 401, SB_OUTCOME_ERROR, 502,
	    "upstream_unauthorized" },
	{ "list_users", 0, 429, SB_OUTCOME_ERROR, 429, "rate_limited" },
	{ "list_users", 0, 500, SB_OUTCOME_ERROR, 502, "upstream_error" },
	{ "list_users", 0, 302, SB_OUTCOME_ERROR, 502, "upstream_error" },
};

static void
test_outcomes(void **state)
{
	struct sb_outcome o;

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(outcomes); i++) {
		o = sb_step_outcome(
		    &real_capability("okta", outcomes[i].capability)
		         ->steps[outcomes[i].step],
		    outcomes[i].upstream);
		assert_int_equal(o.kind, outcomes[i].kind);
		if (o.kind != SB_OUTCOME_ERROR)
			continue;
		assert_int_equal(o.status, outcomes[i].status);
		assert_string_equal(o.code, outcomes[i].code);
	}
}

static void
test_error_body(void **state)
{
	static char okta_body[] =
	    "{\"errorCode\": \"E0000001\", \"errorSummary\": \"Api "
	    "validation failed: suspend\", \"errorLink\": \"E0000001\", "
	    "\"errorId\": \"oae1\", \"errorCauses\": [{\"errorSummary\": "
	    "\"Cannot suspend a user that is not active\"}]}";
	static char junk[] = "{\"errorCode\": \"E00";
	const struct sb_integration *okta = sb_integrations_find(real, "okta");
	struct sb_http_response resp = {
		.status = 400, .body = okta_body, .attempts = 1
	};
	struct sb_integration_result res = { 0 };
	struct sb_outcome conflict = { SB_OUTCOME_ERROR, 409, "conflict" };
	struct sb_outcome limited = { SB_OUTCOME_ERROR, 429, "rate_limited" };

	(void)state;
	resp.body_len = strlen(okta_body);
	sb_capability_error(okta, conflict, &resp, &res);
	assert_int_equal(res.status, 409);
	assert_string_equal(res.code, "conflict");
	assert_non_null(
	    strstr(res.message, "Cannot suspend a user that is not active"));
	assert_string_equal(res.detail_name, "upstream");
	assert_string_equal(
	    cJSON_GetObjectItem(res.body, "errorCode")->valuestring,
	    "E0000001");
	assert_string_equal(
	    cJSON_GetObjectItem(res.body, "errorId")->valuestring, "oae1");
	assert_null(cJSON_GetObjectItem(res.body, "errorLink"));
	assert_string_equal(res.retry_after, "");
	sb_integration_result_clear(&res);

	resp.status = 429;
	resp.header_count = 1;
	resp.headers[0].name = (char *)"Retry-After";
	resp.headers[0].value = (char *)"17";
	sb_capability_error(okta, limited, &resp, &res);
	assert_int_equal(res.status, 429);
	assert_string_equal(res.code, "rate_limited");
	assert_string_equal(res.retry_after, "17");
	sb_integration_result_clear(&res);

	/* No attempt made: the call path refused on a spent budget. */
	resp.attempts = 0;
	sb_capability_error(okta, limited, &resp, &res);
	assert_int_equal(res.status, 429);
	assert_string_equal(res.code, "provider_rate_limited");
	assert_string_equal(res.retry_after, "17");
	assert_null(res.body);
	sb_integration_result_clear(&res);
	resp.attempts = 1;

	resp.body = junk;
	resp.body_len = strlen(junk);
	sb_capability_error(okta, conflict, &resp, &res);
	assert_int_equal(res.status, 502);
	assert_string_equal(res.code, "upstream_malformed");
	assert_null(res.body);
	sb_integration_result_clear(&res);
}

static void
test_describe(void **state)
{
	cJSON *all = sb_integrations_describe(real);
	cJSON *one =
	    sb_integration_describe(sb_integrations_find(real, "okta"));
	const cJSON *cap, *f;

	(void)state;
	assert_int_equal(
	    cJSON_GetArraySize(cJSON_GetObjectItem(all, "integrations")), 2);
	cap = cJSON_GetArrayItem(cJSON_GetObjectItem(one, "capabilities"), 0);
	assert_string_equal(
	    cJSON_GetObjectItem(cap, "name")->valuestring, "list_users");
	assert_string_equal(
	    cJSON_GetObjectItem(cap, "kind")->valuestring, "read");
	f = cJSON_GetArrayItem(cJSON_GetObjectItem(cap, "input"), 0);
	assert_string_equal(
	    cJSON_GetObjectItem(f, "name")->valuestring, "limit");
	assert_int_equal(cJSON_GetObjectItem(f, "min")->valueint, 1);
	assert_int_equal(cJSON_GetObjectItem(f, "max")->valueint, 200);
	cJSON_Delete(all);
	cJSON_Delete(one);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_load_real),
		cmocka_unit_test(test_load_bad),
		cmocka_unit_test(test_load_other_faults),
		cmocka_unit_test(test_input),
		cmocka_unit_test(test_input_typed),
		cmocka_unit_test(test_input_body_integers),
		cmocka_unit_test(test_render),
		cmocka_unit_test(test_outcomes),
		cmocka_unit_test(test_error_body),
		cmocka_unit_test(test_describe),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
