/*
 * Unit tests for the data fetch's resources (lib/fetch/fetch.c): a row of
 * fetch_resources whose fields are not field names is refused when it is
 * written (migration 0013), and one written before that check is refused
 * when it is loaded (SB_ERR_CONFIG), instead of failing every query of
 * its resource with a database error.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "sb/fetch/fetch.h"
#include "support.h"

/* Fields the check keeps and refuses, as fetch_resources.fields text. */
static const struct {
	const char *fields;
	bool valid;
} field_cases[] = {
	{ "[\"id\", \"address.city\", \"user-id\", \"$x\", \"a_b9\"]", true },
	{ "[]", true },
	{ "[\"a b\"]", false },
	{ "[\"a[\"]", false },
	{ "[\"\"]", false },
	{ "[\".a\"]", false },
	{ "[\"a.\"]", false },
	{ "[\"a..b\"]", false },
	{ "[\"a\\\"b\"]", false },
	{ "[1]", false },
	{ "{\"a\": 1}", false },
};

/* Runs sql on db; returns SQLite's result code. */
static int
fetch_exec(struct sb_db *db, const char *sql)
{
	return sqlite3_exec(sb_db_handle(db), sql, NULL, NULL, NULL);
}

/* Inserts resource name with fields (text); returns SQLite's code. */
static int
fetch_insert(struct sb_db *db, const char *name, const char *fields)
{
	sqlite3_stmt *st = NULL;
	int rc;

	assert_int_equal(sqlite3_prepare_v2(sb_db_handle(db),
	                     "INSERT INTO fetch_resources (name, path, fields)"
	                     " VALUES (?1, '/x', ?2)",
	                     -1, &st, NULL),
	    SQLITE_OK);
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, fields, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc;
}

static void
test_fields_refused_on_write(void **state)
{
	struct test_fixture *f = *state;
	char name[32];

	for (size_t i = 0; i < ARRAY_LEN(field_cases); i++) {
		snprintf(name, sizeof(name), "r%zu", i);
		if ((fetch_insert(f->ctx.db, name, field_cases[i].fields) ==
		        SQLITE_DONE) != field_cases[i].valid)
			fail_msg("case %zu: %s", i, field_cases[i].fields);
	}
	assert_int_not_equal(
	    fetch_exec(f->ctx.db,
	        "UPDATE fetch_resources SET fields = '[\"a[\"]'"
	        " WHERE name = 'posts'"),
	    SQLITE_OK);
}

static void
test_fields_refused_on_load(void **state)
{
	struct test_fixture *f = *state;
	struct sb_fetch_resource r;
	char name[32];

	/* rows from before the check */
	assert_int_equal(
	    fetch_exec(f->ctx.db, "DROP TRIGGER fetch_resources_fields_insert"),
	    SQLITE_OK);
	for (size_t i = 0; i < ARRAY_LEN(field_cases); i++) {
		snprintf(name, sizeof(name), "r%zu", i);
		assert_int_equal(
		    fetch_insert(f->ctx.db, name, field_cases[i].fields),
		    SQLITE_DONE);
		if ((sb_fetch_resource_load(f->ctx.db, name, &r, NULL, 0) ==
		        SB_OK) != field_cases[i].valid)
			fail_msg("case %zu: %s", i, field_cases[i].fields);
		sb_fetch_resource_clear(&r);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_fields_refused_on_write,
		    test_fixture_setup, test_fixture_teardown),
		cmocka_unit_test_setup_teardown(test_fields_refused_on_load,
		    test_fixture_setup, test_fixture_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
