/*
 * libFuzzer target: mapping source paths and mapping objects as callers
 * send them to POST /mappings.  The input is parsed as a source path
 * (sb_mapping_path_parse()), whose segments must stay within the caps and
 * print back to exactly the input; then as JSON, and a JSON object is
 * checked (sb_mapping_check()) and, when it passes, applied to itself
 * (sb_mapping_apply()), which must then succeed.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cJSON.h>

#include "sb/connect/mapping.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* True iff the segments of path, printed back, are exactly text. */
static bool
path_reprints(
    const struct sb_mapping_path *path, const uint8_t *text, size_t size)
{
	char index[32];
	size_t at = 0, n;

	for (size_t i = 0; i < path->count; i++) {
		const struct sb_mapping_segment *s = &path->segments[i];

		if (s->key == NULL) {
			if (s->index < 0 || s->index > SB_MAPPING_INDEX_MAX)
				return false;
			n = (size_t)snprintf(
			    index, sizeof(index), "[%ld]", s->index);
			if (n > size - at || memcmp(text + at, index, n) != 0)
				return false;
			at += n;
			continue;
		}
		if (i > 0 && (at == size || text[at++] != '.'))
			return false;
		if (s->key_len == 0 || (const uint8_t *)s->key != text + at ||
		    s->key_len > size - at ||
		    memchr(s->key, '.', s->key_len) != NULL ||
		    memchr(s->key, '[', s->key_len) != NULL ||
		    memchr(s->key, ']', s->key_len) != NULL)
			return false;
		at += s->key_len;
	}
	return at == size;
}

static void
fuzz_path(const uint8_t *data, size_t size)
{
	static char text[SB_MAPPING_PATH_MAX + 1];
	struct sb_mapping_path path;
	size_t pos = SIZE_MAX, len = size;
	enum sb_err rc;

	/* A copy one byte past the cap: enough to see the cap refused. */
	if (len > SB_MAPPING_PATH_MAX + 1)
		len = SB_MAPPING_PATH_MAX + 1;
	memcpy(text, data, len);
	rc = sb_mapping_path_parse(text, len, &path, &pos);
	if (rc == SB_OK) {
		if (path.count == 0 || path.count > SB_MAPPING_SEGMENTS_MAX ||
		    len > SB_MAPPING_PATH_MAX ||
		    !path_reprints(&path, (const uint8_t *)text, len))
			__builtin_trap();
	} else if ((rc != SB_ERR_INVALID && rc != SB_ERR_TOO_LARGE) ||
	    pos > len || path.count != 0) {
		__builtin_trap();
	}
}

static void
fuzz_object(const uint8_t *data, size_t size)
{
	char err[SB_MAPPING_ERROR_MAX];
	const char *root = NULL;
	cJSON *mapping, *out = NULL;
	enum sb_err rc;

	if ((mapping = cJSON_ParseWithLength((const char *)data, size)) == NULL)
		return;
	if (cJSON_IsObject(mapping) && cJSON_IsString(mapping->child) &&
	    mapping->child->next != NULL)
		root = mapping->child->valuestring;
	memset(err, 'x', sizeof(err));
	rc = sb_mapping_check(mapping, root, err, sizeof(err));
	if (memchr(err, '\0', sizeof(err)) == NULL ||
	    (rc == SB_OK) != (err[0] == '\0'))
		__builtin_trap();
	if (sb_mapping_apply(mapping, root, mapping, &out) !=
	    (rc == SB_OK ? SB_OK : SB_ERR_INVALID))
		__builtin_trap();
	if ((rc == SB_OK) != (cJSON_IsObject(out) || cJSON_IsArray(out)))
		__builtin_trap();
	cJSON_Delete(out);
	cJSON_Delete(mapping);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_path(data, size);
	fuzz_object(data, size);
	return 0;
}
