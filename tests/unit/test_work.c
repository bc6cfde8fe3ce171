/*
 * Unit tests for lib/runtime/work.c over lib/store/jobs.c and a fresh database
 * migrated with the real db/migrations (run from the repository root): running
 * due jobs through a queue table, failures rescheduled or dead, jobs of a queue
 * with no worker failed, one job run by id, the batch cap and the owner
 * name; batch queues (one lease, one call and one completion per round),
 * running a queue round after round until nothing is due, and the
 * after-response form that first asks whether anything is due.  The context is
 * built by hand with only what work.c reads.
 */
#include <setjmp.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "sb/core/deadline.h"
#include "sb/runtime/context.h"
#include "sb/runtime/drain.h"
#include "sb/store/db.h"
#include "sb/store/jobs.h"
#include "sb/runtime/work.h"
#include "support.h"

#define TEST_LEASE_S 60
#define TEST_HINT_S 600
#define TEST_TEXT_MAX 512
#define TEST_SLOW_MS 40 /* work_slow's time: most of a 50 ms budget */

/* What the workers saw. */
static struct {
	int ok_calls;
	int bad_calls;
	int hint_calls;
	int batch_calls;
	size_t batch_sizes[8];
	char payload[TEST_TEXT_MAX];
	char queue[SB_JOBS_QUEUE_MAX];
	char owner[SB_JOBS_OWNER_MAX];
	int attempts;
	struct sb_ctx *ctx;
	int64_t deadline; /* ctx->deadline during the last call */
} seen;

static void
remember(struct sb_ctx *ctx, const struct sb_job *job)
{
	snprintf(seen.payload, sizeof(seen.payload), "%s",
	    job->payload != NULL ? job->payload : "(null)");
	snprintf(seen.queue, sizeof(seen.queue), "%s", job->queue);
	snprintf(seen.owner, sizeof(seen.owner), "%s", job->owner);
	seen.attempts = job->attempts;
	seen.ctx = ctx;
	seen.deadline = ctx->deadline;
}

static enum sb_err
work_ok(struct sb_ctx *ctx, const struct sb_job *job, char *err, size_t errsize,
    int64_t *retry_after_s)
{
	(void)err;
	(void)errsize;
	(void)retry_after_s;
	seen.ok_calls++;
	remember(ctx, job);
	return SB_OK;
}

static enum sb_err
work_bad(struct sb_ctx *ctx, const struct sb_job *job, char *err,
    size_t errsize, int64_t *retry_after_s)
{
	(void)retry_after_s;
	seen.bad_calls++;
	remember(ctx, job);
	snprintf(err, errsize, "worker said no");
	return SB_ERR_UPSTREAM;
}

/* Fails without a message and asks for a long wait. */
static enum sb_err
work_hint(struct sb_ctx *ctx, const struct sb_job *job, char *err,
    size_t errsize, int64_t *retry_after_s)
{
	(void)err;
	(void)errsize;
	seen.hint_calls++;
	remember(ctx, job);
	*retry_after_s = TEST_HINT_S;
	return SB_ERR_TIMEOUT;
}

/*
 * A batch worker: a job whose payload is {"ok":1} is done, {"skip":1} is
 * left unanswered (so it counts as failed), anything else fails with a
 * message and a wait.
 */
static void
work_batch(struct sb_ctx *ctx, const struct sb_job *jobs, size_t count,
    struct sb_work_result *results)
{
	seen.deadline = ctx->deadline;
	if (seen.batch_calls < 8)
		seen.batch_sizes[seen.batch_calls] = count;
	seen.batch_calls++;
	for (size_t i = 0; i < count; i++) {
		assert_int_not_equal(results[i].rc, SB_OK);
		if (strcmp(jobs[i].payload, "{\"ok\":1}") == 0) {
			results[i].rc = SB_OK;
		} else if (strcmp(jobs[i].payload, "{\"skip\":1}") != 0) {
			results[i].rc = SB_ERR_UPSTREAM;
			results[i].retry_after_s = TEST_HINT_S;
			snprintf(results[i].err, sizeof(results[i].err),
			    "batch said no");
		}
	}
}

/* Done for the payload {"ok":1}, failed for any other. */
static enum sb_err
work_step(struct sb_ctx *ctx, const struct sb_job *job, char *err,
    size_t errsize, int64_t *retry_after_s)
{
	if (strcmp(job->payload, "{\"ok\":1}") == 0)
		return work_ok(ctx, job, err, errsize, retry_after_s);
	return work_bad(ctx, job, err, errsize, retry_after_s);
}

/* Done, after TEST_SLOW_MS. */
static enum sb_err
work_slow(struct sb_ctx *ctx, const struct sb_job *job, char *err,
    size_t errsize, int64_t *retry_after_s)
{
	sb_deadline_sleep(TEST_SLOW_MS);
	return work_ok(ctx, job, err, errsize, retry_after_s);
}

