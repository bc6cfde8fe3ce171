/*
 * Deadlines on the monotonic clock (see include/sb/core/deadline.h).
 */
#include <errno.h>
#include <time.h>

#include "sb/core/deadline.h"

int64_t
sb_deadline_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
sb_deadline_left(int64_t deadline)
{
	int64_t left;

	if (deadline == SB_DEADLINE_NONE)
		return INT64_MAX;
	left = deadline - sb_deadline_now();
	return left > 0 ? left : 0;
}

bool
sb_deadline_passed(int64_t deadline)
{
	return deadline != SB_DEADLINE_NONE && sb_deadline_left(deadline) == 0;
}

void
sb_deadline_sleep(int64_t ms)
{
	struct timespec left;

	if (ms <= 0)
		return;
	left.tv_sec = (time_t)(ms / 1000);
	left.tv_nsec = (long)(ms % 1000) * 1000000L;
	while (nanosleep(&left, &left) == -1 && errno == EINTR)
		continue;
}
