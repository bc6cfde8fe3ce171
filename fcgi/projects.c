/*
 * The projects responder (port 3000): projects, deployments and the
 * deployment webhook of the hosting panel, after its API document.  The
 * static bearer token is checked by nginx; the webhook by this responder.
 */
#include "sb/app.h"
#include "sb/response.h"

static const struct sb_route routes[] = {
	{ "GET", "/health", sb_app_health },
};

static const struct sb_app app = {
	.name = "projects",
	.routes = routes,
	.route_count = sizeof(routes) / sizeof(routes[0]),
	.error_style = SB_RESPONSE_STYLE_NAME,
	.db_file = "switchboard.db",
	.needs_secrets = 0,
	.needs_http = 1,
};

int
main(int argc, char **argv)
{
	return sb_app_main(&app, argc, argv);
}
