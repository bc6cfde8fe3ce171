/*
 * Calls through a connection: POST /connections/{id}/call with a JSON
 * description of the call, and /proxy/{path} for curl users (method, query
 * and body passed through).  Both answer the provider's status, content
 * type and body as they came, with only safe headers passed back, unless a
 * mapping is named.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <fcgiapp.h>

#include "proxy.h"
#include "sb/core/header.h"
#include "sb/connect/inflight.h"
#include "sb/connect/call.h"
#include "sb/connect/guard.h"
#include "sb/core/log.h"
#include "sb/connect/mapping.h"
#include "sb/connect/mapstore.h"
#include "sb/connect/path.h"
#include "sb/core/response.h"

static const char *const methods[] = { "GET", "POST", "PUT", "PATCH", "DELETE",
	"HEAD", NULL };

/* Longer than any stored id, so that a wrong one is "unknown_mapping". */
#define CALL_MAPPING_NAME_MAX 64

/* POST /connections/{id}/call: the fields, by the index the handler reads. */
enum call_field {
	CALL_METHOD,
	CALL_PATH,
	CALL_QUERY,
	CALL_HEADERS,
	CALL_BODY,
	CALL_MAPPING,
	CALL__MAX
};

static const struct sb_field call_fields[CALL__MAX] = {
	[CALL_METHOD] = { .name = "method",
	    .type = SB_FIELD_STRING,
	    .one_of = methods },
	[CALL_PATH] = { .name = "path",
	    .type = SB_FIELD_STRING,
	    .required = true,
	    .min = 1,
	    .max = SB_PATH_MAX },
	[CALL_QUERY] = { .name = "query", .type = SB_FIELD_OBJECT },
	[CALL_HEADERS] = { .name = "headers", .type = SB_FIELD_OBJECT },
	[CALL_BODY] = { .name = "body", .type = SB_FIELD_ANY },
	[CALL_MAPPING] = { .name = "mapping",
	    .type = SB_FIELD_STRING,
	    .min = 1,
	    .max = CALL_MAPPING_NAME_MAX },
};

#define PROXY_PREFIX "/proxy/" /* the route group of curl users' calls */

/* Request headers a curl user's /proxy call passes to the provider. */
static const char *const proxy_headers[][2] = {
	{ "HTTP_ACCEPT", "Accept" },
	{ "HTTP_ACCEPT_LANGUAGE", "Accept-Language" },
	{ "HTTP_IF_NONE_MATCH", "If-None-Match" },
	{ "HTTP_IF_MATCH", "If-Match" },
	{ "HTTP_IF_MODIFIED_SINCE", "If-Modified-Since" },
	{ "HTTP_PREFER", "Prefer" },
};

static void
call_failed(struct sb_request *req, enum sb_err rc, const char *err)
{
	const struct sb_call_failure *f = sb_call_failure(rc);
	const char *code;

	if (rc == SB_ERR_STORAGE) {
		sb_response_store_failed(req, rc, "the call could not be made");
		return;
	}
	if (f == NULL) {
		sb_log(SB_LOG_ERROR, "gateway", req->request_id, "call: %s",
		    sb_strerror(rc));
		sb_response_error(req, 500, "internal", "the call failed");
		return;
	}
	if (f->status == 503)
		sb_response_header(
		    req, "Retry-After", SB_RESPONSE_BUSY_RETRY_S);
	code = f->code;
	sb_response_error(
	    req, f->status, code, err[0] != '\0' ? err : f->message);
}

/* Answers with a mapping of the provider's JSON answer. */
static void
respond_mapped(struct sb_request *req, const struct sb_http_response *resp,
    const cJSON *mapping, const char *root)
{
	cJSON *doc = cJSON_ParseWithLength(resp->body, resp->body_len);
	cJSON *out = NULL;

	if (doc == NULL) {
		sb_response_errorf(req, 502, "upstream_malformed",
		    "the provider answered %ld with a body that is not JSON; "
		    "it cannot be mapped",
		    resp->status);
		return;
	}
	if (sb_mapping_apply(mapping, root, doc, &out) != SB_OK)
		sb_response_error(
		    req, 500, "internal", "the mapping could not be applied");
	else
		sb_response_json(req, (int)resp->status, out);
	cJSON_Delete(out);
	cJSON_Delete(doc);
}

