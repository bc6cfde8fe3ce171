/*
 * GET /data: the stored items of a resource in json-server's query
 * language (sb/fetch/query.h), with X-Total-Count and json-server's Link
 * header (first, prev, next, last: the request's own URL with its
 * "page=N" changed) for a paged query.  Answered from the process's
 * snapshot of the items (sb/fetch/snapshot.h, the responder's own state),
 * which costs one read of the data version while nothing changed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fcgiapp.h>

#include "sb/core/deadline.h"
#include "sb/core/header.h"
#include "sb/core/response.h"
#include "sb/fetch/select.h"
#include "sb/fetch/snapshot.h"
#include "fetch.h"

#define DATA_LINK_MAX 8192 /* bytes of the Link header */
#define DATA_ERR_MAX 512

/* The request's own URL, json-server's getFullURL(). */
static const char *
data_full_url(struct sb_request *req)
{
	const char *host = NULL;

	if (req->fcgi != NULL)
		host = FCGX_GetParam("HTTP_HOST", req->fcgi->envp);
	if (host == NULL || !sb_header_safe(host))
		host = "127.0.0.1";
	return sb_arena_printf(req->arena, "http://%s%s", host, req->raw_uri);
}

/* Appends <url with page=current made page=n>; rel="rel" to buf. */
static void
data_link(char *buf, size_t size, const char *url, int64_t current, int64_t n,
    const char *rel)
{
	char from[32];
	const char *at;
	size_t used = strlen(buf);

	snprintf(from, sizeof(from), "page=%lld", (long long)current);
	at = strstr(url, from);
	if (at == NULL)
		snprintf(buf + used, size - used, "%s<%s>; rel=\"%s\"",
		    used > 0 ? ", " : "", url, rel);
	else
		snprintf(buf + used, size - used,
		    "%s<%.*spage=%lld%s>; rel=\"%s\"", used > 0 ? ", " : "",
		    (int)(at - url), url, (long long)n, at + strlen(from), rel);
}

/* The paging headers of the answer. */
static void
data_headers(struct sb_request *req, const struct sb_fetch_query *q,
    const struct sb_fetch_window *w, int64_t total)
{
	char text[32], links[DATA_LINK_MAX] = "";
	const char *url;

	if (!q->counted)
		return;
	snprintf(text, sizeof(text), "%lld", (long long)total);
	sb_response_header(req, "X-Total-Count", text);
	sb_response_header(req, "Access-Control-Expose-Headers",
	    q->slice == SB_FETCH_SLICE_PAGE ? "X-Total-Count, Link"
	                                    : "X-Total-Count");
	if (q->slice != SB_FETCH_SLICE_PAGE ||
	    (url = data_full_url(req)) == NULL)
		return;
	if (w->first > 0)
		data_link(
		    links, sizeof(links), url, q->page, w->first, "first");
	if (w->prev > 0)
		data_link(links, sizeof(links), url, q->page, w->prev, "prev");
	if (w->next > 0)
		data_link(links, sizeof(links), url, q->page, w->next, "next");
	if (w->last > 0)
		data_link(links, sizeof(links), url, q->page, w->last, "last");
	if (links[0] != '\0')
		sb_response_header(req, "Link", links);
}

/*
 * Answers a query that failed: 503 query_timeout when its deadline passed
 * (while the items were filtered, or loaded), 500 internal naming the cap
 * for a resource past SB_FETCH_SNAPSHOT_ITEMS_MAX, else as every store
 * failure.
 */
static void
data_failed(struct sb_request *req, enum sb_err rc)
{
	if (rc == SB_ERR_TIMEOUT)
		sb_response_errorf(req, 503, "query_timeout",
		    "the query did not finish in its %d ms; narrow it (fewer "
		    "or simpler _like patterns) or try again",
		    SB_FETCH_QUERY_TIME_MAX_MS);
	else if (rc == SB_ERR_TOO_LARGE)
		sb_response_errorf(req, 500, "internal",
		    "the resource holds more than the %d items GET /data "
		    "serves (written to the table directly: a fetch stores "
		    "at most %d)",
		    SB_FETCH_SNAPSHOT_ITEMS_MAX, SB_FETCH_ITEMS_MAX);
	else
		sb_response_store_failed(req, rc, "the data");
}

