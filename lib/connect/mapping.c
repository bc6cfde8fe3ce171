/*
 * Mappings: source paths ("emails[0].email") parsed into segments, checked
 * as a whole mapping object, and applied to a provider's JSON answer.
 *
 * Decisions the header leaves open:
 *   - An index is '[' digits ']' with no sign, no spaces and no leading
 *     zero ("[0]" and "[10]" parse, "[01]" does not: one spelling per
 *     index, as in JSON Pointer).  An index past SB_MAPPING_INDEX_MAX is
 *     SB_ERR_TOO_LARGE at the digit that passed the cap.
 *   - *error_pos is a 0-based byte offset; when the input ends too soon
 *     (trailing '.', unclosed '[') it is len.  Messages from
 *     sb_mapping_check() give the same place 1-based, as a "position" a
 *     person counts: "emails[0.email" fails at offset 8, "position 9".
 *   - sb_mapping_check() also refuses an empty output field name and a
 *     field name given twice: either would make the output ambiguous.
 *   - sb_mapping_apply(): when the records node (the root path's target,
 *     or the whole document without a root) is missing or JSON null, the
 *     result is an empty array: there are no records.  An array gives an
 *     array of mapped items; anything else gives one mapped object.
 *   - Keys match object members byte for byte, first member wins.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sb/connect/mapping.h"

/* Bytes of a field name or source path quoted in a message. */
#define MAPPING_QUOTE_NAME_MAX 32
#define MAPPING_QUOTE_PATH_MAX 40
#define MAPPING_LABEL_MAX 64

enum parse_reason {
	PARSE_OK,
	PARSE_SYNTAX,
	PARSE_TOO_LONG,
	PARSE_SEGMENTS,
	PARSE_INDEX,
	PARSE__MAX
};

static const struct {
	enum sb_err rc;
	const char *text;
} parse_outcome[PARSE__MAX] = {
	[PARSE_OK] = { SB_OK, "ok" },
	[PARSE_SYNTAX] = { SB_ERR_INVALID, "syntax error" },
	[PARSE_TOO_LONG] = { SB_ERR_TOO_LARGE, "path too long" },
	[PARSE_SEGMENTS] = { SB_ERR_TOO_LARGE, "too many segments" },
	[PARSE_INDEX] = { SB_ERR_TOO_LARGE, "index too large" },
};

struct parser {
	const char *text;
	size_t len;
	size_t pos; /* next byte; the bad byte after a failure */
	struct sb_mapping_path *out;
};

/* One output field of a mapping being applied. */
struct compiled_field {
	const char *name;
	struct sb_mapping_path path;
};

static bool
is_key_byte(char c)
{
	return c != '.' && c != '[' && c != ']';
}

/* Reserves the next segment; PARSE_SEGMENTS past the cap. */
static enum parse_reason
segment_next(struct parser *p, struct sb_mapping_segment **segment)
{
	if (p->out->count == SB_MAPPING_SEGMENTS_MAX)
		return PARSE_SEGMENTS;
	*segment = &p->out->segments[p->out->count++];
	return PARSE_OK;
}

/* Parses one or more key bytes at p->pos. */
static enum parse_reason
parse_key(struct parser *p)
{
	struct sb_mapping_segment *segment;
	size_t start = p->pos;
	enum parse_reason r;

	if ((r = segment_next(p, &segment)) != PARSE_OK)
		return r;
	while (p->pos < p->len && is_key_byte(p->text[p->pos]))
		p->pos++;
	if (p->pos == start)
		return PARSE_SYNTAX;
	segment->key = p->text + start;
	segment->key_len = p->pos - start;
	segment->index = 0;
	return PARSE_OK;
}

