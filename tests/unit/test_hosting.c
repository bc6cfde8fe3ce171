/*
 * Unit tests for lib/hosting/hosting.c and lib/hosting/hosting_store.c: the
 * transition table, page numbers and Link headers, the weekly statistics,
 * random URLs and JSON shapes (table-driven, no database); then the store
 * against the real migrations and seed files: flags, create, cancel, and the
 * webhook's authentication, state machine, deployedIn, first URL and
 * outbox events.  Run from the repository root.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "sb/hosting/hosting.h"
#include "support.h"

#define TEST_SEED "db/seed"
#define TEST_SECRET_1 "Jn2xToH72JUcsvqpiucgiDPu06STbiiL" /* project 1 */
#define TEST_SECRET_2 "MgZZyh7YKqZwABVjX9CpLf0RivtfBwoF" /* project 2 */
#define TEST_WEEK_MS (7LL * 24 * 3600 * 1000)

enum {
	P = SB_DEPLOY_PENDING,
	B = SB_DEPLOY_BUILDING,
	D = SB_DEPLOY_DEPLOYING,
	OK = SB_DEPLOY_DONE,
	F = SB_DEPLOY_FAILED,
	C = SB_DEPLOY_CANCELLED,
};

static void
test_status_names(void **state)
{
	enum sb_deploy_status s;

	(void)state;
	for (int i = 0; i < SB_DEPLOY__MAX; i++) {
		assert_true(sb_hosting_status_parse(
		    sb_hosting_status_name((enum sb_deploy_status)i), &s));
		assert_int_equal(s, i);
	}
	assert_false(sb_hosting_status_parse("Pending", &s));
	assert_false(sb_hosting_status_parse("", &s));
	assert_false(sb_hosting_status_parse(NULL, &s));
	assert_null(sb_hosting_status_name(SB_DEPLOY__MAX));
	assert_true(sb_hosting_status_ongoing(SB_DEPLOY_BUILDING));
	assert_false(sb_hosting_status_ongoing(SB_DEPLOY_DONE));
}

static void
test_transitions(void **state)
{
	/* Every pair: forward or cancel from a live state, same is a no-op,
	 * anything else (backwards, out of a final state) is forbidden. */
	static const char *const want[SB_DEPLOY__MAX] = {
		[P] = "SAAAAA",
		[B] = "FSAAAA",
		[D] = "FFSAAA",
		[OK] = "FFFSFF",
		[F] = "FFFFSF",
		[C] = "FFFFFS",
	};
	static const enum sb_transition code[128] = { ['S'] =
		                                          SB_TRANSITION_SAME,
		['A'] = SB_TRANSITION_APPLY,
		['F'] = SB_TRANSITION_FORBIDDEN };

	(void)state;
	for (int from = 0; from < SB_DEPLOY__MAX; from++)
		for (int to = 0; to < SB_DEPLOY__MAX; to++)
			assert_int_equal(
			    sb_hosting_transition((enum sb_deploy_status)from,
			        (enum sb_deploy_status)to),
			    code[(int)want[from][to]]);
	assert_int_equal(
	    sb_hosting_transition(SB_DEPLOY__MAX, SB_DEPLOY_PENDING),
	    SB_TRANSITION_FORBIDDEN);
}

static void
test_page_parse(void **state)
{
	static const struct {
		const char *text;
		bool ok;
		int64_t page;
	} cases[] = {
		{ NULL, true, 1 },
		{ "1", true, 1 },
		{ "42", true, 42 },
		{ "1000000", true, 1000000 },
		{ "1000001", false, 0 },
		{ "0", false, 0 },
		{ "-1", false, 0 },
		{ "", false, 0 },
		{ "2x", false, 0 },
		{ "1.5", false, 0 },
		{ "99999999999999999999", false, 0 },
	};
	int64_t page;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		page = 0;
		assert_int_equal(
		    sb_hosting_page_parse(cases[i].text, &page), cases[i].ok);
		if (cases[i].ok)
			assert_int_equal(page, cases[i].page);
	}
	assert_int_equal(sb_hosting_page_last(0, 8), 1);
	assert_int_equal(sb_hosting_page_last(8, 8), 1);
	assert_int_equal(sb_hosting_page_last(9, 8), 2);
	assert_int_equal(sb_hosting_page_last(20, 8), 3);
}

