/*
 * The projects responder's handlers (handlers.c).  Each is a route handler:
 * it sends exactly one response on req, errors in the hosting panel's
 * {"name", "message"} style (see project-api.yaml), and frees what it made.
 */
#ifndef SB_PROJECTS_RESPONDER_H
#define SB_PROJECTS_RESPONDER_H

#include "sb/core/request.h"
#include "sb/runtime/context.h"

/* GET /projects?page=: a page of 8 projects, Link and X-Total-Count. */
void projects_list(struct sb_ctx *ctx, struct sb_request *req);
/* GET /projects/{id}: the project with its deployment flags; 404 if none. */
void projects_get(struct sb_ctx *ctx, struct sb_request *req);
/* POST /projects/{id}/deployment: 201 the new deployment; 409 if one is
 * ongoing; its event goes to the outbox in the same transaction. */
void projects_deployment_create(struct sb_ctx *ctx, struct sb_request *req);
/* GET /deployments?projectId=&page=: a page of deployments. */
void projects_deployments_list(struct sb_ctx *ctx, struct sb_request *req);
/* GET /deployments/{id}: the deployment; 404 if none. */
void projects_deployment_get(struct sb_ctx *ctx, struct sb_request *req);
/* POST /deployments/{id}/cancel: 200 cancelled; 409 if it cannot be. */
void projects_deployment_cancel(struct sb_ctx *ctx, struct sb_request *req);
/* POST /deployment/webhook {"id", "status"} with the project's app
 * secret as bearer token: 200 the deployment moved; 401, 404, 409. */
void projects_deployment_webhook(struct sb_ctx *ctx, struct sb_request *req);
/* GET /users/{id}/stats: the user's weekly deployment statistics. */
void projects_user_stats(struct sb_ctx *ctx, struct sb_request *req);
/* GET /projects/{id}/activity?page=: the project's events, read from the
 * events service; 502 when that service fails. */
void projects_activity(struct sb_ctx *ctx, struct sb_request *req);

#endif
