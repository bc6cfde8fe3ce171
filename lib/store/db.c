/*
 * The database layer over SQLite (see include/sb/store/db.h).  One handle per
 * process owns a cache of prepared statements keyed by the address of their
 * SQL text, so each module keeps its SQL in one static table and never
 * prepares a statement twice.  Writers start with BEGIN IMMEDIATE so that a
 * busy database shows up at BEGIN, where it can be retried, and not halfway
 * through a transaction.  Migrations are in lib/store/migrate.c.
 *
 * A store that cannot write (disk full, read-only file system, I/O errors)
 * is a condition of its own, SB_ERR_STORAGE, not an internal error: the
 * handle remembers that it saw one and sb_db_recover() opens the file again
 * between requests, since a handle that found the file read-only stays so.
 */

#include <assert.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sb/core/deadline.h"
#include "sb/core/owner.h"
#include "sb/store/db.h"
#include "sb/core/log.h"
#include "db_internal.h"

#define DB_COMPONENT "db"
#define DB_BEGIN_SLEEP_MS_MAX 8 /* outer retry waits 1..this ms */
#define DB_ISO_MIN 25 /* "YYYY-MM-DDTHH:MM:SS.mmmZ" and NUL */
#define DB_REOPEN_INTERVAL_MS 1000 /* between two tries to reopen */

struct db_stmt_slot {
	const char *sql_key; /* static SQL text; its address is the key */
	sqlite3_stmt *stmt;
};

struct sb_db {
	char *path; /* what sb_db_open() opened, for sb_db_recover() */
	sqlite3 *handle;
	bool reopen; /* a storage error asks for a new handle */
	int storage_rc; /* SQLite's code of the last storage error */
	int64_t reopen_tried; /* when sb_db_recover() last tried (monotonic) */
	int64_t probed_ok; /* when sb_db_probe() last wrote; 0: stale */
	long busy_timeout_ms; /* the most one statement waits for a lock */
	int64_t busy_since; /* when the current wait began (monotonic ms) */
	int64_t deadline; /* the current request's (sb/core/deadline.h) */
	size_t stmt_count;
	struct db_stmt_slot stmts[SB_DB_STMT_MAX];
};

enum db_sql {
	DB_SQL_BEGIN,
	DB_SQL_COMMIT,
	DB_SQL_ROLLBACK,
	DB_SQL_MIGRATIONS_CREATE,
	DB_SQL_SCHEMA_VERSION,
	DB_SQL_PROBE_CREATE,
	DB_SQL_PROBE_WRITE,
	DB_SQL__MAX
};

static const char *const db_sql[DB_SQL__MAX] = {
	[DB_SQL_BEGIN] = "BEGIN IMMEDIATE",
	[DB_SQL_COMMIT] = "COMMIT",
	[DB_SQL_ROLLBACK] = "ROLLBACK",
	[DB_SQL_MIGRATIONS_CREATE] =
	    "CREATE TABLE IF NOT EXISTS schema_migrations ("
	    " name TEXT PRIMARY KEY,"
	    " applied_at TEXT NOT NULL)",
	[DB_SQL_SCHEMA_VERSION] = "SELECT count(*) FROM schema_migrations",
	/* One row that sb_db_probe() writes: the database layer's own table. */
	[DB_SQL_PROBE_CREATE] = "CREATE TABLE IF NOT EXISTS store_probe ("
	                        " id INTEGER PRIMARY KEY CHECK (id = 1),"
	                        " probed_at TEXT NOT NULL)",
	[DB_SQL_PROBE_WRITE] =
	    "INSERT INTO store_probe (id, probed_at) VALUES (1, ?1)"
	    " ON CONFLICT (id)"
	    " DO UPDATE SET probed_at = excluded.probed_at",
};

/*
 * What SQLite's result codes mean to the library.  A row matches a code
 * exactly or, if no row does, by its primary code (the low byte).  Storage
 * rows say what the store cannot do (for /health) and whether a new handle
 * may help: a full disk needs none, a handle that met a read-only file or
 * failing I/O is replaced.
 */
