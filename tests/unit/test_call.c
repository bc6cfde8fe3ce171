/*
 * Unit tests for lib/connect/call.c: which caller headers are refused and which
 * provider headers are passed back (table-driven), and the refusals of
 * sb_call_perform() that must happen before anything is sent: a connection
 * that needs re-authorisation, a path, header or query that could change
 * where the request goes.  The connections use the sandbox provider with
 * its port set to 1 on 127.0.0.1, so anything actually sent fails with
 * SB_ERR_UPSTREAM (connection refused) and resp.attempts counts it; a
 * refusal is told apart by its result and by no attempt made.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "sb/connect/call.h"
#include "sb/core/deadline.h"
#include "sb/core/owner.h"
#include "support.h"

#define REFRESH_TOKEN "PLAIN-refresh-31337"

/*
 * A migrated database, a fresh keyring, the providers and an HTTP client
 * whose single attempt to the sandbox at 127.0.0.1:1 is refused.
 */
static int
setup(void **state)
{
	static const struct sb_http_limits limits = {
		.connect_timeout_ms = 500,
		.total_timeout_ms = 1000,
		.response_max = 64 * 1024,
		.max_attempts = 1,
		.backoff_base_ms = 0,
		.backoff_cap_ms = 0,
	};
	struct test_fixture *f;

	if (test_fixture_setup(state) != 0)
		return -1;
	f = *state;
	/* The sandbox provider's URLs become http://127.0.0.1:1/... */
	f->ctx.config.sandbox_port = 1;
	snprintf(f->ctx.config.allowed_hosts,
	    sizeof(f->ctx.config.allowed_hosts), "127.0.0.1:1");
	if (test_ctx_open_providers(&f->ctx, f->dir) != SB_OK ||
	    sb_http_global_init() != SB_OK ||
	    sb_http_new(&limits, &f->ctx.http) != SB_OK) {
		test_fixture_teardown(state);
		return -1;
	}
	return 0;
}

/* A sandbox (OAuth2) connection; expires_at 0 leaves the expiry unknown. */
static void
create(struct test_fixture *f, int64_t expires_at, struct sb_connection *conn)
{
	char text[256], expiry[64] = "", token[SB_CONNECTION_TOKEN_MAX];
	cJSON *creds;

	if (expires_at > 0)
		snprintf(expiry, sizeof(expiry), ", \"expires_at\": %lld",
		    (long long)expires_at);
	snprintf(text, sizeof(text),
	    "{\"access_token\": \"access\", \"refresh_token\": \"" REFRESH_TOKEN
	    "\", \"client_id\": \"c\", \"client_secret\": \"s\"%s}",
	    expiry);
	assert_non_null(creds = cJSON_Parse(text));
	assert_int_equal(sb_connection_create(SB_CONNECTION_STORE(&f->ctx),
	                     sb_providers_find(f->ctx.providers, "sandbox"),
	                     creds, NULL, NULL, conn, token),
	    SB_OK);
	cJSON_Delete(creds);
}

static void
test_header_forbidden(void **state)
{
	static const struct {
		const char *name;
		bool want;
	} cases[] = {
		{ "Authorization", true },
		{ "authorization", true },
		{ "AUTHORIZATION", true },
		{ "Cookie", true },
		{ "Host", true },
		{ "Connection", true },
		{ "Keep-Alive", true },
		{ "Proxy-Authorization", true },
		{ "Proxy-Authenticate", true },
		{ "Proxy-Connection", true },
		{ "TE", true },
		{ "Trailer", true },
		{ "Transfer-Encoding", true },
		{ "Upgrade", true },
		{ "Content-Length", true },
		{ "Expect", true },
		{ "Accept", false },
		{ "Content-Type", false },
		{ "If-None-Match", false },
		{ "X-Request-Id", false },
		{ "Authorization2", false },
		{ "X-Authorization", false },
		{ "", false },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(cases); i++)
		if (sb_call_header_forbidden(cases[i].name) != cases[i].want)
			fail_msg("case %zu: '%s' forbidden should be %d", i,
			    cases[i].name, cases[i].want);
}

