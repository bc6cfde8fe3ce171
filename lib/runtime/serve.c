/*
 * The responders' main loop (see include/sb/runtime/serve.h).  Each
 * request gets the arena, is dispatched through the responder's route
 * table, finished with FCGX_Finish_r so nginx can answer the client, and
 * only then drains the responder's queues (the after-response hook).
 */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <time.h>
#include <stdbool.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <fcgiapp.h>
#include <sqlite3.h>

#include "sb/core/deadline.h"
#include "sb/core/log.h"
#include "sb/core/owner.h"
#include "sb/core/response.h"
#include "sb/runtime/drain.h"
#include "sb/runtime/serve.h"
#include "sb/runtime/work.h"

/* The workers' requests in hand and last drain look (sb/runtime/drain.h). */
static struct sb_drain_shared serve_drain;

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
	atomic_fetch_sub(&serve_drain.serving, 1);
	/* Work after the response has no caller waiting, but budgets of its
	 * own: the drain one a round, the hook one. */
	sb_drain_after_response(ctx);
	sb_context_deadline_set(
	    ctx, sb_deadline_now() + sb_config_request_budget_ms(&ctx->config));
	if (app->after_response != NULL)
		app->after_response(ctx);
	sb_context_deadline_set(ctx, SB_DEADLINE_NONE);
	sb_request_clear(&req);
	sb_arena_reset(arena);
}

/*
 * Stopping: libfcgi's own SIGTERM handler only sets a flag that its
 * restarted accept() never looks at, so a stopped responder would linger
 * until its next request.  TERM and INT are blocked in every worker (so
 * that no read or write of a request in hand is interrupted) and taken by
 * one signal thread: it marks the stop, after which no worker accepts
 * again, and exits the process as soon as no request is in hand — at once
 * when idle, else when the last one has been answered.  A request counts
 * as in hand from the moment its worker's accept returns, under the accept
 * lock; one whose connection arrives in the instant of the stop, while
 * libfcgi still reads its parameters, may be lost (nginx answers 502).
 */
#define SERVE_STOP_POLL_MS 10

static atomic_int serve_busy;
static atomic_bool serve_stopping;

/* The signal thread: waits for TERM or INT, then for the last request. */
static void *
serve_signal_run(void *arg)
{
	const sigset_t *set = arg;
	struct timespec poll = { 0, SERVE_STOP_POLL_MS * 1000000L };
	int signo;

	while (sigwait(set, &signo) != 0)
		continue;
	atomic_store(&serve_stopping, true);
	while (atomic_load(&serve_busy) != 0)
		nanosleep(&poll, NULL);
	_exit(0);
	return NULL;
}

/*
 * Blocks TERM and INT in this thread and every thread it starts later,
 * and starts the signal thread that takes them; ignores SIGPIPE (a client
 * gone is an error on its stream, not the process's end).
 */
static bool
serve_signals(void)
{
	static sigset_t set;
	pthread_t thread;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	return pthread_sigmask(SIG_BLOCK, &set, NULL) == 0 &&
	    pthread_create(&thread, NULL, serve_signal_run, &set) == 0 &&
	    pthread_detach(thread) == 0;
}

/* One worker: its own context (database, HTTP client), arena and request. */
struct serve_worker {
	struct sb_ctx ctx;
	struct sb_arena arena;
	FCGX_Request fcgi;
	pthread_t thread;
	bool started;
};

/* Serializes FCGX_Accept_r across workers, as libfcgi's threaded example
 * does: not every platform's accept() may be called from several threads. */
static pthread_mutex_t serve_accept_lock = PTHREAD_MUTEX_INITIALIZER;

