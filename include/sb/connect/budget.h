/*
 * Each connection's provider rate budget: the window's limit, what is left
 * of it and when it resets, read from the provider's rate-limit headers
 * (named in etc/providers.json) and kept per connection in the table
 * connection_budgets.  The call path (lib/connect/call_throttle.c) asks
 * the budget before each call whether to go, to slow down or to refuse,
 * and after a 429 how long to wait; docs/throttling-and-retries.md says
 * why the numbers are what they are.
 *
 * The reset is measured against the answer's Date, as Okta's SDKs do: the
 * provider's reset minus the provider's clock is a duration, which is
 * added to our clock.  A skewed clock on either side does no harm, and as
 * Date is whole seconds (rounded down) the reset is never seen early.
 *
 * The decisions are pure functions of a budget, the clock and what is
 * left of the request's deadline, so that the unit tests can drive them;
 * every SQL statement of the module is in lib/connect/budget.c.
 */
#ifndef SB_BUDGET_H
#define SB_BUDGET_H

#include <stdbool.h>
#include <stdint.h>

#include "sb/client/http.h"
#include "sb/client/provider.h"
#include "sb/core/err.h"
#include "sb/store/db.h"

/* The longest wait for a provider's window to reset (after its 429, or
 * before a call when the last seen budget is spent); a longer one is not
 * waited out: the caller gets the 429 with Retry-After. */
#define SB_BUDGET_WAIT_MAX_MS 10000
/* The longest pause that pacing puts before one call. */
#define SB_BUDGET_PACE_MAX_MS 2000
/* Low means at most this percentage of the limit is left ... */
#define SB_BUDGET_LOW_PERCENT 10
/* ... or at most this many calls, whichever is more. */
#define SB_BUDGET_LOW_MIN 2
/* Random extra wait after a reset, so that waiting callers spread out. */
#define SB_BUDGET_JITTER_MAX_MS 250
/* A wait is made only if this much of the deadline is left after it for
 * the call itself. */
#define SB_BUDGET_ATTEMPT_MIN_MS 500
/* How long a budget write may wait for the database lock: the budget is a
 * hint, never worth holding a call up. */
#define SB_BUDGET_WRITE_WAIT_MS 50
/* Retry-After when a 429 says nothing of when to come back. */
#define SB_BUDGET_RETRY_AFTER_DEFAULT_S 1
/* A remaining count is stored again only when it is low (twice the low
 * mark); above it only a new window or limit is written. */
#define SB_BUDGET_WATCH_FACTOR 2

/* One connection's budget; -1 where the provider did not say. */
struct sb_budget {
	int64_t limit; /* calls per window */
	int64_t remaining; /* calls left in the window */
	int64_t reset_at_ms; /* when the window resets, our epoch ms */
};

enum sb_budget_action {
	SB_BUDGET_GO, /* call now */
	SB_BUDGET_WAIT, /* sleep wait_ms, then call */
	SB_BUDGET_REFUSE, /* answer 429 with retry_after_s, call nothing */
};

struct sb_budget_decision {
	enum sb_budget_action action;
	int64_t wait_ms;
	long retry_after_s; /* >= 1 */
};

/*
 * Reads provider's rate-limit headers from resp into *out, the reset put on
 * our clock: now_ms (our epoch ms) plus the reset less the answer's Date
 * (an epoch reset) or the reset itself (a delta, in seconds or, with
 * provider->rate_limit_reset_ms, milliseconds).  True if remaining and
 * reset both parse (limit is -1 when absent); otherwise false and *out is
 * all -1.
 */
bool sb_budget_read(const struct sb_provider *provider,
    const struct sb_http_response *resp, int64_t now_ms, struct sb_budget *out);

/* True if b is low: a known remaining at most SB_BUDGET_LOW_PERCENT of
 * its limit or SB_BUDGET_LOW_MIN, whichever is more. */
bool sb_budget_low(const struct sb_budget *b);

/*
 * How long a 429 answer asks the caller to stay away, in ms: its
 * Retry-After (seconds, or an HTTP date against the answer's Date), else
 * its provider's reset against the answer's Date; -1 if neither says.
 * now_ms is our epoch ms.
 */
int64_t sb_budget_429_wait_ms(const struct sb_provider *provider,
    const struct sb_http_response *resp, int64_t now_ms);

/* Seconds for a Retry-After header from a wait in ms: rounded up, >= 1. */
long sb_budget_retry_after_s(int64_t wait_ms);

/*
 * Before a call: what b (the last seen budget, whose remaining already
 * counts this call when low) says, with left_ms of the deadline left
 * and jitter_ms (0..SB_BUDGET_JITTER_MAX_MS) drawn by the caller.  GO
 * when b is unknown, not low or its window is over.  Spent (remaining 0):
 * WAIT until the reset plus jitter if that is at most
 * SB_BUDGET_WAIT_MAX_MS and leaves SB_BUDGET_ATTEMPT_MIN_MS of the
 * deadline, else REFUSE with Retry-After the time to the reset.  Low:
 * WAIT the time to the reset spread over what is left (reset /
 * (remaining + 1)), cut to SB_BUDGET_PACE_MAX_MS and to what the
 * deadline spares; GO if nothing is spared.
 */
void sb_budget_plan(const struct sb_budget *b, int64_t now_ms, int64_t left_ms,
    int64_t jitter_ms, struct sb_budget_decision *out);

/*
 * After a 429 that asked for wait_ms (-1: it did not say; then
 * SB_BUDGET_RETRY_AFTER_DEFAULT_S): WAIT wait_ms plus jitter_ms when that
 * is at most SB_BUDGET_WAIT_MAX_MS and leaves SB_BUDGET_ATTEMPT_MIN_MS of
 * left_ms; otherwise REFUSE, retry_after_s the wait in seconds.
 */
void sb_budget_plan_429(int64_t wait_ms, int64_t left_ms, int64_t jitter_ms,
    struct sb_budget_decision *out);

/*
 * True if seen differs from stored in a way worth a write: a new limit or
 * window (reset moved by a second or more), or a different remaining
 * while seen is within SB_BUDGET_WATCH_FACTOR times the low mark.  A
 * stored budget with remaining -1 (none yet) always differs.
 */
bool sb_budget_changed(
    const struct sb_budget *stored, const struct sb_budget *seen);

/*
 * The stored budget of connection id into *out; SB_OK with *out all -1
 * when none is stored; SB_ERR_DB (logged) if it cannot be read.
 */
enum sb_err sb_budget_load(
    struct sb_db *db, const char *id, struct sb_budget *out);

/*
 * Stores b as connection id's budget at now_ms, waiting for the lock at
 * most SB_BUDGET_WRITE_WAIT_MS (db's deadline is restored to deadline
 * after).  SB_OK, or SB_ERR_BUSY / SB_ERR_DB / SB_ERR_STORAGE: the
 * caller logs and goes on, the budget being a hint.
 */
enum sb_err sb_budget_store(struct sb_db *db, int64_t deadline, const char *id,
    const struct sb_budget *b, int64_t now_ms);

/*
 * Takes one call from connection id's stored budget, if its window has
 * not reset by now_ms: *remaining gets what was left before (0 if none
 * was, the window being spent).  Same waits and errors as
 * sb_budget_store(); on an error *remaining is untouched.
 */
enum sb_err sb_budget_take(struct sb_db *db, int64_t deadline, const char *id,
    int64_t now_ms, int64_t *remaining);

/* Our wall clock in epoch milliseconds. */
int64_t sb_budget_now_ms(void);

#endif
