/*
 * The projects responder's handlers: projects, deployments and the
 * deployment webhook of the hosting panel, after its API document
 * (project-api.yaml: paths, camelCase fields, {"name", "message"} errors,
 * pages of 8 with Link and X-Total-Count), plus the user statistics and
 * the project activity feed read from the events service.  Every change
 * writes its events to the outbox in its own transaction.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "projects.h"
#include "sb/core/body.h"
#include "sb/core/header.h"
#include "sb/runtime/context.h"
#include "sb/hosting/events.h"
#include "sb/hosting/hosting.h"
#include "sb/hosting/outbox.h"
#include "sb/core/log.h"
#include "sb/queues.h"
#include "sb/core/response.h"

#define PROJECTS_NUMBER_MAX 32 /* a decimal int64 and its NUL */
#define PROJECTS_QUERY_MAX 48 /* "projectId=" and a number */

static const char *const status_values[] = { "pending", "building", "deploying",
	"done", "failed", "cancelled", NULL };

#define STATUS_NAME_MAX 16 /* longer than any status name */

/* The webhook's body: {"id", "status"} and nothing else. */
enum webhook_field { WEBHOOK_ID, WEBHOOK_STATUS, WEBHOOK__MAX };

static const struct sb_field webhook_fields[WEBHOOK__MAX] = {
	[WEBHOOK_ID] = { .name = "id",
	    .type = SB_FIELD_INT,
	    .required = true,
	    .min = 1 },
	[WEBHOOK_STATUS] = { .name = "status",
	    .type = SB_FIELD_STRING,
	    .required = true,
	    .min = 1,
	    .max = STATUS_NAME_MAX,
	    .one_of = status_values },
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
	char link[SB_HOSTING_LINK_MAX], count[PROJECTS_NUMBER_MAX];

	snprintf(count, sizeof(count), "%lld", (long long)total);
	if (sb_hosting_link(link, sizeof(link), path, query, page,
	        sb_hosting_page_last(total, SB_HOSTING_PAGE_SIZE)) != SB_OK ||
	    sb_response_header(req, "Link", link) != SB_OK ||
	    sb_response_header(req, "X-Total-Count", count) != SB_OK) {
		sb_response_error(
		    req, 500, "internal", "the Link header could not be built");
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

void
projects_list(struct sb_ctx *ctx, struct sb_request *req)
{
	struct sb_project rows[SB_HOSTING_PAGE_SIZE];
	int64_t page, total = 0;
	size_t n = 0;
	enum sb_err rc;

	if (!page_param(req, &page))
		return;
	rc = sb_hosting_project_page(ctx->db, page, rows, &n, &total);
	send_page(req, rc, "/projects", NULL, page, total, rows, n,
	    project_item_json);
}

void
projects_get(struct sb_ctx *ctx, struct sb_request *req)
{
	struct sb_project project;
	int64_t id;
	enum sb_err rc;

	if (!path_id(req, "id", "project", &id))
		return;
	rc = sb_hosting_project_get(ctx->db, id, &project);
	send_one(req, rc, 200, "project", id,
	    rc == SB_OK ? sb_hosting_project_json(&project) : NULL);
}

void
projects_deployment_create(struct sb_ctx *ctx, struct sb_request *req)
{
	struct sb_hosting_outbox outbox;
	struct sb_deployment d;
	int64_t id;
	enum sb_err rc;

	if (!path_id(req, "id", "project", &id))
		return;
	rc = sb_hosting_deployment_create(
	    ctx->db, id, (int)ctx->config.job_max_attempts, &d, &outbox);
	send_one(req, rc, 201, "project", id,
	    rc == SB_OK ? sb_hosting_deployment_json(&d) : NULL);
}

void
projects_deployments_list(struct sb_ctx *ctx, struct sb_request *req)
{
	struct sb_deployment rows[SB_HOSTING_PAGE_SIZE];
	const char *filter = sb_request_query(req, "projectId");
	char query[PROJECTS_QUERY_MAX];
	int64_t page, project_id = 0, total = 0;
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
	snprintf(query, sizeof(query), "projectId=%lld", (long long)project_id);
	send_page(req, rc, "/deployments", project_id > 0 ? query : NULL, page,
	    total, rows, n, deployment_item_json);
}

void
projects_deployment_get(struct sb_ctx *ctx, struct sb_request *req)
{
	struct sb_deployment d;
	int64_t id;
	enum sb_err rc;

	if (!path_id(req, "id", "deployment", &id))
		return;
	rc = sb_hosting_deployment_get(ctx->db, id, &d);
	send_one(req, rc, 200, "deployment", id,
	    rc == SB_OK ? sb_hosting_deployment_json(&d) : NULL);
}

void
projects_deployment_cancel(struct sb_ctx *ctx, struct sb_request *req)
{
	struct sb_hosting_outbox outbox;
	struct sb_deployment d;
	int64_t id;
	enum sb_err rc;

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

void
projects_deployment_webhook(struct sb_ctx *ctx, struct sb_request *req)
{
	struct sb_hosting_webhook hook = {
		.url_domain = ctx->config.project_url_domain,
		.max_attempts = (int)ctx->config.job_max_attempts,
	};
	struct sb_hosting_outbox outbox;
	struct sb_deployment d;
	const cJSON *in[WEBHOOK__MAX];
	enum sb_err rc;

	if ((hook.secret = sb_header_bearer(req->authorization)) == NULL) {
		webhook_unauthorized(req);
		return;
	}
	if (sb_body_json(req, webhook_fields, WEBHOOK__MAX, in) == NULL)
		return;
	hook.id = (int64_t)in[WEBHOOK_ID]->valuedouble;
	sb_hosting_status_parse(in[WEBHOOK_STATUS]->valuestring, &hook.status);
	rc =
	    sb_hosting_webhook_apply(ctx->db, ctx->secrets, &hook, &d, &outbox);
	webhook_answer(req, rc, &hook, &d);
}

void
projects_user_stats(struct sb_ctx *ctx, struct sb_request *req)
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
		sb_response_store_failed(
		    req, rc, "the request could not be completed");
	else
		send_json(req, 200, sb_hosting_stats_json(id, &stats));
}

void
projects_activity(struct sb_ctx *ctx, struct sb_request *req)
{
	struct sb_http_response resp = { 0 };
	struct sb_project project;
	char path[SB_HTTP_URL_MAX], err[SB_HTTP_ERROR_MAX];
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
			sb_response_store_failed(
			    req, rc, "the request could not be completed");
		return;
	}
	snprintf(path, sizeof(path), "/events?projectId=%lld&page=%lld",
	    (long long)id, (long long)page);
	rc = sb_outbox_service(
	    ctx, "GET", path, NULL, 0, &resp, err, sizeof(err));
	if (rc != SB_OK || resp.status != 200 || resp.body == NULL) {
		sb_log(SB_LOG_WARN, "projects", req->request_id,
		    "activity: %s (status %ld)",
		    rc != SB_OK ? err : "events service: bad answer",
		    resp.status);
		if (rc == SB_ERR_TIMEOUT)
			sb_response_error(req, 504, "gateway_timeout",
			    "the events service did not answer in time");
		else
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
