/*
 * The projects responder (port 3000): projects, deployments and the
 * deployment webhook of the hosting panel, after its API document
 * (project-api.yaml: paths, camelCase fields, {"name", "message"} errors,
 * pages of 8 with Link and X-Total-Count), plus the user statistics and
 * the project activity feed read from the events service.  The static
 * bearer token is checked by nginx; the webhook by this responder against
 * the deployment's project secret.  Every change writes its events to the
 * outbox in its own transaction; they are delivered after the response.
 *
 * Delivery is batched and adapts to load.  After every response (of any
 * route, so that a skipped check always has a successor) a process
 * delivers the due events a batch at a time until none is due, but stops
 * (or does not start) while another request waits on the listening socket
 * and this process looked less than OUTBOX_LINGER_MS ago, unless its last
 * batch was full.  Under load each process so sends about one batch per
 * linger, of what came due meanwhile; a backlog drains in full batches;
 * when the load stops, the last response delivers what is left at once.
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include <fastcgi.h>

#include "sb/app.h"
#include "sb/events.h"
#include "sb/hosting.h"
#include "sb/log.h"
#include "sb/queues.h"
#include "sb/response.h"

#define PROJECTS_ACTIVITY_PAGE_MAX 1000000
#define OUTBOX_LINGER_MS 50 /* least time between busy outbox checks */

/* The responder's own state (ctx->user). */
struct projects_state {
	bool listening; /* fd 0 is FastCGI's listening socket */
	int64_t outbox_checked_ms; /* monotonic time of the last check */
	bool outbox_backlog; /* the last batch was full */
};

static const char *const status_values[] = { "pending", "building", "deploying",
	"done", "failed", "cancelled", NULL };

/* The webhook's body: {"id", "status"} and nothing else. */
static const struct sb_field webhook_fields[] = {
	{ "id", SB_FIELD_INT, true, 1, 0, NULL, NULL },
	{ "status", SB_FIELD_STRING, true, 1, 16, status_values, NULL },
};

/* Sends json (consumed); a NULL json (no memory) becomes a 500. */
static void
send_json(struct sb_request *req, int status, cJSON *json)
{
	if (json == NULL)
		sb_response_error(
		    req, 500, "internal", "the response could not be built");
	else
		sb_response_json(req, status, json);
	cJSON_Delete(json);
}

/* The path parameter name as an id >= 1; otherwise answers 404. */
static bool
path_id(struct sb_request *req, const char *name, const char *what, int64_t *id)
{
	const char *text = sb_request_param(req, name);

	if (text != NULL && sb_request_parse_int(text, 1, INT64_MAX, id))
		return true;
	sb_response_errorf(req, 404, "not_found", "no %s with id '%.32s'", what,
	    text != NULL ? text : "");
	return false;
}

/* ?page= as a number; otherwise answers 400. */
static bool
page_param(struct sb_request *req, int64_t *page)
{
	if (sb_hosting_page_parse(sb_request_query(req, "page"), page))
		return true;
	sb_response_errorf(req, 400, "invalid_request",
	    "page must be a whole number from 1 to %d", SB_HOSTING_PAGE_MAX);
	return false;
}

/* Adds Link and X-Total-Count for page of total items at path. */
static bool
page_headers(struct sb_request *req, const char *path, const char *query,
    int64_t page, int64_t total)
{
	char link[SB_HOSTING_LINK_MAX], count[32];

	snprintf(count, sizeof(count), "%lld", (long long)total);
	if (sb_hosting_link(link, sizeof(link), req->scheme, req->host, path,
	        query, page,
	        sb_hosting_page_last(total, SB_HOSTING_PAGE_SIZE)) != SB_OK ||
	    sb_response_header(req, "Link", link) != SB_OK ||
	    sb_response_header(req, "X-Total-Count", count) != SB_OK) {
		sb_response_error(req, 400, "invalid_request",
		    "the Host header cannot be used in links");
		return false;
	}
	return true;
}