/* Accepts and serves requests until the socket closes or a stop. */
static void *
serve_worker_run(void *arg)
{
	struct serve_worker *w = arg;
	int rc = -1;

	while (!atomic_load(&serve_stopping)) {
		pthread_mutex_lock(&serve_accept_lock);
		if (!atomic_load(&serve_stopping) &&
		    (rc = FCGX_Accept_r(&w->fcgi)) >= 0) {
			atomic_fetch_add(&serve_busy, 1);
			atomic_fetch_add(&serve_drain.serving, 1);
		}
		pthread_mutex_unlock(&serve_accept_lock);
		if (rc < 0)
			break;
		serve_one(&w->ctx, &w->fcgi, &w->arena);
		atomic_fetch_sub(&serve_busy, 1);
		rc = -1;
	}
	return NULL;
}

/*
 * The number of workers app runs: app->threads(config), 1 without it or
 * with an SQLite built without thread support, within 1 and
 * SB_SERVE_THREADS_MAX.
 */
static size_t
serve_worker_count(const struct sb_app *app, const struct sb_config *config)
{
	long n = app->threads != NULL ? app->threads(config) : 1;

	if (n > 1 && sqlite3_threadsafe() == 0) {
		sb_log(SB_LOG_WARN, app->name, NULL,
		    "this SQLite is built without threads: one worker");
		n = 1;
	}
	return n < 1                   ? 1
	    : n > SB_SERVE_THREADS_MAX ? SB_SERVE_THREADS_MAX
	                               : (size_t)n;
}

/*
 * Makes workers[1..n-1] after workers[0] (whose context is built): each a
 * context of its own, made here in the main thread before any worker runs
 * (libcurl's and libsodium's global set-up is not thread-safe), but for
 * the keyring, read-only, which all borrow from workers[0]: the master key
 * source runs once per process.
 */
static bool
serve_workers_init(
    const struct sb_app *app, struct serve_worker *workers, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (i > 0 &&
		    sb_context_init_sharing(
		        &workers[i].ctx, app, &workers[0].ctx) != SB_OK)
			return false;
		sb_arena_init(&workers[i].arena, SB_SERVE_ARENA_MAX);
		if (FCGX_InitRequest(&workers[i].fcgi, 0, 0) != 0)
			return false;
		sb_drain_init(&workers[i].ctx);
		workers[i].ctx.drain.shared = &serve_drain;
	}
	return true;
}

/* Runs n workers: the first in this thread, the others in their own. */
static void
serve_workers_run(struct serve_worker *workers, size_t n)
{
	for (size_t i = 1; i < n; i++)
		workers[i].started = pthread_create(&workers[i].thread, NULL,
		                         serve_worker_run, &workers[i]) == 0;
	serve_worker_run(&workers[0]);
	for (size_t i = 1; i < n; i++)
		if (workers[i].started)
			pthread_join(workers[i].thread, NULL);
}

int
sb_serve_main(const struct sb_app *app, int argc, char **argv)
{
	struct serve_worker *workers = NULL;
	struct sb_ctx first;
	size_t n = 0;
	int status = 1;

	(void)argc;
	(void)argv;
	if (sb_context_init(&first, app) != SB_OK) {
		sb_log(SB_LOG_ERROR, app->name, NULL, "start-up failed");
		sb_context_clear(&first);
		return status;
	}
	n = serve_worker_count(app, &first.config);
	if ((workers = calloc(n, sizeof(*workers))) == NULL) {
		sb_context_clear(&first);
		return status;
	}
	workers[0].ctx = first;
	(void)sb_owner_self(); /* the main thread is holder 0 */
	if (FCGX_Init() != 0 || !serve_workers_init(app, workers, n)) {
		sb_log(SB_LOG_ERROR, app->name, NULL, "FastCGI set-up failed");
		goto out;
	}
	if (!serve_signals()) {
		sb_log(SB_LOG_ERROR, app->name, NULL, "signal set-up failed");
		goto out;
	}
	sb_log(SB_LOG_INFO, app->name, NULL, "ready (%zu worker%s)", n,
	    n == 1 ? "" : "s");
	serve_workers_run(workers, n);
	status = 0;
out:
	for (size_t i = n;
	     i-- > 0;) { /* workers[0] last: it owns the keyring */
		sb_context_clear(&workers[i].ctx);
		sb_arena_clear(&workers[i].arena);
	}
	free(workers);
	return status;
}
