/*
 * The after-response drain (see include/sb/runtime/drain.h): when to look
 * at a responder's queues after a response, and one batch round at a time
 * through sb_work_run_if_due().
 */
#include <poll.h>
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

/* True if a connection waits to be accepted on the listening socket. */
static bool
drain_request_waiting(const struct sb_drain_state *state)
{
	struct pollfd pfd = { .fd = FCGI_LISTENSOCK_FILENO, .events = POLLIN };

	return state->listening && poll(&pfd, 1, 0) == 1 &&
	    (pfd.revents & POLLIN) != 0;
}

/* Whether the queues are to be looked at now (see sb/runtime/drain.h). */
static bool
drain_look_now(const struct sb_drain_state *state, int64_t now)
{
	return state->backlog ||
	    now - state->checked_ms >= SB_DRAIN_LINGER_MS ||
	    !drain_request_waiting(state);
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

void
sb_drain_after_response(struct sb_ctx *ctx)
{
	const struct sb_app *app = ctx->app;
	struct sb_drain_state *state = &ctx->drain;
	int64_t now = sb_deadline_now();
	bool ran;
	int done, failed;

	if (app->drain == NULL || ctx->db == NULL)
		return;
	while (drain_look_now(state, now)) {
		state->checked_ms = now;
		state->backlog = false;
		ran = false;
		for (const char *const *q = app->drain; *q != NULL; q++) {
			const struct sb_work_queue *row = drain_queue(app, *q);

			if (row == NULL ||
			    sb_work_run_if_due(ctx, app->queues,
			        app->queue_count, *q, &done, &failed) != SB_OK)
				continue;
			ran = true;
			if ((size_t)(done + failed) >= sb_work_batch_size(row))
				state->backlog = true;
		}
		if (!ran)
			break;
		now = sb_deadline_now();
	}
}
