/*
 * Unit tests for lib/store/db.c: connection setup, the statement cache,
 * transactions and busy retries, migrations, the health-check read, the
 * mapping of SQLite's errors, the write probe and the reopening after a
 * storage error.
 * Each test gets a fresh database file in its own mkdtemp directory.
 */
#include <sys/stat.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "sb/core/deadline.h"
#include "sb/store/db.h"
#include "support.h"

#define TEST_BUSY_MS 1 /* tiny busy timeout keeps the busy test fast */

struct fixture {
	char dir[TEST_PATH_MAX];
	char path[TEST_PATH_MAX];
	struct sb_db *db;
	struct sb_db *other; /* a second handle on the same file */
};

/* A migration file for a test directory. */
struct migration {
	const char *name;
	const char *sql;
};

/* out = a/b; the test fails rather than work on a truncated path. */
static void
path_join(char *out, size_t size, const char *a, const char *b)
{
	int n = snprintf(out, size, "%s/%s", a, b);

	assert_true(n > 0 && (size_t)n < size);
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	if (test_tmpdir_make(f->dir, sizeof(f->dir), "db") != 0) {
		free(f);
		return -1;
	}
	path_join(f->path, sizeof(f->path), f->dir, "test.db");
	if (sb_db_open(f->path, TEST_BUSY_MS, &f->db) != SB_OK) {
		test_tmpdir_remove(f->dir);
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	sb_db_close(f->other);
	sb_db_close(f->db);
	test_tmpdir_remove(f->dir);
	free(f);
	return 0;
}

/* Writes the migrations into dir/sub (created) and returns that path. */
static const char *
write_migrations(struct fixture *f, const char *sub, const struct migration *m,
    size_t count, char *out, size_t outsize)
{
	char file[TEST_PATH_MAX];
	FILE *fp;
	size_t i;

	path_join(out, outsize, f->dir, sub);
	assert_int_equal(mkdir(out, 0700), 0);
	for (i = 0; i < count; i++) {
		path_join(file, sizeof(file), out, m[i].name);
		fp = fopen(file, "w");
		assert_non_null(fp);
		assert_int_equal(fputs(m[i].sql, fp) >= 0, 1);
		assert_int_equal(fclose(fp), 0);
	}
	return out;
}

static int64_t
table_exists(struct sb_db *db, const char *name)
{
	return test_query_int_text(db,
	    "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name "
	    "= ?1",
	    name);
}

static void
test_open_pragmas(void **state)
{
	struct fixture *f = *state;
	sqlite3_stmt *stmt = NULL;

	assert_int_equal(sqlite3_prepare_v2(sb_db_handle(f->db),
	                     "PRAGMA journal_mode", -1, &stmt, NULL),
	    SQLITE_OK);
	assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(stmt, 0), "wal");
	sqlite3_finalize(stmt);
	assert_int_equal(test_query_int(f->db, "PRAGMA foreign_keys"), 1);
	assert_int_equal(test_query_int(f->db, "PRAGMA synchronous"), 1);
	assert_int_equal(test_query_int(f->db, "PRAGMA journal_size_limit"),
	    SB_DB_WAL_LIMIT_BYTES);
	/* Lock waits are the library's busy handler's (bounded by the busy
	 * timeout and the deadline), not SQLite's own timeout. */
	assert_int_equal(test_query_int(f->db, "PRAGMA busy_timeout"), 0);
}

static void
test_open_errors(void **state)
{
	struct fixture *f = *state;
	struct sb_db *db = (struct sb_db *)f; /* poison: must become NULL */
	char path[TEST_PATH_MAX];

	path_join(path, sizeof(path), f->dir, "no/such/dir/x.db");
	assert_int_equal(sb_db_open(path, 10, &db), SB_ERR_STORAGE);
	assert_null(db);
	db = (struct sb_db *)f;
	assert_int_equal(sb_db_open(f->path, -1, &db), SB_ERR_INVALID);
	assert_null(db);
	sb_db_close(NULL);
	assert_string_equal(sb_db_errmsg(NULL), "no database handle");
}

