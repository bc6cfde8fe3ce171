/*
 * The gateway responder's handlers, one file per route group: providers and
 * connections (connections.c), mappings (mappings.c).  Calls to providers
 * are the proxy responder's (fcgi/proxy/).
 */
#ifndef SB_GATEWAY_H
#define SB_GATEWAY_H

#include "sb/core/body.h"
#include "sb/runtime/context.h"
#include "sb/core/request.h"

/*
 * Every function here is a route handler: it sends exactly one response on
 * req (errors in the code style, {"error": {"code", "message"}}) and
 * returns nothing.  Bodies are checked by sb_body_json() against a field
 * table first (400, 413 or 415); the routes under /connections/{id} pass
 * sb_guard_connection() first (the one 401 for any token
 * problem).  Everything they make is freed before they return.
 */

/* GET /providers: 200 {"providers": [...]}, every provider described. */
void gateway_providers_list(struct sb_ctx *ctx, struct sb_request *req);

/* GET /providers/{name}: 200 the provider described; 404 if unknown. */
void gateway_providers_get(struct sb_ctx *ctx, struct sb_request *req);

/*
 * POST /connections {"provider", "credentials", "config", "metadata"}:
 * 201 {"id", "token", "provider", "created_at"}, the only time the token is
 * shown (Cache-Control: no-store).  400 for an unknown provider or input
 * the provider's definition refuses; 500 or 503 "busy" if it could not be
 * stored.
 */
void gateway_connections_create(struct sb_ctx *ctx, struct sb_request *req);

/* GET /connections/{id}: 200 the connection's public view. */
void gateway_connections_get(struct sb_ctx *ctx, struct sb_request *req);

/*
 * PATCH /connections/{id} {"credentials", "config"}: replaces either or
 * both; 200 the public view.  400 if neither is given or the provider
 * refuses them; 500 or 503 "busy" if they could not be stored.
 */
void gateway_connections_patch(struct sb_ctx *ctx, struct sb_request *req);

/* DELETE /connections/{id}: 204; 500 or 503 "busy" if the delete failed. */
void gateway_connections_delete(struct sb_ctx *ctx, struct sb_request *req);

/*
 * POST /mappings {"mapping", "root"}: 201 {"id"}; 400 "invalid_mapping"
 * naming the field and position of a bad path; 500 if it could not be
 * stored.
 */
void gateway_mappings_create(struct sb_ctx *ctx, struct sb_request *req);

/* GET /mappings/{id}: 200 {"id", "mapping", "root"}; 404 if none. */
void gateway_mappings_get(struct sb_ctx *ctx, struct sb_request *req);

/* DELETE /mappings/{id}: 204; 404 if none. */
void gateway_mappings_delete(struct sb_ctx *ctx, struct sb_request *req);

#endif
