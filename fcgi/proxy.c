/*
 * The proxy responder (port 8080, beside the gateway): calls to providers
 * through a connection (brief 000).  nginx passes it
 * POST /connections/{id}/call and /proxy/{path}; every other route of the
 * port goes to the gateway responder.  A call holds its process for the
 * provider's whole round trip, so these routes have their own processes
 * (proxy_procs), each serving proxy_threads calls at once in threads of
 * its own, and a slow provider cannot take the capacity connection and
 * mapping requests need.  One connection may have at most
 * proxy_calls_per_connection calls in flight in a process; past that a
 * call gets 429 at once.  Handlers are in fcgi/proxy/.
 */
#include "proxy/proxy.h"
#include "sb/connect/inflight.h"
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

/*
 * The calls in flight per connection are counted across this process's
 * workers: one counter, made by the first context's init (in the main
 * thread, before any worker runs) and freed by the last context's fini.
 * Each context holds it as ctx->user.
 */
static struct sb_inflight *proxy_inflight;
static size_t proxy_contexts;

static long
proxy_threads(const struct sb_config *config)
{
	return config->proxy_threads;
}

static enum sb_err
proxy_init(struct sb_ctx *ctx)
{
	enum sb_err rc;

	if (proxy_inflight == NULL &&
	    (rc = sb_inflight_new(
	         (size_t)ctx->config.proxy_calls_per_connection,
	         (size_t)ctx->config.proxy_threads, &proxy_inflight)) != SB_OK)
		return rc;
	proxy_contexts++;
	ctx->user = proxy_inflight;
	return SB_OK;
}

static void
proxy_fini(struct sb_ctx *ctx)
{
	ctx->user = NULL;
	if (proxy_contexts > 0 && --proxy_contexts == 0) {
		sb_inflight_free(proxy_inflight);
		proxy_inflight = NULL;
	}
}

static const struct sb_app app = {
	.name = "proxy",
	.routes = routes,
	.route_count = sizeof(routes) / sizeof(routes[0]),
	.error_style = SB_RESPONSE_STYLE_CODE,
	.db_file = "switchboard.db",
	.needs_secrets = true,
	.needs_http = true,
	.needs_providers = true,
	.threads = proxy_threads,
	.init = proxy_init,
	.fini = proxy_fini,
};

int
main(int argc, char **argv)
{
	return sb_serve_main(&app, argc, argv);
}
