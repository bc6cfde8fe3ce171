/*
 * Unit tests for lib/runtime/health.c: sb_health() against a migrated
 * temporary database, without one, when the read fails and when the
 * database cannot be written; and for lib/runtime/context.c: a worker's
 * context borrows the first context's keyring.
 */
#include <sys/stat.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "sb/core/arena.h"
#include "sb/core/request.h"
#include "sb/runtime/context.h"
#include "sb/runtime/health.h"
#include "sb/store/db.h"
#include "support.h"

#define TEST_ARENA_CAP (1u << 20)

static const struct sb_app test_app = { .name = "context-test" };

struct fixture {
	char dir[TEST_PATH_MAX]; /* "" unless setup_db made it */
	struct sb_ctx ctx;
	struct sb_arena arena;
	struct sb_request req;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	f->ctx.app = &test_app;
	sb_arena_init(&f->arena, TEST_ARENA_CAP);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	sb_request_clear(&f->req);
	sb_db_close(f->ctx.db);
	test_tmpdir_remove(f->dir);
	sb_arena_clear(&f->arena);
	free(f);
	return 0;
}

/* As setup, with ctx.db a freshly migrated database in a temp dir. */
static int
setup_db(void **state)
{
	struct fixture *f;

	if (setup(state) != 0)
		return -1;
	f = *state;
	if (test_tmpdir_make(f->dir, sizeof(f->dir), "context") != 0 ||
	    test_db_open_migrated(f->dir, &f->ctx.db) != SB_OK) {
		teardown(state);
		return -1;
	}
	return 0;
}

static void
test_health_ok(void **state)
{
	struct fixture *f = *state;

	test_request_make(&f->req, &f->arena, "GET", NULL, "", 0);
	sb_health(&f->ctx, &f->req);
	assert_int_equal(f->req.status, 200);
	assert_int_equal(
	    test_query_int(f->ctx.db, "SELECT count(*) FROM store_probe"), 1);
	/* A second check reuses the cached statement. */
	test_request_make(&f->req, &f->arena, "GET", NULL, "", 0);
	sb_health(&f->ctx, &f->req);
	assert_int_equal(f->req.status, 200);
}

/* A responder without a database is healthy without a read. */
static void
test_health_no_db(void **state)
{
	struct fixture *f = *state;

	test_request_make(&f->req, &f->arena, "GET", NULL, "", 0);
	sb_health(&f->ctx, &f->req);
	assert_int_equal(f->req.status, 200);
}

/* When the read fails the answer is 503. */
static void
test_health_unreadable(void **state)
{
	struct fixture *f = *state;

	test_request_make(&f->req, &f->arena, "GET", NULL, "", 0);
	sb_health(&f->ctx, &f->req);
	assert_int_equal(f->req.status, 200);
	assert_int_equal(sqlite3_exec(sb_db_handle(f->ctx.db),
	                     "DROP TABLE schema_migrations", NULL, NULL, NULL),
	    SQLITE_OK);
	test_request_make(&f->req, &f->arena, "GET", NULL, "", 0);
	sb_health(&f->ctx, &f->req);
	assert_int_equal(f->req.status, 503);
}

/*
 * A database that cannot be written (query_only stands in for a read-only
 * file) is 503 storage_unavailable with Retry-After; once the handle is
 * replaced, 200 again.
 */
static void
test_health_unwritable(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(sqlite3_exec(sb_db_handle(f->ctx.db),
	                     "PRAGMA query_only = 1", NULL, NULL, NULL),
	    SQLITE_OK);
	test_request_make(&f->req, &f->arena, "GET", NULL, "", 0);
	sb_health(&f->ctx, &f->req);
	assert_int_equal(f->req.status, 503);
	assert_int_equal(sb_db_recover(f->ctx.db), SB_OK);
	test_request_make(&f->req, &f->arena, "GET", NULL, "", 0);
	sb_health(&f->ctx, &f->req);
	assert_int_equal(f->req.status, 200);
}

/* The number of lines in path (0 if it is missing). */
static int
lines_in(const char *path)
{
	FILE *fp = fopen(path, "r");
	int c, n = 0;

	if (fp == NULL)
		return 0;
	while ((c = fgetc(fp)) != EOF)
		n += c == '\n';
	(void)fclose(fp);
	return n;
}

/*
 * A worker's context borrows the first context's keyring: the key command
 * runs once per process, not once per worker, both contexts hold the same
 * keyring, and clearing the borrower leaves it whole for its owner.
 */
static void
test_context_shares_keyring(void **state)
{
	static const struct sb_app keys_app = { .name = "context-test",
		.needs_secrets = true };
	struct fixture *f = *state;
	char secrets[TEST_PATH_MAX * 2], ran[TEST_PATH_MAX * 2],
	    command[TEST_PATH_MAX * 3];
	struct sb_ctx first, second;
	unsigned char *blob = NULL;
	size_t blob_len = 0, len = 0;
	char *plain = NULL;

	assert_int_equal(
	    test_tmpdir_make(f->dir, sizeof(f->dir), "context"), 0);
	(void)snprintf(secrets, sizeof(secrets), "%s/secrets", f->dir);
	(void)snprintf(ran, sizeof(ran), "%s/ran", f->dir);
	(void)snprintf(command, sizeof(command), "echo x >> '%s'; echo %s", ran,
	    TEST_KEY_HEX);
	assert_int_equal(mkdir(secrets, 0700), 0);
	assert_int_equal(setenv("SB_CONFIG", "", 1), 0);
	assert_int_equal(setenv("SB_VAR_DIR", f->dir, 1), 0);
	assert_int_equal(setenv("SB_MASTER_KEY_SOURCE", "command", 1), 0);
	assert_int_equal(setenv("SB_MASTER_KEY_COMMAND", command, 1), 0);
	assert_int_equal(unsetenv("SB_MASTER_KEY"), 0);

	assert_int_equal(sb_context_init(&first, &keys_app), SB_OK);
	assert_int_equal(
	    sb_context_init_sharing(&second, &keys_app, &first), SB_OK);
	assert_int_equal(lines_in(ran), 1);
	assert_non_null(first.secrets);
	assert_ptr_equal(second.secrets, first.secrets);
	assert_int_equal(
	    sb_secrets_seal(second.secrets, "s", 1, "ad", &blob, &blob_len),
	    SB_OK);
	sb_context_clear(&second);
	assert_int_equal(sb_secrets_unseal(
	                     first.secrets, blob, blob_len, "ad", &plain, &len),
	    SB_OK);
	assert_string_equal(plain, "s");
	sb_secrets_plain_free(plain, len);
	free(blob);
	sb_context_clear(&first);
	assert_int_equal(lines_in(ran), 1);
	(void)unsetenv("SB_MASTER_KEY_COMMAND");
	(void)unsetenv("SB_MASTER_KEY_SOURCE");
	(void)unsetenv("SB_VAR_DIR");
	(void)unsetenv("SB_CONFIG");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_health_ok, setup_db, teardown),
		cmocka_unit_test_setup_teardown(
		    test_health_no_db, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_health_unreadable, setup_db, teardown),
		cmocka_unit_test_setup_teardown(
		    test_health_unwritable, setup_db, teardown),
		cmocka_unit_test_setup_teardown(
		    test_context_shares_keyring, setup, teardown),
	};

	return cmocka_run_group_tests_name("context", tests, NULL, NULL);
}