/* True if the len bytes of body are one JSON value, white space around. */
static bool
body_is_json(const char *body, size_t len)
{
	const char *end = NULL;
	cJSON *doc = cJSON_ParseWithLengthOpts(body, len, &end, false);
	bool ok = doc != NULL && end != NULL;

	while (ok && (size_t)(end - body) < len &&
	    (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n'))
		end++;
	cJSON_Delete(doc);
	return ok && (size_t)(end - body) == len;
}

/*
 * Answers with the provider's status, content type, body and safe headers.
 * A body the provider declares JSON but that does not parse is a bad
 * answer: 502 upstream_malformed, whatever the status (a body of another
 * type passes as it is: Switchboard does not judge what it does not read).
 */
static void
respond_upstream(struct sb_request *req, const struct sb_provider *provider,
    const struct sb_http_response *resp, const cJSON *mapping, const char *root)
{
	if (resp->body_len > 0 &&
	    sb_header_media_json(resp->content_type, true) &&
	    !body_is_json(resp->body, resp->body_len)) {
		sb_response_errorf(req, 502, "upstream_malformed",
		    "the provider answered %ld with a body declared JSON that "
		    "does not parse",
		    resp->status);
		return;
	}
	for (size_t i = 0; i < resp->header_count; i++)
		if (sb_call_header_passed(provider, resp->headers[i].name))
			sb_response_header(
			    req, resp->headers[i].name, resp->headers[i].value);
	if (mapping != NULL && resp->status >= 200 && resp->status < 300) {
		respond_mapped(req, resp, mapping, root);
		return;
	}
	sb_response_send(req, (int)resp->status,
	    resp->content_type != NULL ? resp->content_type
	                               : "application/octet-stream",
	    resp->body != NULL ? resp->body : "", resp->body_len);
}

/*
 * A 429 that sb_call_perform() made itself (no attempt: the connection's
 * rate budget is spent past what the call may wait) is Switchboard's
 * error, marked as such, with the Retry-After it computed.
 */
static void
respond_refused(struct sb_request *req, const struct sb_http_response *resp)
{
	const char *after = sb_http_response_header(resp, "Retry-After");

	sb_response_header(req, "Retry-After", after != NULL ? after : "1");
	sb_response_errorf(req, 429, "provider_rate_limited",
	    "the connection's rate budget at the provider is spent until its "
	    "window resets in %s s; nothing was sent",
	    after != NULL ? after : "1");
}

/* Runs call for conn and answers; mapping (may be NULL) shapes the answer. */
static void
call_and_respond(struct sb_ctx *ctx, struct sb_request *req,
    struct sb_connection *conn, const struct sb_call *call,
    const cJSON *mapping, const char *root)
{
	struct sb_inflight *inflight = ctx->user;
	struct sb_http_response resp = { 0 };
	char err[SB_CALL_ERROR_MAX];
	enum sb_err rc;

	if (inflight != NULL && !sb_inflight_enter(inflight, conn->id)) {
		sb_response_header(
		    req, "Retry-After", SB_RESPONSE_BUSY_RETRY_S);
		sb_response_errorf(req, 429, "too_many_calls",
		    "this connection has %zu calls in flight already; at most "
		    "%zu at once",
		    sb_inflight_max(inflight), sb_inflight_max(inflight));
		return;
	}
	rc = sb_call_perform(ctx, conn, call, &resp, err, sizeof(err));
	if (inflight != NULL)
		sb_inflight_leave(inflight, conn->id);
	if (rc != SB_OK)
		call_failed(req, rc, err);
	else if (resp.status == 429 && resp.attempts == 0)
		respond_refused(req, &resp);
	else
		respond_upstream(req, conn->provider, &resp, mapping, root);
	sb_http_response_clear(&resp);
}

/*
 * Fills call's body from the JSON "body" field: a string as its text, any
 * other value as its JSON text exactly as received (printing the parsed
 * value would round integers past 2^53 and turn 1e309 into null).  The
 * text is kept in the arena.
 */
static bool
call_body(struct sb_request *req, const cJSON *body, struct sb_call *call)
{
	struct sb_span text = { req->body, req->body_len }, value;

	if (body == NULL || cJSON_IsNull(body))
		return true;
	if (cJSON_IsString(body)) {
		call->body = body->valuestring;
		call->body_len = strlen(body->valuestring);
		return true;
	}
	if (!sb_request_json_member(text, "body", &value))
		return false;
	call->body = sb_arena_strndup(req->arena, value.text, value.len);
	call->body_len = call->body != NULL ? value.len : 0;
	if (cJSON_GetObjectItem(call->headers, "Content-Type") == NULL)
		call->content_type = "application/json";
	return call->body != NULL;
}

void
proxy_call(struct sb_ctx *ctx, struct sb_request *req)
{
	struct sb_call call = { .method = "GET" };
	struct sb_connection conn;
	const cJSON *in[CALL__MAX], *m;
	cJSON *mapping = NULL;
	char *root = NULL;

	if (!sb_guard_connection(ctx, req, sb_request_param(req, "id"), &conn))
		return;
	if (sb_body_json(req, call_fields, CALL__MAX, in) == NULL)
		goto out;
	if (in[CALL_METHOD] != NULL)
		call.method = in[CALL_METHOD]->valuestring;
	call.path = in[CALL_PATH]->valuestring;
	call.query = in[CALL_QUERY];
	call.headers = in[CALL_HEADERS];
	if (!call_body(req, in[CALL_BODY], &call)) {
		sb_response_error(req, 500, "internal", "out of memory");
		goto out;
	}
	m = in[CALL_MAPPING];
	if (m != NULL &&
	    sb_mapstore_get(ctx->db, m->valuestring, &mapping, &root) !=
	        SB_OK) {
		sb_response_error(req, 400, "unknown_mapping",
		    "field 'mapping' names no stored mapping");
		goto out;
	}
	call_and_respond(ctx, req, &conn, &call, mapping, root);
out:
	cJSON_Delete(mapping);
	free(root);
	sb_connection_clear(&conn);
}

/* The path after "/proxy", as the client sent it (nginx's $uri is decoded
 * and normalised, which would hide "..", "//" and encodings). */
static char *
proxy_path(struct sb_request *req)
{
	const char *raw = req->raw_uri;
	size_t len;
	/* The path keeps its leading '/': it starts at the prefix's last. */
	size_t skip = strlen(PROXY_PREFIX) - 1;

	if (strncmp(raw, PROXY_PREFIX, strlen(PROXY_PREFIX)) != 0)
		return NULL;
	len = strcspn(raw + skip, "?");
	return sb_arena_strndup(req->arena, raw + skip, len);
}

/*
 * The query after the first '?' of the URI as the client sent it, "" if
 * none: nginx's QUERY_STRING ends at a raw '#', which would drop the rest
 * silently; the whole of it goes to the call, which refuses the '#'.
 */
static const char *
proxy_query(const struct sb_request *req)
{
	const char *q = strchr(req->raw_uri, '?');

	return q != NULL ? q + 1 : "";
}

/* The pass-through request headers of a /proxy call, as a JSON object. */
static cJSON *
proxy_headers_json(const struct sb_request *req)
{
	cJSON *h = cJSON_CreateObject();
	const char *v;

	for (size_t i = 0; h != NULL && req->fcgi != NULL &&
	     i < sizeof(proxy_headers) / sizeof(proxy_headers[0]);
	     i++)
		if ((v = FCGX_GetParam(proxy_headers[i][0], req->fcgi->envp)) !=
		    NULL)
			cJSON_AddStringToObject(h, proxy_headers[i][1], v);
	return h;
}

void
proxy_pass(struct sb_ctx *ctx, struct sb_request *req)
{
	struct sb_call call = { .method = req->method,
		.raw_query = proxy_query(req),
		.body = req->body_len > 0 ? req->body : NULL,
		.body_len = req->body_len,
		.content_type = req->body_len > 0 ? req->content_type : NULL };
	struct sb_connection conn;
	cJSON *headers = NULL;

	if (!sb_guard_connection(ctx, req, NULL, &conn))
		return;
	if ((call.path = proxy_path(req)) == NULL) {
		sb_response_error(
		    req, 400, "invalid_call", "the proxied path is missing");
		goto out;
	}
	call.headers = headers = proxy_headers_json(req);
	call_and_respond(ctx, req, &conn, &call, NULL, NULL);
out:
	cJSON_Delete(headers);
	sb_connection_clear(&conn);
}
