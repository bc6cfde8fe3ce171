/*
 * Route matching over a responder's static table.  A path matches a pattern
 * when both have the same number of segments and every literal segment is
 * equal; ":name" segments capture one non-empty segment, and a last "*"
 * segment captures the non-empty rest of the path (slashes included).  The
 * first matching row whose method fits wins; if rows match the path but none
 * the method, the answer is 405 with their methods in Allow.
 */
#include <stdio.h>
#include <string.h>

#include "sb/core/log.h"
#include "sb/core/response.h"
#include "sb/core/route.h"

/* Compares one pattern with path, filling params; false if no match. */
static bool
route_path_match(const char *pattern, const char *path, struct sb_request *req)
{
	const char *p = pattern, *s = path, *pe, *se;
	size_t n = 0;

	while (*p == '/' && *s == '/') {
		p++;
		s++;
		pe = p + strcspn(p, "/");
		se = s + strcspn(s, "/");
		if (*p == '*' && pe == p + 1 && *pe == '\0') {
			/* A last "*" segment takes the rest of the path. */
			if (*s == '\0' || n == SB_REQUEST_PARAMS_MAX)
				return false;
			req->params[n].key = "*";
			req->params[n].value = sb_arena_strdup(req->arena, s);
			if (req->params[n].value == NULL)
				return false;
			req->param_count = n + 1;
			return true;
		}
		if (*p == ':') {
			if (se == s || n == SB_REQUEST_PARAMS_MAX)
				return false;
			req->params[n].key = sb_arena_strndup(
			    req->arena, p + 1, (size_t)(pe - p - 1));
			req->params[n].value =
			    sb_arena_strndup(req->arena, s, (size_t)(se - s));
			if (req->params[n].key == NULL ||
			    req->params[n].value == NULL)
				return false;
			n++;
		} else if (pe - p != se - s ||
		    memcmp(p, s, (size_t)(pe - p)) != 0) {
			return false;
		}
		p = pe;
		s = se;
	}
	if (*p != '\0' || *s != '\0')
		return false;
	req->param_count = n;
	return true;
}

static bool
route_method_fits(const char *route_method, const char *method)
{
	return strcmp(route_method, method) == 0 ||
	    (strcmp(method, "HEAD") == 0 && strcmp(route_method, "GET") == 0);
}

/* Appends method to allow unless already listed. */
static void
route_allow_add(char *allow, size_t size, const char *method)
{
	size_t len = strlen(allow);

	if (strstr(allow, method) != NULL)
		return;
	snprintf(allow + len, size - len, "%s%s", len > 0 ? ", " : "", method);
}

enum sb_route_result
sb_route_match(const struct sb_route *routes, size_t count, const char *method,
    const char *path, struct sb_request *req, const struct sb_route **out,
    char *allow, size_t allow_size)
{
	bool path_seen = false;

	*out = NULL;
	if (allow_size > 0)
		allow[0] = '\0';
	for (size_t i = 0; i < count; i++) {
		if (!route_path_match(routes[i].pattern, path, req))
			continue;
		if (route_method_fits(routes[i].method, method)) {
			*out = &routes[i];
			return SB_ROUTE_FOUND;
		}
		path_seen = true;
		route_allow_add(allow, allow_size, routes[i].method);
	}
	req->param_count = 0;
	return path_seen ? SB_ROUTE_METHOD_NOT_ALLOWED : SB_ROUTE_NOT_FOUND;
}

void
sb_route_dispatch(struct sb_ctx *ctx, const struct sb_route *routes,
    size_t count, struct sb_request *req)
{
	char allow[SB_ROUTE_ALLOW_MAX];
	const struct sb_route *route;

	switch (sb_route_match(routes, count, req->method, req->path, req,
	    &route, allow, sizeof(allow))) {
	case SB_ROUTE_FOUND:
		route->handler(ctx, req);
		break;
	case SB_ROUTE_METHOD_NOT_ALLOWED:
		sb_response_header(req, "Allow", allow);
		sb_response_errorf(req, 405, "method_not_allowed",
		    "%s is not allowed here; allowed: %s", req->method, allow);
		break;
	default:
		sb_response_errorf(req, 404, "not_found",
		    "no route for %s %.200s", req->method, req->path);
		break;
	}
	if (req->status == 0) {
		sb_log(SB_LOG_ERROR,
		    req->service != NULL ? req->service : "route",
		    req->request_id, "handler sent no response");
		sb_response_error(
		    req, 500, "internal", "the request could not be completed");
	}
}
