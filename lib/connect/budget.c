/*
 * Per-connection provider rate budgets (sb/connect/budget.h): reading the
 * rate-limit headers, the decisions before a call and after a 429, and the
 * table connection_budgets.  The decisions are pure arithmetic so that
 * tests/unit/test_budget.c can drive every branch; the store is three
 * statements, each written so that a busy database costs the call at most
 * SB_BUDGET_WRITE_WAIT_MS and never its answer.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sb/connect/budget.h"
#include "sb/core/deadline.h"
#include "sb/core/log.h"

#define BUDGET_EPOCH_MIN 1000000000LL /* resets above are epoch seconds */
#define BUDGET_COUNT_MAX 1000000000000LL /* a limit or remaining, at most */
#define BUDGET_RESET_MAX_S (366LL * 86400) /* a window, at most */

enum budget_sql { BUDGET_GET, BUDGET_PUT, BUDGET_TAKE, BUDGET__MAX };

static const char *const budget_sql[BUDGET__MAX] = {
	[BUDGET_GET] = "SELECT rate_limit, remaining, reset_at_ms"
	               " FROM connection_budgets WHERE connection_id = ?1",
	[BUDGET_PUT] = "INSERT INTO connection_budgets (connection_id,"
	               " rate_limit, remaining, reset_at_ms, updated_at_ms)"
	               " VALUES (?1, ?2, ?3, ?4, ?5)"
	               " ON CONFLICT (connection_id) DO UPDATE SET"
	               " rate_limit = ?2, remaining = ?3, reset_at_ms = ?4,"
	               " updated_at_ms = ?5",
	/* RETURNING gives what was left before this call took one. */
	[BUDGET_TAKE] = "UPDATE connection_budgets SET remaining ="
	                " remaining - 1, updated_at_ms = ?2"
	                " WHERE connection_id = ?1 AND reset_at_ms > ?2"
	                " AND remaining > 0 RETURNING remaining + 1",
};

static const struct sb_budget budget_unknown = { -1, -1, -1 };

int64_t
sb_budget_now_ms(void)
{
	return sb_db_now_ms();
}

/* A whole non-negative decimal of at most BUDGET_COUNT_MAX; false if not. */
static bool
count_parse(const char *s, int64_t *out)
{
	long long v;
	char *end;

	if (s == NULL || *s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || v > BUDGET_COUNT_MAX)
		return false;
	*out = v;
	return true;
}

/*
 * The ms from the answer to the reset named by value: an epoch (seconds)
 * against the answer's Date, else a delta in seconds (or ms).  Past resets
 * give 0; false if value does not parse or names a window past a year.
 */
static bool
reset_in_ms(const struct sb_provider *provider,
    const struct sb_http_response *resp, const char *value, int64_t now_ms,
    int64_t *out)
{
	int64_t v, date, ms;

	if (!count_parse(value, &v))
		return false;
	if (provider->rate_limit_reset_ms)
		ms = v;
	else if (v >= BUDGET_EPOCH_MIN) {
		date = (int64_t)sb_http_response_date(
		    resp, (time_t)(now_ms / 1000));
		ms = (v - date) * 1000;
	} else
		ms = v * 1000;
	if (ms > BUDGET_RESET_MAX_S * 1000)
		return false;
	*out = ms > 0 ? ms : 0;
	return true;
}

bool
sb_budget_read(const struct sb_provider *provider,
    const struct sb_http_response *resp, int64_t now_ms, struct sb_budget *out)
{
	struct sb_budget b = budget_unknown;
	int64_t in_ms;

	*out = budget_unknown;
	if (provider == NULL || resp == NULL ||
	    provider->rate_limit_remaining == NULL ||
	    provider->rate_limit_reset == NULL)
		return false;
	if (!count_parse(
	        sb_http_response_header(resp, provider->rate_limit_remaining),
	        &b.remaining) ||
	    !reset_in_ms(provider, resp,
	        sb_http_response_header(resp, provider->rate_limit_reset),
	        now_ms, &in_ms))
		return false;
	b.reset_at_ms = now_ms + in_ms;
	if (provider->rate_limit_limit == NULL ||
	    !count_parse(
	        sb_http_response_header(resp, provider->rate_limit_limit),
	        &b.limit))
		b.limit = -1;
	*out = b;
	return true;
}

