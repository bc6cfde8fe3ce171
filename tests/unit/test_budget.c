/*
 * Unit tests for lib/connect/budget.c: reading the rate-limit headers with
 * the reset measured against the answer's Date (skewed clocks), the low
 * mark, the wait a 429 asks for and its Retry-After, the decisions before
 * a call (pacing, waiting for a spent window, refusing) and after a 429,
 * when a budget is worth a write, and the table connection_budgets (load,
 * store, take, and the row going with its connection).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sb/connect/budget.h"
#include "sb/core/deadline.h"
#include "support.h"

#define NOW_S 1700000000LL /* Tue, 14 Nov 2023 22:13:20 GMT, our clock */
#define NOW_MS (NOW_S * 1000)
#define DATE_AHEAD "Tue, 14 Nov 2023 22:13:30 GMT" /* theirs, 10 s ahead */
#define DATE_BEHIND "Tue, 14 Nov 2023 22:12:20 GMT" /* 60 s behind */
#define BIG_LEFT 28000 /* the default request's deadline, about */

static const struct sb_provider okta = {
	.name = "okta",
	.rate_limit_limit = "X-Rate-Limit-Limit",
	.rate_limit_remaining = "X-Rate-Limit-Remaining",
	.rate_limit_reset = "X-Rate-Limit-Reset",
};

static const struct sb_provider hubspot_like = {
	.name = "ms",
	.rate_limit_remaining = "X-Left",
	.rate_limit_reset = "X-Window-Ms",
	.rate_limit_reset_ms = true,
};

static const struct sb_provider unbudgeted = { .name = "none" };

/* A response with up to four headers (NULL-named ends). */
static void
resp_make(
    struct sb_http_response *resp, long status, const char *const headers[][2])
{
	memset(resp, 0, sizeof(*resp));
	resp->status = status;
	for (size_t i = 0; i < 4 && headers[i][0] != NULL; i++)
		assert_int_equal(sb_http_response_header_set(
		                     resp, headers[i][0], headers[i][1]),
		    SB_OK);
}

struct read_case {
	const char *name;
	const struct sb_provider *provider;
	const char *headers[5][2];
	bool ok;
	struct sb_budget want;
};

static const struct read_case read_cases[] = {
	{ "epoch reset against a Date 10 s ahead", &okta,
	    { { "X-Rate-Limit-Limit", "600" },
	        { "X-Rate-Limit-Remaining", "42" },
	        { "X-Rate-Limit-Reset", "1700000070" },
	        { "Date", DATE_AHEAD } },
	    true, { 600, 42, NOW_MS + 60000 } },
	{ "epoch reset against a Date 60 s behind", &okta,
	    { { "X-Rate-Limit-Remaining", "0" },
	        { "X-Rate-Limit-Reset", "1699999945" },
	        { "Date", DATE_BEHIND } },
	    true, { -1, 0, NOW_MS + 5000 } },
	{ "no Date: our clock", &okta,
	    { { "X-Rate-Limit-Remaining", "3" },
	        { "X-Rate-Limit-Reset", "1700000030" } },
	    true, { -1, 3, NOW_MS + 30000 } },
	{ "reset already past: now", &okta,
	    { { "X-Rate-Limit-Remaining", "3" },
	        { "X-Rate-Limit-Reset", "1700000005" },
	        { "Date", DATE_AHEAD } },
	    true, { -1, 3, NOW_MS } },
	{ "delta seconds", &okta,
	    { { "X-Rate-Limit-Remaining", "9" },
	        { "X-Rate-Limit-Reset", "30" } },
	    true, { -1, 9, NOW_MS + 30000 } },
	{ "delta milliseconds", &hubspot_like,
	    { { "X-Left", "9" }, { "X-Window-Ms", "1500" } }, true,
	    { -1, 9, NOW_MS + 1500 } },
	{ "no remaining", &okta, { { "X-Rate-Limit-Reset", "30" } }, false,
	    { -1, -1, -1 } },
	{ "negative remaining", &okta,
	    { { "X-Rate-Limit-Remaining", "-1" },
	        { "X-Rate-Limit-Reset", "30" } },
	    false, { -1, -1, -1 } },
	{ "garbage reset", &okta,
	    { { "X-Rate-Limit-Remaining", "1" },
	        { "X-Rate-Limit-Reset", "soon" } },
	    false, { -1, -1, -1 } },
	{ "a window past a year", &okta,
	    { { "X-Rate-Limit-Remaining", "1" },
	        { "X-Rate-Limit-Reset", "99999999" } },
	    false, { -1, -1, -1 } },
	{ "malformed limit is unknown", &okta,
	    { { "X-Rate-Limit-Limit", "lots" },
	        { "X-Rate-Limit-Remaining", "1" },
	        { "X-Rate-Limit-Reset", "2" } },
	    true, { -1, 1, NOW_MS + 2000 } },
	{ "a provider without rate headers", &unbudgeted,
	    { { "X-Rate-Limit-Remaining", "1" },
	        { "X-Rate-Limit-Reset", "2" } },
	    false, { -1, -1, -1 } },
};

