/*
 * The responders' main loop.  Long-lived state (configuration, database,
 * keyring, HTTP client) is made once in sb_app_ctx_init(); each request gets
 * the arena, is dispatched through the responder's route table, finished
 * with FCGX_Finish_r so nginx can answer the client, and only then runs the
 * work its handlers deferred (event delivery, sync attempts).
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <fcgiapp.h>

#include "sb/app.h"
#include "sb/log.h"
#include "sb/response.h"

enum sb_err
sb_app_ctx_init(struct sb_ctx *ctx, const struct sb_app *app)
{
	char err[256], path[SB_CONFIG_STR_MAX + 64];
	enum sb_log_level level;
	enum sb_err rc;

	memset(ctx, 0, sizeof(*ctx));
	ctx->app = app;
	if ((rc = sb_config_load(&ctx->config, NULL, err, sizeof(err))) !=
	    SB_OK) {
		sb_log(SB_LOG_ERROR, app->name, NULL, "config: %s", err);
		return rc;
	}
	if (sb_log_level_parse(ctx->config.log_level, &level))
		sb_log_set_level(level);
	if (app->db_file != NULL) {
		if ((rc = sb_config_var_path(&ctx->config, app->db_file, path,
		         sizeof(path))) != SB_OK ||
		    (rc = sb_db_open(path, ctx->config.db_busy_timeout_ms,
		         &ctx->db)) != SB_OK)
			return rc;
	}
	if (app->needs_secrets) {
		if ((rc = sb_config_var_path(&ctx->config, "secrets", path,
		         sizeof(path))) != SB_OK ||
		    (rc = sb_secrets_open(
		         path, ctx->config.master_key, &ctx->secrets)) != SB_OK)
			return rc;
	}
	if (app->needs_http && (rc = sb_app_http_new(ctx)) != SB_OK)
		return rc;
	if (app->needs_providers &&
	    (rc = sb_providers_load(ctx->config.providers_file, &ctx->providers,
	         err, sizeof(err))) != SB_OK) {
		sb_log(SB_LOG_ERROR, app->name, NULL, "providers: %s", err);
		return rc;
	}
	return app->init != NULL ? app->init(ctx) : SB_OK;
}

enum sb_err
sb_app_http_new(struct sb_ctx *ctx)
{
	const struct sb_config *c = &ctx->config;
	struct sb_http_limits limits = {
		.connect_timeout_ms = c->http_connect_timeout_ms,
		.total_timeout_ms = c->http_timeout_ms,
		.response_max = (size_t)c->http_response_max,
		.max_attempts = (int)c->http_max_attempts,
		.backoff_base_ms = c->http_backoff_base_ms,
		.backoff_cap_ms = c->http_backoff_cap_ms,
	};
	enum sb_err rc;

	if ((rc = sb_http_global_init()) != SB_OK)
		return rc;
	return sb_http_new(&limits, &ctx->http);
}

void
sb_app_ctx_clear(struct sb_ctx *ctx)
{
	if (ctx->app != NULL && ctx->app->fini != NULL)
		ctx->app->fini(ctx);
	sb_providers_free(ctx->providers);
	ctx->providers = NULL;
	sb_http_free(ctx->http);
	sb_secrets_free(ctx->secrets);
	sb_db_close(ctx->db);
	ctx->http = NULL;
	ctx->secrets = NULL;
	ctx->db = NULL;
}

enum sb_err
sb_app_defer(struct sb_ctx *ctx, sb_deferred fn, void *arg)
{
	if (ctx->deferred_count == SB_APP_DEFER_MAX)
		return SB_ERR_TOO_LARGE;
	ctx->deferred[ctx->deferred_count].fn = fn;
	ctx->deferred[ctx->deferred_count].arg = arg;
	ctx->deferred_count++;
	return SB_OK;
}

static bool
app_is_json(const char *content_type)
{
	size_t n = strlen("application/json");

	return content_type != NULL &&
	    strncasecmp(content_type, "application/json", n) == 0 &&
	    (content_type[n] == '\0' || content_type[n] == ';');
}

cJSON *
sb_app_body(struct sb_ctx *ctx, struct sb_request *req,
    const struct sb_field *fields, size_t field_count)
{
	char err[256];
	size_t offset;
	enum sb_err rc;

	if (req->body_len > 0 && req->content_type != NULL &&
	    !app_is_json(req->content_type)) {
		sb_response_error(req, 415, "unsupported_media_type",
		    "send the body as JSON with Content-Type: "
		    "application/json");
		return NULL;
	}
	rc = sb_request_parse_json(req->body, req->body_len,
	    (int)ctx->config.json_depth_max, &req->json, &offset);
	if (rc == SB_ERR_TOO_LARGE) {
		sb_response_errorf(req, 413, "too_large",
		    "the JSON body is nested deeper than %ld or holds more "
		    "than %d values",
		    ctx->config.json_depth_max, SB_REQUEST_JSON_ITEMS_MAX);
		return NULL;
	}
	if (rc != SB_OK) {
		sb_response_errorf(req, 400, "invalid_json",
		    "the body is not valid JSON (at byte %zu)", offset);
		return NULL;
	}
	if (fields != NULL &&
	    sb_request_validate(
	        req->json, fields, field_count, err, sizeof(err)) != SB_OK) {
		sb_response_error(req, 400, "invalid_request", err);
		return NULL;
	}
	return req->json;
}

void
sb_app_health(struct sb_ctx *ctx, struct sb_request *req)
{
	char body[256];
	int64_t version = 0;
	int n;

	if (ctx->db != NULL && (version = sb_db_schema_version(ctx->db)) < 0) {
		sb_response_error(
		    req, 503, "unavailable", "the database cannot be read");
		return;
	}
	n = snprintf(body, sizeof(body),
	    "{\"status\":\"ok\",\"service\":\"%s\",\"schema_version\":%lld}",
	    ctx->app->name, (long long)version);
	sb_response_send(req, 200, "application/json", body, (size_t)n);
}

/* Answers a request whose reading failed, by the reason it failed. */
static void
app_read_failed(struct sb_request *req, enum sb_err rc, size_t body_max)
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
app_serve_one(struct sb_ctx *ctx, FCGX_Request *fcgi, struct sb_arena *arena)
{
	const struct sb_app *app = ctx->app;
	size_t body_max = (size_t)ctx->config.body_max;
	struct sb_request req;
	enum sb_err rc;

	rc = sb_request_read(&req, fcgi, arena, body_max);
	req.error_style = app->error_style;
	if (rc != SB_OK)
		app_read_failed(&req, rc, body_max);
	else
		sb_route_dispatch(ctx, app->routes, app->route_count, &req);
	if (req.status >= 500)
		sb_log(SB_LOG_WARN, app->name, req.request_id, "%s %s -> %d",
		    req.method, req.path, req.status);
	FCGX_Finish_r(fcgi);
	for (size_t i = 0; i < ctx->deferred_count; i++)
		ctx->deferred[i].fn(ctx, ctx->deferred[i].arg);
	ctx->deferred_count = 0;
	sb_request_clear(&req);
	sb_arena_reset(arena);
}

