/*
 * GET /data's query language (see include/sb/fetch/query.h), following
 * json-server 0.16's plural router step by step: the reserved keys are
 * taken out, q filters, each other key filters (its values ORed, _ne's
 * ANDed), _sort orders (stable: ties keep the id order), then _page, or
 * _end, or _limit slices, in that order of precedence.
 *
 * A field's "JavaScript text" (what json-server compares with ===) is
 * built in SQL: true and false as words, numbers as SQLite prints them,
 * strings as they are; a missing field or null matches nothing.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sqlite3.h>

#include "sb/core/deadline.h"
#include "sb/fetch/query.h"

/* The keys json-server takes out before filtering. */
static const char *const query_reserved[] = { "q", "_sort", "_order", "_page",
	"_limit", "_start", "_end", "_embed", "_expand", "callback", "_",
	NULL };

/* The operators, by the suffix that names them. */
enum query_op { QUERY_EQ, QUERY_GTE, QUERY_LTE, QUERY_NE, QUERY_LIKE };

static const struct query_suffix {
	const char *suffix;
	enum query_op op;
} query_suffixes[] = {
	{ "_gte", QUERY_GTE },
	{ "_lte", QUERY_LTE },
	{ "_ne", QUERY_NE },
	{ "_like", QUERY_LIKE },
};

/* Appends the formatted text to buf (size bytes); false if it is full. */
static bool __attribute__((format(printf, 3, 4)))
query_append(char *buf, size_t size, const char *fmt, ...)
{
	size_t used = strlen(buf);
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf + used, size - used, fmt, ap);
	va_end(ap);
	return n >= 0 && (size_t)n < size - used;
}

/* Adds a parameter; its number, or -1 past the cap. */
static int
query_bind(struct sb_fetch_query *q, int kind, const char *text, double real)
{
	if (q->bind_count == SB_FETCH_QUERY_BINDS_MAX)
		return -1;
	q->binds[q->bind_count].kind = kind;
	q->binds[q->bind_count].text = text;
	q->binds[q->bind_count].real = real;
	return SB_FETCH_QUERY_FIRST_BIND + q->bind_count++;
}

static bool
query_is_reserved(const char *key)
{
	for (size_t i = 0; query_reserved[i] != NULL; i++)
		if (strcmp(query_reserved[i], key) == 0)
			return true;
	return false;
}

/* True iff name is one of fields. */
static bool
query_field_known(const cJSON *fields, const char *name, size_t len)
{
	const cJSON *f;

	cJSON_ArrayForEach(f, fields)
	{
		if (cJSON_IsString(f) && strlen(f->valuestring) == len &&
		    strncmp(f->valuestring, name, len) == 0)
			return true;
	}
	return false;
}

/* "unknown field 'x'; the filterable fields are a, b, c" into err. */
static void
query_unknown(const cJSON *fields, const char *name, size_t len, char *err,
    size_t errsize)
{
	const cJSON *f;
	bool first = true;

	snprintf(err, errsize,
	    "unknown field '%.*s'; the filterable fields are ",
	    (int)(len < SB_FETCH_QUERY_FIELD_MAX ? len
	                                         : SB_FETCH_QUERY_FIELD_MAX),
	    name);
	cJSON_ArrayForEach(f, fields)
	{
		if (!cJSON_IsString(f))
			continue;
		query_append(
		    err, errsize, "%s%s", first ? "" : ", ", f->valuestring);
		first = false;
	}
}

/* The JSON path ("$.a.b") of a dotted field name, into the arena. */
static const char *
query_path(struct sb_arena *arena, const char *name, size_t len)
{
	return sb_arena_printf(arena, "$.%.*s", (int)len, name);
}

/*
 * JavaScript's Number(text) for a query value: trimmed, empty is 0, a
 * decimal or exponent number; false for NaN (hex and Infinity are not
 * taken).
 */
static bool
query_number(const char *text, double *out)
{
	char *end;

	while (isspace((unsigned char)*text))
		text++;
	if (*text == '\0') {
		*out = 0;
		return true;
	}
	errno = 0;
	*out = strtod(text, &end);
	if (end == text || errno != 0 || !isfinite(*out))
		return false;
	while (isspace((unsigned char)*end))
		end++;
	return *end == '\0' && strpbrk(text, "xXnN") == NULL;
}

