/*
 * The data fetch responder (gateway port, /fetch, /jobs and /data; see
 * docs/data-fetch.md): POST /fetch queues a fetch of the source (or
 * answers that the data is fresh), the job runs right after the response
 * through the after-response drain, and from `sbctl fetch` and `sbctl
 * tick` otherwise; GET /jobs shows the jobs; GET /data reads what was
 * stored with json-server's query language, from a snapshot of the items
 * each process keeps (its own state, ctx->user).  Its own processes,
 * since a POST /fetch?wait=true holds one for the source's whole answer.
 */
#include "fetch/fetch.h"
#include "sb/core/response.h"
#include "sb/fetch/snapshot.h"
#include "sb/queues.h"
#include "sb/runtime/health.h"
#include "sb/runtime/serve.h"

static const struct sb_route routes[] = {
	{ "GET", "/health", sb_health },
	{ "POST", "/fetch", fetch_post },
	{ "GET", "/jobs", fetch_jobs_list },
	{ "GET", "/jobs/:id", fetch_job_get },
	{ "GET", "/data", fetch_data_default },
	{ "GET", "/data/:resource", fetch_data_resource },
	{ "GET", "/data/:resource/:id", fetch_data_item },
};

/* Fetch jobs run after every response. */
static const char *const drain_queues[] = { SB_FETCH_QUEUE, NULL };

/* GET /data's snapshots: this process's, empty until the first query. */
static enum sb_err
fetch_init(struct sb_ctx *ctx)
{
	struct sb_fetch_snapshot *s;
	enum sb_err rc = sb_fetch_snapshot_new(&s);

	ctx->user = s;
	return rc;
}

static void
fetch_fini(struct sb_ctx *ctx)
{
	sb_fetch_snapshot_free(ctx->user);
	ctx->user = NULL;
}

static const struct sb_app app = {
	.name = "fetch",
	.routes = routes,
	.route_count = sizeof(routes) / sizeof(routes[0]),
	.error_style = SB_RESPONSE_STYLE_CODE,
	.db_file = "switchboard.db",
	.needs_secrets = true, /* the connection store's keyring */
	.needs_http = true,
	.needs_providers = true,
	.queues = sb_queues,
	.queue_count = SB_QUEUE_COUNT,
	.drain = drain_queues,
	.init = fetch_init,
	.fini = fetch_fini,
};

int
main(int argc, char **argv)
{
	return sb_serve_main(&app, argc, argv);
}
