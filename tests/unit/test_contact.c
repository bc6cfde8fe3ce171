/*
 * Unit tests for lib/core/contact.c: names, emails and phones that pass
 * and that do not, table-driven.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "sb/core/contact.h"

#define LEN(a) (sizeof(a) / sizeof((a)[0]))

struct contact_case {
	const char *value;
	bool valid;
};

static const struct contact_case names[] = {
	{ "Ada Lovelace", true },
	{ "X", true },
	{ "Zoë Ŝ", true },
	{ "", false },
	{ "   ", false },
	{ "tab\there", false },
	{ "line\nbreak", false },
};

static const struct contact_case emails[] = {
	{ "ada@example.com", true },
	{ "a.b+tag@mail.example.co.uk", true },
	{ "o'brien!#$%&*/=?^_`{|}~-@x-y.example", true },
	{ "UPPER@EXAMPLE.COM", true },
	{ "", false },
	{ "ada", false },
	{ "ada@", false },
	{ "@example.com", false },
	{ "ada@example", false }, /* one label */
	{ "ada@@example.com", false },
	{ "a@b@example.com", false },
	{ ".ada@example.com", false },
	{ "ada.@example.com", false },
	{ "a..da@example.com", false },
	{ "ada@-example.com", false },
	{ "ada@example-.com", false },
	{ "ada@example..com", false },
	{ "ada@example.com.", false },
	{ "ada lovelace@example.com", false },
	{ "\"ada\"@example.com", false },
	{ "ada@[127.0.0.1]", false },
	{ "ada@exa_mple.com", false },
};

static const struct contact_case phones[] = {
	{ "+44 20 7946 0958", true },
	{ "(555) 123-4567", true },
	{ "555.123.4567", true },
	{ "1234567", true }, /* 7 digits */
	{ "+123456789012345", true }, /* 15 digits */
	{ "", false },
	{ "+", false },
	{ "123456", false }, /* 6 digits */
	{ "+1234567890123456", false }, /* 16 digits */
	{ "++44 20 7946 0958", false },
	{ "44+20 7946 0958", false },
	{ "-555 123 4567", false },
	{ "555 123 4567 ext 2", false },
	{ "555-CALL-NOW", false },
};

static void
contact_cases(
    const struct contact_case *cases, size_t n, bool (*valid)(const char *))
{
	for (size_t i = 0; i < n; i++) {
		if (valid(cases[i].value) != cases[i].valid)
			fail_msg("'%s' should be %s", cases[i].value,
			    cases[i].valid ? "valid" : "invalid");
	}
	assert_false(valid(NULL));
}

static void
test_contact_name(void **state)
{
	(void)state;
	contact_cases(names, LEN(names), sb_contact_name_valid);
}

static void
test_contact_email(void **state)
{
	(void)state;
	contact_cases(emails, LEN(emails), sb_contact_email_valid);
}

static void
test_contact_phone(void **state)
{
	(void)state;
	contact_cases(phones, LEN(phones), sb_contact_phone_valid);
}

/* The length limits of RFC 5321 and of a name. */
static void
test_contact_lengths(void **state)
{
	char buf[400];

	(void)state;
	memset(buf, 'a', 64);
	memcpy(buf + 64, "@example.com", sizeof("@example.com"));
	assert_true(sb_contact_email_valid(buf));
	memset(buf, 'a', 65);
	memcpy(buf + 65, "@example.com", sizeof("@example.com"));
	assert_false(sb_contact_email_valid(buf));
	/* a 63-character label passes, a 64-character one does not */
	memcpy(buf, "a@", 2);
	memset(buf + 2, 'b', 63);
	memcpy(buf + 65, ".com", sizeof(".com"));
	assert_true(sb_contact_email_valid(buf));
	memset(buf + 2, 'b', 64);
	memcpy(buf + 66, ".com", sizeof(".com"));
	assert_false(sb_contact_email_valid(buf));
	/* past 254 bytes in all */
	memcpy(buf, "a@", 2);
	for (size_t i = 0; i < 4; i++) {
		memset(buf + 2 + i * 63, 'c', 62);
		buf[2 + i * 63 + 62] = '.';
	}
	memcpy(buf + 2 + 4 * 63, "com", sizeof("com"));
	assert_true(strlen(buf) > SB_CONTACT_EMAIL_MAX);
	assert_false(sb_contact_email_valid(buf));
	memset(buf, 'n', SB_CONTACT_NAME_MAX);
	buf[SB_CONTACT_NAME_MAX] = '\0';
	assert_true(sb_contact_name_valid(buf));
	buf[SB_CONTACT_NAME_MAX] = 'n';
	buf[SB_CONTACT_NAME_MAX + 1] = '\0';
	assert_false(sb_contact_name_valid(buf));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_contact_name),
		cmocka_unit_test(test_contact_email),
		cmocka_unit_test(test_contact_phone),
		cmocka_unit_test(test_contact_lengths),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
