/*
 * The capabilities of integrations, listed and run (see integrations.h).
 * Everything a request can get wrong is answered before anything is sent
 * upstream: the integration and capability, the method, the token and its
 * provider, the input.
 */
#include <stdio.h>
#include <string.h>

#include "integrations.h"
#include "sb/connect/connection.h"
#include "sb/connect/guard.h"
#include "sb/core/body.h"
#include "sb/core/response.h"
#include "sb/integrations/integrations.h"

#define NAMES_MAX 1024 /* bytes of a list of known names in a message */

/* The integrations' names, or a capability's, comma-separated. */
static void
known_names(const struct sb_integrations *list, const struct sb_integration *in,
    char *out, size_t outsize)
{
	size_t used = 0, n;
	const char *name;

	out[0] = '\0';
	n = in != NULL ? in->capability_count : sb_integrations_count(list);
	for (size_t i = 0; i < n && used < outsize; i++) {
		name = in != NULL ? in->capabilities[i].name
		                  : sb_integrations_at(list, i)->name;
		used += (size_t)snprintf(out + used, outsize - used, "%s%s",
		    i > 0 ? ", " : "", name);
	}
}

void
integrations_list(struct sb_ctx *ctx, struct sb_request *req)
{
	cJSON *out = sb_integrations_describe(ctx->user);

	if (out == NULL)
		sb_response_error(req, 500, "internal", "out of memory");
	else
		sb_response_json(req, 200, out);
	cJSON_Delete(out);
}

/* The integration the path names, or NULL after a 404 naming the known. */
static const struct sb_integration *
integration_of(struct sb_ctx *ctx, struct sb_request *req)
{
	const char *name = sb_request_param(req, "integration");
	const struct sb_integration *in = sb_integrations_find(ctx->user, name);
	char names[NAMES_MAX];

	if (in != NULL)
		return in;
	known_names(ctx->user, NULL, names, sizeof(names));
	sb_response_errorf(req, 404, "not_found",
	    "no integration '%s'; the integrations are: %s", name, names);
	return NULL;
}

void
integrations_describe(struct sb_ctx *ctx, struct sb_request *req)
{
	const struct sb_integration *in = integration_of(ctx, req);
	cJSON *out;

	if (in == NULL)
		return;
	if ((out = sb_integration_describe(in)) == NULL)
		sb_response_error(req, 500, "internal", "out of memory");
	else
		sb_response_json(req, 200, out);
	cJSON_Delete(out);
}

/* The capability the path names, or NULL after its 404 or 405. */
static const struct sb_capability *
capability_of(struct sb_request *req, const struct sb_integration *in)
{
	const char *name = sb_request_param(req, "capability");
	const struct sb_capability *cap = sb_integration_capability(in, name);
	bool post = strcmp(req->method, "POST") == 0;
	char names[NAMES_MAX];

	if (cap == NULL) {
		known_names(NULL, in, names, sizeof(names));
		sb_response_errorf(req, 404, "not_found",
		    "integration '%s' has no capability '%s'; its "
		    "capabilities are: %s",
		    in->name, name, names);
		return NULL;
	}
	if (post != cap->write) {
		sb_response_header(req, "Allow", cap->write ? "POST" : "GET");
		sb_response_errorf(req, 405, "method_not_allowed",
		    "%s is a %s: use %s", cap->name,
		    cap->write ? "write" : "read", cap->write ? "POST" : "GET");
		return NULL;
	}
	return cap;
}

/* The query string's pairs as an object of strings; NULL out of memory. */
static cJSON *
query_object(const struct sb_request *req)
{
	cJSON *o = cJSON_CreateObject();

	for (size_t i = 0; o != NULL && i < req->query_count; i++)
		if (!cJSON_AddItemToObject(o, req->queries[i].key,
		        cJSON_CreateString(req->queries[i].value))) {
			cJSON_Delete(o);
			o = NULL;
		}
	return o;
}

/* Sends res: the answer, or the error with its detail and Retry-After. */
static void
respond(struct sb_request *req, const struct sb_integration_result *res)
{
	if (res->code == NULL) {
		sb_response_json(req, res->status, res->body);
		return;
	}
	if (res->retry_after[0] != '\0')
		sb_response_header(req, "Retry-After", res->retry_after);
	sb_response_error_detail(req, res->status, res->code, res->message,
	    res->detail_name, res->body);
}

/*
 * The caller's input, checked: the query of a read, the JSON body of a
 * write.  NULL after the answer (400, 413, 415) was sent.
 */
static cJSON *
input_of(struct sb_request *req, const struct sb_capability *cap)
{
	struct sb_integration_result res = { 0 };
	const cJSON *given;
	cJSON *query = NULL, *input = NULL;
	enum sb_err rc;

	if (cap->write) {
		if ((given = sb_body_json(req, NULL, 0, NULL)) == NULL)
			return NULL;
	} else if ((given = query = query_object(req)) == NULL) {
		sb_response_error(req, 500, "internal", "out of memory");
		return NULL;
	}
	rc = sb_capability_input(cap, given, !cap->write, &input, &res);
	if (rc == SB_ERR_INVALID)
		respond(req, &res);
	else if (rc != SB_OK)
		sb_response_error(req, 500, "internal", "out of memory");
	sb_integration_result_clear(&res);
	cJSON_Delete(query);
	return input;
}

void
integrations_run(struct sb_ctx *ctx, struct sb_request *req)
{
	struct sb_integration_result res = { 0 };
	const struct sb_integration *in;
	const struct sb_capability *cap;
	struct sb_connection conn;
	cJSON *input;

	if ((in = integration_of(ctx, req)) == NULL ||
	    (cap = capability_of(req, in)) == NULL)
		return;
	if (!sb_guard_connection_of(ctx, req, NULL, in->provider, &conn))
		return;
	if ((input = input_of(req, cap)) != NULL) {
		sb_capability_run(ctx, &conn, in, cap, input, req->arena, &res);
		respond(req, &res);
	}
	sb_integration_result_clear(&res);
	cJSON_Delete(input);
	sb_connection_clear(&conn);
}
