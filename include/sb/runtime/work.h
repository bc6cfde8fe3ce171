/*
 * Running queued jobs: a table maps each queue to the function that performs
 * one of its jobs, and optionally to one that performs many at once.  The
 * same code serves the responders (one batch right after a response) and
 * sbctl from cron (everything due).  A queue with a batch function is
 * leased, run and completed a batch at a time, so a busy queue pays one
 * round trip and one commit per batch instead of per job.
 */
#ifndef SB_WORK_H
#define SB_WORK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sb/runtime/context.h"
#include "sb/store/jobs.h"

#define SB_WORK_ERROR_MAX 256
#define SB_WORK_BATCH_MAX 1000 /* jobs one sb_work_run_due call runs */

/*
 * Performs job.  Returns SB_OK when it is done; otherwise writes why into
 * err (no secrets) and may set *retry_after_s to the least wait the other
 * side asked for.
 */
typedef enum sb_err (*sb_work_fn)(struct sb_ctx *ctx, const struct sb_job *job,
    char *err, size_t errsize, int64_t *retry_after_s);

/* One job's outcome in a batch (sb_work_batch_fn). */
struct sb_work_result {
	enum sb_err rc; /* SB_OK: the job is done */
	int64_t retry_after_s; /* the least wait the other side asked for */
	char err[SB_WORK_ERROR_MAX]; /* why it failed, no secrets */
	bool not_run; /* handed back unattempted (sb_jobs_give_back_batch) */
};

/*
 * Performs count jobs of one queue together and writes job i's outcome
 * into results[i].  The caller sets every rc to a failure beforehand, so a
 * job the function does not speak for is retried.
 */
typedef void (*sb_work_batch_fn)(struct sb_ctx *ctx, const struct sb_job *jobs,
    size_t count, struct sb_work_result *results);

struct sb_work_queue {
	const char *queue;
	sb_work_fn run;
	sb_work_batch_fn run_batch; /* NULL: jobs run one at a time */
	size_t batch_max; /* jobs one round leases, 1 to SB_JOBS_BATCH_MAX;
	                     without run_batch they run one after another,
	                     and the first failure, a request waiting on a
	                     responder's socket (sb/runtime/drain.h), or a
	                     lease with less than a request's budget left ends
	                     the round: the rest go back unattempted */
	bool remove_done; /* a done job is deleted (sb_jobs_remove_batch)
	                     rather than kept as done for job_retention_days:
	                     for work that leaves its own record */
};

/*
 * Leases and runs due jobs of every queue in the table until none is due or
 * SB_WORK_BATCH_MAX ran.  *done and *failed (if not NULL) count outcomes.
 * A job whose queue has no row is failed with a message.
 */
enum sb_err sb_work_run_due(struct sb_ctx *ctx,
    const struct sb_work_queue *queues, size_t queue_count, int *done,
    int *failed);

/*
 * As sb_work_run_due() for the jobs of one queue only (`sbctl deliver`),
 * through sb_work_run_batch() round after round until nothing is due (or a
 * round fails to record its outcomes).  Each due job is attempted once per
 * call: a failed one is rescheduled with backoff and so is not due again
 * within the call.
 */
enum sb_err sb_work_run_queue(struct sb_ctx *ctx,
    const struct sb_work_queue *queues, size_t queue_count, const char *queue,
    int *done, int *failed);

/*
 * Leases job id and runs it once if it is due (it is not when another
 * worker holds it); used right after a response.  SB_ERR_NOT_FOUND when not
 * due.
 */
enum sb_err sb_work_run_id(struct sb_ctx *ctx,
    const struct sb_work_queue *queues, size_t queue_count, int64_t id);

/*
 * One round for queue: leases up to its batch_max due jobs (1 without a
 * batch function), runs them, marks the done ones done (or deletes them,
 * for a queue with remove_done) in one transaction
 * and fails the others with backoff.  *done and *failed (if not NULL)
 * count outcomes.  SB_ERR_NOT_FOUND when nothing was due.  Jobs of a queue
 * with no row in the table are failed with a message, one at a time.  If
 * recording the outcomes fails the jobs stay leased and run again when the
 * lease runs out (at least once); the error is returned.
 */
enum sb_err sb_work_run_batch(struct sb_ctx *ctx,
    const struct sb_work_queue *queues, size_t queue_count, const char *queue,
    int *done, int *failed);

/*
 * What a responder runs after its response: a read asking whether a job
 * of queue is due, and only if one is, one sb_work_run_batch() round with
 * its *done and *failed (if not NULL).  SB_ERR_NOT_FOUND when nothing was
 * due.
 */
enum sb_err sb_work_run_if_due(struct sb_ctx *ctx,
    const struct sb_work_queue *queues, size_t queue_count, const char *queue,
    int *done, int *failed);

/*
 * The jobs one round of q leases at most: its batch_max (capped at
 * SB_JOBS_BATCH_MAX), else 1; 1 for NULL.
 */
size_t sb_work_batch_size(const struct sb_work_queue *q);

#endif
