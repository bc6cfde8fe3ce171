/*
 * Jobs and the outbox (see include/sb/store/jobs.h).  A job row moves
 * pending -> leased -> done (or is deleted, for a queue whose work leaves
 * its own record), or back to pending with backoff on failure, or to dead
 * after max_attempts.  A lease is identified by (id, owner,
 * attempts): the attempt counter goes up on every lease, so a worker whose
 * lease expired and was taken over cannot complete or fail the job, even if
 * the new holder has the same owner name.  Leasing, completing and failing
 * are each one short write transaction; enqueueing joins the caller's.  The
 * batch forms lease (one UPDATE ... RETURNING) or complete many jobs in one
 * transaction, so that a busy outbox pays for one commit per batch rather
 * than one per job.  The table has one index, (state, queue, run_at):
 * every look-up names a state and a queue, and each index costs a page in
 * the WAL on every write of a job.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sb/store/db.h"
#include "sb/store/jobs.h"
#include "sb/core/log.h"

#define JOBS_COMPONENT "jobs"
#define JOBS_PAYLOAD_MAX (1 << 20) /* bytes of payload JSON */
#define JOBS_ERROR_MAX 1024 /* bytes of last_error kept */
#define JOBS_ISO_MAX 32 /* sb_db_now_iso() output */

enum jobs_sql {
	JOBS_SQL_INSERT,
	JOBS_SQL_DUE_ANY,
	JOBS_SQL_DUE_QUEUE,
	JOBS_SQL_DUE_ID,
	JOBS_SQL_LEASE_BATCH,
	JOBS_SQL_LEASE_BATCH_ANY,
	JOBS_SQL_DUE_EXISTS,
	JOBS_SQL_DUE_EXISTS_ANY,
	JOBS_SQL_LEASE,
	JOBS_SQL_LOAD,
	JOBS_SQL_COMPLETE,
	JOBS_SQL_REMOVE,
	JOBS_SQL_FAIL,
	JOBS_SQL_GIVE_BACK,
	JOBS_SQL_STATE,
	JOBS_SQL_COUNT_ALL,
	JOBS_SQL_COUNT_QUEUE,
	JOBS_SQL_PRUNE,
	JOBS_SQL_RELEASE,
	JOBS_SQL__MAX
};

/*
 * A job is due when it is pending and its time has come, or when it is
 * leased and the lease has run out or its holder is a dead process of this
 * host (sb/core/owner.h), so that a killed worker's jobs are taken over at
 * once rather than after job_lease_s.  ?1 is always "now".  The index is
 * (state, queue, run_at) (db/migrations/0011): a look-up in one queue
 * names the queue beside each state and so reads only that queue's due
 * rows, however many jobs another queue has waiting; a look-up in any
 * queue (?2 NULL) reads the due rows of every queue.
 */
#define JOBS_DUE \
	"((state = 'pending' AND run_at <= ?1) OR" \
	" (state = 'leased' AND (lease_until < ?1 OR " SB_DB_OWNER_DEAD_FN \
	"(lease_owner))))"
/* A queue's leases taken over, then its oldest pending jobs in index
 * order (no sort of the whole backlog); at most ?6. */
#define JOBS_DUE_IN_QUEUE_IDS \
	"SELECT id FROM jobs WHERE state = 'leased' AND queue = ?2" \
	" AND (lease_until < ?1 OR " SB_DB_OWNER_DEAD_FN "(lease_owner))" \
	" UNION ALL SELECT id FROM (SELECT id FROM jobs" \
	" WHERE state = 'pending' AND queue = ?2 AND run_at <= ?1" \
	" ORDER BY run_at, id LIMIT ?6) LIMIT ?6"
#define JOBS_LEASE_SET \
	"UPDATE jobs SET state = 'leased', lease_owner = ?3," \
	" lease_until = ?4, attempts = attempts + 1, updated_at = ?5"
#define JOBS_LEASE_RETURNING \
	" RETURNING id, queue, payload, attempts, max_attempts, run_at"

