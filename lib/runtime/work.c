/*
 * Running leased jobs through a queue table.  Leasing makes a crashed
 * worker's job runnable again when its lease expires, and keeps two workers
 * from running one job at once.  A batch round leases up to a queue's
 * batch_max jobs in one transaction, runs them (in one call of the queue's
 * batch function if it has one), completes the done ones in one
 * transaction (deleting them, for a queue with remove_done) and fails the
 * rest one by one with backoff.
 *
 * A job run outside a request (sbctl: no deadline) gets its lease's end,
 * less WORK_LEASE_MARGIN_MS, as its deadline: past it another worker may
 * take the job over, so its calls and locks stop there and nothing it
 * would write commits.  Inside a request (the drain) the round's own
 * budget, shorter than any lease (a config check), bounds it already.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sb/core/deadline.h"
#include "sb/core/log.h"
#include "sb/core/owner.h"
#include "sb/runtime/drain.h"
#include "sb/runtime/work.h"

/* Left of a lease for recording the job's outcome after its run. */
#define WORK_LEASE_MARGIN_MS 1000

static const struct sb_work_queue *
work_find(const struct sb_work_queue *queues, size_t count, const char *name)
{
	for (size_t i = 0; i < count; i++)
		if (strcmp(queues[i].queue, name) == 0)
			return &queues[i];
	return NULL;
}

/* Logs a failed attempt and reschedules the job (or marks it dead). */
static void
work_fail(struct sb_ctx *ctx, const struct sb_job *job, enum sb_err rc,
    const char *err, int64_t retry_after_s)
{
	const char *why = err[0] != '\0' ? err : sb_strerror(rc);

	sb_log(SB_LOG_WARN, "work", NULL,
	    "job %lld (%s) attempt %d/%d failed: %s", (long long)job->id,
	    job->queue, job->attempts, job->max_attempts, why);
	sb_jobs_fail(ctx->db, job, why, retry_after_s, (int64_t)time(NULL));
}

/*
 * Gives ctx the deadline of jobs' earliest lease end (less the margin)
 * when it has none; true if it did, and the caller clears it after.
 */
static bool
work_lease_deadline(struct sb_ctx *ctx, const struct sb_job *jobs, size_t count)
{
	int64_t until = INT64_MAX;

	if (ctx->deadline != SB_DEADLINE_NONE || count == 0)
		return false;
	for (size_t i = 0; i < count; i++)
		if (jobs[i].lease_until < until)
			until = jobs[i].lease_until;
	sb_context_deadline_set(ctx,
	    sb_deadline_now() + (until - (int64_t)time(NULL)) * 1000 -
	        WORK_LEASE_MARGIN_MS);
	return true;
}

/* Runs one job with q's function (q NULL: no worker); SB_OK if done. */
static enum sb_err
work_perform_one(struct sb_ctx *ctx, const struct sb_work_queue *q,
    const struct sb_job *job, char *err, size_t errsize, int64_t *retry_after_s)
{
	enum sb_err rc;
	bool own;

	if (q == NULL || q->run == NULL) {
		snprintf(err, errsize, "no worker for queue '%s'", job->queue);
		return SB_ERR_NOT_FOUND;
	}
	own = work_lease_deadline(ctx, job, 1);
	rc = q->run(ctx, job, err, errsize, retry_after_s);
	if (own)
		sb_context_deadline_set(ctx, SB_DEADLINE_NONE);
	return rc;
}

/*
 * Records that the count leased jobs of queue q (NULL: no row) are done:
 * deleted for a queue with remove_done, marked done otherwise, in one
 * transaction.
 */
static enum sb_err
work_complete(struct sb_ctx *ctx, const struct sb_work_queue *q,
    const struct sb_job *jobs, size_t count)
{
	if (q != NULL && q->remove_done)
		return sb_jobs_remove_batch(ctx->db, jobs, count, NULL);
	return sb_jobs_complete_batch(
	    ctx->db, jobs, count, (int64_t)time(NULL), NULL);
}

