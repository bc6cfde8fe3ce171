/*
 * Unit tests for lib/core/route.c over one route table with literal and ":name"
 * segments: which row matches, the parameters it captures, 404 against 405
 * with the Allow text, and sb_route_dispatch() running handlers and
 * answering for them (req.fcgi is NULL, so only statuses are recorded).
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

#include "sb/runtime/context.h"
#include "sb/core/arena.h"
#include "sb/core/request.h"
#include "sb/core/response.h"
#include "sb/core/route.h"

#define TEST_ARENA_CAP (64u * 1024)

/* What the last handler saw. */
static struct {
	int calls;
	const char *which;
	const char *id;
} seen;

static void
h_list(struct sb_ctx *ctx, struct sb_request *req)
{
	(void)ctx;
	seen.calls++;
	seen.which = "list";
	sb_response_send(req, 200, "application/json", "[]", 2);
}

static void
h_create(struct sb_ctx *ctx, struct sb_request *req)
{
	(void)ctx;
	seen.calls++;
	seen.which = "create";
	sb_response_send(req, 201, "application/json", "{}", 2);
}

static void
h_get(struct sb_ctx *ctx, struct sb_request *req)
{
	(void)ctx;
	seen.calls++;
	seen.which = "get";
	seen.id = sb_request_param(req, "id");
	sb_response_send(req, 200, "application/json", "{}", 2);
}

static void
h_conflict(struct sb_ctx *ctx, struct sb_request *req)
{
	(void)ctx;
	seen.calls++;
	seen.which = "conflict";
	sb_response_error(req, 409, "conflict", "busy");
}

/* Forgets to answer. */
static void
h_silent(struct sb_ctx *ctx, struct sb_request *req)
{
	(void)ctx;
	(void)req;
	seen.calls++;
	seen.which = "silent";
}

enum {
	R_LIST,
	R_CREATE,
	R_GET,
	R_DELETE,
	R_PART,
	R_SPECIAL,
	R_ROOT,
	R_SILENT,
	R_EIGHT,
	R_NINE,
	R__MAX
};

static const struct sb_route routes[R__MAX] = {
	[R_LIST] = { "GET", "/items", h_list },
	[R_CREATE] = { "POST", "/items", h_create },
	[R_GET] = { "GET", "/items/:id", h_get },
	[R_DELETE] = { "DELETE", "/items/:id", h_conflict },
	[R_PART] = { "GET", "/items/:id/parts/:part", h_get },
	[R_SPECIAL] = { "GET", "/items/special", h_list },
	[R_ROOT] = { "GET", "/", h_list },
	[R_SILENT] = { "PUT", "/silent", h_silent },
	[R_EIGHT] = { "GET", "/p/:a/:b/:c/:d/:e/:f/:g/:h", h_list },
	[R_NINE] = { "GET", "/q/:a/:b/:c/:d/:e/:f/:g/:h/:i", h_list },
};

struct fixture {
	struct sb_arena arena;
	struct sb_request req;
};

static void
request_reset(struct fixture *f, const char *method, const char *path)
{
	sb_arena_reset(&f->arena);
	memset(&f->req, 0, sizeof(f->req));
	f->req.arena = &f->arena;
	f->req.method = method;
	f->req.path = path;
	f->req.request_id = "test";
	memset(&seen, 0, sizeof(seen));
}

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

struct match_case {
	const char *method;
	const char *path;
	enum sb_route_result result;
	int route; /* index on FOUND */
	const char *allow; /* on METHOD_NOT_ALLOWED */
	const char *params; /* "k=v,k=v" on FOUND, "" for none */
};

