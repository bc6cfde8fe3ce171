/*
 * The connection guard (see include/sb/connect/guard.h).
 */
#include <string.h>
#include <strings.h>

#include "sb/connect/guard.h"
#include "sb/core/header.h"
#include "sb/core/response.h"

bool
sb_guard_connection(struct sb_ctx *ctx, struct sb_request *req, const char *id,
    struct sb_connection *conn)
{
	return sb_guard_connection_of(ctx, req, id, NULL, conn);
}

bool
sb_guard_connection_of(struct sb_ctx *ctx, struct sb_request *req,
    const char *id, const struct sb_provider *provider,
    struct sb_connection *conn)
{
	enum sb_err rc;

	rc = sb_connection_authenticate(SB_CONNECTION_STORE(ctx),
	    sb_header_bearer(req->authorization), id, conn);
	if (rc == SB_OK && provider != NULL && conn->provider != provider) {
		sb_connection_clear(conn);
		rc = SB_ERR_UNAUTHORIZED;
	}
	if (rc == SB_OK)
		return true;
	if (rc == SB_ERR_UNAUTHORIZED || rc == SB_ERR_NOT_FOUND) {
		sb_response_header(req, "WWW-Authenticate", "Bearer");
		sb_response_error(req, 401, "unauthorized",
		    "a valid connection token is required "
		    "(Authorization: Bearer <token>)");
	} else {
		sb_response_store_failed(
		    req, rc, "the connection could not be loaded");
	}
	return false;
}
