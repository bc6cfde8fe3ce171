/*
 * Mappings: POST /mappings checks the mapping (a syntax error is a 400 with
 * its position) and stores it; GET and DELETE /mappings/{id}.
 */
#include <stdlib.h>

#include "gateway.h"
#include "sb/connect/mapping.h"
#include "sb/connect/mapstore.h"
#include "sb/core/response.h"

/* POST /mappings: the fields, by the index the handler reads them. */
enum create_field { CREATE_MAPPING, CREATE_ROOT, CREATE__MAX };

static const struct sb_field create_fields[CREATE__MAX] = {
	[CREATE_MAPPING] = { .name = "mapping",
	    .type = SB_FIELD_OBJECT,
	    .required = true },
	[CREATE_ROOT] = { .name = "root",
	    .type = SB_FIELD_STRING,
	    .min = 1,
	    .max = SB_MAPPING_PATH_MAX },
};

void
gateway_mappings_create(struct sb_ctx *ctx, struct sb_request *req)
{
	char id[SB_MAPSTORE_ID_MAX], err[SB_MAPPING_ERROR_MAX];
	const cJSON *in[CREATE__MAX], *mapping, *root;
	cJSON *out;
	enum sb_err rc;

	if (sb_body_json(req, create_fields, CREATE__MAX, in) == NULL)
		return;
	mapping = in[CREATE_MAPPING];
	root = in[CREATE_ROOT];
	if (sb_mapping_check(mapping, root != NULL ? root->valuestring : NULL,
	        err, sizeof(err)) != SB_OK) {
		sb_response_error(req, 400, "invalid_mapping", err);
		return;
	}
	rc = sb_mapstore_create(
	    ctx->db, mapping, root != NULL ? root->valuestring : NULL, id);
	if (rc != SB_OK) {
		sb_response_store_failed(
		    req, rc, "the mapping could not be stored");
		return;
	}
	out = cJSON_CreateObject();
	cJSON_AddStringToObject(out, "id", id);
	sb_response_json(req, 201, out);
	cJSON_Delete(out);
}

void
gateway_mappings_get(struct sb_ctx *ctx, struct sb_request *req)
{
	cJSON *mapping = NULL, *out;
	char *root = NULL;

	if (sb_mapstore_get(ctx->db, sb_request_param(req, "id"), &mapping,
	        &root) != SB_OK) {
		sb_response_error(req, 404, "not_found", "no such mapping");
		return;
	}
	out = cJSON_CreateObject();
	cJSON_AddStringToObject(out, "id", sb_request_param(req, "id"));
	cJSON_AddItemToObject(out, "mapping", mapping);
	if (root != NULL)
		cJSON_AddStringToObject(out, "root", root);
	sb_response_json(req, 200, out);
	cJSON_Delete(out);
	free(root);
}

void
gateway_mappings_delete(struct sb_ctx *ctx, struct sb_request *req)
{
	enum sb_err rc;

	rc = sb_mapstore_delete(ctx->db, sb_request_param(req, "id"));
	if (rc == SB_ERR_NOT_FOUND)
		sb_response_error(req, 404, "not_found", "no such mapping");
	else if (rc != SB_OK)
		sb_response_store_failed(
		    req, rc, "the mapping could not be deleted");
	else
		sb_response_no_content(req);
}