static const char *const jobs_sql[JOBS_SQL__MAX] = {
	[JOBS_SQL_INSERT] = "INSERT INTO jobs (queue, payload, state,"
	                    " max_attempts, run_at, created_at, updated_at)"
	                    " VALUES (?1, ?2, 'pending', ?3, ?4, ?5, ?5)",
	[JOBS_SQL_DUE_ANY] = "SELECT id FROM jobs WHERE " JOBS_DUE
	                     " ORDER BY run_at, id LIMIT 1",
	[JOBS_SQL_DUE_QUEUE] = "SELECT id FROM jobs WHERE " JOBS_DUE
	                       " AND queue = ?2 ORDER BY run_at, id LIMIT 1",
	[JOBS_SQL_DUE_ID] =
	    "SELECT id FROM jobs WHERE " JOBS_DUE " AND id = ?2",
	[JOBS_SQL_LEASE_BATCH] = JOBS_LEASE_SET
	" WHERE id IN (" JOBS_DUE_IN_QUEUE_IDS ")" JOBS_LEASE_RETURNING,
	[JOBS_SQL_LEASE_BATCH_ANY] = JOBS_LEASE_SET
	" WHERE id IN (SELECT id FROM jobs WHERE " JOBS_DUE
	" AND ?2 IS NULL ORDER BY run_at, id LIMIT ?6)" JOBS_LEASE_RETURNING,
	[JOBS_SQL_DUE_EXISTS] =
	    "SELECT 1 FROM jobs WHERE " JOBS_DUE " AND queue = ?2 LIMIT 1",
	[JOBS_SQL_DUE_EXISTS_ANY] =
	    "SELECT 1 FROM jobs WHERE " JOBS_DUE " AND ?2 IS NULL LIMIT 1",
	[JOBS_SQL_LEASE] = "UPDATE jobs SET state = 'leased',"
	                   " lease_owner = ?3, lease_until = ?4,"
	                   " attempts = attempts + 1, updated_at = ?5"
	                   " WHERE id = ?2 AND " JOBS_DUE,
	[JOBS_SQL_LOAD] = "SELECT queue, payload, attempts, max_attempts,"
	                  " lease_owner, lease_until FROM jobs WHERE id = ?1",
	[JOBS_SQL_COMPLETE] = "UPDATE jobs SET state = 'done',"
	                      " lease_until = NULL, updated_at = ?4"
	                      " WHERE id = ?1 AND state = 'leased'"
	                      " AND lease_owner = ?2 AND attempts = ?3",
	[JOBS_SQL_REMOVE] =
	    "DELETE FROM jobs WHERE id = ?1 AND state = 'leased'"
	    " AND lease_owner = ?2 AND attempts = ?3",
	[JOBS_SQL_FAIL] = "UPDATE jobs SET state = CASE"
	                  " WHEN attempts >= max_attempts THEN 'dead'"
	                  " ELSE 'pending' END,"
	                  " run_at = ?5, last_error = ?6,"
	                  " lease_until = NULL, updated_at = ?4"
	                  " WHERE id = ?1 AND state = 'leased'"
	                  " AND lease_owner = ?2 AND attempts = ?3",
	/* as if never leased: the attempt the lease counted is taken back */
	[JOBS_SQL_GIVE_BACK] = "UPDATE jobs SET state = 'pending',"
	                       " attempts = attempts - 1, lease_until = NULL,"
	                       " updated_at = ?4"
	                       " WHERE id = ?1 AND state = 'leased'"
	                       " AND lease_owner = ?2 AND attempts = ?3",
	[JOBS_SQL_STATE] = "SELECT state FROM jobs WHERE id = ?1",
	[JOBS_SQL_COUNT_ALL] = "SELECT count(*) FROM jobs WHERE state = ?1",
	[JOBS_SQL_COUNT_QUEUE] = "SELECT count(*) FROM jobs"
	                         " WHERE state = ?1 AND queue = ?2",
	[JOBS_SQL_PRUNE] = "DELETE FROM jobs WHERE state = 'done'"
	                   " AND updated_at < ?1",
	[JOBS_SQL_RELEASE] = "UPDATE jobs SET run_at = ?1"
	                     " WHERE state = 'pending' AND run_at > ?1"
	                     " AND +queue = ?2",
};

/* The state column's text for each enum value; the schema CHECKs these. */
static const char *const jobs_state_names[SB_JOB__MAX] = {
	[SB_JOB_PENDING] = "pending",
	[SB_JOB_LEASED] = "leased",
	[SB_JOB_DONE] = "done",
	[SB_JOB_DEAD] = "dead",
};

/* True iff s is a non-empty string shorter than size (room for its NUL). */
static int
jobs_name_valid(const char *s, size_t size)
{
	return s != NULL && s[0] != '\0' && strnlen(s, size) < size;
}

static int
jobs_bind_text(sqlite3_stmt *stmt, int index, const char *text)
{
	return sqlite3_bind_text(stmt, index, text, -1, SQLITE_STATIC);
}

/* Binds a queue name, or NULL for "any queue". */
static int
jobs_bind_queue(sqlite3_stmt *stmt, int index, const char *queue)
{
	return queue != NULL ? jobs_bind_text(stmt, index, queue)
	                     : sqlite3_bind_null(stmt, index);
}

/* True if the arguments every lease takes are usable. */
static bool
jobs_lease_args_valid(
    const char *queue, const char *owner, int64_t now, int lease_s)
{
	return (queue == NULL || jobs_name_valid(queue, SB_JOBS_QUEUE_MAX)) &&
	    jobs_name_valid(owner, SB_JOBS_OWNER_MAX) && lease_s > 0 &&
	    now <= INT64_MAX - lease_s;
}

/*
 * Steps a statement that yields at most one integer; *value gets it.
 * SB_ERR_NOT_FOUND if it yields no row.  The statement is reset so that no
 * read snapshot stays open behind the caller's back.
 */
