/*
 * The sandbox responder (port 8081): the outside world for tests and demos,
 * with its own database: OAuth2 provider, mock CRM, Okta tenants,
 * JSONPlaceholder posts, and switches that make responses fail.
 */
#include "sb/app.h"
#include "sb/response.h"

static const struct sb_route routes[] = {
	{ "GET", "/health", sb_app_health },
};

static const struct sb_app app = {
	.name = "sandbox",
	.routes = routes,
	.route_count = sizeof(routes) / sizeof(routes[0]),
	.error_style = SB_RESPONSE_STYLE_CODE,
	.db_file = "sandbox.db",
	.needs_secrets = 0,
	.needs_http = 0,
};

int
main(int argc, char **argv)
{
	return sb_app_main(&app, argc, argv);
}
