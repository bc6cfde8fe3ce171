/*
 * Unit tests for lib/store/jobs.c against the real db/migrations schema:
 * enqueue in the caller's transaction, leasing and lease expiry, completion,
 * failure with backoff, dead jobs and counts, and the batch forms (lease
 * and complete many in one transaction, the read-only due check).  Run
 * from the repository
 * root; each test gets a fresh database in its own mkdtemp directory.
 */
#include <limits.h>
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

#include "sb/store/db.h"
#include "sb/store/jobs.h"
#include "support.h"

#define TEST_LEASE_S 30

/* Asserts that job id is no longer in the table. */
static void
test_job_assert_absent(struct sb_db *db, int64_t id)
{
	enum sb_job_state st;

	assert_int_equal(sb_jobs_state(db, id, &st), SB_ERR_NOT_FOUND);
}

/*
 * True if the plan of sql reads jobs only through jobs_state_queue_run_at
 * (no step of it scans the table), and, when sorted is false, sorts
 * nothing in a temporary b-tree.
 */
static bool
test_plan_uses_index(struct sb_db *db, const char *sql, bool sorted)
{
	char query[512];
	sqlite3_stmt *stmt = NULL;
	const char *detail;
	bool indexed = false, scan = false, sort = false;

	snprintf(query, sizeof(query), "EXPLAIN QUERY PLAN %s", sql);
	assert_int_equal(
	    sqlite3_prepare_v2(sb_db_handle(db), query, -1, &stmt, NULL),
	    SQLITE_OK);
	while (sqlite3_step(stmt) == SQLITE_ROW) {
		detail = (const char *)sqlite3_column_text(stmt, 3);
		if (detail == NULL)
			continue;
		indexed |= strstr(detail, "jobs_state_queue_run_at") != NULL;
		scan |= strncmp(detail, "SCAN jobs", 9) == 0;
		sort |= strstr(detail, "TEMP B-TREE") != NULL;
	}
	sqlite3_finalize(stmt);
	return indexed && !scan && (sorted || !sort);
}

static void
test_enqueue_rolled_back(void **state)
{
	struct test_fixture *f = *state;
	enum sb_job_state st;
	int64_t id = -1, count = -1;

	assert_int_equal(sb_db_begin(f->ctx.db), SB_OK);
	assert_int_equal(
	    sb_jobs_enqueue(f->ctx.db, "mail", "{}", 3, 0, &id), SB_OK);
	assert_true(id > 0);
	sb_db_rollback(f->ctx.db);
	assert_int_equal(sb_jobs_state(f->ctx.db, id, &st), SB_ERR_NOT_FOUND);
	assert_int_equal(
	    sb_jobs_count(f->ctx.db, NULL, SB_JOB_PENDING, &count), SB_OK);
	assert_int_equal(count, 0);

	id = test_job_enqueue(f->ctx.db, "mail", "{\"to\":1}", 3, 0);
	test_job_assert_state(f->ctx.db, id, SB_JOB_PENDING);
	assert_int_equal(test_job_int(f->ctx.db, "attempts", id), 0);
	assert_int_equal(
	    sb_jobs_count(f->ctx.db, NULL, SB_JOB_PENDING, &count), SB_OK);
	assert_int_equal(count, 1);
}

static void
test_enqueue_invalid(void **state)
{
	static const struct {
		const char *queue;
		const char *payload;
		int max_attempts;
		enum sb_err want;
	} cases[] = {
		{ NULL, "{}", 1, SB_ERR_INVALID },
		{ "", "{}", 1, SB_ERR_INVALID },
		{ "q234567890123456789012345678901x", "{}", 1, SB_ERR_INVALID },
		{ "mail", NULL, 1, SB_ERR_INVALID },
		{ "mail", "{}", 0, SB_ERR_INVALID },
		{ "mail", "{}", -3, SB_ERR_INVALID },
		{ "q23456789012345678901234567890x", "{}", 1, SB_OK },
	};
	struct test_fixture *f = *state;
	int64_t count = -1;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_int_equal(
		    sb_jobs_enqueue(f->ctx.db, cases[i].queue, cases[i].payload,
		        cases[i].max_attempts, 0, NULL),
		    cases[i].want);
	assert_int_equal(
	    sb_jobs_count(f->ctx.db, NULL, SB_JOB_PENDING, &count), SB_OK);
	assert_int_equal(count, 1);
}