static void
test_link(void **state)
{
	static const struct {
		const char *query;
		int64_t page, last;
		const char *want;
	} cases[] = {
		{ NULL, 1, 3,
		    "</p?page=1>; rel=\"first\", "
		    "</p?page=2>; rel=\"next\", "
		    "</p?page=3>; rel=\"last\"" },
		{ NULL, 2, 3,
		    "</p?page=1>; rel=\"first\", "
		    "</p?page=3>; rel=\"next\", "
		    "</p?page=3>; rel=\"last\", "
		    "</p?page=1>; rel=\"previous\"" },
		{ NULL, 3, 3,
		    "</p?page=1>; rel=\"first\", "
		    "</p?page=3>; rel=\"last\", "
		    "</p?page=2>; rel=\"previous\"" },
		{ NULL, 1, 1,
		    "</p?page=1>; rel=\"first\", "
		    "</p?page=1>; rel=\"last\"" },
		{ "projectId=4", 1, 2,
		    "</p?projectId=4&page=1>; rel=\"first\", "
		    "</p?projectId=4&page=2>; rel=\"next\", "
		    "</p?projectId=4&page=2>; rel=\"last\"" },
	};
	char out[SB_HOSTING_LINK_MAX];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(
		    sb_hosting_link(out, sizeof(out), "/p", cases[i].query,
		        cases[i].page, cases[i].last),
		    SB_OK);
		assert_string_equal(out, cases[i].want);
	}
	assert_int_equal(
	    sb_hosting_link(out, 30, "/p", NULL, 1, 3), SB_ERR_TOO_LARGE);
	assert_int_equal(sb_hosting_link(out, sizeof(out), "/p", NULL, 0, 3),
	    SB_ERR_INVALID);
}

static void
test_stats(void **state)
{
	static const struct {
		int64_t total, done, elapsed_ms;
		double weeks, weekly, weekly_done;
	} cases[] = {
		{ 0, 0, 0, 0, 0, 0 },
		{ 3, 1, 1000, 1, 3, 1 },
		{ 10, 4, 2 * TEST_WEEK_MS, 2, 5, 2 },
		{ 7, 2, 3 * TEST_WEEK_MS + TEST_WEEK_MS / 2, 3.5, 2, 0.57 },
		{ 1, 0, 3 * TEST_WEEK_MS, 3, 0.33, 0 },
	};
	struct sb_hosting_stats s;
	int64_t now = 1700000000000LL;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		sb_hosting_stats_compute(cases[i].total, cases[i].done,
		    now - cases[i].elapsed_ms, now, &s);
		assert_int_equal(s.deployments, cases[i].total);
		assert_int_equal(s.successful, cases[i].done);
		assert_float_equal(s.weeks, cases[i].weeks, 0.001);
		assert_float_equal(
		    s.weekly_deployments, cases[i].weekly, 0.001);
		assert_float_equal(
		    s.weekly_successful, cases[i].weekly_done, 0.001);
	}
}

static void
test_url(void **state)
{
	char a[SB_HOSTING_URL_MAX], b[SB_HOSTING_URL_MAX];
	size_t n;

	(void)state;
	assert_int_equal(
	    sb_hosting_url_new("My App_1", "example.org", a, sizeof(a)), SB_OK);
	n = strlen("https://my-app-1-");
	assert_memory_equal(a, "https://my-app-1-", n);
	assert_int_equal(strspn(a + n, "0123456789abcdef"), 8);
	assert_string_equal(a + n + 8, ".example.org");
	assert_int_equal(
	    sb_hosting_url_new("My App_1", "example.org", b, sizeof(b)), SB_OK);
	assert_string_not_equal(a, b);
	assert_int_equal(
	    sb_hosting_url_new("name", "example.org", a, 20), SB_ERR_TOO_LARGE);
}