/* One item of a page as JSON: rows[i] of the page's own row type. */
typedef cJSON *(*page_item_json)(const void *rows, size_t i);

static cJSON *
project_item_json(const void *rows, size_t i)
{
	return sb_hosting_project_json(&((const struct sb_project *)rows)[i]);
}

static cJSON *
deployment_item_json(const void *rows, size_t i)
{
	return sb_hosting_deployment_json(
	    &((const struct sb_deployment *)rows)[i]);
}

/*
 * Answers a list: rc from the store's page read, then the Link and
 * X-Total-Count headers for page of total items at path (with query), and
 * the n rows as a JSON array of item_json's objects.
 */
static void
send_page(struct sb_request *req, enum sb_err rc, const char *path,
    const char *query, int64_t page, int64_t total, const void *rows, size_t n,
    page_item_json item_json)
{
	cJSON *array;

	if (rc != SB_OK) {
		sb_response_store_failed(
		    req, rc, "the request could not be completed");
		return;
	}
	if (!page_headers(req, path, query, page, total))
		return;
	array = cJSON_CreateArray();
	for (size_t i = 0; array != NULL && i < n; i++) {
		cJSON *item = item_json(rows, i);

		if (item == NULL || !cJSON_AddItemToArray(array, item)) {
			cJSON_Delete(item);
			cJSON_Delete(array);
			array = NULL;
		}
	}
	send_json(req, 200, array);
}

/*
 * Answers a read or change of one item, what (the item's kind) id: 404
 * for SB_ERR_NOT_FOUND, a store failure for any other error, else status
 * with json (consumed either way; NULL unless rc is SB_OK).
 */
static void
send_one(struct sb_request *req, enum sb_err rc, int status, const char *what,
    int64_t id, cJSON *json)
{
	if (rc == SB_ERR_NOT_FOUND)
		sb_response_errorf(req, 404, "not_found", "no %s with id %lld",
		    what, (long long)id);
	else if (rc != SB_OK)
		sb_response_store_failed(
		    req, rc, "the request could not be completed");
	else
		send_json(req, status, json);
	if (rc != SB_OK)
		cJSON_Delete(json);
}

/* Monotonic milliseconds. */
static int64_t
monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* True if a connection waits to be accepted on the listening socket. */
static bool
request_waiting(const struct projects_state *state)
{
	struct pollfd pfd = { .fd = FCGI_LISTENSOCK_FILENO, .events = POLLIN };

	return state->listening && poll(&pfd, 1, 0) == 1 &&
	    (pfd.revents & POLLIN) != 0;
}

/* Whether the outbox is to be looked at now (see the top of the file). */
static bool
outbox_check_now(const struct projects_state *state, int64_t now)
{
	return state->outbox_backlog ||
	    now - state->outbox_checked_ms >= OUTBOX_LINGER_MS ||
	    !request_waiting(state);
}

/*
 * Runs after every response: the due outbox events, a batch (one POST) at
 * a time, for as long as outbox_check_now() allows.  A failed batch is
 * retried with backoff.
 */
static void
deliver_due(struct sb_ctx *ctx, void *arg)
{
	struct projects_state *state = ctx->user;
	int64_t now = monotonic_ms();
	int done, failed;

	(void)arg;
	while (outbox_check_now(state, now)) {
		state->outbox_checked_ms = now;
		state->outbox_backlog = false;
		if (sb_work_run_if_due(ctx, sb_queues, sb_queue_count,
		        SB_EVENTS_QUEUE, &done, &failed) != SB_OK)
			break;
		state->outbox_backlog = done + failed >= SB_EVENTS_BATCH_MAX;
		now = monotonic_ms();
	}
}

/*
 * Queues the outbox check for after the response.  Every handler calls it
 * first; if queueing fails the events wait for the next response or
 * `sbctl deliver`.
 */