static void
test_budget_read(void **state)
{
	struct sb_http_response resp;
	const struct read_case *c;
	struct sb_budget got;

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(read_cases); i++) {
		c = &read_cases[i];
		resp_make(&resp, 200, c->headers);
		if (sb_budget_read(c->provider, &resp, NOW_MS, &got) != c->ok ||
		    got.limit != c->want.limit ||
		    got.remaining != c->want.remaining ||
		    got.reset_at_ms != c->want.reset_at_ms)
			fail_msg("%s: got %d {%lld, %lld, %lld}", c->name,
			    !c->ok, (long long)got.limit,
			    (long long)got.remaining,
			    (long long)(got.reset_at_ms - NOW_MS));
		sb_http_response_clear(&resp);
	}
}

static void
test_budget_low(void **state)
{
	static const struct {
		struct sb_budget b;
		bool low;
	} cases[] = {
		{ { 600, 60, 0 }, true }, /* 10 % */
		{ { 600, 61, 0 }, false },
		{ { 10, 2, 0 }, true }, /* the minimum, 2 */
		{ { 10, 3, 0 }, false },
		{ { -1, 2, 0 }, true }, /* no limit: the minimum */
		{ { -1, 3, 0 }, false }, { { 600, 0, 0 }, true },
		{ { 600, -1, 0 }, false }, /* unknown */
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(cases); i++)
		if (sb_budget_low(&cases[i].b) != cases[i].low)
			fail_msg("case %zu", i);
	assert_false(sb_budget_low(NULL));
}

static void
test_budget_429_wait(void **state)
{
	static const struct {
		const char *name;
		const char *headers[5][2];
		int64_t want;
	} cases[] = {
		{ "Retry-After seconds wins",
		    { { "Retry-After", "7" },
		        { "X-Rate-Limit-Reset", "1700000070" } },
		    7000 },
		{ "Retry-After date against Date",
		    { { "Retry-After", "Tue, 14 Nov 2023 22:13:42 GMT" },
		        { "Date", DATE_AHEAD } },
		    12000 },
		{ "reset against Date",
		    { { "X-Rate-Limit-Remaining", "0" },
		        { "X-Rate-Limit-Reset", "1700000013" },
		        { "Date", DATE_AHEAD } },
		    3000 },
		{ "garbage Retry-After: the reset",
		    { { "Retry-After", "later" },
		        { "X-Rate-Limit-Reset", "4" } },
		    4000 },
		{ "nothing said", { { "X-Other", "1" } }, -1 },
	};
	struct sb_http_response resp;

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		resp_make(&resp, 429, cases[i].headers);
		if (sb_budget_429_wait_ms(&okta, &resp, NOW_MS) !=
		    cases[i].want)
			fail_msg("%s: got %lld", cases[i].name,
			    (long long)sb_budget_429_wait_ms(
			        &okta, &resp, NOW_MS));
		sb_http_response_clear(&resp);
	}
	assert_int_equal(sb_budget_retry_after_s(-1), 1);
	assert_int_equal(sb_budget_retry_after_s(0), 1);
	assert_int_equal(sb_budget_retry_after_s(1000), 1);
	assert_int_equal(sb_budget_retry_after_s(1001), 2);
	assert_int_equal(sb_budget_retry_after_s(3600000), 3600);
}

struct plan_case {
	const char *name;
	struct sb_budget b; /* reset_at_ms relative to NOW_MS */
	int64_t left_ms, jitter_ms;
	enum sb_budget_action action;
	int64_t wait_ms;
	long retry_after_s;
};

