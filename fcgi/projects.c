/*
 * The projects responder (port 3000): projects, deployments and the
 * deployment webhook of the hosting panel, after its API document
 * (project-api.yaml: paths, camelCase fields, {"name", "message"} errors,
 * pages of 8 with Link and X-Total-Count), plus the user statistics and
 * the project activity feed read from the events service.  The static
 * bearer token is checked by nginx; the webhook by this responder against
 * the deployment's project secret.  Every change writes its events to the
 * outbox in its own transaction; they are delivered after the response.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "sb/app.h"
#include "sb/hosting.h"
#include "sb/log.h"
#include "sb/queues.h"
#include "sb/response.h"

#define PROJECTS_ACTIVITY_PAGE_MAX 1000000

static const char *const status_values[] = { "pending", "building", "deploying",
	"done", "failed", "cancelled", NULL };

/* The webhook's body: {"id", "status"} and nothing else. */
static const struct sb_field webhook_fields[] = {
	{ "id", SB_FIELD_INT, true, 1, 0, NULL, NULL },
	{ "status", SB_FIELD_STRING, true, 1, 16, status_values, NULL },
};

/* Answers a store failure that is not the caller's mistake. */
static void
store_failed(struct sb_request *req, enum sb_err rc)
{
	if (rc == SB_ERR_BUSY)
		sb_response_error(req, 503, "busy",
		    "the database is busy; try again shortly");
	else
		sb_response_error(
		    req, 500, "internal", "the request could not be completed");
}

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

/* Runs after the response: one delivery attempt of an outbox job. */
static void
deliver_later(struct sb_ctx *ctx, void *arg)
{
	sb_work_run_id(ctx, sb_queues, sb_queue_count, *(const int64_t *)arg);
}

/* Queues the delivery of the change's events for after the response. */
static void
defer_outbox(struct sb_ctx *ctx, struct sb_request *req,
    const struct sb_hosting_outbox *outbox)
{
	int64_t *id;

	for (size_t i = 0; i < outbox->count; i++) {
		/* Left to `sbctl deliver` if either step fails. */
		if ((id = sb_arena_alloc(req->arena, sizeof(*id))) == NULL)
			return;
		*id = outbox->job_ids[i];
		if (sb_app_defer(ctx, deliver_later, id) != SB_OK)
			return;
	}
}

static void
projects_list(struct sb_ctx *ctx, struct sb_request *req)
{
	struct sb_project rows[SB_HOSTING_PAGE_SIZE];
	int64_t page, total = 0;
	cJSON *array;
	size_t n = 0;
	enum sb_err rc;

	if (!page_param(req, &page))
		return;
	if ((rc = sb_hosting_project_page(ctx->db, page, rows, &n, &total)) !=
	    SB_OK) {
		store_failed(req, rc);
		return;
	}
	if (!page_headers(req, "/projects", NULL, page, total))
		return;
	array = cJSON_CreateArray();
	for (size_t i = 0; array != NULL && i < n; i++) {
		cJSON *item = sb_hosting_project_json(&rows[i]);

		if (item == NULL || !cJSON_AddItemToArray(array, item)) {
			cJSON_Delete(item);
			cJSON_Delete(array);
			array = NULL;
		}
	}
	send_json(req, 200, array);
}

static void
project_get(struct sb_ctx *ctx, struct sb_request *req)
{
	struct sb_project project;
	int64_t id;
	enum sb_err rc;

	if (!path_id(req, "id", "project", &id))
		return;
	rc = sb_hosting_project_get(ctx->db, id, &project);
	if (rc == SB_ERR_NOT_FOUND)
		sb_response_errorf(req, 404, "not_found",
		    "no project with id %lld", (long long)id);
	else if (rc != SB_OK)
		store_failed(req, rc);
	else
		send_json(req, 200, sb_hosting_project_json(&project));
}

