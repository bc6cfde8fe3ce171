/*
 * The parsers for what the outside sends: query strings, percent-encoding,
 * JSON bodies, integers and objects checked against validation tables.
 * Every parser here is driven by a fuzz target in tests/fuzz/.  Reading a
 * request from FastCGI is in request_read.c, so that what needs only the
 * parsers (sbctl) links without libfcgi.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sb/core/request.h"
void
sb_request_clear(struct sb_request *req)
{
	if (req == NULL)
		return;
	cJSON_Delete(req->json);
	req->json = NULL;
}

int
sb_request_hex_digit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

enum sb_err
sb_request_decode(struct sb_arena *arena, const char *s, size_t len,
    bool plus_is_space, char **out)
{
	char *d;
	size_t i, j = 0;
	int hi, lo;

	*out = NULL;
	if ((d = sb_arena_alloc(arena, len + 1)) == NULL)
		return SB_ERR_NOMEM;
	for (i = 0; i < len; i++) {
		if (s[i] == '%') {
			if (len - i < 3)
				return SB_ERR_INVALID;
			hi = sb_request_hex_digit(s[i + 1]);
			lo = sb_request_hex_digit(s[i + 2]);
			if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
				return SB_ERR_INVALID;
			d[j++] = (char)(hi << 4 | lo);
			i += 2;
		} else if (s[i] == '+' && plus_is_space) {
			d[j++] = ' ';
		} else if (s[i] == '\0') {
			return SB_ERR_INVALID;
		} else {
			d[j++] = s[i];
		}
	}
	d[j] = '\0';
	*out = d;
	return SB_OK;
}

enum sb_err
sb_request_parse_query(struct sb_arena *arena, const char *query,
    struct sb_kv **out, size_t *count)
{
	const char *p = query, *amp, *eq;
	struct sb_kv *kv;
	size_t n = 0;
	char *key, *value;
	enum sb_err rc;

	*out = NULL;
	*count = 0;
	if (strlen(query) > SB_REQUEST_QUERY_LEN_MAX)
		return SB_ERR_TOO_LARGE;
	kv = sb_arena_alloc(arena, sizeof(*kv) * SB_REQUEST_QUERY_MAX);
	if (kv == NULL)
		return SB_ERR_NOMEM;
	while (*p != '\0') {
		amp = strchr(p, '&');
		if (amp == NULL)
			amp = p + strlen(p);
		if (amp > p) {
			if (n == SB_REQUEST_QUERY_MAX)
				return SB_ERR_TOO_LARGE;
			eq = memchr(p, '=', (size_t)(amp - p));
			rc = sb_request_decode(arena, p,
			    (size_t)((eq != NULL ? eq : amp) - p), true, &key);
			if (rc == SB_OK)
				rc = eq == NULL
				    ? SB_OK
				    : sb_request_decode(arena, eq + 1,
				          (size_t)(amp - eq - 1), true, &value);
			if (rc != SB_OK)
				return rc;
			kv[n].key = key;
			kv[n++].value = eq != NULL ? value : "";
		}
		p = *amp == '&' ? amp + 1 : amp;
	}
	*out = kv;
	*count = n;
	return SB_OK;
}

/* Counts values and depth of j; false once either cap is passed. */
static bool
json_within(const cJSON *j, int depth, int depth_max, size_t *items)
{
	const cJSON *c;

	if (depth > depth_max || ++*items > SB_REQUEST_JSON_ITEMS_MAX)
		return false;
	for (c = j->child; c != NULL; c = c->next)
		if (!json_within(c, depth + 1, depth_max, items))
			return false;
	return true;
}

/*
 * Length of the UTF-8 sequence at s (at most len bytes), or 0 if it is not
 * well formed: no overlong forms, no surrogates, nothing above U+10FFFF
 * (RFC 3629).  The second byte's range depends on the first; the rest are
 * continuation bytes.
 */
