/*
 * One deadline per request.  nginx gives up on a responder after its
 * FastCGI read timeout; a request's deadline is that timeout less a named
 * margin (deadline_margin_ms), so that Switchboard's own answer — a 504
 * upstream_timeout, a 503 busy — always reaches the caller before nginx's,
 * and nothing commits after the caller got an answer.  Every wait inside a
 * request (an outbound attempt, a backoff, a Retry-After, a database lock)
 * fits in what is left of it or is not started.
 *
 * Deadlines are points on the monotonic clock in milliseconds; 0 means
 * none (sbctl, tests).
 */
#ifndef SB_DEADLINE_H
#define SB_DEADLINE_H

#include <stdbool.h>
#include <stdint.h>

#define SB_DEADLINE_NONE 0

/* The monotonic clock in milliseconds. */
int64_t sb_deadline_now(void);

/*
 * Milliseconds left before deadline (0 once it passed); INT64_MAX for
 * SB_DEADLINE_NONE.
 */
int64_t sb_deadline_left(int64_t deadline);

/* True if deadline is set and has passed. */
bool sb_deadline_passed(int64_t deadline);

/*
 * Sleeps ms milliseconds (none for ms <= 0), through interruptions by
 * signals.  Callers cut ms to what is left of their deadline.
 */
void sb_deadline_sleep(int64_t ms);

#endif