static const struct sb_work_queue queues[] = {
	{ "ok", work_ok, NULL, 0, false },
	{ "slow", work_slow, NULL, 1, false },
	{ "steps", work_step, NULL, 3, false },
	{ "bad", work_bad, NULL, 0, false },
	{ "hint", work_hint, NULL, 0, false },
	{ "batch", work_ok, work_batch, 3, false },
	{ "many", work_ok, work_batch, SB_JOBS_BATCH_MAX + 5, false },
	{ "gone", work_ok, work_batch, 3, true },
};

#define QUEUE_COUNT (sizeof(queues) / sizeof(queues[0]))

/* A fresh migrated database in ctx, the lease set, nothing seen yet. */
static int
setup(void **state)
{
	struct test_fixture *f;

	memset(&seen, 0, sizeof(seen));
	if (test_fixture_setup(state) != 0)
		return -1;
	f = *state;
	f->ctx.config.job_lease_s = TEST_LEASE_S;
	return 0;
}

/* last_error of job id into out ("" when NULL). */
static void
job_error(struct sb_db *db, int64_t id, char *out, size_t size)
{
	sqlite3_stmt *stmt = NULL;
	const unsigned char *text;

	assert_int_equal(
	    sqlite3_prepare_v2(sb_db_handle(db),
	        "SELECT last_error FROM jobs WHERE id = ?1", -1, &stmt, NULL),
	    SQLITE_OK);
	sqlite3_bind_int64(stmt, 1, id);
	assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
	text = sqlite3_column_text(stmt, 0);
	snprintf(out, size, "%s", text != NULL ? (const char *)text : "");
	sqlite3_finalize(stmt);
}

static int64_t
count(struct sb_db *db, const char *queue, enum sb_job_state state)
{
	int64_t n = -1;

	assert_int_equal(sb_jobs_count(db, queue, state, &n), SB_OK);
	return n;
}

/* Due jobs of every queue run once each; outcomes are counted both ways. */
static void
test_run_due_counts(void **state)
{
	struct test_fixture *f = *state;
	struct sb_db *db = f->ctx.db;
	int64_t now = (int64_t)time(NULL), bad[2], later;
	int done = -1, failed = -1;

	for (int i = 0; i < 3; i++)
		test_job_enqueue(db, "ok", "{\"n\":1}", 3, now - 10);
	bad[0] = test_job_enqueue(db, "bad", "{}", 3, now - 5);
	bad[1] = test_job_enqueue(db, "bad", "{}", 3, now);
	later = test_job_enqueue(db, "ok", "{}", 3, now + 3600);

	assert_int_equal(
	    sb_work_run_due(&f->ctx, queues, QUEUE_COUNT, &done, &failed),
	    SB_OK);
	assert_int_equal(done, 3);
	assert_int_equal(failed, 2);
	assert_int_equal(seen.ok_calls, 3);
	assert_int_equal(seen.bad_calls, 2);
	assert_ptr_equal(seen.ctx, &f->ctx);

	assert_int_equal(count(db, "ok", SB_JOB_DONE), 3);
	assert_int_equal(count(db, "ok", SB_JOB_PENDING), 1);
	assert_int_equal(count(db, "bad", SB_JOB_PENDING), 2);
	assert_int_equal(count(db, NULL, SB_JOB_LEASED), 0);
	assert_int_equal(count(db, NULL, SB_JOB_DEAD), 0);
	test_job_assert_state(db, later, SB_JOB_PENDING);
	assert_int_equal(test_job_int(db, "attempts", later), 0);

	/* Nothing is due any more: a second pass runs nothing. */
	assert_int_equal(
	    sb_work_run_due(&f->ctx, queues, QUEUE_COUNT, &done, &failed),
	    SB_OK);
	assert_int_equal(done, 0);
	assert_int_equal(failed, 0);
	assert_int_equal(seen.bad_calls, 2);
	(void)bad;
}

/*
 * Outside a request (no deadline) a job runs with its lease's end, less a
 * second, as its deadline, cleared after; a request's deadline is kept.
 */
static void
test_lease_deadline(void **state)
{
	struct test_fixture *f = *state;
	int64_t now = (int64_t)time(NULL), before, set;
	int done = 0, failed = 0;

	test_job_enqueue(f->ctx.db, "ok", "{}", 3, now);
	before = sb_deadline_now();
	assert_int_equal(
	    sb_work_run_due(&f->ctx, queues, QUEUE_COUNT, &done, &failed),
	    SB_OK);
	assert_int_equal(done, 1);
	/* the lease ends TEST_LEASE_S after a second of now's */
	assert_true(seen.deadline >= before + (TEST_LEASE_S - 2) * 1000);
	assert_true(
	    seen.deadline <= sb_deadline_now() + (TEST_LEASE_S - 1) * 1000);
	assert_int_equal(f->ctx.deadline, SB_DEADLINE_NONE);

	seen.deadline = 0;
	test_job_enqueue(f->ctx.db, "batch", "{\"ok\":1}", 3, now);
	assert_int_equal(sb_work_run_batch(&f->ctx, queues, QUEUE_COUNT,
	                     "batch", &done, &failed),
	    SB_OK);
	assert_true(seen.deadline >= before + (TEST_LEASE_S - 2) * 1000);
	assert_int_equal(f->ctx.deadline, SB_DEADLINE_NONE);

	set = sb_deadline_now() + 5000;
	sb_context_deadline_set(&f->ctx, set);
	test_job_enqueue(f->ctx.db, "ok", "{}", 3, now);
	assert_int_equal(
	    sb_work_run_due(&f->ctx, queues, QUEUE_COUNT, &done, &failed),
	    SB_OK);
	assert_int_equal(seen.deadline, set);
	assert_int_equal(f->ctx.deadline, set);
}

