/*
 * The responders' main loop (see include/sb/runtime/serve.h).  Each
 * request gets the arena, is dispatched through the responder's route
 * table, finished with FCGX_Finish_r so nginx can answer the client, and
 * only then runs the work its handlers deferred and the drain of the
 * responder's queues.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <fcgiapp.h>

#include "sb/core/deadline.h"
#include "sb/core/log.h"
#include "sb/core/response.h"
#include "sb/runtime/drain.h"
#include "sb/runtime/serve.h"

/* Answers a request whose reading failed, by the reason it failed. */
static void
serve_read_failed(struct sb_request *req, enum sb_err rc, size_t body_max)
{
	if (rc == SB_ERR_TOO_LARGE)
		sb_response_errorf(req, 413, "too_large",
		    "the request is larger than allowed (body at most %zu "
		    "bytes, query at most %d parameters)",
		    body_max, SB_REQUEST_QUERY_MAX);
	else if (rc == SB_ERR_INVALID)
		sb_response_error(req, 400, "invalid_request",
		    "the request's query or body could not be read");
	else
		sb_response_error(
		    req, 500, "internal", "the request could not be read");
}

static void
serve_one(struct sb_ctx *ctx, FCGX_Request *fcgi, struct sb_arena *arena)
{
	const struct sb_app *app = ctx->app;
	size_t body_max = (size_t)ctx->config.body_max;
	struct sb_request req;
	enum sb_err rc;

	sb_context_deadline_set(
	    ctx, sb_deadline_now() + sb_config_request_budget_ms(&ctx->config));
	/* Between requests no statement is in use: the time to reopen. */
	sb_db_recover(ctx->db);
	rc = sb_request_read(&req, fcgi, arena, body_max);
	req.error_style = app->error_style;
	req.service = app->name;
	req.json_depth_max = (int)ctx->config.json_depth_max;
	if (rc != SB_OK)
		serve_read_failed(&req, rc, body_max);
	else
		sb_route_dispatch(ctx, app->routes, app->route_count, &req);
	if (req.status >= 500)
		sb_log(SB_LOG_WARN, app->name, req.request_id, "%s %s -> %d",
		    req.method, req.path, req.status);
	FCGX_Finish_r(fcgi);
	/* Work after the response has no caller waiting, but its own budget. */
	sb_context_deadline_set(
	    ctx, sb_deadline_now() + sb_config_request_budget_ms(&ctx->config));
	sb_context_run_deferred(ctx);
	sb_drain_after_response(ctx);
	sb_context_deadline_set(ctx, SB_DEADLINE_NONE);
	sb_request_clear(&req);
	sb_arena_reset(arena);
}

/*
 * Stopping: libfcgi's own SIGTERM handler only sets a flag that its
 * restarted accept() never looks at, so a stopped responder would linger
 * until its next request.  Ours exits at once while the process waits for
 * a request, and otherwise lets the request in hand finish first.
 */
static volatile sig_atomic_t serve_busy;
static volatile sig_atomic_t serve_stopping;

static void
serve_on_signal(int signo)
{
	(void)signo;
	if (!serve_busy)
		_exit(0);
	serve_stopping = 1;
}

static void
serve_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = serve_on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

int
sb_serve_main(const struct sb_app *app, int argc, char **argv)
{
	struct sb_arena arena;
	FCGX_Request fcgi;
	struct sb_ctx ctx;
	int status = 1;

	(void)argc;
	(void)argv;
	sb_arena_init(&arena, SB_SERVE_ARENA_MAX);
	if (sb_context_init(&ctx, app) != SB_OK) {
		sb_log(SB_LOG_ERROR, app->name, NULL, "start-up failed");
		goto out;
	}
	if (FCGX_Init() != 0 || FCGX_InitRequest(&fcgi, 0, 0) != 0) {
		sb_log(SB_LOG_ERROR, app->name, NULL, "FastCGI set-up failed");
		goto out;
	}
	serve_signals();
	sb_drain_init(&ctx);
	sb_log(SB_LOG_INFO, app->name, NULL, "ready");
	while (!serve_stopping && FCGX_Accept_r(&fcgi) >= 0) {
		serve_busy = 1;
		serve_one(&ctx, &fcgi, &arena);
		serve_busy = 0;
	}
	status = 0;
out:
	sb_context_clear(&ctx);
	sb_arena_clear(&arena);
	return status;
}