static void
test_lease_oldest_due(void **state)
{
	struct test_fixture *f = *state;
	struct sb_job job = { 0 };
	int64_t late, early, middle, other;

	late = test_job_enqueue(f->ctx.db, "mail", "{\"n\":\"late\"}", 3, 100);
	early = test_job_enqueue(f->ctx.db, "mail", "{\"n\":\"early\"}", 3, 50);
	middle =
	    test_job_enqueue(f->ctx.db, "mail", "{\"n\":\"middle\"}", 3, 75);
	other = test_job_enqueue(f->ctx.db, "sms", "{\"n\":\"other\"}", 4, 10);

	assert_int_equal(
	    sb_jobs_lease(f->ctx.db, "mail", "A", 40, TEST_LEASE_S, &job),
	    SB_ERR_NOT_FOUND);
	assert_int_equal(job.id, 0);
	assert_null(job.payload);

	assert_int_equal(
	    sb_jobs_lease(f->ctx.db, "mail", "A", 200, TEST_LEASE_S, &job),
	    SB_OK);
	assert_int_equal(job.id, early);
	assert_string_equal(job.queue, "mail");
	assert_string_equal(job.payload, "{\"n\":\"early\"}");
	assert_string_equal(job.owner, "A");
	assert_int_equal(job.attempts, 1);
	assert_int_equal(job.max_attempts, 3);
	assert_int_equal(job.lease_until, 200 + TEST_LEASE_S);
	test_job_assert_state(f->ctx.db, early, SB_JOB_LEASED);
	assert_int_equal(test_job_int(f->ctx.db, "attempts", early), 1);
	sb_job_clear(&job);
	assert_null(job.payload);

	/* Any queue: the sms job is older than the remaining mail jobs. */
	assert_int_equal(
	    sb_jobs_lease(f->ctx.db, NULL, "A", 200, TEST_LEASE_S, &job),
	    SB_OK);
	assert_int_equal(job.id, other);
	assert_int_equal(job.max_attempts, 4);
	sb_job_clear(&job);
	assert_int_equal(
	    sb_jobs_lease(f->ctx.db, "mail", "A", 200, TEST_LEASE_S, &job),
	    SB_OK);
	assert_int_equal(job.id, middle);
	sb_job_clear(&job);
	assert_int_equal(
	    sb_jobs_lease(f->ctx.db, "mail", "A", 200, TEST_LEASE_S, &job),
	    SB_OK);
	assert_int_equal(job.id, late);
	sb_job_clear(&job);
	assert_int_equal(
	    sb_jobs_lease(f->ctx.db, NULL, "A", 200, TEST_LEASE_S, &job),
	    SB_ERR_NOT_FOUND);
	assert_int_equal(sqlite3_get_autocommit(sb_db_handle(f->ctx.db)), 1);
}

static void
test_lease_future(void **state)
{
	struct test_fixture *f = *state;
	struct sb_job job = { 0 };
	int64_t id;

	id = test_job_enqueue(f->ctx.db, "mail", "{}", 3, 1000);
	assert_int_equal(
	    sb_jobs_lease(f->ctx.db, NULL, "A", 999, TEST_LEASE_S, &job),
	    SB_ERR_NOT_FOUND);
	test_job_assert_state(f->ctx.db, id, SB_JOB_PENDING);
	assert_int_equal(test_job_int(f->ctx.db, "attempts", id), 0);
	assert_int_equal(
	    sb_jobs_lease(f->ctx.db, NULL, "A", 1000, TEST_LEASE_S, &job),
	    SB_OK);
	assert_int_equal(job.id, id);
	sb_job_clear(&job);
}

static void
test_lease_invalid(void **state)
{
	static const char long_owner[SB_JOBS_OWNER_MAX + 1] =
	    "0123456789012345678901234567890123456789012345678901234567890123";
	static const struct {
		const char *queue;
		const char *owner;
		int64_t now;
		int lease_s;
	} cases[] = {
		{ NULL, NULL, 10, 30 },
		{ NULL, "", 10, 30 },
		{ NULL, long_owner, 10, 30 },
		{ "", "A", 10, 30 },
		{ NULL, "A", 10, 0 },
		{ NULL, "A", 10, -1 },
		{ NULL, "A", INT64_MAX - 5, 30 },
	};
	struct test_fixture *f = *state;
	struct sb_job job = { 0 };
	int64_t id;
	size_t i;

	id = test_job_enqueue(f->ctx.db, "mail", "{}", 3, 0);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_int_equal(
		    sb_jobs_lease(f->ctx.db, cases[i].queue, cases[i].owner,
		        cases[i].now, cases[i].lease_s, &job),
		    SB_ERR_INVALID);
	test_job_assert_state(f->ctx.db, id, SB_JOB_PENDING);
}

static void
test_lease_contention_and_expiry(void **state)
{
	struct test_fixture *f = *state;
	struct sb_job a = { 0 }, b = { 0 };
	int64_t id;

	id = test_job_enqueue(f->ctx.db, "mail", "{}", 5, 0);
	assert_int_equal(
	    sb_jobs_lease(f->ctx.db, NULL, "A", 100, TEST_LEASE_S, &a), SB_OK);
	assert_int_equal(
	    sb_jobs_lease(f->ctx.db, NULL, "B", 100, TEST_LEASE_S, &b),
	    SB_ERR_NOT_FOUND);
	/* Due again only once lease_until < now. */
	assert_int_equal(sb_jobs_lease(f->ctx.db, NULL, "B", 100 + TEST_LEASE_S,
	                     TEST_LEASE_S, &b),
	    SB_ERR_NOT_FOUND);
	assert_int_equal(sb_jobs_lease(f->ctx.db, NULL, "B",
	                     100 + TEST_LEASE_S + 1, TEST_LEASE_S, &b),
	    SB_OK);
	assert_int_equal(b.id, id);
	assert_int_equal(b.attempts, 2);
	assert_string_equal(b.owner, "B");

	assert_int_equal(sb_jobs_complete(f->ctx.db, &a, 140), SB_ERR_CONFLICT);
	assert_int_equal(
	    sb_jobs_fail(f->ctx.db, &a, "late", 0, 140), SB_ERR_CONFLICT);
	test_job_assert_state(f->ctx.db, id, SB_JOB_LEASED);
	assert_int_equal(test_job_int(f->ctx.db, "attempts", id), 2);
	assert_int_equal(sb_jobs_complete(f->ctx.db, &b, 140), SB_OK);
	test_job_assert_state(f->ctx.db, id, SB_JOB_DONE);
	assert_int_equal(sb_jobs_complete(f->ctx.db, &b, 141), SB_ERR_CONFLICT);
	sb_job_clear(&a);
	sb_job_clear(&b);
	assert_int_equal(
	    sb_jobs_lease(f->ctx.db, NULL, "C", 100000, TEST_LEASE_S, &a),
	    SB_ERR_NOT_FOUND);
}

