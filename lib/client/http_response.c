/*
 * The answer side of the HTTP client (sb/client/http.h): curl's write and
 * header callbacks that fill a struct sb_http_response during an attempt, and
 * the calls that read and free one.  Kept apart from lib/client/http.c, which
 * decides what to send and whether to try again, because everything here works
 * on one struct transfer (lib/client/http_internal.h) and never on the curl
 * handle.
 *
 * The response cap is enforced twice: a Content-Length that announces too
 * much aborts before any body arrives, and the write callback refuses the
 * byte that would pass response_max, so the body buffer never grows past
 * response_max + 1 (the NUL).
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http_internal.h"

#define HTTP_BODY_ALLOC_MIN 1024 /* first body buffer */

static void
headers_clear(struct sb_http_response *resp)
{
	for (size_t i = 0; i < resp->header_count; i++) {
		free(resp->headers[i].name);
		free(resp->headers[i].value);
		resp->headers[i].name = NULL;
		resp->headers[i].value = NULL;
	}
	resp->header_count = 0;
}

/* Frees body, content type and kept headers, then zeroes resp. */
void
sb_http_response_clear(struct sb_http_response *resp)
{
	if (resp == NULL)
		return;
	headers_clear(resp);
	free(resp->body);
	free(resp->content_type);
	memset(resp, 0, sizeof(*resp));
}

/* The value of the first kept header called name, any case; or NULL. */
const char *
sb_http_response_header(const struct sb_http_response *resp, const char *name)
{
	if (resp == NULL || name == NULL)
		return NULL;
	for (size_t i = 0; i < resp->header_count; i++)
		if (strcasecmp(resp->headers[i].name, name) == 0)
			return resp->headers[i].value;
	return NULL;
}
/* Drops what the previous attempt left, keeping attempts and timing. */
void
http_transfer_reset(struct transfer *xfer)
{
	struct sb_http_response *resp = xfer->resp;

	headers_clear(resp);
	free(resp->body);
	free(resp->content_type);
	resp->body = NULL;
	resp->content_type = NULL;
	resp->body_len = 0;
	resp->status = 0;
	resp->error[0] = '\0';
	xfer->body_alloc = 0;
	xfer->line_status = 0;
	xfer->too_large = false;
	xfer->nomem = false;
}
/* Grows the body buffer to hold need bytes, never past response_max + 1. */
static bool
body_grow(struct transfer *xfer, size_t need)
{
	size_t size = xfer->body_alloc;
	char *body;

	size = size < HTTP_BODY_ALLOC_MIN ? HTTP_BODY_ALLOC_MIN : size;
	while (size < need && size <= SIZE_MAX / 2)
		size *= 2;
	if (size < need || size > xfer->response_max + 1)
		size = xfer->response_max + 1;
	if ((body = realloc(xfer->resp->body, size)) == NULL)
		return false;
	xfer->resp->body = body;
	xfer->body_alloc = size;
	return true;
}

/* curl's write callback: appends to the body, aborting past the cap. */
size_t
http_body_write(char *data, size_t size, size_t nmemb, void *arg)
{
	struct transfer *xfer = arg;
	struct sb_http_response *resp = xfer->resp;
	size_t n = size * nmemb;

	if (n == 0)
		return 0;
	if (n > xfer->response_max - resp->body_len) {
		xfer->too_large = true;
		return 0;
	}
	if (resp->body_len + n + 1 > xfer->body_alloc &&
	    !body_grow(xfer, resp->body_len + n + 1)) {
		xfer->nomem = true;
		return 0;
	}
	memcpy(resp->body + resp->body_len, data, n);
	resp->body_len += n;
	resp->body[resp->body_len] = '\0';
	return n;
}

/* The status code of "HTTP/x yyy reason"; 0 if it has none. */
static long
status_line_parse(const char *line, size_t len)
{
	const char *space = memchr(line, ' ', len);
	long status = 0;

	if (space == NULL)
		return 0;
	for (const char *p = space + 1; p < line + len && p < space + 4; p++) {
		if (*p < '0' || *p > '9')
			return 0;
		status = status * 10 + (*p - '0');
	}
	return status;
}

/*
 * True if a Content-Length announces a body over the cap.  HEAD, 1xx, 204
 * and 304 answers carry no body whatever their Content-Length says.
 */
static bool
length_too_large(const struct transfer *xfer, const char *value)
{
	unsigned long long length;
	char *end;

	if (xfer->nobody || xfer->line_status / 100 == 1 ||
	    xfer->line_status == 204 || xfer->line_status == 304)
		return false;
	if (*value < '0' || *value > '9')
		return false;
	errno = 0;
	length = strtoull(value, &end, 10);
	if (*end != '\0')
		return false;
	return errno == ERANGE || length > xfer->response_max;
}

/* Keeps one "name: value" line; false aborts the transfer. */
static bool
header_keep(
    struct transfer *xfer, const char *line, size_t name_len, size_t len)
{
	struct sb_http_response *resp = xfer->resp;
	size_t start = name_len + 1, end = len;
	char *name, *value;

	while (start < end && (line[start] == ' ' || line[start] == '\t'))
		start++;
	while (end > start && strchr(" \t\r\n", line[end - 1]) != NULL)
		end--;
	if ((name = strndup(line, name_len)) == NULL ||
	    (value = strndup(line + start, end - start)) == NULL) {
		free(name);
		xfer->nomem = true;
		return false;
	}
	if (strcasecmp(name, "Content-Length") == 0 &&
	    length_too_large(xfer, value))
		xfer->too_large = true;
	if (xfer->too_large || resp->header_count >= SB_HTTP_HEADERS_MAX) {
		free(name);
		free(value);
		return !xfer->too_large;
	}
	resp->headers[resp->header_count].name = name;
	resp->headers[resp->header_count].value = value;
	resp->header_count++;
	return true;
}

/*
 * curl's header callback.  A status line starts a new answer (a 1xx or a
 * new attempt), so the headers kept so far are dropped.
 */
size_t
http_header_write(char *data, size_t size, size_t nitems, void *arg)
{
	struct transfer *xfer = arg;
	size_t n = size * nitems;
	const char *colon;

	if (n >= 5 && memcmp(data, "HTTP/", 5) == 0) {
		headers_clear(xfer->resp);
		xfer->line_status = status_line_parse(data, n);
		return n;
	}
	/* Blank, folded, over-long and colon-less lines are not kept. */
	if (n == 0 || n > SB_HTTP_HEADER_LINE_MAX || data[0] == ' ' ||
	    data[0] == '\t' || (colon = memchr(data, ':', n)) == NULL ||
	    colon == data)
		return n;
	return header_keep(xfer, data, (size_t)(colon - data), n) ? n : 0;
}

enum sb_err
sb_http_response_header_set(
    struct sb_http_response *resp, const char *name, const char *value)
{
	char *n = NULL, *v = NULL;
	size_t at;

	if (resp == NULL || name == NULL || value == NULL)
		return SB_ERR_INVALID;
	if ((n = strdup(name)) == NULL || (v = strdup(value)) == NULL) {
		free(n);
		return SB_ERR_NOMEM;
	}
	for (at = 0; at < resp->header_count; at++)
		if (strcasecmp(resp->headers[at].name, name) == 0)
			break;
	if (at == SB_HTTP_HEADERS_MAX)
		at = SB_HTTP_HEADERS_MAX - 1;
	if (at < resp->header_count) {
		free(resp->headers[at].name);
		free(resp->headers[at].value);
	} else {
		resp->header_count++;
	}
	resp->headers[at].name = n;
	resp->headers[at].value = v;
	return SB_OK;
}