static void
deployment_create(struct sb_ctx *ctx, struct sb_request *req)
{
	struct sb_hosting_outbox outbox;
	struct sb_deployment d;
	int64_t id;
	enum sb_err rc;

	if (!path_id(req, "id", "project", &id))
		return;
	rc = sb_hosting_deployment_create(
	    ctx->db, id, (int)ctx->config.job_max_attempts, &d, &outbox);
	if (rc == SB_ERR_NOT_FOUND) {
		sb_response_errorf(req, 404, "not_found",
		    "no project with id %lld", (long long)id);
		return;
	}
	if (rc != SB_OK) {
		store_failed(req, rc);
		return;
	}
	send_json(req, 201, sb_hosting_deployment_json(&d));
	defer_outbox(ctx, req, &outbox);
}

static void
deployments_list(struct sb_ctx *ctx, struct sb_request *req)
{
	struct sb_deployment rows[SB_HOSTING_PAGE_SIZE];
	const char *filter = sb_request_query(req, "projectId");
	char query[48];
	int64_t page, project_id = 0, total = 0;
	cJSON *array;
	size_t n = 0;
	enum sb_err rc;

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
	if (rc != SB_OK) {
		store_failed(req, rc);
		return;
	}
	snprintf(query, sizeof(query), "projectId=%lld", (long long)project_id);
	if (!page_headers(req, "/deployments", project_id > 0 ? query : NULL,
	        page, total))
		return;
	array = cJSON_CreateArray();
	for (size_t i = 0; array != NULL && i < n; i++) {
		cJSON *item = sb_hosting_deployment_json(&rows[i]);

		if (item == NULL || !cJSON_AddItemToArray(array, item)) {
			cJSON_Delete(item);
			cJSON_Delete(array);
			array = NULL;
		}
	}
	send_json(req, 200, array);
}

static void
deployment_get(struct sb_ctx *ctx, struct sb_request *req)
{
	struct sb_deployment d;
	int64_t id;
	enum sb_err rc;

	if (!path_id(req, "id", "deployment", &id))
		return;
	rc = sb_hosting_deployment_get(ctx->db, id, &d);
	if (rc == SB_ERR_NOT_FOUND)
		sb_response_errorf(req, 404, "not_found",
		    "no deployment with id %lld", (long long)id);
	else if (rc != SB_OK)
		store_failed(req, rc);
	else
		send_json(req, 200, sb_hosting_deployment_json(&d));
}

static void
deployment_cancel(struct sb_ctx *ctx, struct sb_request *req)
{
	struct sb_hosting_outbox outbox;
	struct sb_deployment d;
	int64_t id;
	enum sb_err rc;

	if (!path_id(req, "id", "deployment", &id))
		return;
	rc = sb_hosting_deployment_cancel(
	    ctx->db, id, (int)ctx->config.job_max_attempts, &d, &outbox);
	if (rc == SB_ERR_NOT_FOUND)
		sb_response_errorf(req, 404, "not_found",
		    "no deployment with id %lld", (long long)id);
	else if (rc == SB_ERR_CONFLICT)
		sb_response_errorf(req, 400, "invalid_state",
		    "deployment %lld is %s; only a pending, building or "
		    "deploying deployment can be cancelled",
		    (long long)id, sb_hosting_status_name(d.status));
	else if (rc != SB_OK)
		store_failed(req, rc);
	else
		send_json(req, 200, sb_hosting_deployment_json(&d));
	if (rc == SB_OK)
		defer_outbox(ctx, req, &outbox);
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
		store_failed(req, rc);
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
	rc = sb_hosting_webhook_apply(ctx->db, &hook, &d, &outbox);
	webhook_answer(req, rc, &hook, &d);
	if (rc == SB_OK)
		defer_outbox(ctx, req, &outbox);
}

static void
user_stats(struct sb_ctx *ctx, struct sb_request *req)
{
	struct sb_hosting_stats stats;
	int64_t id;
	enum sb_err rc;

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
		store_failed(req, rc);
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

	if (!path_id(req, "id", "project", &id) || !page_param(req, &page))
		return;
	if ((rc = sb_hosting_project_get(ctx->db, id, &project)) != SB_OK) {
		if (rc == SB_ERR_NOT_FOUND)
			sb_response_errorf(req, 404, "not_found",
			    "no project with id %lld", (long long)id);
		else
			store_failed(req, rc);
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
	{ "GET", "/health", sb_app_health },
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