static enum sb_err
jobs_step_int64(struct sb_db *db, sqlite3_stmt *stmt, int64_t *value)
{
	enum sb_err rc;
	int step;

	step = sqlite3_step(stmt);
	if (step == SQLITE_ROW) {
		*value = sqlite3_column_int64(stmt, 0);
		rc = SB_OK;
	} else if (step == SQLITE_DONE) {
		rc = SB_ERR_NOT_FOUND;
	} else {
		sb_log(SB_LOG_ERROR, JOBS_COMPONENT, NULL, "read: %s",
		    sb_db_errmsg(db));
		rc = sb_db_rc(step);
	}
	sqlite3_reset(stmt);
	return rc;
}

/*
 * Adds a pending job inside the caller's transaction (none is begun here),
 * so it exists iff the caller commits.  *id (if not NULL) gets its id.
 */
enum sb_err
sb_jobs_enqueue(struct sb_db *db, const char *queue, const char *payload,
    int max_attempts, int64_t run_at, int64_t *id)
{
	char now[JOBS_ISO_MAX];
	sqlite3_stmt *stmt;
	enum sb_err rc = SB_ERR_INVALID;

	if (!jobs_name_valid(queue, SB_JOBS_QUEUE_MAX) || payload == NULL ||
	    max_attempts < 1)
		goto out;
	rc = SB_ERR_TOO_LARGE;
	if (strnlen(payload, JOBS_PAYLOAD_MAX + 1) > JOBS_PAYLOAD_MAX)
		goto out;
	rc = SB_ERR_DB;
	sb_db_now_iso(now, sizeof(now));
	if ((stmt = sb_db_stmt(db, jobs_sql[JOBS_SQL_INSERT])) == NULL)
		goto out;
	if ((jobs_bind_text(stmt, 1, queue) | jobs_bind_text(stmt, 2, payload) |
	        sqlite3_bind_int(stmt, 3, max_attempts) |
	        sqlite3_bind_int64(stmt, 4, run_at) |
	        jobs_bind_text(stmt, 5, now)) != SQLITE_OK)
		goto out;
	if ((rc = sb_db_step_write(db, stmt, NULL)) != SB_OK)
		goto out;
	if (id != NULL)
		*id = sqlite3_last_insert_rowid(sb_db_handle(db));
out:
	if (rc != SB_OK)
		sb_log(SB_LOG_ERROR, JOBS_COMPONENT, NULL, "enqueue %s: %s",
		    jobs_name_valid(queue, SB_JOBS_QUEUE_MAX) ? queue : "-",
		    sb_strerror(rc));
	return rc;
}

/*
 * Finds the id of the oldest due job: by queue, any queue (queue NULL), or
 * the job id itself (which >= 0).  SB_ERR_NOT_FOUND if none is due.
 */
static enum sb_err
jobs_find_due(struct sb_db *db, const char *queue, int64_t which, int64_t now,
    int64_t *id)
{
	enum jobs_sql sql;
	sqlite3_stmt *stmt;
	int bound;

	if (which >= 0)
		sql = JOBS_SQL_DUE_ID;
	else
		sql = queue != NULL ? JOBS_SQL_DUE_QUEUE : JOBS_SQL_DUE_ANY;
	if ((stmt = sb_db_stmt(db, jobs_sql[sql])) == NULL)
		return SB_ERR_DB;
	bound = sqlite3_bind_int64(stmt, 1, now);
	if (sql == JOBS_SQL_DUE_ID)
		bound |= sqlite3_bind_int64(stmt, 2, which);
	else if (sql == JOBS_SQL_DUE_QUEUE)
		bound |= jobs_bind_text(stmt, 2, queue);
	if (bound != SQLITE_OK)
		return SB_ERR_DB;
	return jobs_step_int64(db, stmt, id);
}

/* Takes the lease on job id if it is still due; NOT_FOUND if it is not. */
static enum sb_err
jobs_take(
    struct sb_db *db, int64_t id, const char *owner, int64_t now, int64_t until)
{
	char stamp[JOBS_ISO_MAX];
	sqlite3_stmt *stmt;
	enum sb_err rc;
	int changes;

	sb_db_now_iso(stamp, sizeof(stamp));
	if ((stmt = sb_db_stmt(db, jobs_sql[JOBS_SQL_LEASE])) == NULL)
		return SB_ERR_DB;
	if ((sqlite3_bind_int64(stmt, 1, now) |
	        sqlite3_bind_int64(stmt, 2, id) |
	        jobs_bind_text(stmt, 3, owner) |
	        sqlite3_bind_int64(stmt, 4, until) |
	        jobs_bind_text(stmt, 5, stamp)) != SQLITE_OK)
		return SB_ERR_DB;
	if ((rc = sb_db_step_write(db, stmt, &changes)) != SB_OK)
		return rc;
	return changes == 1 ? SB_OK : SB_ERR_NOT_FOUND;
}

