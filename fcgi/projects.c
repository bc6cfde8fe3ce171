/*
 * The projects responder (port 3000): projects, deployments and the
 * deployment webhook of the hosting panel, after its API document
 * (project-api.yaml: paths, camelCase fields, {"name", "message"} errors,
 * pages of 8 with Link and X-Total-Count), plus the user statistics and
 * the project activity feed read from the events service.  The static
 * bearer token is checked by nginx; the webhook by this responder against
 * the deployment's project secret.  Every change writes its events to the
 * outbox in its own transaction; they are delivered in batches after
 * every response (of any route) by the runtime's drain
 * (sb/runtime/drain.h), and by `sbctl deliver` from cron.
 */
#include "projects/projects.h"
#include "sb/hosting/events.h"
#include "sb/queues.h"
#include "sb/core/response.h"
#include "sb/runtime/health.h"
#include "sb/runtime/serve.h"

static const struct sb_route routes[] = {
	{ "GET", "/health", sb_health },
	{ "GET", "/projects", projects_list },
	{ "GET", "/projects/:id", projects_get },
	{ "POST", "/projects/:id/deployment", projects_deployment_create },
	{ "GET", "/projects/:id/activity", projects_activity },
	{ "GET", "/deployments", projects_deployments_list },
	{ "GET", "/deployments/:id", projects_deployment_get },
	{ "POST", "/deployments/:id/cancel", projects_deployment_cancel },
	{ "POST", "/deployment/webhook", projects_deployment_webhook },
	{ "GET", "/users/:id/stats", projects_user_stats },
};

/* Every action's events go to the events service after the response. */
static const char *const drain_queues[] = { SB_EVENTS_QUEUE, NULL };

static const struct sb_app app = {
	.name = "projects",
	.routes = routes,
	.route_count = sizeof(routes) / sizeof(routes[0]),
	.error_style = SB_RESPONSE_STYLE_NAME,
	.db_file = "switchboard.db",
	.needs_secrets = true, /* app secrets are kept as keyed digests */
	.needs_http = true,
	.queues = sb_queues,
	.queue_count = SB_QUEUE_COUNT,
	.drain = drain_queues,
};

int
main(int argc, char **argv)
{
	return sb_serve_main(&app, argc, argv);
}
