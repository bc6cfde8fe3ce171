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

struct sb_db;

/*
 * Opens (creating if needed) the database at path with WAL journal,
 * synchronous=NORMAL, foreign_keys=ON, the given busy timeout and the SQL
 * function SB_DB_OWNER_DEAD_FN.  On SB_OK
 * *out is set and the caller frees it with sb_db_close(); otherwise *out is
 * NULL.
 */
enum sb_err sb_db_open(
    const char *path, long busy_timeout_ms, struct sb_db **out);

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

/* The deadline db keeps to; SB_DEADLINE_NONE for none or a NULL db. */
int64_t sb_db_deadline(const struct sb_db *db);

/* The library's error for a SQLite result code (busy, nomem, other). */
enum sb_err sb_db_rc(int sqlite_rc);

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

#endif
