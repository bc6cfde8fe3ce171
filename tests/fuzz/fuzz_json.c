/*
 * libFuzzer target: JSON request bodies through sb_request_parse_json()
 * with its depth and item caps and its UTF-8 check, the raw spans of a
 * member and an element (sb_request_json_member/element), then validation
 * against a field table like the responders' (kcgi style), which must never
 * accept a wrong type.
 */
#include <stdint.h>
#include <string.h>

#include "sb/core/request.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const methods[] = { "GET", "POST", NULL };

static const struct sb_field fields[] = {
	{ .name = "provider",
	    .type = SB_FIELD_STRING,
	    .required = true,
	    .min = 1,
	    .max = 64 },
	{ .name = "method", .type = SB_FIELD_STRING, .one_of = methods },
	{ .name = "id", .type = SB_FIELD_INT, .min = 1, .max = 1000000 },
	{ .name = "credentials", .type = SB_FIELD_OBJECT },
	{ .name = "flag", .type = SB_FIELD_BOOL },
	{ .name = "list", .type = SB_FIELD_ARRAY },
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[256];
	cJSON *json = NULL, *p_json = NULL;
	const cJSON *p;

	struct sb_span text = { (const char *)data, size }, span;

	if (sb_request_parse_json((const char *)data, size, 16, &json, NULL) !=
	    SB_OK)
		return 0;
	/* The spans of accepted text stay inside it and are values again. */
	if ((sb_request_json_member(text, "provider", &span) ||
	        sb_request_json_element(text, 1, &span)) &&
	    (span.text < text.text ||
	        span.text + span.len > text.text + text.len ||
	        sb_request_parse_json(span.text, span.len, 16, &p_json, NULL) !=
	            SB_OK))
		__builtin_trap();
	cJSON_Delete(p_json);
	if (sb_request_validate(json, fields,
	        sizeof(fields) / sizeof(fields[0]), NULL, err,
	        sizeof(err)) == SB_OK) {
		p = cJSON_GetObjectItemCaseSensitive(json, "provider");
		if (!cJSON_IsString(p) || strlen(p->valuestring) > 64)
			__builtin_trap();
	}
	cJSON_Delete(json);
	return 0;
}
