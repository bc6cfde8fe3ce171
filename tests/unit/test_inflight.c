/*
 * Unit tests for lib/connect/inflight.c: the cap per key, the slots, the
 * count going back down, and many threads entering and leaving at once.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "sb/connect/inflight.h"

#define TEST_THREADS 8
#define TEST_ROUNDS 2000

static void
test_new_refuses_zero(void **state)
{
	struct sb_inflight *t = (struct sb_inflight *)1;

	(void)state;
	assert_int_equal(sb_inflight_new(0, 4, &t), SB_ERR_INVALID);
	assert_null(t);
	assert_int_equal(sb_inflight_new(2, 0, &t), SB_ERR_INVALID);
	assert_null(t);
	sb_inflight_free(NULL);
}

/* A script of enters and leaves over two slots and a cap of 2. */
static void
test_cap_and_slots(void **state)
{
	static const struct {
		bool enter; /* false: leave */
		const char *key;
		bool want; /* enter's answer */
	} steps[] = {
		{ true, "cn_a", true }, { true, "cn_a", true },
		{ true, "cn_a", false }, /* the cap */
		{ true, "cn_b", true },
		{ true, "cn_c", false }, /* no slot left */
		{ false, "cn_a", false },
		{ true, "cn_a", true }, /* back under the cap */
		{ false, "cn_b", false },
		{ true, "cn_c", true }, /* cn_b's slot is free again */
	};
	struct sb_inflight *t;

	(void)state;
	assert_int_equal(sb_inflight_new(2, 2, &t), SB_OK);
	assert_int_equal(sb_inflight_max(t), 2);
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		if (!steps[i].enter) {
			sb_inflight_leave(t, steps[i].key);
			continue;
		}
		if (sb_inflight_enter(t, steps[i].key) != steps[i].want)
			fail_msg(
			    "step %zu (%s): wrong answer", i, steps[i].key);
	}
	sb_inflight_free(t);
}

static void *
enter_leave(void *arg)
{
	struct sb_inflight *t = arg;

	for (int i = 0; i < TEST_ROUNDS; i++)
		if (sb_inflight_enter(t, "cn_shared"))
			sb_inflight_leave(t, "cn_shared");
	return NULL;
}

/* After many threads entered and left, the count is back at zero. */
static void
test_threads(void **state)
{
	pthread_t threads[TEST_THREADS];
	struct sb_inflight *t;

	(void)state;
	assert_int_equal(sb_inflight_new(3, TEST_THREADS, &t), SB_OK);
	for (int i = 0; i < TEST_THREADS; i++)
		assert_int_equal(
		    pthread_create(&threads[i], NULL, enter_leave, t), 0);
	for (int i = 0; i < TEST_THREADS; i++)
		pthread_join(threads[i], NULL);
	for (int i = 0; i < 3; i++)
		assert_true(sb_inflight_enter(t, "cn_shared"));
	assert_false(sb_inflight_enter(t, "cn_shared"));
	sb_inflight_free(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_new_refuses_zero),
		cmocka_unit_test(test_cap_and_slots),
		cmocka_unit_test(test_threads),
	};

	return cmocka_run_group_tests_name("inflight", tests, NULL, NULL);
}
