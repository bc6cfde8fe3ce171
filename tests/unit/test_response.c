/*
 * Unit tests for lib/core/response.c with no FastCGI request behind it
 * (req.fcgi NULL): sb_response_send() then only records the status, so
 * these tests check header bookkeeping, the status recorded, the refusal of
 * a second response, the Switchboard-Error marker of error answers and the
 * reason table.  The bodies (both error shapes)
 * are not visible here; the end-to-end suite reads them through nginx.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sb/core/arena.h"
#include "sb/core/request.h"
#include "sb/core/response.h"

#define TEST_ARENA_CAP (64u * 1024)

struct fixture {
	struct sb_arena arena;
	struct sb_request req;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	sb_arena_init(&f->arena, TEST_ARENA_CAP);
	f->req.arena = &f->arena;
	f->req.method = "GET";
	f->req.path = "/";
	f->req.request_id = "test";
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	sb_request_clear(&f->req);
	sb_arena_clear(&f->arena);
	free(f);
	return 0;
}

struct header_case {
	const char *name;
	const char *value;
	enum sb_err rc;
};

static void
test_header_validation(void **state)
{
	static const struct header_case cases[] = {
		{ "X-Ok", "value", SB_OK },
		{ "Location", "https://h.example:8443/a?b=c", SB_OK },
		{ "X-Empty", "", SB_OK },
		{ "X-Bad\r", "v", SB_ERR_INVALID },
		{ "X-Bad\n", "v", SB_ERR_INVALID },
		{ "X\r\nInjected", "v", SB_ERR_INVALID },
		{ "X-Colon:", "v", SB_ERR_INVALID },
		{ "Set-Cookie: a", "b", SB_ERR_INVALID },
		{ "X-Val", "a\r\nSet-Cookie: x=1", SB_ERR_INVALID },
		{ "X-Val", "a\nb", SB_ERR_INVALID },
		{ "X-Val", "a\rb", SB_ERR_INVALID },
		{ NULL, "v", SB_ERR_INVALID },
		{ "X-Null", NULL, SB_ERR_INVALID },
	};
	struct fixture *f = *state;
	size_t accepted = 0;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (sb_response_header(
		        &f->req, cases[i].name, cases[i].value) != cases[i].rc)
			fail_msg("case %zu: wrong result", i);
		if (cases[i].rc != SB_OK)
			continue;
		accepted++;
		assert_int_equal(f->req.header_count, accepted);
		assert_string_equal(
		    f->req.headers[accepted - 1].key, cases[i].name);
		assert_string_equal(
		    f->req.headers[accepted - 1].value, cases[i].value);
		/* Copied into the arena, not borrowed. */
		assert_ptr_not_equal(
		    f->req.headers[accepted - 1].value, cases[i].value);
	}
	assert_int_equal(f->req.header_count, accepted);
}

static void
test_header_cap(void **state)
{
	struct fixture *f = *state;
	char name[32];

	for (int i = 0; i < SB_REQUEST_HEADERS_MAX; i++) {
		snprintf(name, sizeof(name), "X-H%d", i);
		assert_int_equal(sb_response_header(&f->req, name, "v"), SB_OK);
	}
	assert_int_equal(f->req.header_count, SB_REQUEST_HEADERS_MAX);
	assert_int_equal(sb_response_header(&f->req, "X-One-Too-Many", "v"),
	    SB_ERR_TOO_LARGE);
	assert_int_equal(f->req.header_count, SB_REQUEST_HEADERS_MAX);
	assert_string_equal(
	    f->req.headers[SB_REQUEST_HEADERS_MAX - 1].key, "X-H31");
}

/* A header that does not fit the arena is refused and not counted. */
static void
test_header_arena_full(void **state)
{
	struct fixture *f = *state;
	struct sb_arena small;

	sb_arena_init(&small, 16);
	f->req.arena = &small;
	assert_int_equal(sb_response_header(&f->req, "X-Long-Name",
	                     "and a "
	                     "long "
	                     "value"),
	    SB_ERR_NOMEM);
	assert_int_equal(f->req.header_count, 0);
	sb_arena_clear(&small);
	f->req.arena = &f->arena;
}

struct send_case {
	int status;
	const char *content_type;
	const char *body;
};

/* The first send records its status; any later one is refused and leaves
 * the status alone. */
