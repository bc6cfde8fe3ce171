/*
 * The sandbox responder (port 8081): the outside world for tests and demos,
 * with its own database: OAuth2 provider, mock CRM, Okta tenants,
 * JSONPlaceholder posts, and switches that make responses fail.  After
 * each response it sends the mock CRM's due webhooks (crm_webhooks.c).
 *
 * Every request but /health passes one gate before its handler: the gate
 * lets the control paths (/_sandbox/...) through only with the sandbox's
 * control token, counts it for /_sandbox/stats and takes the failure switch set
 * for its path (neither for the paths under /_sandbox/), then dispatches
 * through sandbox_routes.  The library matches the app's table first, so that
 * table is a catch-all (a last "*" segment: any depth) for every method,
 * leading to the gate; 404 and 405 come from sandbox_routes.
 */
#include <stdlib.h>
#include <string.h>

#include "sb/runtime/context.h"
#include "sb/core/header.h"
#include "sb/core/log.h"
#include "sb/core/response.h"
#include "sb/store/secrets.h"
#include "sb/runtime/health.h"
#include "sb/runtime/serve.h"
#include "sandbox/sandbox.h"

/* The sandbox's own routes, behind the gate.  Add new ones here. */
static const struct sb_route sandbox_routes[] = {
	{ "POST", "/oauth/grant", sandbox_oauth_grant },
	{ "POST", "/oauth/token", sandbox_oauth_token },
	{ "GET", "/api/me", sandbox_api_me },
	{ "GET", "/api/users", sandbox_api_users },
	{ "GET", "/api/users/:id", sandbox_api_user },
	{ "GET", "/api/echo", sandbox_api_echo },
	{ "POST", "/api/echo", sandbox_api_echo },
	{ "PUT", "/api/echo", sandbox_api_echo },
	{ "PATCH", "/api/echo", sandbox_api_echo },
	{ "DELETE", "/api/echo", sandbox_api_echo },
	{ "GET", "/okta/:tenant/api/v1/users", sandbox_okta_users_list },
	{ "GET", "/okta/:tenant/api/v1/users/:user", sandbox_okta_user_get },
	{ "DELETE", "/okta/:tenant/api/v1/users/:user",
	    sandbox_okta_user_delete },
	{ "POST", "/okta/:tenant/api/v1/users/:user/lifecycle/:action",
	    sandbox_okta_user_lifecycle },
	{ "POST", "/crm/token", sandbox_crm_token },
	{ "POST", "/crm/users", sandbox_crm_user_create },
	{ "GET", "/crm/users/:crm_id", sandbox_crm_user_get },
	{ "PUT", "/crm/users/:crm_id", sandbox_crm_user_put },
	{ "DELETE", "/crm/users/:crm_id", sandbox_crm_user_delete },
	{ "PATCH", "/crm/admin/users/:crm_id", sandbox_crm_admin_patch },
	{ "POST", "/crm/inbox", sandbox_crm_inbox },
	{ "POST", "/_sandbox/okta/:tenant", sandbox_okta_setup },
	{ "GET", "/jsonplaceholder/:resource", sandbox_jp_list },
	{ "GET", "/jsonplaceholder/:resource/:id", sandbox_jp_get },
	{ "POST", "/_sandbox/jsonplaceholder", sandbox_jp_reset },
	{ "POST", "/_sandbox/jsonplaceholder/:resource", sandbox_jp_add },
	{ "PATCH", "/_sandbox/jsonplaceholder/:resource/:id",
	    sandbox_jp_patch },
	{ "DELETE", "/_sandbox/jsonplaceholder/:resource/:id",
	    sandbox_jp_delete },
	{ "POST", "/_sandbox/crm", sandbox_crm_setup },
	{ "GET", "/_sandbox/crm/deliveries", sandbox_crm_deliveries },
	{ "POST", "/okta/:tenant/oauth2/v1/token", sandbox_okta_token },
	{ "GET", "/_sandbox/stats", sandbox_stats_get },
	{ "DELETE", "/_sandbox/stats", sandbox_stats_reset },
	{ "GET", "/_sandbox/faults", sandbox_faults_list },
	{ "POST", "/_sandbox/faults", sandbox_faults_add },
	{ "DELETE", "/_sandbox/faults", sandbox_faults_clear },
};

