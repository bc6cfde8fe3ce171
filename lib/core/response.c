/*
 * Writing responses through libfcgi: the status line as a CGI "Status"
 * header, the headers a handler added, and a body.  Errors take one of two
 * shapes chosen per responder.  Formatting is done with snprintf (libfcgi's
 * FCGX_FPrintF does not know %zu).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <fcgiapp.h>

#include "sb/core/header.h"
#include "sb/core/log.h"
#include "sb/core/response.h"

#define RESPONSE_HEAD_MAX 4096
#define RESPONSE_MESSAGE_MAX 512
/* Marks Switchboard's own error answers, never a provider's passed through
 * (nginx's error pages set it too: nginx/errors-*.conf). */
#define RESPONSE_ERROR_HEADER "Switchboard-Error"

struct status_name {
	int status;
	const char *reason;
	const char *name; /* {"name"} of the NAME error style */
};

static const struct status_name statuses[] = {
	{ 200, "OK", "Ok" },
	{ 201, "Created", "Created" },
	{ 202, "Accepted", "Accepted" },
	{ 204, "No Content", "NoContent" },
	{ 301, "Moved Permanently", "MovedPermanently" },
	{ 302, "Found", "Found" },
	{ 303, "See Other", "SeeOther" },
	{ 304, "Not Modified", "NotModified" },
	{ 307, "Temporary Redirect", "TemporaryRedirect" },
	{ 308, "Permanent Redirect", "PermanentRedirect" },
	{ 400, "Bad Request", "BadRequest" },
	{ 401, "Unauthorized", "Unauthorized" },
	{ 403, "Forbidden", "Forbidden" },
	{ 404, "Not Found", "NotFound" },
	{ 405, "Method Not Allowed", "MethodNotAllowed" },
	{ 406, "Not Acceptable", "NotAcceptable" },
	{ 408, "Request Timeout", "RequestTimeout" },
	{ 409, "Conflict", "Conflict" },
	{ 410, "Gone", "Gone" },
	{ 412, "Precondition Failed", "PreconditionFailed" },
	{ 413, "Payload Too Large", "PayloadTooLarge" },
	{ 415, "Unsupported Media Type", "UnsupportedMediaType" },
	{ 414, "URI Too Long", "UriTooLong" },
	{ 422, "Unprocessable Entity", "UnprocessableEntity" },
	{ 429, "Too Many Requests", "TooManyRequests" },
	{ 500, "Internal Server Error", "InternalServerError" },
	{ 502, "Bad Gateway", "BadGateway" },
	{ 503, "Service Unavailable", "ServiceUnavailable" },
	{ 504, "Gateway Timeout", "GatewayTimeout" },
};

static const struct status_name *
status_find(int status)
{
	for (size_t i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++)
		if (statuses[i].status == status)
			return &statuses[i];
	return NULL;
}

const char *
sb_response_reason(int status)
{
	const struct status_name *s = status_find(status);

	return s != NULL ? s->reason : "Unknown";
}

enum sb_err
sb_response_header(struct sb_request *req, const char *name, const char *value)
{
	struct sb_kv *h;

	if (!sb_header_safe(name) || !sb_header_safe(value) ||
	    strchr(name, ':') != NULL)
		return SB_ERR_INVALID;
	if (req->header_count == SB_REQUEST_HEADERS_MAX)
		return SB_ERR_TOO_LARGE;
	h = &req->headers[req->header_count];
	h->key = sb_arena_strdup(req->arena, name);
	h->value = sb_arena_strdup(req->arena, value);
	if (h->key == NULL || h->value == NULL)
		return SB_ERR_NOMEM;
	req->header_count++;
	return SB_OK;
}

/* Formats the CGI header block into buf; false if it does not fit. */
static bool
response_head(const struct sb_request *req, int status,
    const char *content_type, size_t len, char *buf, size_t size, int *n)
{
	int off, w;

	off = snprintf(
	    buf, size, "Status: %d %s\r\n", status, sb_response_reason(status));
	if (content_type != NULL && off > 0 && (size_t)off < size)
		off += snprintf(buf + off, size - (size_t)off,
		    "Content-Type: %s\r\nContent-Length: %zu\r\n", content_type,
		    len);
	for (size_t i = 0;
	     i < req->header_count && off > 0 && (size_t)off < size; i++) {
		w = snprintf(buf + off, size - (size_t)off, "%s: %s\r\n",
		    req->headers[i].key, req->headers[i].value);
		off += w;
	}
	if (off > 0 && (size_t)off < size)
		off += snprintf(buf + off, size - (size_t)off, "\r\n");
	*n = off;
	return off > 0 && (size_t)off < size;
}

enum sb_err
sb_response_send(struct sb_request *req, int status, const char *content_type,
    const char *body, size_t len)
{
	char head[RESPONSE_HEAD_MAX];
	int n;

	if (req->status != 0)
		return SB_ERR_CONFLICT;
	req->status = status;
	if (req->fcgi == NULL)
		return SB_OK;
	if (!response_head(
	        req, status, content_type, len, head, sizeof(head), &n)) {
		sb_log(SB_LOG_ERROR, "response", req->request_id,
		    "response headers exceed %d bytes", RESPONSE_HEAD_MAX);
		return SB_ERR_TOO_LARGE;
	}
	if (FCGX_PutStr(head, n, req->fcgi->out) != n)
		return SB_ERR_IO;
	if (len > 0 && strcmp(req->method, "HEAD") != 0 &&
	    FCGX_PutStr(body, (int)len, req->fcgi->out) != (int)len)
		return SB_ERR_IO;
	return SB_OK;
}

