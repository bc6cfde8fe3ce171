/*
 * Lease owners and their liveness (see include/sb/core/owner.h).  The name
 * is made once per thread: the threads of one process are told apart by
 * an index handed out in the order they first ask; a forked child that
 * leases gets its own, since the pid it holds is checked against getpid().
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "sb/core/owner.h"

/*
 * The host part of owner names: gethostname(), cut to fit; asked once per
 * thread, since a lease look-up checks it for every leased job it meets.
 */
static void
owner_host(char host[SB_OWNER_HOST_MAX])
{
	static _Thread_local char cached[SB_OWNER_HOST_MAX];

	if (cached[0] == '\0') {
		if (gethostname(cached, SB_OWNER_HOST_MAX - 1) != 0)
			snprintf(cached, SB_OWNER_HOST_MAX, "host");
		cached[SB_OWNER_HOST_MAX - 1] = '\0';
	}
	memcpy(host, cached, SB_OWNER_HOST_MAX);
}

/* The next thread index of this process. */
static atomic_int owner_next_thread;

const char *
sb_owner_self(void)
{
	static _Thread_local char owner[SB_OWNER_MAX];
	static _Thread_local pid_t made_for;
	char host[SB_OWNER_HOST_MAX];

	if (owner[0] == '\0' || made_for != getpid()) {
		owner_host(host);
		made_for = getpid();
		snprintf(owner, sizeof(owner), "%s:%ld:%d", host,
		    (long)made_for, atomic_fetch_add(&owner_next_thread, 1));
	}
	return owner;
}

/*
 * The pid of "<this host>:<pid>:<thread>" (or the older
 * "<this host>:<pid>"), or 0 for another host or no such shape.
 */
static pid_t
owner_local_pid(const char *owner)
{
	const char *colon = owner != NULL ? strchr(owner, ':') : NULL;
	char host[SB_OWNER_HOST_MAX], *end;
	long pid, thread;

	if (colon == NULL)
		return 0;
	owner_host(host);
	if ((size_t)(colon - owner) != strlen(host) ||
	    strncmp(owner, host, (size_t)(colon - owner)) != 0 ||
	    !isdigit((unsigned char)colon[1]))
		return 0;
	errno = 0;
	pid = strtol(colon + 1, &end, 10);
	if (errno != 0 || pid <= 0 || pid > INT_MAX)
		return 0;
	if (*end == ':') {
		colon = end;
		if (!isdigit((unsigned char)colon[1]))
			return 0;
		thread = strtol(colon + 1, &end, 10);
		if (errno != 0 || thread < 0)
			return 0;
	}
	return *end == '\0' ? (pid_t)pid : 0;
}

bool
sb_owner_dead(const char *owner)
{
	pid_t pid = owner_local_pid(owner);

	if (pid == 0 || pid == getpid())
		return false;
	return kill(pid, 0) == -1 && errno == ESRCH;
}