static void
test_migrate_order(void **state)
{
	/* Written out of order; each depends on the one before it. */
	static const struct migration files[] = {
		{ "0003_third.sql", "INSERT INTO t (v) VALUES ('third');" },
		{ "0001_first.sql",
		    "CREATE TABLE t (n INTEGER PRIMARY KEY,"
		    " v TEXT);"
		    "INSERT INTO t (v) VALUES ('first');" },
		{ "README", "this is not SQL" },
		{ "0002_second.sql", "INSERT INTO t (v) VALUES ('second');" },
		{ "notes.sql.txt", "nor is this" },
	};
	struct fixture *f = *state;
	char dir[TEST_PATH_MAX];
	int applied = -1;

	write_migrations(
	    f, "m", files, sizeof(files) / sizeof(files[0]), dir, sizeof(dir));
	assert_int_equal(sb_db_migrate(f->db, dir, &applied), SB_OK);
	assert_int_equal(applied, 3);
	assert_int_equal(test_query_int(f->db,
	                     "SELECT group_concat(v, ',') = 'first,second,"
	                     "third' FROM (SELECT v FROM t ORDER BY n)"),
	    1);
	assert_int_equal(test_query_int(f->db,
	                     "SELECT group_concat(name, ',') = "
	                     "'0001_first.sql,0002_second.sql,0003_third.sql'"
	                     " FROM (SELECT name FROM schema_migrations"
	                     " ORDER BY rowid)"),
	    1);
	assert_int_equal(
	    test_query_int(f->db,
	        "SELECT count(*) FROM schema_migrations"
	        " WHERE applied_at LIKE '____-__-__T__:__:__.___Z'"),
	    3);
	assert_int_equal(sb_db_migrate(f->db, dir, &applied), SB_OK);
	assert_int_equal(applied, 0);
	assert_int_equal(test_query_int(f->db, "SELECT count(*) FROM t"), 3);
	assert_int_equal(sb_db_schema_version(f->db), 3);
}

static void
test_migrate_broken(void **state)
{
	/* Each second migration fails after creating its table. */
	static const struct migration cases[] = {
		{ "0002_broken.sql",
		    "CREATE TABLE broken (x);"
		    "INSERT INTO nosuch VALUES (1);" },
		{ "0002_broken.sql", "CREATE TABLE broken (x); SELEKT 1;" },
		{ "0002_broken.sql", "CREATE TABLE broken (x); COMMIT;" },
		{ "0002_broken.sql",
		    "CREATE TABLE broken (x);"
		    "CREATE TABLE kept (y);" },
	};
	static const struct migration third = { "0003_after.sql",
		"CREATE TABLE after (z);" };
	struct fixture *f = *state;
	struct migration files[3];
	char dir[TEST_PATH_MAX], sub[16];
	size_t i;
	int applied;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		files[0] = (struct migration){ "0001_ok.sql",
			"CREATE TABLE IF NOT EXISTS kept (y);" };
		files[1] = cases[i];
		files[2] = third;
		snprintf(sub, sizeof(sub), "case%zu", i);
		write_migrations(f, sub, files, 3, dir, sizeof(dir));
		assert_int_equal(
		    sb_db_migrate(f->db, dir, &applied), SB_ERR_DB);
		assert_int_equal(table_exists(f->db, "broken"), 0);
		assert_int_equal(table_exists(f->db, "after"), 0);
		assert_int_equal(table_exists(f->db, "kept"), 1);
		assert_int_equal(test_query_int(f->db,
		                     "SELECT count(*) FROM schema_migrations"
		                     " WHERE name = '0002_broken.sql'"),
		    0);
		assert_int_equal(sb_db_schema_version(f->db), 1);
		assert_int_equal(
		    sqlite3_get_autocommit(sb_db_handle(f->db)), 1);
	}
}

static void
test_migrate_missing_dir(void **state)
{
	struct fixture *f = *state;
	char dir[TEST_PATH_MAX];
	int applied = -1;

	path_join(dir, sizeof(dir), f->dir, "absent");
	assert_int_equal(sb_db_migrate(f->db, dir, &applied), SB_ERR_IO);
	assert_int_equal(applied, 0);
	assert_int_equal(sb_db_migrate(NULL, dir, NULL), SB_ERR_INVALID);
}