/*
 * Compiles the _like pattern v into q (sb/fetch/like.h) and binds it as
 * *t.  SB_ERR_INVALID with err when it is refused or q has
 * SB_FETCH_QUERY_LIKES_MAX already; SB_ERR_TOO_LARGE past the binds cap.
 */
static enum sb_err
query_like(
    struct sb_fetch_query *q, const char *v, int *t, char *err, size_t errsize)
{
	regex_t *re;

	if (q->like_count == SB_FETCH_QUERY_LIKES_MAX) {
		snprintf(err, errsize, "a query has at most %d _like patterns",
		    SB_FETCH_QUERY_LIKES_MAX);
		return SB_ERR_INVALID;
	}
	re = &q->likes[q->like_count];
	if (sb_fetch_like_compile(v, re, err, errsize) != SB_OK)
		return SB_ERR_INVALID;
	q->like_count++;
	if ((*t = query_bind(q, SB_FETCH_BIND_REGEX, NULL, 0)) < 0)
		return SB_ERR_TOO_LARGE;
	q->binds[q->bind_count - 1].regex = re;
	return SB_OK;
}

/* Appends the JavaScript text of the field at path parameter p, SQL
 * NULL when the field is absent or null. */
static bool
query_text(char *buf, size_t size, int p)
{
	return query_append(buf, size,
	    "(CASE json_type(body, ?%d) WHEN 'true' THEN 'true'"
	    " WHEN 'false' THEN 'false' WHEN 'null' THEN NULL"
	    " WHEN 'object' THEN '[object Object]'"
	    " ELSE CAST(json_extract(body, ?%d) AS TEXT) END)",
	    p, p);
}

/*
 * A range test, as JavaScript's value <= element (gte) or >= (lte):
 * numbers compared as numbers when the value is one, text as text.
 */
static bool
query_range(struct sb_fetch_query *q, bool gte, int p, const char *v, char *buf,
    size_t size)
{
	const char *cmp = gte ? ">=" : "<=";
	double num = 0;
	bool is_num = query_number(v, &num);
	int t, n;

	if ((t = query_bind(q, SB_FETCH_BIND_TEXT, v, 0)) < 0 ||
	    (n = query_bind(q, is_num ? SB_FETCH_BIND_REAL : SB_FETCH_BIND_NULL,
	         NULL, num)) < 0)
		return false;
	return query_append(buf, size,
	    "((json_type(body, ?%d) IN ('integer', 'real')"
	    " AND json_extract(body, ?%d) %s ?%d)"
	    " OR (json_type(body, ?%d) = 'text'"
	    " AND json_extract(body, ?%d) %s ?%d))",
	    p, p, cmp, n, p, p, cmp, t);
}

/* One value's condition for op on the field at path parameter p; for
 * _like, like is the parameter of the compiled pattern. */
static bool
query_cond(struct sb_fetch_query *q, enum query_op op, int p, const char *v,
    int like, char *buf, size_t size)
{
	int t;

	if (op == QUERY_GTE || op == QUERY_LTE)
		return query_range(q, op == QUERY_GTE, p, v, buf, size);
	if (op == QUERY_LIKE)
		return query_append(buf, size, "(sb_like(?%d, ", like) &&
		    query_text(buf, size, p) &&
		    query_append(buf, size, ") = 1)");
	if ((t = query_bind(q, SB_FETCH_BIND_TEXT, v, 0)) < 0 ||
	    !query_append(buf, size, "(") || !query_text(buf, size, p))
		return false;
	return query_append(
	    buf, size, op == QUERY_EQ ? " = ?%d)" : " <> ?%d)", t);
}

/* The operator a key names and the length of its field name. */
static enum query_op
query_split(const char *key, size_t *len)
{
	size_t n = strlen(key), s;

	for (size_t i = 0;
	     i < sizeof(query_suffixes) / sizeof(query_suffixes[0]); i++) {
		s = strlen(query_suffixes[i].suffix);
		if (n > s &&
		    strcmp(key + n - s, query_suffixes[i].suffix) == 0) {
			*len = n - s;
			return query_suffixes[i].op;
		}
	}
	*len = n;
	return QUERY_EQ;
}

/* True iff an earlier pair has the key of pairs[i]. */
static bool
query_seen(const struct sb_kv *pairs, size_t i)
{
	for (size_t j = 0; j < i; j++)
		if (strcmp(pairs[j].key, pairs[i].key) == 0)
			return true;
	return false;
}

