/*
 * Unit tests for lib/core/signature.c: the signature against one computed
 * by openssl (`printf '%s.%s' 1700000000 '{"a":1}' | openssl dgst -sha256
 * -hmac whsec_test`), the header's strict form, the 5-minute tolerance
 * both ways, a wrong secret and an altered body, table-driven.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "sb/core/signature.h"

#define LEN(a) (sizeof(a) / sizeof((a)[0]))
#define SECRET "whsec_test"
#define BODY "{\"a\":1}"
#define T 1700000000
#define HEX "38877139021993b830af32feea6e18a8da83eb2f6e49ee50bd9e4cf4ca4d3789"

static void
test_signature_hex(void **state)
{
	char hex[SB_SIGNATURE_HEX], header[SB_SIGNATURE_HEADER_MAX];

	(void)state;
	sb_signature_hex(SECRET, T, BODY, strlen(BODY), hex);
	assert_string_equal(hex, HEX);
	sb_signature_header(SECRET, T, BODY, strlen(BODY), header);
	assert_string_equal(header, "t=1700000000,v1=" HEX);
}

struct signature_case {
	const char *header;
	const char *secret;
	const char *body;
	int64_t now;
	bool valid;
};

static const struct signature_case cases[] = {
	{ "t=1700000000,v1=" HEX, SECRET, BODY, T, true },
	{ "t=1700000000,v1=" HEX, SECRET, BODY, T + 300, true },
	{ "t=1700000000,v1=" HEX, SECRET, BODY, T - 300, true },
	{ "t=1700000000,v1=" HEX, SECRET, BODY, T + 301, false }, /* old */
	{ "t=1700000000,v1=" HEX, SECRET, BODY, T - 301, false }, /* future */
	{ "t=1700000000,v1=" HEX, "other", BODY, T, false },
	{ "t=1700000000,v1=" HEX, SECRET, "{\"a\":2}", T, false },
	{ "t=1700000001,v1=" HEX, SECRET, BODY, T, false }, /* t is signed */
	{ "t=1700000000,v1=" HEX "0", SECRET, BODY, T, false },
	{ "t=1700000000,v1=" HEX ",v0=x", SECRET, BODY, T, false },
	{ "t=1700000000, v1=" HEX, SECRET, BODY, T, false },
	{ "v1=" HEX ",t=1700000000", SECRET, BODY, T, false },
	{ "t=,v1=" HEX, SECRET, BODY, T, false },
	/* a leading zero: the same number, another text, refused */
	{ "t=01700000000,v1=" HEX, SECRET, BODY, T, false },
	{ "t=0,v1=" HEX, SECRET, BODY, 0, false },
	{ "t=-1700000000,v1=" HEX, SECRET, BODY, T, false },
	{ "t=99999999999999999999,v1=" HEX, SECRET, BODY, T, false },
	{ "t=1700000000,v1=" HEX, "", BODY, T, false },
	{ "t=1700000000,v1=" HEX, NULL, BODY, T, false },
	{ NULL, SECRET, BODY, T, false },
	{ "", SECRET, BODY, T, false },
};

static void
test_signature_valid(void **state)
{
	(void)state;
	for (size_t i = 0; i < LEN(cases); i++) {
		const struct signature_case *c = &cases[i];
		bool got = sb_signature_valid(c->header, c->secret, c->body,
		    strlen(c->body), c->now, SB_SIGNATURE_TOLERANCE_S);

		if (got != c->valid)
			fail_msg("case %zu (%s): got %d", i,
			    c->header != NULL ? c->header : "NULL", got);
	}
}

/* The uppercase hex of the right signature is refused: v1 is lowercase. */
static void
test_signature_case(void **state)
{
	char header[SB_SIGNATURE_HEADER_MAX] = "t=1700000000,v1=" HEX;

	(void)state;
	for (char *p = header + 16; *p != '\0'; p++)
		if (*p >= 'a' && *p <= 'f')
			*p = (char)(*p - 'a' + 'A');
	assert_false(sb_signature_valid(
	    header, SECRET, BODY, strlen(BODY), T, SB_SIGNATURE_TOLERANCE_S));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_signature_hex),
		cmocka_unit_test(test_signature_valid),
		cmocka_unit_test(test_signature_case),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
