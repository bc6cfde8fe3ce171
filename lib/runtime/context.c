/*
 * Building and releasing a responder's context (see
 * include/sb/runtime/context.h): configuration first, then only what the
 * responder asks for.  No FastCGI here, so sbctl links without libfcgi.
 */
#include <string.h>

#include "sb/core/log.h"
#include "sb/runtime/context.h"

#define CONTEXT_ERROR_MAX 256 /* a configuration or provider message */
#define CONTEXT_PATH_EXTRA 64 /* room for a file name under var_dir */

void
sb_context_keysource_params(
    const struct sb_config *c, const char *dir, struct sb_keysource_params *p)
{
	p->dir = dir;
	p->key_hex = c->master_key;
	p->command = c->master_key_command;
	p->timeout_ms = c->master_key_command_timeout_ms;
}

/*
 * Borrows first's keyring if first is not NULL and has one; otherwise
 * opens the keyring in var/secrets/ from the configured key source.
 */
static enum sb_err
context_secrets_open(struct sb_ctx *ctx, const struct sb_ctx *first)
{
	const struct sb_config *c = &ctx->config;
	char path[SB_CONFIG_STR_MAX + CONTEXT_PATH_EXTRA];
	struct sb_keysource_params p;
	enum sb_err rc;

	if (first != NULL && first->secrets != NULL) {
		ctx->secrets = first->secrets;
		ctx->secrets_shared = true;
		return SB_OK;
	}
	if ((rc = sb_config_var_path(c, "secrets", path, sizeof(path))) !=
	    SB_OK)
		return rc;
	sb_context_keysource_params(c, path, &p);
	return sb_secrets_open_source(c->master_key_source, &p, &ctx->secrets);
}

/* sb_context_init() and sb_context_init_sharing(); first may be NULL. */
static enum sb_err
context_build(
    struct sb_ctx *ctx, const struct sb_app *app, const struct sb_ctx *first)
{
	char err[CONTEXT_ERROR_MAX],
	    path[SB_CONFIG_STR_MAX + CONTEXT_PATH_EXTRA];
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
	if (app->needs_secrets &&
	    (rc = context_secrets_open(ctx, first)) != SB_OK)
		return rc;
	if (app->needs_http && (rc = sb_context_http_new(ctx)) != SB_OK)
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
sb_context_init(struct sb_ctx *ctx, const struct sb_app *app)
{
	return context_build(ctx, app, NULL);
}

enum sb_err
sb_context_init_sharing(
    struct sb_ctx *ctx, const struct sb_app *app, const struct sb_ctx *first)
{
	return context_build(ctx, app, first);
}

enum sb_err
sb_context_http_new(struct sb_ctx *ctx)
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
sb_context_clear(struct sb_ctx *ctx)
{
	if (ctx->app != NULL && ctx->app->fini != NULL)
		ctx->app->fini(ctx);
	sb_providers_free(ctx->providers);
	ctx->providers = NULL;
	sb_http_free(ctx->http);
	if (!ctx->secrets_shared)
		sb_secrets_free(ctx->secrets);
	sb_db_close(ctx->db);
	ctx->http = NULL;
	ctx->secrets = NULL;
	ctx->secrets_shared = false;
	ctx->db = NULL;
}

void
sb_context_deadline_set(struct sb_ctx *ctx, int64_t deadline)
{
	ctx->deadline = deadline;
	sb_http_deadline_set(ctx->http, deadline);
	sb_db_deadline_set(ctx->db, deadline);
}