/*
 * The condition of every pair with the key of pairs[i] (the first with
 * it): ORed, or ANDed for _ne; appended to q->where.
 */
static enum sb_err
query_key(struct sb_arena *arena, const cJSON *fields,
    const struct sb_kv *pairs, size_t count, size_t i, struct sb_fetch_query *q,
    const char **code, char *err, size_t errsize)
{
	size_t len;
	enum query_op op = query_split(pairs[i].key, &len);
	const char *path, *join = op == QUERY_NE ? " AND " : " OR ";
	bool first = true;
	enum sb_err rc;
	int p, like = 0;

	if (!query_field_known(fields, pairs[i].key, len)) {
		*code = "unknown_field";
		query_unknown(fields, pairs[i].key, len, err, errsize);
		return SB_ERR_INVALID;
	}
	if ((path = query_path(arena, pairs[i].key, len)) == NULL)
		return SB_ERR_NOMEM;
	if ((p = query_bind(q, SB_FETCH_BIND_TEXT, path, 0)) < 0 ||
	    !query_append(q->where, sizeof(q->where), " AND ("))
		goto big;
	for (size_t j = i; j < count; j++) {
		if (strcmp(pairs[j].key, pairs[i].key) != 0)
			continue;
		if (op == QUERY_LIKE &&
		    (rc = query_like(q, pairs[j].value, &like, err, errsize)) !=
		        SB_OK) {
			if (rc != SB_ERR_INVALID)
				goto big;
			*code = "invalid_query";
			return rc;
		}
		if ((!first &&
		        !query_append(
		            q->where, sizeof(q->where), "%s", join)) ||
		    !query_cond(q, op, p, pairs[j].value, like, q->where,
		        sizeof(q->where)))
			goto big;
		first = false;
	}
	if (query_append(q->where, sizeof(q->where), ")"))
		return SB_OK;
big:
	*code = "invalid_query";
	snprintf(err, errsize, "the query has too many conditions");
	return SB_ERR_TOO_LARGE;
}

/* q: a substring of any value of the item, ignoring (ASCII) case. */
static bool
query_q(struct sb_arena *arena, struct sb_fetch_query *q, const char *text)
{
	char *lower = sb_arena_strdup(arena, text);
	int t;

	if (lower == NULL)
		return false;
	for (char *c = lower; *c != '\0'; c++)
		*c = (char)tolower((unsigned char)*c);
	if ((t = query_bind(q, SB_FETCH_BIND_TEXT, lower, 0)) < 0)
		return false;
	return query_append(q->where, sizeof(q->where),
	    " AND EXISTS (SELECT 1 FROM json_tree(body) AS t"
	    " WHERE t.type IN ('text', 'integer', 'real', 'true')"
	    " AND NOT (t.type = 'text' AND t.atom = '')"
	    " AND NOT (t.type IN ('integer', 'real') AND t.atom = 0)"
	    " AND instr(lower(CASE t.type WHEN 'true' THEN 'true'"
	    " ELSE CAST(t.atom AS TEXT) END), ?%d) > 0)",
	    t);
}

/* The value of the first pair with key, or NULL. */
static const char *
query_get(const struct sb_kv *pairs, size_t count, const char *key)
{
	for (size_t i = 0; i < count; i++)
		if (strcmp(pairs[i].key, key) == 0)
			return pairs[i].value;
	return NULL;
}

/* The next comma-separated part of *s (length *len), or NULL at the end. */
static const char *
query_part(const char **s, size_t *len)
{
	const char *start = *s, *comma;

	if (start == NULL)
		return NULL;
	comma = strchr(start, ',');
	*len = comma != NULL ? (size_t)(comma - start) : strlen(start);
	*s = comma != NULL ? comma + 1 : NULL;
	return start;
}