/* A failed attempt puts the job back to pending, later, with the error. */
static void
test_failure_reschedules(void **state)
{
	struct test_fixture *f = *state;
	struct sb_db *db = f->ctx.db;
	int64_t now = (int64_t)time(NULL), id;
	char err[TEST_TEXT_MAX];
	int done = -1, failed = -1;

	id = test_job_enqueue(db, "bad", "{\"to\":\"x\"}", 3, now - 1);
	assert_int_equal(
	    sb_work_run_due(&f->ctx, queues, QUEUE_COUNT, &done, &failed),
	    SB_OK);
	assert_int_equal(done, 0);
	assert_int_equal(failed, 1);
	test_job_assert_state(db, id, SB_JOB_PENDING);
	assert_int_equal(test_job_int(db, "attempts", id), 1);
	assert_true(
	    test_job_int(db, "run_at", id) >= now + sb_jobs_backoff_s(1));
	job_error(db, id, err, sizeof(err));
	assert_string_equal(err, "worker said no");
	/* The worker saw its job. */
	assert_string_equal(seen.queue, "bad");
	assert_string_equal(seen.payload, "{\"to\":\"x\"}");
	assert_int_equal(seen.attempts, 1);
	assert_string_equal(seen.owner, sb_owner_self());
}

/* The worker's retry hint wins over a shorter backoff; without a message
 * the error's name is recorded. */
static void
test_failure_hint(void **state)
{
	struct test_fixture *f = *state;
	struct sb_db *db = f->ctx.db;
	int64_t now = (int64_t)time(NULL), id;
	char err[TEST_TEXT_MAX];
	int failed = -1;

	id = test_job_enqueue(db, "hint", "{}", 3, now - 1);
	assert_int_equal(
	    sb_work_run_due(&f->ctx, queues, QUEUE_COUNT, NULL, &failed),
	    SB_OK);
	assert_int_equal(failed, 1);
	assert_int_equal(seen.hint_calls, 1);
	test_job_assert_state(db, id, SB_JOB_PENDING);
	assert_true(test_job_int(db, "run_at", id) >= now + TEST_HINT_S);
	job_error(db, id, err, sizeof(err));
	assert_string_equal(err, sb_strerror(SB_ERR_TIMEOUT));
}

/* The last allowed attempt failing leaves the job dead. */
static void
test_failure_dead(void **state)
{
	struct test_fixture *f = *state;
	struct sb_db *db = f->ctx.db;
	int64_t id;
	int failed = -1;

	id = test_job_enqueue(db, "bad", "{}", 1, (int64_t)time(NULL) - 1);
	assert_int_equal(
	    sb_work_run_due(&f->ctx, queues, QUEUE_COUNT, NULL, &failed),
	    SB_OK);
	assert_int_equal(failed, 1);
	test_job_assert_state(db, id, SB_JOB_DEAD);
	assert_int_equal(count(db, "bad", SB_JOB_DEAD), 1);
}

/* A job whose queue has no row in the table fails with a message saying
 * so; no worker runs. */
static void
test_unknown_queue(void **state)
{
	struct test_fixture *f = *state;
	struct sb_db *db = f->ctx.db;
	int64_t now = (int64_t)time(NULL), id, last;
	char err[TEST_TEXT_MAX];
	int done = -1, failed = -1;

	id = test_job_enqueue(db, "mystery", "{}", 3, now - 1);
	last = test_job_enqueue(db, "mystery", "{}", 1, now - 1);
	assert_int_equal(
	    sb_work_run_due(&f->ctx, queues, QUEUE_COUNT, &done, &failed),
	    SB_OK);
	assert_int_equal(done, 0);
	assert_int_equal(failed, 2);
	assert_int_equal(seen.ok_calls + seen.bad_calls + seen.hint_calls, 0);
	test_job_assert_state(db, id, SB_JOB_PENDING);
	assert_int_equal(test_job_int(db, "attempts", id), 1);
	job_error(db, id, err, sizeof(err));
	assert_non_null(strstr(err, "mystery"));
	test_job_assert_state(db, last, SB_JOB_DEAD);
	/* An empty table fails everything the same way. */
	test_job_enqueue(db, "ok", "{}", 3, now - 1);
	assert_int_equal(
	    sb_work_run_due(&f->ctx, queues, 0, &done, &failed), SB_OK);
	assert_int_equal(done, 0);
	assert_int_equal(failed, 1);
	assert_int_equal(seen.ok_calls, 0);
}