static void
test_header_passed(void **state)
{
	static const struct {
		const char *provider;
		const char *name;
		bool want;
	} cases[] = {
		{ "github", "Link", true },
		{ "github", "link", true },
		{ "github", "ETag", true },
		{ "github", "Last-Modified", true },
		{ "github", "Retry-After", true },
		{ "github", "X-RateLimit-Remaining", true },
		{ "github", "X-RateLimit-Reset", true },
		{ "github", "X-RateLimit-Limit", true },
		{ "okta", "X-Rate-Limit-Remaining", true },
		{ "jsonplaceholder", "X-Total-Count", true },
		/* a provider's own rate-limit headers, only for it */
		{ "hubspot", "X-HubSpot-RateLimit-Remaining", true },
		{ "hubspot", "x-hubspot-ratelimit-interval-milliseconds",
		    true },
		{ "github", "X-HubSpot-RateLimit-Remaining", false },
		{ "jsonplaceholder", "X-HubSpot-RateLimit-Remaining", false },
		/* what stays behind */
		{ "github", "Set-Cookie", false },
		{ "github", "Server", false },
		{ "github", "Connection", false },
		{ "github", "Transfer-Encoding", false },
		{ "github", "Content-Length", false },
		{ "github", "WWW-Authenticate", false },
		{ "github", "Location", false },
		{ "github", "", false },
	};
	struct test_fixture *f = *state;
	const struct sb_provider *p;

	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		p = sb_providers_find(f->ctx.providers, cases[i].provider);
		assert_non_null(p);
		if (sb_call_header_passed(p, cases[i].name) != cases[i].want)
			fail_msg("case %zu: %s '%s' passed should be %d", i,
			    cases[i].provider, cases[i].name, cases[i].want);
	}
}

static void
test_needs_reauth(void **state)
{
	struct test_fixture *f = *state;
	struct sb_http_response resp = { 0 };
	struct sb_call call = { .method = "GET", .path = "/me" };
	struct sb_connection conn = { 0 };
	char err[SB_CALL_ERROR_MAX];
	bool got;

	/* Expired as well: even so, no refresh is tried. */
	create(f, (int64_t)time(NULL) - 3600, &conn);
	/* Each failure is recorded by the lease's holder, as refreshers do. */
	for (int i = 0; i < SB_CONNECTION_REAUTH_FAILURES; i++) {
		assert_int_equal(
		    sb_connection_lease(SB_CONNECTION_STORE(&f->ctx), conn.id,
		        (int64_t)time(NULL), 30, &got),
		    SB_OK);
		assert_true(got);
		assert_int_equal(
		    sb_connection_refreshed(SB_CONNECTION_STORE(&f->ctx), &conn,
		        NULL, "invalid_grant", (int64_t)time(NULL)),
		    SB_OK);
	}
	assert_true(conn.needs_reauth);
	resp.status = 999;
	assert_int_equal(
	    sb_call_perform(&f->ctx, &conn, &call, &resp, err, sizeof(err)),
	    SB_ERR_CONFLICT);
	assert_non_null(strstr(err, "re-authorised"));
	assert_int_equal(resp.attempts, 0);
	/* Nothing changed: no refresh failure recorded, no lease held. */
	assert_int_equal(test_query_int_text(f->ctx.db,
	                     "SELECT refresh_failures FROM connections "
	                     "WHERE id = ?1",
	                     conn.id),
	    SB_CONNECTION_REAUTH_FAILURES);
	assert_int_equal(sb_connection_lease(SB_CONNECTION_STORE(&f->ctx),
	                     conn.id, (int64_t)time(NULL), 30, &got),
	    SB_OK);
	assert_true(got);
	sb_http_response_clear(&resp);
	sb_connection_clear(&conn);
}

