/*
 * Fixture code shared by the unit tests: temporary directories, a fresh
 * database migrated with the real db/migrations, a keyring with a fixed
 * key, a fresh keyring and the providers for the connection tests, the
 * common cmocka fixture (a directory and a context holding the database),
 * one-integer SQL reads and the jobs helpers of test_jobs.c and
 * test_work.c.  Every test
 * binary links tests/unit/support.o; run the tests from the repository
 * root, where the relative paths below resolve.
 *
 * Helpers that return a status are for setup functions, which must not
 * fail a test with an assertion; helpers that return a value assert, and
 * are for test bodies.
 */
#ifndef TESTS_UNIT_SUPPORT_H
#define TESTS_UNIT_SUPPORT_H

#include <stddef.h>
#include <stdint.h>

#include "sb/runtime/context.h"
#include "sb/store/db.h"
#include "sb/core/err.h"
#include "sb/store/jobs.h"
#include "sb/store/secrets.h"

#define TEST_PATH_MAX 256
#define TEST_MIGRATIONS "db/migrations"
#define TEST_PROVIDERS "etc/providers.json"
#define TEST_DB_NAME "test.db" /* test_db_open_migrated()'s file */
#define TEST_DB_BUSY_MS 1000
#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* A fixed test key: what is sealed or digested with it is reproducible. */
#define TEST_KEY_HEX \
	"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"

/*
 * Makes a new directory /tmp/sb_test_<name>.XXXXXX (mkdtemp) and writes
 * its path into dir (size bytes).  Returns 0, or -1 with dir the empty
 * string.  The caller removes it with test_tmpdir_remove().
 */
int test_tmpdir_make(char *dir, size_t size, const char *name);

/*
 * Removes path and, if it is a directory, everything below it.  Returns 0
 * if all of it is gone, -1 otherwise; a NULL or empty path is a no-op
 * that returns 0.
 */
int test_tmpdir_remove(const char *path);

/*
 * Opens dir/TEST_DB_NAME (created) and applies TEST_MIGRATIONS, which must
 * apply at least one migration (the file is new).  On SB_OK *out is set and
 * the caller closes it with sb_db_close(); otherwise *out is NULL.
 */
enum sb_err test_db_open_migrated(const char *dir, struct sb_db **out);

/*
 * Opens a keyring whose only key is TEST_KEY_HEX.  On SB_OK *out is set and
 * the caller frees it with sb_secrets_free(); otherwise *out is NULL.
 */
enum sb_err test_secrets_open(struct sb_secrets **out);

/*
 * Fills ctx->secrets with a new keyring made in dir/secrets by
 * sb_secrets_keygen() (a random master.key and token.key, as a deployment
 * has them) and ctx->providers from TEST_PROVIDERS: what making and using
 * connections needs besides the database.  The rest of ctx is left as the
 * caller set it.  On SB_OK sb_context_clear() releases both; otherwise
 * neither is left open and both are NULL.
 */
enum sb_err test_ctx_open_providers(struct sb_ctx *ctx, const char *dir);

/*
 * The common fixture: a mkdtemp directory holding a fresh migrated
 * database, in ctx.db; the rest of ctx is zero for the test to fill (its
 * config, test_ctx_open_providers(), an HTTP client).
 */
struct test_fixture {
	char dir[TEST_PATH_MAX];
	struct sb_ctx ctx;
};

/*
 * A cmocka setup: on 0 *state is a new struct test_fixture for
 * test_fixture_teardown() to release; otherwise -1 and nothing is left.
 */
int test_fixture_setup(void **state);

/*
 * A cmocka teardown for test_fixture_setup(): closes the context with
 * sb_context_clear() (so what the test put in ctx.http, ctx.providers or
 * ctx.secrets goes too), removes the directory and frees the fixture.
 */
int test_fixture_teardown(void **state);

/*
 * Resets req for a new request with body (len bytes, NUL-terminated in
 * arena as sb_request_read() makes it): the previous one's JSON is freed
 * and arena reset.  No FastCGI side (req->fcgi NULL), so only the status a
 * helper sent is visible, not the body.
 */
void test_request_make(struct sb_request *req, struct sb_arena *arena,
    const char *method, const char *content_type, const char *body, size_t len);

/* The integer in the first column of sql's first row; asserts there is. */
int64_t test_query_int(struct sb_db *db, const char *sql);

/* As test_query_int(), with ?1 bound to text unless text is NULL. */
int64_t test_query_int_text(
    struct sb_db *db, const char *sql, const char *text);

/* One integer column of job id, read with plain SQL; asserts it exists. */
int64_t test_job_int(struct sb_db *db, const char *column, int64_t id);

/*
 * Enqueues a job in its own committed transaction and returns its id;
 * asserts every step.
 */
int64_t test_job_enqueue(struct sb_db *db, const char *queue,
    const char *payload, int max_attempts, int64_t run_at);

/* Asserts that job id is in state want. */
void test_job_assert_state(
    struct sb_db *db, int64_t id, enum sb_job_state want);

/*
 * Lease owner names of each kind the liveness check tells apart
 * (sb/core/owner.h): this process, a live other process of this host (the
 * parent), a process of this host that has exited (a child forked, exited
 * and reaped here), and a process of another host.
 */
enum test_owner_kind {
	TEST_OWNER_SELF,
	TEST_OWNER_LIVE,
	TEST_OWNER_DEAD,
	TEST_OWNER_OTHER_HOST,
	TEST_OWNER__MAX
};

/* Writes an owner name of kind into out (size bytes); asserts it fits. */
void test_owner_name(enum test_owner_kind kind, char *out, size_t size);

#endif