static void
test_run_due_empty(void **state)
{
	struct test_fixture *f = *state;
	int done = -1, failed = -1;

	assert_int_equal(
	    sb_work_run_due(&f->ctx, queues, QUEUE_COUNT, &done, &failed),
	    SB_OK);
	assert_int_equal(done, 0);
	assert_int_equal(failed, 0);
	assert_int_equal(
	    sb_work_run_due(&f->ctx, queues, QUEUE_COUNT, NULL, NULL), SB_OK);
}

/* A job whose lease ran out (its worker died) is run again; one whose
 * lease is live is left to its holder. */
static void
test_run_due_leases(void **state)
{
	struct test_fixture *f = *state;
	struct sb_db *db = f->ctx.db;
	int64_t now = (int64_t)time(NULL), expired, live;
	struct sb_job job = { 0 };
	int done = -1, failed = -1;

	expired =
	    test_job_enqueue(db, "ok", "{\"lease\":\"expired\"}", 3, now - 100);
	assert_int_equal(
	    sb_jobs_lease(db, "ok", "dead-worker:1", now - 100, 10, &job),
	    SB_OK);
	assert_int_equal(job.id, expired);
	sb_job_clear(&job);
	live = test_job_enqueue(db, "ok", "{\"lease\":\"live\"}", 3, now - 50);
	assert_int_equal(
	    sb_jobs_lease_id(db, live, "other-worker:2", now, 3600, &job),
	    SB_OK);
	sb_job_clear(&job);

	assert_int_equal(
	    sb_work_run_due(&f->ctx, queues, QUEUE_COUNT, &done, &failed),
	    SB_OK);
	assert_int_equal(done, 1);
	assert_int_equal(failed, 0);
	assert_string_equal(seen.payload, "{\"lease\":\"expired\"}");
	assert_int_equal(seen.attempts, 2);
	test_job_assert_state(db, expired, SB_JOB_DONE);
	test_job_assert_state(db, live, SB_JOB_LEASED);
}

/* One pass runs at most SB_WORK_BATCH_MAX jobs. */
static void
test_run_due_batch_cap(void **state)
{
	struct test_fixture *f = *state;
	struct sb_db *db = f->ctx.db;
	int64_t now = (int64_t)time(NULL);
	int done = -1, failed = -1;

	assert_int_equal(sb_db_begin(db), SB_OK);
	for (int i = 0; i < SB_WORK_BATCH_MAX + 1; i++)
		assert_int_equal(
		    sb_jobs_enqueue(db, "ok", "{}", 3, now - 1, NULL), SB_OK);
	assert_int_equal(sb_db_commit(db), SB_OK);
	assert_int_equal(
	    sb_work_run_due(&f->ctx, queues, QUEUE_COUNT, &done, &failed),
	    SB_OK);
	assert_int_equal(done, SB_WORK_BATCH_MAX);
	assert_int_equal(failed, 0);
	assert_int_equal(count(db, "ok", SB_JOB_PENDING), 1);
	assert_int_equal(
	    sb_work_run_due(&f->ctx, queues, QUEUE_COUNT, &done, &failed),
	    SB_OK);
	assert_int_equal(done, 1);
	assert_int_equal(count(db, "ok", SB_JOB_DONE), SB_WORK_BATCH_MAX + 1);
}

static void
test_run_id(void **state)
{
	struct test_fixture *f = *state;
	struct sb_db *db = f->ctx.db;
	int64_t now = (int64_t)time(NULL), due, other, future, bad;

	due = test_job_enqueue(db, "ok", "{\"id\":\"due\"}", 3, now - 1);
	other = test_job_enqueue(db, "ok", "{\"id\":\"other\"}", 3, now - 1);
	future = test_job_enqueue(db, "ok", "{}", 3, now + 3600);
	bad = test_job_enqueue(db, "bad", "{}", 3, now - 1);

	/* Only the job asked for runs. */
	assert_int_equal(
	    sb_work_run_id(&f->ctx, queues, QUEUE_COUNT, due), SB_OK);
	assert_int_equal(seen.ok_calls, 1);
	assert_string_equal(seen.payload, "{\"id\":\"due\"}");
	test_job_assert_state(db, due, SB_JOB_DONE);
	test_job_assert_state(db, other, SB_JOB_PENDING);

	/* Done, not yet due, or no such job: not found, nothing runs. */
	assert_int_equal(sb_work_run_id(&f->ctx, queues, QUEUE_COUNT, due),
	    SB_ERR_NOT_FOUND);
	assert_int_equal(sb_work_run_id(&f->ctx, queues, QUEUE_COUNT, future),
	    SB_ERR_NOT_FOUND);
	assert_int_equal(sb_work_run_id(&f->ctx, queues, QUEUE_COUNT, 999999),
	    SB_ERR_NOT_FOUND);
	assert_int_equal(seen.ok_calls, 1);
	test_job_assert_state(db, future, SB_JOB_PENDING);
	assert_int_equal(test_job_int(db, "attempts", future), 0);

	/* A failing worker: reported, and the job is rescheduled. */
	assert_int_equal(
	    sb_work_run_id(&f->ctx, queues, QUEUE_COUNT, bad), SB_ERR_UPSTREAM);
	assert_int_equal(seen.bad_calls, 1);
	test_job_assert_state(db, bad, SB_JOB_PENDING);
	assert_int_equal(test_job_int(db, "attempts", bad), 1);
	assert_int_equal(sb_work_run_id(&f->ctx, queues, QUEUE_COUNT, bad),
	    SB_ERR_NOT_FOUND);
}