/* Copies text into a fixed buffer; SB_ERR_DB if the row holds too much. */
static enum sb_err
jobs_copy_column(sqlite3_stmt *stmt, int column, char *buf, size_t size)
{
	const unsigned char *text = sqlite3_column_text(stmt, column);
	size_t len = (size_t)sqlite3_column_bytes(stmt, column);

	if (text == NULL || len >= size)
		return SB_ERR_DB;
	memcpy(buf, text, len);
	buf[len] = '\0';
	return SB_OK;
}

/* Fills job from row id; on error job may hold a payload to clear. */
static enum sb_err
jobs_load(struct sb_db *db, int64_t id, struct sb_job *job)
{
	const unsigned char *payload;
	sqlite3_stmt *stmt;
	enum sb_err rc = SB_ERR_DB;

	if ((stmt = sb_db_stmt(db, jobs_sql[JOBS_SQL_LOAD])) == NULL ||
	    sqlite3_bind_int64(stmt, 1, id) != SQLITE_OK)
		goto out;
	if (sqlite3_step(stmt) != SQLITE_ROW)
		goto out;
	job->id = id;
	if (jobs_copy_column(stmt, 0, job->queue, sizeof(job->queue)) !=
	        SB_OK ||
	    jobs_copy_column(stmt, 4, job->owner, sizeof(job->owner)) != SB_OK)
		goto out;
	job->attempts = sqlite3_column_int(stmt, 2);
	job->max_attempts = sqlite3_column_int(stmt, 3);
	job->lease_until = sqlite3_column_int64(stmt, 5);
	rc = SB_ERR_NOMEM;
	if ((payload = sqlite3_column_text(stmt, 1)) == NULL ||
	    (job->payload = strdup((const char *)payload)) == NULL)
		goto out;
	rc = SB_OK;
out:
	if (stmt != NULL)
		sqlite3_reset(stmt);
	return rc;
}

/*
 * The lease transaction shared by sb_jobs_lease() and sb_jobs_lease_id():
 * find the oldest due job, take it (checking it is still due), load it.
 */
static enum sb_err
jobs_lease(struct sb_db *db, const char *queue, int64_t which,
    const char *owner, int64_t now, int lease_s, struct sb_job *job)
{
	enum sb_err rc = SB_ERR_INVALID;
	int64_t id;

	if (job == NULL)
		return rc;
	memset(job, 0, sizeof(*job));
	if (!jobs_lease_args_valid(queue, owner, now, lease_s))
		goto out;
	if ((rc = sb_db_begin(db)) != SB_OK)
		goto out;
	if ((rc = jobs_find_due(db, queue, which, now, &id)) != SB_OK)
		goto out;
	if ((rc = jobs_take(db, id, owner, now, now + lease_s)) != SB_OK)
		goto out;
	if ((rc = jobs_load(db, id, job)) != SB_OK)
		goto out;
	rc = sb_db_commit(db);
out:
	if (rc != SB_OK) {
		sb_db_rollback(db);
		sb_job_clear(job);
	}
	if (rc != SB_OK && rc != SB_ERR_NOT_FOUND)
		sb_log(SB_LOG_ERROR, JOBS_COMPONENT, NULL, "lease: %s",
		    sb_strerror(rc));
	return rc;
}

/*
 * Leases the oldest due job of queue (NULL: any) to owner for lease_s
 * seconds in its own transaction.  On SB_OK job is filled and the caller
 * clears it with sb_job_clear(); otherwise job is zeroed.  SB_ERR_NOT_FOUND
 * when nothing is due.
 */
enum sb_err
sb_jobs_lease(struct sb_db *db, const char *queue, const char *owner,
    int64_t now, int lease_s, struct sb_job *job)
{
	return jobs_lease(db, queue, -1, owner, now, lease_s, job);
}

/* As sb_jobs_lease() for the job with this id, if it is due. */
enum sb_err
sb_jobs_lease_id(struct sb_db *db, int64_t id, const char *owner, int64_t now,
    int lease_s, struct sb_job *job)
{
	if (id < 0) {
		if (job != NULL)
			memset(job, 0, sizeof(*job));
		return SB_ERR_NOT_FOUND;
	}
	return jobs_lease(db, NULL, id, owner, now, lease_s, job);
}

/*
 * Fills job from a row of JOBS_SQL_LEASE_BATCH leased to owner until
 * until; *run_at gets the row's run_at, by which the batch is ordered.
 * On error job may hold a payload to clear.
 */
static enum sb_err
jobs_leased_row(sqlite3_stmt *stmt, const char *owner, int64_t until,
    struct sb_job *job, int64_t *run_at)
{
	const unsigned char *payload;

