/*
 * Unit tests for lib/core/body.c: sb_body_json() (content type, JSON caps
 * and validation mapped to 415/400/413, and the values handed back by the
 * field table's index).  Requests have no FastCGI side (req.fcgi NULL), so
 * only the status a helper sent is visible, not the body.
 */
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

#include "sb/core/arena.h"
#include "sb/core/body.h"
#include "sb/core/request.h"
#include "sb/core/response.h"
#include "support.h"

#define TEST_ARENA_CAP (1u << 20)
#define TEST_DEPTH_MAX 4

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

/* A fresh request with body, under the test's depth cap. */
static void
request_reset(struct fixture *f, const char *method, const char *content_type,
    const char *body, size_t len)
{
	test_request_make(&f->req, &f->arena, method, content_type, body, len);
	f->req.json_depth_max = TEST_DEPTH_MAX;
}

static const struct sb_field body_fields[] = {
	{ .name = "name",
	    .type = SB_FIELD_STRING,
	    .required = true,
	    .min = 1,
	    .max = 16 },
	{ .name = "count", .type = SB_FIELD_INT, .max = 10 },
};

struct body_case {
	const char *content_type;
	const char *body;
	bool validate;
	int status; /* 0: accepted, nothing sent */
};

static void
test_body(void **state)
{
	static const struct body_case cases[] = {
		{ "application/json", "{\"name\":\"x\"}", true, 0 },
		{ "application/json; charset=utf-8", "{\"name\":\"x\"}", true,
		    0 },
		{ "Application/JSON", "{\"name\":\"x\",\"count\":3}", true, 0 },
		{ NULL, "{\"name\":\"x\"}", true, 0 },
		{ "application/json", "  {\"name\":\"x\"}\n", true, 0 },
		{ "text/plain", "{\"name\":\"x\"}", true, 415 },
		{ "application/jsonx", "{\"name\":\"x\"}", true, 415 },
		{ "application/x-www-form-urlencoded", "name=x", true, 415 },
		{ "", "{\"name\":\"x\"}", true, 415 },
		/* An empty body is not JSON whatever its type says. */
		{ "text/plain", "", true, 400 },
		{ "application/json", "", true, 400 },
		{ "application/json", "{", true, 400 },
		{ "application/json", "{\"name\":\"x\"} x", true, 400 },
		{ "application/json", "{'name':'x'}", true, 400 },
		{ "application/json", "[[[[[]]]]]", false, 413 },
		{ "application/json", "{\"a\":{\"b\":{\"c\":{\"d\":1}}}}",
		    false, 413 },
		{ "application/json", "[[[[]]]]", false, 0 },
		{ "application/json", "{\"name\":1}", true, 400 },
		{ "application/json", "{}", true, 400 },
		{ "application/json", "{\"name\":\"x\",\"other\":1}", true,
		    400 },
		{ "application/json", "{\"name\":\"x\",\"count\":11}", true,
		    400 },
		{ "application/json", "[1,2]", true, 400 },
		/* Without a table any JSON value is accepted. */
		{ "application/json", "[1,2]", false, 0 },
		{ "application/json", "\"text\"", false, 0 },
	};
	struct fixture *f = *state;
	cJSON *got;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct body_case *c = &cases[i];

		request_reset(
		    f, "POST", c->content_type, c->body, strlen(c->body));
		got = sb_body_json(&f->req, c->validate ? body_fields : NULL,
		    c->validate ? sizeof(body_fields) / sizeof(body_fields[0])
		                : 0,
		    NULL);
		if (f->req.status != c->status)
			fail_msg("case %zu (%s): status %d, want %d", i,
			    c->body, f->req.status, c->status);
		if (c->status == 0) {
			assert_non_null(got);
			assert_ptr_equal(got, f->req.json);
		} else {
			assert_null(got);
		}
	}
}

/* The object returned is the parsed body, owned by the request. */
static void
test_body_value(void **state)
{
	struct fixture *f = *state;
	const char *text = "{\"name\":\"widget\",\"count\":7}";
	cJSON *got;

	request_reset(f, "POST", "application/json", text, strlen(text));
	got = sb_body_json(&f->req, body_fields, 2, NULL);
	assert_non_null(got);
	assert_string_equal(
	    cJSON_GetObjectItemCaseSensitive(got, "name")->valuestring,
	    "widget");
	assert_int_equal(
	    cJSON_GetObjectItemCaseSensitive(got, "count")->valueint, 7);
	assert_int_equal(f->req.status, 0);
}

/* Past SB_REQUEST_JSON_ITEMS_MAX values is a 413 like the depth cap. */
static void
test_body_items_cap(void **state)
{
	struct fixture *f = *state;
	size_t n = SB_REQUEST_JSON_ITEMS_MAX + 1, off = 0;
	char *text = malloc(2 * n + 2);

	assert_non_null(text);
	text[off++] = '[';
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			text[off++] = ',';
		text[off++] = '1';
	}
	text[off++] = ']';
	text[off] = '\0';
	request_reset(f, "POST", "application/json", text, off);
	free(text);
	assert_null(sb_body_json(&f->req, NULL, 0, NULL));
	assert_int_equal(f->req.status, 413);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_body, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_body_value, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_body_items_cap, setup, teardown),
	};

	return cmocka_run_group_tests_name("body", tests, NULL, NULL);
}
