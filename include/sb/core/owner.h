/*
 * Lease owners.  A process that leases work (a job, a connection's token
 * refresh) writes its name, "<host>:<pid>:<thread>", as the lease's
 * owner: the threads of one process are different holders.  Another
 * process on the same host can then tell whether the holder still lives,
 * and take over a dead holder's lease at once instead of waiting for it to
 * run out.  A holder on another host, or one whose name does not parse,
 * is never taken for dead: its lease runs out as before.
 */
#ifndef SB_OWNER_H
#define SB_OWNER_H

#include <stdbool.h>

#define SB_OWNER_MAX 64 /* bytes of an owner name, with its NUL */
#define SB_OWNER_HOST_MAX 32 /* bytes of its host part, with its NUL */

/*
 * This thread's owner name, "<host>:<pid>:<thread>" (thread: 0, 1, ... in
 * the order the process's threads first ask); thread-local storage, never
 * NULL.
 */
const char *sb_owner_self(void);

/*
 * True iff owner names a process of this host that no longer exists
 * (kill(pid, 0) fails with ESRCH).  False for a live process, this one, a
 * process of another host and a name of another shape (NULL included; the
 * older "<host>:<pid>" is read too).  Threads live and die with their
 * process, so only the pid is checked.  A pid reused by a new process reads as
 * alive: the lease then runs out as it would have without the check.
 */
bool sb_owner_dead(const char *owner);

#endif