	job->id = sqlite3_column_int64(stmt, 0);
	if (jobs_copy_column(stmt, 1, job->queue, sizeof(job->queue)) != SB_OK)
		return SB_ERR_DB;
	if ((payload = sqlite3_column_text(stmt, 2)) == NULL ||
	    (job->payload = strdup((const char *)payload)) == NULL)
		return SB_ERR_NOMEM;
	job->attempts = sqlite3_column_int(stmt, 3);
	job->max_attempts = sqlite3_column_int(stmt, 4);
	*run_at = sqlite3_column_int64(stmt, 5);
	snprintf(job->owner, sizeof(job->owner), "%s", owner);
	job->lease_until = until;
	return SB_OK;
}

/*
 * Puts the n leased jobs in the order the due look-up chose them, oldest
 * (run_at, then id) first; RETURNING hands the rows back in an order of
 * its own.  They mostly come back in that order already, so an insertion
 * sort does little work.
 */
static void
jobs_sort_oldest_first(struct sb_job *jobs, int64_t *run_at, size_t n)
{
	struct sb_job job;
	int64_t at;
	size_t i, j;

	for (i = 1; i < n; i++) {
		job = jobs[i];
		at = run_at[i];
		for (j = i; j > 0 &&
		     (run_at[j - 1] > at ||
		         (run_at[j - 1] == at && jobs[j - 1].id > job.id));
		     j--) {
			jobs[j] = jobs[j - 1];
			run_at[j] = run_at[j - 1];
		}
		jobs[j] = job;
		run_at[j] = at;
	}
}

/*
 * Takes and reads up to max due jobs with one UPDATE ... RETURNING inside
 * the caller's transaction; *found gets how many rows it returned.
 */
static enum sb_err
jobs_take_batch(struct sb_db *db, const char *queue, const char *owner,
    int64_t now, int64_t until, size_t max, struct sb_job *jobs,
    int64_t *run_at, size_t *found)
{
	char stamp[JOBS_ISO_MAX];
	sqlite3_stmt *stmt;
	enum sb_err rc = SB_OK;
	int step = SQLITE_DONE;

	*found = 0;
	sb_db_now_iso(stamp, sizeof(stamp));
	if ((stmt = sb_db_stmt(db,
	         jobs_sql[queue != NULL ? JOBS_SQL_LEASE_BATCH
	                                : JOBS_SQL_LEASE_BATCH_ANY])) == NULL)
		return SB_ERR_DB;
	if ((sqlite3_bind_int64(stmt, 1, now) |
	        jobs_bind_queue(stmt, 2, queue) |
	        jobs_bind_text(stmt, 3, owner) |
	        sqlite3_bind_int64(stmt, 4, until) |
	        jobs_bind_text(stmt, 5, stamp) |
	        sqlite3_bind_int64(stmt, 6, (sqlite3_int64)max)) != SQLITE_OK)
		return SB_ERR_DB;
	while (rc == SB_OK && *found < max &&
	    (step = sqlite3_step(stmt)) == SQLITE_ROW) {
		rc = jobs_leased_row(
		    stmt, owner, until, &jobs[*found], &run_at[*found]);
		(*found)++;
	}
	if (rc == SB_OK && step != SQLITE_ROW && step != SQLITE_DONE) {
		sb_log(SB_LOG_ERROR, JOBS_COMPONENT, NULL, "lease: %s",
		    sb_db_errmsg(db));
		rc = sb_db_rc(step);
	}
	sqlite3_reset(stmt);
	return rc;
}

/*
 * Leases up to max of the oldest due jobs in one transaction of one
 * statement.  On SB_OK *count >= 1 and the caller clears the jobs;
 * otherwise *count is 0 and they are zeroed.
 */
enum sb_err
sb_jobs_lease_batch(struct sb_db *db, const char *queue, const char *owner,
    int64_t now, int lease_s, size_t max, struct sb_job *jobs, size_t *count)
{
	enum sb_err rc = SB_ERR_INVALID;
	int64_t *run_at = NULL;
	size_t found = 0, i;

	if (jobs == NULL || count == NULL || max < 1 || max > SB_JOBS_BATCH_MAX)
		return rc;
	*count = 0;
	memset(jobs, 0, max * sizeof(*jobs));
	if (!jobs_lease_args_valid(queue, owner, now, lease_s))
		goto out;
	rc = SB_ERR_NOMEM;
	if ((run_at = calloc(max, sizeof(*run_at))) == NULL)
		goto out;
	if ((rc = sb_db_begin(db)) != SB_OK)
		goto out;
	if ((rc = jobs_take_batch(db, queue, owner, now, now + lease_s, max,
	         jobs, run_at, &found)) != SB_OK)
		goto out;
	rc = SB_ERR_NOT_FOUND;
	if (found > 0 && (rc = sb_db_commit(db)) == SB_OK)
		jobs_sort_oldest_first(jobs, run_at, found);
out:
	free(run_at);
	if (rc == SB_OK) {
		*count = found;
		return rc;
	}
	sb_db_rollback(db);
	for (i = 0; i < found; i++)
		sb_job_clear(&jobs[i]);
	if (rc != SB_ERR_NOT_FOUND)
		sb_log(SB_LOG_ERROR, JOBS_COMPONENT, NULL, "lease batch: %s",
		    sb_strerror(rc));
	return rc;
}

