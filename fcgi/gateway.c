/*
 * The gateway responder (port 8080): connections, the call proxy, mappings
 * and the integrations.  Each route group gets its own rows in the table;
 * the business routes arrive with their issues.
 */
#include "sb/app.h"
#include "sb/response.h"

static const struct sb_route routes[] = {
	{ "GET", "/health", sb_app_health },
};

static const struct sb_app app = {
	.name = "gateway",
	.routes = routes,
	.route_count = sizeof(routes) / sizeof(routes[0]),
	.error_style = SB_RESPONSE_STYLE_CODE,
	.db_file = "switchboard.db",
	.needs_secrets = 1,
	.needs_http = 1,
};

int
main(int argc, char **argv)
{
	return sb_app_main(&app, argc, argv);
}
