/*
 * Unit tests for lib/mapstore.c: stored mappings are created under random
 * ids, read back as stored (with or without a root), deleted once, and
 * unknown ids are "not found".  Each test gets a fresh migrated database in
 * a mkdtemp directory; run from the repository root.
 */
#include <dirent.h>
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

#include "sb/mapstore.h"

#define TEST_PATH_MAX 256
#define TEST_MIGRATIONS "db/migrations"
#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define POISON_JSON ((cJSON *)(void *)&poison_target)
#define POISON_TEXT ((char *)&poison_target)

static char poison_target;

struct fixture {
	char dir[TEST_PATH_MAX];
	char path[TEST_PATH_MAX + 16];
	struct sb_ctx ctx;
};

static void
remove_dir(const char *path)
{
	char child[TEST_PATH_MAX + 256];
	struct dirent *entry;
	DIR *d;

	if ((d = opendir(path)) == NULL)
		return;
	while ((entry = readdir(d)) != NULL)
		if (snprintf(child, sizeof(child), "%s/%s", path,
		        entry->d_name) < (int)sizeof(child))
			unlink(child);
	closedir(d);
	rmdir(path);
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/sb_test_mapstore.XXXXXX");
	if (mkdtemp(f->dir) == NULL) {
		free(f);
		return -1;
	}
	snprintf(f->path, sizeof(f->path), "%s/test.db", f->dir);
	if (sb_db_open(f->path, 1000, &f->ctx.db) != SB_OK ||
	    sb_db_migrate(f->ctx.db, TEST_MIGRATIONS, NULL) != SB_OK) {
		sb_db_close(f->ctx.db);
		remove_dir(f->dir);
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

	sb_db_close(f->ctx.db);
	remove_dir(f->dir);
	free(f);
	return 0;
}

static int64_t
count_rows(struct fixture *f)
{
	sqlite3_stmt *st = NULL;
	int64_t n;

	assert_int_equal(sqlite3_prepare_v2(sb_db_handle(f->ctx.db),
	                     "SELECT count(*) FROM mappings", -1, &st, NULL),
	    SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
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
	struct fixture *f = *state;
	char ids[ARRAY_LEN(cases)][SB_MAPSTORE_ID_MAX];
	cJSON *mapping, *got;
	char *root;

	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		assert_non_null(mapping = cJSON_Parse(cases[i].mapping));
		assert_int_equal(
		    sb_mapstore_create(&f->ctx, mapping, cases[i].root, ids[i]),
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
		    sb_mapstore_get(&f->ctx, ids[i], &got, &root), SB_OK);
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
	struct fixture *f = *state;
	char id[SB_MAPSTORE_ID_MAX], keep[SB_MAPSTORE_ID_MAX];
	cJSON *mapping = cJSON_Parse("{\"a\": \"b\"}"), *got;
	char *root;

	assert_non_null(mapping);
	assert_int_equal(
	    sb_mapstore_create(&f->ctx, mapping, "items", id), SB_OK);
	assert_int_equal(
	    sb_mapstore_create(&f->ctx, mapping, NULL, keep), SB_OK);
	cJSON_Delete(mapping);
	assert_int_equal(sb_mapstore_delete(&f->ctx, id), SB_OK);
	assert_int_equal(count_rows(f), 1);
	got = POISON_JSON;
	root = POISON_TEXT;
	assert_int_equal(
	    sb_mapstore_get(&f->ctx, id, &got, &root), SB_ERR_NOT_FOUND);
	assert_null(got);
	assert_null(root);
	/* A second delete finds nothing; the other mapping is kept. */
	assert_int_equal(sb_mapstore_delete(&f->ctx, id), SB_ERR_NOT_FOUND);
	assert_int_equal(sb_mapstore_get(&f->ctx, keep, &got, &root), SB_OK);
	assert_non_null(got);
	assert_null(root);
	cJSON_Delete(got);
}

static void
test_not_found(void **state)
{
	static const char *const ids[] = { "mp_00000000000000000000", "", "mp_",
		"' OR 1=1 --", "MP_00000000000000000000" };
	struct fixture *f = *state;
	char stored[SB_MAPSTORE_ID_MAX], upper[SB_MAPSTORE_ID_MAX];
	cJSON *mapping = cJSON_Parse("{\"a\": \"b\"}"), *got;
	char *root;

	assert_non_null(mapping);
	assert_int_equal(
	    sb_mapstore_create(&f->ctx, mapping, NULL, stored), SB_OK);
	cJSON_Delete(mapping);
	for (size_t i = 0; i < ARRAY_LEN(ids); i++) {
		got = POISON_JSON;
		root = POISON_TEXT;
		assert_int_equal(sb_mapstore_get(&f->ctx, ids[i], &got, &root),
		    SB_ERR_NOT_FOUND);
		assert_null(got);
		assert_null(root);
		assert_int_equal(
		    sb_mapstore_delete(&f->ctx, ids[i]), SB_ERR_NOT_FOUND);
	}
	/* Ids are compared exactly. */
	snprintf(upper, sizeof(upper), "MP_%s", stored + 3);
	assert_int_equal(sb_mapstore_delete(&f->ctx, upper), SB_ERR_NOT_FOUND);
	assert_int_equal(count_rows(f), 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_roundtrip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_delete, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_not_found, setup, teardown),
	};

	return cmocka_run_group_tests_name("mapstore", tests, NULL, NULL);
}
