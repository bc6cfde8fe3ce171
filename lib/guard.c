/*
 * The connection guard (see include/sb/guard.h).
 */
#include <string.h>
#include <strings.h>

#include "sb/guard.h"
#include "sb/log.h"
#include "sb/response.h"

const char *
sb_guard_bearer(const char *authorization)
{
	const char *p = authorization;

	if (p == NULL || strncasecmp(p, "Bearer ", 7) != 0)
		return NULL;
	p += 7;
	while (*p == ' ')
		p++;
	return *p != '\0' ? p : NULL;
}

bool
sb_guard_connection(struct sb_ctx *ctx, struct sb_request *req, const char *id,
    struct sb_connection *conn)
{
	enum sb_err rc;

	rc = sb_connection_authenticate(
	    ctx, sb_guard_bearer(req->authorization), id, conn);
	if (rc == SB_OK)
		return true;
	if (rc == SB_ERR_UNAUTHORIZED || rc == SB_ERR_NOT_FOUND) {
		sb_response_header(req, "WWW-Authenticate", "Bearer");
		sb_response_error(req, 401, "unauthorized",
		    "a valid connection token is required "
		    "(Authorization: Bearer <token>)");
	} else {
		sb_log(SB_LOG_ERROR, "guard", req->request_id,
		    "connection look-up failed: %s", sb_strerror(rc));
		sb_response_error(
		    req, 500, "internal", "the connection could not be loaded");
	}
	return false;
}