static void
test_same_owner_new_attempt(void **state)
{
	struct test_fixture *f = *state;
	struct sb_job first = { 0 }, second = { 0 };

	/* The same owner name re-leasing after expiry is a new lease. */
	test_job_enqueue(f->ctx.db, "mail", "{}", 5, 0);
	assert_int_equal(
	    sb_jobs_lease(f->ctx.db, NULL, "A", 0, 10, &first), SB_OK);
	assert_int_equal(
	    sb_jobs_lease(f->ctx.db, NULL, "A", 11, 10, &second), SB_OK);
	assert_int_equal(
	    sb_jobs_complete(f->ctx.db, &first, 12), SB_ERR_CONFLICT);
	assert_int_equal(sb_jobs_complete(f->ctx.db, &second, 12), SB_OK);
	sb_job_clear(&first);
	sb_job_clear(&second);
}

static void
test_fail_backoff(void **state)
{
	/* Each row: fail attempt n with this hint; when it is due again. */
	static const struct {
		int64_t hint;
		int64_t delay;
	} steps[] = {
		{ 0, SB_JOBS_BACKOFF_BASE_S }, /* attempt 1 */
		{ 500, 500 }, /* hint wins */
		{ -100, 4 * SB_JOBS_BACKOFF_BASE_S }, /* attempt 3 */
		{ 10, 8 * SB_JOBS_BACKOFF_BASE_S }, /* backoff wins */
	};
	struct test_fixture *f = *state;
	struct sb_job job = { 0 };
	int64_t id, now = 1000, count = -1;
	size_t i;

	id = test_job_enqueue(f->ctx.db, "mail", "{}", 10, now);
	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		assert_int_equal(sb_jobs_lease(f->ctx.db, NULL, "A", now,
		                     TEST_LEASE_S, &job),
		    SB_OK);
		assert_int_equal(job.attempts, (int)i + 1);
		assert_int_equal(sb_jobs_fail(f->ctx.db, &job, "upstream 503",
		                     steps[i].hint, now),
		    SB_OK);
		sb_job_clear(&job);
		test_job_assert_state(f->ctx.db, id, SB_JOB_PENDING);
		assert_int_equal(
		    test_job_int(f->ctx.db, "attempts", id), (int)i + 1);
		assert_int_equal(test_job_int(f->ctx.db, "run_at", id),
		    now + steps[i].delay);
		assert_int_equal(
		    test_job_int(f->ctx.db, "lease_until IS NULL", id), 1);
		assert_int_equal(
		    test_job_int(f->ctx.db, "last_error = 'upstream 503'", id),
		    1);
		now += steps[i].delay;
		assert_int_equal(sb_jobs_lease(f->ctx.db, NULL, "A", now - 1,
		                     TEST_LEASE_S, &job),
		    SB_ERR_NOT_FOUND);
	}
	assert_int_equal(
	    sb_jobs_count(f->ctx.db, "mail", SB_JOB_PENDING, &count), SB_OK);
	assert_int_equal(count, 1);
}

static void
test_fail_until_dead(void **state)
{
	struct test_fixture *f = *state;
	struct sb_job job = { 0 };
	int64_t id, now = 0, count = -1;
	int i;

	id = test_job_enqueue(f->ctx.db, "mail", "{}", 2, 0);
	for (i = 1; i <= 2; i++) {
		assert_int_equal(sb_jobs_lease(f->ctx.db, NULL, "A", now,
		                     TEST_LEASE_S, &job),
		    SB_OK);
		assert_int_equal(
		    sb_jobs_fail(f->ctx.db, &job, NULL, 0, now), SB_OK);
		sb_job_clear(&job);
		test_job_assert_state(
		    f->ctx.db, id, i < 2 ? SB_JOB_PENDING : SB_JOB_DEAD);
		now += SB_JOBS_BACKOFF_CAP_S;
	}
	assert_int_equal(test_job_int(f->ctx.db, "attempts", id), 2);
	assert_int_equal(test_job_int(f->ctx.db, "last_error IS NULL", id), 1);
	assert_int_equal(sb_jobs_lease(f->ctx.db, NULL, "A", INT64_MAX / 2,
	                     TEST_LEASE_S, &job),
	    SB_ERR_NOT_FOUND);
	assert_int_equal(
	    sb_jobs_count(f->ctx.db, NULL, SB_JOB_DEAD, &count), SB_OK);
	assert_int_equal(count, 1);
}

static void
test_fail_long_error(void **state)
{
	struct test_fixture *f = *state;
	struct sb_job job = { 0 };
	char error[4096];
	int64_t id;

	memset(error, 'e', sizeof(error) - 1);
	error[sizeof(error) - 1] = '\0';
	id = test_job_enqueue(f->ctx.db, "mail", "{}", 3, 0);
	assert_int_equal(
	    sb_jobs_lease(f->ctx.db, NULL, "A", 0, TEST_LEASE_S, &job), SB_OK);
	assert_int_equal(sb_jobs_fail(f->ctx.db, &job, error, 0, 0), SB_OK);
	sb_job_clear(&job);
	assert_int_equal(
	    test_job_int(f->ctx.db, "length(last_error)", id), 1024);
}