static void
test_match(void **state)
{
	static const struct match_case cases[] = {
		{ "GET", "/items", SB_ROUTE_FOUND, R_LIST, NULL, "" },
		{ "HEAD", "/items", SB_ROUTE_FOUND, R_LIST, NULL, "" },
		{ "POST", "/items", SB_ROUTE_FOUND, R_CREATE, NULL, "" },
		{ "PUT", "/items", SB_ROUTE_METHOD_NOT_ALLOWED, 0, "GET, POST",
		    NULL },
		{ "get", "/items", SB_ROUTE_METHOD_NOT_ALLOWED, 0, "GET, POST",
		    NULL },
		{ "GET", "/items/42", SB_ROUTE_FOUND, R_GET, NULL, "id=42" },
		{ "HEAD", "/items/42", SB_ROUTE_FOUND, R_GET, NULL, "id=42" },
		{ "DELETE", "/items/x-1", SB_ROUTE_FOUND, R_DELETE, NULL,
		    "id=x-1" },
		{ "POST", "/items/42", SB_ROUTE_METHOD_NOT_ALLOWED, 0,
		    "GET, DELETE", NULL },
		/* Two GET rows match: GET is listed once. */
		{ "POST", "/items/special", SB_ROUTE_METHOD_NOT_ALLOWED, 0,
		    "GET, DELETE", NULL },
		/* The first matching row wins. */
		{ "GET", "/items/special", SB_ROUTE_FOUND, R_GET, NULL,
		    "id=special" },
		{ "GET", "/items/7/parts/9", SB_ROUTE_FOUND, R_PART, NULL,
		    "id=7,part=9" },
		{ "GET", "/", SB_ROUTE_FOUND, R_ROOT, NULL, "" },
		{ "PUT", "/silent", SB_ROUTE_FOUND, R_SILENT, NULL, "" },
		{ "GET", "/silent", SB_ROUTE_METHOD_NOT_ALLOWED, 0, "PUT",
		    NULL },
		{ "GET", "/items/", SB_ROUTE_NOT_FOUND, 0, NULL, NULL },
		{ "GET", "/items/42/", SB_ROUTE_NOT_FOUND, 0, NULL, NULL },
		{ "GET", "/items//parts/9", SB_ROUTE_NOT_FOUND, 0, NULL, NULL },
		{ "GET", "/items/7/parts/", SB_ROUTE_NOT_FOUND, 0, NULL, NULL },
		{ "GET", "/items/7/parts", SB_ROUTE_NOT_FOUND, 0, NULL, NULL },
		{ "GET", "//items", SB_ROUTE_NOT_FOUND, 0, NULL, NULL },
		{ "GET", "/items//", SB_ROUTE_NOT_FOUND, 0, NULL, NULL },
		{ "GET", "/ITEMS", SB_ROUTE_NOT_FOUND, 0, NULL, NULL },
		{ "GET", "/item", SB_ROUTE_NOT_FOUND, 0, NULL, NULL },
		{ "GET", "/itemsx", SB_ROUTE_NOT_FOUND, 0, NULL, NULL },
		{ "GET", "/other", SB_ROUTE_NOT_FOUND, 0, NULL, NULL },
		{ "GET", "", SB_ROUTE_NOT_FOUND, 0, NULL, NULL },
		{ "GET", "items", SB_ROUTE_NOT_FOUND, 0, NULL, NULL },
		{ "GET", "/p/1/2/3/4/5/6/7/8", SB_ROUTE_FOUND, R_EIGHT, NULL,
		    "a=1,b=2,c=3,d=4,e=5,f=6,g=7,h=8" },
		/* A ninth parameter has no slot: the row never matches. */
		{ "GET", "/q/1/2/3/4/5/6/7/8/9", SB_ROUTE_NOT_FOUND, 0, NULL,
		    NULL },
	};
	struct fixture *f = *state;
	const struct sb_route *out;
	char allow[SB_ROUTE_ALLOW_MAX], want[256], *pair, *next, *eq;
	enum sb_route_result got;
	size_t n;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct match_case *c = &cases[i];

		request_reset(f, c->method, c->path);
		out = &routes[0];
		got = sb_route_match(routes, R__MAX, c->method, c->path,
		    &f->req, &out, allow, sizeof(allow));
		if (got != c->result)
			fail_msg("case %zu (%s %s): result %d, want %d", i,
			    c->method, c->path, got, c->result);
		if (got != SB_ROUTE_FOUND) {
			assert_null(out);
			assert_int_equal(f->req.param_count, 0);
			if (c->allow != NULL)
				assert_string_equal(allow, c->allow);
			continue;
		}
		assert_ptr_equal(out, &routes[c->route]);
		/* Compare params in order against "k=v,k=v". */
		snprintf(want, sizeof(want), "%s", c->params);
		n = 0;
		for (pair = want; *pair != '\0'; pair = next) {
			next = pair + strcspn(pair, ",");
			if (*next == ',')
				*next++ = '\0';
			eq = strchr(pair, '=');
			assert_non_null(eq);
			*eq = '\0';
			assert_true(n < f->req.param_count);
			assert_string_equal(f->req.params[n].key, pair);
			assert_string_equal(f->req.params[n].value, eq + 1);
			assert_string_equal(
			    sb_request_param(&f->req, pair), eq + 1);
			n++;
		}
		assert_int_equal(f->req.param_count, n);
	}
}

