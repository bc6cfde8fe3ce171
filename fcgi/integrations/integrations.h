/*
 * The integrations responder's handlers (handlers.c): the capabilities
 * of the integrations of etc/integrations.json, listed and run.  ctx->user
 * is the loaded list (struct sb_integrations), made by the responder's
 * init.
 */
#ifndef SB_INTEGRATIONS_RESPONDER_H
#define SB_INTEGRATIONS_RESPONDER_H

#include "sb/core/request.h"
#include "sb/runtime/context.h"

/*
 * Route handlers: each sends exactly one response on req (errors in the
 * code style) and frees what it made before it returns.
 */

/* GET /capabilities: every integration, its provider and capabilities. */
void integrations_list(struct sb_ctx *ctx, struct sb_request *req);

/*
 * GET /capabilities/{integration}: its capabilities with their kind,
 * method, description and input fields (types and limits); 404 naming the
 * known integrations.  No token needed.
 */
void integrations_describe(struct sb_ctx *ctx, struct sb_request *req);

/*
 * GET (a read, query parameters) or POST (a write, a JSON object body)
 * /{integration}/{capability}: 404 for an unknown integration or
 * capability (naming the known ones), 405 with Allow for the other
 * method, 401 without a connection token of the integration's provider
 * (sb_guard_connection_of()), 400 "invalid_input" naming each bad field;
 * nothing is sent upstream for any of these.  Then the capability runs
 * (sb_capability_run()) and its result is the answer.
 */
void integrations_run(struct sb_ctx *ctx, struct sb_request *req);

#endif