static void
test_lease_id(void **state)
{
	struct test_fixture *f = *state;
	struct sb_job job = { 0 };
	int64_t older, newer, future;

	older = test_job_enqueue(f->ctx.db, "mail", "{\"n\":1}", 3, 0);
	newer = test_job_enqueue(f->ctx.db, "mail", "{\"n\":2}", 3, 5);
	future = test_job_enqueue(f->ctx.db, "mail", "{\"n\":3}", 3, 500);
	assert_int_equal(
	    sb_jobs_lease_id(f->ctx.db, newer, "A", 10, TEST_LEASE_S, &job),
	    SB_OK);
	assert_int_equal(job.id, newer);
	assert_string_equal(job.payload, "{\"n\":2}");
	sb_job_clear(&job);
	test_job_assert_state(f->ctx.db, older, SB_JOB_PENDING);
	assert_int_equal(
	    sb_jobs_lease_id(f->ctx.db, newer, "B", 10, TEST_LEASE_S, &job),
	    SB_ERR_NOT_FOUND);
	assert_int_equal(
	    sb_jobs_lease_id(f->ctx.db, future, "B", 10, TEST_LEASE_S, &job),
	    SB_ERR_NOT_FOUND);
	assert_int_equal(sb_jobs_lease_id(f->ctx.db, future + 100, "B", 10,
	                     TEST_LEASE_S, &job),
	    SB_ERR_NOT_FOUND);
	assert_int_equal(
	    sb_jobs_lease_id(f->ctx.db, -1, "B", 10, TEST_LEASE_S, &job),
	    SB_ERR_NOT_FOUND);
	assert_null(job.payload);
}

static void
test_count(void **state)
{
	static const struct {
		const char *queue;
		enum sb_job_state state;
		int64_t want;
	} cases[] = {
		{ NULL, SB_JOB_PENDING, 2 },
		{ NULL, SB_JOB_LEASED, 1 },
		{ NULL, SB_JOB_DONE, 1 },
		{ NULL, SB_JOB_DEAD, 0 },
		{ "mail", SB_JOB_PENDING, 1 },
		{ "sms", SB_JOB_PENDING, 1 },
		{ "sms", SB_JOB_DONE, 1 },
		{ "none", SB_JOB_PENDING, 0 },
	};
	struct test_fixture *f = *state;
	struct sb_job job = { 0 };
	int64_t count;
	size_t i;

	test_job_enqueue(f->ctx.db, "sms", "{}", 3, 0);
	assert_int_equal(
	    sb_jobs_lease(f->ctx.db, "sms", "A", 0, 10, &job), SB_OK);
	assert_int_equal(sb_jobs_complete(f->ctx.db, &job, 1), SB_OK);
	sb_job_clear(&job);
	test_job_enqueue(f->ctx.db, "mail", "{}", 3, 0);
	assert_int_equal(
	    sb_jobs_lease(f->ctx.db, "mail", "A", 0, 10, &job), SB_OK);
	sb_job_clear(&job);
	test_job_enqueue(f->ctx.db, "mail", "{}", 3, 0);
	test_job_enqueue(f->ctx.db, "sms", "{}", 3, 0);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		count = -1;
		assert_int_equal(sb_jobs_count(f->ctx.db, cases[i].queue,
		                     cases[i].state, &count),
		    SB_OK);
		assert_int_equal(count, cases[i].want);
	}
	assert_int_equal(sb_jobs_count(f->ctx.db, NULL, SB_JOB__MAX, &count),
	    SB_ERR_INVALID);
}

