/*
 * Lease owners.  A process that leases work (a job, a connection's token
 * refresh) writes its name, "<host>:<pid>", as the lease's owner.  Another
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
 * This process's owner name, "<host>:<pid>"; static, never NULL.  The
 * threads of one process share it: call it once before starting threads.
 */
const char *sb_owner_self(void);

/*
 * True iff owner names a process of this host that no longer exists
 * (kill(pid, 0) fails with ESRCH).  False for a live process, this one, a
 * process of another host and a name that is not "<host>:<pid>" (NULL
 * included).  A pid reused by a new process reads as alive: the lease
 * then runs out as it would have without the check.
 */
bool sb_owner_dead(const char *owner);

#endif
