/*
 * Unit tests for lib/core/arena.c: alignment and zeroing of every allocation,
 * the cap (exactly at it succeeds, one byte past fails), allocations larger
 * than a chunk, reset and clear (AddressSanitizer reports a leaked chunk),
 * and the string helpers.
 */
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sb/core/arena.h"

#define TEST_ALIGN 16
#define TEST_CAP (1024 * 1024)

static bool
all_zero(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != 0)
			return false;
	return true;
}

/* Sizes that straddle the alignment and the chunk size. */
static void
test_alloc_aligned_and_zeroed(void **state)
{
	static const size_t sizes[] = { 0, 1, 7, 15, 16, 17, 31, 33, 100, 4095,
		SB_ARENA_CHUNK - 1, SB_ARENA_CHUNK, SB_ARENA_CHUNK + 1,
		3 * SB_ARENA_CHUNK };
	struct sb_arena a;
	unsigned char *p;

	(void)state;
	sb_arena_init(&a, TEST_CAP);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		p = sb_arena_alloc(&a, sizes[i]);
		assert_non_null(p);
		assert_int_equal((uintptr_t)p % TEST_ALIGN, 0);
		assert_true(all_zero(p, sizes[i]));
		/* Dirty it so a later allocation that reused it shows. */
		memset(p, 0xa5, sizes[i] > 0 ? sizes[i] : 1);
	}
	sb_arena_clear(&a);
}

/* Memory handed out after a reset is zeroed again. */
static void
test_alloc_zeroed_after_reset(void **state)
{
	struct sb_arena a;
	unsigned char *p;

	(void)state;
	sb_arena_init(&a, TEST_CAP);
	p = sb_arena_alloc(&a, 256);
	assert_non_null(p);
	memset(p, 0xff, 256);
	sb_arena_reset(&a);
	p = sb_arena_alloc(&a, 256);
	assert_non_null(p);
	assert_true(all_zero(p, 256));
	sb_arena_clear(&a);
}

/* Distinct allocations do not overlap. */
static void
test_alloc_no_overlap(void **state)
{
	struct sb_arena a;
	unsigned char *p[64];

	(void)state;
	sb_arena_init(&a, TEST_CAP);
	for (size_t i = 0; i < 64; i++) {
		p[i] = sb_arena_alloc(&a, 1000);
		assert_non_null(p[i]);
		memset(p[i], (int)i, 1000);
	}
	for (size_t i = 0; i < 64; i++)
		for (size_t j = 0; j < 1000; j++)
			assert_int_equal(p[i][j], (unsigned char)i);
	sb_arena_clear(&a);
}

struct cap_case {
	size_t cap;
	size_t first; /* allocated first (0: nothing) */
	size_t second;
	bool second_ok;
};

static void
test_alloc_cap(void **state)
{
	static const struct cap_case cases[] = {
		{ 64, 0, 64, true }, /* exactly at the cap */
		{ 64, 0, 65, false }, /* rounds to 80 > 64 */
		{ 64, 32, 32, true },
		{ 64, 32, 33, false },
		{ 64, 64, 1, false }, /* full */
		{ 64, 48, 16, true },
		{ 0, 0, 1, false },
		{ 2 * SB_ARENA_CHUNK, 0, 2 * SB_ARENA_CHUNK, true },
		{ 2 * SB_ARENA_CHUNK, 0, 2 * SB_ARENA_CHUNK + 1, false },
		{ 2 * SB_ARENA_CHUNK, SB_ARENA_CHUNK, SB_ARENA_CHUNK, true },
		{ 64, 0, SIZE_MAX, false },
		{ 64, 0, SIZE_MAX - 8, false },
	};
	struct sb_arena a;
	void *p;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		sb_arena_init(&a, cases[i].cap);
		if (cases[i].first > 0)
			assert_non_null(sb_arena_alloc(&a, cases[i].first));
		p = sb_arena_alloc(&a, cases[i].second);
		if (cases[i].second_ok)
			assert_non_null(p);
		else
			assert_null(p);
		sb_arena_clear(&a);
	}
}

/* After a failed allocation the arena still serves what fits. */
static void
test_alloc_after_cap_failure(void **state)
{
	struct sb_arena a;

	(void)state;
	sb_arena_init(&a, 128);
	assert_non_null(sb_arena_alloc(&a, 64));
	assert_null(sb_arena_alloc(&a, 128));
	assert_non_null(sb_arena_alloc(&a, 64));
	assert_null(sb_arena_alloc(&a, 1));
	assert_int_equal(a.used, 128);
	sb_arena_clear(&a);
}

/* A block bigger than a chunk is usable end to end, and small allocations
 * keep working around it. */
static void
test_alloc_large(void **state)
{
	size_t big = 5 * SB_ARENA_CHUNK + 3;
	unsigned char *small1, *large, *small2;
	struct sb_arena a;

	(void)state;
	sb_arena_init(&a, TEST_CAP);
	small1 = sb_arena_alloc(&a, 10);
	large = sb_arena_alloc(&a, big);
	small2 = sb_arena_alloc(&a, 10);
	assert_non_null(small1);
	assert_non_null(large);
	assert_non_null(small2);
	assert_true(all_zero(large, big));
	memset(large, 0x5a, big);
	memset(small1, 1, 10);
	memset(small2, 2, 10);
	assert_int_equal(large[0], 0x5a);
	assert_int_equal(large[big - 1], 0x5a);
	assert_int_equal(small1[9], 1);
	assert_int_equal(small2[0], 2);
	sb_arena_clear(&a);
}

/* Reset forgets every allocation (used back to 0, the cap available again)
 * and frees all chunks but one; ASan's leak check sees the rest. */
