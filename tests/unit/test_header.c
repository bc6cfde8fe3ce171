/*
 * Unit tests for lib/core/header.c: which text may go into a header, and
 * the bearer token of an Authorization header, both table-driven.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "sb/core/header.h"

#define LEN(a) (sizeof(a) / sizeof((a)[0]))

static void
test_header_safe(void **state)
{
	static const struct {
		const char *s;
		bool safe;
	} cases[] = {
		{ "application/json", true },
		{ "", true },
		{ "tab\tis fine", true },
		{ "a\rb", false },
		{ "a\nb", false },
		{ "value\r\nX-Injected: 1", false },
		{ "\n", false },
		{ NULL, false },
	};

	(void)state;
	for (size_t i = 0; i < LEN(cases); i++)
		if (sb_header_safe(cases[i].s) != cases[i].safe)
			fail_msg("case %zu: expected %d", i, cases[i].safe);
}

static void
test_bearer(void **state)
{
	static const struct {
		const char *authorization;
		const char *want; /* NULL: no token */
	} cases[] = {
		{ "Bearer x", "x" },
		{ "bearer x", "x" },
		{ "BEARER x", "x" },
		{ "Bearer   x", "x" },
		{ "Bearer cn_0123.sbc_abc-_", "cn_0123.sbc_abc-_" },
		{ "Basic x", NULL },
		{ "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==", NULL },
		{ "Bearer ", NULL },
		{ "Bearer    ", NULL },
		{ "Bearer", NULL },
		{ "Bearerx", NULL },
		{ "Bearer:x", NULL },
		{ " Bearer x", NULL },
		{ "x", NULL },
		{ "", NULL },
		{ NULL, NULL },
	};
	const char *got;

	(void)state;
	for (size_t i = 0; i < LEN(cases); i++) {
		got = sb_header_bearer(cases[i].authorization);
		if (cases[i].want == NULL && got != NULL)
			fail_msg("case %zu: '%s' gave '%s'", i,
			    cases[i].authorization, got);
		if (cases[i].want != NULL &&
		    (got == NULL || strcmp(got, cases[i].want) != 0))
			fail_msg("case %zu: '%s' gave '%s', want '%s'", i,
			    cases[i].authorization, got != NULL ? got : "NULL",
			    cases[i].want);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_header_safe),
		cmocka_unit_test(test_bearer),
	};

	return cmocka_run_group_tests_name("header", tests, NULL, NULL);
}
