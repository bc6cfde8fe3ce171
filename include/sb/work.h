/*
 * Running queued jobs: a table maps each queue to the function that performs
 * one of its jobs.  The same code serves the responders (one attempt right
 * after the response) and `sbctl tick` from cron (everything due).
 */
#ifndef SB_WORK_H
#define SB_WORK_H

#include <stddef.h>
#include <stdint.h>

#include "sb/app.h"
#include "sb/jobs.h"

#define SB_WORK_ERROR_MAX 256
#define SB_WORK_BATCH_MAX 1000 /* jobs one sb_work_run_due call runs */

/*
 * Performs job.  Returns SB_OK when it is done; otherwise writes why into
 * err (no secrets) and may set *retry_after_s to the least wait the other
 * side asked for.
 */
typedef enum sb_err (*sb_work_fn)(struct sb_ctx *ctx, const struct sb_job *job,
    char *err, size_t errsize, int64_t *retry_after_s);

struct sb_work_queue {
	const char *queue;
	sb_work_fn run;
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
 * As sb_work_run_due() for the jobs of one queue only (`sbctl deliver`).
 * Each due job is attempted once per call: a failed one is rescheduled
 * with backoff and so is not due again within the call.
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

/* A name for this worker process, "<host>:<pid>", for lease owners. */
const char *sb_work_owner(void);

#endif
