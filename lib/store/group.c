/*
 * Group commit (see include/sb/store/group.h).  The queue is a list of
 * items that live on their writers' stacks: a writer waits until its item
 * is marked done, and the leader reads an item's next before marking it,
 * since the writer may return (and its stack frame go) at once.
 */
#include <stddef.h>
#include <time.h>

#include "sb/core/deadline.h"
#include "sb/store/group.h"

#define GROUP_SAVEPOINT "SAVEPOINT sb_group"
#define GROUP_RELEASE "RELEASE sb_group"
#define GROUP_UNDO "ROLLBACK TO sb_group"

struct sb_db_group_item {
	sb_db_group_fn fn;
	void *arg;
	int64_t deadline;
	enum sb_err rc; /* SB_OK until the item's write or commit fails */
	bool done;
	struct sb_db_group_item *next;
};

/* Runs one statement of the savepoint protocol on db. */
static enum sb_err
group_exec(struct sb_db *db, const char *sql)
{
	return sb_db_step_write(db, sb_db_stmt(db, sql), NULL);
}

/* True while db's transaction is open (SQLite ends it on some errors). */
static bool
group_open(struct sb_db *db)
{
	return sqlite3_get_autocommit(sb_db_handle(db)) == 0;
}

/* The earliest deadline of the batch, SB_DEADLINE_NONE if none has one. */
static int64_t
group_deadline(const struct sb_db_group_item *it)
{
	int64_t min = SB_DEADLINE_NONE;

	for (; it != NULL; it = it->next)
		if (it->deadline != SB_DEADLINE_NONE &&
		    (min == SB_DEADLINE_NONE || it->deadline < min))
			min = it->deadline;
	return min;
}

/*
 * Runs it's write inside a savepoint of the open transaction, undoing it if
 * it fails.  Returns false if the transaction is gone (an error SQLite
 * answers with a rollback of its own): the writes before it are lost too.
 */
static bool
group_run_one(struct sb_db *db, struct sb_db_group_item *it)
{
	if (sb_deadline_passed(it->deadline)) {
		it->rc = SB_ERR_BUSY;
		return true;
	}
	if ((it->rc = group_exec(db, GROUP_SAVEPOINT)) != SB_OK)
		return group_open(db);
	if ((it->rc = it->fn(db, it->arg)) == SB_OK)
		it->rc = group_exec(db, GROUP_RELEASE);
	else if (group_open(db) && group_exec(db, GROUP_UNDO) == SB_OK)
		(void)group_exec(db, GROUP_RELEASE);
	return group_open(db);
}

/*
 * One transaction for the batch on db, within the batch's earliest
 * deadline; then db keeps the leader's own deadline again.  Every write that
 * succeeded gets the commit's result; when the transaction failed or was lost,
 * every write that had not failed on its own gets that error.
 */
static void
group_commit(
    struct sb_db *db, struct sb_db_group_item *batch, int64_t own_deadline)
{
	struct sb_db_group_item *it;
	enum sb_err rc;
	bool kept = false;

	sb_db_deadline_set(db, group_deadline(batch));
	rc = sb_db_begin(db);
	for (it = batch; it != NULL && rc == SB_OK; it = it->next) {
		if (!group_run_one(db, it))
			rc = it->rc != SB_OK ? it->rc : SB_ERR_DB;
		kept = kept || it->rc == SB_OK;
	}
	if (rc == SB_OK && kept)
		rc = sb_db_commit(db);
	else
		sb_db_rollback(db);
	for (it = batch; it != NULL && rc != SB_OK; it = it->next)
		if (it->rc == SB_OK)
			it->rc = rc;
	sb_db_deadline_set(db, own_deadline);
}

/*
 * The connection the leader commits on: the group's, opened on first use
 * and recovered between batches (sb_db_recover()); the leader's own db if
 * it cannot be opened.
 */
static struct sb_db *
group_db(struct sb_db_group *g, struct sb_db *own)
{
	if (g->db == NULL && sb_db_open_another(own, &g->db) != SB_OK)
		return own;
	sb_db_recover(g->db);
	return g->db;
}

size_t
sb_db_group_queued(struct sb_db_group *g)
{
	size_t n;

	pthread_mutex_lock(&g->lock);
	n = g->queued;
	pthread_mutex_unlock(&g->lock);
	return n;
}

void
sb_db_group_close(struct sb_db_group *g)
{
	sb_db_close(g->db);
	g->db = NULL;
}

/*
 * Waits (the lock held) while fewer writes are queued than requests are in
 * the process's hands, up to the group's wait: they may be writes on
 * their way, which then share this commit instead of waiting for the next.
 */
static void
group_gather(struct sb_db_group *g, const atomic_int *in_flight)
{
	long wait_us = g->wait_us > 0 ? g->wait_us : SB_DB_GROUP_WAIT_US;
	struct timespec until;

	if (in_flight == NULL)
		return;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += wait_us / 1000000L;
	until.tv_nsec += wait_us % 1000000L * 1000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	while (g->queued < SB_DB_GROUP_BATCH_MAX &&
	    (int)g->queued < atomic_load(in_flight) &&
	    pthread_cond_timedwait(&g->arrived, &g->lock, &until) == 0)
		continue;
}

/* Detaches up to SB_DB_GROUP_BATCH_MAX items from the queue's head. */
static struct sb_db_group_item *
group_take(struct sb_db_group *g)
{
	struct sb_db_group_item *batch = g->head, **cut = &g->head;
	size_t n = 0;

	for (; *cut != NULL && n < SB_DB_GROUP_BATCH_MAX; n++)
		cut = &(*cut)->next;
	g->head = *cut;
	*cut = NULL;
	g->queued -= n;
	if (g->head == NULL)
		g->tail = &g->head;
	return batch;
}

enum sb_err
sb_db_group_write(struct sb_db_group *g, struct sb_db *db, int64_t deadline,
    const atomic_int *in_flight, sb_db_group_fn fn, void *arg)
{
	struct sb_db_group_item self = { fn, arg, deadline, SB_OK, false,
		NULL };
	struct sb_db_group_item *batch, *next;

	if (g == NULL || db == NULL || fn == NULL)
		return SB_ERR_INVALID;
	pthread_mutex_lock(&g->lock);
	if (g->tail == NULL)
		g->tail = &g->head;
	/* self stays queued only until done, and this frame waits for that. */
	*g->tail = &self;
	/* cppcheck-suppress autoVariables */
	g->tail = &self.next;
	g->queued++;
	pthread_cond_signal(&g->arrived);
	while (!self.done) {
		if (g->leading) {
			pthread_cond_wait(&g->done, &g->lock);
			continue;
		}
		g->leading = true;
		group_gather(g, in_flight);
		batch = group_take(g);
		pthread_mutex_unlock(&g->lock);
		group_commit(group_db(g, db), batch, deadline);
		pthread_mutex_lock(&g->lock);
		for (; batch != NULL; batch = next) {
			next = batch->next;
			batch->done = true;
		}
		g->leading = false;
		pthread_cond_broadcast(&g->done);
	}
	pthread_mutex_unlock(&g->lock);
	return self.rc;
}
