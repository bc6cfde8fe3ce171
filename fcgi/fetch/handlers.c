/*
 * POST /fetch and the jobs: the decision is lib/fetch's (cooldown,
 * minimum interval, one job shared by concurrent requests); this file
 * reads the request, runs the job when asked to wait, and shapes the
 * answers.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "sb/core/deadline.h"
#include "sb/core/response.h"
#include "sb/queues.h"
#include "sb/runtime/work.h"
#include "fetch.h"

#define FETCH_ISO_MAX 32

void
fetch_unknown_resource(
    struct sb_request *req, const char *name, const char *known)
{
	sb_response_errorf(req, 400, "unknown_resource",
	    "unknown resource '%.64s'; the resources are %s", name, known);
}

/* Unix seconds t as "2024-01-01T00:00:00Z". */
static void
fetch_iso(int64_t t, char out[FETCH_ISO_MAX])
{
	time_t tt = (time_t)t;
	struct tm tm;

	out[0] = '\0';
	if (gmtime_r(&tt, &tm) != NULL)
		strftime(out, FETCH_ISO_MAX, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* The body's fields: resource (NULL: the default) and force. */
static bool
fetch_read(struct sb_request *req, const char **resource, bool *force)
{
	const cJSON *r, *f;

	*resource = NULL;
	*force = false;
	if (req->body_len == 0)
		return true;
	if (sb_request_parse_json(req->body, req->body_len,
	        SB_REQUEST_JSON_DEPTH_MAX, &req->json, NULL) != SB_OK ||
	    !cJSON_IsObject(req->json)) {
		sb_response_error(req, 400, "invalid_request",
		    "the body is not a JSON object");
		return false;
	}
	r = cJSON_GetObjectItemCaseSensitive(req->json, "resource");
	f = cJSON_GetObjectItemCaseSensitive(req->json, "force");
	if ((r != NULL && !cJSON_IsString(r)) ||
	    (f != NULL && !cJSON_IsBool(f))) {
		sb_response_error(req, 400, "invalid_request",
		    "resource must be a string and force a boolean");
		return false;
	}
	*resource = r != NULL ? r->valuestring : NULL;
	*force = cJSON_IsTrue(f);
	return true;
}

/* 200 {"status": "fresh", "resource", "fetched_at", "next_fetch_after"}. */
static void
fetch_fresh(struct sb_request *req, const char *resource,
    const struct sb_fetch_decision *d)
{
	char at[FETCH_ISO_MAX], next[FETCH_ISO_MAX];
	cJSON *o = cJSON_CreateObject();

	fetch_iso(d->fetched_at, at);
	fetch_iso(d->next_fetch_after, next);
	if (o == NULL || !cJSON_AddStringToObject(o, "status", "fresh") ||
	    !cJSON_AddStringToObject(o, "resource", resource) ||
	    !cJSON_AddStringToObject(o, "fetched_at", at) ||
	    !cJSON_AddStringToObject(o, "next_fetch_after", next))
		sb_response_store_failed(req, SB_ERR_NOMEM, "the answer");
	else
		sb_response_json(req, 200, o);
	cJSON_Delete(o);
}

/* 429 too_soon with Retry-After. */
static void
fetch_too_soon(struct sb_request *req, const struct sb_fetch_decision *d)
{
	int64_t wait = d->next_fetch_after - (int64_t)time(NULL);
	char text[32];

	snprintf(text, sizeof(text), "%lld", (long long)(wait > 1 ? wait : 1));
	sb_response_header(req, "Retry-After", text);
	sb_response_errorf(req, 429, "too_soon",
	    "a forced fetch must wait %s s after the last one", text);
}

/* Sends the job id with status (202 with Location, or 200). */
static void
fetch_send_job(struct sb_ctx *ctx, struct sb_request *req, int64_t id,
    int status, bool shared)
{
	cJSON *job = NULL;
	char where[64];

	if (sb_fetch_job_json(ctx->db, id, &job) != SB_OK ||
	    !cJSON_AddBoolToObject(job, "shared", shared)) {
		sb_response_store_failed(req, SB_ERR_DB, "the job");
		goto out;
	}
	snprintf(where, sizeof(where), "/jobs/%lld", (long long)id);
	if (status == 202)
		sb_response_header(req, "Location", where);
	sb_response_json(req, status, job);
out:
	cJSON_Delete(job);
}

/* Runs job id now, or waits for the worker that holds it, within the
 * request's deadline. */
static void
fetch_wait(struct sb_ctx *ctx, int64_t id)
{
	enum sb_job_state state = SB_JOB_LEASED;

	if (sb_work_run_id(ctx, sb_queues, SB_QUEUE_COUNT, id) !=
	    SB_ERR_NOT_FOUND)
		return;
	while (sb_jobs_state(ctx->db, id, &state) == SB_OK &&
	    state == SB_JOB_LEASED &&
	    sb_deadline_left(ctx->deadline) > FETCH_WAIT_POLL_MS)
		sb_deadline_sleep(FETCH_WAIT_POLL_MS);
}

/* The outcome of a waited-for job: 200 with its counts, 502 or 504. */
static void
fetch_outcome(
    struct sb_ctx *ctx, struct sb_request *req, int64_t id, bool shared)
{
	const cJSON *status, *code, *counts, *c;
	cJSON *job = NULL, *root = NULL, *err;
	int http;

	if (sb_fetch_job_json(ctx->db, id, &job) != SB_OK) {
		sb_response_store_failed(req, SB_ERR_DB, "the job");
		goto out;
	}
	status = cJSON_GetObjectItemCaseSensitive(job, "status");
	code = cJSON_GetObjectItemCaseSensitive(job, "error_code");
	if (strcmp(status->valuestring, "succeeded") == 0) {
		counts = cJSON_GetObjectItemCaseSensitive(job, "counts");
		cJSON_ArrayForEach(c, counts)
		{
			cJSON_AddNumberToObject(job, c->string, c->valuedouble);
		}
		cJSON_AddBoolToObject(job, "shared", shared);
		sb_response_json(req, 200, job);
		goto out;
	}
	if (!cJSON_IsString(code)) {
		fetch_send_job(ctx, req, id, 202, shared);
		goto out;
	}
	http = strcmp(code->valuestring, "source_timeout") == 0 ? 504 : 502;
	if ((root = cJSON_CreateObject()) == NULL ||
	    (err = cJSON_AddObjectToObject(root, "error")) == NULL ||
	    !cJSON_AddStringToObject(err, "code", code->valuestring) ||
	    !cJSON_AddStringToObject(err, "message",
	        http == 504 ? "the source did not answer in time"
	                    : "the source failed or answered garbage") ||
	    !cJSON_AddItemReferenceToObject(err, "source_status",
	        cJSON_GetObjectItemCaseSensitive(job, "source_status")) ||
	    !cJSON_AddItemReferenceToObject(root, "job", job)) {
		sb_response_store_failed(req, SB_ERR_NOMEM, "the answer");
		goto out;
	}
	sb_response_header(req, "Switchboard-Error", code->valuestring);
	sb_response_json(req, http, root);
out:
	cJSON_Delete(root);
	cJSON_Delete(job);
}

void
fetch_post(struct sb_ctx *ctx, struct sb_request *req)
{
	const char *name, *wait = sb_request_query(req, "wait");
	struct sb_fetch_resource r = { 0 };
	struct sb_fetch_decision d;
	char known[256];
	enum sb_err rc;
	bool force;

	if (!fetch_read(req, &name, &force))
		return;
	rc = sb_fetch_resource_load(ctx->db, name, &r, known, sizeof(known));
	if (rc == SB_ERR_NOT_FOUND) {
		fetch_unknown_resource(req, name != NULL ? name : "", known);
		return;
	}
	if (rc != SB_OK ||
	    (rc = sb_fetch_request(
	         ctx, r.name, force, (int64_t)time(NULL), &d)) != SB_OK) {
		sb_response_store_failed(req, rc, "the fetch");
		goto out;
	}
	if (d.kind == SB_FETCH_FRESH)
		fetch_fresh(req, r.name, &d);
	else if (d.kind == SB_FETCH_TOO_SOON)
		fetch_too_soon(req, &d);
	else if (wait != NULL && strcmp(wait, "true") == 0) {
		fetch_wait(ctx, d.job_id);
		fetch_outcome(ctx, req, d.job_id, d.shared);
	} else
		fetch_send_job(ctx, req, d.job_id, 202, d.shared);
out:
	sb_fetch_resource_clear(&r);
}

void
fetch_jobs_list(struct sb_ctx *ctx, struct sb_request *req)
{
	cJSON *list = NULL;

	if (sb_fetch_jobs_json(ctx->db, &list) != SB_OK)
		sb_response_store_failed(req, SB_ERR_DB, "the jobs");
	else
		sb_response_json(req, 200, list);
	cJSON_Delete(list);
}

void
fetch_job_get(struct sb_ctx *ctx, struct sb_request *req)
{
	cJSON *job = NULL;
	int64_t id;
	enum sb_err rc;

	if (!sb_request_parse_int(
	        sb_request_param(req, "id"), 1, INT64_MAX, &id)) {
		sb_response_error(req, 404, "not_found", "no such job");
		return;
	}
	rc = sb_fetch_job_json(ctx->db, id, &job);
	if (rc == SB_ERR_NOT_FOUND)
		sb_response_error(req, 404, "not_found", "no such job");
	else if (rc != SB_OK)
		sb_response_store_failed(req, rc, "the job");
	else
		sb_response_json(req, 200, job);
	cJSON_Delete(job);
}