static void
test_stmt_cache(void **state)
{
	static const char sql[] = "SELECT ?1 + 1";
	static const char same_text[] = "SELECT ?1 + 1";
	struct fixture *f = *state;
	sqlite3_stmt *a, *b;

	a = sb_db_stmt(f->db, sql);
	assert_non_null(a);
	assert_int_equal(sqlite3_bind_int(a, 1, 41), SQLITE_OK);
	assert_int_equal(sqlite3_step(a), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(a, 0), 42);
	/* Left mid-row: the cache must reset it and clear the binding. */
	b = sb_db_stmt(f->db, sql);
	assert_ptr_equal(a, b);
	assert_int_equal(sqlite3_step(b), SQLITE_ROW);
	assert_int_equal(sqlite3_column_type(b, 0), SQLITE_NULL);
	b = sb_db_stmt(f->db, sql);
	assert_int_equal(sqlite3_bind_int(b, 1, 1), SQLITE_OK);
	assert_int_equal(sqlite3_step(b), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(b, 0), 2);
	/* The key is the pointer, not the text. */
	assert_ptr_not_equal(sb_db_stmt(f->db, same_text), a);
	assert_null(sb_db_stmt(f->db, "SELEKT 1"));
	assert_null(sb_db_stmt(f->db, "SELECT 1; SELECT 2"));
	assert_null(sb_db_stmt(NULL, sql));
}

static void
test_stmt_cache_full(void **state)
{
	static char sql[SB_DB_STMT_MAX + 1][32];
	struct fixture *f = *state;
	sqlite3_stmt *first;
	int i;

	for (i = 0; i <= SB_DB_STMT_MAX; i++)
		snprintf(sql[i], sizeof(sql[i]), "SELECT %d", i);
	first = sb_db_stmt(f->db, sql[0]);
	assert_non_null(first);
	for (i = 1; i < SB_DB_STMT_MAX; i++)
		assert_non_null(sb_db_stmt(f->db, sql[i]));
	assert_null(sb_db_stmt(f->db, sql[SB_DB_STMT_MAX]));
	assert_ptr_equal(sb_db_stmt(f->db, sql[0]), first);
}

static void
test_transactions(void **state)
{
	static const char insert[] = "INSERT INTO t (v) VALUES (?1)";
	struct fixture *f = *state;
	sqlite3 *h = sb_db_handle(f->db);
	sqlite3_stmt *stmt;

	assert_int_equal(sqlite3_exec(h,
	                     "CREATE TABLE t (v INTEGER);"
	                     "CREATE TABLE parent (id INTEGER PRIMARY KEY);"
	                     "CREATE TABLE child (p INTEGER REFERENCES parent"
	                     " DEFERRABLE INITIALLY DEFERRED);",
	                     NULL, NULL, NULL),
	    SQLITE_OK);
	sb_db_rollback(f->db); /* none open: a no-op */
	assert_int_equal(sb_db_begin(f->db), SB_OK);
	assert_int_equal(sqlite3_get_autocommit(h), 0);
	assert_int_equal(sb_db_begin(f->db), SB_ERR_DB); /* no nesting */
	stmt = sb_db_stmt(f->db, insert);
	sqlite3_bind_int(stmt, 1, 1);
	assert_int_equal(sqlite3_step(stmt), SQLITE_DONE);
	sb_db_rollback(f->db);
	assert_int_equal(sqlite3_get_autocommit(h), 1);
	assert_int_equal(test_query_int(f->db, "SELECT count(*) FROM t"), 0);

	assert_int_equal(sb_db_begin(f->db), SB_OK);
	stmt = sb_db_stmt(f->db, insert);
	sqlite3_bind_int(stmt, 1, 2);
	assert_int_equal(sqlite3_step(stmt), SQLITE_DONE);
	assert_int_equal(sb_db_commit(f->db), SB_OK);
	assert_int_equal(test_query_int(f->db, "SELECT sum(v) FROM t"), 2);
	assert_int_equal(sb_db_commit(f->db), SB_ERR_DB); /* none open */

	/* A failing COMMIT (deferred foreign key) leaves nothing open. */
	assert_int_equal(sb_db_begin(f->db), SB_OK);
	assert_int_equal(
	    sqlite3_exec(h, "INSERT INTO child VALUES (7)", NULL, NULL, NULL),
	    SQLITE_OK);
	assert_int_equal(sb_db_commit(f->db), SB_ERR_DB);
	assert_int_equal(sqlite3_get_autocommit(h), 1);
	assert_int_equal(
	    test_query_int(f->db, "SELECT count(*) FROM child"), 0);
}