static const struct db_error {
	int sqlite_rc;
	enum sb_err rc;
	const char *reason; /* SB_ERR_STORAGE only */
	bool reopen;
} db_errors[] = {
	{ SQLITE_OK, SB_OK, NULL, false },
	{ SQLITE_ROW, SB_OK, NULL, false },
	{ SQLITE_DONE, SB_OK, NULL, false },
	{ SQLITE_BUSY, SB_ERR_BUSY, NULL, false },
	{ SQLITE_LOCKED, SB_ERR_BUSY, NULL, false },
	{ SQLITE_NOMEM, SB_ERR_NOMEM, NULL, false },
	{ SQLITE_IOERR_NOMEM, SB_ERR_NOMEM, NULL, false },
	{ SQLITE_FULL, SB_ERR_STORAGE, "the disk is full", false },
	{ SQLITE_READONLY, SB_ERR_STORAGE, "the database is read-only", true },
	{ SQLITE_IOERR, SB_ERR_STORAGE, "the disk failed to read or write",
	    true },
	{ SQLITE_CANTOPEN, SB_ERR_STORAGE, "the database file cannot be opened",
	    true },
	{ SQLITE_PERM, SB_ERR_STORAGE, "the database file may not be written",
	    true },
};

/* The row of db_errors for sqlite_rc; NULL: an error of no known kind. */
static const struct db_error *
db_error_find(int sqlite_rc)
{
	size_t i, n = sizeof(db_errors) / sizeof(db_errors[0]);

	for (i = 0; i < n; i++)
		if (db_errors[i].sqlite_rc == sqlite_rc)
			return &db_errors[i];
	for (i = 0; i < n; i++)
		if (db_errors[i].sqlite_rc == (sqlite_rc & 0xff))
			return &db_errors[i];
	return NULL;
}

enum sb_err
sb_db_rc(int sqlite_rc)
{
	const struct db_error *e = db_error_find(sqlite_rc);

	return e != NULL ? e->rc : SB_ERR_DB;
}

/*
 * Maps a result of db's handle and, for a storage error, remembers it: the
 * reason sb_db_probe() gives and whether sb_db_recover() reopens.
 */
static enum sb_err
db_note(struct sb_db *db, int sqlite_rc)
{
	const struct db_error *e = db_error_find(sqlite_rc);

	if (e == NULL)
		return SB_ERR_DB;
	if (e->rc == SB_ERR_STORAGE) {
		db->storage_rc = sqlite_rc;
		db->reopen = db->reopen || e->reopen;
		db->probed_ok = 0;
	}
	return e->rc;
}

/*
 * Connection setup, run once per open and never cached.  Each is a pragma
 * (setup, not data), so it goes through a one-shot prepared statement.
 */
#define DB_STR_(x) #x
#define DB_STR(x) DB_STR_(x)

enum db_pragma {
	DB_PRAGMA_JOURNAL,
	DB_PRAGMA_SYNCHRONOUS,
	DB_PRAGMA_FOREIGN_KEYS,
	DB_PRAGMA_WAL_LIMIT,
	DB_PRAGMA__MAX
};

static const char *const db_pragmas[DB_PRAGMA__MAX] = {
	[DB_PRAGMA_JOURNAL] = "PRAGMA journal_mode = WAL",
	[DB_PRAGMA_SYNCHRONOUS] = "PRAGMA synchronous = NORMAL",
	[DB_PRAGMA_FOREIGN_KEYS] = "PRAGMA foreign_keys = ON",
	/* the WAL keeps its high-water size after a checkpoint resets it;
	 * past this it is cut back (a steady write load grew it past 100 MB) */
	[DB_PRAGMA_WAL_LIMIT] =
	    ("PRAGMA journal_size_limit = " DB_STR(SB_DB_WAL_LIMIT_BYTES)),
};

/*
 * Runs one pragma on a fresh handle.  journal_mode answers with the mode it
 * got: anything but "wal" (or "memory" for an in-memory database) means
 * WAL is unavailable, which the contract does not allow.
 */