static void
test_json(void **state)
{
	struct sb_project p = { .id = 3,
		.name = "n",
		.created_at = "t",
		.owner = { .id = 1, .username = "u", .email = "e" },
		.has_ongoing = true };
	struct sb_deployment d = { .id = 5,
		.project_id = 3,
		.status = SB_DEPLOY_DONE,
		.deployed_in = -1 };
	cJSON *o;

	(void)state;
	o = sb_hosting_project_json(&p);
	assert_non_null(o);
	assert_null(cJSON_GetObjectItem(o, "url"));
	assert_true(
	    cJSON_IsTrue(cJSON_GetObjectItem(o, "hasPendingDeployment")));
	assert_true(
	    cJSON_IsTrue(cJSON_GetObjectItem(o, "hasOngoingDeployment")));
	assert_true(cJSON_IsFalse(cJSON_GetObjectItem(o, "hasLiveDeployment")));
	cJSON_Delete(o);
	snprintf(p.url, sizeof(p.url), "https://x");
	o = sb_hosting_project_json(&p);
	assert_string_equal(
	    cJSON_GetObjectItem(o, "url")->valuestring, "https://x");
	cJSON_Delete(o);
	o = sb_hosting_deployment_json(&d);
	assert_null(cJSON_GetObjectItem(o, "deployedIn"));
	assert_string_equal(
	    cJSON_GetObjectItem(o, "status")->valuestring, "done");
	cJSON_Delete(o);
	d.deployed_in = 0;
	o = sb_hosting_deployment_json(&d);
	assert_int_equal(cJSON_GetObjectItem(o, "deployedIn")->valueint, 0);
	cJSON_Delete(o);
}

/*
 * A fresh database with the migrations and the seed files loaded; app
 * secrets are stored as digests made with the fixed TEST_KEY_HEX.
 */
static int
setup(void **state)
{
	struct test_fixture *f;
	int users = 0, projects = 0;

	if (test_fixture_setup(state) != 0)
		return -1;
	f = *state;
	if (test_secrets_open(&f->ctx.secrets) != SB_OK ||
	    sb_hosting_seed(f->ctx.db, f->ctx.secrets, TEST_SEED, &users,
	        &projects) != SB_OK ||
	    users != 4 || projects != 20) {
		test_fixture_teardown(state);
		return -1;
	}
	return 0;
}

#define STORE_TEST(fn) \
	cmocka_unit_test_setup_teardown(fn, setup, test_fixture_teardown)

static void
test_seed(void **state)
{
	struct test_fixture *f = *state;
	struct sb_project p;
	int users, projects;

	assert_int_equal(sb_hosting_seed(f->ctx.db, f->ctx.secrets, TEST_SEED,
	                     &users, &projects),
	    SB_OK);
	assert_int_equal(
	    test_query_int(f->ctx.db, "SELECT count(*) FROM projects"), 20);
	assert_int_equal(
	    test_query_int(f->ctx.db, "SELECT count(*) FROM users"), 4);
	assert_int_equal(sb_hosting_project_get(f->ctx.db, 6, &p), SB_OK);
	assert_string_equal(p.name, "strong-event-7bb06ea633");
	assert_int_equal(p.owner.id, 2);
	assert_string_equal(p.owner.username, "Mathias_Schowalter");
	assert_string_equal(p.url, "");
	assert_int_equal(
	    sb_hosting_project_get(f->ctx.db, 999, &p), SB_ERR_NOT_FOUND);
	assert_int_equal(sb_hosting_seed(f->ctx.db, f->ctx.secrets,
	                     "/nonexistent", &users, &projects),
	    SB_ERR_IO);
	assert_int_equal(users, 0);
}

/* Asserts project id's flags. */
static void
assert_flags(struct sb_db *db, int64_t id, bool ongoing, bool live)
{
	struct sb_project p;

	assert_int_equal(sb_hosting_project_get(db, id, &p), SB_OK);
	assert_int_equal(p.has_ongoing, ongoing);
	assert_int_equal(p.has_live, live);
}

static void
test_flags_and_cancel(void **state)
{
	struct test_fixture *f = *state;
	struct sb_hosting_outbox outbox;
	struct sb_deployment d, c;

	assert_flags(f->ctx.db, 1, false, false);
	assert_int_equal(
	    sb_hosting_deployment_create(f->ctx.db, 1, 3, &d, &outbox), SB_OK);
	assert_int_equal(d.status, SB_DEPLOY_PENDING);
	assert_int_equal(d.deployed_in, -1);
	assert_int_equal(outbox.count, 1);
	assert_flags(f->ctx.db, 1, true, false);
	assert_int_equal(
	    sb_hosting_deployment_create(f->ctx.db, 999, 3, &d, &outbox),
	    SB_ERR_NOT_FOUND);
	assert_int_equal(outbox.count, 0);
	assert_int_equal(
	    test_query_int(f->ctx.db, "SELECT count(*) FROM jobs"), 1);
	assert_int_equal(
	    sb_hosting_deployment_cancel(f->ctx.db, 1, 3, &c, &outbox), SB_OK);
	assert_int_equal(c.status, SB_DEPLOY_CANCELLED);
	assert_int_equal(outbox.count, 1);
	assert_flags(f->ctx.db, 1, false, false);
	assert_int_equal(
	    sb_hosting_deployment_cancel(f->ctx.db, 1, 3, &c, &outbox),
	    SB_ERR_CONFLICT);
	assert_int_equal(outbox.count, 0);
	assert_int_equal(
	    sb_hosting_deployment_cancel(f->ctx.db, 99, 3, &c, &outbox),
	    SB_ERR_NOT_FOUND);
	assert_int_equal(
	    test_query_int(f->ctx.db, "SELECT count(*) FROM jobs"), 2);
}