static void
test_send_once(void **state)
{
	static const struct send_case cases[] = {
		{ 200, "application/json", "{}" },
		{ 201, "application/json", "{\"id\":1}" },
		{ 204, NULL, NULL },
		{ 404, "text/plain", "no" },
		{ 503, "application/json", "{}" },
	};
	struct fixture *f = *state;
	size_t len;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		f->req.status = 0;
		len = cases[i].body != NULL ? strlen(cases[i].body) : 0;
		assert_int_equal(sb_response_send(&f->req, cases[i].status,
		                     cases[i].content_type, cases[i].body, len),
		    SB_OK);
		assert_int_equal(f->req.status, cases[i].status);
		assert_int_equal(
		    sb_response_send(&f->req, 500, "text/plain", "again", 5),
		    SB_ERR_CONFLICT);
		assert_int_equal(f->req.status, cases[i].status);
		assert_int_equal(
		    sb_response_no_content(&f->req), SB_ERR_CONFLICT);
		assert_int_equal(
		    sb_response_error(&f->req, 500, "internal", "late"),
		    SB_ERR_CONFLICT);
		assert_int_equal(f->req.status, cases[i].status);
	}
}

static void
test_json_and_no_content(void **state)
{
	struct fixture *f = *state;
	cJSON *j = cJSON_CreateObject();

	assert_non_null(j);
	assert_non_null(cJSON_AddStringToObject(j, "status", "ok"));
	assert_int_equal(sb_response_json(&f->req, 201, j), SB_OK);
	assert_int_equal(f->req.status, 201);
	assert_int_equal(sb_response_json(&f->req, 200, j), SB_ERR_CONFLICT);
	cJSON_Delete(j);

	f->req.status = 0;
	assert_int_equal(sb_response_no_content(&f->req), SB_OK);
	assert_int_equal(f->req.status, 204);
}

struct error_case {
	int style;
	int status;
	const char *code;
};

/* Both error shapes record the status given, known to the reason table
 * or not. */
static void
test_error_styles(void **state)
{
	static const struct error_case cases[] = {
		{ SB_RESPONSE_STYLE_CODE, 400, "invalid_request" },
		{ SB_RESPONSE_STYLE_CODE, 404, "not_found" },
		{ SB_RESPONSE_STYLE_CODE, 418, "teapot" },
		{ SB_RESPONSE_STYLE_NAME, 401, "unauthorized" },
		{ SB_RESPONSE_STYLE_NAME, 409, "conflict" },
		{ SB_RESPONSE_STYLE_NAME, 418, "teapot" },
		{ SB_RESPONSE_STYLE_NAME, 503, "unavailable" },
	};
	struct fixture *f = *state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		f->req.status = 0;
		f->req.error_style = cases[i].style;
		assert_int_equal(sb_response_error(&f->req, cases[i].status,
		                     cases[i].code, "a message"),
		    SB_OK);
		assert_int_equal(f->req.status, cases[i].status);
		f->req.status = 0;
		assert_int_equal(sb_response_errorf(&f->req, cases[i].status,
		                     cases[i].code, "%s %d", "formatted", 7),
		    SB_OK);
		assert_int_equal(f->req.status, cases[i].status);
	}
}

/* The value of the response header name, or NULL; fails on two of it. */
static const char *
header_value(const struct sb_request *req, const char *name)
{
	const char *found = NULL;

	for (size_t i = 0; i < req->header_count; i++) {
		if (strcmp(req->headers[i].key, name) != 0)
			continue;
		if (found != NULL)
			fail_msg("header %s set twice", name);
		found = req->headers[i].value;
	}
	return found;
}

/* Every error answer, in either shape, names its code in
 * Switchboard-Error, once; other answers carry no such header. */
static void
test_error_marker(void **state)
{
	static const struct error_case cases[] = {
		{ SB_RESPONSE_STYLE_CODE, 401, "unauthorized" },
		{ SB_RESPONSE_STYLE_CODE, 503, "busy" },
		{ SB_RESPONSE_STYLE_NAME, 404, "not_found" },
	};
	struct fixture *f = *state;
	cJSON *j = cJSON_CreateObject();

	assert_non_null(j);
	assert_int_equal(sb_response_json(&f->req, 503, j), SB_OK);
	assert_null(header_value(&f->req, "Switchboard-Error"));
	cJSON_Delete(j);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		f->req.status = 0;
		f->req.error_style = cases[i].style;
		assert_int_equal(sb_response_error(&f->req, cases[i].status,
		                     cases[i].code, "a message"),
		    SB_OK);
		/* Replaced, not added, by the next error on one request. */
		assert_string_equal(
		    header_value(&f->req, "Switchboard-Error"), cases[i].code);
	}
}