static enum sb_err
db_pragma_run(sqlite3 *handle, enum db_pragma which)
{
	sqlite3_stmt *stmt = NULL;
	const unsigned char *mode;
	enum sb_err rc = SB_ERR_DB;
	int step;

	if (sqlite3_prepare_v2(handle, db_pragmas[which], -1, &stmt, NULL) !=
	    SQLITE_OK)
		goto out;
	while ((step = sqlite3_step(stmt)) == SQLITE_ROW) {
		if (which != DB_PRAGMA_JOURNAL)
			continue;
		mode = sqlite3_column_text(stmt, 0);
		if (mode == NULL ||
		    (strcmp((const char *)mode, "wal") != 0 &&
		        strcmp((const char *)mode, "memory") != 0)) {
			sb_log(SB_LOG_ERROR, DB_COMPONENT, NULL,
			    "journal_mode is %s, not wal",
			    mode != NULL ? (const char *)mode : "unknown");
			goto out;
		}
	}
	if (step == SQLITE_DONE)
		rc = SB_OK;
out:
	if (rc != SB_OK)
		sb_log(SB_LOG_ERROR, DB_COMPONENT, NULL, "%s: %s",
		    db_pragmas[which], sqlite3_errmsg(handle));
	sqlite3_finalize(stmt);
	return rc;
}

/*
 * SQLite's busy handler: waits for a lock in growing steps while neither
 * busy_timeout_ms (since this statement's wait began) nor the request's
 * deadline has passed, and never sleeps past either.  Returns 0 to give up
 * (the statement gets SQLITE_BUSY).
 */
static int
db_busy(void *arg, int count)
{
	static const int steps_ms[] = { 1, 2, 5, 10, 15, 20, 25, 25, 25, 50, 50,
		100 };
	struct sb_db *db = arg;
	int64_t now = sb_deadline_now(), left, step;
	size_t last = sizeof(steps_ms) / sizeof(steps_ms[0]) - 1;

	if (count == 0)
		db->busy_since = now;
	left = db->busy_timeout_ms - (now - db->busy_since);
	if (sb_deadline_left(db->deadline) < left)
		left = sb_deadline_left(db->deadline);
	if (left <= 0)
		return 0;
	step = steps_ms[(size_t)count < last ? (size_t)count : last];
	sqlite3_sleep((int)(step < left ? step : left));
	return 1;
}

void
sb_db_deadline_set(struct sb_db *db, int64_t deadline)
{
	if (db != NULL)
		db->deadline = deadline;
}

/*
 * The SQL function sb_owner_dead(owner): 1 iff owner names a dead process
 * of this host (sb/core/owner.h), so that a lease look-up can take over a
 * dead holder's lease in the statement that takes it.
 */
static void
db_owner_dead(sqlite3_context *context, int argc, sqlite3_value **argv)
{
	const unsigned char *owner = NULL;

	if (argc == 1 && sqlite3_value_type(argv[0]) == SQLITE_TEXT)
		owner = sqlite3_value_text(argv[0]);
	sqlite3_result_int(context, sb_owner_dead((const char *)owner));
}

/* Closes a handle, logging a failure; NULL is a no-op. */
static void
db_handle_close(sqlite3 *handle)
{
	if (handle != NULL && sqlite3_close(handle) != SQLITE_OK)
		sb_log(SB_LOG_ERROR, DB_COMPONENT, NULL, "close: %s",
		    sqlite3_errmsg(handle));
}

/*
 * Opens db->path read-write (created if missing) without SQLite's own
 * mutexes (a handle belongs to one thread), with db's busy handler and the
 * pragmas.  A file SQLite could only open read-only gives a handle all the
 * same, marked for sb_db_recover(): reads work and writes answer
 * SB_ERR_STORAGE until the file is writable.  On SB_OK the caller closes
 * *out; otherwise *out is NULL.
 */
