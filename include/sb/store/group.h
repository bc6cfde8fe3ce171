/*
 * Group commit: the small write transactions of a process's threads, made
 * one transaction when they arrive together.
 *
 * A write is a function that runs inside an open transaction and either
 * succeeds or leaves nothing behind.  sb_db_group_write() queues it; the
 * first thread to find no commit under way leads: it takes every write
 * queued so far, runs each inside a savepoint of one BEGIN IMMEDIATE on its
 * own connection (a write that fails is rolled back to its savepoint and
 * the others go on), commits once and wakes the writers.  Writes that
 * arrive meanwhile wait for the next leader.  Threads that write at once
 * share the commit: one lock, one set of pages in the WAL, one
 * checkpoint's share.  A leader that knows more requests are in the
 * process's hands than writes are queued (in_flight) waits for them up
 * to SB_DB_GROUP_WAIT_US (or the group's wait_us) first; a write alone in the
 * process commits at once.
 *
 * A group is process-wide and commits on a connection of its own, opened
 * like the first writer's: one connection writes, so its page cache stays
 * warm between commits instead of being read again after another
 * connection's.  A write runs on whichever thread leads, so it touches
 * only the database handle it is given and the memory its argument
 * points to.
 */
#ifndef SB_STORE_GROUP_H
#define SB_STORE_GROUP_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sb/core/err.h"
#include "sb/store/db.h"

/* The most writes one commit takes; later ones wait for the next. */
#define SB_DB_GROUP_BATCH_MAX 64
/* The longest a leader waits for writes still on their way. */
#define SB_DB_GROUP_WAIT_US 500

/*
 * One write: runs inside the transaction on db (the leader's) and returns
 * SB_OK to keep what it did, anything else to have it rolled back.
 */
typedef enum sb_err (*sb_db_group_fn)(struct sb_db *db, void *arg);

struct sb_db_group_item;

struct sb_db_group {
	pthread_mutex_t lock;
	pthread_cond_t done; /* a commit ended: its writers may return */
	pthread_cond_t arrived; /* a write was queued: for a waiting leader */
	struct sb_db_group_item *head, **tail;
	size_t queued; /* items from head to tail */
	bool leading;
	struct sb_db *db; /* the commits' connection, opened by the first */
	long wait_us; /* a leader's longest wait; 0: SB_DB_GROUP_WAIT_US */
};

#define SB_DB_GROUP_INIT \
	{ \
		PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, \
		    PTHREAD_COND_INITIALIZER, NULL, NULL, 0, false, NULL, 0 \
	}

/*
 * Runs fn(db', arg) in a transaction shared with the writes of other
 * threads that arrive at the same time, db' being the group's connection
 * (opened like db on first use; db itself if that open fails).  Returns
 * fn's error if fn failed (nothing of it kept), else the transaction's:
 * SB_OK once committed, or sb_db_begin()'s or sb_db_commit()'s error
 * (nothing kept).  deadline is the caller's (sb/core/deadline.h): a commit
 * holds to the earliest of its writers', and a write whose deadline passed
 * while it waited is not run (SB_ERR_BUSY).  in_flight, if not NULL, is
 * the process's count of requests in hand, this one included (the
 * serving count of sb/runtime/context.h's struct sb_drain_shared).
 */
enum sb_err sb_db_group_write(struct sb_db_group *group, struct sb_db *db,
    int64_t deadline, const atomic_int *in_flight, sb_db_group_fn fn,
    void *arg);

/* The writes waiting for a commit (not those of the one under way). */
size_t sb_db_group_queued(struct sb_db_group *group);

/* Closes the group's connection; the group must be idle. */
void sb_db_group_close(struct sb_db_group *group);

#endif