/*
 * Whether a job of queue (NULL: any) is due: one row at most, read in
 * autocommit mode, so no write lock is taken and the read ends at once.
 */
enum sb_err
sb_jobs_due(struct sb_db *db, const char *queue, int64_t now, bool *any)
{
	sqlite3_stmt *stmt;
	enum sb_err rc;
	int64_t one;

	if (any == NULL)
		return SB_ERR_INVALID;
	*any = false;
	if (queue != NULL && !jobs_name_valid(queue, SB_JOBS_QUEUE_MAX))
		return SB_ERR_INVALID;
	if ((stmt = sb_db_stmt(db,
	         jobs_sql[queue != NULL ? JOBS_SQL_DUE_EXISTS
	                                : JOBS_SQL_DUE_EXISTS_ANY])) == NULL)
		return SB_ERR_DB;
	if ((sqlite3_bind_int64(stmt, 1, now) |
	        jobs_bind_queue(stmt, 2, queue)) != SQLITE_OK)
		return SB_ERR_DB;
	rc = jobs_step_int64(db, stmt, &one);
	*any = rc == SB_OK;
	return rc == SB_ERR_NOT_FOUND ? SB_OK : rc;
}

/*
 * Binds the lease identity (?1 id, ?2 owner, ?3 attempts) and, if the
 * statement has it (a delete has not), ?4 updated_at.
 */
static int
jobs_bind_lease(sqlite3_stmt *stmt, const struct sb_job *job, const char *stamp)
{
	int bound = sqlite3_bind_int64(stmt, 1, job->id) |
	    jobs_bind_text(stmt, 2, job->owner) |
	    sqlite3_bind_int(stmt, 3, job->attempts);

	if (sqlite3_bind_parameter_count(stmt) >= 4)
		bound |= jobs_bind_text(stmt, 4, stamp);
	return bound;
}

/*
 * Runs one lease-guarded update (complete or fail, bound by the caller past
 * ?4) in its own transaction.  SB_ERR_CONFLICT if the lease was lost.
 */
static enum sb_err
jobs_settle(struct sb_db *db, sqlite3_stmt *stmt)
{
	enum sb_err rc;
	int changes;

	if ((rc = sb_db_begin(db)) != SB_OK)
		goto out;
	if ((rc = sb_db_step_write(db, stmt, &changes)) != SB_OK)
		goto out;
	rc = SB_ERR_CONFLICT;
	if (changes != 1)
		goto out;
	rc = sb_db_commit(db);
out:
	if (rc != SB_OK)
		sb_db_rollback(db);
	return rc;
}

/*
 * Marks the leased job done in its own transaction.  SB_ERR_CONFLICT if the
 * lease was lost (another owner or attempt holds it); nothing changes then.
 */
enum sb_err
sb_jobs_complete(struct sb_db *db, const struct sb_job *job, int64_t now)
{
	char stamp[JOBS_ISO_MAX];
	sqlite3_stmt *stmt;
	enum sb_err rc;

	/*
	 * now is not needed: a holder whose lease ran out may still complete
	 * while nobody else has taken the job, since the work was done.
	 */
	(void)now;
	if (job == NULL)
		return SB_ERR_INVALID;
	sb_db_now_iso(stamp, sizeof(stamp));
	if ((stmt = sb_db_stmt(db, jobs_sql[JOBS_SQL_COMPLETE])) == NULL ||
	    jobs_bind_lease(stmt, job, stamp) != SQLITE_OK)
		return SB_ERR_DB;
	if ((rc = jobs_settle(db, stmt)) != SB_OK)
		sb_log(rc == SB_ERR_CONFLICT ? SB_LOG_WARN : SB_LOG_ERROR,
		    JOBS_COMPONENT, NULL, "complete job %lld: %s",
		    (long long)job->id, sb_strerror(rc));
	return rc;
}

/*
 * Settles the count leased jobs in one transaction with sql (complete or
 * remove); a job whose lease was lost is skipped with a warning.
 * *settled (if not NULL) gets how many were settled; on an error nothing
 * changes and it is 0.
 */