/* _sort and _order into q->order; lodash's orderBy, stable on the id. */
static enum sb_err
query_sort(struct sb_arena *arena, const cJSON *fields, const char *sort,
    const char *order, struct sb_fetch_query *q, const char **code, char *err,
    size_t errsize)
{
	const char *name, *dir;
	size_t len, dlen = 0;
	bool desc;
	int p;

	snprintf(q->order, sizeof(q->order), " ORDER BY ");
	while ((name = query_part(&sort, &len)) != NULL) {
		dir = query_part(&order, &dlen);
		desc = dir != NULL && dlen == 4 &&
		    strncasecmp(dir, "desc", 4) == 0;
		if (!query_field_known(fields, name, len)) {
			*code = "unknown_field";
			query_unknown(fields, name, len, err, errsize);
			return SB_ERR_INVALID;
		}
		if ((p = query_bind(q, SB_FETCH_BIND_TEXT,
		         query_path(arena, name, len), 0)) < 0 ||
		    q->binds[q->bind_count - 1].text == NULL ||
		    !query_append(q->order, sizeof(q->order),
		        "json_type(body, ?%d) IS NULL OR json_type(body, ?%d)"
		        " = 'null' %s, json_extract(body, ?%d) %s, ",
		        p, p, desc ? "DESC" : "ASC", p,
		        desc ? "DESC" : "ASC")) {
			*code = "invalid_query";
			snprintf(err, errsize, "_sort names too many fields");
			return SB_ERR_TOO_LARGE;
		}
	}
	query_append(q->order, sizeof(q->order), "id");
	return SB_OK;
}

bool
sb_fetch_query_parse_int(const char *text, int64_t *out)
{
	const char *p = text;
	bool neg = false, any = false;
	int64_t v = 0;

	if (p == NULL)
		return false;
	while (isspace((unsigned char)*p))
		p++;
	if (*p == '+' || *p == '-')
		neg = *p++ == '-';
	for (; isdigit((unsigned char)*p); p++, any = true)
		if (v < INT64_MAX / 20)
			v = v * 10 + (*p - '0');
	*out = neg ? -v : v;
	return any;
}

/* n clamped to -max..max. */
static int64_t
query_clamp(int64_t n, int64_t max)
{
	return n > max ? max : n < -max ? -max : n;
}

/* The paging keys, as json-server reads them (see sb_fetch_query_slice). */
static void
query_paging(const struct sb_kv *pairs, size_t count, struct sb_fetch_query *q)
{
	const char *page = query_get(pairs, count, "_page");
	const char *limit = query_get(pairs, count, "_limit");
	const char *end = query_get(pairs, count, "_end");
	int64_t n;

	page = page != NULL && page[0] != '\0' ? page : NULL;
	limit = limit != NULL && limit[0] != '\0' ? limit : NULL;
	end = end != NULL && end[0] != '\0' ? end : NULL;
	q->counted = page != NULL || limit != NULL || end != NULL;
	if (!sb_fetch_query_parse_int(
	        query_get(pairs, count, "_start"), &q->start))
		q->start = 0;
	if (page != NULL) {
		q->slice = SB_FETCH_SLICE_PAGE;
		q->page = sb_fetch_query_parse_int(page, &n) && n >= 1
		    ? query_clamp(n, SB_FETCH_QUERY_PAGE_MAX)
		    : 1;
		q->limit = limit != NULL &&
		        sb_fetch_query_parse_int(limit, &n) && n != 0
		    ? query_clamp(n, SB_FETCH_QUERY_LIMIT_MAX)
		    : SB_FETCH_QUERY_PAGE_DEFAULT;
	} else if (end != NULL) {
		q->slice = SB_FETCH_SLICE_END;
		q->end_nan = !sb_fetch_query_parse_int(end, &q->end);
	} else if (limit != NULL) {
		q->slice = SB_FETCH_SLICE_LIMIT;
		q->end_nan = !sb_fetch_query_parse_int(limit, &n);
		q->end = q->end_nan ? 0 : q->start + n;
	}
}

/* sb_fetch_query_parse() without freeing what it compiled on failure. */
static enum sb_err
query_parse(struct sb_arena *arena, const cJSON *fields,
    const struct sb_kv *pairs, size_t count, struct sb_fetch_query *q,
    const char **code, char *err, size_t errsize)
{
	const char *text;
	enum sb_err rc;

	*code = NULL;
	if ((text = query_get(pairs, count, "q")) != NULL && text[0] != '\0' &&
	    !query_q(arena, q, text)) {
		*code = "invalid_query";
		snprintf(err, errsize, "the query is too large");
		return SB_ERR_TOO_LARGE;
	}
	for (size_t i = 0; i < count; i++) {
		if (query_is_reserved(pairs[i].key) || query_seen(pairs, i))
			continue;
		rc = query_key(
		    arena, fields, pairs, count, i, q, code, err, errsize);
		if (rc != SB_OK)
			return rc;
	}
	text = query_get(pairs, count, "_sort");
	if (text != NULL && text[0] != '\0')
		rc = query_sort(arena, fields, text,
		    query_get(pairs, count, "_order"), q, code, err, errsize);
	else
		rc = snprintf(q->order, sizeof(q->order), " ORDER BY id") > 0
		    ? SB_OK
		    : SB_ERR_TOO_LARGE;
	if (rc != SB_OK)
		return rc;
	query_paging(pairs, count, q);
	return SB_OK;
}

