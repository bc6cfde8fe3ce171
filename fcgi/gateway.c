/*
 * The gateway responder (port 8080): providers, connections and mappings
 * (brief 000).  Each route group has its rows here and its handlers in
 * fcgi/gateway/; nginx passes only these groups here (calls to providers
 * go to the proxy responder, fcgi/proxy.c).
 */
#include "gateway/gateway.h"
#include "sb/core/response.h"
#include "sb/runtime/health.h"
#include "sb/runtime/serve.h"

static const struct sb_route routes[] = {
	{ "GET", "/health", sb_health },
	{ "GET", "/providers", gateway_providers_list },
	{ "GET", "/providers/:name", gateway_providers_get },
	{ "POST", "/connections", gateway_connections_create },
	{ "GET", "/connections/:id", gateway_connections_get },
	{ "PATCH", "/connections/:id", gateway_connections_patch },
	{ "DELETE", "/connections/:id", gateway_connections_delete },
	{ "POST", "/mappings", gateway_mappings_create },
	{ "GET", "/mappings/:id", gateway_mappings_get },
	{ "DELETE", "/mappings/:id", gateway_mappings_delete },
};

static const struct sb_app app = {
	.name = "gateway",
	.routes = routes,
	.route_count = sizeof(routes) / sizeof(routes[0]),
	.error_style = SB_RESPONSE_STYLE_CODE,
	.db_file = "switchboard.db",
	.needs_secrets = true,
	.needs_providers = true,
};

int
main(int argc, char **argv)
{
	return sb_serve_main(&app, argc, argv);
}