/* An empty table finds nothing; a zero-sized allow buffer is left alone. */
static void
test_match_edges(void **state)
{
	struct fixture *f = *state;
	const struct sb_route *out = routes;
	char allow[4] = "xyz";

	request_reset(f, "GET", "/items");
	assert_int_equal(sb_route_match(routes, 0, "GET", "/items", &f->req,
	                     &out, allow, sizeof(allow)),
	    SB_ROUTE_NOT_FOUND);
	assert_null(out);
	assert_string_equal(allow, "");
	memcpy(allow, "xyz", 4);
	assert_int_equal(sb_route_match(routes, R__MAX, "GET", "/items",
	                     &f->req, &out, allow, 0),
	    SB_ROUTE_FOUND);
	assert_string_equal(allow, "xyz");
}

/* Looks up a response header the dispatcher added. */
static const char *
header(const struct sb_request *req, const char *name)
{
	for (size_t i = 0; i < req->header_count; i++)
		if (strcmp(req->headers[i].key, name) == 0)
			return req->headers[i].value;
	return NULL;
}

struct dispatch_case {
	const char *method;
	const char *path;
	int status;
	int calls;
	const char *which; /* handler run, or NULL */
	const char *allow; /* Allow header, or NULL for none */
};

static void
test_dispatch(void **state)
{
	static const struct dispatch_case cases[] = {
		{ "GET", "/items", 200, 1, "list", NULL },
		{ "HEAD", "/items", 200, 1, "list", NULL },
		{ "POST", "/items", 201, 1, "create", NULL },
		{ "GET", "/items/5", 200, 1, "get", NULL },
		{ "DELETE", "/items/5", 409, 1, "conflict", NULL },
		{ "PUT", "/items", 405, 0, NULL, "GET, POST" },
		{ "PATCH", "/items/5", 405, 0, NULL, "GET, DELETE" },
		{ "GET", "/nope", 404, 0, NULL, NULL },
		{ "GET", "/items/", 404, 0, NULL, NULL },
		{ "PUT", "/silent", 500, 1, "silent", NULL },
	};
	static const int styles[] = { SB_RESPONSE_STYLE_CODE,
		SB_RESPONSE_STYLE_NAME };
	struct fixture *f = *state;

	for (size_t s = 0; s < sizeof(styles) / sizeof(styles[0]); s++) {
		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			const struct dispatch_case *c = &cases[i];
			const char *allow;

			request_reset(f, c->method, c->path);
			f->req.error_style = styles[s];
			sb_route_dispatch(NULL, routes, R__MAX, &f->req);
			if (f->req.status != c->status)
				fail_msg("case %zu (%s %s): status %d, want %d",
				    i, c->method, c->path, f->req.status,
				    c->status);
			assert_int_equal(seen.calls, c->calls);
			if (c->which != NULL)
				assert_string_equal(seen.which, c->which);
			allow = header(&f->req, "Allow");
			if (c->allow == NULL)
				assert_null(allow);
			else
				assert_string_equal(allow, c->allow);
		}
	}
}

/* The handler sees its path parameter. */
static void
test_dispatch_params(void **state)
{
	struct fixture *f = *state;

	request_reset(f, "GET", "/items/abc");
	sb_route_dispatch(NULL, routes, R__MAX, &f->req);
	assert_int_equal(f->req.status, 200);
	assert_non_null(seen.id);
	assert_string_equal(seen.id, "abc");
}

/* With a context the silent handler's 500 is logged under the app name. */
static void
test_dispatch_silent_with_ctx(void **state)
{
	static const struct sb_app app = { .name = "route-test" };
	struct fixture *f = *state;
	struct sb_ctx *ctx = calloc(1, sizeof(*ctx));

	assert_non_null(ctx);
	ctx->app = &app;
	request_reset(f, "PUT", "/silent");
	sb_route_dispatch(ctx, routes, R__MAX, &f->req);
	assert_int_equal(f->req.status, 500);
	assert_int_equal(seen.calls, 1);
	free(ctx);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_match, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_match_edges, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dispatch, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_dispatch_params, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_dispatch_silent_with_ctx, setup, teardown),
	};

	return cmocka_run_group_tests_name("route", tests, NULL, NULL);
}