/* Runs one leased job and records the outcome; true if it is done. */
static bool
work_run(struct sb_ctx *ctx, const struct sb_work_queue *queues, size_t count,
    const struct sb_job *job)
{
	const struct sb_work_queue *q = work_find(queues, count, job->queue);
	char err[SB_WORK_ERROR_MAX] = "";
	int64_t retry_after = 0;
	enum sb_err rc;

	rc = work_perform_one(ctx, q, job, err, sizeof(err), &retry_after);
	if (rc == SB_OK) {
		work_complete(ctx, q, job, 1);
		return true;
	}
	work_fail(ctx, job, rc, err, retry_after);
	return false;
}

enum sb_err
sb_work_run_due(struct sb_ctx *ctx, const struct sb_work_queue *queues,
    size_t queue_count, int *done, int *failed)
{
	struct sb_job job = { 0 };
	int ok = 0, bad = 0;
	enum sb_err rc = SB_OK;

	for (int i = 0; i < SB_WORK_BATCH_MAX; i++) {
		rc = sb_jobs_lease(ctx->db, NULL, sb_owner_self(),
		    (int64_t)time(NULL), (int)ctx->config.job_lease_s, &job);
		if (rc != SB_OK)
			break;
		if (work_run(ctx, queues, queue_count, &job))
			ok++;
		else
			bad++;
		sb_job_clear(&job);
	}
	if (done != NULL)
		*done = ok;
	if (failed != NULL)
		*failed = bad;
	return rc == SB_ERR_NOT_FOUND ? SB_OK : rc;
}

enum sb_err
sb_work_run_id(struct sb_ctx *ctx, const struct sb_work_queue *queues,
    size_t queue_count, int64_t id)
{
	struct sb_job job = { 0 };
	enum sb_err rc;

	rc = sb_jobs_lease_id(ctx->db, id, sb_owner_self(), (int64_t)time(NULL),
	    (int)ctx->config.job_lease_s, &job);
	if (rc != SB_OK)
		return rc;
	rc = work_run(ctx, queues, queue_count, &job) ? SB_OK : SB_ERR_UPSTREAM;
	sb_job_clear(&job);
	return rc;
}

/* Jobs one round of q leases: its batch_max, else 1. */
size_t
sb_work_batch_size(const struct sb_work_queue *q)
{
	if (q == NULL || q->batch_max < 1)
		return 1;
	return q->batch_max < SB_JOBS_BATCH_MAX ? q->batch_max
	                                        : SB_JOBS_BATCH_MAX;
}

/*
 * True if job's lease has less than a request's budget left: a job that
 * starts now could outlive it, and another worker take it meanwhile.
 */
static bool
work_lease_short(const struct sb_ctx *ctx, const struct sb_job *job)
{
	int64_t left_ms = (job->lease_until - (int64_t)time(NULL)) * 1000;

	return left_ms < sb_config_request_budget_ms(&ctx->config);
}

/* Runs the leased jobs, writing each outcome into results. */
static void
work_perform(struct sb_ctx *ctx, const struct sb_work_queue *q,
    const struct sb_job *jobs, size_t count, struct sb_work_result *results)
{
	for (size_t i = 0; i < count; i++) {
		memset(&results[i], 0, sizeof(results[i]));
		results[i].rc = SB_ERR_UPSTREAM;
	}
	if (q != NULL && q->run_batch != NULL) {
		bool own = work_lease_deadline(ctx, jobs, count);

		q->run_batch(ctx, jobs, count, results);
		if (own)
			sb_context_deadline_set(ctx, SB_DEADLINE_NONE);
		return;
	}
	/* after a failure, once a request waits on the responder's socket,
	 * or when the leases run short, the rest go back unattempted */
	for (size_t i = 0; i < count; i++) {
		results[i].not_run = i > 0 &&
		    (results[i - 1].not_run || results[i - 1].rc != SB_OK ||
		        sb_drain_request_waiting(&ctx->drain) ||
		        work_lease_short(ctx, &jobs[i]));
		if (!results[i].not_run)
			results[i].rc = work_perform_one(ctx, q, &jobs[i],
			    results[i].err, sizeof(results[i].err),
			    &results[i].retry_after_s);
	}
}

/* Swaps jobs a and b of a round, with their results. */
static void
work_swap(
    struct sb_job *jobs, struct sb_work_result *results, size_t a, size_t b)
{
	struct sb_work_result result = results[a];
	struct sb_job job = jobs[a];

