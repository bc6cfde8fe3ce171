/*
 * The fetch responder's handlers (fcgi/fetch/handlers.c for /fetch and
 * /jobs, fcgi/fetch/data.c for /data).  Each sends exactly one response.
 */
#ifndef FETCH_HANDLERS_H
#define FETCH_HANDLERS_H

#include "sb/fetch/fetch.h"
#include "sb/runtime/context.h"

#define FETCH_WAIT_POLL_MS 100 /* between looks at another's job */

/*
 * POST /fetch [{"resource", "force"}][?wait=true]: 202 the job (new or
 * shared) with Location; 200 {"status": "fresh", ...} within the
 * cooldown; 429 too_soon when forced inside the minimum interval; 400
 * unknown_resource or invalid_request.  With wait=true: 200 the job with
 * its counts, or 502/504 with the source's status when it failed.
 */
void fetch_post(struct sb_ctx *ctx, struct sb_request *req);

/* GET /jobs: 200, the latest fetch jobs, newest first. */
void fetch_jobs_list(struct sb_ctx *ctx, struct sb_request *req);

/* GET /jobs/{id}: 200 the job; 404 not_found. */
void fetch_job_get(struct sb_ctx *ctx, struct sb_request *req);

/*
 * GET /data, /data/{resource}, /data/{id}, /data/{resource}/{id}: the
 * stored items (sb/fetch/query.h); 400 unknown_field, invalid_query,
 * unknown_resource; 404 not_found for an item; 503 query_timeout when the
 * query ran out of its time.
 */
void fetch_data_default(struct sb_ctx *ctx, struct sb_request *req);
void fetch_data_resource(struct sb_ctx *ctx, struct sb_request *req);
void fetch_data_item(struct sb_ctx *ctx, struct sb_request *req);

/* Answers 400 unknown_resource naming the known ones. */
void fetch_unknown_resource(
    struct sb_request *req, const char *name, const char *known);

#endif
