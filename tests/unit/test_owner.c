/*
 * Unit tests for lib/core/owner.c: this process's owner name, and which
 * owner names read as dead (table-driven): only a process of this host
 * that no longer exists; never this process, a live one, one of another
 * host or a name that does not parse.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "sb/core/owner.h"
#include "support.h"

static void
test_self(void **state)
{
	char host[256] = "", want[SB_OWNER_MAX + 300];
	const char *owner = sb_owner_self(), *colon;

	(void)state;
	assert_ptr_equal(sb_owner_self(), owner);
	assert_non_null(colon = strchr(owner, ':'));
	snprintf(want, sizeof(want), ":%ld:", (long)getpid());
	assert_memory_equal(colon, want, strlen(want));
	/* The host part is the host name, cut to SB_OWNER_HOST_MAX - 1. */
	assert_int_equal(gethostname(host, sizeof(host) - 1), 0);
	host[SB_OWNER_HOST_MAX - 1] = '\0';
	assert_int_equal((size_t)(colon - owner), strlen(host));
	assert_memory_equal(owner, host, strlen(host));
	assert_true(strlen(owner) < SB_OWNER_MAX);
}

static void
test_dead_by_kind(void **state)
{
	static const bool dead[TEST_OWNER__MAX] = {
		[TEST_OWNER_SELF] = false,
		[TEST_OWNER_LIVE] = false,
		[TEST_OWNER_DEAD] = true,
		[TEST_OWNER_OTHER_HOST] = false,
	};
	char name[SB_OWNER_MAX];

	(void)state;
	for (int k = 0; k < TEST_OWNER__MAX; k++) {
		test_owner_name((enum test_owner_kind)k, name, sizeof(name));
		if (sb_owner_dead(name) != dead[k])
			fail_msg("kind %d (%s): dead %d", k, name, !dead[k]);
	}
}

static void *
other_thread_name(void *out)
{
	snprintf(out, SB_OWNER_MAX, "%s", sb_owner_self());
	return NULL;
}

/* Two threads of one process are two holders: same host and pid, another
 * thread index, and neither is dead to the other. */
static void
test_threads_differ(void **state)
{
	char other[SB_OWNER_MAX];
	const char *self = sb_owner_self();
	size_t prefix = (size_t)(strrchr(self, ':') - self);
	pthread_t t;

	(void)state;
	assert_int_equal(pthread_create(&t, NULL, other_thread_name, other), 0);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_string_not_equal(other, self);
	assert_memory_equal(other, self, prefix + 1);
	assert_false(sb_owner_dead(other));
}

/* Names that do not parse are never dead, whatever follows the host. */
static void
test_malformed_never_dead(void **state)
{
	static const char *const suffixes[] = { "", ":", ":abc", ":-5", ":0",
		":12x", ": 12", ":+12", ":12: 1", ":99999999999999999999",
		":+" };
	char host[SB_OWNER_HOST_MAX + 4], name[SB_OWNER_MAX + 32];
	const char *self = sb_owner_self();

	(void)state;
	assert_false(sb_owner_dead(NULL));
	assert_false(sb_owner_dead(""));
	assert_false(sb_owner_dead("nocolon"));
	snprintf(
	    host, sizeof(host), "%.*s", (int)(strchr(self, ':') - self), self);
	for (size_t i = 0; i < ARRAY_LEN(suffixes); i++) {
		snprintf(name, sizeof(name), "%s%s", host, suffixes[i]);
		if (sb_owner_dead(name))
			fail_msg("'%s' read as dead", name);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_self),
		cmocka_unit_test(test_dead_by_kind),
		cmocka_unit_test(test_threads_differ),
		cmocka_unit_test(test_malformed_never_dead),
	};

	return cmocka_run_group_tests_name("owner", tests, NULL, NULL);
}