/* A job another worker holds is not run by id. */
static void
test_run_id_leased_elsewhere(void **state)
{
	struct test_fixture *f = *state;
	struct sb_db *db = f->ctx.db;
	int64_t now = (int64_t)time(NULL), id;
	struct sb_job job = { 0 };

	id = test_job_enqueue(db, "ok", "{}", 3, now - 1);
	assert_int_equal(
	    sb_jobs_lease_id(db, id, "other-worker:2", now, 3600, &job), SB_OK);
	sb_job_clear(&job);
	assert_int_equal(
	    sb_work_run_id(&f->ctx, queues, QUEUE_COUNT, id), SB_ERR_NOT_FOUND);
	assert_int_equal(seen.ok_calls, 0);
	test_job_assert_state(db, id, SB_JOB_LEASED);
}

/* A batch round: one lease of up to batch_max, one call, outcomes split. */
static void
test_run_batch(void **state)
{
	struct test_fixture *f = *state;
	struct sb_db *db = f->ctx.db;
	int64_t now = (int64_t)time(NULL), ok1, bad, skip, ok2, late;
	int done = -1, failed = -1;
	char err[SB_WORK_ERROR_MAX];

	ok1 = test_job_enqueue(db, "batch", "{\"ok\":1}", 3, now - 50);
	bad = test_job_enqueue(db, "batch", "{\"no\":1}", 3, now - 40);
	skip = test_job_enqueue(db, "batch", "{\"skip\":1}", 3, now - 30);
	ok2 = test_job_enqueue(db, "batch", "{\"ok\":1}", 3, now - 20);
	late = test_job_enqueue(db, "batch", "{\"ok\":1}", 3, now + 1000);
	assert_int_equal(sb_work_run_batch(&f->ctx, queues, QUEUE_COUNT,
	                     "batch", &done, &failed),
	    SB_OK);
	assert_int_equal(seen.batch_calls, 1);
	assert_int_equal(seen.batch_sizes[0], 3);
	assert_int_equal(done, 1);
	assert_int_equal(failed, 2);
	assert_int_equal(seen.ok_calls, 0);
	test_job_assert_state(db, ok1, SB_JOB_DONE);
	test_job_assert_state(db, bad, SB_JOB_PENDING);
	assert_true(test_job_int(db, "run_at", bad) >= now + TEST_HINT_S);
	job_error(db, bad, err, sizeof(err));
	assert_string_equal(err, "batch said no");
	test_job_assert_state(db, skip, SB_JOB_PENDING);
	assert_true(test_job_int(db, "run_at", skip) >= now + 30);
	job_error(db, skip, err, sizeof(err));
	assert_string_equal(err, sb_strerror(SB_ERR_UPSTREAM));
	test_job_assert_state(db, ok2, SB_JOB_PENDING);
	assert_int_equal(sb_work_run_batch(&f->ctx, queues, QUEUE_COUNT,
	                     "batch", &done, &failed),
	    SB_OK);
	assert_int_equal(seen.batch_sizes[1], 1);
	assert_int_equal(done, 1);
	test_job_assert_state(db, ok2, SB_JOB_DONE);
	assert_int_equal(sb_work_run_batch(&f->ctx, queues, QUEUE_COUNT,
	                     "batch", &done, &failed),
	    SB_ERR_NOT_FOUND);
	assert_int_equal(done + failed, 0);
	assert_int_equal(seen.batch_calls, 2);
	test_job_assert_state(db, late, SB_JOB_PENDING);
	assert_int_equal(sqlite3_get_autocommit(sb_db_handle(db)), 1);
}

/* A queue without a batch function runs a job a round; unknown fails. */
static void
test_run_batch_single(void **state)
{
	struct test_fixture *f = *state;
	struct sb_db *db = f->ctx.db;
	int64_t now = (int64_t)time(NULL), lost;
	int done = -1, failed = -1;
	char err[SB_WORK_ERROR_MAX];

	test_job_enqueue(db, "ok", "{}", 3, now - 2);
	test_job_enqueue(db, "ok", "{}", 3, now - 1);
	assert_int_equal(sb_work_run_batch(&f->ctx, queues, QUEUE_COUNT, "ok",
	                     &done, &failed),
	    SB_OK);
	assert_int_equal(done, 1);
	assert_int_equal(seen.ok_calls, 1);
	assert_int_equal(count(db, "ok", SB_JOB_PENDING), 1);
	lost = test_job_enqueue(db, "nobody", "{}", 3, now - 1);
	assert_int_equal(sb_work_run_batch(&f->ctx, queues, QUEUE_COUNT,
	                     "nobody", &done, &failed),
	    SB_OK);
	assert_int_equal(failed, 1);
	job_error(db, lost, err, sizeof(err));
	assert_string_equal(err, "no worker for queue 'nobody'");
}

