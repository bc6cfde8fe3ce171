/*
 * libFuzzer target: route matching with path parameters over a table, the
 * first thing every request meets after parsing.
 */
#include <stdint.h>
#include <string.h>

#include "sb/core/route.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
nothing(struct sb_ctx *ctx, struct sb_request *req)
{
	(void)ctx;
	(void)req;
}

static const struct sb_route routes[] = {
	{ "GET", "/health", nothing },
	{ "GET", "/projects/:id", nothing },
	{ "POST", "/projects/:id/deployment", nothing },
	{ "GET", "/connections/:id/call/:x", nothing },
	{ "DELETE", "/mappings/:id", nothing },
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const verbs[] = { "GET", "POST", "DELETE", "HEAD" };
	const struct sb_route *route;
	struct sb_request req;
	struct sb_arena arena;
	char allow[SB_ROUTE_ALLOW_MAX];
	char *path;

	if (size < 1)
		return 0;
	sb_arena_init(&arena, 1 << 20);
	memset(&req, 0, sizeof(req));
	req.arena = &arena;
	path = sb_arena_strndup(&arena, (const char *)data + 1, size - 1);
	if (path != NULL &&
	    sb_route_match(routes, sizeof(routes) / sizeof(routes[0]),
	        verbs[data[0] % 4], path, &req, &route, allow,
	        sizeof(allow)) == SB_ROUTE_FOUND) {
		for (size_t i = 0; i < req.param_count; i++)
			if (req.params[i].value[0] == '\0' ||
			    strchr(req.params[i].value, '/') != NULL)
				__builtin_trap();
	}
	sb_arena_clear(&arena);
	return 0;
}