/* True iff path is the sandbox's own control surface, never counted or
 * switched. */
static bool
sandbox_is_control(const char *path)
{
	return strcmp(path, "/_sandbox") == 0 ||
	    strncmp(path, "/_sandbox/", strlen("/_sandbox/")) == 0;
}

/*
 * Whether req carries the sandbox's control token (sandbox_token, made by
 * `sbctl init`) as a bearer token; compared in constant time.  With no
 * token configured nobody is let in.  The control paths change what the
 * sandbox answers everybody, and a gateway connection may point at the
 * sandbox's host: they are not for anyone who can reach the port.
 */
bool
sandbox_control_allowed(const struct sb_ctx *ctx, const struct sb_request *req)
{
	const char *token = ctx->config.sandbox_token;
	const char *bearer = sb_header_bearer(req->authorization);

	return token[0] != '\0' && bearer != NULL &&
	    sb_secrets_equal_str(bearer, token);
}

/* Counts the request, takes its switch, acts it out or dispatches. */
static void
sandbox_gate(struct sb_ctx *ctx, struct sb_request *req)
{
	struct sandbox_state *state = ctx->user;
	struct sandbox_fault fault = { .present = false };

	state->no_refresh_token = false;
	state->crm_fired = false;
	state->answer_lost = 0;
	if (sandbox_is_control(req->path) &&
	    !sandbox_control_allowed(ctx, req)) {
		sb_response_error(req, 401, "unauthorized",
		    "the sandbox's control paths need its control token "
		    "(var/secrets/sandbox.token) as a bearer token");
		return;
	}
	if (!sandbox_is_control(req->path) &&
	    (sandbox_stats_hit(ctx, req->path) != SB_OK ||
	        sandbox_fault_take(ctx, req->path, &fault) != SB_OK)) {
		sandbox_internal(req, "the gate");
		return;
	}
	if (fault.present)
		sb_log(SB_LOG_DEBUG, SANDBOX_COMPONENT, req->request_id,
		    "switch %d taken on %.200s", (int)fault.kind, req->path);
	if (!sandbox_fault_apply(ctx, req, &fault))
		sb_route_dispatch(ctx, sandbox_routes,
		    sizeof(sandbox_routes) / sizeof(sandbox_routes[0]), req);
	state->no_refresh_token = false;
	state->answer_lost = 0;
}

/* The catch-all rows of every method the gate takes. */
#define SANDBOX_GATE(method, pattern) \
	{ \
		method, pattern, sandbox_gate \
	}
#define SANDBOX_ANY(pattern) \
	SANDBOX_GATE("GET", pattern), SANDBOX_GATE("POST", pattern), \
	    SANDBOX_GATE("PUT", pattern), SANDBOX_GATE("PATCH", pattern), \
	    SANDBOX_GATE("DELETE", pattern)

static const struct sb_route routes[] = {
	{ "GET", "/health", sb_health },
	SANDBOX_ANY("/*"),
};

static enum sb_err
sandbox_init(struct sb_ctx *ctx)
{
	if ((ctx->user = calloc(1, sizeof(struct sandbox_state))) == NULL)
		return SB_ERR_NOMEM;
	return SB_OK;
}

static void
sandbox_fini(struct sb_ctx *ctx)
{
	free(ctx->user);
	ctx->user = NULL;
}

static const struct sb_app app = {
	.name = "sandbox",
	.routes = routes,
	.route_count = sizeof(routes) / sizeof(routes[0]),
	.error_style = SB_RESPONSE_STYLE_CODE,
	.db_file = "sandbox.db",
	.needs_secrets = false,
	.needs_http = true, /* the CRM's webhooks */
	.after_response = sandbox_crm_after_response,
	.init = sandbox_init,
	.fini = sandbox_fini,
};

int
main(int argc, char **argv)
{
	return sb_serve_main(&app, argc, argv);
}
