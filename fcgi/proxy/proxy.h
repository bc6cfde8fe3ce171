/*
 * The proxy responder's handlers (forward.c): calls to providers through a
 * connection, POST /connections/{id}/call and any method on /proxy/{path}.
 * A call is held for the provider's whole round trip, so these routes run
 * in their own processes (proxy_procs), apart from the gateway's
 * connection and mapping routes.
 */
#ifndef SB_PROXY_H
#define SB_PROXY_H

#include "sb/core/body.h"
#include "sb/core/request.h"
#include "sb/runtime/context.h"

/*
 * Both are route handlers: each sends exactly one response on req (errors
 * in the code style, {"error": {"code", "message"}}) after
 * sb_guard_connection() (the one 401 for any token problem).  Everything
 * they make is freed before they return.
 */

/*
 * POST /connections/{id}/call {"method", "path", "query", "headers",
 * "body", "mapping"}: calls the provider through sb_call_perform() and
 * answers with its status and body (reshaped by the stored mapping if one
 * is named; 400 "unknown_mapping" if none is stored under that id).
 * sb_call_perform()'s errors map to 400, 409, 500, 502, 503 and 504;
 * past the connection's cap of calls in flight, 429 "too_many_calls"
 * with Retry-After, before anything is sent.
 */
void proxy_call(struct sb_ctx *ctx, struct sb_request *req);

/*
 * Any method on /proxy/{path}: the same call with the raw path, query,
 * pass-through headers and body of the request itself, the connection
 * named by its token alone.  400 "invalid_call" without a path.
 */
void proxy_pass(struct sb_ctx *ctx, struct sb_request *req);

#endif
