/*
 * Unit tests for lib/core/log.c.  stderr is pointed at a temporary file while
 * sb_log() runs so that each test reads back exactly the lines written:
 * "<time> <level> <component> <request id> <message>", one per event.
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

#include "sb/core/log.h"

#define TEST_CAPTURE_MAX 8192

struct capture {
	FILE *file;
	int saved_fd;
	char text[TEST_CAPTURE_MAX];
	size_t len;
};

static void
capture_begin(struct capture *c)
{
	memset(c, 0, sizeof(*c));
	c->file = tmpfile();
	assert_non_null(c->file);
	fflush(stderr);
	c->saved_fd = dup(STDERR_FILENO);
	assert_true(c->saved_fd >= 0);
	assert_true(dup2(fileno(c->file), STDERR_FILENO) >= 0);
}

/* Restores stderr and reads what was written into c->text. */
static void
capture_end(struct capture *c)
{
	assert_true(dup2(c->saved_fd, STDERR_FILENO) >= 0);
	close(c->saved_fd);
	rewind(c->file);
	c->len = fread(c->text, 1, sizeof(c->text) - 1, c->file);
	c->text[c->len] = '\0';
	fclose(c->file);
}

static size_t
count_lines(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++)
		if (*s == '\n')
			n++;
	return n;
}

/* Restores the default threshold after tests that change it. */
static int
reset_level(void **state)
{
	(void)state;
	sb_log_set_level(SB_LOG_INFO);
	return 0;
}

struct line_case {
	enum sb_log_level level;
	const char *component;
	const char *request_id;
	const char *message;
	const char *want; /* the line after "<time> " */
};

static void
test_line_format(void **state)
{
	static const struct line_case cases[] = {
		{ SB_LOG_INFO, "gateway", "req-1", "started",
		    "info gateway req-1 started\n" },
		{ SB_LOG_WARN, "jobs", NULL, "lease lost",
		    "warn jobs - lease lost\n" },
		{ SB_LOG_ERROR, "db", "", "busy", "error db - busy\n" },
		{ SB_LOG_ERROR, NULL, "r", "x", "error - r x\n" },
		{ SB_LOG_INFO, "a", "b", "two\nlines\r\nhere",
		    "info a b two lines  here\n" },
		{ SB_LOG_INFO, "a", "b", "", "info a b \n" },
	};
	struct capture c;
	const char *sp;

	(void)state;
	sb_log_set_level(SB_LOG_DEBUG);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		capture_begin(&c);
		sb_log(cases[i].level, cases[i].component, cases[i].request_id,
		    "%s", cases[i].message);
		capture_end(&c);
		assert_int_equal(count_lines(c.text), 1);
		/* "2024-01-02T03:04:05.678Z " is 25 characters. */
		sp = strchr(c.text, ' ');
		assert_non_null(sp);
		assert_int_equal(sp - c.text, 24);
		assert_int_equal(c.text[4], '-');
		assert_int_equal(c.text[10], 'T');
		assert_int_equal(c.text[23], 'Z');
		assert_string_equal(sp + 1, cases[i].want);
	}
}

/* Formatting arguments are applied. */
static void
test_format_arguments(void **state)
{
	struct capture c;

	(void)state;
	capture_begin(&c);
	sb_log(SB_LOG_WARN, "work", "id", "job %lld (%s) attempt %d/%d",
	    (long long)42, "mail", 2, 8);
	capture_end(&c);
	assert_non_null(strstr(c.text,
	    " warn work id job 42 (mail) attempt "
	    "2/8\n"));
}

struct threshold_case {
	enum sb_log_level threshold;
	bool written[SB_LOG__MAX]; /* debug, info, warn, error */
};

static void
test_threshold(void **state)
{
	static const struct threshold_case cases[] = {
		{ SB_LOG_DEBUG, { true, true, true, true } },
		{ SB_LOG_INFO, { false, true, true, true } },
		{ SB_LOG_WARN, { false, false, true, true } },
		{ SB_LOG_ERROR, { false, false, false, true } },
	};
	struct capture c;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		sb_log_set_level(cases[i].threshold);
		for (int lv = 0; lv < SB_LOG__MAX; lv++) {
			capture_begin(&c);
			sb_log((enum sb_log_level)lv, "t", NULL, "m");
			capture_end(&c);
			assert_int_equal(
			    count_lines(c.text), cases[i].written[lv] ? 1 : 0);
		}
	}
}

/* An out-of-range level is neither written nor accepted as threshold. */
static void
test_out_of_range_level(void **state)
{
	struct capture c;

	(void)state;
	sb_log_set_level(SB_LOG_WARN);
	sb_log_set_level(SB_LOG__MAX);
	capture_begin(&c);
	sb_log(SB_LOG__MAX, "t", NULL, "never");
	sb_log(SB_LOG_INFO, "t", NULL, "dropped");
	sb_log(SB_LOG_WARN, "t", NULL, "kept");
	capture_end(&c);
	assert_int_equal(count_lines(c.text), 1);
	assert_non_null(strstr(c.text, "kept"));
}

/* A message longer than the line buffer is cut, still one line. */
static void
test_long_message(void **state)
{
	static char big[5000];
	struct capture c;

	(void)state;
	memset(big, 'x', sizeof(big) - 1);
	big[100] = '\n';
	capture_begin(&c);
	sb_log(SB_LOG_ERROR, "t", NULL, "%s", big);
	capture_end(&c);
	assert_int_equal(count_lines(c.text), 1);
	assert_int_equal(c.text[c.len - 1], '\n');
	assert_true(c.len > 1000 && c.len < sizeof(big));
}

struct parse_case {
	const char *name;
	bool ok;
	enum sb_log_level level;
};

static void
test_level_parse(void **state)
{
	static const struct parse_case cases[] = {
		{ "debug", true, SB_LOG_DEBUG },
		{ "info", true, SB_LOG_INFO },
		{ "warn", true, SB_LOG_WARN },
		{ "error", true, SB_LOG_ERROR },
		{ "INFO", true, SB_LOG_INFO },
		{ "Error", true, SB_LOG_ERROR },
		{ "warning", false, SB_LOG__MAX },
		{ "", false, SB_LOG__MAX },
		{ " info", false, SB_LOG__MAX },
		{ "info ", false, SB_LOG__MAX },
		{ "inf", false, SB_LOG__MAX },
		{ "trace", false, SB_LOG__MAX },
		{ NULL, false, SB_LOG__MAX },
	};
	enum sb_log_level got;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		got = SB_LOG__MAX;
		assert_int_equal(
		    sb_log_level_parse(cases[i].name, &got), cases[i].ok);
		assert_int_equal(got, cases[i].level);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_line_format, reset_level),
		cmocka_unit_test_teardown(test_format_arguments, reset_level),
		cmocka_unit_test_teardown(test_threshold, reset_level),
		cmocka_unit_test_teardown(test_out_of_range_level, reset_level),
		cmocka_unit_test_teardown(test_long_message, reset_level),
		cmocka_unit_test_teardown(test_level_parse, reset_level),
	};

	return cmocka_run_group_tests_name("log", tests, NULL, NULL);
}
