/*
 * Mappings: reshaping a provider's JSON answer into the caller's fields.
 * A mapping is a JSON object whose keys are output field names and whose
 * values are source paths: dotted keys with [n] indexes
 * ("emails[0].email", "data.items[2]", "user.first_name").  An optional root
 * path selects where the records are; when the record (or the whole
 * response, without a root) is an array, the mapping applies to each item
 * and the result is an array.  A source path that leads nowhere maps to
 * null.
 */
#ifndef SB_MAPPING_H
#define SB_MAPPING_H

#include <stddef.h>

#include <cJSON.h>

#include "sb/core/err.h"

#define SB_MAPPING_FIELDS_MAX 128 /* output fields per mapping */
#define SB_MAPPING_PATH_MAX 256 /* bytes per source path */
#define SB_MAPPING_SEGMENTS_MAX 32 /* keys and indexes per path */
#define SB_MAPPING_INDEX_MAX 100000 /* largest [n] */
#define SB_MAPPING_ERROR_MAX 160

/* One step of a source path: a key or an array index. */
struct sb_mapping_segment {
	const char *key; /* NULL for an index step */
	size_t key_len;
	long index;
};

struct sb_mapping_path {
	struct sb_mapping_segment segments[SB_MAPPING_SEGMENTS_MAX];
	size_t count;
};

/*
 * Parses the len bytes of text as a source path.  Syntax: segment ('.' key
 * | '[' digits ']')*, where the first segment is a key or an index, a key
 * is one or more bytes other than '.', '[', ']', and the empty path is
 * refused.  out is caller storage; its keys point into text (not copied),
 * so text must outlive it.  On failure returns SB_ERR_INVALID and sets
 * *error_pos (if not NULL) to the byte offset of the first bad byte;
 * SB_ERR_TOO_LARGE past the caps.
 */
enum sb_err sb_mapping_path_parse(const char *text, size_t len,
    struct sb_mapping_path *out, size_t *error_pos);

/*
 * Checks a mapping object (as given to POST /mappings) and an optional root
 * path (NULL for none): an object of 1..SB_MAPPING_FIELDS_MAX string values
 * that all parse.  On failure writes a message naming the field and the
 * position into err and returns SB_ERR_INVALID or SB_ERR_TOO_LARGE.
 */
enum sb_err sb_mapping_check(
    const cJSON *mapping, const char *root, char *err, size_t errsize);

/* The value at path in doc, borrowed, or NULL if the path leads nowhere. */
const cJSON *sb_mapping_lookup(
    const cJSON *doc, const struct sb_mapping_path *path);

/*
 * Applies a checked mapping (and root, may be NULL) to doc.  On SB_OK *out
 * is a new object or array and the caller frees it with cJSON_Delete();
 * otherwise *out is NULL (SB_ERR_NOMEM, or SB_ERR_INVALID for an unchecked
 * mapping).
 */
enum sb_err sb_mapping_apply(
    const cJSON *mapping, const char *root, const cJSON *doc, cJSON **out);

#endif