enum sb_err
sb_fetch_query_parse(struct sb_arena *arena, const cJSON *fields,
    const struct sb_kv *pairs, size_t count, struct sb_fetch_query *q,
    const char **code, char *err, size_t errsize)
{
	enum sb_err rc;

	memset(q, 0, sizeof(*q));
	rc = query_parse(arena, fields, pairs, count, q, code, err, errsize);
	if (rc != SB_OK)
		sb_fetch_query_clear(q);
	return rc;
}

void
sb_fetch_query_clear(struct sb_fetch_query *q)
{
	if (q == NULL)
		return;
	for (int i = 0; i < q->like_count; i++)
		regfree(&q->likes[i]);
	q->like_count = 0;
}

void
sb_fetch_query_bind(void *stmt, const struct sb_fetch_query *q)
{
	for (int i = 0; i < q->bind_count; i++) {
		const struct sb_fetch_bind *b = &q->binds[i];
		int n = SB_FETCH_QUERY_FIRST_BIND + i;

		switch (b->kind) {
		case SB_FETCH_BIND_TEXT:
			sqlite3_bind_text(stmt, n, b->text, -1, SQLITE_STATIC);
			break;
		case SB_FETCH_BIND_REAL:
			sqlite3_bind_double(stmt, n, b->real);
			break;
		case SB_FETCH_BIND_REGEX:
			sqlite3_bind_pointer(stmt, n, (void *)b->regex,
			    SB_FETCH_LIKE_POINTER, NULL);
			break;
		default:
			sqlite3_bind_null(stmt, n);
			break;
		}
	}
}

/* SQLite's progress handler: non-zero (interrupt) once the deadline at
 * arg has passed. */
static int
query_progress(void *arg)
{
	return sb_deadline_passed(*(const int64_t *)arg);
}

void
sb_fetch_query_deadline(void *sqlite_handle, int64_t *deadline)
{
	if (deadline == NULL || *deadline == SB_DEADLINE_NONE)
		sqlite3_progress_handler(sqlite_handle, 0, NULL, NULL);
	else
		sqlite3_progress_handler(sqlite_handle,
		    SB_FETCH_QUERY_PROGRESS_STEPS, query_progress, deadline);
}

/* lodash's _.slice(array of total, start, end) as [offset, count). */
static void
query_lodash_slice(
    int64_t total, int64_t start, int64_t end, struct sb_fetch_window *w)
{
	if (start < 0)
		start = -start > total ? 0 : total + start;
	if (end > total)
		end = total;
	if (end < 0)
		end += total;
	w->offset = start;
	w->count = start > end ? 0 : end - start;
}

void
sb_fetch_query_slice(
    const struct sb_fetch_query *q, int64_t total, struct sb_fetch_window *w)
{
	int64_t start, end;

	memset(w, 0, sizeof(*w));
	switch (q->slice) {
	case SB_FETCH_SLICE_NONE:
		w->count = total;
		return;
	case SB_FETCH_SLICE_PAGE:
		/* utils.getPage: negative limits slice from the end too */
		start = (q->page - 1) * q->limit;
		end = q->page * q->limit;
		query_lodash_slice(total, start, end, w);
		if (w->count == 0)
			return;
		w->prev = q->page > 1 ? q->page - 1 : 0;
		w->next = end < total ? q->page + 1 : 0;
		if (w->count != total) {
			w->first = 1;
			w->last = (total + q->limit - 1) / q->limit;
		}
		return;
	default:
		query_lodash_slice(total, q->start, q->end_nan ? 0 : q->end, w);
		return;
	}
}

enum sb_err
sb_fetch_query_register(void *sqlite_handle)
{
	return sb_fetch_like_register(sqlite_handle);
}
