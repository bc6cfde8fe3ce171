/*
 * The proxy responder (port 8080, beside the gateway): calls to providers
 * through a connection (brief 000).  nginx passes it
 * POST /connections/{id}/call and /proxy/{path}; every other route of the
 * port goes to the gateway responder.  A call holds its process for the
 * provider's whole round trip, so these routes have their own processes
 * (proxy_procs) and a slow provider cannot take the capacity connection and
 * mapping requests need.  Handlers are in fcgi/proxy/.
 */
#include "proxy/proxy.h"
#include "sb/core/response.h"
#include "sb/runtime/health.h"
#include "sb/runtime/serve.h"

static const struct sb_route routes[] = {
	{ "GET", "/health", sb_health },
	{ "POST", "/connections/:id/call", proxy_call },
	{ "GET", "/proxy/*", proxy_pass },
	{ "POST", "/proxy/*", proxy_pass },
	{ "PUT", "/proxy/*", proxy_pass },
	{ "PATCH", "/proxy/*", proxy_pass },
	{ "DELETE", "/proxy/*", proxy_pass },
};

static const struct sb_app app = {
	.name = "proxy",
	.routes = routes,
	.route_count = sizeof(routes) / sizeof(routes[0]),
	.error_style = SB_RESPONSE_STYLE_CODE,
	.db_file = "switchboard.db",
	.needs_secrets = true,
	.needs_http = true,
	.needs_providers = true,
};

int
main(int argc, char **argv)
{
	return sb_serve_main(&app, argc, argv);
}