static double
elapsed_s(const struct timespec *start)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - start->tv_sec) +
	    (double)(now.tv_nsec - start->tv_nsec) / 1e9;
}

static void
test_begin_busy(void **state)
{
	struct fixture *f = *state;
	struct timespec start;

	assert_int_equal(sb_db_open(f->path, TEST_BUSY_MS, &f->other), SB_OK);
	assert_int_equal(sb_db_begin(f->db), SB_OK);
	clock_gettime(CLOCK_MONOTONIC, &start);
	assert_int_equal(sb_db_begin(f->other), SB_ERR_BUSY);
	assert_int_equal(sqlite3_get_autocommit(sb_db_handle(f->other)), 1);
	/* It retried (>= 1 ms each) but stayed fast. */
	assert_true(elapsed_s(&start) >= SB_DB_BEGIN_ATTEMPTS * 0.001);
	assert_true(elapsed_s(&start) < 5.0);
	assert_int_equal(sb_db_commit(f->db), SB_OK);
	assert_int_equal(sb_db_begin(f->other), SB_OK);
	assert_int_equal(sb_db_commit(f->other), SB_OK);
}

/*
 * With a long busy timeout, a wait for the lock still ends at the
 * deadline, and a commit past the deadline rolls back.
 */
static void
test_busy_deadline(void **state)
{
	struct fixture *f = *state;
	struct timespec start;

	assert_int_equal(sb_db_open(f->path, 60000, &f->other), SB_OK);
	assert_int_equal(sb_db_begin(f->db), SB_OK);
	sb_db_deadline_set(f->other, sb_deadline_now() + 200);
	clock_gettime(CLOCK_MONOTONIC, &start);
	assert_int_equal(sb_db_begin(f->other), SB_ERR_BUSY);
	assert_true(elapsed_s(&start) >= 0.15);
	assert_true(elapsed_s(&start) < 2.0);
	assert_int_equal(sb_db_commit(f->db), SB_OK);
	/* Inside the deadline a transaction commits; past it, it does not. */
	sb_db_deadline_set(f->other, sb_deadline_now() + 60000);
	assert_int_equal(sb_db_begin(f->other), SB_OK);
	sb_db_deadline_set(f->other, sb_deadline_now() - 1);
	assert_int_equal(sb_db_commit(f->other), SB_ERR_BUSY);
	assert_int_equal(sqlite3_get_autocommit(sb_db_handle(f->other)), 1);
}

static void
test_schema_version(void **state)
{
	static const struct migration files[] = {
		{ "0001_a.sql", "CREATE TABLE a (x);" },
		{ "0002_b.sql", "CREATE TABLE b (x);" },
	};
	struct fixture *f = *state;
	char dir[TEST_PATH_MAX];
	int applied = -1;

	/* No schema_migrations table yet: an error, not zero. */
	assert_int_equal(sb_db_schema_version(f->db), -1);
	write_migrations(f, "empty", files, 0, dir, sizeof(dir));
	assert_int_equal(sb_db_migrate(f->db, dir, &applied), SB_OK);
	assert_int_equal(applied, 0);
	assert_int_equal(sb_db_schema_version(f->db), 0);
	write_migrations(f, "two", files, 2, dir, sizeof(dir));
	assert_int_equal(sb_db_migrate(f->db, dir, NULL), SB_OK);
	assert_int_equal(sb_db_schema_version(f->db), 2);
}

struct rc_case {
	int sqlite_rc;
	enum sb_err rc;
};

