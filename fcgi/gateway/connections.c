/*
 * Providers and connections: GET /providers[/{name}], POST /connections,
 * GET, PATCH and DELETE /connections/{id}.  Input is checked against a
 * field table and then the provider's definition before anything is
 * stored; the token is shown once, in the 201.
 */
#include <string.h>

#include "gateway.h"
#include "sb/guard.h"
#include "sb/log.h"
#include "sb/response.h"

static const struct sb_field create_fields[] = {
	{ .name = "provider",
	    .type = SB_FIELD_STRING,
	    .required = true,
	    .min = 1,
	    .max = 64 },
	{ .name = "credentials", .type = SB_FIELD_OBJECT, .required = true },
	{ .name = "config", .type = SB_FIELD_OBJECT },
	{ .name = "metadata", .type = SB_FIELD_OBJECT },
};

static const struct sb_field patch_fields[] = {
	{ .name = "credentials", .type = SB_FIELD_OBJECT },
	{ .name = "config", .type = SB_FIELD_OBJECT },
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

void
gateway_providers_list(struct sb_ctx *ctx, struct sb_request *req)
{
	cJSON *root = cJSON_CreateObject(), *list;

	list = cJSON_AddArrayToObject(root, "providers");
	for (size_t i = 0;
	     list != NULL && i < sb_providers_count(ctx->providers); i++)
		cJSON_AddItemToArray(list,
		    sb_provider_describe(sb_providers_at(ctx->providers, i)));
	sb_response_json(req, 200, root);
	cJSON_Delete(root);
}

void
gateway_providers_get(struct sb_ctx *ctx, struct sb_request *req)
{
	const struct sb_provider *p =
	    sb_providers_find(ctx->providers, sb_request_param(req, "name"));
	cJSON *j;

	if (p == NULL) {
		sb_response_error(req, 404, "not_found", "no such provider");
		return;
	}
	j = sb_provider_describe(p);
	sb_response_json(req, 200, j);
	cJSON_Delete(j);
}

static bool
metadata_fits(const cJSON *metadata)
{
	char *text = metadata != NULL ? cJSON_PrintUnformatted(metadata) : NULL;
	bool ok = metadata == NULL ||
	    (text != NULL && strlen(text) <= SB_CONNECTION_METADATA_MAX);

	cJSON_free(text);
	return ok;
}

void
gateway_connections_create(struct sb_ctx *ctx, struct sb_request *req)
{
	const cJSON *body, *config, *metadata, *credentials;
	char token[SB_CONNECTION_TOKEN_MAX], err[SB_PROVIDER_ERROR_MAX];
	struct sb_connection conn = { 0 };
	const struct sb_provider *p;
	cJSON *out = NULL;
	enum sb_err rc;

	if ((body = sb_app_body(
	         ctx, req, create_fields, COUNT(create_fields))) == NULL)
		return;
	p = sb_providers_find(ctx->providers,
	    cJSON_GetObjectItemCaseSensitive(body, "provider")->valuestring);
	credentials = cJSON_GetObjectItemCaseSensitive(body, "credentials");
	config = cJSON_GetObjectItemCaseSensitive(body, "config");
	metadata = cJSON_GetObjectItemCaseSensitive(body, "metadata");
	if (p == NULL) {
		sb_response_error(req, 400, "unknown_provider",
		    "field 'provider' names no known provider (see GET "
		    "/providers)");
		return;
	}
	if (sb_provider_check(p, &ctx->config, credentials, config, false, err,
	        sizeof(err)) != SB_OK) {
		sb_response_error(req, 400, "invalid_request", err);
		return;
	}
	if (!metadata_fits(metadata)) {
		sb_response_error(req, 400, "invalid_request",
		    "field 'metadata' is larger than 8192 bytes");
		return;
	}
	rc = sb_connection_create(
	    ctx, p, credentials, config, metadata, &conn, token);
	if (rc != SB_OK) {
		sb_response_store_failed(
		    req, rc, "the connection could not be stored");
		return;
	}
	out = cJSON_CreateObject();
	cJSON_AddStringToObject(out, "id", conn.id);
	cJSON_AddStringToObject(out, "token", token);
	cJSON_AddStringToObject(out, "provider", p->name);
	cJSON_AddStringToObject(out, "created_at", conn.created_at);
	sb_response_header(req, "Cache-Control", "no-store");
	sb_response_json(req, 201, out);
	memset(token, 0, sizeof(token));
	cJSON_Delete(out);
	sb_connection_clear(&conn);
}

void
gateway_connections_get(struct sb_ctx *ctx, struct sb_request *req)
{
	struct sb_connection conn;
	cJSON *j;

	if (!sb_guard_connection(ctx, req, sb_request_param(req, "id"), &conn))
		return;
	j = sb_connection_describe(&conn);
	sb_response_json(req, 200, j);
	cJSON_Delete(j);
	sb_connection_clear(&conn);
}

void
gateway_connections_patch(struct sb_ctx *ctx, struct sb_request *req)
{
	const cJSON *body, *credentials, *config;
	char err[SB_PROVIDER_ERROR_MAX];
	struct sb_connection conn;
	enum sb_err rc;
	cJSON *j;

	if (!sb_guard_connection(ctx, req, sb_request_param(req, "id"), &conn))
		return;
	if ((body = sb_app_body(ctx, req, patch_fields, COUNT(patch_fields))) ==
	    NULL)
		goto out;
	credentials = cJSON_GetObjectItemCaseSensitive(body, "credentials");
	config = cJSON_GetObjectItemCaseSensitive(body, "config");
	if (credentials == NULL && config == NULL) {
		sb_response_error(req, 400, "invalid_request",
		    "give 'credentials', 'config' or both");
		goto out;
	}
	if (sb_provider_check(conn.provider, &ctx->config,
	        credentials != NULL ? credentials : conn.credentials,
	        config != NULL ? config : conn.config, false, err,
	        sizeof(err)) != SB_OK) {
		sb_response_error(req, 400, "invalid_request", err);
		goto out;
	}
	if ((rc = sb_connection_update(ctx, &conn, credentials, config)) !=
	    SB_OK) {
		sb_response_store_failed(
		    req, rc, "the connection could not be stored");
		goto out;
	}
	j = sb_connection_describe(&conn);
	sb_response_json(req, 200, j);
	cJSON_Delete(j);
out:
	sb_connection_clear(&conn);
}

void
gateway_connections_delete(struct sb_ctx *ctx, struct sb_request *req)
{
	struct sb_connection conn;
	enum sb_err rc;

	if (!sb_guard_connection(ctx, req, sb_request_param(req, "id"), &conn))
		return;
	if ((rc = sb_connection_delete(ctx, conn.id)) != SB_OK)
		sb_response_store_failed(
		    req, rc, "the connection could not be stored");
	else
		sb_response_no_content(req);
	sb_connection_clear(&conn);
}