static void
test_refused_before_sending(void **state)
{
	static const struct {
		const char *path;
		const char *raw_query;
		const char *query; /* JSON object or NULL */
		const char *headers; /* JSON object or NULL */
	} cases[] = {
		{ "/../x", NULL, NULL, NULL },
		{ "/api/../../x", NULL, NULL, NULL },
		{ "/./x", NULL, NULL, NULL },
		{ "/%2e%2e/x", NULL, NULL, NULL },
		{ "/%252e%252e/x", NULL, NULL, NULL },
		{ "//evil.example/x", NULL, NULL, NULL },
		{ "/x@evil.example", NULL, NULL, NULL },
		{ "/x\\y", NULL, NULL, NULL },
		{ "/x#frag", NULL, NULL, NULL },
		{ "/x?a=b", NULL, NULL, NULL },
		{ "/x\r\nHost: evil", NULL, NULL, NULL },
		{ "/x y", NULL, NULL, NULL },
		{ "http://evil.example/x", NULL, NULL, NULL },
		{ "x", NULL, NULL, NULL },
		{ "", NULL, NULL, NULL },
		{ "/me", "a=1 HTTP/1.1", NULL, NULL },
		{ "/me", "a=1#x", NULL, NULL },
		{ "/me", "a=\r\n", NULL, NULL },
		{ "/me", NULL, "{\"a\": {\"b\": 1}}", NULL },
		{ "/me", NULL, "{\"a\": [1, [2]]}", NULL },
		{ "/me", NULL, NULL, "{\"Authorization\": \"Bearer x\"}" },
		{ "/me", NULL, NULL, "{\"host\": \"evil.example\"}" },
		{ "/me", NULL, NULL, "{\"Cookie\": \"a=b\"}" },
		{ "/me", NULL, NULL, "{\"Transfer-Encoding\": \"chunked\"}" },
		{ "/me", NULL, NULL, "{\"X-A\": \"b\\r\\nHost: evil\"}" },
		{ "/me", NULL, NULL, "{\"X-A\": 1}" },
	};
	struct test_fixture *f = *state;
	struct sb_http_response resp = { 0 };
	struct sb_connection conn = { 0 };
	char err[SB_CALL_ERROR_MAX];
	struct sb_call call;
	cJSON *query, *headers;
	enum sb_err rc;

	/* No expiry: the token is used as it is, no refresh first. */
	create(f, 0, &conn);
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		query =
		    cases[i].query != NULL ? cJSON_Parse(cases[i].query) : NULL;
		headers = cases[i].headers != NULL
		    ? cJSON_Parse(cases[i].headers)
		    : NULL;
		memset(&call, 0, sizeof(call));
		call.method = "GET";
		call.path = cases[i].path;
		call.raw_query = cases[i].raw_query;
		call.query = query;
		call.headers = headers;
		err[0] = '\0';
		rc = sb_call_perform(
		    &f->ctx, &conn, &call, &resp, err, sizeof(err));
		cJSON_Delete(query);
		cJSON_Delete(headers);
		if (rc != SB_ERR_INVALID || resp.attempts != 0)
			fail_msg("case %zu (%s): got %s after %d attempts", i,
			    cases[i].path, sb_strerror(rc), resp.attempts);
		assert_true(err[0] != '\0');
		assert_int_equal(resp.status, 0);
		sb_http_response_clear(&resp);
	}
	/* Nothing was recorded on the connection either. */
	assert_int_equal(test_query_int_text(f->ctx.db,
	                     "SELECT refresh_failures FROM connections "
	                     "WHERE id = ?1",
	                     conn.id),
	    0);
	sb_connection_clear(&conn);
}

/* The control: a valid call is sent, and fails on the closed port. */
static void
test_valid_call_is_sent(void **state)
{
	struct test_fixture *f = *state;
	struct sb_http_response resp = { 0 };
	struct sb_connection conn = { 0 };
	char err[SB_CALL_ERROR_MAX];
	cJSON *query = cJSON_Parse("{\"page\": 2, \"tag\": [\"a\", \"b\"]}");
	cJSON *headers = cJSON_Parse("{\"Accept\": \"application/json\"}");
	struct sb_call call = { .method = "GET",
		.path = "/users/42",
		.raw_query = "x=1",
		.query = query,
		.headers = headers };

	create(f, 0, &conn);
	assert_int_equal(
	    sb_call_perform(&f->ctx, &conn, &call, &resp, err, sizeof(err)),
	    SB_ERR_UPSTREAM);
	assert_int_equal(resp.attempts, 1);
	assert_true(err[0] != '\0');
	sb_http_response_clear(&resp);
	cJSON_Delete(query);
	cJSON_Delete(headers);
	sb_connection_clear(&conn);
}

/* An expired token is refreshed first; a failed refresh is recorded and
 * reported as SB_ERR_UNAUTHORIZED, with no secret in the message. */
static void
test_expired_refresh_fails(void **state)
{
	struct test_fixture *f = *state;
	struct sb_http_response resp = { 0 };
	struct sb_connection conn = { 0 };
	struct sb_call call = { .method = "GET", .path = "/me" };
	char err[SB_CALL_ERROR_MAX];

	create(f, (int64_t)time(NULL) - 60, &conn);
	assert_int_equal(
	    sb_call_perform(&f->ctx, &conn, &call, &resp, err, sizeof(err)),
	    SB_ERR_UNAUTHORIZED);
	assert_null(strstr(err, REFRESH_TOKEN));
	assert_int_equal(conn.refresh_failures, 1);
	assert_string_equal(conn.last_refresh_status, "failed");
	assert_false(conn.needs_reauth);
	assert_null(strstr(conn.last_refresh_error, REFRESH_TOKEN));
	assert_int_equal(test_query_int_text(f->ctx.db,
	                     "SELECT refresh_failures FROM connections "
	                     "WHERE id = ?1",
	                     conn.id),
	    1);
	sb_http_response_clear(&resp);
	sb_connection_clear(&conn);
}

