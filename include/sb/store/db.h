/*
 * The database layer over SQLite.  A handle is opened once per process with
 * WAL, busy_timeout and foreign_keys on; statements are prepared once per
 * process and cached by their SQL text pointer, so each module keeps its SQL
 * in one static table and asks for a statement with sb_db_stmt().  Every
 * transaction that writes starts with BEGIN IMMEDIATE (sb_db_begin), which
 * is retried while the database is busy.  Migrations are the *.sql files of
 * one directory applied in name order and recorded in schema_migrations.
 */
#ifndef SB_DB_H
#define SB_DB_H

#include <stdbool.h>
#include <stdint.h>

#include <sqlite3.h>

#include "sb/core/err.h"

#define SB_DB_STMT_MAX 128 /* cached statements per handle */
#define SB_DB_BEGIN_ATTEMPTS 50 /* BEGIN IMMEDIATE tries on SQLITE_BUSY */
#define SB_DB_MIGRATION_MAX 256 /* migration files per directory */
/* The SQL function every handle has: 1 iff its text argument names a dead
 * lease holder of this host (sb_owner_dead(), sb/core/owner.h). */
#define SB_DB_OWNER_DEAD_FN "sb_owner_dead"
/* A WAL file larger than this is cut back to it when a checkpoint resets
 * it: 64 MiB (PRAGMA journal_size_limit). */
#define SB_DB_WAL_LIMIT_BYTES 67108864
#define SB_DB_ISO_MAX 32 /* a buffer that holds any sb_db_now_iso() */
#define SB_DB_PROBE_WAIT_MS 250 /* the most sb_db_probe() waits for a lock */
#define SB_DB_PROBE_INTERVAL_MS 1000 /* a probe's success holds so long */

struct sb_db;

/*
 * Opens (creating if needed) the database at path with WAL journal,
 * synchronous=NORMAL, foreign_keys=ON, the given busy timeout and the SQL
 * function SB_DB_OWNER_DEAD_FN.  A file that can only be read opens all
 * the same: reads work, writes give SB_ERR_STORAGE until sb_db_recover()
 * finds it writable.  On SB_OK *out is set and the caller frees it with
 * sb_db_close(); otherwise *out is NULL and the result is SB_ERR_INVALID
 * (NULL path, timeout out of range), SB_ERR_NOMEM, SB_ERR_STORAGE (the
 * file cannot be opened) or SB_ERR_DB.
 */
enum sb_err sb_db_open(
    const char *path, long busy_timeout_ms, struct sb_db **out);

/*
 * Opens another connection to db's file with db's busy timeout, as
 * sb_db_open() does; SB_ERR_INVALID for a NULL db.
 */
enum sb_err sb_db_open_another(struct sb_db *db, struct sb_db **out);

/* Finalizes every cached statement and closes; NULL is a no-op. */
void sb_db_close(struct sb_db *db);

/* The underlying handle, borrowed; valid until sb_db_close(). */
sqlite3 *sb_db_handle(struct sb_db *db);

/*
 * Returns the cached statement for sql, preparing it on first use, reset and
 * with bindings cleared, or NULL on error (logged).  sql must be a string
 * with static storage: the pointer is the cache key.  The statement is
 * borrowed; callers step it and need not reset it.
 */
sqlite3_stmt *sb_db_stmt(struct sb_db *db, const char *sql);

/*
 * BEGIN IMMEDIATE, retried with a short random sleep up to
 * SB_DB_BEGIN_ATTEMPTS times on busy.  SB_ERR_BUSY if the lock never came,
 * SB_ERR_INVALID for a NULL db, else SB_ERR_NOMEM or SB_ERR_DB (logged).
 */
enum sb_err sb_db_begin(struct sb_db *db);

/*
 * COMMIT; on failure (SB_ERR_BUSY, SB_ERR_NOMEM or SB_ERR_DB, logged) the
 * transaction is rolled back.  SB_ERR_INVALID for a NULL db.
 */
enum sb_err sb_db_commit(struct sb_db *db);

/*
 * Sets the deadline (sb/core/deadline.h; SB_DEADLINE_NONE for none) that
 * db keeps to from now on: no wait for a lock goes past it (SB_ERR_BUSY),
 * sb_db_begin() stops retrying at it, and sb_db_commit() past it rolls
 * back instead.  NULL db is a no-op.
 */
void sb_db_deadline_set(struct sb_db *db, int64_t deadline);

