/*
 * Unit tests for lib/connect/mapstore.c: stored mappings are created under
 * random ids, read back as stored (with or without a root), deleted once, and
 * unknown ids are "not found".  Each test gets a fresh migrated database in
 * a mkdtemp directory; run from the repository root.
 */
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

#include "sb/connect/mapstore.h"
#include "support.h"

#define POISON_JSON ((cJSON *)(void *)&poison_target)
#define POISON_TEXT ((char *)&poison_target)

static char poison_target;

static int64_t
count_rows(struct test_fixture *f)
{
	return test_query_int(f->ctx.db, "SELECT count(*) FROM mappings");
}

static void
test_roundtrip(void **state)
{
	static const struct {
		const char *mapping;
		const char *root; /* NULL: none */
	} cases[] = {
		{ "{\"login\": \"login\", \"id\": \"id\"}", NULL },
		{ "{\"name\": \"profile.name\", \"email\": "
		  "\"emails[0].email\"}",
		    "data.users" },
		{ "{\"first\": \"[0]\"}", "items" },
		{ "{\"x\": \"a.b.c\", \"unicode\": \"caf\\u00e9\"}", "r" },
	};
	struct test_fixture *f = *state;
	char ids[ARRAY_LEN(cases)][SB_MAPSTORE_ID_MAX];
	cJSON *mapping, *got;
	char *root;

	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		assert_non_null(mapping = cJSON_Parse(cases[i].mapping));
		assert_int_equal(sb_mapstore_create(
		                     f->ctx.db, mapping, cases[i].root, ids[i]),
		    SB_OK);
		cJSON_Delete(mapping);
		/* "mp_" and 20 hex digits, each id new */
		assert_int_equal(strlen(ids[i]), 23);
		assert_memory_equal(ids[i], "mp_", 3);
		assert_int_equal(strspn(ids[i] + 3, "0123456789abcdef"), 20);
		for (size_t j = 0; j < i; j++)
			assert_string_not_equal(ids[i], ids[j]);
	}
	assert_int_equal(count_rows(f), ARRAY_LEN(cases));
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		got = POISON_JSON;
		root = POISON_TEXT;
		assert_int_equal(
		    sb_mapstore_get(f->ctx.db, ids[i], &got, &root), SB_OK);
		assert_non_null(mapping = cJSON_Parse(cases[i].mapping));
		assert_true(cJSON_Compare(got, mapping, true));
		cJSON_Delete(mapping);
		if (cases[i].root == NULL)
			assert_null(root);
		else
			assert_string_equal(root, cases[i].root);
		cJSON_Delete(got);
		free(root);
	}
}

static void
test_delete(void **state)
{
	struct test_fixture *f = *state;
	char id[SB_MAPSTORE_ID_MAX], keep[SB_MAPSTORE_ID_MAX];
	cJSON *mapping = cJSON_Parse("{\"a\": \"b\"}"), *got;
	char *root;

	assert_non_null(mapping);
	assert_int_equal(
	    sb_mapstore_create(f->ctx.db, mapping, "items", id), SB_OK);
	assert_int_equal(
	    sb_mapstore_create(f->ctx.db, mapping, NULL, keep), SB_OK);
	cJSON_Delete(mapping);
	assert_int_equal(sb_mapstore_delete(f->ctx.db, id), SB_OK);
	assert_int_equal(count_rows(f), 1);
	got = POISON_JSON;
	root = POISON_TEXT;
	assert_int_equal(
	    sb_mapstore_get(f->ctx.db, id, &got, &root), SB_ERR_NOT_FOUND);
	assert_null(got);
	assert_null(root);
	/* A second delete finds nothing; the other mapping is kept. */
	assert_int_equal(sb_mapstore_delete(f->ctx.db, id), SB_ERR_NOT_FOUND);
	assert_int_equal(sb_mapstore_get(f->ctx.db, keep, &got, &root), SB_OK);
	assert_non_null(got);
	assert_null(root);
	cJSON_Delete(got);
}

static void
test_not_found(void **state)
{
	static const char *const ids[] = { "mp_00000000000000000000", "", "mp_",
		"' OR 1=1 --", "MP_00000000000000000000" };
	struct test_fixture *f = *state;
	char stored[SB_MAPSTORE_ID_MAX], upper[SB_MAPSTORE_ID_MAX];
	cJSON *mapping = cJSON_Parse("{\"a\": \"b\"}"), *got;
	char *root;

	assert_non_null(mapping);
	assert_int_equal(
	    sb_mapstore_create(f->ctx.db, mapping, NULL, stored), SB_OK);
	cJSON_Delete(mapping);
	for (size_t i = 0; i < ARRAY_LEN(ids); i++) {
		got = POISON_JSON;
		root = POISON_TEXT;
		assert_int_equal(
		    sb_mapstore_get(f->ctx.db, ids[i], &got, &root),
		    SB_ERR_NOT_FOUND);
		assert_null(got);
		assert_null(root);
		assert_int_equal(
		    sb_mapstore_delete(f->ctx.db, ids[i]), SB_ERR_NOT_FOUND);
	}
	/* Ids are compared exactly. */
	snprintf(upper, sizeof(upper), "MP_%s", stored + 3);
	assert_int_equal(
	    sb_mapstore_delete(f->ctx.db, upper), SB_ERR_NOT_FOUND);
	assert_int_equal(count_rows(f), 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_roundtrip, test_fixture_setup, test_fixture_teardown),
		cmocka_unit_test_setup_teardown(
		    test_delete, test_fixture_setup, test_fixture_teardown),
		cmocka_unit_test_setup_teardown(
		    test_not_found, test_fixture_setup, test_fixture_teardown),
	};

	return cmocka_run_group_tests_name("mapstore", tests, NULL, NULL);
}
