/*
 * Reading one FastCGI request into the arena (sb_request_read() in
 * include/sb/core/request.h): its parameters, its body within the cap, and
 * its query string through the parsers of request.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fcgiapp.h>

#include "sb/core/request.h"
static const char *
param(FCGX_Request *fcgi, struct sb_arena *arena, const char *name,
    const char *fallback)
{
	const char *v = FCGX_GetParam(name, fcgi->envp);

	return v != NULL ? sb_arena_strdup(arena, v) : fallback;
}

/* Reads the body; SB_ERR_TOO_LARGE past body_max whatever was declared. */
static enum sb_err
request_read_body(struct sb_request *req, size_t body_max)
{
	const char *declared = FCGX_GetParam("CONTENT_LENGTH", req->fcgi->envp);
	int64_t length = 0;
	int n;

	if (declared != NULL && *declared != '\0' &&
	    !sb_request_parse_int(declared, 0, INT64_MAX, &length))
		return SB_ERR_INVALID;
	if ((uint64_t)length > body_max)
		return SB_ERR_TOO_LARGE;
	if ((req->body = sb_arena_alloc(req->arena, (size_t)length + 1)) ==
	    NULL)
		return SB_ERR_NOMEM;
	if (length > 0) {
		n = FCGX_GetStr(req->body, (int)length, req->fcgi->in);
		if (n < 0 || n != length)
			return SB_ERR_INVALID;
	}
	req->body_len = (size_t)length;
	req->body[length] = '\0';
	return SB_OK;
}

enum sb_err
sb_request_read(struct sb_request *req, struct FCGX_Request *fcgi,
    struct sb_arena *arena, size_t body_max)
{
	enum sb_err rc;

	memset(req, 0, sizeof(*req));
	req->fcgi = fcgi;
	req->arena = arena;
	req->method = param(fcgi, arena, "REQUEST_METHOD", "GET");
	req->path = param(fcgi, arena, "DOCUMENT_URI", "/");
	req->raw_uri = param(fcgi, arena, "REQUEST_URI", "/");
	req->query = param(fcgi, arena, "QUERY_STRING", "");
	req->request_id = param(fcgi, arena, "REQUEST_ID", "-");
	req->content_type = param(fcgi, arena, "CONTENT_TYPE", NULL);
	req->authorization = param(fcgi, arena, "HTTP_AUTHORIZATION", NULL);
	if (req->method == NULL || req->path == NULL || req->query == NULL)
		return SB_ERR_NOMEM;
	if ((rc = request_read_body(req, body_max)) != SB_OK)
		return rc;
	return sb_request_parse_query(
	    arena, req->query, &req->queries, &req->query_count);
}
