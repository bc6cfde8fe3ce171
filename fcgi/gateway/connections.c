/*
 * Providers and connections: GET /providers[/{name}], POST /connections,
 * GET, PATCH and DELETE /connections/{id}.  Input is checked against a
 * field table and then the provider's definition before anything is
 * stored; the token is shown once, in the 201.  A connection whose sealed
 * credentials do not open can still be read (credentials_readable false),
 * given new credentials and deleted: none of these opens the old ones.
 */
#include <string.h>

#include "gateway.h"
#include "sb/connect/guard.h"
#include "sb/core/log.h"
#include "sb/core/response.h"

#define PROVIDER_NAME_MAX 64

/* POST /connections: the fields, by the index the handler reads them. */
enum create_field {
	CREATE_PROVIDER,
	CREATE_CREDENTIALS,
	CREATE_CONFIG,
	CREATE_METADATA,
	CREATE__MAX
};

static const struct sb_field create_fields[CREATE__MAX] = {
	[CREATE_PROVIDER] = { .name = "provider",
	    .type = SB_FIELD_STRING,
	    .required = true,
	    .min = 1,
	    .max = PROVIDER_NAME_MAX },
	[CREATE_CREDENTIALS] = { .name = "credentials",
	    .type = SB_FIELD_OBJECT,
	    .required = true },
	[CREATE_CONFIG] = { .name = "config", .type = SB_FIELD_OBJECT },
	[CREATE_METADATA] = { .name = "metadata", .type = SB_FIELD_OBJECT },
};

/* PATCH /connections/{id}. */
enum patch_field { PATCH_CREDENTIALS, PATCH_CONFIG, PATCH__MAX };

static const struct sb_field patch_fields[PATCH__MAX] = {
	[PATCH_CREDENTIALS] = { .name = "credentials",
	    .type = SB_FIELD_OBJECT },
	[PATCH_CONFIG] = { .name = "config", .type = SB_FIELD_OBJECT },
};

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
	const cJSON *in[CREATE__MAX], *config, *metadata, *credentials;
	char token[SB_CONNECTION_TOKEN_MAX], err[SB_PROVIDER_ERROR_MAX];
	struct sb_connection conn = { 0 };
	const struct sb_provider *p;
	cJSON *out = NULL;
	enum sb_err rc;

	if (sb_body_json(req, create_fields, CREATE__MAX, in) == NULL)
		return;
	p = sb_providers_find(ctx->providers, in[CREATE_PROVIDER]->valuestring);
	credentials = in[CREATE_CREDENTIALS];
	config = in[CREATE_CONFIG];
	metadata = in[CREATE_METADATA];
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
		sb_response_errorf(req, 400, "invalid_request",
		    "field 'metadata' is larger than %d bytes",
		    SB_CONNECTION_METADATA_MAX);
		return;
	}
	rc = sb_connection_create(SB_CONNECTION_STORE(ctx), p, credentials,
	    config, metadata, &conn, token);
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
	const cJSON *in[PATCH__MAX], *credentials, *config;
	char err[SB_PROVIDER_ERROR_MAX];
	struct sb_connection conn;
	enum sb_err rc;
	cJSON *j;

	if (!sb_guard_connection(ctx, req, sb_request_param(req, "id"), &conn))
		return;
	if (sb_body_json(req, patch_fields, PATCH__MAX, in) == NULL)
		goto out;
	credentials = in[PATCH_CREDENTIALS];
	config = in[PATCH_CONFIG];
	if (credentials == NULL && config == NULL) {
		sb_response_error(req, 400, "invalid_request",
		    "give 'credentials', 'config' or both");
		goto out;
	}
	/* New credentials replace unreadable ones without opening them. */
	if (credentials == NULL && conn.unreadable) {
		sb_response_error(req, 409, "credentials_unreadable",
		    SB_CONNECTION_UNREADABLE_MESSAGE);
		goto out;
	}
	if (sb_provider_check(conn.provider, &ctx->config,
	        credentials != NULL ? credentials : conn.credentials,
	        config != NULL ? config : conn.config, false, err,
	        sizeof(err)) != SB_OK) {
		sb_response_error(req, 400, "invalid_request", err);
		goto out;
	}
	if ((rc = sb_connection_update(SB_CONNECTION_STORE(ctx), &conn,
	         credentials, config)) != SB_OK) {
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
	if ((rc = sb_connection_delete(SB_CONNECTION_STORE(ctx), conn.id)) !=
	    SB_OK)
		sb_response_store_failed(
		    req, rc, "the connection could not be stored");
	else
		sb_response_no_content(req);
	sb_connection_clear(&conn);
}