static const struct plan_case plan_cases[] = {
	{ "unknown: go", { -1, -1, -1 }, BIG_LEFT, 0, SB_BUDGET_GO, 0, 0 },
	{ "plenty left: go", { 600, 300, 30000 }, BIG_LEFT, 0, SB_BUDGET_GO, 0,
	    0 },
	{ "low but the window is over: go", { 600, 1, -5 }, BIG_LEFT, 0,
	    SB_BUDGET_GO, 0, 0 },
	{ "spent, reset in 3 s: wait it out with jitter", { 10, 0, 3000 },
	    BIG_LEFT, 100, SB_BUDGET_WAIT, 3100, 0 },
	{ "spent, reset past the cap: refuse", { 600, 0, 45000 }, BIG_LEFT, 0,
	    SB_BUDGET_REFUSE, 0, 45 },
	{ "spent, reset past the deadline: refuse", { 10, 0, 3000 }, 3200, 0,
	    SB_BUDGET_REFUSE, 0, 3 },
	{ "spent, reset 1.2 s: Retry-After rounds up", { 10, 0, 1200 }, 1000, 0,
	    SB_BUDGET_REFUSE, 0, 2 },
	{ "low: pace the window over what is left", { 10, 2, 3000 }, BIG_LEFT,
	    0, SB_BUDGET_WAIT, 1000, 0 },
	{ "low: pacing capped", { 600, 1, 50000 }, BIG_LEFT, 0, SB_BUDGET_WAIT,
	    SB_BUDGET_PACE_MAX_MS, 0 },
	{ "low: pacing cut to the deadline", { 10, 1, 3000 }, 700, 0,
	    SB_BUDGET_WAIT, 200, 0 },
	{ "low: no time to spare, go", { 10, 1, 3000 }, 400, 0, SB_BUDGET_GO, 0,
	    0 },
};

static void
test_budget_plan(void **state)
{
	struct sb_budget_decision d;
	const struct plan_case *c;
	struct sb_budget b;

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(plan_cases); i++) {
		c = &plan_cases[i];
		b = c->b;
		if (b.reset_at_ms != -1)
			b.reset_at_ms += NOW_MS;
		sb_budget_plan(&b, NOW_MS, c->left_ms, c->jitter_ms, &d);
		if (d.action != c->action ||
		    (c->action == SB_BUDGET_WAIT && d.wait_ms != c->wait_ms) ||
		    (c->action == SB_BUDGET_REFUSE &&
		        d.retry_after_s != c->retry_after_s))
			fail_msg("%s: got %d, %lld ms, %ld s", c->name,
			    (int)d.action, (long long)d.wait_ms,
			    d.retry_after_s);
	}
	sb_budget_plan(NULL, NOW_MS, BIG_LEFT, 0, &d);
	assert_int_equal(d.action, SB_BUDGET_GO);
	/* No deadline (sbctl): INT64_MAX left does not overflow. */
	b = (struct sb_budget){ 10, 0, NOW_MS + 2000 };
	sb_budget_plan(&b, NOW_MS, INT64_MAX, 0, &d);
	assert_int_equal(d.action, SB_BUDGET_WAIT);
	assert_int_equal(d.wait_ms, 2000);
}

static void
test_budget_plan_429(void **state)
{
	static const struct {
		int64_t wait_ms, left_ms, jitter_ms;
		enum sb_budget_action action;
		int64_t want_wait;
		long retry_after_s;
	} cases[] = {
		{ 2000, BIG_LEFT, 50, SB_BUDGET_WAIT, 2050, 0 },
		{ 3600000, BIG_LEFT, 0, SB_BUDGET_REFUSE, 0, 3600 },
		{ SB_BUDGET_WAIT_MAX_MS, BIG_LEFT, 1, SB_BUDGET_REFUSE, 0,
		    SB_BUDGET_WAIT_MAX_MS / 1000 },
		{ -1, BIG_LEFT, 7, SB_BUDGET_WAIT,
		    SB_BUDGET_RETRY_AFTER_DEFAULT_S * 1000 + 7, 0 },
		{ 5000, 5000, 0, SB_BUDGET_REFUSE, 0, 5 },
		{ 0, 600, 0, SB_BUDGET_WAIT, 0, 0 },
	};
	struct sb_budget_decision d;

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		sb_budget_plan_429(
		    cases[i].wait_ms, cases[i].left_ms, cases[i].jitter_ms, &d);
		if (d.action != cases[i].action ||
		    (d.action == SB_BUDGET_WAIT &&
		        d.wait_ms != cases[i].want_wait) ||
		    (d.action == SB_BUDGET_REFUSE &&
		        d.retry_after_s != cases[i].retry_after_s))
			fail_msg("case %zu: got %d, %lld ms, %ld s", i,
			    (int)d.action, (long long)d.wait_ms,
			    d.retry_after_s);
	}
}