static void
outbox_check_later(struct sb_ctx *ctx)
{
	sb_app_defer(ctx, deliver_due, NULL);
}

static void
health(struct sb_ctx *ctx, struct sb_request *req)
{
	outbox_check_later(ctx);
	sb_app_health(ctx, req);
}

static void
projects_list(struct sb_ctx *ctx, struct sb_request *req)
{
	struct sb_project rows[SB_HOSTING_PAGE_SIZE];
	int64_t page, total = 0;
	size_t n = 0;
	enum sb_err rc;

	outbox_check_later(ctx);
	if (!page_param(req, &page))
		return;
	rc = sb_hosting_project_page(ctx->db, page, rows, &n, &total);
	send_page(req, rc, "/projects", NULL, page, total, rows, n,
	    project_item_json);
}

static void
project_get(struct sb_ctx *ctx, struct sb_request *req)
{
	struct sb_project project;
	int64_t id;
	enum sb_err rc;

	outbox_check_later(ctx);
	if (!path_id(req, "id", "project", &id))
		return;
	rc = sb_hosting_project_get(ctx->db, id, &project);
	send_one(req, rc, 200, "project", id,
	    rc == SB_OK ? sb_hosting_project_json(&project) : NULL);
}

static void
deployment_create(struct sb_ctx *ctx, struct sb_request *req)
{
	struct sb_hosting_outbox outbox;
	struct sb_deployment d;
	int64_t id;
	enum sb_err rc;

	outbox_check_later(ctx);
	if (!path_id(req, "id", "project", &id))
		return;
	rc = sb_hosting_deployment_create(
	    ctx->db, id, (int)ctx->config.job_max_attempts, &d, &outbox);
	send_one(req, rc, 201, "project", id,
	    rc == SB_OK ? sb_hosting_deployment_json(&d) : NULL);
}

static void
deployments_list(struct sb_ctx *ctx, struct sb_request *req)
{
	struct sb_deployment rows[SB_HOSTING_PAGE_SIZE];
	const char *filter = sb_request_query(req, "projectId");
	char query[48];
	int64_t page, project_id = 0, total = 0;
	size_t n = 0;
	enum sb_err rc;

	outbox_check_later(ctx);
	if (filter != NULL &&
	    !sb_request_parse_int(filter, 1, INT64_MAX, &project_id)) {
		sb_response_error(req, 400, "invalid_request",
		    "projectId must be a whole number from 1");
		return;
	}
	if (!page_param(req, &page))
		return;
	rc = sb_hosting_deployment_page(
	    ctx->db, project_id, page, rows, &n, &total);
	snprintf(query, sizeof(query), "projectId=%lld", (long long)project_id);
	send_page(req, rc, "/deployments", project_id > 0 ? query : NULL, page,
	    total, rows, n, deployment_item_json);
}

static void
deployment_get(struct sb_ctx *ctx, struct sb_request *req)
{
	struct sb_deployment d;
	int64_t id;
	enum sb_err rc;

	outbox_check_later(ctx);
	if (!path_id(req, "id", "deployment", &id))
		return;
	rc = sb_hosting_deployment_get(ctx->db, id, &d);
	send_one(req, rc, 200, "deployment", id,
	    rc == SB_OK ? sb_hosting_deployment_json(&d) : NULL);
}

static void
deployment_cancel(struct sb_ctx *ctx, struct sb_request *req)
{
	struct sb_hosting_outbox outbox;
	struct sb_deployment d;
	int64_t id;
	enum sb_err rc;

	outbox_check_later(ctx);
	if (!path_id(req, "id", "deployment", &id))
		return;
	rc = sb_hosting_deployment_cancel(
	    ctx->db, id, (int)ctx->config.job_max_attempts, &d, &outbox);
	if (rc == SB_ERR_CONFLICT)
		sb_response_errorf(req, 400, "invalid_state",
		    "deployment %lld is %s; only a pending, building or "
		    "deploying deployment can be cancelled",
		    (long long)id, sb_hosting_status_name(d.status));
	else
		send_one(req, rc, 200, "deployment", id,
		    rc == SB_OK ? sb_hosting_deployment_json(&d) : NULL);
}

