/*
 * Unit tests for lib/client/link.c: the Link header forms RFC 8288 allows
 * (and RFC 9110's list rule), and the malformed ones, table-driven.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "sb/client/link.h"

#define LEN(a) (sizeof(a) / sizeof((a)[0]))
#define OUT_MAX 64

static const struct {
	const char *value;
	enum sb_err rc;
	const char *target; /* for SB_OK */
} cases[] = {
	{ "<https://a.example/u?after=1>; rel=\"next\"", SB_OK,
	    "https://a.example/u?after=1" },
	/* two links, as one header or two joined with ", " */
	{ "<https://a/s>; rel=\"self\", <https://a/n>; rel=\"next\"", SB_OK,
	    "https://a/n" },
	{ "<https://a/n>; rel=\"next\", <https://a/s>; rel=\"self\"", SB_OK,
	    "https://a/n" },
	/* token form, no white space, white space around ';' and '=' */
	{ "<https://a/n>; rel=next", SB_OK, "https://a/n" },
	{ "<https://a/n>;rel=next", SB_OK, "https://a/n" },
	{ "<https://a/n> ;\trel = next", SB_OK, "https://a/n" },
	/* names and relation types without regard to case */
	{ "<https://a/n>; REL=\"NEXT\"", SB_OK, "https://a/n" },
	/* several relation types in one rel */
	{ "<https://a/n>; rel=\"prev next\"", SB_OK, "https://a/n" },
	{ "<https://a/n>; rel=\"  next  last \"", SB_OK, "https://a/n" },
	/* ',' and ';' inside the target are the target's */
	{ "<https://a/x,y;z>; rel=\"next\"", SB_OK, "https://a/x,y;z" },
	/* other parameters, quoted strings with escapes, commas, rel= */
	{ "<https://a/n>; title=\"x \\\"y\\\", z\"; rel=next", SB_OK,
	    "https://a/n" },
	{ "<https://a/n>; anchor=\"#foo\"; type=\"text/html\"; rel=next", SB_OK,
	    "https://a/n" },
	{ "<https://a/s>; title=\"a, b; rel=next\"; rel=\"self\"",
	    SB_ERR_NOT_FOUND, NULL },
	/* only a link's first rel counts (section 3.3) */
	{ "<https://a/n>; rel=\"self\"; rel=\"next\"", SB_ERR_NOT_FOUND, NULL },
	{ "<https://a/n>; rel=\"next\"; rel=\"self\"", SB_OK, "https://a/n" },
	/* empty list elements */
	{ ", ,<https://a/n>; rel=next,, ", SB_OK, "https://a/n" },
	/* relative references stay as written */
	{ "</okta/a/api/v1/users?after=2>; rel=\"next\"", SB_OK,
	    "/okta/a/api/v1/users?after=2" },
	{ "<>; rel=next", SB_OK, "" },
	/* the first of two next links */
	{ "<https://a/1>; rel=next, <https://a/2>; rel=next", SB_OK,
	    "https://a/1" },
	/* no next */
	{ "<https://a/n>; rel=\"nextpage\"", SB_ERR_NOT_FOUND, NULL },
	{ "<https://a/n>; rel", SB_ERR_NOT_FOUND, NULL },
	{ "<https://a/n>", SB_ERR_NOT_FOUND, NULL },
	{ "", SB_ERR_NOT_FOUND, NULL },
	{ NULL, SB_ERR_NOT_FOUND, NULL },
	/* malformed, wherever it is */
	{ "https://a/n; rel=next", SB_ERR_INVALID, NULL },
	{ "<https://a/n; rel=next", SB_ERR_INVALID, NULL },
	{ "<https://a/n>; rel=\"next", SB_ERR_INVALID, NULL },
	{ "<https://a/n> rel=next", SB_ERR_INVALID, NULL },
	{ "<https://a/n>; =next", SB_ERR_INVALID, NULL },
	{ "<https://a/n>; rel=", SB_ERR_INVALID, NULL },
	{ "<https://a /n>; rel=next", SB_ERR_INVALID, NULL },
	{ "<https://a/n>; rel=next <https://a/m>", SB_ERR_INVALID, NULL },
	{ "<https://a/n>; rel=next, junk", SB_ERR_INVALID, NULL },
	{ "<https://a/n>; title=\"a\rb\"; rel=next", SB_ERR_INVALID, NULL },
	/* the target must fit */
	{ "<https://a.example/a/very/long/path/that/does/not/fit/in/sixty/"
	  "four/bytes>; rel=next",
	    SB_ERR_TOO_LARGE, NULL },
};

static void
test_link_find(void **state)
{
	char out[OUT_MAX];
	enum sb_err rc;

	(void)state;
	for (size_t i = 0; i < LEN(cases); i++) {
		memset(out, 'x', sizeof(out));
		rc = sb_link_find(cases[i].value, "next", out, sizeof(out));
		if (rc != cases[i].rc)
			fail_msg("case %zu: rc %d, want %d", i, (int)rc,
			    (int)cases[i].rc);
		if (rc == SB_OK && strcmp(out, cases[i].target) != 0)
			fail_msg("case %zu: target '%s'", i, out);
		if (rc != SB_OK && out[0] != '\0')
			fail_msg("case %zu: out not emptied", i);
	}
}

/* Values past the caps are refused, not truncated. */
static void
test_link_caps(void **state)
{
	static char value[SB_LINK_VALUE_MAX + 64];
	char out[OUT_MAX];
	size_t n;

	(void)state;
	memset(value, ' ', SB_LINK_VALUE_MAX + 1);
	value[SB_LINK_VALUE_MAX + 1] = '\0';
	assert_int_equal(
	    sb_link_find(value, "next", out, sizeof(out)), SB_ERR_TOO_LARGE);
	n = (size_t)snprintf(value, sizeof(value), "<https://a/n>; title=\"");
	memset(value + n, 'a', SB_LINK_PARAM_MAX);
	snprintf(value + n + SB_LINK_PARAM_MAX,
	    sizeof(value) - n - SB_LINK_PARAM_MAX, "\"; rel=next");
	assert_int_equal(
	    sb_link_find(value, "next", out, sizeof(out)), SB_ERR_TOO_LARGE);
	assert_int_equal(
	    sb_link_find("<https://a/n>; rel=next", "next", out, 0),
	    SB_ERR_INVALID);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_link_find),
		cmocka_unit_test(test_link_caps),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
