/*
 * Migrations (see sb_db_migrate() in include/sb/store/db.h): the *.sql
 * files of a directory applied in name order, each once, in its own
 * transaction with its record in schema_migrations.  The only place that
 * hands whole SQL files to sqlite3_exec().
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sb/core/log.h"
#include "sb/store/db.h"
#include "db_internal.h"

#define MIGRATE_COMPONENT "db"
#define MIGRATE_FILE_MAX (1L << 20) /* bytes in one migration file */
#define MIGRATE_SUFFIX ".sql"

enum migrate_sql { MIGRATE_SQL_APPLIED, MIGRATE_SQL_RECORD, MIGRATE_SQL__MAX };

static const char *const migrate_sql[MIGRATE_SQL__MAX] = {
	[MIGRATE_SQL_APPLIED] =
	    "SELECT 1 FROM schema_migrations WHERE name = ?1",
	[MIGRATE_SQL_RECORD] =
	    "INSERT INTO schema_migrations (name, applied_at) VALUES (?1, ?2)",
};

static int
migrate_compare(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* True iff name is a migration: "<something>.sql", not hidden. */
static int
migrate_wanted(const char *name)
{
	size_t len = strlen(name), suffix = strlen(MIGRATE_SUFFIX);

	return name[0] != '.' && len > suffix &&
	    strcmp(name + len - suffix, MIGRATE_SUFFIX) == 0;
}

/*
 * Fills names with the sorted migration file names of dir, each malloc'ed;
 * the caller frees the first *count of them whatever the result.
 */
static enum sb_err
migrate_list(const char *dir, char **names, size_t *count)
{
	struct dirent *entry;
	enum sb_err rc = SB_ERR_IO;
	DIR *d;

	*count = 0;
	if ((d = opendir(dir)) == NULL) {
		sb_log(SB_LOG_ERROR, MIGRATE_COMPONENT, NULL,
		    "migrations %s: %s", dir, strerror(errno));
		goto out;
	}
	while ((entry = readdir(d)) != NULL) {
		if (!migrate_wanted(entry->d_name))
			continue;
		if (*count == SB_DB_MIGRATION_MAX) {
			sb_log(SB_LOG_ERROR, MIGRATE_COMPONENT, NULL,
			    "migrations %s: more than %d files", dir,
			    SB_DB_MIGRATION_MAX);
			rc = SB_ERR_TOO_LARGE;
			goto out;
		}
		if ((names[*count] = strdup(entry->d_name)) == NULL) {
			rc = SB_ERR_NOMEM;
			goto out;
		}
		(*count)++;
	}
	qsort(names, *count, sizeof(names[0]), migrate_compare);
	rc = SB_OK;
out:
	if (d != NULL)
		closedir(d);
	return rc;
}

/*
 * Reads dir/name, a regular file of at most MIGRATE_FILE_MAX bytes,
 * into *text (NUL-terminated).  On SB_OK the caller frees *text with free();
 * otherwise it is NULL.
 */
static enum sb_err
migrate_read(const char *dir, const char *name, char **text)
{
	char path[PATH_MAX];
	enum sb_err rc = SB_ERR_IO;
	struct stat st;
	FILE *f = NULL;
	int n;

	*text = NULL;
	n = snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (n < 0 || (size_t)n >= sizeof(path))
		goto out;
	if ((f = fopen(path, "r")) == NULL || fstat(fileno(f), &st) != 0 ||
	    !S_ISREG(st.st_mode))
		goto out;
	rc = SB_ERR_TOO_LARGE;
	if (st.st_size > MIGRATE_FILE_MAX)
		goto out;
	rc = SB_ERR_NOMEM;
	if ((*text = malloc((size_t)st.st_size + 1)) == NULL)
		goto out;
	rc = SB_ERR_IO;
	if (fread(*text, 1, (size_t)st.st_size, f) != (size_t)st.st_size)
		goto out;
	(*text)[st.st_size] = '\0';
	rc = SB_OK;
out:
	if (rc != SB_OK) {
		sb_log(SB_LOG_ERROR, MIGRATE_COMPONENT, NULL,
		    "migration %s: %s", name, sb_strerror(rc));
		free(*text);
		*text = NULL;
	}
	if (f != NULL)
		fclose(f);
	return rc;
}

/* Sets *applied iff schema_migrations records name. */
static enum sb_err
migrate_applied(struct sb_db *db, const char *name, int *applied)
{
	sqlite3_stmt *stmt;
	int step;

	*applied = 0;
	stmt = sb_db_stmt(db, migrate_sql[MIGRATE_SQL_APPLIED]);
	if (stmt == NULL ||
	    sqlite3_bind_text(stmt, 1, name, -1, SQLITE_STATIC) != SQLITE_OK)
		return SB_ERR_DB;
	step = sqlite3_step(stmt);
	*applied = step == SQLITE_ROW;
	sqlite3_reset(stmt);
	return step == SQLITE_ROW || step == SQLITE_DONE ? SB_OK
	                                                 : sb_db_rc(step);
}

static enum sb_err
migrate_record(struct sb_db *db, const char *name)
{
	char now[SB_DB_ISO_MAX];
	sqlite3_stmt *stmt;
	int step;

	sb_db_now_iso(now, sizeof(now));
	stmt = sb_db_stmt(db, migrate_sql[MIGRATE_SQL_RECORD]);
	if (stmt == NULL ||
	    sqlite3_bind_text(stmt, 1, name, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_text(stmt, 2, now, -1, SQLITE_STATIC) != SQLITE_OK)
		return SB_ERR_DB;
	step = sqlite3_step(stmt);
	sqlite3_reset(stmt);
	return step == SQLITE_DONE ? SB_OK : sb_db_rc(step);
}

/*
 * Authorizer in force while a migration runs: a migration that said BEGIN,
 * COMMIT or ROLLBACK would end the transaction that also records it.
 */
static int
migrate_deny_transactions(void *arg, int action, const char *a, const char *b,
    const char *c, const char *d)
{
	(void)arg;
	(void)a;
	(void)b;
	(void)c;
	(void)d;
	return action == SQLITE_TRANSACTION ? SQLITE_DENY : SQLITE_OK;
}

/* Runs a migration's text; the caller holds the transaction. */
static enum sb_err
migrate_exec(struct sb_db *db, const char *name, const char *text)
{
	char *message = NULL;
	int rc;

	sqlite3_set_authorizer(
	    sb_db_handle(db), migrate_deny_transactions, NULL);
	rc = sqlite3_exec(sb_db_handle(db), text, NULL, NULL, &message);
	sqlite3_set_authorizer(sb_db_handle(db), NULL, NULL);
	if (rc != SQLITE_OK)
		sb_log(SB_LOG_ERROR, MIGRATE_COMPONENT, NULL,
		    "migration %s: %s", name,
		    message != NULL ? message : sqlite3_errstr(rc));
	sqlite3_free(message);
	return rc == SQLITE_OK ? SB_OK : SB_ERR_DB;
}

/*
 * Applies dir/name unless recorded.  The record is checked again inside the
 * write transaction so that two migrating processes cannot both apply it.
 * *did is set iff this call applied it.
 */
static enum sb_err
migrate_apply(struct sb_db *db, const char *dir, const char *name, int *did)
{
	char *text = NULL;
	enum sb_err rc;
	int applied, began = 0;

	*did = 0;
	if ((rc = migrate_applied(db, name, &applied)) != SB_OK || applied)
		goto out;
	if ((rc = migrate_read(dir, name, &text)) != SB_OK)
		goto out;
	if ((rc = sb_db_begin(db)) != SB_OK)
		goto out;
	began = 1;
	if ((rc = migrate_applied(db, name, &applied)) != SB_OK || applied)
		goto out;
	if ((rc = migrate_exec(db, name, text)) != SB_OK)
		goto out;
	if ((rc = migrate_record(db, name)) != SB_OK)
		goto out;
	if ((rc = sb_db_commit(db)) != SB_OK)
		goto out;
	*did = 1;
	sb_log(
	    SB_LOG_INFO, MIGRATE_COMPONENT, NULL, "applied migration %s", name);
out:
	if (rc != SB_OK)
		sb_log(SB_LOG_ERROR, MIGRATE_COMPONENT, NULL,
		    "migration %s not applied: %s", name, sb_strerror(rc));
	/* Never roll back a transaction this call did not begin. */
	if (began)
		sb_db_rollback(db);
	free(text);
	return rc;
}

/*
 * Applies in name order each *.sql file of dir not yet in schema_migrations,
 * each in its own transaction with its record, stopping at the first
 * failure (rolled back and logged).  On SB_OK *applied (if not NULL) holds
 * how many were applied.
 */
enum sb_err
sb_db_migrate(struct sb_db *db, const char *dir, int *applied)
{
	char *names[SB_DB_MIGRATION_MAX];
	size_t count = 0, i;
	enum sb_err rc = SB_ERR_INVALID;
	int done = 0, did;

	if (db == NULL || dir == NULL)
		goto out;
	if ((rc = sb_db_tables_create(db)) != SB_OK)
		goto out;
	if ((rc = migrate_list(dir, names, &count)) != SB_OK)
		goto out;
	for (i = 0; i < count; i++) {
		if ((rc = migrate_apply(db, dir, names[i], &did)) != SB_OK)
			goto out;
		done += did;
	}
out:
	for (i = 0; i < count; i++)
		free(names[i]);
	if (applied != NULL)
		*applied = done;
	return rc;
}