/* The token of "Authorization: Bearer <token>", or NULL. */
static const char *
bearer_token(const struct sb_request *req)
{
	const char *h = req->authorization;

	if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0)
		return NULL;
	h += 7;
	while (*h == ' ')
		h++;
	return *h != '\0' ? h : NULL;
}

static void
webhook_unauthorized(struct sb_request *req)
{
	sb_response_header(req, "WWW-Authenticate", "Bearer");
	sb_response_error(req, 401, "unauthorized",
	    "a bearer token with the deployment's project app secret is "
	    "required");
}

/* Answers the outcome of sb_hosting_webhook_apply(). */
static void
webhook_answer(struct sb_request *req, enum sb_err rc,
    const struct sb_hosting_webhook *hook, const struct sb_deployment *d)
{
	if (rc == SB_OK)
		send_json(req, 200, sb_hosting_deployment_json(d));
	else if (rc == SB_ERR_UNAUTHORIZED)
		webhook_unauthorized(req);
	else if (rc == SB_ERR_CONFLICT)
		sb_response_errorf(req, 409, "conflict",
		    "deployment %lld cannot go from %s to %s",
		    (long long)hook->id, sb_hosting_status_name(d->status),
		    sb_hosting_status_name(hook->status));
	else
		sb_response_store_failed(
		    req, rc, "the request could not be completed");
}

static void
deployment_webhook(struct sb_ctx *ctx, struct sb_request *req)
{
	struct sb_hosting_webhook hook = {
		.url_domain = ctx->config.project_url_domain,
		.max_attempts = (int)ctx->config.job_max_attempts,
	};
	struct sb_hosting_outbox outbox;
	struct sb_deployment d;
	const cJSON *body;
	enum sb_err rc;

	outbox_check_later(ctx);
	if ((hook.secret = bearer_token(req)) == NULL) {
		webhook_unauthorized(req);
		return;
	}
	if ((body = sb_app_body(ctx, req, webhook_fields,
	         sizeof(webhook_fields) / sizeof(webhook_fields[0]))) == NULL)
		return;
	hook.id =
	    (int64_t)cJSON_GetObjectItemCaseSensitive(body, "id")->valuedouble;
	sb_hosting_status_parse(
	    cJSON_GetObjectItemCaseSensitive(body, "status")->valuestring,
	    &hook.status);
	rc =
	    sb_hosting_webhook_apply(ctx->db, ctx->secrets, &hook, &d, &outbox);
	webhook_answer(req, rc, &hook, &d);
}

static void
user_stats(struct sb_ctx *ctx, struct sb_request *req)
{
	struct sb_hosting_stats stats;
	int64_t id;
	enum sb_err rc;

	outbox_check_later(ctx);
	if (!path_id(req, "id", "user", &id))
		return;
	rc = sb_hosting_user_exists(ctx->db, id);
	if (rc == SB_OK)
		rc = sb_hosting_user_stats(
		    ctx->db, id, sb_hosting_now_ms(), &stats);
	if (rc == SB_ERR_NOT_FOUND)
		sb_response_errorf(req, 404, "not_found",
		    "no user with id %lld", (long long)id);
	else if (rc != SB_OK)
		sb_response_store_failed(
		    req, rc, "the request could not be completed");
	else
		send_json(req, 200, sb_hosting_stats_json(id, &stats));
}

/* GETs url from the events service with its token into resp. */
static enum sb_err
activity_fetch(
    struct sb_ctx *ctx, const char *url, struct sb_http_response *resp)
{
	char auth[sizeof(ctx->config.events_token) + 16];
	struct sb_http_header headers[] = { { "Authorization", auth } };
	struct sb_http_request hreq = { .method = "GET",
		.url = url,
		.headers = headers,
		.header_count = 1 };
	enum sb_err rc;

