/*
 * Unit tests for lib/core/err.c: every value of enum sb_err has its own name,
 * and a value outside the enum gets "unknown error" rather than a read
 * past the table.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "sb/core/err.h"

#define TEST_UNKNOWN "unknown error"

/* Each value is named, not "unknown error", and no two share a name. */
static void
test_every_value_named(void **state)
{
	const char *name, *other;

	(void)state;
	for (int i = 0; i < SB_ERR__MAX; i++) {
		name = sb_strerror((enum sb_err)i);
		assert_non_null(name);
		assert_true(name[0] != '\0');
		if (strcmp(name, TEST_UNKNOWN) == 0)
			fail_msg("sb_err %d has no name", i);
		for (int j = 0; j < i; j++) {
			other = sb_strerror((enum sb_err)j);
			if (strcmp(name, other) == 0)
				fail_msg("sb_err %d and %d share \"%s\"", j, i,
				    name);
		}
	}
}

struct name_case {
	enum sb_err rc;
	const char *name;
};

/* A few names callers and logs rely on. */
static void
test_known_names(void **state)
{
	static const struct name_case cases[] = {
		{ SB_OK, "ok" },
		{ SB_ERR_NOT_FOUND, "not found" },
		{ SB_ERR_TOO_LARGE, "too large" },
		{ SB_ERR_CONFIG, "configuration error" },
		{ SB_ERR_STORAGE, "storage unavailable" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_string_equal(sb_strerror(cases[i].rc), cases[i].name);
}

static void
test_out_of_range(void **state)
{
	static const int values[] = { SB_ERR__MAX, SB_ERR__MAX + 1, 1000, -1,
		-1000, INT32_MIN, INT32_MAX };

	(void)state;
	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++)
		assert_string_equal(
		    sb_strerror((enum sb_err)values[i]), TEST_UNKNOWN);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_value_named),
		cmocka_unit_test(test_known_names),
		cmocka_unit_test(test_out_of_range),
	};

	return cmocka_run_group_tests_name("err", tests, NULL, NULL);
}
