/*
 * The users responder's handlers (fcgi/users.c holds the route table):
 * the users API of the CRM sync and the CRM's webhooks.
 */
#ifndef USERS_H
#define USERS_H

#include "sb/core/request.h"
#include "sb/runtime/context.h"

#define USERS_COMPONENT "users"

void users_create(struct sb_ctx *ctx, struct sb_request *req);
void users_list(struct sb_ctx *ctx, struct sb_request *req);
void users_get(struct sb_ctx *ctx, struct sb_request *req);
void users_put(struct sb_ctx *ctx, struct sb_request *req);
void users_delete(struct sb_ctx *ctx, struct sb_request *req);
void users_sync_log(struct sb_ctx *ctx, struct sb_request *req);
void users_sync_now(struct sb_ctx *ctx, struct sb_request *req);
void users_webhook(struct sb_ctx *ctx, struct sb_request *req);

#endif