/* Parses '[' digits ']' at p->pos, which holds the '['. */
static enum parse_reason
parse_index(struct parser *p)
{
	struct sb_mapping_segment *segment;
	size_t first;
	long value = 0;
	enum parse_reason r;

	if ((r = segment_next(p, &segment)) != PARSE_OK)
		return r;
	first = ++p->pos;
	while (p->pos < p->len && p->text[p->pos] >= '0' &&
	    p->text[p->pos] <= '9') {
		if (p->pos > first && p->text[first] == '0')
			return PARSE_SYNTAX;
		value = value * 10 + (p->text[p->pos] - '0');
		if (value > SB_MAPPING_INDEX_MAX)
			return PARSE_INDEX;
		p->pos++;
	}
	if (p->pos == first || p->pos == p->len || p->text[p->pos] != ']')
		return PARSE_SYNTAX;
	p->pos++;
	segment->key = NULL;
	segment->key_len = 0;
	segment->index = value;
	return PARSE_OK;
}

/* Parses the whole of p->text; p->pos is the bad byte on failure. */
static enum parse_reason
parse_path(struct parser *p)
{
	enum parse_reason r;

	if (p->len > SB_MAPPING_PATH_MAX) {
		p->pos = SB_MAPPING_PATH_MAX;
		return PARSE_TOO_LONG;
	}
	if (p->len == 0 || p->text == NULL)
		return PARSE_SYNTAX;
	r = p->text[0] == '[' ? parse_index(p) : parse_key(p);
	while (r == PARSE_OK && p->pos < p->len) {
		if (p->text[p->pos] == '[') {
			r = parse_index(p);
		} else if (p->text[p->pos] == '.') {
			p->pos++;
			r = parse_key(p);
		} else {
			r = PARSE_SYNTAX;
		}
	}
	return r;
}

/*
 * Parses the len bytes of text into *out (see include/sb/connect/mapping.h). On
 * SB_OK out->count segments are set, keys borrowed from text; otherwise
 * out->count is 0 and *error_pos (if not NULL) is the 0-based offset of
 * the first bad byte, len when the text ended too soon.
 */
enum sb_err
sb_mapping_path_parse(const char *text, size_t len, struct sb_mapping_path *out,
    size_t *error_pos)
{
	struct parser p = { text, len, 0, out };
	enum parse_reason r = PARSE_SYNTAX;

	if (out == NULL)
		goto out;
	out->count = 0;
	if ((r = parse_path(&p)) != PARSE_OK)
		out->count = 0;
out:
	if (error_pos != NULL)
		*error_pos = r == PARSE_OK ? 0 : p.pos;
	return parse_outcome[r].rc;
}

/* Writes a message into err, which may be NULL. */
static void __attribute__((format(printf, 3, 4)))
say(char *err, size_t errsize, const char *format, ...)
{
	va_list ap;

	if (err == NULL || errsize == 0)
		return;
	va_start(ap, format);
	(void)vsnprintf(err, errsize, format, ap);
	va_end(ap);
}

/* How many bytes of s (of len) to quote: at most max, whole UTF-8. */
static int
quote_len(const char *s, size_t len, size_t max)
{
	if (len <= max)
		return (int)len;
	while (max > 0 && ((unsigned char)s[max] & 0xc0) == 0x80)
		max--;
	return (int)max;
}

/*
 * Parses text as the source path of label ("field 'x'" or "root"); on
 * failure writes "<label>: <reason> at position N in '<text>'" into err.
 */
static enum sb_err
check_path(const char *label, const char *text, char *err, size_t errsize)
{
	struct sb_mapping_path path;
	struct parser p = { text, strlen(text), 0, &path };
	enum parse_reason r;
	int shown;

	path.count = 0;
	if ((r = parse_path(&p)) == PARSE_OK)
		return SB_OK;
	if (err != NULL && errsize > 0) {
		shown = quote_len(text, p.len, MAPPING_QUOTE_PATH_MAX);
		(void)snprintf(err, errsize,
		    "%s: %s at position %zu in '%.*s%s'", label,
		    parse_outcome[r].text, p.pos + 1, shown, text,
		    (size_t)shown < p.len ? "..." : "");
	}
	return parse_outcome[r].rc;
}