	jobs[a] = jobs[b];
	jobs[b] = job;
	results[a] = results[b];
	results[b] = result;
}

/*
 * Records a round's outcomes: the done jobs (moved to the front, with
 * their results) are completed in one transaction, the others failed, and
 * those not run handed back in one transaction.
 */
static enum sb_err
work_settle(struct sb_ctx *ctx, const struct sb_work_queue *q,
    struct sb_job *jobs, struct sb_work_result *results, size_t count,
    int *done, int *failed)
{
	enum sb_err rc;
	size_t ok = 0, tried;

	for (size_t i = 0; i < count; i++)
		if (results[i].rc == SB_OK)
			work_swap(jobs, results, ok++, i);
	rc = work_complete(ctx, q, jobs, ok);
	/* the failed ones next, those not run at the end */
	tried = ok;
	for (size_t i = ok; i < count; i++)
		if (!results[i].not_run)
			work_swap(jobs, results, tried++, i);
	for (size_t i = ok; i < tried; i++)
		work_fail(ctx, &jobs[i], results[i].rc, results[i].err,
		    results[i].retry_after_s);
	sb_jobs_give_back_batch(ctx->db, jobs + tried, count - tried, NULL);
	*done = (int)ok;
	*failed = (int)(tried - ok);
	return rc;
}

enum sb_err
sb_work_run_batch(struct sb_ctx *ctx, const struct sb_work_queue *queues,
    size_t queue_count, const char *queue, int *done, int *failed)
{
	const struct sb_work_queue *q = work_find(queues, queue_count, queue);
	size_t max = sb_work_batch_size(q), count = 0;
	struct sb_work_result *results = NULL;
	struct sb_job *jobs = NULL;
	int ok = 0, bad = 0;
	enum sb_err rc = SB_ERR_NOMEM;

	if ((jobs = calloc(max, sizeof(*jobs))) == NULL ||
	    (results = calloc(max, sizeof(*results))) == NULL)
		goto out;
	rc = sb_jobs_lease_batch(ctx->db, queue, sb_owner_self(),
	    (int64_t)time(NULL), (int)ctx->config.job_lease_s, max, jobs,
	    &count);
	if (rc != SB_OK)
		goto out;
	work_perform(ctx, q, jobs, count, results);
	rc = work_settle(ctx, q, jobs, results, count, &ok, &bad);
out:
	for (size_t i = 0; i < count; i++)
		sb_job_clear(&jobs[i]);
	free(jobs);
	free(results);
	if (done != NULL)
		*done = ok;
	if (failed != NULL)
		*failed = bad;
	return rc;
}

enum sb_err
sb_work_run_if_due(struct sb_ctx *ctx, const struct sb_work_queue *queues,
    size_t queue_count, const char *queue, int *done, int *failed)
{
	bool any = false;
	enum sb_err rc;

	if (done != NULL)
		*done = 0;
	if (failed != NULL)
		*failed = 0;
	if ((rc = sb_jobs_due(ctx->db, queue, (int64_t)time(NULL), &any)) !=
	    SB_OK)
		return rc;
	if (!any)
		return SB_ERR_NOT_FOUND;
	return sb_work_run_batch(ctx, queues, queue_count, queue, done, failed);
}

/*
 * Rounds until nothing is due.  Each round leases only due jobs and leaves
 * every one of them done, backed off, dead or (if recording failed, which
 * ends the loop) leased, so none is due again within the call.
 */
enum sb_err
sb_work_run_queue(struct sb_ctx *ctx, const struct sb_work_queue *queues,
    size_t queue_count, const char *queue, int *done, int *failed)
{
	int ok = 0, bad = 0, round_ok, round_bad;
	enum sb_err rc;

	do {
		rc = sb_work_run_batch(
		    ctx, queues, queue_count, queue, &round_ok, &round_bad);
		ok += round_ok;
		bad += round_bad;
	} while (rc == SB_OK);
	if (done != NULL)
		*done = ok;
	if (failed != NULL)
		*failed = bad;
	return rc == SB_ERR_NOT_FOUND ? SB_OK : rc;
}
