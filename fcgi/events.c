/*
 * The events responder (port 3001): the data aggregation service that
 * stores the hosting panel's events for analytics and activity feeds.
 */
#include "sb/app.h"
#include "sb/response.h"

static const struct sb_route routes[] = {
	{ "GET", "/health", sb_app_health },
};

static const struct sb_app app = {
	.name = "events",
	.routes = routes,
	.route_count = sizeof(routes) / sizeof(routes[0]),
	.error_style = SB_RESPONSE_STYLE_CODE,
	.db_file = "switchboard.db",
	.needs_secrets = 0,
	.needs_http = 0,
};

int
main(int argc, char **argv)
{
	return sb_app_main(&app, argc, argv);
}