/* The low mark of b: SB_BUDGET_LOW_PERCENT of its limit, at least
 * SB_BUDGET_LOW_MIN. */
static int64_t
low_mark(const struct sb_budget *b)
{
	int64_t mark =
	    b->limit > 0 ? b->limit * SB_BUDGET_LOW_PERCENT / 100 : 0;

	return mark > SB_BUDGET_LOW_MIN ? mark : SB_BUDGET_LOW_MIN;
}

bool
sb_budget_low(const struct sb_budget *b)
{
	return b != NULL && b->remaining >= 0 && b->remaining <= low_mark(b);
}

int64_t
sb_budget_429_wait_ms(const struct sb_provider *provider,
    const struct sb_http_response *resp, int64_t now_ms)
{
	long asked = sb_http_retry_after_ms(
	    resp, (time_t)(now_ms / 1000), (long)(BUDGET_RESET_MAX_S * 1000));
	int64_t in_ms;

	if (asked >= 0)
		return asked;
	if (provider != NULL && provider->rate_limit_reset != NULL &&
	    reset_in_ms(provider, resp,
	        sb_http_response_header(resp, provider->rate_limit_reset),
	        now_ms, &in_ms))
		return in_ms;
	return -1;
}

long
sb_budget_retry_after_s(int64_t wait_ms)
{
	int64_t s = wait_ms > 0 ? (wait_ms + 999) / 1000 : 1;

	if (s > BUDGET_RESET_MAX_S)
		s = BUDGET_RESET_MAX_S;
	return s >= 1 ? (long)s : 1;
}

/* WAIT wait_ms if it fits the cap and the deadline, else REFUSE. */
static void
wait_or_refuse(int64_t wait_ms, int64_t until_reset_ms, int64_t left_ms,
    struct sb_budget_decision *out)
{
	if (wait_ms <= SB_BUDGET_WAIT_MAX_MS &&
	    wait_ms + SB_BUDGET_ATTEMPT_MIN_MS <= left_ms) {
		out->action = SB_BUDGET_WAIT;
		out->wait_ms = wait_ms;
		return;
	}
	out->action = SB_BUDGET_REFUSE;
	out->retry_after_s = sb_budget_retry_after_s(until_reset_ms);
}

void
sb_budget_plan(const struct sb_budget *b, int64_t now_ms, int64_t left_ms,
    int64_t jitter_ms, struct sb_budget_decision *out)
{
	int64_t until_reset, pace, spare;

	*out = (struct sb_budget_decision){ SB_BUDGET_GO, 0, 1 };
	if (b == NULL || !sb_budget_low(b) || b->reset_at_ms <= now_ms)
		return;
	until_reset = b->reset_at_ms - now_ms;
	if (b->remaining == 0) {
		wait_or_refuse(
		    until_reset + jitter_ms, until_reset, left_ms, out);
		return;
	}
	pace = until_reset / (b->remaining + 1);
	spare = left_ms - SB_BUDGET_ATTEMPT_MIN_MS;
	if (pace > SB_BUDGET_PACE_MAX_MS)
		pace = SB_BUDGET_PACE_MAX_MS;
	if (pace > spare)
		pace = spare;
	if (pace > 0) {
		out->action = SB_BUDGET_WAIT;
		out->wait_ms = pace;
	}
}