static enum sb_err
db_handle_open(struct sb_db *db, sqlite3 **out)
{
	sqlite3 *handle = NULL;
	enum sb_err rc;
	int flags, i, open_rc;

	*out = NULL;
	flags =
	    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
	if ((open_rc = sqlite3_open_v2(db->path, &handle, flags, NULL)) !=
	    SQLITE_OK) {
		sb_log(SB_LOG_ERROR, DB_COMPONENT, NULL, "open %s: %s",
		    db->path,
		    handle != NULL ? sqlite3_errmsg(handle) : "out of memory");
		rc = sb_db_rc(open_rc) == SB_ERR_STORAGE ? SB_ERR_STORAGE
		                                         : SB_ERR_DB;
		goto out;
	}
	sqlite3_busy_handler(handle, db_busy, db);
	rc = SB_ERR_DB;
	if (sqlite3_create_function(handle, SB_DB_OWNER_DEAD_FN, 1,
	        SQLITE_UTF8 | SQLITE_DIRECTONLY, NULL, db_owner_dead, NULL,
	        NULL) != SQLITE_OK)
		goto out;
	for (i = 0; i < DB_PRAGMA__MAX; i++)
		if ((rc = db_pragma_run(handle, i)) != SB_OK)
			goto out;
	if (sqlite3_db_readonly(handle, "main") == 1) {
		sb_log(SB_LOG_WARN, DB_COMPONENT, NULL,
		    "%s is read-only: writes fail until it is writable again",
		    db->path);
		db->storage_rc = SQLITE_READONLY;
		db->reopen = true;
	}
	*out = handle;
	handle = NULL;
out:
	db_handle_close(handle);
	return rc;
}

/*
 * Opens path read-write (created if missing).  On SB_OK *out is set and the
 * caller frees it with sb_db_close(); otherwise *out is NULL.
 */
enum sb_err
sb_db_open(const char *path, long busy_timeout_ms, struct sb_db **out)
{
	struct sb_db *db = NULL;
	enum sb_err rc = SB_ERR_INVALID;

	*out = NULL;
	if (path == NULL || busy_timeout_ms < 0 || busy_timeout_ms > INT_MAX)
		goto out;
	rc = SB_ERR_NOMEM;
	if ((db = calloc(1, sizeof(*db))) == NULL ||
	    (db->path = strdup(path)) == NULL)
		goto out;
	db->busy_timeout_ms = busy_timeout_ms;
	if ((rc = db_handle_open(db, &db->handle)) != SB_OK)
		goto out;
	*out = db;
	db = NULL;
out:
	sb_db_close(db);
	return rc;
}

enum sb_err
sb_db_open_another(struct sb_db *db, struct sb_db **out)
{
	*out = NULL;
	return db != NULL ? sb_db_open(db->path, db->busy_timeout_ms, out)
	                  : SB_ERR_INVALID;
}

/* Finalizes every cached statement: they are prepared again on next use. */
static void
db_stmts_finalize(struct sb_db *db)
{
	for (size_t i = 0; i < db->stmt_count; i++)
		sqlite3_finalize(db->stmts[i].stmt);
	db->stmt_count = 0;
}

/* Finalizes every cached statement and closes the handle; NULL is a no-op. */
void
sb_db_close(struct sb_db *db)
{
	if (db == NULL)
		return;
	db_stmts_finalize(db);
	db_handle_close(db->handle);
	free(db->path);
	free(db);
}

/*
 * Replaces the handle after a storage error, at most once per
 * DB_REOPEN_INTERVAL_MS.  The new handle is opened first, and taken only
 * if it can write: until then the old one keeps serving reads.
 */
enum sb_err
sb_db_recover(struct sb_db *db)
{
	sqlite3 *fresh = NULL;
	enum sb_err rc = SB_OK;
	int64_t now;

	if (db == NULL ||
	    (!db->reopen && sqlite3_db_readonly(db->handle, "main") != 1))
		goto out;
	rc = SB_ERR_STORAGE;
	now = sb_deadline_now();
	if (db->reopen_tried != 0 &&
	    now - db->reopen_tried < DB_REOPEN_INTERVAL_MS)
		goto out;
	db->reopen_tried = now;
	db->reopen = false;
	if (db_handle_open(db, &fresh) != SB_OK || db->reopen)
		goto out;
	db_stmts_finalize(db);
	db_handle_close(db->handle);
	db->handle = fresh;
	fresh = NULL;
	db->storage_rc = SQLITE_OK;
	db->probed_ok = 0;
	rc = SB_OK;
	sb_log(SB_LOG_INFO, DB_COMPONENT, NULL,
	    "%s reopened after a storage error", db->path);
out:
	db_handle_close(fresh);
	if (rc != SB_OK)
		db->reopen = true;
	return rc;
}

