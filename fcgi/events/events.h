/*
 * The events responder's handlers (handlers.c).  Each is a route handler:
 * it sends exactly one response on req, errors in the code style
 * ({"error": {"code", "message"}}), and frees what it made.
 */
#ifndef SB_EVENTS_RESPONDER_H
#define SB_EVENTS_RESPONDER_H

#include "sb/core/request.h"
#include "sb/runtime/context.h"

/* POST /events: one event (201 new, 200 known id) or an array of them
 * (200 with one {"id", "status"} per item). */
void events_create(struct sb_ctx *ctx, struct sb_request *req);
/* GET /events?name=&projectId=&since=&page=&per_page=: newest first. */
void events_list(struct sb_ctx *ctx, struct sb_request *req);

#endif
