/*
 * The request body as JSON (see include/sb/core/body.h): one place that
 * decides the content type, the caps and the field table, and answers the
 * caller when any of them refuses the body.
 */
#include <string.h>

#include "sb/core/body.h"
#include "sb/core/header.h"
#include "sb/core/response.h"

#define BODY_MEDIA_TYPE "application/json"
#define BODY_ERROR_MAX 256

cJSON *
sb_body_json(struct sb_request *req, const struct sb_field *fields,
    size_t field_count, const cJSON **values)
{
	int depth_max = req->json_depth_max > 0 ? req->json_depth_max
	                                        : SB_REQUEST_JSON_DEPTH_MAX;
	char err[BODY_ERROR_MAX];
	size_t offset;
	enum sb_err rc;

	if (req->body_len > 0 && req->content_type != NULL &&
	    !sb_header_media_json(req->content_type, false)) {
		sb_response_error(req, 415, "unsupported_media_type",
		    "send the body as JSON with "
		    "Content-Type: " BODY_MEDIA_TYPE);
		return NULL;
	}
	rc = sb_request_parse_json(
	    req->body, req->body_len, depth_max, &req->json, &offset);
	if (rc == SB_ERR_TOO_LARGE) {
		sb_response_errorf(req, 413, "too_large",
		    "the JSON body is nested deeper than %d or holds more "
		    "than %d values",
		    depth_max, SB_REQUEST_JSON_ITEMS_MAX);
		return NULL;
	}
	if (rc != SB_OK) {
		sb_response_errorf(req, 400, "invalid_json",
		    "the body is not valid JSON (at byte %zu)", offset);
		return NULL;
	}
	if (fields != NULL &&
	    sb_request_validate(req->json, fields, field_count, values, err,
	        sizeof(err)) != SB_OK) {
		sb_response_error(req, 400, "invalid_request", err);
		return NULL;
	}
	return req->json;
}