static enum sb_err
jobs_settle_batch(struct sb_db *db, enum jobs_sql sql,
    const struct sb_job *jobs, size_t count, size_t *settled)
{
	char stamp[JOBS_ISO_MAX];
	sqlite3_stmt *stmt;
	enum sb_err rc = SB_ERR_INVALID;
	size_t done = 0;
	int changes;

	if (settled != NULL)
		*settled = 0;
	if (count == 0 || jobs == NULL)
		return count == 0 ? SB_OK : rc;
	sb_db_now_iso(stamp, sizeof(stamp));
	if ((stmt = sb_db_stmt(db, jobs_sql[sql])) == NULL)
		return SB_ERR_DB;
	if ((rc = sb_db_begin(db)) != SB_OK)
		goto out;
	for (size_t i = 0; i < count; i++) {
		rc = SB_ERR_DB;
		if (jobs_bind_lease(stmt, &jobs[i], stamp) != SQLITE_OK ||
		    (rc = sb_db_step_write(db, stmt, &changes)) != SB_OK)
			goto out;
		if (changes == 1)
			done++;
		else
			sb_log(SB_LOG_WARN, JOBS_COMPONENT, NULL,
			    "settle job %lld: %s", (long long)jobs[i].id,
			    sb_strerror(SB_ERR_CONFLICT));
	}
	rc = sb_db_commit(db);
out:
	if (rc != SB_OK) {
		sb_db_rollback(db);
		sb_log(SB_LOG_ERROR, JOBS_COMPONENT, NULL, "settle batch: %s",
		    sb_strerror(rc));
	} else if (settled != NULL) {
		*settled = done;
	}
	return rc;
}

/* Marks the leased jobs done in one transaction (jobs_settle_batch). */
enum sb_err
sb_jobs_complete_batch(struct sb_db *db, const struct sb_job *jobs,
    size_t count, int64_t now, size_t *completed)
{
	(void)now; /* as in sb_jobs_complete() */
	return jobs_settle_batch(db, JOBS_SQL_COMPLETE, jobs, count, completed);
}

/* Gives the leased jobs back in one transaction (jobs_settle_batch). */
enum sb_err
sb_jobs_give_back_batch(
    struct sb_db *db, const struct sb_job *jobs, size_t count, size_t *given)
{
	return jobs_settle_batch(db, JOBS_SQL_GIVE_BACK, jobs, count, given);
}

/* Deletes the leased jobs in one transaction (jobs_settle_batch). */
enum sb_err
sb_jobs_remove_batch(
    struct sb_db *db, const struct sb_job *jobs, size_t count, size_t *removed)
{
	return jobs_settle_batch(db, JOBS_SQL_REMOVE, jobs, count, removed);
}

/* Length of error cut to JOBS_ERROR_MAX bytes, not inside a UTF-8 char. */
static int
jobs_error_length(const char *error)
{
	size_t len = strnlen(error, JOBS_ERROR_MAX + 1);

	if (len > JOBS_ERROR_MAX) {
		len = JOBS_ERROR_MAX;
		while (len > 0 && ((unsigned char)error[len] & 0xc0) == 0x80)
			len--;
	}
	return (int)len;
}

/* now + max(delay_hint_s, backoff), saturating instead of overflowing. */
static int64_t
jobs_retry_at(int64_t now, int attempts, int64_t delay_hint_s)
{
	int64_t delay = sb_jobs_backoff_s(attempts);

	if (delay_hint_s > delay)
		delay = delay_hint_s;
	if (now > 0 && delay > INT64_MAX - now)
		return INT64_MAX;
	return now + delay;
}

/*
 * Records error on the leased job and reschedules it, or marks it dead once
 * its attempts reach max_attempts (decided from the row, not from job).
 * SB_ERR_CONFLICT if the lease was lost; nothing changes then.
 */
enum sb_err
sb_jobs_fail(struct sb_db *db, const struct sb_job *job, const char *error,
    int64_t delay_hint_s, int64_t now)
{
	char stamp[JOBS_ISO_MAX];
	sqlite3_stmt *stmt;
	enum sb_err rc;
	int bound;

	if (job == NULL)
		return SB_ERR_INVALID;
	sb_db_now_iso(stamp, sizeof(stamp));
	if ((stmt = sb_db_stmt(db, jobs_sql[JOBS_SQL_FAIL])) == NULL)
		return SB_ERR_DB;
	bound = jobs_bind_lease(stmt, job, stamp) |
	    sqlite3_bind_int64(
	        stmt, 5, jobs_retry_at(now, job->attempts, delay_hint_s));
	if (error != NULL)
		bound |= sqlite3_bind_text(
		    stmt, 6, error, jobs_error_length(error), SQLITE_STATIC);
	if (bound != SQLITE_OK)
		return SB_ERR_DB;
	if ((rc = jobs_settle(db, stmt)) != SB_OK)
		sb_log(rc == SB_ERR_CONFLICT ? SB_LOG_WARN : SB_LOG_ERROR,
		    JOBS_COMPONENT, NULL, "fail job %lld: %s",
		    (long long)job->id, sb_strerror(rc));
	else if (job->attempts >= job->max_attempts)
		sb_log(SB_LOG_WARN, JOBS_COMPONENT, NULL,
		    "job %lld dead after %d attempts", (long long)job->id,
		    job->attempts);
	return rc;
}

