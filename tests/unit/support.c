/*
 * The unit tests' shared fixture code (see support.h): what each test file
 * used to carry its own copy of.  Setup helpers report failure through
 * their result and release what they made; the query and job helpers
 * assert, so a test body fails at the read that went wrong.
 */
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "sb/core/owner.h"
#include "support.h"

#define TEST_SQL_MAX 128

int
test_tmpdir_make(char *dir, size_t size, const char *name)
{
	int n = snprintf(dir, size, "/tmp/sb_test_%s.XXXXXX", name);

	if (n < 0 || (size_t)n >= size || mkdtemp(dir) == NULL) {
		if (size > 0)
			dir[0] = '\0';
		return -1;
	}
	return 0;
}

int
test_tmpdir_remove(const char *path)
{
	char child[TEST_PATH_MAX * 2];
	struct dirent *entry;
	struct stat st;
	DIR *d;
	int rc = 0;

	if (path == NULL || path[0] == '\0')
		return 0;
	if (lstat(path, &st) == -1)
		return -1;
	if (!S_ISDIR(st.st_mode))
		return unlink(path);
	if ((d = opendir(path)) == NULL)
		return -1;
	while ((entry = readdir(d)) != NULL) {
		if (strcmp(entry->d_name, ".") == 0 ||
		    strcmp(entry->d_name, "..") == 0)
			continue;
		if (snprintf(child, sizeof(child), "%s/%s", path,
		        entry->d_name) >= (int)sizeof(child) ||
		    test_tmpdir_remove(child) != 0)
			rc = -1;
	}
	(void)closedir(d);
	return rmdir(path) == 0 ? rc : -1;
}

enum sb_err
test_db_open_migrated(const char *dir, struct sb_db **out)
{
	char path[TEST_PATH_MAX * 2];
	enum sb_err rc;
	int applied = 0, n;

	*out = NULL;
	n = snprintf(path, sizeof(path), "%s/%s", dir, TEST_DB_NAME);
	if (n < 0 || (size_t)n >= sizeof(path))
		return SB_ERR_INVALID;
	if ((rc = sb_db_open(path, TEST_DB_BUSY_MS, out)) != SB_OK)
		return rc;
	rc = sb_db_migrate(*out, TEST_MIGRATIONS, &applied);
	if (rc == SB_OK && applied < 1)
		rc = SB_ERR_DB;
	if (rc != SB_OK) {
		sb_db_close(*out);
		*out = NULL;
	}
	return rc;
}

enum sb_err
test_secrets_open(struct sb_secrets **out)
{
	return sb_secrets_open(NULL, TEST_KEY_HEX, out);
}

enum sb_err
test_ctx_open_providers(struct sb_ctx *ctx, const char *dir)
{
	char keys[TEST_PATH_MAX * 2], err[SB_PROVIDER_ERROR_MAX];
	enum sb_err rc;
	int n;

	ctx->secrets = NULL;
	ctx->providers = NULL;
	n = snprintf(keys, sizeof(keys), "%s/secrets", dir);
	if (n < 0 || (size_t)n >= sizeof(keys))
		return SB_ERR_INVALID;
	if ((rc = sb_secrets_keygen(keys, NULL)) != SB_OK ||
	    (rc = sb_secrets_open(keys, NULL, &ctx->secrets)) != SB_OK)
		return rc;
	rc = sb_providers_load(
	    TEST_PROVIDERS, &ctx->providers, err, sizeof(err));
	if (rc != SB_OK) {
		fprintf(stderr, "%s: %s\n", TEST_PROVIDERS, err);
		sb_secrets_free(ctx->secrets);
		ctx->secrets = NULL;
	}
	return rc;
}

