/* The /health route every responder shares. */
#ifndef SB_HEALTH_H
#define SB_HEALTH_H

#include "sb/core/request.h"
#include "sb/runtime/context.h"

/*
 * A route handler: answers 200 {"status": "ok", "service",
 * "schema_version", "store"} after a database read and a write probe
 * (sb_db_probe(): "store" is "writable", "busy" when another process held
 * the lock past the probe's short wait, or "none" without a database).  A
 * store that cannot be written gets 503 "storage_unavailable" with the
 * reason and Retry-After; one that cannot be read, or fails the probe
 * otherwise, 503 "unavailable".
 */
void sb_health(struct sb_ctx *ctx, struct sb_request *req);

#endif