enum sb_err
sb_response_json(struct sb_request *req, int status, const cJSON *json)
{
	enum sb_err rc;
	char *text;

	if ((text = cJSON_PrintUnformatted(json)) == NULL)
		return sb_response_error(
		    req, 500, "internal", "the response could not be built");
	rc = sb_response_send(
	    req, status, "application/json", text, strlen(text));
	cJSON_free(text);
	return rc;
}

enum sb_err
sb_response_no_content(struct sb_request *req)
{
	return sb_response_send(req, 204, NULL, NULL, 0);
}

/*
 * Names code in the Switchboard-Error header, replacing an earlier value (an
 * error met while answering an error answers 500 "internal" instead).  On
 * failure (a full header table, no memory) the answer goes unmarked rather
 * than unsent.
 */
static void
response_mark_error(struct sb_request *req, const char *code)
{
	const char *value;

	for (size_t i = 0; i < req->header_count; i++) {
		if (strcasecmp(req->headers[i].key, RESPONSE_ERROR_HEADER) != 0)
			continue;
		if (sb_header_safe(code) &&
		    (value = sb_arena_strdup(req->arena, code)) != NULL)
			req->headers[i].value = value;
		return;
	}
	sb_response_header(req, RESPONSE_ERROR_HEADER, code);
}

enum sb_err
sb_response_error(
    struct sb_request *req, int status, const char *code, const char *message)
{
	return sb_response_error_detail(req, status, code, message, NULL, NULL);
}

enum sb_err
sb_response_error_fields(struct sb_request *req, int status, const char *code,
    const char *message, const cJSON *fields)
{
	return sb_response_error_detail(
	    req, status, code, message, "fields", fields);
}

enum sb_err
sb_response_error_detail(struct sb_request *req, int status, const char *code,
    const char *message, const char *name, const cJSON *detail)
{
	const struct status_name *s = status_find(status);
	cJSON *root, *inner;
	enum sb_err rc = SB_ERR_NOMEM;

	response_mark_error(req, code);
	if ((root = cJSON_CreateObject()) == NULL)
		goto out;
	if (req->error_style == SB_RESPONSE_STYLE_NAME) {
		inner = root;
		if (!cJSON_AddStringToObject(
		        root, "name", s != NULL ? s->name : "Error"))
			goto out;
	} else {
		if ((inner = cJSON_AddObjectToObject(root, "error")) == NULL ||
		    !cJSON_AddStringToObject(inner, "code", code))
			goto out;
	}
	if (!cJSON_AddStringToObject(inner, "message", message))
		goto out;
	if (name != NULL && detail != NULL &&
	    !cJSON_AddItemToObject(inner, name, cJSON_Duplicate(detail, true)))
		goto out;
	rc = sb_response_json(req, status, root);
out:
	cJSON_Delete(root);
	if (rc == SB_ERR_NOMEM) {
		response_mark_error(req, "internal");
		rc = sb_response_send(req, 500, "application/json", "{}", 2);
	}
	return rc;
}

/*
 * The store's failures that are worth trying again, each with its own code
 * and Retry-After: a lock held too long passes in moments, a store that
 * cannot write (disk full, read-only) once an operator has acted.
 */
static const struct store_failure {
	enum sb_err rc;
	int status;
	const char *code;
	const char *retry_after_s;
	const char *problem;
	const char *advice;
} store_failures[] = {
	{ SB_ERR_BUSY, 503, "busy", SB_RESPONSE_BUSY_RETRY_S,
	    "the database is busy", "try again shortly" },
	{ SB_ERR_STORAGE, 503, "storage_unavailable",
	    SB_RESPONSE_STORAGE_RETRY_S, "storage is unavailable",
	    "try again later" },
};

enum sb_err
sb_response_store_failed(
    struct sb_request *req, enum sb_err rc, const char *what)
{
	size_t i, n = sizeof(store_failures) / sizeof(store_failures[0]);
	const struct store_failure *f;
	const char *code;

	sb_log(SB_LOG_ERROR, "response", req->request_id, "store: %s",
	    sb_strerror(rc));
	for (i = 0; i < n && store_failures[i].rc != rc; i++)
		continue;
	if (i == n)
		return sb_response_errorf(req, 500, "internal", "%s", what);
	f = &store_failures[i];
	code = f->code;
	sb_response_header(req, "Retry-After", f->retry_after_s);
	return sb_response_errorf(req, f->status, code,
	    "%s: %s (nothing was changed); %s", f->problem, what, f->advice);
}

enum sb_err
sb_response_errorf(
    struct sb_request *req, int status, const char *code, const char *fmt, ...)
{
	char message[RESPONSE_MESSAGE_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	return sb_response_error(req, status, code, message);
}