void
sb_budget_plan_429(int64_t wait_ms, int64_t left_ms, int64_t jitter_ms,
    struct sb_budget_decision *out)
{
	*out = (struct sb_budget_decision){ SB_BUDGET_GO, 0, 1 };
	if (wait_ms < 0)
		wait_ms = SB_BUDGET_RETRY_AFTER_DEFAULT_S * 1000;
	wait_or_refuse(wait_ms + jitter_ms, wait_ms, left_ms, out);
}

bool
sb_budget_changed(const struct sb_budget *stored, const struct sb_budget *seen)
{
	int64_t moved = seen->reset_at_ms - stored->reset_at_ms;

	if (stored->remaining < 0 || stored->limit != seen->limit ||
	    moved >= 1000 || moved <= -1000)
		return true;
	return seen->remaining != stored->remaining &&
	    seen->remaining <= low_mark(seen) * SB_BUDGET_WATCH_FACTOR;
}

enum sb_err
sb_budget_load(struct sb_db *db, const char *id, struct sb_budget *out)
{
	sqlite3_stmt *st;
	int step;

	*out = budget_unknown;
	if ((st = sb_db_stmt(db, budget_sql[BUDGET_GET])) == NULL)
		return SB_ERR_DB;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	if ((step = sqlite3_step(st)) == SQLITE_ROW) {
		out->limit = sqlite3_column_int64(st, 0);
		out->remaining = sqlite3_column_int64(st, 1);
		out->reset_at_ms = sqlite3_column_int64(st, 2);
	}
	sqlite3_reset(st);
	return step == SQLITE_ROW || step == SQLITE_DONE ? SB_OK : SB_ERR_DB;
}

/* Runs st as one short write: the lock waited for briefly, at most. */
static enum sb_err
budget_write(struct sb_db *db, int64_t deadline, sqlite3_stmt *st)
{
	int64_t until = sb_deadline_now() + SB_BUDGET_WRITE_WAIT_MS;
	enum sb_err rc;

	if (deadline != SB_DEADLINE_NONE && deadline < until)
		until = deadline;
	sb_db_deadline_set(db, until);
	rc = sb_db_write(db, st, NULL);
	sb_db_deadline_set(db, deadline);
	return rc;
}

enum sb_err
sb_budget_store(struct sb_db *db, int64_t deadline, const char *id,
    const struct sb_budget *b, int64_t now_ms)
{
	sqlite3_stmt *st;

	if ((st = sb_db_stmt(db, budget_sql[BUDGET_PUT])) == NULL)
		return SB_ERR_DB;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, b->limit);
	sqlite3_bind_int64(st, 3, b->remaining);
	sqlite3_bind_int64(st, 4, b->reset_at_ms);
	sqlite3_bind_int64(st, 5, now_ms);
	return budget_write(db, deadline, st);
}

enum sb_err
sb_budget_take(struct sb_db *db, int64_t deadline, const char *id,
    int64_t now_ms, int64_t *remaining)
{
	int64_t until = sb_deadline_now() + SB_BUDGET_WRITE_WAIT_MS, left = 0;
	sqlite3_stmt *st;
	enum sb_err rc;
	int step;

	if ((st = sb_db_stmt(db, budget_sql[BUDGET_TAKE])) == NULL)
		return SB_ERR_DB;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, now_ms);
	if (deadline != SB_DEADLINE_NONE && deadline < until)
		until = deadline;
	sb_db_deadline_set(db, until);
	if ((rc = sb_db_begin(db)) != SB_OK)
		goto out;
	step = sqlite3_step(st);
	if (step == SQLITE_ROW)
		left = sqlite3_column_int64(st, 0);
	/* RETURNING ends its changes only when stepped to the end. */
	while (step == SQLITE_ROW)
		step = sqlite3_step(st);
	sqlite3_reset(st);
	if (step != SQLITE_DONE) {
		rc = sb_db_rc(step);
		sb_db_rollback(db);
		goto out;
	}
	if ((rc = sb_db_commit(db)) == SB_OK)
		*remaining = left;
out:
	sb_db_deadline_set(db, deadline);
	return rc;
}