	snprintf(auth, sizeof(auth), "Bearer %s", ctx->config.events_token);
	rc = sb_http_perform(ctx->http, &hreq, resp);
	memset(auth, 0, sizeof(auth));
	return rc;
}

static void
project_activity(struct sb_ctx *ctx, struct sb_request *req)
{
	struct sb_http_response resp = { 0 };
	struct sb_project project;
	char url[SB_HTTP_URL_MAX];
	const char *total;
	int64_t id, page;
	enum sb_err rc;

	outbox_check_later(ctx);
	if (!path_id(req, "id", "project", &id) || !page_param(req, &page))
		return;
	if ((rc = sb_hosting_project_get(ctx->db, id, &project)) != SB_OK) {
		if (rc == SB_ERR_NOT_FOUND)
			sb_response_errorf(req, 404, "not_found",
			    "no project with id %lld", (long long)id);
		else
			sb_response_store_failed(
			    req, rc, "the request could not be completed");
		return;
	}
	snprintf(url, sizeof(url),
	    "http://%s:%ld/events?projectId=%lld&page=%lld",
	    ctx->config.listen_address, ctx->config.events_port, (long long)id,
	    (long long)page);
	rc = activity_fetch(ctx, url, &resp);
	if (rc != SB_OK || resp.status != 200 || resp.body == NULL) {
		sb_log(SB_LOG_WARN, "projects", req->request_id,
		    "activity: events service: %s (status %ld)",
		    rc != SB_OK ? sb_strerror(rc) : "bad answer", resp.status);
		sb_response_errorf(req, 502, "bad_gateway",
		    "the events service is unavailable (status %ld)",
		    resp.status);
	} else {
		if ((total = sb_http_response_header(&resp, "X-Total-Count")) !=
		    NULL)
			sb_response_header(req, "X-Total-Count", total);
		sb_response_send(
		    req, 200, "application/json", resp.body, resp.body_len);
	}
	sb_http_response_clear(&resp);
}

static const struct sb_route routes[] = {
	{ "GET", "/health", health },
	{ "GET", "/projects", projects_list },
	{ "GET", "/projects/:id", project_get },
	{ "POST", "/projects/:id/deployment", deployment_create },
	{ "GET", "/projects/:id/activity", project_activity },
	{ "GET", "/deployments", deployments_list },
	{ "GET", "/deployments/:id", deployment_get },
	{ "POST", "/deployments/:id/cancel", deployment_cancel },
	{ "POST", "/deployment/webhook", deployment_webhook },
	{ "GET", "/users/:id/stats", user_stats },
};

static enum sb_err
projects_init(struct sb_ctx *ctx)
{
	struct projects_state *state;
	socklen_t len = sizeof(int);
	int accepting = 0;

	if ((state = calloc(1, sizeof(*state))) == NULL)
		return SB_ERR_NOMEM;
	state->listening = getsockopt(FCGI_LISTENSOCK_FILENO, SOL_SOCKET,
	                       SO_ACCEPTCONN, &accepting, &len) == 0 &&
	    accepting != 0;
	ctx->user = state;
	return SB_OK;
}

static void
projects_fini(struct sb_ctx *ctx)
{
	free(ctx->user);
	ctx->user = NULL;
}

static const struct sb_app app = {
	.name = "projects",
	.routes = routes,
	.route_count = sizeof(routes) / sizeof(routes[0]),
	.error_style = SB_RESPONSE_STYLE_NAME,
	.db_file = "switchboard.db",
	.needs_secrets = 1, /* app secrets are kept as keyed digests */
	.needs_http = 1,
	.init = projects_init,
	.fini = projects_fini,
};

int
main(int argc, char **argv)
{
	return sb_app_main(&app, argc, argv);
}
