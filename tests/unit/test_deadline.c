/*
 * Unit tests for lib/core/deadline.c: what is left of a deadline, none,
 * one passed, and the clock moving forward.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <cmocka.h>

#include "sb/core/deadline.h"

static void
test_left(void **state)
{
	int64_t now = sb_deadline_now();

	(void)state;
	assert_true(sb_deadline_left(SB_DEADLINE_NONE) == INT64_MAX);
	assert_false(sb_deadline_passed(SB_DEADLINE_NONE));
	assert_in_range(sb_deadline_left(now + 10000), 9000, 10000);
	assert_false(sb_deadline_passed(now + 10000));
	assert_int_equal(sb_deadline_left(now - 1), 0);
	assert_true(sb_deadline_passed(now - 1));
}

static void
test_clock_moves(void **state)
{
	struct timespec pause = { 0, 20 * 1000000L };
	int64_t before = sb_deadline_now(), deadline = before + 10;

	(void)state;
	nanosleep(&pause, NULL);
	assert_true(sb_deadline_now() - before >= 20);
	assert_true(sb_deadline_passed(deadline));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_left),
		cmocka_unit_test(test_clock_moves),
	};

	return cmocka_run_group_tests_name("deadline", tests, NULL, NULL);
}