/* Sets conn's refresh lease to holder for an hour, behind the store. */
static void
lease_hold(struct test_fixture *f, const char *id, const char *holder)
{
	sqlite3_stmt *st = NULL;

	assert_int_equal(
	    sqlite3_prepare_v2(sb_db_handle(f->ctx.db),
	        "UPDATE connections SET refresh_lease_owner = ?2, "
	        "refresh_lease_until = unixepoch() + 3600 WHERE id = ?1",
	        -1, &st, NULL),
	    SQLITE_OK);
	sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, holder, -1, SQLITE_TRANSIENT);
	assert_int_equal(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
}

/*
 * A call needing a refresh while another process holds the lease: a live
 * holder is waited for no longer than the request's deadline, and the
 * answer says why; a dead holder's lease is taken over at once (the
 * refresh then fails here, since nothing listens).
 */
static void
test_refresh_lease_holders(void **state)
{
	static const struct {
		enum test_owner_kind holder;
		enum sb_err want;
	} cases[] = {
		{ TEST_OWNER_LIVE, SB_ERR_BUSY },
		{ TEST_OWNER_OTHER_HOST, SB_ERR_BUSY },
		{ TEST_OWNER_DEAD, SB_ERR_UNAUTHORIZED },
	};
	struct test_fixture *f = *state;
	struct sb_call call = { .method = "GET", .path = "/me" };
	struct sb_http_response resp = { 0 };
	char err[SB_CALL_ERROR_MAX], holder[SB_OWNER_MAX];
	struct sb_connection conn = { 0 };
	int64_t start, took;

	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		create(f, (int64_t)time(NULL) - 60, &conn);
		test_owner_name(cases[i].holder, holder, sizeof(holder));
		lease_hold(f, conn.id, holder);
		start = sb_deadline_now();
		sb_context_deadline_set(&f->ctx, start + 400);
		assert_int_equal(sb_call_perform(&f->ctx, &conn, &call, &resp,
		                     err, sizeof(err)),
		    cases[i].want);
		took = sb_deadline_now() - start;
		sb_context_deadline_set(&f->ctx, SB_DEADLINE_NONE);
		if (took > 1500)
			fail_msg("case %zu waited %lld ms", i, (long long)took);
		if (cases[i].want == SB_ERR_BUSY)
			assert_string_equal(err, SB_CALL_BUSY_MESSAGE);
		assert_true(err[0] != '\0');
		sb_http_response_clear(&resp);
		sb_connection_clear(&conn);
	}
}

/* Credentials that do not open: a clear refusal, nothing sent. */
static void
test_unreadable_refused(void **state)
{
	struct test_fixture *f = *state;
	struct sb_call call = { .method = "GET", .path = "/me" };
	struct sb_http_response resp = { 0 };
	struct sb_connection conn = { 0 };
	char err[SB_CALL_ERROR_MAX];

	create(f, 0, &conn);
	conn.unreadable = true;
	assert_int_equal(
	    sb_call_perform(&f->ctx, &conn, &call, &resp, err, sizeof(err)),
	    SB_ERR_CRYPTO);
	assert_int_equal(resp.attempts, 0);
	assert_string_equal(err, SB_CONNECTION_UNREADABLE_MESSAGE);
	sb_http_response_clear(&resp);
	sb_connection_clear(&conn);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_header_forbidden),
		cmocka_unit_test_setup_teardown(
		    test_header_passed, setup, test_fixture_teardown),
		cmocka_unit_test_setup_teardown(
		    test_needs_reauth, setup, test_fixture_teardown),
		cmocka_unit_test_setup_teardown(
		    test_refused_before_sending, setup, test_fixture_teardown),
		cmocka_unit_test_setup_teardown(
		    test_valid_call_is_sent, setup, test_fixture_teardown),
		cmocka_unit_test_setup_teardown(
		    test_expired_refresh_fails, setup, test_fixture_teardown),
		cmocka_unit_test_setup_teardown(
		    test_refresh_lease_holders, setup, test_fixture_teardown),
		cmocka_unit_test_setup_teardown(
		    test_unreadable_refused, setup, test_fixture_teardown),
	};

	return cmocka_run_group_tests_name("call", tests, NULL, NULL);
}
