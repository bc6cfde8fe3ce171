/*
 * The events responder (port 3001): the data aggregation service that
 * stores the hosting panel's events for analytics and activity feeds.
 * POST /events stores an event once per id (201 the first time, 200 for a
 * redelivery, since delivery is at least once), or an array of up to
 * SB_EVENTS_BATCH_MAX events in one transaction with a result per item
 * (the outbox delivers in batches); GET /events lists them
 * newest first with name, projectId and since filters, in pages with Link
 * and X-Total-Count.  The static bearer token is checked by nginx.
 */
#include "events/events.h"
#include "sb/core/response.h"
#include "sb/runtime/health.h"
#include "sb/runtime/serve.h"

static const struct sb_route routes[] = {
	{ "GET", "/health", sb_health },
	{ "POST", "/events", events_create },
	{ "GET", "/events", events_list },
};

static const struct sb_app app = {
	.name = "events",
	.routes = routes,
	.route_count = sizeof(routes) / sizeof(routes[0]),
	.error_style = SB_RESPONSE_STYLE_CODE,
	.db_file = "switchboard.db",
	.needs_secrets = false,
	.needs_http = false,
};

int
main(int argc, char **argv)
{
	return sb_serve_main(&app, argc, argv);
}