/*
 * Stopping: libfcgi's own SIGTERM handler only sets a flag that its
 * restarted accept() never looks at, so a stopped responder would linger
 * until its next request.  Ours exits at once while the process waits for
 * a request, and otherwise lets the request in hand finish first.
 */
static volatile sig_atomic_t app_busy;
static volatile sig_atomic_t app_stopping;

static void
app_on_signal(int signo)
{
	(void)signo;
	if (!app_busy)
		_exit(0);
	app_stopping = 1;
}

static void
app_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = app_on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

int
sb_app_main(const struct sb_app *app, int argc, char **argv)
{
	struct sb_arena arena;
	FCGX_Request fcgi;
	struct sb_ctx ctx;
	int status = 1;

	(void)argc;
	(void)argv;
	sb_arena_init(&arena, SB_APP_ARENA_MAX);
	if (sb_app_ctx_init(&ctx, app) != SB_OK) {
		sb_log(SB_LOG_ERROR, app->name, NULL, "start-up failed");
		goto out;
	}
	if (FCGX_Init() != 0 || FCGX_InitRequest(&fcgi, 0, 0) != 0) {
		sb_log(SB_LOG_ERROR, app->name, NULL, "FastCGI set-up failed");
		goto out;
	}
	app_signals();
	sb_log(SB_LOG_INFO, app->name, NULL, "ready");
	while (!app_stopping && FCGX_Accept_r(&fcgi) >= 0) {
		app_busy = 1;
		app_serve_one(&ctx, &fcgi, &arena);
		app_busy = 0;
	}
	status = 0;
out:
	sb_app_ctx_clear(&ctx);
	sb_arena_clear(&arena);
	return status;
}