/*
 * The library's error for a SQLite result code: SB_OK for OK, ROW and DONE;
 * SB_ERR_BUSY for a lock (BUSY, LOCKED); SB_ERR_NOMEM; SB_ERR_STORAGE when
 * the store cannot write (FULL, READONLY, IOERR, CANTOPEN, PERM, with their
 * extended codes); SB_ERR_DB for anything else.
 */
enum sb_err sb_db_rc(int sqlite_rc);

/*
 * Whether db can write now, for /health: one row of the table store_probe
 * (made by sb_db_migrate()) rewritten and committed in a BEGIN IMMEDIATE
 * transaction of its own, waiting for the lock at most SB_DB_PROBE_WAIT_MS
 * and never past db's deadline.  Must not be called inside a transaction.
 * SB_OK if it committed, or if a probe committed less than
 * SB_DB_PROBE_INTERVAL_MS ago and no storage error was seen since.
 * SB_ERR_STORAGE if the store cannot write, with *reason set to a static phrase
 * ("the disk is full"); SB_ERR_BUSY if the lock did not come; SB_ERR_DB (e.g.
 * not migrated), SB_ERR_NOMEM, or SB_ERR_INVALID for a NULL db.  *reason is
 * NULL unless SB_ERR_STORAGE.
 */
enum sb_err sb_db_probe(struct sb_db *db, const char **reason);

/*
 * Recovers from a storage error: if db saw one that a new handle may cure
 * (a read-only file, failing I/O) or its handle is read-only, opens the
 * file again, at most once a second, and takes the new handle iff it can
 * write.  Every cached statement is then finalized (and prepared again on
 * next use), so call it only when none is in use: between requests.
 * SB_OK if nothing was wrong or the handle was replaced; SB_ERR_STORAGE if
 * the file still cannot be written (the old handle stays, for reads).
 * NULL db is SB_OK.
 */
enum sb_err sb_db_recover(struct sb_db *db);

/*
 * Steps the bound write statement st to its end inside the caller's
 * transaction (it begins none), logs a failure and resets st.  *changes
 * (if not NULL) gets the rows it changed, 0 on failure.  A NULL st
 * (sb_db_stmt failed) gives SB_ERR_DB.
 */
enum sb_err sb_db_step_write(struct sb_db *db, sqlite3_stmt *st, int *changes);

/*
 * Runs the bound statement st as one BEGIN IMMEDIATE transaction and
 * resets it.  *changes (if not NULL) gets the rows it changed.  A NULL st
 * (sb_db_stmt failed) gives SB_ERR_DB.  A failed step is logged and
 * rolled back: SB_ERR_BUSY if the database was locked, else SB_ERR_DB;
 * sb_db_begin()'s and sb_db_commit()'s errors pass through.
 */
enum sb_err sb_db_write(struct sb_db *db, sqlite3_stmt *st, int *changes);

/* ROLLBACK if a transaction is open; safe to call when none is. */
void sb_db_rollback(struct sb_db *db);

/*
 * Applies, in file-name order, each "*.sql" file of dir not yet recorded in
 * schema_migrations, each in its own transaction together with its record.
 * On SB_OK *applied (if not NULL) holds how many were applied.  A failing
 * migration is rolled back and named in the log, and the ones after it
 * are not tried (*applied counts those before it): SB_ERR_IO or
 * SB_ERR_TOO_LARGE for a directory or file that cannot be read, or is too
 * big, SB_ERR_NOMEM, SB_ERR_BUSY or SB_ERR_DB.  SB_ERR_INVALID for NULL
 * arguments.
 */
enum sb_err sb_db_migrate(struct sb_db *db, const char *dir, int *applied);

/* Number of applied migrations, or -1 on error: the health check's read. */
int64_t sb_db_schema_version(struct sb_db *db);

/* Last error message of the handle, for logs; never NULL. */
const char *sb_db_errmsg(struct sb_db *db);

/* Current time as ISO-8601 UTC with milliseconds into out (>= 25 bytes). */
void sb_db_now_iso(char *out, size_t outsize);

/* The current UTC time in milliseconds since the epoch. */
int64_t sb_db_now_ms(void);

/*
 * Writes ms (milliseconds since the epoch) as "2026-11-21T14:36:20.123Z"
 * into out, truncated (but terminated) if outsize is below 25; out is
 * empty for a negative ms.
 */
void sb_db_iso_ms(int64_t ms, char *out, size_t outsize);

#endif