struct store_case {
	enum sb_err rc;
	int status;
	const char *code;
	const char *retry_after; /* NULL: none */
};

/*
 * A store's failure is answered by its kind: a lock and a store that
 * cannot write are 503s with their own codes and Retry-After, anything
 * else a 500 without one.
 */
static void
test_store_failed(void **state)
{
	static const struct store_case cases[] = {
		{ SB_ERR_BUSY, 503, "busy", "1" },
		{ SB_ERR_STORAGE, 503, "storage_unavailable",
		    SB_RESPONSE_STORAGE_RETRY_S },
		{ SB_ERR_DB, 500, "internal", NULL },
		{ SB_ERR_NOMEM, 500, "internal", NULL },
	};
	struct fixture *f = *state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		f->req.status = 0;
		f->req.header_count = 0;
		assert_int_equal(sb_response_store_failed(&f->req, cases[i].rc,
		                     "the thing could not be stored"),
		    SB_OK);
		assert_int_equal(f->req.status, cases[i].status);
		assert_string_equal(
		    header_value(&f->req, "Switchboard-Error"), cases[i].code);
		if (cases[i].retry_after == NULL)
			assert_null(header_value(&f->req, "Retry-After"));
		else
			assert_string_equal(
			    header_value(&f->req, "Retry-After"),
			    cases[i].retry_after);
	}
}

/* With the header table full the error is still answered, unmarked. */
static void
test_error_marker_table_full(void **state)
{
	struct fixture *f = *state;
	char name[32];

	for (int i = 0; i < SB_REQUEST_HEADERS_MAX; i++) {
		snprintf(name, sizeof(name), "X-H%d", i);
		assert_int_equal(sb_response_header(&f->req, name, "v"), SB_OK);
	}
	assert_int_equal(
	    sb_response_error(&f->req, 400, "invalid_request", "m"), SB_OK);
	assert_int_equal(f->req.status, 400);
	assert_null(header_value(&f->req, "Switchboard-Error"));
}

/* A message longer than the formatting buffer is cut, not refused. */
static void
test_errorf_long_message(void **state)
{
	struct fixture *f = *state;
	static char big[4096];

	memset(big, 'm', sizeof(big) - 1);
	assert_int_equal(
	    sb_response_errorf(&f->req, 400, "invalid_request", "%s", big),
	    SB_OK);
	assert_int_equal(f->req.status, 400);
}

struct reason_case {
	int status;
	const char *reason;
};

static void
test_reason(void **state)
{
	static const struct reason_case cases[] = {
		{ 200, "OK" },
		{ 201, "Created" },
		{ 202, "Accepted" },
		{ 204, "No Content" },
		/* passed-through redirects keep their phrase (issue 8 §7) */
		{ 301, "Moved Permanently" },
		{ 302, "Found" },
		{ 303, "See Other" },
		{ 304, "Not Modified" },
		{ 307, "Temporary Redirect" },
		{ 308, "Permanent Redirect" },
		{ 400, "Bad Request" },
		{ 401, "Unauthorized" },
		{ 403, "Forbidden" },
		{ 404, "Not Found" },
		{ 405, "Method Not Allowed" },
		{ 409, "Conflict" },
		{ 413, "Payload Too Large" },
		{ 415, "Unsupported Media Type" },
		{ 422, "Unprocessable Entity" },
		{ 429, "Too Many Requests" },
		{ 500, "Internal Server Error" },
		{ 502, "Bad Gateway" },
		{ 503, "Service Unavailable" },
		{ 504, "Gateway Timeout" },
		{ 418, "Unknown" },
		{ 0, "Unknown" },
		{ -1, "Unknown" },
		{ 999, "Unknown" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_string_equal(
		    sb_response_reason(cases[i].status), cases[i].reason);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_header_validation, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_header_cap, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_header_arena_full, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_send_once, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_json_and_no_content, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_error_styles, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_errorf_long_message, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_error_marker, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_error_marker_table_full, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_store_failed, setup, teardown),
		cmocka_unit_test(test_reason),
	};

	return cmocka_run_group_tests_name("response", tests, NULL, NULL);
}
