/*
 * GET /data's query language (see include/sb/fetch/query.h), following
 * json-server 0.16's plural router step by step: the reserved keys are
 * taken out, q filters, each other key filters (its values ORed, _ne's
 * ANDed), _sort orders (stable: ties keep the id order), then _page, or
 * _end, or _limit slices, in that order of precedence.  This file parses;
 * lib/fetch/select.c evaluates.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sb/fetch/query.h"

/* The keys json-server takes out before filtering. */
static const char *const query_reserved[] = { "q", "_sort", "_order", "_page",
	"_limit", "_start", "_end", "_embed", "_expand", "callback", "_",
	NULL };

/* The operators, by the suffix that names them. */
static const struct query_suffix {
	const char *suffix;
	enum sb_fetch_op op;
} query_suffixes[] = {
	{ "_gte", SB_FETCH_OP_GTE },
	{ "_lte", SB_FETCH_OP_LTE },
	{ "_ne", SB_FETCH_OP_NE },
	{ "_like", SB_FETCH_OP_LIKE },
};

static bool
query_is_reserved(const char *key)
{
	for (size_t i = 0; query_reserved[i] != NULL; i++)
		if (strcmp(query_reserved[i], key) == 0)
			return true;
	return false;
}

/* The place of name (len bytes) in fields, or -1 if it is not one. */
static int
query_field(const cJSON *fields, const char *name, size_t len)
{
	const cJSON *f;
	int place = 0;

	cJSON_ArrayForEach(f, fields)
	{
		if (cJSON_IsString(f) && strlen(f->valuestring) == len &&
		    strncmp(f->valuestring, name, len) == 0)
			return place;
		place++;
	}
	return -1;
}

/* "unknown field 'x'; the filterable fields are a, b, c" into err. */
static void
query_unknown(const cJSON *fields, const char *name, size_t len, char *err,
    size_t errsize)
{
	const cJSON *f;
	bool first = true;
	size_t used;

	snprintf(err, errsize,
	    "unknown field '%.*s'; the filterable fields are ",
	    (int)(len < SB_FETCH_QUERY_FIELD_MAX ? len
	                                         : SB_FETCH_QUERY_FIELD_MAX),
	    name);
	cJSON_ArrayForEach(f, fields)
	{
		if (!cJSON_IsString(f))
			continue;
		used = strlen(err);
		snprintf(err + used, errsize - used, "%s%s", first ? "" : ", ",
		    f->valuestring);
		first = false;
	}
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
 * Compiles the _like pattern v into q (sb/fetch/like.h) as *re.
 * SB_ERR_INVALID with err when it is refused or q has
 * SB_FETCH_QUERY_LIKES_MAX already.
 */
static enum sb_err
query_like(struct sb_fetch_query *q, const char *v, const regex_t **re,
    char *err, size_t errsize)
{
	if (q->like_count == SB_FETCH_QUERY_LIKES_MAX) {
		snprintf(err, errsize, "a query has at most %d _like patterns",
		    SB_FETCH_QUERY_LIKES_MAX);
		return SB_ERR_INVALID;
	}
	if (sb_fetch_like_compile(v, &q->likes[q->like_count], err, errsize) !=
	    SB_OK)
		return SB_ERR_INVALID;
	*re = &q->likes[q->like_count++];
	return SB_OK;
}

/* The operator a key names and the length of its field name. */
static enum sb_fetch_op
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
	return SB_FETCH_OP_EQ;
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

/* Adds the value v of filter f (op) to q; false past the cap. */
static bool
query_operand(struct sb_fetch_query *q, struct sb_fetch_filter *f,
    const char *v, const regex_t *re)
{
	struct sb_fetch_operand *o;

	if (q->operand_count == SB_FETCH_QUERY_VALUES_MAX)
		return false;
	o = &q->operands[q->operand_count++];
	o->text = v;
	o->len = strlen(v);
	o->regex = re;
	if (f->op == SB_FETCH_OP_GTE || f->op == SB_FETCH_OP_LTE)
		o->is_number = query_number(v, &o->number);
	f->count++;
	return true;
}

/*
 * The filter of every pair with the key of pairs[i] (the first with it):
 * its values, ORed, or ANDed for _ne; added to q.
 */
static enum sb_err
query_key(const cJSON *fields, const struct sb_kv *pairs, size_t count,
    size_t i, struct sb_fetch_query *q, const char **code, char *err,
    size_t errsize)
{
	size_t len;
	enum sb_fetch_op op = query_split(pairs[i].key, &len);
	struct sb_fetch_filter *f;
	const regex_t *re = NULL;
	int field = query_field(fields, pairs[i].key, len);

	if (field < 0) {
		*code = "unknown_field";
		query_unknown(fields, pairs[i].key, len, err, errsize);
		return SB_ERR_INVALID;
	}
	if (q->filter_count == SB_FETCH_QUERY_VALUES_MAX)
		goto big;
	f = &q->filters[q->filter_count];
	*f = (struct sb_fetch_filter){
		.field = field, .op = op, .first = q->operand_count
	};
	for (size_t j = i; j < count; j++) {
		if (strcmp(pairs[j].key, pairs[i].key) != 0)
			continue;
		if (op == SB_FETCH_OP_LIKE &&
		    query_like(q, pairs[j].value, &re, err, errsize) != SB_OK) {
			*code = "invalid_query";
			return SB_ERR_INVALID;
		}
		if (!query_operand(q, f, pairs[j].value, re))
			goto big;
	}
	q->filter_count++;
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

	if (lower == NULL)
		return false;
	for (char *c = lower; *c != '\0'; c++)
		*c = (char)tolower((unsigned char)*c);
	q->q = lower;
	q->q_len = strlen(lower);
	return true;
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

/* _sort and _order into q->sort; lodash's orderBy, stable on the id. */
static enum sb_err
query_sort(const cJSON *fields, const char *sort, const char *order,
    struct sb_fetch_query *q, const char **code, char *err, size_t errsize)
{
	const char *name, *dir;
	size_t len, dlen = 0;
	int field;

	while ((name = query_part(&sort, &len)) != NULL) {
		dir = query_part(&order, &dlen);
		if ((field = query_field(fields, name, len)) < 0) {
			*code = "unknown_field";
			query_unknown(fields, name, len, err, errsize);
			return SB_ERR_INVALID;
		}
		if (q->sort_count == SB_FETCH_QUERY_SORT_MAX) {
			*code = "invalid_query";
			snprintf(err, errsize, "_sort names too many fields");
			return SB_ERR_TOO_LARGE;
		}
		q->sort[q->sort_count].field = field;
		q->sort[q->sort_count++].desc = dir != NULL && dlen == 4 &&
		    strncasecmp(dir, "desc", 4) == 0;
	}
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
		rc = query_key(fields, pairs, count, i, q, code, err, errsize);
		if (rc != SB_OK)
			return rc;
	}
	text = query_get(pairs, count, "_sort");
	if (text != NULL && text[0] != '\0' &&
	    (rc = query_sort(fields, text, query_get(pairs, count, "_order"), q,
	         code, err, errsize)) != SB_OK)
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
