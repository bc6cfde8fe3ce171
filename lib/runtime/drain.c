/*
 * The after-response drain (see include/sb/runtime/drain.h): when to look
 * at a responder's queues after a response, and one batch round at a time
 * through sb_work_run_if_due().
 */
#include <poll.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/socket.h>

#include <fastcgi.h>

#include "sb/core/deadline.h"
#include "sb/runtime/drain.h"
#include "sb/runtime/work.h"

void
sb_drain_init(struct sb_ctx *ctx)
{
	socklen_t len = sizeof(int);
	int accepting = 0;

	memset(&ctx->drain, 0, sizeof(ctx->drain));
	ctx->drain.listening = getsockopt(FCGI_LISTENSOCK_FILENO, SOL_SOCKET,
	                           SO_ACCEPTCONN, &accepting, &len) == 0 &&
	    accepting != 0;
}

bool
sb_drain_request_waiting(const struct sb_drain_state *state)
{
	struct pollfd pfd = { .fd = FCGI_LISTENSOCK_FILENO, .events = POLLIN };

	if (state->shared != NULL && atomic_load(&state->shared->serving) > 0)
		return true;
	return state->listening && poll(&pfd, 1, 0) == 1 &&
	    (pfd.revents & POLLIN) != 0;
}

/* The table row of queue name; NULL if it has none. */
static const struct sb_work_queue *
drain_queue(const struct sb_app *app, const char *name)
{
	for (size_t i = 0; i < app->queue_count; i++)
		if (strcmp(app->queues[i].queue, name) == 0)
			return &app->queues[i];
	return NULL;
}

/*
 * True if SB_DRAIN_LINGER_MS passed since the last look (the process's,
 * when its workers share one); the look at now is then this worker's.
 */
static bool
drain_lingered(struct sb_drain_state *state, int64_t now)
{
	long long last;

	if (state->shared == NULL) {
		if (now - state->checked_ms < SB_DRAIN_LINGER_MS)
			return false;
		state->checked_ms = now;
		return true;
	}
	last = atomic_load(&state->shared->checked_ms);
	return now - last >= SB_DRAIN_LINGER_MS &&
	    atomic_compare_exchange_strong(
	        &state->shared->checked_ms, &last, (long long)now);
}

/* True if a round may run now: a linger passed, or no request waits. */
static bool
drain_may_run(struct sb_drain_state *state, int64_t now)
{
	if (drain_lingered(state, now))
		return true;
	if (sb_drain_request_waiting(state))
		return false;
	if (state->shared != NULL)
		atomic_store(&state->shared->checked_ms, (long long)now);
	else
		state->checked_ms = now;
	return true;
}

void
sb_drain_after_response(struct sb_ctx *ctx)
{
	const struct sb_app *app = ctx->app;
	struct sb_drain_state *state = &ctx->drain;
	int64_t now = sb_deadline_now();
	bool ran, failed_any;
	int done, failed;

	if (app->drain == NULL || ctx->db == NULL)
		return;
	while (drain_may_run(state, now)) {
		/* each round has a request's budget: a long drain is many */
		sb_context_deadline_set(
		    ctx, now + sb_config_request_budget_ms(&ctx->config));
		ran = failed_any = false;
		for (const char *const *q = app->drain; *q != NULL; q++) {
			const struct sb_work_queue *row = drain_queue(app, *q);

			if (row == NULL ||
			    sb_work_run_if_due(ctx, app->queues,
			        app->queue_count, *q, &done, &failed) != SB_OK)
				continue;
			ran = true;
			failed_any = failed_any || failed > 0;
		}
		if (!ran || failed_any)
			break;
		now = sb_deadline_now();
	}
}
