/*
 * Unit tests for lib/connect/guard.c:
 * the connection guard answering one same 401 for every kind of refusal.
 * Requests have no FastCGI stream (fcgi NULL), so sb_response_send() only
 * records the status; the headers added before it stay in the request.
 * Each test gets a mkdtemp var directory with a migrated database and a
 * fresh keyring; run from the repository root.
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

#include "sb/connect/guard.h"
#include "support.h"

#define TEST_ARENA_MAX (1u << 20)

struct fixture {
	char dir[TEST_PATH_MAX];
	struct sb_ctx ctx;
	struct sb_arena arena;
	struct sb_connection a, b;
	char token_a[SB_CONNECTION_TOKEN_MAX];
	char token_b[SB_CONNECTION_TOKEN_MAX];
};

static enum sb_err
create(struct fixture *f, const char *provider, const char *credentials,
    struct sb_connection *conn, char token[SB_CONNECTION_TOKEN_MAX])
{
	cJSON *creds = cJSON_Parse(credentials);
	enum sb_err rc;

	rc = sb_connection_create(SB_CONNECTION_STORE(&f->ctx),
	    sb_providers_find(f->ctx.providers, provider), creds, NULL, NULL,
	    conn, token);
	cJSON_Delete(creds);
	return rc;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	sb_connection_clear(&f->a);
	sb_connection_clear(&f->b);
	sb_arena_clear(&f->arena);
	sb_context_clear(&f->ctx);
	test_tmpdir_remove(f->dir);
	free(f);
	return 0;
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	if (test_tmpdir_make(f->dir, sizeof(f->dir), "guard") != 0) {
		free(f);
		return -1;
	}
	*state = f;
	sb_arena_init(&f->arena, TEST_ARENA_MAX);
	f->ctx.config.sandbox_port = 8081;
	if (test_db_open_migrated(f->dir, &f->ctx.db) != SB_OK ||
	    test_ctx_open_providers(&f->ctx, f->dir) != SB_OK ||
	    create(f, "sandbox",
	        "{\"access_token\": \"a\", \"refresh_token\": \"r\"}", &f->a,
	        f->token_a) != SB_OK ||
	    create(f, "github",
	        "{\"access_token\": \"ghp_abcdefghijklmnopqrstuvwxyz\"}", &f->b,
	        f->token_b) != SB_OK) {
		teardown(state);
		return -1;
	}
	return 0;
}

/* A request as sb_request_read() leaves it, without FastCGI. */
static void
request_init(
    struct fixture *f, struct sb_request *req, const char *authorization)
{
	sb_arena_reset(&f->arena);
	memset(req, 0, sizeof(*req));
	req->arena = &f->arena;
	req->method = "GET";
	req->path = "/connections/x";
	req->raw_uri = req->path;
	req->query = "";
	req->request_id = "-";
	req->authorization = authorization;
}

static const char *
response_header(const struct sb_request *req, const char *name)
{
	for (size_t i = 0; i < req->header_count; i++)
		if (strcmp(req->headers[i].key, name) == 0)
			return req->headers[i].value;
	return NULL;
}