static void
test_reset(void **state)
{
	struct sb_arena a;
	char *s;

	(void)state;
	sb_arena_init(&a, 4 * SB_ARENA_CHUNK);
	for (int round = 0; round < 5; round++) {
		for (int i = 0; i < 4; i++)
			assert_non_null(sb_arena_alloc(&a, SB_ARENA_CHUNK));
		assert_null(sb_arena_alloc(&a, 1));
		sb_arena_reset(&a);
		assert_int_equal(a.used, 0);
		assert_non_null(a.head);
		s = sb_arena_strdup(&a, "still works");
		assert_string_equal(s, "still works");
		sb_arena_reset(&a);
	}
	sb_arena_clear(&a);
}

static void
test_reset_and_clear_empty(void **state)
{
	struct sb_arena a;

	(void)state;
	sb_arena_init(&a, 64);
	sb_arena_reset(&a);
	assert_null(a.head);
	sb_arena_clear(&a);
	assert_null(a.head);
	assert_int_equal(a.used, 0);
}

/* Clear frees everything; the arena may be initialised and used again. */
static void
test_clear_then_reuse(void **state)
{
	struct sb_arena a;

	(void)state;
	sb_arena_init(&a, TEST_CAP);
	assert_non_null(sb_arena_alloc(&a, 3 * SB_ARENA_CHUNK));
	assert_non_null(sb_arena_alloc(&a, 100));
	sb_arena_clear(&a);
	assert_null(a.head);
	assert_int_equal(a.used, 0);
	sb_arena_init(&a, 32);
	assert_non_null(sb_arena_alloc(&a, 32));
	assert_null(sb_arena_alloc(&a, 1));
	sb_arena_clear(&a);
}

struct strndup_case {
	const char *s;
	size_t n;
	const char *want;
};

static void
test_strndup(void **state)
{
	static const struct strndup_case cases[] = {
		{ "hello", 5, "hello" }, { "hello", 3, "hel" },
		{ "hello", 0, "" }, { "", 0, "" },
		{ "a\0b", 3, "a" }, /* bytes copied, string stops at NUL */
	};
	struct sb_arena a;
	char *p;

	(void)state;
	sb_arena_init(&a, TEST_CAP);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		p = sb_arena_strndup(&a, cases[i].s, cases[i].n);
		assert_non_null(p);
		assert_string_equal(p, cases[i].want);
		assert_int_equal(p[cases[i].n], '\0');
		assert_ptr_not_equal(p, cases[i].s);
	}
	assert_null(sb_arena_strndup(&a, NULL, 3));
	assert_null(sb_arena_strndup(&a, "x", SIZE_MAX));
	sb_arena_clear(&a);
}

static void
test_strdup(void **state)
{
	static const char *const inputs[] = { "", "x", "hello world",
		"with\nnewline" };
	struct sb_arena a;
	char *p;

	(void)state;
	sb_arena_init(&a, TEST_CAP);
	for (size_t i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
		p = sb_arena_strdup(&a, inputs[i]);
		assert_non_null(p);
		assert_string_equal(p, inputs[i]);
		assert_ptr_not_equal(p, inputs[i]);
	}
	assert_null(sb_arena_strdup(&a, NULL));
	sb_arena_clear(&a);
}

/* A copy that would pass the cap fails instead of truncating. */
static void
test_strdup_past_cap(void **state)
{
	struct sb_arena a;

	(void)state;
	sb_arena_init(&a, 16);
	assert_non_null(sb_arena_strdup(&a, "fifteen chars!!"));
	sb_arena_reset(&a);
	assert_null(sb_arena_strdup(&a, "sixteen chars!!!"));
	sb_arena_clear(&a);
}

static void
test_printf(void **state)
{
	struct sb_arena a;
	char big[3 * SB_ARENA_CHUNK];
	char *p;

	(void)state;
	sb_arena_init(&a, TEST_CAP);
	p = sb_arena_printf(&a, "%s-%d-%zu", "job", -7, (size_t)42);
	assert_non_null(p);
	assert_string_equal(p, "job--7-42");
	p = sb_arena_printf(&a, "%s", "");
	assert_non_null(p);
	assert_string_equal(p, "");
	memset(big, 'q', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	p = sb_arena_printf(&a, "<%s>", big);
	assert_non_null(p);
	assert_int_equal(strlen(p), sizeof(big) + 1);
	assert_int_equal(p[0], '<');
	assert_int_equal(p[sizeof(big)], '>');
	sb_arena_clear(&a);
}

static void
test_printf_past_cap(void **state)
{
	struct sb_arena a;

	(void)state;
	sb_arena_init(&a, 16);
	assert_null(sb_arena_printf(&a, "%0*d", 16, 1));
	assert_non_null(sb_arena_printf(&a, "%0*d", 15, 1));
	sb_arena_clear(&a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_alloc_aligned_and_zeroed),
		cmocka_unit_test(test_alloc_zeroed_after_reset),
		cmocka_unit_test(test_alloc_no_overlap),
		cmocka_unit_test(test_alloc_cap),
		cmocka_unit_test(test_alloc_after_cap_failure),
		cmocka_unit_test(test_alloc_large),
		cmocka_unit_test(test_reset),
		cmocka_unit_test(test_reset_and_clear_empty),
		cmocka_unit_test(test_clear_then_reuse),
		cmocka_unit_test(test_strndup),
		cmocka_unit_test(test_strdup),
		cmocka_unit_test(test_strdup_past_cap),
		cmocka_unit_test(test_printf),
		cmocka_unit_test(test_printf_past_cap),
	};

	return cmocka_run_group_tests_name("arena", tests, NULL, NULL);
}
