/* The /health route every responder shares. */
#ifndef SB_HEALTH_H
#define SB_HEALTH_H

#include "sb/core/request.h"
#include "sb/runtime/context.h"

/*
 * A route handler: answers 200 {"status": "ok", "service",
 * "schema_version"} after a database read, or 503 if the read fails.
 */
void sb_health(struct sb_ctx *ctx, struct sb_request *req);

#endif