/*
 * A queue with a batch size but no batch function leases that many and
 * runs them one after another; the first failure ends the round and the
 * jobs after it go back unattempted (pending, due, their attempt count
 * as before).
 */
static void
test_run_batch_steps(void **state)
{
	struct test_fixture *f = *state;
	struct sb_db *db = f->ctx.db;
	int64_t now = (int64_t)time(NULL), first, second, third;
	int done = -1, failed = -1;

	first = test_job_enqueue(db, "steps", "{\"ok\":1}", 3, now - 3);
	second = test_job_enqueue(db, "steps", "{\"ok\":0}", 3, now - 2);
	third = test_job_enqueue(db, "steps", "{\"ok\":1}", 3, now - 1);
	assert_int_equal(sb_work_run_batch(&f->ctx, queues, QUEUE_COUNT,
	                     "steps", &done, &failed),
	    SB_OK);
	assert_int_equal(done, 1);
	assert_int_equal(failed, 1);
	assert_int_equal(seen.ok_calls, 1);
	assert_int_equal(seen.bad_calls, 1);
	test_job_assert_state(db, first, SB_JOB_DONE);
	test_job_assert_state(db, second, SB_JOB_PENDING);
	assert_int_equal(test_job_int(db, "attempts", second), 1);
	test_job_assert_state(db, third, SB_JOB_PENDING);
	assert_int_equal(test_job_int(db, "attempts", third), 0);
	assert_int_equal(test_job_int(db, "run_at", third), now - 1);
}

/*
 * A round run by a responder gives way to a request waiting on its
 * listening socket (fd 0, FastCGI's): after the first job the rest go
 * back untried.  The socket is a real unix listening socket with one
 * connection not yet accepted.
 */
static void
test_run_batch_gives_way(void **state)
{
	struct test_fixture *f = *state;
	struct sb_db *db = f->ctx.db;
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int64_t now = (int64_t)time(NULL), id[3];
	int done = -1, failed = -1, srv, cli, saved;

	snprintf(addr.sun_path, sizeof(addr.sun_path), "/tmp/sb-test-work.%ld",
	    (long)getpid());
	unlink(addr.sun_path);
	assert_true((srv = socket(AF_UNIX, SOCK_STREAM, 0)) >= 0);
	assert_int_equal(bind(srv, (struct sockaddr *)&addr, sizeof(addr)), 0);
	assert_int_equal(listen(srv, 4), 0);
	assert_true((cli = socket(AF_UNIX, SOCK_STREAM, 0)) >= 0);
	assert_int_equal(
	    connect(cli, (struct sockaddr *)&addr, sizeof(addr)), 0);
	assert_true((saved = dup(0)) >= 0);
	assert_int_equal(dup2(srv, 0), 0);
	f->ctx.drain.listening = true;
	for (int i = 0; i < 3; i++)
		id[i] =
		    test_job_enqueue(db, "steps", "{\"ok\":1}", 3, now - 3 + i);
	assert_int_equal(sb_work_run_batch(&f->ctx, queues, QUEUE_COUNT,
	                     "steps", &done, &failed),
	    SB_OK);
	dup2(saved, 0);
	close(saved);
	close(cli);
	close(srv);
	unlink(addr.sun_path);
	f->ctx.drain.listening = false;
	assert_int_equal(done, 1);
	assert_int_equal(failed, 0);
	assert_int_equal(seen.ok_calls, 1);
	test_job_assert_state(db, id[0], SB_JOB_DONE);
	for (int i = 1; i < 3; i++) {
		test_job_assert_state(db, id[i], SB_JOB_PENDING);
		assert_int_equal(test_job_int(db, "attempts", id[i]), 0);
	}
}

/*
 * Another worker of the process holding a request counts as a request
 * waiting, though the listening socket has none: the round gives way too.
 */
static void
test_run_batch_gives_way_to_workers(void **state)
{
	struct test_fixture *f = *state;
	struct sb_db *db = f->ctx.db;
	struct sb_drain_shared shared = { 0 };
	int64_t now = (int64_t)time(NULL), id[2];
	int done = -1, failed = -1;

	for (int i = 0; i < 2; i++)
		id[i] =
		    test_job_enqueue(db, "steps", "{\"ok\":1}", 3, now - 2 + i);
	f->ctx.drain.shared = &shared;
	assert_false(sb_drain_request_waiting(&f->ctx.drain));
	atomic_store(&shared.serving, 1);
	assert_true(sb_drain_request_waiting(&f->ctx.drain));
	assert_int_equal(sb_work_run_batch(&f->ctx, queues, QUEUE_COUNT,
	                     "steps", &done, &failed),
	    SB_OK);
	f->ctx.drain.shared = NULL;
	assert_int_equal(done, 1);
	assert_int_equal(failed, 0);
	test_job_assert_state(db, id[0], SB_JOB_DONE);
	test_job_assert_state(db, id[1], SB_JOB_PENDING);
}

/*
 * A sequential round stops when its leases have less than a request's
 * budget left: the rest go back untried, for a round with new leases.
 */