/* The underlying handle, borrowed; valid until sb_db_close(). */
sqlite3 *
sb_db_handle(struct sb_db *db)
{
	return db != NULL ? db->handle : NULL;
}

/* True iff s holds nothing but white space (what SQLite leaves as tail). */
static int
db_is_blank(const char *s)
{
	for (; s != NULL && *s != '\0'; s++)
		if (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\r')
			return 0;
	return 1;
}

/*
 * Prepares sql into a new cache slot.  A second statement in sql would be
 * silently ignored by SQLite, so it is refused.
 */
static sqlite3_stmt *
db_stmt_prepare(struct sb_db *db, const char *sql)
{
	sqlite3_stmt *stmt = NULL;
	const char *tail = NULL;

	if (db->stmt_count >= SB_DB_STMT_MAX) {
		sb_log(SB_LOG_ERROR, DB_COMPONENT, NULL,
		    "statement cache full (%d): %.60s", SB_DB_STMT_MAX, sql);
		return NULL;
	}
	if (sqlite3_prepare_v3(db->handle, sql, -1, SQLITE_PREPARE_PERSISTENT,
	        &stmt, &tail) != SQLITE_OK) {
		sb_log(SB_LOG_ERROR, DB_COMPONENT, NULL, "prepare %.60s: %s",
		    sql, sqlite3_errmsg(db->handle));
		return NULL;
	}
	if (stmt == NULL || !db_is_blank(tail)) {
		sb_log(SB_LOG_ERROR, DB_COMPONENT, NULL,
		    "prepare %.60s: not exactly one statement", sql);
		sqlite3_finalize(stmt);
		return NULL;
	}
	db->stmts[db->stmt_count].sql_key = sql;
	db->stmts[db->stmt_count].stmt = stmt;
	db->stmt_count++;
	return stmt;
}

/*
 * Returns the cached statement for sql (static storage; its address is the
 * key), reset with bindings cleared, or NULL on error (logged).  Borrowed.
 */
sqlite3_stmt *
sb_db_stmt(struct sb_db *db, const char *sql)
{
	size_t i;

	if (db == NULL || sql == NULL)
		return NULL;
	for (i = 0; i < db->stmt_count; i++) {
		if (db->stmts[i].sql_key == sql) {
			sqlite3_reset(db->stmts[i].stmt);
			sqlite3_clear_bindings(db->stmts[i].stmt);
			return db->stmts[i].stmt;
		}
	}
	return db_stmt_prepare(db, sql);
}

/*
 * Steps a cached statement that returns no rows (or whose rows do not
 * matter) to completion and resets it so it holds no lock afterwards.
 */
static enum sb_err
db_run(struct sb_db *db, enum db_sql which, int *sqlite_rc)
{
	sqlite3_stmt *stmt;
	int step;

	if ((stmt = sb_db_stmt(db, db_sql[which])) == NULL) {
		*sqlite_rc = SQLITE_ERROR;
		return SB_ERR_DB;
	}
	while ((step = sqlite3_step(stmt)) == SQLITE_ROW)
		continue;
	sqlite3_reset(stmt);
	*sqlite_rc = step;
	return step == SQLITE_DONE ? SB_OK : db_note(db, step);
}

/*
 * BEGIN IMMEDIATE.  The busy handler already waits inside each try; this
 * outer loop adds a short random pause so that writers which all timed out
 * together do not retry in lock step.  SB_ERR_BUSY after the last try, or
 * as soon as the deadline has passed.
 */
enum sb_err
sb_db_begin(struct sb_db *db)
{
	enum sb_err rc = SB_ERR_INVALID;
	unsigned int jitter;
	int attempt, step;

	if (db == NULL)
		goto out;
	for (attempt = 1; attempt <= SB_DB_BEGIN_ATTEMPTS; attempt++) {
		rc = db_run(db, DB_SQL_BEGIN, &step);
		if (rc != SB_ERR_BUSY || attempt == SB_DB_BEGIN_ATTEMPTS ||
		    sb_deadline_passed(db->deadline))
			break;
		sqlite3_randomness(sizeof(jitter), &jitter);
		sqlite3_sleep(1 + (int)(jitter % DB_BEGIN_SLEEP_MS_MAX));
	}
	if (rc != SB_OK)
		sb_log(rc == SB_ERR_BUSY ? SB_LOG_WARN : SB_LOG_ERROR,
		    DB_COMPONENT, NULL, "begin: %s after %d tries: %s",
		    sb_strerror(rc), attempt, sqlite3_errmsg(db->handle));
out:
	return rc;
}

/*
 * COMMIT; on failure the transaction is rolled back and the error logged.
 * Past the deadline nothing is committed: the caller is about to be told
 * the request failed (or nginx has told it), so the change is rolled back
 * and SB_ERR_BUSY returned.
 */
enum sb_err
sb_db_commit(struct sb_db *db)
{
	enum sb_err rc;
	int step;

	if (db == NULL)
		return SB_ERR_INVALID;
	if (sb_deadline_passed(db->deadline)) {
		sb_log(SB_LOG_WARN, DB_COMPONENT, NULL,
		    "commit: the request's deadline passed; rolled back");
		sb_db_rollback(db);
		return SB_ERR_BUSY;
	}
	if ((rc = db_run(db, DB_SQL_COMMIT, &step)) != SB_OK) {
		sb_log(SB_LOG_ERROR, DB_COMPONENT, NULL, "commit: %s",
		    sqlite3_errmsg(db->handle));
		sb_db_rollback(db);
	}
	return rc;
}

/* ROLLBACK if a transaction is open; safe to call when none is. */
void
sb_db_rollback(struct sb_db *db)
{
	int step;

	if (db == NULL || sqlite3_get_autocommit(db->handle))
		return;
	if (db_run(db, DB_SQL_ROLLBACK, &step) != SB_OK)
		sb_log(SB_LOG_ERROR, DB_COMPONENT, NULL, "rollback: %s",
		    sqlite3_errmsg(db->handle));
}

/* Number of applied migrations, or -1 on error (logged). */
int64_t
sb_db_schema_version(struct sb_db *db)
{
	sqlite3_stmt *stmt;
	int64_t version = -1;

	if ((stmt = sb_db_stmt(db, db_sql[DB_SQL_SCHEMA_VERSION])) == NULL)
		return -1;
	if (sqlite3_step(stmt) == SQLITE_ROW)
		version = sqlite3_column_int64(stmt, 0);
	else
		sb_log(SB_LOG_ERROR, DB_COMPONENT, NULL, "schema version: %s",
		    sqlite3_errmsg(db->handle));
	sqlite3_reset(stmt);
	return version;
}

/* Last error message of the handle, for logs; never NULL. */
const char *
sb_db_errmsg(struct sb_db *db)
{
	if (db == NULL || db->handle == NULL)
		return "no database handle";
	return sqlite3_errmsg(db->handle);
}

/*
 * Writes the current UTC time as "2026-11-21T14:36:20.123Z" into out,
 * truncated (but terminated) if outsize is below 25.
 */
void
sb_db_now_iso(char *out, size_t outsize)
{
	sb_db_iso_ms(sb_db_now_ms(), out, outsize);
}

int64_t
sb_db_now_ms(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
		return -1;
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
sb_db_iso_ms(int64_t ms, char *out, size_t outsize)
{
	char seconds[DB_ISO_MIN];
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	if (out == NULL || outsize == 0)
		return;
	out[0] = '\0';
	if (ms < 0 || gmtime_r(&t, &tm) == NULL ||
	    strftime(seconds, sizeof(seconds), "%Y-%m-%dT%H:%M:%S", &tm) == 0)
		return;
	snprintf(out, outsize, "%s.%03dZ", seconds, (int)(ms % 1000));
}

/*
 * The layer's own tables: schema_migrations (sb_db_migrate()) and
 * store_probe (sb_db_probe()), made if missing.
 */
enum sb_err
sb_db_tables_create(struct sb_db *db)
{
	enum sb_err rc;
	int step;

	if ((rc = db_run(db, DB_SQL_MIGRATIONS_CREATE, &step)) != SB_OK ||
	    (rc = db_run(db, DB_SQL_PROBE_CREATE, &step)) != SB_OK)
		sb_log(SB_LOG_ERROR, DB_COMPONENT, NULL,
		    "schema_migrations, store_probe: %s",
		    sqlite3_errmsg(db->handle));
	return rc;
}

enum sb_err
sb_db_step_write(struct sb_db *db, sqlite3_stmt *st, int *changes)
{
	int step;

	if (changes != NULL)
		*changes = 0;
	if (st == NULL)
		return SB_ERR_DB;
	step = sqlite3_step(st);
	if (step == SQLITE_DONE && changes != NULL)
		*changes = sqlite3_changes(db->handle);
	if (step != SQLITE_DONE)
		sb_log(SB_LOG_ERROR, "db", NULL, "write failed: %s",
		    sqlite3_errmsg(db->handle));
	sqlite3_reset(st);
	return step == SQLITE_DONE ? SB_OK : db_note(db, step);
}

enum sb_err
sb_db_write(struct sb_db *db, sqlite3_stmt *st, int *changes)
{
	enum sb_err rc;

	if (changes != NULL)
		*changes = 0;
	if (st == NULL)
		return SB_ERR_DB;
	if ((rc = sb_db_begin(db)) != SB_OK) {
		sqlite3_reset(st);
		return rc;
	}
	if ((rc = sb_db_step_write(db, st, changes)) != SB_OK) {
		sb_db_rollback(db);
		return rc;
	}
	return sb_db_commit(db);
}

/*
 * The probe writes for real: BEGIN IMMEDIATE alone takes the lock and
 * writes nothing, so it passes on a full disk.  One row rewritten adds a
 * page to the WAL, which is what any small write needs.  A success is
 * trusted for SB_DB_PROBE_INTERVAL_MS unless a storage error comes first,
 * so that a busy /health does not turn into a stream of writes; a failure
 * is tried again at once, so that recovery shows at once.
 */
enum sb_err
sb_db_probe(struct sb_db *db, const char **reason)
{
	const struct db_error *e;
	char now[DB_ISO_MIN];
	sqlite3_stmt *stmt;
	long busy_timeout_ms;
	enum sb_err rc = SB_ERR_INVALID;
	int step;

	*reason = NULL;
	if (db == NULL)
		goto out;
	rc = SB_OK;
	if (db->probed_ok != 0 &&
	    sb_deadline_now() - db->probed_ok < SB_DB_PROBE_INTERVAL_MS)
		goto out;
	busy_timeout_ms = db->busy_timeout_ms;
	if (busy_timeout_ms > SB_DB_PROBE_WAIT_MS)
		db->busy_timeout_ms = SB_DB_PROBE_WAIT_MS;
	rc = db_run(db, DB_SQL_BEGIN, &step);
	db->busy_timeout_ms = busy_timeout_ms;
	if (rc != SB_OK)
		goto out;
	sb_db_now_iso(now, sizeof(now));
	stmt = sb_db_stmt(db, db_sql[DB_SQL_PROBE_WRITE]);
	if (stmt != NULL &&
	    sqlite3_bind_text(stmt, 1, now, -1, SQLITE_TRANSIENT) != SQLITE_OK)
		stmt = NULL;
	if ((rc = sb_db_step_write(db, stmt, NULL)) != SB_OK) {
		sb_db_rollback(db);
		goto out;
	}
	if ((rc = sb_db_commit(db)) == SB_OK)
		db->probed_ok = sb_deadline_now();
out:
	if (rc == SB_ERR_STORAGE)
		*reason = (e = db_error_find(db->storage_rc)) != NULL &&
		        e->reason != NULL
		    ? e->reason
		    : "the store cannot write";
	return rc;
}
