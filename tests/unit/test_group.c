/*
 * Unit tests for lib/store/group.c: a write alone commits on the group's
 * connection; writes queued while a commit is under way share the next
 * one, a failing write is rolled back alone; a write past its deadline is
 * not run; bad arguments are refused.  Each test gets a fresh database in
 * its own mkdtemp directory.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sb/core/deadline.h"
#include "sb/store/group.h"
#include "support.h"

struct fixture {
	char dir[TEST_PATH_MAX];
	struct sb_db *db; /* the writers' own connection */
	struct sb_db_group group;
};

/* One writer's write: inserts name, then answers rc. */
struct write {
	const char *name;
	enum sb_err rc;
	struct sb_db *ran_on; /* the connection it was given */
	pthread_t ran_in; /* the thread that ran it */
	bool hold; /* wait for the fixture's release before inserting */
};

static pthread_mutex_t test_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t test_cond = PTHREAD_COND_INITIALIZER;
static bool test_held, test_released;

static int
group_setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct sb_db_group empty = SB_DB_GROUP_INIT;
	char path[TEST_PATH_MAX + 16];

	assert_non_null(f);
	assert_int_equal(test_tmpdir_make(f->dir, sizeof(f->dir), "group"), 0);
	snprintf(path, sizeof(path), "%s/test.db", f->dir);
	assert_int_equal(sb_db_open(path, TEST_DB_BUSY_MS, &f->db), SB_OK);
	assert_int_equal(
	    sqlite3_exec(sb_db_handle(f->db),
	        "CREATE TABLE names (name TEXT PRIMARY KEY)", NULL, NULL, NULL),
	    SQLITE_OK);
	f->group = empty;
	test_held = test_released = false;
	*state = f;
	return 0;
}

static int
group_teardown(void **state)
{
	struct fixture *f = *state;

	sb_db_group_close(&f->group);
	sb_db_close(f->db);
	test_tmpdir_remove(f->dir);
	free(f);
	return 0;
}

static enum sb_err
test_write(struct sb_db *db, void *arg)
{
	static const char sql[] = "INSERT INTO names (name) VALUES (?1)";
	struct write *w = arg;
	sqlite3_stmt *st = sb_db_stmt(db, sql);
	enum sb_err rc;

	w->ran_on = db;
	w->ran_in = pthread_self();
	pthread_mutex_lock(&test_lock);
	test_held = test_held || w->hold;
	pthread_cond_broadcast(&test_cond);
	while (w->hold && !test_released)
		pthread_cond_wait(&test_cond, &test_lock);
	pthread_mutex_unlock(&test_lock);
	sqlite3_bind_text(st, 1, w->name, -1, SQLITE_STATIC);
	rc = sb_db_step_write(db, st, NULL);
	return rc != SB_OK ? rc : w->rc;
}

/* True if name is in the table, read on the writers' own connection. */
static bool
test_has(struct sb_db *db, const char *name)
{
	static const char sql[] = "SELECT 1 FROM names WHERE name = ?1";
	sqlite3_stmt *st = sb_db_stmt(db, sql);
	bool found;

	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	found = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_reset(st);
	return found;
}

static void
test_alone(void **state)
{
	struct fixture *f = *state;
	struct write w = { .name = "alone", .rc = SB_OK };

	assert_int_equal(sb_db_group_write(&f->group, f->db, SB_DEADLINE_NONE,
	                     NULL, test_write, &w),
	    SB_OK);
	assert_true(test_has(f->db, "alone"));
	/* It ran on the group's connection, which stays open. */
	assert_non_null(f->group.db);
	assert_ptr_equal(w.ran_on, f->group.db);
	assert_ptr_not_equal(w.ran_on, f->db);
	assert_false(f->group.leading);
	assert_null(f->group.head);
}

struct writer {
	struct fixture *f;
	struct write w;
	const atomic_int *in_flight;
	enum sb_err rc;
	pthread_t thread;
};

static void *
test_writer_run(void *arg)
{
	struct writer *wr = arg;

	wr->rc = sb_db_group_write(&wr->f->group, wr->f->db,
	    sb_deadline_now() + 10000, wr->in_flight, test_write, &wr->w);
	return NULL;
}