/* Checks one member of mapping: its name, then its source path. */
static enum sb_err
check_field(const cJSON *mapping, const cJSON *field, char *err, size_t errsize)
{
	const char *name = field->string != NULL ? field->string : "";
	char label[MAPPING_LABEL_MAX];
	const cJSON *other;
	size_t name_len = strlen(name);
	int shown = quote_len(name, name_len, MAPPING_QUOTE_NAME_MAX);

	if (name_len == 0) {
		say(err, errsize, "a field name is empty");
		return SB_ERR_INVALID;
	}
	(void)snprintf(label, sizeof(label), "field '%.*s%s'", shown, name,
	    (size_t)shown < name_len ? "..." : "");
	for (other = mapping->child; other != field; other = other->next) {
		if (other->string != NULL && strcmp(other->string, name) == 0) {
			say(err, errsize, "%s is given twice", label);
			return SB_ERR_INVALID;
		}
	}
	if (!cJSON_IsString(field) || field->valuestring == NULL) {
		say(err, errsize, "%s: source path must be a string", label);
		return SB_ERR_INVALID;
	}
	return check_path(label, field->valuestring, err, errsize);
}

/*
 * Checks a mapping and optional root (see include/sb/connect/mapping.h).
 * Returns SB_OK and empties err iff every field and the root parse; otherwise
 * SB_ERR_INVALID or SB_ERR_TOO_LARGE with a message in err (may be NULL).
 */
enum sb_err
sb_mapping_check(
    const cJSON *mapping, const char *root, char *err, size_t errsize)
{
	const cJSON *field;
	size_t count = 0;
	enum sb_err rc = SB_ERR_INVALID;

	say(err, errsize, "%s", "");
	if (!cJSON_IsObject(mapping)) {
		say(err, errsize, "mapping must be a JSON object");
		goto out;
	}
	for (field = mapping->child; field != NULL; field = field->next)
		if (++count > SB_MAPPING_FIELDS_MAX)
			break;
	if (count == 0) {
		say(err, errsize, "mapping has no fields");
		goto out;
	}
	if (count > SB_MAPPING_FIELDS_MAX) {
		rc = SB_ERR_TOO_LARGE;
		say(err, errsize, "mapping has more than %d fields",
		    SB_MAPPING_FIELDS_MAX);
		goto out;
	}
	for (field = mapping->child; field != NULL; field = field->next)
		if ((rc = check_field(mapping, field, err, errsize)) != SB_OK)
			goto out;
	rc = root != NULL ? check_path("root", root, err, errsize) : SB_OK;
out:
	return rc;
}

/* The member of object doc named by segment, or NULL. */
static const cJSON *
child_by_key(const cJSON *doc, const struct sb_mapping_segment *segment)
{
	const cJSON *c;

	if (!cJSON_IsObject(doc))
		return NULL;
	for (c = doc->child; c != NULL; c = c->next)
		if (c->string != NULL &&
		    strlen(c->string) == segment->key_len &&
		    memcmp(c->string, segment->key, segment->key_len) == 0)
			return c;
	return NULL;
}

/* Item index of array doc, or NULL. */
static const cJSON *
child_by_index(const cJSON *doc, long index)
{
	const cJSON *c;

	if (!cJSON_IsArray(doc) || index < 0)
		return NULL;
	for (c = doc->child; c != NULL && index > 0; c = c->next)
		index--;
	return c;
}

/*
 * Follows path from doc.  Returns the value reached, borrowed from doc, or
 * NULL when a step finds no such member or item (or doc is NULL).
 */
const cJSON *
sb_mapping_lookup(const cJSON *doc, const struct sb_mapping_path *path)
{
	const struct sb_mapping_segment *segment;
	size_t i;

	if (path == NULL)
		return NULL;
	for (i = 0; i < path->count && doc != NULL; i++) {
		segment = &path->segments[i];
		doc = segment->key != NULL
		    ? child_by_key(doc, segment)
		    : child_by_index(doc, segment->index);
	}
	return doc;
}

/*
 * Parses the fields of a checked mapping.  On SB_OK *out holds *count
 * fields and the caller frees it with free(); otherwise *out is NULL.
 */