/* State of job id into *state; SB_ERR_NOT_FOUND if there is no such job. */
enum sb_err
sb_jobs_state(struct sb_db *db, int64_t id, enum sb_job_state *state)
{
	const unsigned char *text;
	sqlite3_stmt *stmt;
	enum sb_err rc = SB_ERR_DB;
	int step, i;

	if ((stmt = sb_db_stmt(db, jobs_sql[JOBS_SQL_STATE])) == NULL ||
	    sqlite3_bind_int64(stmt, 1, id) != SQLITE_OK)
		goto out;
	step = sqlite3_step(stmt);
	if (step != SQLITE_ROW) {
		rc = step == SQLITE_DONE ? SB_ERR_NOT_FOUND : sb_db_rc(step);
		goto out;
	}
	text = sqlite3_column_text(stmt, 0);
	for (i = 0; text != NULL && i < SB_JOB__MAX; i++) {
		if (strcmp((const char *)text, jobs_state_names[i]) == 0) {
			*state = (enum sb_job_state)i;
			rc = SB_OK;
			break;
		}
	}
out:
	if (stmt != NULL)
		sqlite3_reset(stmt);
	return rc;
}

/* Counts jobs of queue (NULL: all queues) in state into *count. */
enum sb_err
sb_jobs_count(struct sb_db *db, const char *queue, enum sb_job_state state,
    int64_t *count)
{
	sqlite3_stmt *stmt;
	int bound;

	if ((unsigned)state >= SB_JOB__MAX || count == NULL ||
	    (queue != NULL && !jobs_name_valid(queue, SB_JOBS_QUEUE_MAX)))
		return SB_ERR_INVALID;
	stmt = sb_db_stmt(db,
	    jobs_sql[queue != NULL ? JOBS_SQL_COUNT_QUEUE
	                           : JOBS_SQL_COUNT_ALL]);
	if (stmt == NULL)
		return SB_ERR_DB;
	bound = jobs_bind_text(stmt, 1, jobs_state_names[state]);
	if (queue != NULL)
		bound |= jobs_bind_text(stmt, 2, queue);
	if (bound != SQLITE_OK)
		return SB_ERR_DB;
	return jobs_step_int64(db, stmt, count);
}

enum sb_err
sb_jobs_prune(struct sb_db *db, int64_t before, int64_t *deleted)
{
	sqlite3_stmt *stmt = sb_db_stmt(db, jobs_sql[JOBS_SQL_PRUNE]);
	char iso[32];
	struct tm tm;
	time_t t = (time_t)before;
	int changes = 0;
	enum sb_err rc;

	if (deleted != NULL)
		*deleted = 0;
	if (stmt == NULL || gmtime_r(&t, &tm) == NULL)
		return SB_ERR_DB;
	/* updated_at is ISO-8601 UTC text, which sorts as time does. */
	strftime(iso, sizeof(iso), "%Y-%m-%dT%H:%M:%S.000Z", &tm);
	if (jobs_bind_text(stmt, 1, iso) != SQLITE_OK) {
		sqlite3_reset(stmt);
		return SB_ERR_DB;
	}
	rc = sb_db_write(db, stmt, &changes);
	if (rc == SB_OK && deleted != NULL)
		*deleted = changes;
	return rc;
}

/* Frees what job holds and zeroes it; safe on a zeroed job or NULL. */
void
sb_job_clear(struct sb_job *job)
{
	if (job == NULL)
		return;
	free(job->payload);
	memset(job, 0, sizeof(*job));
}

/*
 * Seconds to wait before attempt attempts+1: SB_JOBS_BACKOFF_BASE_S doubled
 * for each attempt after the first, capped at SB_JOBS_BACKOFF_CAP_S.  The
 * doubling stops at the cap, so no attempt count can overflow it.
 */
int64_t
sb_jobs_backoff_s(int attempts)
{
	int64_t delay = SB_JOBS_BACKOFF_BASE_S;
	int i;

	for (i = 1; i < attempts && delay < SB_JOBS_BACKOFF_CAP_S; i++)
		delay *= 2;
	return delay < SB_JOBS_BACKOFF_CAP_S ? delay : SB_JOBS_BACKOFF_CAP_S;
}

/* Makes queue's pending jobs due at now, in one transaction. */
enum sb_err
sb_jobs_release(
    struct sb_db *db, const char *queue, int64_t now, int64_t *count)
{
	sqlite3_stmt *stmt;
	enum sb_err rc;
	int changes = 0;

	if (!jobs_name_valid(queue, SB_JOBS_QUEUE_MAX))
		return SB_ERR_INVALID;
	if ((rc = sb_db_begin(db)) != SB_OK)
		return rc;
	rc = SB_ERR_DB;
	if ((stmt = sb_db_stmt(db, jobs_sql[JOBS_SQL_RELEASE])) != NULL &&
	    (sqlite3_bind_int64(stmt, 1, now) |
	        jobs_bind_text(stmt, 2, queue)) == SQLITE_OK)
		rc = sb_db_step_write(db, stmt, &changes);
	if (rc == SB_OK)
		rc = sb_db_commit(db);
	if (rc != SB_OK)
		sb_db_rollback(db);
	if (count != NULL)
		*count = rc == SB_OK ? changes : 0;
	return rc;
}