static void
test_guard(void **state)
{
	struct fixture *f = *state;
	char bearer_a[SB_CONNECTION_TOKEN_MAX + 16];
	char bearer_b[SB_CONNECTION_TOKEN_MAX + 16];
	char wrong[SB_CONNECTION_TOKEN_MAX + 16];
	char basic[SB_CONNECTION_TOKEN_MAX + 16];
	struct sb_connection conn;
	struct sb_request req;
	bool ok;

	snprintf(bearer_a, sizeof(bearer_a), "Bearer %s", f->token_a);
	snprintf(bearer_b, sizeof(bearer_b), "Bearer %s", f->token_b);
	snprintf(basic, sizeof(basic), "Basic %s", f->token_a);
	snprintf(wrong, sizeof(wrong), "%s", bearer_a);
	wrong[strlen(wrong) - 1] = wrong[strlen(wrong) - 1] == 'A' ? 'B' : 'A';

	struct {
		const char *authorization;
		const char *id;
		bool want;
		const char *want_id;
	} cases[] = {
		{ bearer_a, f->a.id, true, f->a.id },
		{ bearer_a, NULL, true, f->a.id }, /* /proxy: token names it */
		{ bearer_b, f->b.id, true, f->b.id },
		{ bearer_b, f->a.id, false, NULL }, /* another's token */
		{ bearer_a, f->b.id, false, NULL },
		{ bearer_a, "cn_00000000000000000000", false, NULL },
		{ wrong, f->a.id, false, NULL },
		{ wrong, NULL, false, NULL },
		{ basic, f->a.id, false, NULL },
		{ f->token_a, f->a.id, false, NULL }, /* no scheme */
		{ "Bearer ", f->a.id, false, NULL },
		{ "Bearer garbage", NULL, false, NULL },
		{ NULL, f->a.id, false, NULL },
		{ NULL, NULL, false, NULL },
	};

	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		request_init(f, &req, cases[i].authorization);
		memset(&conn, 0, sizeof(conn));
		ok = sb_guard_connection(&f->ctx, &req, cases[i].id, &conn);
		if (ok != cases[i].want)
			fail_msg("case %zu: guard said %d (status %d)", i, ok,
			    req.status);
		if (ok) {
			/* Nothing was answered: the handler goes on. */
			assert_int_equal(req.status, 0);
			assert_string_equal(conn.id, cases[i].want_id);
			assert_non_null(conn.credentials);
		} else {
			assert_int_equal(req.status, 401);
			assert_non_null(
			    response_header(&req, "WWW-Authenticate"));
			assert_string_equal(
			    response_header(&req, "WWW-Authenticate"),
			    "Bearer");
			assert_null(conn.credentials);
		}
		sb_connection_clear(&conn);
		sb_request_clear(&req);
	}
}

static void
test_guard_store_failure(void **state)
{
	struct fixture *f = *state;
	char bearer[SB_CONNECTION_TOKEN_MAX + 16];
	struct sb_connection conn = { 0 };
	struct sb_request req;

	/* The right token, but the sealed credentials no longer open: the
	 * token's digest still authenticates, and the connection comes back
	 * marked unreadable, so that it can be read, repaired or deleted. */
	snprintf(bearer, sizeof(bearer), "Bearer %s", f->token_a);
	assert_int_equal(sqlite3_exec(sb_db_handle(f->ctx.db),
	                     "UPDATE connections SET credentials = "
	                     "x'0100000000' WHERE provider = 'sandbox'",
	                     NULL, NULL, NULL),
	    SQLITE_OK);
	request_init(f, &req, bearer);
	assert_true(sb_guard_connection(&f->ctx, &req, f->a.id, &conn));
	assert_int_equal(req.status, 0);
	assert_true(conn.unreadable);
	assert_null(conn.credentials);
	sb_connection_clear(&conn);
	sb_request_clear(&req);

	/* A row the store cannot use (its provider is gone): that is the
	 * server's fault (500), not the caller's. */
	assert_int_equal(
	    sqlite3_exec(sb_db_handle(f->ctx.db),
	        "UPDATE connections SET provider = 'gone'", NULL, NULL, NULL),
	    SQLITE_OK);
	request_init(f, &req, bearer);
	assert_false(sb_guard_connection(&f->ctx, &req, f->a.id, &conn));
	assert_int_equal(req.status, 500);
	assert_null(response_header(&req, "WWW-Authenticate"));
	assert_null(conn.credentials);
	sb_request_clear(&req);

	/* A wrong token for that connection is still the plain 401. */
	request_init(f, &req, "Bearer cn_00000000000000000000.sbc_x");
	assert_false(sb_guard_connection(&f->ctx, &req, f->a.id, &conn));
	assert_int_equal(req.status, 401);
	sb_request_clear(&req);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_guard, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_guard_store_failure, setup, teardown),
	};

	return cmocka_run_group_tests_name("guard", tests, NULL, NULL);
}
