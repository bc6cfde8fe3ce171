/*
 * Running leased jobs through a queue table.  Leasing makes a crashed
 * worker's job runnable again when its lease expires, and keeps two workers
 * from running one job at once.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sb/log.h"
#include "sb/work.h"

const char *
sb_work_owner(void)
{
	static char owner[SB_JOBS_OWNER_MAX];
	char host[32] = "host";

	if (owner[0] == '\0') {
		gethostname(host, sizeof(host) - 1);
		host[sizeof(host) - 1] = '\0';
		snprintf(owner, sizeof(owner), "%s:%ld", host, (long)getpid());
	}
	return owner;
}

static const struct sb_work_queue *
work_find(const struct sb_work_queue *queues, size_t count, const char *name)
{
	for (size_t i = 0; i < count; i++)
		if (strcmp(queues[i].queue, name) == 0)
			return &queues[i];
	return NULL;
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

	if (q == NULL) {
		snprintf(
		    err, sizeof(err), "no worker for queue '%s'", job->queue);
		rc = SB_ERR_NOT_FOUND;
	} else {
		rc = q->run(ctx, job, err, sizeof(err), &retry_after);
	}
	if (rc == SB_OK) {
		sb_jobs_complete(ctx->db, job, (int64_t)time(NULL));
		return true;
	}
	sb_log(SB_LOG_WARN, "work", NULL,
	    "job %lld (%s) attempt %d/%d failed: %s", (long long)job->id,
	    job->queue, job->attempts, job->max_attempts,
	    err[0] != '\0' ? err : sb_strerror(rc));
	sb_jobs_fail(ctx->db, job, err[0] != '\0' ? err : sb_strerror(rc),
	    retry_after, (int64_t)time(NULL));
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
		rc = sb_jobs_lease(ctx->db, NULL, sb_work_owner(),
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

	rc = sb_jobs_lease_id(ctx->db, id, sb_work_owner(), (int64_t)time(NULL),
	    (int)ctx->config.job_lease_s, &job);
	if (rc != SB_OK)
		return rc;
	rc = work_run(ctx, queues, queue_count, &job) ? SB_OK : SB_ERR_UPSTREAM;
	sb_job_clear(&job);
	return rc;
}

enum sb_err
sb_work_run_queue(struct sb_ctx *ctx, const struct sb_work_queue *queues,
    size_t queue_count, const char *queue, int *done, int *failed)
{
	struct sb_job job = { 0 };
	int ok = 0, bad = 0;
	enum sb_err rc = SB_OK;

	for (int i = 0; i < SB_WORK_BATCH_MAX; i++) {
		rc = sb_jobs_lease(ctx->db, queue, sb_work_owner(),
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
