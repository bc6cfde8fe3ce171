/*
 * The gateway responder (port 8080): providers, connections, the call
 * proxy and mappings (brief 000).  Each route group has its rows here and
 * its handlers in fcgi/gateway/.
 */
#include "gateway/gateway.h"
#include "sb/response.h"

static const struct sb_route routes[] = {
	{ "GET", "/health", sb_app_health },
	{ "GET", "/providers", gateway_providers_list },
	{ "GET", "/providers/:name", gateway_providers_get },
	{ "POST", "/connections", gateway_connections_create },
	{ "GET", "/connections/:id", gateway_connections_get },
	{ "PATCH", "/connections/:id", gateway_connections_patch },
	{ "DELETE", "/connections/:id", gateway_connections_delete },
	{ "POST", "/connections/:id/call", gateway_call },
	{ "GET", "/proxy/*", gateway_proxy },
	{ "POST", "/proxy/*", gateway_proxy },
	{ "PUT", "/proxy/*", gateway_proxy },
	{ "PATCH", "/proxy/*", gateway_proxy },
	{ "DELETE", "/proxy/*", gateway_proxy },
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
	.needs_secrets = 1,
	.needs_http = 1,
	.needs_providers = 1,
};

int
main(int argc, char **argv)
{
	return sb_app_main(&app, argc, argv);
}
