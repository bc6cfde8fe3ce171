/*
 * The gateway responder's handlers, one file per route group: providers and
 * connections (connections.c), calls and the proxy (call.c), mappings
 * (mappings.c).
 */
#ifndef SB_GATEWAY_H
#define SB_GATEWAY_H

#include "sb/app.h"
#include "sb/request.h"

void gateway_providers_list(struct sb_ctx *ctx, struct sb_request *req);
void gateway_providers_get(struct sb_ctx *ctx, struct sb_request *req);
void gateway_connections_create(struct sb_ctx *ctx, struct sb_request *req);
void gateway_connections_get(struct sb_ctx *ctx, struct sb_request *req);
void gateway_connections_patch(struct sb_ctx *ctx, struct sb_request *req);
void gateway_connections_delete(struct sb_ctx *ctx, struct sb_request *req);
void gateway_call(struct sb_ctx *ctx, struct sb_request *req);
void gateway_proxy(struct sb_ctx *ctx, struct sb_request *req);
void gateway_mappings_create(struct sb_ctx *ctx, struct sb_request *req);
void gateway_mappings_get(struct sb_ctx *ctx, struct sb_request *req);
void gateway_mappings_delete(struct sb_ctx *ctx, struct sb_request *req);

#endif