static size_t
utf8_sequence(const unsigned char *s, size_t len)
{
	static const struct {
		unsigned char first_lo, first_hi, second_lo, second_hi;
		size_t length;
	} forms[] = {
		{ 0xC2, 0xDF, 0x80, 0xBF, 2 },
		{ 0xE0, 0xE0, 0xA0, 0xBF, 3 },
		{ 0xE1, 0xEC, 0x80, 0xBF, 3 },
		{ 0xED, 0xED, 0x80, 0x9F, 3 },
		{ 0xEE, 0xEF, 0x80, 0xBF, 3 },
		{ 0xF0, 0xF0, 0x90, 0xBF, 4 },
		{ 0xF1, 0xF3, 0x80, 0xBF, 4 },
		{ 0xF4, 0xF4, 0x80, 0x8F, 4 },
	};

	if (s[0] < 0x80)
		return 1;
	for (size_t f = 0; f < sizeof(forms) / sizeof(forms[0]); f++) {
		if (s[0] < forms[f].first_lo || s[0] > forms[f].first_hi)
			continue;
		if (len < forms[f].length || s[1] < forms[f].second_lo ||
		    s[1] > forms[f].second_hi)
			return 0;
		for (size_t i = 2; i < forms[f].length; i++)
			if ((s[i] & 0xC0) != 0x80)
				return 0;
		return forms[f].length;
	}
	return 0;
}

/*
 * One pass over JSON text before cJSON sees it, for what cJSON lets
 * through or reports badly: bytes that are not UTF-8, a NUL byte, control
 * bytes between tokens (cJSON skips every byte below 0x21 as white space;
 * JSON allows space, tab, CR and LF only) and the escape
 * \u0000 (cJSON would turn it into a NUL that silently ends the C string,
 * "/echo\u0000x" read as "/echo") are SB_ERR_INVALID with their offset in
 * *offset; nesting deeper than depth_max is SB_ERR_TOO_LARGE (counted here
 * so that any depth, even past cJSON's own limit, gets the same answer).
 * Escapes are skipped in pairs so that "\\u0000" is a backslash and text.
 */
static enum sb_err
json_scan(const char *text, size_t len, int depth_max, size_t *offset)
{
	const unsigned char *s = (const unsigned char *)text;
	bool in_string = false;
	int depth = 0;
	size_t i = 0, n;

	while (i < len) {
		if ((n = utf8_sequence(s + i, len - i)) == 0 || s[i] == '\0' ||
		    (!in_string && s[i] < 0x20 && s[i] != ' ' && s[i] != '\t' &&
		        s[i] != '\r' && s[i] != '\n')) {
			*offset = i;
			return SB_ERR_INVALID;
		}
		if (in_string && s[i] == '\\' && i + 1 < len) {
			if (len - i >= 6 &&
			    memcmp(s + i + 1, "u0000", 5) == 0) {
				*offset = i;
				return SB_ERR_INVALID;
			}
			n = s[i + 1] < 0x80 ? 2 : 1;
		} else if (s[i] == '"') {
			in_string = !in_string;
		} else if (!in_string && (s[i] == '[' || s[i] == '{')) {
			if (++depth > depth_max)
				return SB_ERR_TOO_LARGE;
		} else if (!in_string && (s[i] == ']' || s[i] == '}')) {
			depth--;
		}
		i += n;
	}
	return SB_OK;
}

enum sb_err
sb_request_parse_json(const char *text, size_t len, int depth_max, cJSON **out,
    size_t *error_offset)
{
	const char *end = NULL;
	size_t items = 0, offset = 0;
	enum sb_err rc;
	cJSON *j;

	*out = NULL;
	if (error_offset != NULL)
		*error_offset = 0;
	if ((rc = json_scan(text, len, depth_max, &offset)) != SB_OK) {
		if (error_offset != NULL)
			*error_offset = offset;
		return rc;
	}
	j = cJSON_ParseWithLengthOpts(text, len, &end, false);
	if (j != NULL && end != NULL) {
		/* Only white space may follow the value. */
		while ((size_t)(end - text) < len &&
		    strchr(" \t\r\n", *end) != NULL && *end != '\0')
			end++;
		if ((size_t)(end - text) < len) {
			cJSON_Delete(j);
			j = NULL;
		}
	}
	if (j == NULL) {
		if (error_offset != NULL && end != NULL && end >= text)
			*error_offset = (size_t)(end - text);
		return SB_ERR_INVALID;
	}
	if (!json_within(j, 1, depth_max, &items)) {
		cJSON_Delete(j);
		return SB_ERR_TOO_LARGE;
	}
	*out = j;
	return SB_OK;
}

/* The offset of the first byte at or after i that is not JSON white space. */
static size_t
json_space(const char *text, size_t len, size_t i)
{
	while (i < len &&
	    (text[i] == ' ' || text[i] == '\t' || text[i] == '\r' ||
	        text[i] == '\n'))
		i++;
	return i;
}

