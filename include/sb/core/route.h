/*
 * Routing: each responder has one static table of routes.  A pattern is a
 * path whose segments are literal or ":name" (one non-empty segment, given
 * to the handler as a path parameter); a last segment "*" takes the rest of
 * the path, slashes included, as the parameter "*".  Whether an unmatched
 * request is a 404 or a 405 (with Allow listing the methods the path does have)
 * is decided here and nowhere else.
 */
#ifndef SB_ROUTE_H
#define SB_ROUTE_H

#include <stddef.h>

#include "sb/core/request.h"

#define SB_ROUTE_SEGMENTS_MAX 16
#define SB_ROUTE_ALLOW_MAX 128

struct sb_ctx;

typedef void (*sb_handler)(struct sb_ctx *ctx, struct sb_request *req);

struct sb_route {
	const char *method;
	const char *pattern;
	sb_handler handler;
};

enum sb_route_result {
	SB_ROUTE_FOUND,
	SB_ROUTE_NOT_FOUND,
	SB_ROUTE_METHOD_NOT_ALLOWED,
	SB_ROUTE__MAX
};

/*
 * Finds the route for method and path.  On SB_ROUTE_FOUND *out is the row and
 * req's params are set (values point into the arena); on
 * SB_ROUTE_METHOD_NOT_ALLOWED allow holds "GET, POST"-style text.  HEAD
 * matches a GET route.
 */
enum sb_route_result sb_route_match(const struct sb_route *routes, size_t count,
    const char *method, const char *path, struct sb_request *req,
    const struct sb_route **out, char *allow, size_t allow_size);

/*
 * Matches and runs the handler, or answers 404 or 405 (with Allow) in the
 * request's error style.  A handler that sent nothing gets a 500.
 */
void sb_route_dispatch(struct sb_ctx *ctx, const struct sb_route *routes,
    size_t count, struct sb_request *req);

#endif
