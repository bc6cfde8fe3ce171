/*
 * The integrations responder (gateway port): capabilities as data
 * (docs/integrations.md).  nginx passes it /capabilities and one location
 * per integration of etc/integrations.json (rendered by scripts/stack);
 * the file is loaded and checked by every process at start, and a bad
 * file stops the start.  A capability holds its process for the
 * provider's round trips, so these routes have their own processes
 * (integrations_procs).  Handlers are in fcgi/integrations/.
 */
#include "integrations/integrations.h"
#include "sb/core/log.h"
#include "sb/core/response.h"
#include "sb/integrations/integrations.h"
#include "sb/runtime/health.h"
#include "sb/runtime/serve.h"

static const struct sb_route routes[] = {
	{ "GET", "/health", sb_health },
	{ "GET", "/capabilities", integrations_list },
	{ "GET", "/capabilities/:integration", integrations_describe },
	{ "GET", "/:integration/:capability", integrations_run },
	{ "POST", "/:integration/:capability", integrations_run },
};

static enum sb_err
integrations_init(struct sb_ctx *ctx)
{
	char err[SB_INTEGRATION_ERROR_MAX];
	struct sb_integrations *list = NULL;
	enum sb_err rc;

	rc = sb_integrations_load(ctx->config.integrations_file, ctx->providers,
	    &list, err, sizeof(err));
	if (rc != SB_OK) {
		sb_log(SB_LOG_ERROR, "integrations", NULL, "%s", err);
		return rc;
	}
	ctx->user = list;
	return SB_OK;
}

static void
integrations_fini(struct sb_ctx *ctx)
{
	sb_integrations_free(ctx->user);
	ctx->user = NULL;
}

static const struct sb_app app = {
	.name = "integrations",
	.routes = routes,
	.route_count = sizeof(routes) / sizeof(routes[0]),
	.error_style = SB_RESPONSE_STYLE_CODE,
	.db_file = "switchboard.db",
	.needs_secrets = true,
	.needs_http = true,
	.needs_providers = true,
	.init = integrations_init,
	.fini = integrations_fini,
};

int
main(int argc, char **argv)
{
	return sb_serve_main(&app, argc, argv);
}