/* A query's deadline: the request's, or SB_FETCH_QUERY_TIME_MAX_MS from
 * now when that is sooner. */
static int64_t
data_deadline(const struct sb_ctx *ctx)
{
	int64_t own = sb_deadline_now() + SB_FETCH_QUERY_TIME_MAX_MS;

	return ctx->deadline != SB_DEADLINE_NONE && ctx->deadline < own
	    ? ctx->deadline
	    : own;
}

/*
 * The snapshot of the resource called name (NULL: the default one) into
 * *view, loaded within the request's deadline; false when it answered
 * the error.
 */
static bool
data_view(struct sb_ctx *ctx, struct sb_request *req, const char *name,
    const struct sb_fetch_view **view)
{
	char known[256];
	enum sb_err rc;

	rc = sb_fetch_snapshot_get(ctx->user, ctx->db, name, ctx->deadline,
	    view, known, sizeof(known));
	if (rc == SB_ERR_NOT_FOUND)
		fetch_unknown_resource(req, name != NULL ? name : "", known);
	else if (rc != SB_OK)
		data_failed(req, rc);
	return rc == SB_OK;
}

/* Answers the query of req over the resource called name (NULL: the
 * default one). */
static void
data_list(struct sb_ctx *ctx, struct sb_request *req, const char *name)
{
	const struct sb_fetch_view *view;
	struct sb_fetch_query q;
	struct sb_fetch_window w;
	char err[DATA_ERR_MAX];
	const char *code;
	char *json = NULL;
	int64_t total = 0;
	size_t len;
	enum sb_err rc;

	if (!data_view(ctx, req, name, &view))
		return;
	rc = sb_fetch_query_parse(req->arena, view->fields, req->queries,
	    req->query_count, &q, &code, err, sizeof(err));
	if (rc == SB_ERR_INVALID || rc == SB_ERR_TOO_LARGE) {
		sb_response_error(req, 400, code, err);
		return;
	}
	if (rc != SB_OK ||
	    (rc = sb_fetch_select(view, &q, data_deadline(ctx), &total, &w,
	         &json, &len)) != SB_OK) {
		data_failed(req, rc);
		goto out;
	}
	data_headers(req, &q, &w, total);
	sb_response_send(req, 200, "application/json", json, len);
out:
	free(json);
	sb_fetch_query_clear(&q);
}

/* Answers the item id of the resource called name (NULL: default). */
static void
data_one(
    struct sb_ctx *ctx, struct sb_request *req, const char *name, int64_t id)
{
	const struct sb_fetch_view *view;
	const struct sb_fetch_item *item;

	if (!data_view(ctx, req, name, &view))
		return;
	if ((item = sb_fetch_snapshot_item(view, id)) == NULL)
		sb_response_errorf(req, 404, "not_found", "no %s with id %lld",
		    view->name, (long long)id);
	else
		sb_response_send(req, 200, "application/json",
		    view->text + item->out, item->out_len);
}

void
fetch_data_default(struct sb_ctx *ctx, struct sb_request *req)
{
	data_list(ctx, req, NULL);
}

/* /data/{x}: x an id of the default resource when it is a number, else a
 * resource. */
void
fetch_data_resource(struct sb_ctx *ctx, struct sb_request *req)
{
	const char *x = sb_request_param(req, "resource");
	int64_t id;

	if (sb_request_parse_int(x, INT64_MIN, INT64_MAX, &id))
		data_one(ctx, req, NULL, id);
	else
		data_list(ctx, req, x);
}

void
fetch_data_item(struct sb_ctx *ctx, struct sb_request *req)
{
	int64_t id;

	if (!sb_request_parse_int(
	        sb_request_param(req, "id"), INT64_MIN, INT64_MAX, &id)) {
		sb_response_error(req, 404, "not_found", "no such item");
		return;
	}
	data_one(ctx, req, sb_request_param(req, "resource"), id);
}