/* Runs the webhook for deployment id with secret and status. */
static enum sb_err
hook(struct test_fixture *f, int64_t id, const char *secret,
    enum sb_deploy_status status, struct sb_deployment *d,
    struct sb_hosting_outbox *outbox)
{
	struct sb_hosting_webhook w = { .id = id,
		.status = status,
		.secret = secret,
		.url_domain = "example.org",
		.max_attempts = 3 };

	return sb_hosting_webhook_apply(
	    f->ctx.db, f->ctx.secrets, &w, d, outbox);
}

static void
test_webhook_auth(void **state)
{
	struct test_fixture *f = *state;
	struct sb_hosting_outbox outbox;
	struct sb_deployment d;

	assert_int_equal(
	    sb_hosting_deployment_create(f->ctx.db, 1, 3, &d, &outbox), SB_OK);
	assert_int_equal(
	    hook(f, d.id, TEST_SECRET_2, SB_DEPLOY_BUILDING, &d, &outbox),
	    SB_ERR_UNAUTHORIZED);
	assert_int_equal(hook(f, d.id, "", SB_DEPLOY_BUILDING, &d, &outbox),
	    SB_ERR_UNAUTHORIZED);
	assert_int_equal(
	    hook(f, 999, TEST_SECRET_1, SB_DEPLOY_BUILDING, &d, &outbox),
	    SB_ERR_UNAUTHORIZED);
	assert_int_equal(outbox.count, 0);
	assert_int_equal(test_query_int(f->ctx.db,
	                     "SELECT count(*) FROM deployments"
	                     " WHERE status = 'pending'"),
	    1);
	assert_int_equal(
	    test_query_int(f->ctx.db, "SELECT count(*) FROM jobs"), 1);
}

static void
test_webhook_flow(void **state)
{
	struct test_fixture *f = *state;
	struct sb_hosting_outbox outbox;
	struct sb_deployment d, x;
	struct sb_project p;
	int64_t id;

	assert_int_equal(
	    sb_hosting_deployment_create(f->ctx.db, 1, 3, &d, &outbox), SB_OK);
	id = d.id;
	assert_int_equal(
	    hook(f, id, TEST_SECRET_1, SB_DEPLOY_PENDING, &x, &outbox), SB_OK);
	assert_int_equal(outbox.count, 0);
	assert_int_equal(
	    hook(f, id, TEST_SECRET_1, SB_DEPLOY_DEPLOYING, &x, &outbox),
	    SB_OK);
	assert_int_equal(outbox.count, 1);
	assert_int_equal(
	    hook(f, id, TEST_SECRET_1, SB_DEPLOY_BUILDING, &x, &outbox),
	    SB_ERR_CONFLICT);
	assert_int_equal(x.status, SB_DEPLOY_DEPLOYING);
	assert_int_equal(
	    hook(f, id, TEST_SECRET_1, SB_DEPLOY_DONE, &x, &outbox), SB_OK);
	assert_int_equal(x.status, SB_DEPLOY_DONE);
	assert_true(x.deployed_in >= 0 && x.deployed_in < 5);
	assert_int_equal(outbox.count, 2); /* status, then URL */
	assert_true(outbox.job_ids[0] < outbox.job_ids[1]);
	assert_int_equal(sb_hosting_project_get(f->ctx.db, 1, &p), SB_OK);
	assert_memory_equal(p.url, "https://striking-wealth-64e07b9b92-", 35);
	assert_true(p.has_live);
	assert_int_equal(
	    hook(f, id, TEST_SECRET_1, SB_DEPLOY_FAILED, &x, &outbox),
	    SB_ERR_CONFLICT);
	/* A second done keeps the URL and writes no URL event. */
	assert_int_equal(
	    sb_hosting_deployment_create(f->ctx.db, 1, 3, &d, &outbox), SB_OK);
	assert_int_equal(
	    hook(f, d.id, TEST_SECRET_1, SB_DEPLOY_DONE, &x, &outbox), SB_OK);
	assert_int_equal(outbox.count, 1);
	assert_int_equal(sb_hosting_project_get(f->ctx.db, 1, &p), SB_OK);
	assert_memory_equal(p.url, "https://striking-wealth-64e07b9b92-", 35);
	assert_int_equal(test_query_int(f->ctx.db,
	                     "SELECT count(*) FROM jobs WHERE payload LIKE"
	                     " '%project.url_assigned%'"),
	    1);
}