static enum sb_err
compile_fields(const cJSON *mapping, struct compiled_field **out, size_t *count)
{
	struct compiled_field *fields = NULL;
	const cJSON *field;
	size_t n = 0;
	enum sb_err rc = SB_ERR_NOMEM;

	for (field = mapping->child; field != NULL; field = field->next)
		n++;
	if ((fields = calloc(n, sizeof(*fields))) == NULL)
		goto out;
	n = 0;
	for (field = mapping->child; field != NULL; field = field->next, n++) {
		fields[n].name = field->string;
		rc = sb_mapping_path_parse(field->valuestring,
		    strlen(field->valuestring), &fields[n].path, NULL);
		if (rc != SB_OK)
			goto out;
	}
	*count = n;
out:
	if (rc != SB_OK) {
		free(fields);
		fields = NULL;
	}
	*out = fields;
	return rc;
}

/*
 * Maps one record.  On SB_OK *out is a new object, one member per field
 * (a copy of the value found, or null), freed with cJSON_Delete().
 */
static enum sb_err
map_record(const struct compiled_field *fields, size_t count,
    const cJSON *record, cJSON **out)
{
	const cJSON *found;
	cJSON *object, *value;
	enum sb_err rc = SB_ERR_NOMEM;
	size_t i;

	if ((object = cJSON_CreateObject()) == NULL)
		goto out;
	for (i = 0; i < count; i++) {
		found = sb_mapping_lookup(record, &fields[i].path);
		value = found != NULL ? cJSON_Duplicate(found, true)
		                      : cJSON_CreateNull();
		if (value == NULL)
			goto out;
		if (!cJSON_AddItemToObject(object, fields[i].name, value)) {
			cJSON_Delete(value);
			goto out;
		}
	}
	rc = SB_OK;
out:
	if (rc != SB_OK) {
		cJSON_Delete(object);
		object = NULL;
	}
	*out = object;
	return rc;
}

/* Maps each item of array records into a new array *out. */
static enum sb_err
map_records(const struct compiled_field *fields, size_t count,
    const cJSON *records, cJSON **out)
{
	const cJSON *item;
	cJSON *array, *object = NULL;
	enum sb_err rc = SB_ERR_NOMEM;

	if ((array = cJSON_CreateArray()) == NULL)
		goto out;
	cJSON_ArrayForEach(item, records)
	{
		if ((rc = map_record(fields, count, item, &object)) != SB_OK)
			goto out;
		if (!cJSON_AddItemToArray(array, object)) {
			cJSON_Delete(object);
			rc = SB_ERR_NOMEM;
			goto out;
		}
	}
	rc = SB_OK;
out:
	if (rc != SB_OK) {
		cJSON_Delete(array);
		array = NULL;
	}
	*out = array;
	return rc;
}

/*
 * Applies mapping (and root, may be NULL) to doc; see the file comment for
 * the shape of the result.  On SB_OK *out is a new object or array and the
 * caller frees it with cJSON_Delete(); otherwise *out is NULL and the
 * result is SB_ERR_NOMEM, or SB_ERR_INVALID when the mapping or root would
 * not pass sb_mapping_check().
 */
enum sb_err
sb_mapping_apply(
    const cJSON *mapping, const char *root, const cJSON *doc, cJSON **out)
{
	struct compiled_field *fields = NULL;
	struct sb_mapping_path root_path;
	const cJSON *records = doc;
	size_t count = 0;
	enum sb_err rc = SB_ERR_INVALID;

	*out = NULL;
	if (sb_mapping_check(mapping, root, NULL, 0) != SB_OK)
		goto out;
	if ((rc = compile_fields(mapping, &fields, &count)) != SB_OK)
		goto out;
	if (root != NULL) {
		rc =
		    sb_mapping_path_parse(root, strlen(root), &root_path, NULL);
		if (rc != SB_OK)
			goto out;
		records = sb_mapping_lookup(doc, &root_path);
	}
	if (records == NULL || cJSON_IsNull(records))
		rc =
		    (*out = cJSON_CreateArray()) != NULL ? SB_OK : SB_ERR_NOMEM;
	else if (cJSON_IsArray(records))
		rc = map_records(fields, count, records, out);
	else
		rc = map_record(fields, count, records, out);
out:
	free(fields);
	return rc;
}