static void
test_batch(void **state)
{
	struct fixture *f = *state;
	struct writer a = { .f = f, .w = { .name = "a", .hold = true } };
	struct writer b = { .f = f, .w = { .name = "b" } };
	struct writer c = { .f = f,
		.w = { .name = "c", .rc = SB_ERR_CONFLICT } };

	/* a leads and holds its commit open inside its write. */
	assert_int_equal(
	    pthread_create(&a.thread, NULL, test_writer_run, &a), 0);
	pthread_mutex_lock(&test_lock);
	while (!test_held)
		pthread_cond_wait(&test_cond, &test_lock);
	pthread_mutex_unlock(&test_lock);
	/* b and c arrive meanwhile and wait in the queue. */
	assert_int_equal(
	    pthread_create(&b.thread, NULL, test_writer_run, &b), 0);
	while (sb_db_group_queued(&f->group) < 1)
		sb_deadline_sleep(1);
	assert_int_equal(
	    pthread_create(&c.thread, NULL, test_writer_run, &c), 0);
	while (sb_db_group_queued(&f->group) < 2)
		sb_deadline_sleep(1);
	pthread_mutex_lock(&test_lock);
	test_released = true;
	pthread_cond_broadcast(&test_cond);
	pthread_mutex_unlock(&test_lock);
	pthread_join(a.thread, NULL);
	pthread_join(b.thread, NULL);
	pthread_join(c.thread, NULL);

	assert_int_equal(a.rc, SB_OK);
	assert_int_equal(b.rc, SB_OK);
	assert_int_equal(c.rc, SB_ERR_CONFLICT);
	/* b and c shared one commit: one thread ran both. */
	assert_true(pthread_equal(b.w.ran_in, c.w.ran_in));
	assert_false(pthread_equal(a.w.ran_in, b.w.ran_in));
	/* c's row went with its savepoint; a's and b's were committed. */
	assert_true(test_has(f->db, "a"));
	assert_true(test_has(f->db, "b"));
	assert_false(test_has(f->db, "c"));
	assert_null(f->group.head);
}

/* True once the group has a leader that has not taken its batch. */
static bool
test_gathering(struct sb_db_group *g)
{
	bool gathering;

	pthread_mutex_lock(&g->lock);
	gathering = g->leading && g->head != NULL;
	pthread_mutex_unlock(&g->lock);
	return gathering;
}

/*
 * With two requests in the process's hands and one write queued, the
 * leader waits for the second, and both share its commit.
 */
static void
test_gather(void **state)
{
	struct fixture *f = *state;
	atomic_int in_flight = 2;
	struct writer a = {
		.f = f, .w = { .name = "a" }, .in_flight = &in_flight
	};
	struct writer b = {
		.f = f, .w = { .name = "b" }, .in_flight = &in_flight
	};

	f->group.wait_us = 60 * 1000000L; /* no test machine is that slow */
	assert_int_equal(
	    pthread_create(&a.thread, NULL, test_writer_run, &a), 0);
	while (!test_gathering(&f->group))
		sb_deadline_sleep(1);
	assert_null(a.w.ran_on); /* a waits for b */
	assert_int_equal(
	    pthread_create(&b.thread, NULL, test_writer_run, &b), 0);
	pthread_join(a.thread, NULL);
	pthread_join(b.thread, NULL);
	assert_int_equal(a.rc, SB_OK);
	assert_int_equal(b.rc, SB_OK);
	assert_true(pthread_equal(a.w.ran_in, b.w.ran_in));
	assert_true(test_has(f->db, "a"));
	assert_true(test_has(f->db, "b"));
}

/* Nobody else comes: the leader gives up waiting after wait_us. */
static void
test_gather_gives_up(void **state)
{
	struct fixture *f = *state;
	atomic_int in_flight = 3;
	struct write w = { .name = "alone" };
	int64_t start = sb_deadline_now();

	f->group.wait_us = 50 * 1000L;
	assert_int_equal(sb_db_group_write(&f->group, f->db, SB_DEADLINE_NONE,
	                     &in_flight, test_write, &w),
	    SB_OK);
	assert_true(sb_deadline_now() - start >= 50);
	assert_true(test_has(f->db, "alone"));
}

static void
test_deadline_passed(void **state)
{
	struct fixture *f = *state;
	struct write w = { .name = "late", .rc = SB_OK };

	assert_int_equal(sb_db_group_write(&f->group, f->db,
	                     sb_deadline_now() - 1, NULL, test_write, &w),
	    SB_ERR_BUSY);
	assert_null(w.ran_on);
	assert_false(test_has(f->db, "late"));
	/* The group goes on. */
	w.name = "on time";
	assert_int_equal(sb_db_group_write(&f->group, f->db,
	                     sb_deadline_now() + 10000, NULL, test_write, &w),
	    SB_OK);
	assert_true(test_has(f->db, "on time"));
}

static void
test_invalid(void **state)
{
	struct fixture *f = *state;
	struct write w = { .name = "x" };

	assert_int_equal(sb_db_group_write(NULL, f->db, SB_DEADLINE_NONE, NULL,
	                     test_write, &w),
	    SB_ERR_INVALID);
	assert_int_equal(sb_db_group_write(&f->group, NULL, SB_DEADLINE_NONE,
	                     NULL, test_write, &w),
	    SB_ERR_INVALID);
	assert_int_equal(sb_db_group_write(&f->group, f->db, SB_DEADLINE_NONE,
	                     NULL, NULL, &w),
	    SB_ERR_INVALID);
	assert_false(test_has(f->db, "x"));
}

#define GROUP_TEST(fn) \
	cmocka_unit_test_setup_teardown(fn, group_setup, group_teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		GROUP_TEST(test_alone),
		GROUP_TEST(test_batch),
		GROUP_TEST(test_gather),
		GROUP_TEST(test_gather_gives_up),
		GROUP_TEST(test_deadline_passed),
		GROUP_TEST(test_invalid),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
