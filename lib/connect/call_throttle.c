/*
 * sb_call_perform(): a provider call through a connection, throttled by
 * the connection's rate budget (sb/connect/budget.h).  Kept apart from
 * lib/connect/call.c (URL, auth, token refresh: one send) because it is
 * about when to send, not how: before the send the last seen budget may
 * pace the call or refuse it without calling the provider; after it the
 * budget seen is kept, a 429 whose reset fits the cap and the deadline is
 * waited out and sent once more, and a 429 that comes back always carries
 * a Retry-After in whole seconds, which the proxy and the capability
 * engine pass on.  docs/throttling-and-retries.md is the design.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "sb/connect/budget.h"
#include "sb/connect/call.h"
#include "sb/core/deadline.h"
#include "sb/core/log.h"

#define THROTTLE_BODY_MAX 320 /* the refusal's JSON body */
#define THROTTLE_NUMBER_MAX 24 /* a Retry-After value */

/* True if the provider names rate-limit headers to keep a budget from. */
static bool
budgeted(const struct sb_connection *conn)
{
	return conn->provider->rate_limit_remaining != NULL &&
	    conn->provider->rate_limit_reset != NULL;
}

static int64_t
jitter_ms(void)
{
	return (int64_t)randombytes_uniform(SB_BUDGET_JITTER_MAX_MS + 1);
}

/*
 * The budget this call goes by, in *stored: the last seen, with one call
 * taken from it when it is low (so that calls at once in other processes
 * see it shrink).  A store that fails leaves the budget unknown or as
 * read: the budget is a hint, never a reason to fail a call.
 */
static void
budget_before(struct sb_ctx *ctx, const struct sb_connection *conn,
    struct sb_budget *stored, int64_t now_ms)
{
	int64_t before;
	enum sb_err rc;

	if (sb_budget_load(ctx->db, conn->id, stored) != SB_OK) {
		sb_log(SB_LOG_WARN, "throttle", NULL,
		    "connection %s: the budget could not be read", conn->id);
		return;
	}
	if (!sb_budget_low(stored) || stored->reset_at_ms <= now_ms)
		return;
	rc = sb_budget_take(ctx->db, ctx->deadline, conn->id, now_ms, &before);
	if (rc == SB_OK)
		stored->remaining = before;
	else
		sb_log(SB_LOG_WARN, "throttle", NULL,
		    "connection %s: the budget could not be taken from: %s",
		    conn->id, sb_strerror(rc));
}

/* Keeps the budget resp shows when it differs from *stored in a way that
 * matters; *stored becomes what was seen. */
static void
budget_seen(struct sb_ctx *ctx, const struct sb_connection *conn,
    struct sb_budget *stored, const struct sb_http_response *resp)
{
	int64_t now_ms = sb_budget_now_ms();
	struct sb_budget seen;
	enum sb_err rc;

	if (!sb_budget_read(conn->provider, resp, now_ms, &seen))
		return;
	if (sb_budget_changed(stored, &seen) &&
	    (rc = sb_budget_store(
	         ctx->db, ctx->deadline, conn->id, &seen, now_ms)) != SB_OK)
		sb_log(SB_LOG_WARN, "throttle", NULL,
		    "connection %s: the budget could not be kept: %s", conn->id,
		    sb_strerror(rc));
	*stored = seen;
}

/*
 * Fills resp with Switchboard's own 429 for a call the spent budget
 * refused: Retry-After, a JSON error body, no attempt made.
 */
static enum sb_err
refuse(const struct sb_connection *conn, struct sb_http_response *resp,
    long retry_after_s)
{
	char body[THROTTLE_BODY_MAX], seconds[THROTTLE_NUMBER_MAX];

	sb_http_response_clear(resp);
	resp->status = 429;
	snprintf(seconds, sizeof(seconds), "%ld", retry_after_s);
	snprintf(body, sizeof(body),
	    "{\"error\":{\"code\":\"provider_rate_limited\",\"message\":"
	    "\"the connection's rate budget at %s is spent until its reset "
	    "in %ld s; nothing was sent\"}}",
	    conn->provider->name, retry_after_s);
	resp->body_len = strlen(body);
	if ((resp->body = strdup(body)) == NULL ||
	    (resp->content_type = strdup("application/json")) == NULL ||
	    sb_http_response_header_set(resp, "Retry-After", seconds) != SB_OK)
		return SB_ERR_NOMEM;
	sb_log(SB_LOG_INFO, "throttle", NULL,
	    "connection %s: budget spent, refused with Retry-After %ld",
	    conn->id, retry_after_s);
	return SB_OK;
}

/*
 * Makes sure the 429 in resp carries Retry-After in whole seconds >= 1:
 * the provider's own when it is one, else the wait its Retry-After date or
 * its reset header asks for (against its Date), else the default.
 */
static enum sb_err
retry_after_ensure(
    const struct sb_connection *conn, struct sb_http_response *resp)
{
	const char *own = sb_http_response_header(resp, "Retry-After");
	char seconds[THROTTLE_NUMBER_MAX];
	int64_t wait;

	if (own != NULL && own[0] >= '1' && own[0] <= '9' &&
	    strspn(own, "0123456789") == strlen(own))
		return SB_OK;
	wait = sb_budget_429_wait_ms(conn->provider, resp, sb_budget_now_ms());
	snprintf(
	    seconds, sizeof(seconds), "%ld", sb_budget_retry_after_s(wait));
	return sb_http_response_header_set(resp, "Retry-After", seconds);
}

/* Sleeps as d says, logged; false if d refuses. */
static bool
decision_follow(const struct sb_connection *conn,
    const struct sb_budget_decision *d, const char *why)
{
	if (d->action == SB_BUDGET_REFUSE)
		return false;
	if (d->action == SB_BUDGET_WAIT) {
		sb_log(SB_LOG_INFO, "throttle", NULL,
		    "connection %s: %s, waiting %lld ms", conn->id, why,
		    (long long)d->wait_ms);
		sb_deadline_sleep(d->wait_ms);
	}
	return true;
}

enum sb_err
sb_call_perform(struct sb_ctx *ctx, struct sb_connection *conn,
    const struct sb_call *call, struct sb_http_response *resp, char *err,
    size_t errsize)
{
	struct sb_budget stored = { -1, -1, -1 };
	struct sb_budget_decision d;
	int64_t now_ms = sb_budget_now_ms();
	enum sb_err rc;

	err[0] = '\0';
	if (conn->unreadable || conn->needs_reauth)
		return sb_call_send(ctx, conn, call, resp, err, errsize);
	if (budgeted(conn)) {
		budget_before(ctx, conn, &stored, now_ms);
		sb_budget_plan(&stored, now_ms, sb_deadline_left(ctx->deadline),
		    jitter_ms(), &d);
		if (!decision_follow(conn, &d, "budget low"))
			return refuse(conn, resp, d.retry_after_s);
	}
	rc = sb_call_send(ctx, conn, call, resp, err, errsize);
	if (rc != SB_OK)
		return rc;
	budget_seen(ctx, conn, &stored, resp);
	if (resp->status != 429)
		return rc;
	sb_budget_plan_429(
	    sb_budget_429_wait_ms(conn->provider, resp, sb_budget_now_ms()),
	    sb_deadline_left(ctx->deadline), jitter_ms(), &d);
	if (decision_follow(conn, &d, "429 from the provider")) {
		if ((rc = sb_call_send(ctx, conn, call, resp, err, errsize)) !=
		    SB_OK)
			return rc;
		budget_seen(ctx, conn, &stored, resp);
	}
	return resp->status == 429 ? retry_after_ensure(conn, resp) : SB_OK;
}