static void
test_run_batch_lease_short(void **state)
{
	struct test_fixture *f = *state;
	int64_t now = (int64_t)time(NULL), id[3];
	int done = -1, failed = -1;

	for (int i = 0; i < 3; i++)
		id[i] = test_job_enqueue(
		    f->ctx.db, "steps", "{\"ok\":1}", 3, now - 3 + i);
	/* a budget longer than the lease (the configuration refuses it) */
	f->ctx.config.fastcgi_timeout_s = TEST_LEASE_S + 10;
	f->ctx.config.deadline_margin_ms = 1000;
	assert_int_equal(sb_work_run_batch(&f->ctx, queues, QUEUE_COUNT,
	                     "steps", &done, &failed),
	    SB_OK);
	assert_int_equal(done, 1);
	assert_int_equal(failed, 0);
	test_job_assert_state(f->ctx.db, id[0], SB_JOB_DONE);
	for (int i = 1; i < 3; i++) {
		test_job_assert_state(f->ctx.db, id[i], SB_JOB_PENDING);
		assert_int_equal(test_job_int(f->ctx.db, "attempts", id[i]), 0);
	}
}

/*
 * The after-response drain gives each round a request's budget of its
 * own: three rounds of 40 ms each fit, though together they overrun one
 * 50 ms budget (whose end would roll back the second round's commit).
 */
static void
test_drain_budget_per_round(void **state)
{
	static const char *const drain[] = { "slow", NULL };
	struct test_fixture *f = *state;
	struct sb_app app = { .name = "test",
		.queues = queues,
		.queue_count = QUEUE_COUNT,
		.drain = drain };
	int64_t now = (int64_t)time(NULL), id[3];

	for (int i = 0; i < 3; i++)
		id[i] =
		    test_job_enqueue(f->ctx.db, "slow", "{}", 3, now - 3 + i);
	f->ctx.app = &app;
	f->ctx.config.fastcgi_timeout_s = 1;
	f->ctx.config.deadline_margin_ms = 1000 - 50;
	/* the budget the response had, about to end */
	sb_context_deadline_set(&f->ctx, sb_deadline_now() + 10);
	sb_drain_after_response(&f->ctx);
	f->ctx.app = NULL;
	assert_int_equal(seen.ok_calls, 3);
	for (int i = 0; i < 3; i++)
		test_job_assert_state(f->ctx.db, id[i], SB_JOB_DONE);
}

/* sbctl deliver's loop: rounds until nothing is due, each job once. */
static void
test_run_queue_rounds(void **state)
{
	struct test_fixture *f = *state;
	struct sb_db *db = f->ctx.db;
	int64_t now = (int64_t)time(NULL);
	int done = -1, failed = -1, n = SB_JOBS_BATCH_MAX + 20;

	assert_int_equal(sb_db_begin(db), SB_OK);
	for (int i = 0; i < n; i++)
		assert_int_equal(sb_jobs_enqueue(db, "many",
		                     i % 10 == 0 ? "{\"no\":1}" : "{\"ok\":1}",
		                     3, now - 1, NULL),
		    SB_OK);
	assert_int_equal(
	    sb_jobs_enqueue(db, "batch", "{\"ok\":1}", 3, now - 1, NULL),
	    SB_OK);
	assert_int_equal(sb_db_commit(db), SB_OK);
	assert_int_equal(sb_work_run_queue(&f->ctx, queues, QUEUE_COUNT, "many",
	                     &done, &failed),
	    SB_OK);
	/* batch_max past SB_JOBS_BATCH_MAX is held to it. */
	assert_int_equal(seen.batch_calls, 2);
	assert_int_equal(seen.batch_sizes[0], SB_JOBS_BATCH_MAX);
	assert_int_equal(seen.batch_sizes[1], 20);
	assert_int_equal(failed, n / 10);
	assert_int_equal(done, n - n / 10);
	assert_int_equal(count(db, "many", SB_JOB_DONE), n - n / 10);
	assert_int_equal(count(db, "many", SB_JOB_PENDING), n / 10);
	assert_int_equal(count(db, "batch", SB_JOB_PENDING), 1);
	/* The failed ones are backed off: a second call finds nothing. */
	assert_int_equal(sb_work_run_queue(&f->ctx, queues, QUEUE_COUNT, "many",
	                     &done, &failed),
	    SB_OK);
	assert_int_equal(done + failed, 0);
	assert_int_equal(seen.batch_calls, 2);
}

/* After a response: a read first, and one round only if something is due. */
static void
test_run_if_due(void **state)
{
	struct test_fixture *f = *state;
	struct sb_db *db = f->ctx.db;
	int64_t now = (int64_t)time(NULL);
	int done = -1, failed = -1;

	assert_int_equal(sb_work_run_if_due(&f->ctx, queues, QUEUE_COUNT,
	                     "batch", &done, &failed),
	    SB_ERR_NOT_FOUND);
	assert_int_equal(done + failed, 0);
	test_job_enqueue(db, "batch", "{\"ok\":1}", 3, now + 1000);
	assert_int_equal(sb_work_run_if_due(
	                     &f->ctx, queues, QUEUE_COUNT, "batch", NULL, NULL),
	    SB_ERR_NOT_FOUND);
	assert_int_equal(seen.batch_calls, 0);
	for (int i = 0; i < 4; i++)
		test_job_enqueue(db, "batch", "{\"ok\":1}", 3, now - 1);
	assert_int_equal(sb_work_run_if_due(&f->ctx, queues, QUEUE_COUNT,
	                     "batch", &done, &failed),
	    SB_OK);
	assert_int_equal(seen.batch_calls, 1);
	assert_int_equal(done, 3);
	assert_int_equal(count(db, "batch", SB_JOB_PENDING), 2);
}