int
test_fixture_setup(void **state)
{
	struct test_fixture *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	if (test_tmpdir_make(f->dir, sizeof(f->dir), "unit") != 0 ||
	    test_db_open_migrated(f->dir, &f->ctx.db) != SB_OK) {
		test_tmpdir_remove(f->dir);
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

int
test_fixture_teardown(void **state)
{
	struct test_fixture *f = *state;

	sb_context_clear(&f->ctx);
	test_tmpdir_remove(f->dir);
	free(f);
	return 0;
}

void
test_request_make(struct sb_request *req, struct sb_arena *arena,
    const char *method, const char *content_type, const char *body, size_t len)
{
	sb_request_clear(req);
	sb_arena_reset(arena);
	memset(req, 0, sizeof(*req));
	req->arena = arena;
	req->method = method;
	req->path = "/";
	req->request_id = "test";
	req->content_type = content_type;
	req->body = sb_arena_strndup(arena, body, len);
	assert_non_null(req->body);
	req->body_len = len;
}

int64_t
test_query_int(struct sb_db *db, const char *sql)
{
	return test_query_int_text(db, sql, NULL);
}

int64_t
test_query_int_text(struct sb_db *db, const char *sql, const char *text)
{
	sqlite3_stmt *stmt = NULL;
	int64_t value;

	assert_int_equal(
	    sqlite3_prepare_v2(sb_db_handle(db), sql, -1, &stmt, NULL),
	    SQLITE_OK);
	if (text != NULL)
		assert_int_equal(
		    sqlite3_bind_text(stmt, 1, text, -1, SQLITE_TRANSIENT),
		    SQLITE_OK);
	assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
	value = sqlite3_column_int64(stmt, 0);
	sqlite3_finalize(stmt);
	return value;
}

int64_t
test_job_int(struct sb_db *db, const char *column, int64_t id)
{
	char sql[TEST_SQL_MAX];
	sqlite3_stmt *stmt = NULL;
	int64_t value;
	int n;

	n = snprintf(
	    sql, sizeof(sql), "SELECT %s FROM jobs WHERE id = ?1", column);
	assert_true(n > 0 && (size_t)n < sizeof(sql));
	assert_int_equal(
	    sqlite3_prepare_v2(sb_db_handle(db), sql, -1, &stmt, NULL),
	    SQLITE_OK);
	assert_int_equal(sqlite3_bind_int64(stmt, 1, id), SQLITE_OK);
	assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
	value = sqlite3_column_int64(stmt, 0);
	sqlite3_finalize(stmt);
	return value;
}

int64_t
test_job_enqueue(struct sb_db *db, const char *queue, const char *payload,
    int max_attempts, int64_t run_at)
{
	int64_t id = -1;

	assert_int_equal(sb_db_begin(db), SB_OK);
	assert_int_equal(
	    sb_jobs_enqueue(db, queue, payload, max_attempts, run_at, &id),
	    SB_OK);
	assert_int_equal(sb_db_commit(db), SB_OK);
	assert_true(id > 0);
	return id;
}

void
test_job_assert_state(struct sb_db *db, int64_t id, enum sb_job_state want)
{
	enum sb_job_state got = SB_JOB__MAX;

	assert_int_equal(sb_jobs_state(db, id, &got), SB_OK);
	assert_int_equal(got, want);
}

/* The pid of a child that has exited and been reaped: no process has it. */
static pid_t
test_dead_pid(void)
{
	int status = 0;
	pid_t pid = fork();

	if (pid == 0)
		_exit(0);
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return pid;
}

void
test_owner_name(enum test_owner_kind kind, char *out, size_t size)
{
	const char *self = sb_owner_self(), *colon = strchr(self, ':');
	int host_len = (int)(colon - self), n = -1;

	switch (kind) {
	case TEST_OWNER_SELF:
		n = snprintf(out, size, "%s", self);
		break;
	case TEST_OWNER_LIVE:
		n = snprintf(
		    out, size, "%.*s:%ld:0", host_len, self, (long)getppid());
		break;
	case TEST_OWNER_DEAD:
		n = snprintf(out, size, "%.*s:%ld:0", host_len, self,
		    (long)test_dead_pid());
		break;
	default:
		n = snprintf(
		    out, size, "elsewhere.invalid:%ld", (long)test_dead_pid());
		break;
	}
	assert_true(n > 0 && (size_t)n < size);
}
