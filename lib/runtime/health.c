/*
 * The /health route (see include/sb/runtime/health.h): one database read,
 * so that a responder whose store cannot be read says so.
 */
#include <stdio.h>

#include "sb/core/response.h"
#include "sb/runtime/health.h"

#define HEALTH_BODY_MAX 256

void
sb_health(struct sb_ctx *ctx, struct sb_request *req)
{
	char body[HEALTH_BODY_MAX];
	int64_t version = 0;
	int n;

	if (ctx->db != NULL && (version = sb_db_schema_version(ctx->db)) < 0) {
		sb_response_error(
		    req, 503, "unavailable", "the database cannot be read");
		return;
	}
	n = snprintf(body, sizeof(body),
	    "{\"status\":\"ok\",\"service\":\"%s\",\"schema_version\":%lld}",
	    ctx->app->name, (long long)version);
	sb_response_send(req, 200, "application/json", body, (size_t)n);
}
