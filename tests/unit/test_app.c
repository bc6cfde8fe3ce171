/*
 * Unit tests for the request helpers of lib/app.c: sb_app_body() (content
 * type, JSON caps and validation mapped to 415/400/413), sb_app_defer()
 * and its cap, and sb_app_health() against a migrated temporary database.
 * Requests have no FastCGI side (req.fcgi NULL), so only the status a
 * helper sent is visible, not the body.  Run from the repository root.
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

#include "sb/app.h"
#include "sb/arena.h"
#include "sb/db.h"
#include "sb/request.h"
#include "sb/response.h"
#include "support.h"

#define TEST_ARENA_CAP (1u << 20)
#define TEST_DEPTH_MAX 4

static const struct sb_app test_app = { .name = "app-test" };

struct fixture {
	char dir[TEST_PATH_MAX]; /* "" unless setup_db made it */
	struct sb_ctx ctx;
	struct sb_arena arena;
	struct sb_request req;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	memset(&f->ctx, 0, sizeof(f->ctx));
	f->ctx.app = &test_app;
	f->ctx.config.json_depth_max = TEST_DEPTH_MAX;
	sb_arena_init(&f->arena, TEST_ARENA_CAP);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	sb_request_clear(&f->req);
	sb_db_close(f->ctx.db);
	test_tmpdir_remove(f->dir);
	sb_arena_clear(&f->arena);
	free(f);
	return 0;
}

/* As setup, with ctx.db a freshly migrated database in a temp dir. */
static int
setup_db(void **state)
{
	struct fixture *f;

	if (setup(state) != 0)
		return -1;
	f = *state;
	if (test_tmpdir_make(f->dir, sizeof(f->dir), "app") != 0 ||
	    test_db_open_migrated(f->dir, &f->ctx.db) != SB_OK) {
		teardown(state);
		return -1;
	}
	return 0;
}

/* A fresh request with body (NUL-terminated as sb_request_read makes it). */
static void
request_reset(struct fixture *f, const char *method, const char *content_type,
    const char *body, size_t len)
{
	sb_request_clear(&f->req);
	sb_arena_reset(&f->arena);
	memset(&f->req, 0, sizeof(f->req));
	f->req.arena = &f->arena;
	f->req.method = method;
	f->req.path = "/";
	f->req.request_id = "test";
	f->req.content_type = content_type;
	f->req.body = sb_arena_strndup(&f->arena, body, len);
	assert_non_null(f->req.body);
	f->req.body_len = len;
}

static const struct sb_field body_fields[] = {
	{ "name", SB_FIELD_STRING, true, 1, 16, NULL, NULL },
	{ "count", SB_FIELD_INT, false, 0, 10, NULL, NULL },
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
		got = sb_app_body(&f->ctx, &f->req,
		    c->validate ? body_fields : NULL,
		    c->validate ? sizeof(body_fields) / sizeof(body_fields[0])
		                : 0);
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
	got = sb_app_body(&f->ctx, &f->req, body_fields, 2);
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
	assert_null(sb_app_body(&f->ctx, &f->req, NULL, 0));
	assert_int_equal(f->req.status, 413);
}

static void
noop(struct sb_ctx *ctx, void *arg)
{
	(void)ctx;
	(void)arg;
}

static void
test_defer(void **state)
{
	struct fixture *f = *state;
	int args[SB_APP_DEFER_MAX + 1];

	for (int i = 0; i < SB_APP_DEFER_MAX; i++) {
		assert_int_equal(sb_app_defer(&f->ctx, noop, &args[i]), SB_OK);
		assert_int_equal(f->ctx.deferred_count, (size_t)i + 1);
	}
	assert_int_equal(sb_app_defer(&f->ctx, noop, &args[SB_APP_DEFER_MAX]),
	    SB_ERR_TOO_LARGE);
	assert_int_equal(f->ctx.deferred_count, SB_APP_DEFER_MAX);
	for (int i = 0; i < SB_APP_DEFER_MAX; i++) {
		assert_ptr_equal(f->ctx.deferred[i].fn, noop);
		assert_ptr_equal(f->ctx.deferred[i].arg, &args[i]);
	}
	/* Once the queue has run (count back to 0) it takes tasks again. */
	f->ctx.deferred_count = 0;
	assert_int_equal(sb_app_defer(&f->ctx, noop, NULL), SB_OK);
	assert_int_equal(f->ctx.deferred_count, 1);
}

static void
test_health_ok(void **state)
{
	struct fixture *f = *state;

	request_reset(f, "GET", NULL, "", 0);
	sb_app_health(&f->ctx, &f->req);
	assert_int_equal(f->req.status, 200);
	/* A second check reuses the cached statement. */
	request_reset(f, "GET", NULL, "", 0);
	sb_app_health(&f->ctx, &f->req);
	assert_int_equal(f->req.status, 200);
}

/* A responder without a database is healthy without a read. */
static void
test_health_no_db(void **state)
{
	struct fixture *f = *state;

	request_reset(f, "GET", NULL, "", 0);
	sb_app_health(&f->ctx, &f->req);
	assert_int_equal(f->req.status, 200);
}

/* When the read fails the answer is 503. */
static void
test_health_unreadable(void **state)
{
	struct fixture *f = *state;

	request_reset(f, "GET", NULL, "", 0);
	sb_app_health(&f->ctx, &f->req);
	assert_int_equal(f->req.status, 200);
	assert_int_equal(sqlite3_exec(sb_db_handle(f->ctx.db),
	                     "DROP TABLE schema_migrations", NULL, NULL, NULL),
	    SQLITE_OK);
	request_reset(f, "GET", NULL, "", 0);
	sb_app_health(&f->ctx, &f->req);
	assert_int_equal(f->req.status, 503);
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
		cmocka_unit_test_setup_teardown(test_defer, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_health_ok, setup_db, teardown),
		cmocka_unit_test_setup_teardown(
		    test_health_no_db, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_health_unreadable, setup_db, teardown),
	};

	return cmocka_run_group_tests_name("app", tests, NULL, NULL);
}
