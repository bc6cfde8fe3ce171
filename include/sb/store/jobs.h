/*
 * Jobs and the outbox: durable work written in the caller's transaction,
 * attempted right after the response, and picked up by `sbctl tick` from
 * cron otherwise.  A job is leased before it runs: the lease names an owner
 * ("<host>:<pid>", sb/core/owner.h) and an expiry, so a crashed worker's
 * job becomes runnable again at once if the worker was on this host (its
 * pid is gone) and when its lease runs out otherwise, and no two workers
 * run one job at once.  A failed attempt
 * is rescheduled with exponential backoff; after max_attempts it is dead and
 * stays in the table for an operator.
 *
 * Time is passed in (now, unix seconds) so tests can move it.
 */
#ifndef SB_JOBS_H
#define SB_JOBS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sb/store/db.h"
#include "sb/core/err.h"
#include "sb/core/owner.h"

#define SB_JOBS_QUEUE_MAX 32
#define SB_JOBS_OWNER_MAX SB_OWNER_MAX
#define SB_JOBS_BACKOFF_BASE_S 30
#define SB_JOBS_BACKOFF_CAP_S 3600
#define SB_JOBS_BATCH_MAX 1000 /* jobs one sb_jobs_lease_batch() leases */

enum sb_job_state {
	SB_JOB_PENDING,
	SB_JOB_LEASED,
	SB_JOB_DONE,
	SB_JOB_DEAD,
	SB_JOB__MAX
};

struct sb_job {
	int64_t id;
	char queue[SB_JOBS_QUEUE_MAX];
	char *payload; /* malloc'ed JSON text */
	int attempts; /* including the one this lease allows */
	int max_attempts;
	char owner[SB_JOBS_OWNER_MAX];
	int64_t lease_until;
};

/*
 * Adds a job to queue with payload (JSON text) runnable from run_at.  Runs
 * inside the caller's transaction (it does not begin one), so the job
 * exists iff the caller commits.  *id (if not NULL) gets the new id.
 */
enum sb_err sb_jobs_enqueue(struct sb_db *db, const char *queue,
    const char *payload, int max_attempts, int64_t run_at, int64_t *id);

/*
 * Leases the oldest due job of queue (NULL: any queue) for lease_s seconds
 * to owner, in its own transaction.  A pending job is due when run_at <= now;
 * a leased job is due again when its lease_until < now or its owner is a
 * dead process of this host (sb_owner_dead()).  On SB_OK job is
 * filled and the caller clears it with sb_job_clear(); SB_ERR_NOT_FOUND when
 * nothing is due.
 */
enum sb_err sb_jobs_lease(struct sb_db *db, const char *queue,
    const char *owner, int64_t now, int lease_s, struct sb_job *job);

/* As sb_jobs_lease() for the job with this id, if due. */
enum sb_err sb_jobs_lease_id(struct sb_db *db, int64_t id, const char *owner,
    int64_t now, int lease_s, struct sb_job *job);

/*
 * Leases up to max (1 to SB_JOBS_BATCH_MAX) of the oldest due jobs of queue
 * (NULL: any queue), oldest first, for lease_s seconds to owner, in one
 * BEGIN IMMEDIATE transaction.  jobs must have room for max jobs.  On SB_OK
 * jobs[0] to jobs[*count - 1] are filled (*count >= 1) and the caller clears
 * each with sb_job_clear(); otherwise *count is 0, every job is zeroed, and
 * SB_ERR_NOT_FOUND says nothing was due.
 */
enum sb_err sb_jobs_lease_batch(struct sb_db *db, const char *queue,
    const char *owner, int64_t now, int lease_s, size_t max,
    struct sb_job *jobs, size_t *count);

/*
 * Sets *any to whether a job of queue (NULL: any queue) is due at now.  A
 * read of at most one row: no write lock, no transaction of its own, so it
 * is cheap enough to ask after every response.
 */
enum sb_err sb_jobs_due(
    struct sb_db *db, const char *queue, int64_t now, bool *any);

/*
 * Marks the leased job done.  SB_ERR_CONFLICT if the lease was lost (another
 * owner holds it now); nothing changes then.
 */
enum sb_err sb_jobs_complete(
    struct sb_db *db, const struct sb_job *job, int64_t now);

/*
 * Marks the count leased jobs done in one transaction.  A job whose lease
 * was lost is left as it is (and logged), as sb_jobs_complete() would;
 * *completed (if not NULL) gets how many were marked done.  On an error
 * other than a lost lease nothing changes and *completed is 0.
 */
enum sb_err sb_jobs_complete_batch(struct sb_db *db, const struct sb_job *jobs,
    size_t count, int64_t now, size_t *completed);

/*
 * As sb_jobs_complete_batch(), but the jobs are deleted instead of marked
 * done: for a queue whose work leaves its own record (an event stored by
 * the events service), so that the table and its index hold only the jobs
 * still to run.  *removed (if not NULL) gets how many were deleted.
 */
enum sb_err sb_jobs_remove_batch(
    struct sb_db *db, const struct sb_job *jobs, size_t count, size_t *removed);

/*
 * Hands the count leased jobs back unattempted, in one transaction:
 * pending again, due as they were, their attempt count as before the
 * lease.  For jobs a round leased but did not run.  A job whose lease was
 * lost is left as it is (and logged); *given (if not NULL) gets how many
 * went back.
 */
enum sb_err sb_jobs_give_back_batch(
    struct sb_db *db, const struct sb_job *jobs, size_t count, size_t *given);

/*
 * Records error (no secrets) on the leased job and reschedules it at
 * now + max(delay_hint_s, backoff(attempts)), or marks it dead after
 * max_attempts.  SB_ERR_CONFLICT if the lease was lost.
 */
enum sb_err sb_jobs_fail(struct sb_db *db, const struct sb_job *job,
    const char *error, int64_t delay_hint_s, int64_t now);

/* State of job id into *state; SB_ERR_NOT_FOUND if none. */
enum sb_err sb_jobs_state(
    struct sb_db *db, int64_t id, enum sb_job_state *state);

/* Counts jobs of queue (NULL: all) in state into *count. */
enum sb_err sb_jobs_count(struct sb_db *db, const char *queue,
    enum sb_job_state state, int64_t *count);

/*
 * Deletes the done jobs last updated before the unix time before, in one
 * transaction, so the table does not grow without bound; dead jobs stay
 * for an operator.  *deleted (if not NULL) gets how many.
 */
enum sb_err sb_jobs_prune(struct sb_db *db, int64_t before, int64_t *deleted);

/*
 * Makes every pending job of queue due at now, whatever its backoff, in
 * its own transaction (an operator's `--now`).  *count (if not NULL) gets
 * how many were moved.
 */
enum sb_err sb_jobs_release(
    struct sb_db *db, const char *queue, int64_t now, int64_t *count);

/* Frees what job holds and zeroes it; safe on a zeroed job. */
void sb_job_clear(struct sb_job *job);

/* Backoff in seconds before attempt attempts+1: base * 2^(attempts-1), capped.
 */
int64_t sb_jobs_backoff_s(int attempts);

#endif