static void
test_backoff(void **state)
{
	static const struct {
		int attempts;
		int64_t want;
	} cases[] = {
		{ INT_MIN, SB_JOBS_BACKOFF_BASE_S },
		{ 0, SB_JOBS_BACKOFF_BASE_S },
		{ 1, 30 },
		{ 2, 60 },
		{ 3, 120 },
		{ 7, 1920 },
		{ 8, SB_JOBS_BACKOFF_CAP_S }, /* 3840 capped */
		{ 9, SB_JOBS_BACKOFF_CAP_S },
		{ 64, SB_JOBS_BACKOFF_CAP_S },
		{ 1000, SB_JOBS_BACKOFF_CAP_S },
		{ INT_MAX, SB_JOBS_BACKOFF_CAP_S },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_int_equal(
		    sb_jobs_backoff_s(cases[i].attempts), cases[i].want);
}

static void
test_job_clear(void **state)
{
	struct sb_job job = { 0 };

	(void)state;
	sb_job_clear(&job);
	sb_job_clear(NULL);
	job.id = 5;
	job.payload = strdup("{}");
	assert_non_null(job.payload);
	sb_job_clear(&job);
	assert_int_equal(job.id, 0);
	assert_null(job.payload);
}

/* A batch lease takes the oldest due jobs of the queue, oldest first. */
static void
test_lease_batch_oldest_first(void **state)
{
	struct test_fixture *f = *state;
	struct sb_job jobs[3];
	int64_t late, early, middle, future;
	size_t count = 99;

	late = test_job_enqueue(f->ctx.db, "mail", "{\"n\":\"late\"}", 3, 100);
	early = test_job_enqueue(f->ctx.db, "mail", "{\"n\":\"early\"}", 3, 50);
	test_job_enqueue(f->ctx.db, "sms", "{\"n\":\"other\"}", 3, 10);
	middle =
	    test_job_enqueue(f->ctx.db, "mail", "{\"n\":\"middle\"}", 3, 75);
	future = test_job_enqueue(f->ctx.db, "mail", "{}", 3, 1000);

	assert_int_equal(sb_jobs_lease_batch(f->ctx.db, "mail", "A", 200,
	                     TEST_LEASE_S, 3, jobs, &count),
	    SB_OK);
	assert_int_equal(count, 3);
	assert_int_equal(jobs[0].id, early);
	assert_int_equal(jobs[1].id, middle);
	assert_int_equal(jobs[2].id, late);
	assert_string_equal(jobs[1].payload, "{\"n\":\"middle\"}");
	for (size_t i = 0; i < count; i++) {
		assert_string_equal(jobs[i].queue, "mail");
		assert_string_equal(jobs[i].owner, "A");
		assert_int_equal(jobs[i].attempts, 1);
		assert_int_equal(jobs[i].lease_until, 200 + TEST_LEASE_S);
		test_job_assert_state(f->ctx.db, jobs[i].id, SB_JOB_LEASED);
		sb_job_clear(&jobs[i]);
	}
	test_job_assert_state(f->ctx.db, future, SB_JOB_PENDING);
	/* The rest: nothing of mail is due; the leased ones are held. */
	assert_int_equal(sb_jobs_lease_batch(f->ctx.db, "mail", "B", 200,
	                     TEST_LEASE_S, 3, jobs, &count),
	    SB_ERR_NOT_FOUND);
	assert_int_equal(count, 0);
	assert_null(jobs[0].payload);
	assert_int_equal(sqlite3_get_autocommit(sb_db_handle(f->ctx.db)), 1);
}

/* max caps the batch; queue NULL takes any queue; expired leases are due. */
static void
test_lease_batch_max_and_expiry(void **state)
{
	struct test_fixture *f = *state;
	struct sb_job jobs[2];
	size_t count = 0;
	int64_t a, b, c;

	a = test_job_enqueue(f->ctx.db, "mail", "{}", 3, 10);
	b = test_job_enqueue(f->ctx.db, "sms", "{}", 3, 20);
	c = test_job_enqueue(f->ctx.db, "mail", "{}", 3, 30);
	assert_int_equal(sb_jobs_lease_batch(f->ctx.db, NULL, "A", 100,
	                     TEST_LEASE_S, 2, jobs, &count),
	    SB_OK);
	assert_int_equal(count, 2);
	assert_int_equal(jobs[0].id, a);
	assert_int_equal(jobs[1].id, b);
	sb_job_clear(&jobs[0]);
	sb_job_clear(&jobs[1]);
	test_job_assert_state(f->ctx.db, c, SB_JOB_PENDING);
	/* After the lease runs out, a and b are due again, with c. */
	assert_int_equal(
	    sb_jobs_lease_batch(f->ctx.db, NULL, "B", 100 + TEST_LEASE_S + 1,
	        TEST_LEASE_S, 2, jobs, &count),
	    SB_OK);
	assert_int_equal(count, 2);
	assert_int_equal(jobs[0].id, a);
	assert_int_equal(jobs[0].attempts, 2);
	assert_string_equal(jobs[0].owner, "B");
	sb_job_clear(&jobs[0]);
	sb_job_clear(&jobs[1]);
}

static void
test_lease_batch_invalid(void **state)
{
	struct test_fixture *f = *state;
	struct sb_job jobs[2];
	size_t count = 7;

	test_job_enqueue(f->ctx.db, "mail", "{}", 3, 10);
	assert_int_equal(sb_jobs_lease_batch(f->ctx.db, "mail", "A", 100,
	                     TEST_LEASE_S, 0, jobs, &count),
	    SB_ERR_INVALID);
	assert_int_equal(sb_jobs_lease_batch(f->ctx.db, "mail", "A", 100,
	                     TEST_LEASE_S, SB_JOBS_BATCH_MAX + 1, jobs, &count),
	    SB_ERR_INVALID);
	assert_int_equal(sb_jobs_lease_batch(f->ctx.db, "mail", "", 100,
	                     TEST_LEASE_S, 2, jobs, &count),
	    SB_ERR_INVALID);
	assert_int_equal(count, 0);
	assert_int_equal(sb_jobs_lease_batch(
	                     f->ctx.db, "mail", "A", 100, 0, 2, jobs, &count),
	    SB_ERR_INVALID);
	assert_int_equal(sb_jobs_lease_batch(f->ctx.db, "mail", "A", 100,
	                     TEST_LEASE_S, 2, NULL, &count),
	    SB_ERR_INVALID);
	assert_int_equal(sb_jobs_lease_batch(f->ctx.db, "mail", "A", 100,
	                     TEST_LEASE_S, 2, jobs, NULL),
	    SB_ERR_INVALID);
	assert_int_equal(count, 0);
	assert_int_equal(sqlite3_get_autocommit(sb_db_handle(f->ctx.db)), 1);
}

/* Completing a batch is one transaction; a lost lease is skipped. */
static void
test_complete_batch(void **state)
{
	struct test_fixture *f = *state;
	struct sb_job jobs[3], taken = { 0 };
	size_t count = 0, completed = 99;

	for (int i = 0; i < 3; i++)
		test_job_enqueue(f->ctx.db, "mail", "{}", 3, 10 + i);
	assert_int_equal(sb_jobs_lease_batch(f->ctx.db, "mail", "A", 100,
	                     TEST_LEASE_S, 3, jobs, &count),
	    SB_OK);
	assert_int_equal(count, 3);
	/* jobs[1]'s lease runs out and B takes it over. */
	assert_int_equal(sb_jobs_lease_id(f->ctx.db, jobs[1].id, "B",
	                     100 + TEST_LEASE_S + 1, TEST_LEASE_S, &taken),
	    SB_OK);
	assert_int_equal(
	    sb_jobs_complete_batch(f->ctx.db, jobs, 3, 200, &completed), SB_OK);
	assert_int_equal(completed, 2);
	test_job_assert_state(f->ctx.db, jobs[0].id, SB_JOB_DONE);
	test_job_assert_state(f->ctx.db, jobs[1].id, SB_JOB_LEASED);
	test_job_assert_state(f->ctx.db, jobs[2].id, SB_JOB_DONE);
	assert_int_equal(sb_jobs_complete(f->ctx.db, &taken, 200), SB_OK);
	test_job_assert_state(f->ctx.db, taken.id, SB_JOB_DONE);
	/* Again: nothing is leased any more, nothing changes. */
	assert_int_equal(
	    sb_jobs_complete_batch(f->ctx.db, jobs, 3, 200, &completed), SB_OK);
	assert_int_equal(completed, 0);
	assert_int_equal(
	    sb_jobs_complete_batch(f->ctx.db, jobs, 0, 200, &completed), SB_OK);
	assert_int_equal(sb_jobs_complete_batch(f->ctx.db, NULL, 1, 200, NULL),
	    SB_ERR_INVALID);
	assert_int_equal(sqlite3_get_autocommit(sb_db_handle(f->ctx.db)), 1);
	sb_job_clear(&taken);
	for (size_t i = 0; i < count; i++)
		sb_job_clear(&jobs[i]);
}

/*
 * Removing a batch deletes the jobs in one transaction, as completing marks
 * them done; a lost lease is skipped; other jobs stay.
 */
static void
test_remove_batch(void **state)
{
	struct test_fixture *f = *state;
	struct sb_job jobs[3], taken = { 0 };
	size_t count = 0, removed = 99;
	int64_t other;

	for (int i = 0; i < 3; i++)
		test_job_enqueue(f->ctx.db, "events", "{}", 3, 10 + i);
	other = test_job_enqueue(f->ctx.db, "events", "{}", 3, 500);
	assert_int_equal(sb_jobs_lease_batch(f->ctx.db, "events", "A", 100,
	                     TEST_LEASE_S, 3, jobs, &count),
	    SB_OK);
	assert_int_equal(count, 3);
	/* jobs[1]'s lease runs out and B takes it over. */
	assert_int_equal(sb_jobs_lease_id(f->ctx.db, jobs[1].id, "B",
	                     100 + TEST_LEASE_S + 1, TEST_LEASE_S, &taken),
	    SB_OK);
	assert_int_equal(
	    sb_jobs_remove_batch(f->ctx.db, jobs, 3, &removed), SB_OK);
	assert_int_equal(removed, 2);
	test_job_assert_absent(f->ctx.db, jobs[0].id);
	test_job_assert_state(f->ctx.db, jobs[1].id, SB_JOB_LEASED);
	test_job_assert_absent(f->ctx.db, jobs[2].id);
	test_job_assert_state(f->ctx.db, other, SB_JOB_PENDING);
	assert_int_equal(
	    sb_jobs_remove_batch(f->ctx.db, &taken, 1, &removed), SB_OK);
	assert_int_equal(removed, 1);
	test_job_assert_absent(f->ctx.db, taken.id);
	/* Again: nothing is leased any more, nothing changes. */
	assert_int_equal(
	    sb_jobs_remove_batch(f->ctx.db, jobs, 3, &removed), SB_OK);
	assert_int_equal(removed, 0);
	assert_int_equal(
	    sb_jobs_remove_batch(f->ctx.db, jobs, 0, &removed), SB_OK);
	assert_int_equal(
	    sb_jobs_remove_batch(f->ctx.db, NULL, 1, NULL), SB_ERR_INVALID);
	assert_int_equal(
	    test_query_int(f->ctx.db, "SELECT count(*) FROM jobs"), 1);
	assert_int_equal(sqlite3_get_autocommit(sb_db_handle(f->ctx.db)), 1);
	sb_job_clear(&taken);
	for (size_t i = 0; i < count; i++)
		sb_job_clear(&jobs[i]);
}

/*
 * A batch comes back oldest first by run_at, whatever the order of the ids
 * (a retried job can be older than a newer id's run_at, or younger).
 */
static void
test_lease_batch_order_by_run_at(void **state)
{
	static const int64_t run_at[] = { 40, 10, 30, 10, 20 };
	struct test_fixture *f = *state;
	struct sb_job jobs[5];
	int64_t id[5];
	size_t count = 0;

	for (size_t i = 0; i < 5; i++)
		id[i] =
		    test_job_enqueue(f->ctx.db, "events", "{}", 3, run_at[i]);
	assert_int_equal(sb_jobs_lease_batch(f->ctx.db, "events", "A", 100,
	                     TEST_LEASE_S, 5, jobs, &count),
	    SB_OK);
	assert_int_equal(count, 5);
	assert_int_equal(jobs[0].id, id[1]);
	assert_int_equal(jobs[1].id, id[3]);
	assert_int_equal(jobs[2].id, id[4]);
	assert_int_equal(jobs[3].id, id[2]);
	assert_int_equal(jobs[4].id, id[0]);
	for (size_t i = 0; i < count; i++)
		sb_job_clear(&jobs[i]);
}

/*
 * Every statement of the jobs table finds its rows through the one index
 * (state, queue, run_at) that migration 0011 leaves, never by a full scan;
 * a look-up in one queue sorts nothing (a backlog is read in index order).
 */
static void
test_one_index_plans(void **state)
{
	static const struct {
		const char *sql;
		bool sorted;
	} cases[] = {
		{ "SELECT id FROM jobs WHERE ((state = 'pending' AND run_at <= "
		  "1)"
		  " OR (state = 'leased' AND lease_until < 1))"
		  " AND NULL IS NULL ORDER BY run_at, id LIMIT 5",
		    true },
		{ "SELECT 1 FROM jobs WHERE ((state = 'pending' AND run_at <= "
		  "1)"
		  " OR (state = 'leased' AND lease_until < 1))"
		  " AND queue = 'events' LIMIT 1",
		    false },
		{ "SELECT id FROM jobs WHERE state = 'leased' AND queue = 'x'"
		  " AND lease_until < 1 UNION ALL SELECT id FROM (SELECT id"
		  " FROM jobs WHERE state = 'pending' AND queue = 'x'"
		  " AND run_at <= 1 ORDER BY run_at, id LIMIT 5) LIMIT 5",
		    false },
		{ "SELECT count(*) FROM jobs WHERE state = 'done'"
		  " AND queue = 'x'",
		    false },
		{ "DELETE FROM jobs WHERE state = 'done' AND updated_at < 'x'",
		    false },
		{ "UPDATE jobs SET run_at = 1 WHERE queue = 'events'"
		  " AND state = 'pending' AND run_at > 1",
		    false },
	};
	struct test_fixture *f = *state;

	assert_int_equal(test_query_int(f->ctx.db,
	                     "SELECT count(*) FROM sqlite_schema WHERE"
	                     " type = 'index' AND tbl_name = 'jobs'"),
	    1);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_true(test_plan_uses_index(
		    f->ctx.db, cases[i].sql, cases[i].sorted));
}

/* The due check: per queue or any, pending by run_at, leased by expiry. */
static void
test_due(void **state)
{
	struct test_fixture *f = *state;
	struct sb_job job = { 0 };
	bool any = true;

	assert_int_equal(sb_jobs_due(f->ctx.db, "mail", 100, &any), SB_OK);
	assert_false(any);
	test_job_enqueue(f->ctx.db, "mail", "{}", 3, 50);
	test_job_enqueue(f->ctx.db, "sms", "{}", 3, 500);
	assert_int_equal(sb_jobs_due(f->ctx.db, "mail", 49, &any), SB_OK);
	assert_false(any);
	assert_int_equal(sb_jobs_due(f->ctx.db, "mail", 50, &any), SB_OK);
	assert_true(any);
	assert_int_equal(sb_jobs_due(f->ctx.db, "sms", 100, &any), SB_OK);
	assert_false(any);
	assert_int_equal(sb_jobs_due(f->ctx.db, NULL, 100, &any), SB_OK);
	assert_true(any);
	assert_int_equal(
	    sb_jobs_lease(f->ctx.db, "mail", "A", 100, TEST_LEASE_S, &job),
	    SB_OK);
	assert_int_equal(sb_jobs_due(f->ctx.db, "mail", 100, &any), SB_OK);
	assert_false(any);
	assert_int_equal(
	    sb_jobs_due(f->ctx.db, "mail", 100 + TEST_LEASE_S + 1, &any),
	    SB_OK);
	assert_true(any);
	assert_int_equal(sb_jobs_complete(f->ctx.db, &job, 100), SB_OK);
	assert_int_equal(
	    sb_jobs_due(f->ctx.db, "mail", 100 + TEST_LEASE_S + 1, &any),
	    SB_OK);
	assert_false(any);
	/* A read: no transaction is left open, no write lock was taken. */
	assert_int_equal(sqlite3_get_autocommit(sb_db_handle(f->ctx.db)), 1);
	assert_int_equal(sb_jobs_due(f->ctx.db, "", 100, &any), SB_ERR_INVALID);
	assert_int_equal(
	    sb_jobs_due(f->ctx.db, "mail", 100, NULL), SB_ERR_INVALID);
	sb_job_clear(&job);
}

/* Prune deletes done jobs older than the cut, and nothing else. */
static void
test_prune(void **state)
{
	struct test_fixture *f = *state;
	struct sb_job job = { 0 };
	int64_t old, fresh, pending, dead, deleted = -1;

	old = test_job_enqueue(f->ctx.db, "mail", "{}", 3, 100);
	fresh = test_job_enqueue(f->ctx.db, "mail", "{}", 3, 100);
	pending = test_job_enqueue(f->ctx.db, "mail", "{}", 3, 100);
	dead = test_job_enqueue(f->ctx.db, "mail", "{}", 1, 100);
	assert_int_equal(
	    sb_jobs_lease_id(f->ctx.db, old, "w", 100, 60, &job), SB_OK);
	assert_int_equal(sb_jobs_complete(f->ctx.db, &job, 100), SB_OK);
	sb_job_clear(&job);
	assert_int_equal(
	    sb_jobs_lease_id(f->ctx.db, fresh, "w", 100, 60, &job), SB_OK);
	assert_int_equal(sb_jobs_complete(f->ctx.db, &job, 100), SB_OK);
	sb_job_clear(&job);
	assert_int_equal(
	    sb_jobs_lease_id(f->ctx.db, dead, "w", 100, 60, &job), SB_OK);
	assert_int_equal(sb_jobs_fail(f->ctx.db, &job, "x", 0, 100), SB_OK);
	sb_job_clear(&job);
	/* Age one done job by hand: updated_at is ISO text. */
	assert_int_equal(sqlite3_exec(sb_db_handle(f->ctx.db),
	                     "UPDATE jobs SET updated_at = "
	                     "'2000-01-01T00:00:00.000Z' WHERE state IN "
	                     "('done', 'dead')",
	                     NULL, NULL, NULL),
	    SQLITE_OK);
	assert_int_equal(sqlite3_exec(sb_db_handle(f->ctx.db),
	                     "UPDATE jobs SET updated_at = "
	                     "'2999-01-01T00:00:00.000Z' WHERE id = 2",
	                     NULL, NULL, NULL),
	    SQLITE_OK);
	assert_int_equal(sb_jobs_prune(f->ctx.db, 1000000000, &deleted), SB_OK);
	assert_int_equal(deleted, 1);
	assert_int_equal(
	    test_query_int(f->ctx.db, "SELECT count(*) FROM jobs WHERE id = 1"),
	    0);
	test_job_assert_state(f->ctx.db, fresh, SB_JOB_DONE);
	test_job_assert_state(f->ctx.db, pending, SB_JOB_PENDING);
	test_job_assert_state(f->ctx.db, dead, SB_JOB_DEAD);
}

/*
 * A job leased by a holder that is a dead process of this host is due
 * again at once, long before its lease runs out, for every way of leasing
 * it; a holder alive, this process or of another host keeps it.
 */
static void
test_dead_holder_taken_over(void **state)
{
	static const bool taken[TEST_OWNER__MAX] = {
		[TEST_OWNER_DEAD] = true,
	};
	struct test_fixture *f = *state;
	struct sb_db *db = f->ctx.db;
	char holder[SB_JOBS_OWNER_MAX];
	struct sb_job job = { 0 }, batch[2];
	size_t count = 0;
	int64_t id;
	bool any;

	for (int k = 0; k < TEST_OWNER__MAX; k++) {
		test_owner_name(
		    (enum test_owner_kind)k, holder, sizeof(holder));
		id = test_job_enqueue(db, "mail", "{}", 3, 100);
		assert_int_equal(
		    sb_jobs_lease_id(db, id, holder, 100, 600, &job), SB_OK);
		sb_job_clear(&job);
		assert_int_equal(sb_jobs_due(db, "mail", 101, &any), SB_OK);
		if (any != taken[k])
			fail_msg("holder %s: due %d", holder, any);
		assert_int_equal(sb_jobs_lease_id(db, id, "B", 101, 60, &job),
		    taken[k] ? SB_OK : SB_ERR_NOT_FOUND);
		sb_job_clear(&job);
		assert_int_equal(sb_jobs_lease_batch(db, "mail", "B", 101, 60,
		                     ARRAY_LEN(batch), batch, &count),
		    SB_ERR_NOT_FOUND);
		/* Cleared for the next kind: the job is done. */
		assert_int_equal(
		    sb_jobs_lease(db, "mail", "C", 10000, 60, &job), SB_OK);
		assert_int_equal(sb_jobs_complete(db, &job, 10000), SB_OK);
		sb_job_clear(&job);
	}
	/* A batch lease takes a dead holder's jobs too. */
	test_owner_name(TEST_OWNER_DEAD, holder, sizeof(holder));
	id = test_job_enqueue(db, "mail", "{}", 3, 100);
	assert_int_equal(
	    sb_jobs_lease_id(db, id, holder, 100, 600, &job), SB_OK);
	sb_job_clear(&job);
	assert_int_equal(sb_jobs_lease_batch(db, "mail", "B", 101, 60,
	                     ARRAY_LEN(batch), batch, &count),
	    SB_OK);
	assert_int_equal(count, 1);
	assert_int_equal(batch[0].id, id);
	assert_int_equal(batch[0].attempts, 2);
	sb_job_clear(&batch[0]);
}

#define JOBS_TEST(fn) \
	cmocka_unit_test_setup_teardown( \
	    fn, test_fixture_setup, test_fixture_teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		JOBS_TEST(test_enqueue_rolled_back),
		JOBS_TEST(test_enqueue_invalid),
		JOBS_TEST(test_lease_oldest_due),
		JOBS_TEST(test_lease_future),
		JOBS_TEST(test_lease_invalid),
		JOBS_TEST(test_lease_contention_and_expiry),
		JOBS_TEST(test_same_owner_new_attempt),
		JOBS_TEST(test_fail_backoff),
		JOBS_TEST(test_fail_until_dead),
		JOBS_TEST(test_fail_long_error),
		JOBS_TEST(test_lease_id),
		JOBS_TEST(test_count),
		JOBS_TEST(test_lease_batch_oldest_first),
		JOBS_TEST(test_lease_batch_max_and_expiry),
		JOBS_TEST(test_lease_batch_invalid),
		JOBS_TEST(test_complete_batch),
		JOBS_TEST(test_remove_batch),
		JOBS_TEST(test_lease_batch_order_by_run_at),
		JOBS_TEST(test_one_index_plans),
		JOBS_TEST(test_due),
		JOBS_TEST(test_prune),
		JOBS_TEST(test_dead_holder_taken_over),
		cmocka_unit_test(test_backoff),
		cmocka_unit_test(test_job_clear),
	};

	return cmocka_run_group_tests_name("jobs", tests, NULL, NULL);
}