/* Moves *i past the string whose opening quote is at *i; false if open. */
static bool
json_skip_string(const char *text, size_t len, size_t *i)
{
	for (size_t j = *i + 1; j < len; j++) {
		if (text[j] == '\\')
			j++;
		else if (text[j] == '"') {
			*i = j + 1;
			return true;
		}
	}
	return false;
}

/*
 * Moves *i past the value that starts at *i (no white space before it);
 * false if the text ends first.  Containers are skipped by counting
 * brackets outside strings, so any depth takes no stack.
 */
static bool
json_skip_value(const char *text, size_t len, size_t *i)
{
	size_t depth = 0, j = *i;

	do {
		if (j >= len)
			return false;
		if (text[j] == '"') {
			if (!json_skip_string(text, len, &j))
				return false;
			continue;
		}
		if (text[j] == '{' || text[j] == '[')
			depth++;
		else if (text[j] == '}' || text[j] == ']')
			depth--;
		else if (depth == 0)
			while (j + 1 < len &&
			    strchr(",]}: \t\r\n", text[j + 1]) == NULL)
				j++;
		j++;
	} while (depth > 0);
	*i = j;
	return true;
}

/* True if the string token of len bytes at text decodes to key. */
static bool
json_key_is(const char *text, size_t len, const char *key)
{
	cJSON *k;
	bool same;

	if (memchr(text, '\\', len) == NULL)
		return len == strlen(key) + 2 &&
		    memcmp(text + 1, key, len - 2) == 0;
	k = cJSON_ParseWithLength(text, len);
	same = cJSON_IsString(k) && strcmp(k->valuestring, key) == 0;
	cJSON_Delete(k);
	return same;
}

/*
 * Finds the index-th element of an array (member == NULL) or the first
 * member named member of an object, in the value that starts at text.
 */
static bool
json_find(const char *text, size_t len, const char *member, size_t index,
    struct sb_span *out)
{
	size_t i = json_space(text, len, 0), key, n = 0;
	bool found;

	if (i >= len || text[i] != (member != NULL ? '{' : '['))
		return false;
	for (i = json_space(text, len, i + 1);
	     i < len && text[i] != ']' && text[i] != '}';
	     i = json_space(text, len, i + 1)) {
		found = member == NULL && n++ == index;
		if (member != NULL) {
			key = i;
			if (text[i] != '"' || !json_skip_string(text, len, &i))
				return false;
			found = json_key_is(text + key, i - key, member);
			if ((i = json_space(text, len, i)) >= len ||
			    text[i] != ':')
				return false;
			i = json_space(text, len, i + 1);
		}
		out->text = text + i;
		if (!json_skip_value(text, len, &i))
			return false;
		out->len = (size_t)(text + i - out->text);
		if (found)
			return true;
		if ((i = json_space(text, len, i)) >= len || text[i] != ',')
			return false;
	}
	return false;
}

bool
sb_request_json_member(
    struct sb_span value, const char *member, struct sb_span *out)
{
	return member != NULL &&
	    json_find(value.text, value.len, member, 0, out);
}

bool
sb_request_json_element(struct sb_span value, size_t index, struct sb_span *out)
{
	return json_find(value.text, value.len, NULL, index, out);
}

const char *
sb_request_query(const struct sb_request *req, const char *key)
{
	for (size_t i = 0; i < req->query_count; i++)
		if (strcmp(req->queries[i].key, key) == 0)
			return req->queries[i].value;
	return NULL;
}

const char *
sb_request_param(const struct sb_request *req, const char *name)
{
	for (size_t i = 0; i < req->param_count; i++)
		if (strcmp(req->params[i].key, name) == 0)
			return req->params[i].value;
	return NULL;
}

bool
sb_request_json_int(const cJSON *v, int64_t *out)
{
	if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) ||
	    v->valuedouble < -SB_REQUEST_JSON_INT_MAX ||
	    v->valuedouble > SB_REQUEST_JSON_INT_MAX ||
	    v->valuedouble != (double)(int64_t)v->valuedouble)
		return false;
	if (out != NULL)
		*out = (int64_t)v->valuedouble;
	return true;
}