/* Asserts that job id is no longer in the table. */
static void
job_assert_absent(struct sb_db *db, int64_t id)
{
	enum sb_job_state st;

	assert_int_equal(sb_jobs_state(db, id, &st), SB_ERR_NOT_FOUND);
}

/*
 * A queue with remove_done deletes its done jobs, in a batch round and one
 * at a time (sbctl tick); failed ones stay, and other queues keep theirs.
 */
static void
test_remove_done(void **state)
{
	struct test_fixture *f = *state;
	struct sb_db *db = f->ctx.db;
	int64_t now = (int64_t)time(NULL), ok1, bad, ok2, kept;
	int done = -1, failed = -1;

	ok1 = test_job_enqueue(db, "gone", "{\"ok\":1}", 3, now - 30);
	bad = test_job_enqueue(db, "gone", "{\"no\":1}", 3, now - 20);
	assert_int_equal(sb_work_run_batch(&f->ctx, queues, QUEUE_COUNT, "gone",
	                     &done, &failed),
	    SB_OK);
	assert_int_equal(done, 1);
	assert_int_equal(failed, 1);
	job_assert_absent(db, ok1);
	test_job_assert_state(db, bad, SB_JOB_PENDING);
	assert_int_equal(count(db, "gone", SB_JOB_DONE), 0);

	ok2 = test_job_enqueue(db, "gone", "{\"ok\":1}", 3, now - 10);
	assert_int_equal(
	    sb_work_run_due(&f->ctx, queues, QUEUE_COUNT, &done, &failed),
	    SB_OK);
	assert_int_equal(done, 1);
	assert_int_equal(seen.ok_calls, 1);
	job_assert_absent(db, ok2);
	test_job_assert_state(db, bad, SB_JOB_PENDING);

	kept = test_job_enqueue(db, "batch", "{\"ok\":1}", 3, now - 10);
	assert_int_equal(sb_work_run_batch(&f->ctx, queues, QUEUE_COUNT,
	                     "batch", &done, &failed),
	    SB_OK);
	test_job_assert_state(db, kept, SB_JOB_DONE);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_run_due_counts, setup, test_fixture_teardown),
		cmocka_unit_test_setup_teardown(
		    test_lease_deadline, setup, test_fixture_teardown),
		cmocka_unit_test_setup_teardown(
		    test_failure_reschedules, setup, test_fixture_teardown),
		cmocka_unit_test_setup_teardown(
		    test_failure_hint, setup, test_fixture_teardown),
		cmocka_unit_test_setup_teardown(
		    test_failure_dead, setup, test_fixture_teardown),
		cmocka_unit_test_setup_teardown(
		    test_unknown_queue, setup, test_fixture_teardown),
		cmocka_unit_test_setup_teardown(
		    test_run_due_empty, setup, test_fixture_teardown),
		cmocka_unit_test_setup_teardown(
		    test_run_due_leases, setup, test_fixture_teardown),
		cmocka_unit_test_setup_teardown(
		    test_run_due_batch_cap, setup, test_fixture_teardown),
		cmocka_unit_test_setup_teardown(
		    test_run_id, setup, test_fixture_teardown),
		cmocka_unit_test_setup_teardown(
		    test_run_id_leased_elsewhere, setup, test_fixture_teardown),
		cmocka_unit_test_setup_teardown(
		    test_run_batch, setup, test_fixture_teardown),
		cmocka_unit_test_setup_teardown(
		    test_run_batch_steps, setup, test_fixture_teardown),
		cmocka_unit_test_setup_teardown(
		    test_run_batch_gives_way, setup, test_fixture_teardown),
		cmocka_unit_test_setup_teardown(
		    test_run_batch_gives_way_to_workers, setup,
		    test_fixture_teardown),
		cmocka_unit_test_setup_teardown(
		    test_drain_budget_per_round, setup, test_fixture_teardown),
		cmocka_unit_test_setup_teardown(
		    test_run_batch_lease_short, setup, test_fixture_teardown),
		cmocka_unit_test_setup_teardown(
		    test_run_batch_single, setup, test_fixture_teardown),
		cmocka_unit_test_setup_teardown(
		    test_run_queue_rounds, setup, test_fixture_teardown),
		cmocka_unit_test_setup_teardown(
		    test_run_if_due, setup, test_fixture_teardown),
		cmocka_unit_test_setup_teardown(
		    test_remove_done, setup, test_fixture_teardown),
	};

	return cmocka_run_group_tests_name("work", tests, NULL, NULL);
}
