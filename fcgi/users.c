/*
 * The users responder (gateway port): the users API of the two-way CRM
 * sync (brief 002) and the CRM's signed webhooks.  Every change writes
 * its sync job in its own transaction; the jobs are pushed to the CRM
 * after the response by the runtime's drain (sb/runtime/drain.h), with
 * the user.sync_failed events they may write, and by `sbctl sync` from
 * cron when that fails or the process dies.
 */
#include "sb/hosting/events.h"
#include "sb/queues.h"
#include "sb/core/response.h"
#include "sb/runtime/health.h"
#include "sb/runtime/serve.h"
#include "sb/sync/sync.h"
#include "users/users.h"

static const struct sb_route routes[] = {
	{ "GET", "/health", sb_health },
	{ "POST", "/users", users_create },
	{ "GET", "/users", users_list },
	{ "GET", "/users/:id", users_get },
	{ "PUT", "/users/:id", users_put },
	{ "DELETE", "/users/:id", users_delete },
	{ "GET", "/users/:id/sync-log", users_sync_log },
	{ "POST", "/users/:id/sync", users_sync_now },
	{ "POST", "/webhooks/crm", users_webhook },
	{ "POST", "/webhook", users_webhook },
};

/* Pushes to the CRM, and the events of the pushes that gave up. */
static const char *const drain_queues[] = { SB_SYNC_QUEUE, SB_EVENTS_QUEUE,
	NULL };

/* Requests one process serves at once: creates share commits. */
static long
users_threads(const struct sb_config *config)
{
	return config->users_threads;
}

static const struct sb_app app = {
	.name = "users",
	.threads = users_threads,
	.routes = routes,
	.route_count = sizeof(routes) / sizeof(routes[0]),
	.error_style = SB_RESPONSE_STYLE_CODE,
	.db_file = "switchboard.db",
	.needs_secrets = true, /* the CRM connection's credentials */
	.needs_http = true,
	.needs_providers = true,
	.queues = sb_queues,
	.queue_count = SB_QUEUE_COUNT,
	.drain = drain_queues,
};

int
main(int argc, char **argv)
{
	return sb_serve_main(&app, argc, argv);
}