bool
sb_request_parse_int(const char *s, int64_t min, int64_t max, int64_t *out)
{
	char *end;
	long long v;

	if (s == NULL || *s == '\0' || (*s != '-' && (*s < '0' || *s > '9')))
		return false;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return false;
	*out = v;
	return true;
}

static const char *const field_type_names[SB_FIELD__MAX] = {
	[SB_FIELD_STRING] = "a string",
	[SB_FIELD_INT] = "an integer",
	[SB_FIELD_BOOL] = "a boolean",
	[SB_FIELD_OBJECT] = "an object",
	[SB_FIELD_ARRAY] = "an array",
	[SB_FIELD_ANY] = "a value",
};

static bool
field_type_ok(const cJSON *v, enum sb_field_type type)
{
	switch (type) {
	case SB_FIELD_STRING:
		return cJSON_IsString(v);
	case SB_FIELD_INT:
		return sb_request_json_int(v, NULL);
	case SB_FIELD_BOOL:
		return cJSON_IsBool(v);
	case SB_FIELD_OBJECT:
		return cJSON_IsObject(v);
	case SB_FIELD_ARRAY:
		return cJSON_IsArray(v);
	default:
		return true;
	}
}

static bool
field_one_of(const char *s, const char *const *allowed)
{
	for (; *allowed != NULL; allowed++)
		if (strcmp(s, *allowed) == 0)
			return true;
	return false;
}

/* Checks one present value against its row; false with err on failure. */
static bool
field_check(const cJSON *v, const struct sb_field *f, char *err, size_t errsize)
{
	size_t len;

	if (!field_type_ok(v, f->type)) {
		snprintf(err, errsize, "field '%s' must be %s", f->name,
		    field_type_names[f->type]);
		return false;
	}
	if (f->type == SB_FIELD_INT &&
	    ((double)f->min > v->valuedouble ||
	        (f->max != 0 && v->valuedouble > (double)f->max))) {
		snprintf(err, errsize, "field '%s' is out of range", f->name);
		return false;
	}
	if (f->type != SB_FIELD_STRING)
		return true;
	len = strlen(v->valuestring);
	if ((int64_t)len < f->min || (f->max != 0 && (int64_t)len > f->max)) {
		if (f->max != 0)
			snprintf(err, errsize,
			    "field '%s' must be %lld to %lld bytes long",
			    f->name, (long long)f->min, (long long)f->max);
		else
			snprintf(err, errsize,
			    "field '%s' must be at least %lld bytes long",
			    f->name, (long long)f->min);
		return false;
	}
	if ((f->one_of != NULL && !field_one_of(v->valuestring, f->one_of)) ||
	    (f->check != NULL && !f->check(v->valuestring))) {
		snprintf(
		    err, errsize, "field '%s' has an invalid value", f->name);
		return false;
	}
	return true;
}

static const struct sb_field *
field_find(const struct sb_field *fields, size_t count, const char *name)
{
	for (size_t i = 0; i < count; i++)
		if (strcmp(fields[i].name, name) == 0)
			return &fields[i];
	return NULL;
}

enum sb_err
sb_request_validate(const cJSON *obj, const struct sb_field *fields,
    size_t field_count, const cJSON **values, char *err, size_t errsize)
{
	const cJSON *v;
	size_t i;

	if (!cJSON_IsObject(obj)) {
		snprintf(err, errsize, "the body must be a JSON object");
		return SB_ERR_INVALID;
	}
	for (v = obj->child; v != NULL; v = v->next) {
		if (v->string == NULL ||
		    field_find(fields, field_count, v->string) == NULL) {
			snprintf(err, errsize, "unknown field '%.64s'",
			    v->string != NULL ? v->string : "");
			return SB_ERR_INVALID;
		}
	}
	for (i = 0; i < field_count; i++) {
		v = cJSON_GetObjectItemCaseSensitive(obj, fields[i].name);
		if (v == NULL || cJSON_IsNull(v)) {
			if (!fields[i].required)
				continue;
			snprintf(err, errsize, "field '%s' is required",
			    fields[i].name);
			return SB_ERR_INVALID;
		}
		if (!field_check(v, &fields[i], err, errsize))
			return SB_ERR_INVALID;
	}
	for (i = 0; values != NULL && i < field_count; i++) {
		v = cJSON_GetObjectItemCaseSensitive(obj, fields[i].name);
		values[i] = cJSON_IsNull(v) ? NULL : v;
	}
	return SB_OK;
}