static void
test_budget_changed(void **state)
{
	static const struct {
		struct sb_budget stored, seen;
		bool changed;
	} cases[] = {
		{ { -1, -1, -1 }, { 600, 599, 60000 }, true }, /* first */
		{ { 600, 599, 60000 }, { 600, 599, 60000 }, false },
		{ { 600, 599, 60000 }, { 600, 400, 60400 }, false }, /* high */
		{ { 600, 599, 60000 }, { 600, 599, 61000 }, true }, /* window */
		{ { 600, 599, 60000 }, { 1200, 599, 60000 }, true }, /* limit */
		{ { 600, 130, 60000 }, { 600, 120, 60000 }, true }, /* watch */
		{ { 600, 121, 60000 }, { 600, 121, 60300 }, false },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(cases); i++)
		if (sb_budget_changed(&cases[i].stored, &cases[i].seen) !=
		    cases[i].changed)
			fail_msg("case %zu", i);
}

static const char connection_insert[] =
    "INSERT INTO connections (id, provider, token_digest, credentials,"
    " created_at, updated_at) VALUES ('cn_budget', 'okta', 'd', x'00',"
    " 'now', 'now')";

static void
test_budget_store(void **state)
{
	struct test_fixture *f = *state;
	struct sb_db *db = f->ctx.db;
	struct sb_budget b, got;
	int64_t before = -7;

	assert_int_equal(
	    sqlite3_exec(sb_db_handle(db), connection_insert, NULL, NULL, NULL),
	    SQLITE_OK);
	assert_int_equal(sb_budget_load(db, "cn_budget", &got), SB_OK);
	assert_int_equal(got.remaining, -1);
	b = (struct sb_budget){ 10, 2, NOW_MS + 3000 };
	assert_int_equal(
	    sb_budget_store(db, SB_DEADLINE_NONE, "cn_budget", &b, NOW_MS),
	    SB_OK);
	assert_int_equal(sb_budget_load(db, "cn_budget", &got), SB_OK);
	assert_int_equal(got.limit, 10);
	assert_int_equal(got.remaining, 2);
	assert_int_equal(got.reset_at_ms, NOW_MS + 3000);
	/* Two calls take the two left; a third finds none. */
	assert_int_equal(
	    sb_budget_take(db, SB_DEADLINE_NONE, "cn_budget", NOW_MS, &before),
	    SB_OK);
	assert_int_equal(before, 2);
	assert_int_equal(
	    sb_budget_take(db, SB_DEADLINE_NONE, "cn_budget", NOW_MS, &before),
	    SB_OK);
	assert_int_equal(before, 1);
	assert_int_equal(
	    sb_budget_take(db, SB_DEADLINE_NONE, "cn_budget", NOW_MS, &before),
	    SB_OK);
	assert_int_equal(before, 0);
	assert_int_equal(sb_budget_load(db, "cn_budget", &got), SB_OK);
	assert_int_equal(got.remaining, 0);
	/* Once the window is over nothing is taken from it. */
	b.remaining = 5;
	assert_int_equal(
	    sb_budget_store(db, SB_DEADLINE_NONE, "cn_budget", &b, NOW_MS),
	    SB_OK);
	assert_int_equal(sb_budget_take(db, SB_DEADLINE_NONE, "cn_budget",
	                     NOW_MS + 3000, &before),
	    SB_OK);
	assert_int_equal(before, 0);
	assert_int_equal(
	    test_query_int(db, "SELECT remaining FROM connection_budgets"), 5);
	/* The budget goes with its connection. */
	assert_int_equal(sqlite3_exec(sb_db_handle(db),
	                     "DELETE FROM connections WHERE id = 'cn_budget'",
	                     NULL, NULL, NULL),
	    SQLITE_OK);
	assert_int_equal(
	    test_query_int(db, "SELECT count(*) FROM connection_budgets"), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_budget_read),
		cmocka_unit_test(test_budget_low),
		cmocka_unit_test(test_budget_429_wait),
		cmocka_unit_test(test_budget_plan),
		cmocka_unit_test(test_budget_plan_429),
		cmocka_unit_test(test_budget_changed),
		cmocka_unit_test_setup_teardown(test_budget_store,
		    test_fixture_setup, test_fixture_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