/* Each kind of SQLite result, primary and extended, maps to its error. */
static void
test_rc_mapping(void **state)
{
	static const struct rc_case cases[] = {
		{ SQLITE_OK, SB_OK },
		{ SQLITE_ROW, SB_OK },
		{ SQLITE_DONE, SB_OK },
		{ SQLITE_BUSY, SB_ERR_BUSY },
		{ SQLITE_BUSY_SNAPSHOT, SB_ERR_BUSY },
		{ SQLITE_LOCKED, SB_ERR_BUSY },
		{ SQLITE_NOMEM, SB_ERR_NOMEM },
		{ SQLITE_IOERR_NOMEM, SB_ERR_NOMEM },
		{ SQLITE_FULL, SB_ERR_STORAGE },
		{ SQLITE_READONLY, SB_ERR_STORAGE },
		{ SQLITE_READONLY_DBMOVED, SB_ERR_STORAGE },
		{ SQLITE_READONLY_RECOVERY, SB_ERR_STORAGE },
		{ SQLITE_IOERR, SB_ERR_STORAGE },
		{ SQLITE_IOERR_WRITE, SB_ERR_STORAGE },
		{ SQLITE_IOERR_FSYNC, SB_ERR_STORAGE },
		{ SQLITE_CANTOPEN, SB_ERR_STORAGE },
		{ SQLITE_PERM, SB_ERR_STORAGE },
		{ SQLITE_ERROR, SB_ERR_DB },
		{ SQLITE_CORRUPT, SB_ERR_DB },
		{ SQLITE_CONSTRAINT_UNIQUE, SB_ERR_DB },
		{ SQLITE_NOTADB, SB_ERR_DB },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (sb_db_rc(cases[i].sqlite_rc) != cases[i].rc)
			fail_msg("sqlite rc %d: %d, not %d", cases[i].sqlite_rc,
			    sb_db_rc(cases[i].sqlite_rc), cases[i].rc);
}

/* Migrates f->db with no migration files (store_probe comes with it). */
static void
migrate_empty(struct fixture *f)
{
	char dir[TEST_PATH_MAX];

	write_migrations(f, "none", NULL, 0, dir, sizeof(dir));
	assert_int_equal(sb_db_migrate(f->db, dir, NULL), SB_OK);
}

/*
 * The probe writes and commits one row; a success is trusted for a while
 * (no second write); without store_probe it is an error, not storage.
 */
static void
test_probe(void **state)
{
	struct fixture *f = *state;
	const char *reason = "poison";
	int64_t changes;

	assert_int_equal(sb_db_probe(f->db, &reason), SB_ERR_DB);
	assert_null(reason);
	migrate_empty(f);
	assert_int_equal(table_exists(f->db, "store_probe"), 1);
	changes = sqlite3_total_changes(sb_db_handle(f->db));
	assert_int_equal(sb_db_probe(f->db, &reason), SB_OK);
	assert_null(reason);
	assert_int_equal(
	    sqlite3_total_changes(sb_db_handle(f->db)), changes + 1);
	assert_int_equal(
	    test_query_int(f->db, "SELECT count(*) FROM store_probe"), 1);
	assert_int_equal(sqlite3_get_autocommit(sb_db_handle(f->db)), 1);
	assert_int_equal(sb_db_probe(f->db, &reason), SB_OK);
	assert_int_equal(
	    sqlite3_total_changes(sb_db_handle(f->db)), changes + 1);
	/* Another process holding the lock: busy, not a storage error. */
	assert_int_equal(sb_db_open(f->path, TEST_BUSY_MS, &f->other), SB_OK);
	assert_int_equal(sb_db_begin(f->db), SB_OK);
	assert_int_equal(sb_db_probe(f->other, &reason), SB_ERR_BUSY);
	assert_null(reason);
	sb_db_rollback(f->db);
}

/*
 * A handle that cannot write (query_only stands in for a read-only file)
 * answers SB_ERR_STORAGE with its reason, to writes and to the probe;
 * sb_db_recover() replaces it, cached statements are prepared again, and
 * writes work.  A handle with nothing wrong is left alone.
 */
static void
test_storage_recover(void **state)
{
	struct fixture *f = *state;
	const char *reason = NULL;
	sqlite3 *before;
	sqlite3_stmt *st;

	migrate_empty(f);
	before = sb_db_handle(f->db);
	assert_int_equal(sb_db_recover(f->db), SB_OK);
	assert_ptr_equal(sb_db_handle(f->db), before);
	assert_int_equal(
	    sqlite3_exec(before, "CREATE TABLE t (x)", NULL, NULL, NULL),
	    SQLITE_OK);
	assert_int_equal(
	    sqlite3_exec(before, "PRAGMA query_only = 1", NULL, NULL, NULL),
	    SQLITE_OK);
	st = sb_db_stmt(f->db, "INSERT INTO t VALUES (1)");
	assert_non_null(st);
	assert_int_equal(sb_db_write(f->db, st, NULL), SB_ERR_STORAGE);
	assert_int_equal(sqlite3_get_autocommit(before), 1);
	assert_int_equal(sb_db_probe(f->db, &reason), SB_ERR_STORAGE);
	assert_string_equal(reason, "the database is read-only");
	assert_int_equal(sb_db_recover(f->db), SB_OK);
	assert_true(sb_db_handle(f->db) != before);
	st = sb_db_stmt(f->db, "INSERT INTO t VALUES (1)");
	assert_int_equal(sb_db_write(f->db, st, NULL), SB_OK);
	assert_int_equal(sb_db_probe(f->db, &reason), SB_OK);
	assert_int_equal(test_query_int(f->db, "SELECT count(*) FROM t"), 1);
}

/*
 * While the file cannot be opened again the old handle stays, and the
 * next try waits a second; once it can, the handle is replaced.
 */
static void
test_recover_waits(void **state)
{
	struct fixture *f = *state;
	char moved[TEST_PATH_MAX];
	const char *reason;
	sqlite3 *before = sb_db_handle(f->db);

	migrate_empty(f);
	assert_int_equal(
	    sqlite3_exec(before, "PRAGMA query_only = 1", NULL, NULL, NULL),
	    SQLITE_OK);
	assert_int_equal(sb_db_probe(f->db, &reason), SB_ERR_STORAGE);
	assert_int_equal(
	    snprintf(moved, sizeof(moved), "%s.moved", f->dir) > 0, 1);
	assert_int_equal(rename(f->dir, moved), 0);
	assert_int_equal(sb_db_recover(f->db), SB_ERR_STORAGE);
	assert_ptr_equal(sb_db_handle(f->db), before);
	assert_int_equal(rename(moved, f->dir), 0);
	assert_int_equal(sb_db_recover(f->db), SB_ERR_STORAGE);
	assert_ptr_equal(sb_db_handle(f->db), before);
	sleep(1);
	usleep(100000);
	assert_int_equal(sb_db_recover(f->db), SB_OK);
	assert_true(sb_db_handle(f->db) != before);
	assert_int_equal(sb_db_probe(f->db, &reason), SB_OK);
}

static void
test_now_iso(void **state)
{
	char buf[32], small[5];
	size_t i;

	(void)state;
	memset(buf, 'x', sizeof(buf));
	sb_db_now_iso(buf, sizeof(buf));
	assert_int_equal(strlen(buf), 24);
	for (i = 0; i < 24; i++) {
		switch (i) {
		case 4:
		case 7:
			assert_int_equal(buf[i], '-');
			break;
		case 10:
			assert_int_equal(buf[i], 'T');
			break;
		case 13:
		case 16:
			assert_int_equal(buf[i], ':');
			break;
		case 19:
			assert_int_equal(buf[i], '.');
			break;
		case 23:
			assert_int_equal(buf[i], 'Z');
			break;
		default:
			assert_true(buf[i] >= '0' && buf[i] <= '9');
		}
	}
	assert_true(strncmp(buf, "2024", 4) >= 0);
	sb_db_now_iso(small, sizeof(small));
	assert_int_equal(strlen(small), 4);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_open_pragmas, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_open_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_migrate_order, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_migrate_broken, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_migrate_missing_dir, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_stmt_cache, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_stmt_cache_full, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_transactions, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_begin_busy, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_busy_deadline, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_schema_version, setup, teardown),
		cmocka_unit_test(test_rc_mapping),
		cmocka_unit_test_setup_teardown(test_probe, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_storage_recover, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_recover_waits, setup, teardown),
		cmocka_unit_test(test_now_iso),
	};

	return cmocka_run_group_tests_name("db", tests, NULL, NULL);
}