static void
test_pages(void **state)
{
	struct test_fixture *f = *state;
	struct sb_deployment rows[SB_HOSTING_PAGE_SIZE], d;
	struct sb_project projects[SB_HOSTING_PAGE_SIZE];
	struct sb_hosting_outbox outbox;
	int64_t total;
	size_t n;

	assert_int_equal(
	    sb_hosting_project_page(f->ctx.db, 3, projects, &n, &total), SB_OK);
	assert_int_equal(n, 4);
	assert_int_equal(total, 20);
	assert_int_equal(projects[0].id, 17);
	assert_int_equal(
	    sb_hosting_project_page(f->ctx.db, 4, projects, &n, &total), SB_OK);
	assert_int_equal(n, 0);
	for (int i = 0; i < 10; i++)
		assert_int_equal(sb_hosting_deployment_create(
		                     f->ctx.db, i % 2 + 1, 3, &d, &outbox),
		    SB_OK);
	assert_int_equal(
	    sb_hosting_deployment_page(f->ctx.db, 2, 1, rows, &n, &total),
	    SB_OK);
	assert_int_equal(n, 5);
	assert_int_equal(total, 5);
	assert_int_equal(rows[0].id, 10); /* newest first */
	assert_int_equal(
	    sb_hosting_deployment_page(f->ctx.db, 0, 2, rows, &n, &total),
	    SB_OK);
	assert_int_equal(n, 2);
	assert_int_equal(total, 10);
	assert_int_equal(rows[1].id, 1);
}

static void
test_user_stats(void **state)
{
	struct test_fixture *f = *state;
	struct sb_hosting_outbox outbox;
	struct sb_hosting_stats s;
	struct sb_deployment d, x;

	assert_int_equal(sb_hosting_user_exists(f->ctx.db, 1), SB_OK);
	assert_int_equal(
	    sb_hosting_user_exists(f->ctx.db, 9), SB_ERR_NOT_FOUND);
	assert_int_equal(
	    sb_hosting_user_stats(f->ctx.db, 1, sb_hosting_now_ms(), &s),
	    SB_OK);
	assert_int_equal(s.deployments, 0);
	assert_int_equal(
	    sb_hosting_deployment_create(f->ctx.db, 1, 3, &d, &outbox), SB_OK);
	assert_int_equal(
	    hook(f, d.id, TEST_SECRET_1, SB_DEPLOY_DONE, &x, &outbox), SB_OK);
	assert_int_equal(
	    sb_hosting_deployment_create(f->ctx.db, 2, 3, &d, &outbox), SB_OK);
	assert_int_equal(
	    sb_hosting_deployment_create(f->ctx.db, 6, 3, &d, &outbox), SB_OK);
	/* Two weeks later: user 1 has 2 deployments, 1 done. */
	assert_int_equal(sb_hosting_user_stats(f->ctx.db, 1,
	                     sb_hosting_now_ms() + 2 * TEST_WEEK_MS, &s),
	    SB_OK);
	assert_int_equal(s.deployments, 2);
	assert_int_equal(s.successful, 1);
	assert_float_equal(s.weeks, 2, 0.01);
	assert_float_equal(s.weekly_deployments, 1, 0.01);
	assert_float_equal(s.weekly_successful, 0.5, 0.01);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_status_names),
		cmocka_unit_test(test_transitions),
		cmocka_unit_test(test_page_parse),
		cmocka_unit_test(test_link),
		cmocka_unit_test(test_stats),
		cmocka_unit_test(test_url),
		cmocka_unit_test(test_json),
		STORE_TEST(test_seed),
		STORE_TEST(test_flags_and_cancel),
		STORE_TEST(test_webhook_auth),
		STORE_TEST(test_webhook_flow),
		STORE_TEST(test_pages),
		STORE_TEST(test_user_stats),
	};

	return cmocka_run_group_tests_name("hosting", tests, NULL, NULL);
}
