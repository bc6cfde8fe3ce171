/*
 * GET /data's query language: json-server 0.16's (what JSONPlaceholder
 * runs), parsed into filters, sort keys and paging over a resource's
 * filterable fields; sb/fetch/select.h runs a parsed query over a
 * resource's snapshot (sb/fetch/snapshot.h).
 *
 * What is json-server's: field=value (text equality with the field's
 * JavaScript text; a repeated key ORs), field_gte / field_lte (numbers
 * compared as numbers, text as text), field_ne (a repeated key ANDs),
 * field_like (a case-insensitive regular expression), q (a substring of
 * any value, case-insensitive), _sort and _order (comma-separated),
 * _page and _limit (10 a page when only _page is given), _start with
 * _end or _limit.  What is not: a field that is not one of the
 * resource's filterable fields is refused (json-server ignores it), and
 * _like takes POSIX extended regular expressions, not JavaScript's,
 * bounded in size and cost (sb/fetch/like.h) and at most
 * SB_FETCH_QUERY_LIKES_MAX of them a query; _page and _limit are clamped
 * to SB_FETCH_QUERY_PAGE_MAX and SB_FETCH_QUERY_LIMIT_MAX.
 */
#ifndef SB_FETCH_QUERY_H
#define SB_FETCH_QUERY_H

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cJSON.h>

#include "sb/core/arena.h"
#include "sb/core/err.h"
#include "sb/core/request.h"
#include "sb/fetch/like.h"

#define SB_FETCH_QUERY_VALUES_MAX 64 /* values of a query's filters */
#define SB_FETCH_QUERY_SORT_MAX 128 /* fields of a _sort */
#define SB_FETCH_QUERY_LIKES_MAX 4 /* _like patterns of one query */
#define SB_FETCH_QUERY_FIELD_MAX 64 /* bytes of a field name in a message */
#define SB_FETCH_QUERY_PAGE_DEFAULT 10
/* _page is clamped to 1..PAGE_MAX and _limit to -LIMIT_MAX..LIMIT_MAX (a
 * negative limit slices from the end, as json-server does), so that a page's
 * offset (page - 1) * limit fits in 64 bits; past them json-server's
 * answers would be the same, there being fewer items than that */
#define SB_FETCH_QUERY_PAGE_MAX 1000000000
#define SB_FETCH_QUERY_LIMIT_MAX 1000000
/* a GET /data query's time, less when the request's deadline is nearer:
 * a _like within its limits costs at most milliseconds an item, but the
 * items are many */
#define SB_FETCH_QUERY_TIME_MAX_MS 2000

/* A filter's operator, by the suffix of its key (none: equality). */
enum sb_fetch_op {
	SB_FETCH_OP_EQ,
	SB_FETCH_OP_GTE,
	SB_FETCH_OP_LTE,
	SB_FETCH_OP_NE,
	SB_FETCH_OP_LIKE,
};

/* One value of a filter: its text; for _gte and _lte whether it is a
 * number (JavaScript's Number()) and which; for _like its pattern. */
struct sb_fetch_operand {
	const char *text; /* the pairs' */
	size_t len;
	bool is_number;
	double number;
	const regex_t *regex; /* one of the query's likes */
};

/* The values of one key, operands[first .. first + count) of the query,
 * ORed (ANDed for _ne); field is the field's place in the fields array. */
struct sb_fetch_filter {
	int field;
	enum sb_fetch_op op;
	int first, count;
};

/* One _sort field, with its _order. */
struct sb_fetch_sort_key {
	int field;
	bool desc;
};

/* The paging json-server does after filtering and sorting. */
enum sb_fetch_slice {
	SB_FETCH_SLICE_NONE, /* every item */
	SB_FETCH_SLICE_PAGE, /* _page (and _limit) */
	SB_FETCH_SLICE_END, /* _start and _end */
	SB_FETCH_SLICE_LIMIT, /* _start and _limit */
};

/*
 * A parsed query: q (lowered, in the parse's arena; NULL for none), the
 * filters in the order of their keys' first appearance, the sort keys
 * (none: the id order), and the paging.  counted: X-Total-Count is sent.
 */
struct sb_fetch_query {
	const char *q;
	size_t q_len;
	struct sb_fetch_filter filters[SB_FETCH_QUERY_VALUES_MAX];
	int filter_count;
	struct sb_fetch_operand operands[SB_FETCH_QUERY_VALUES_MAX];
	int operand_count;
	struct sb_fetch_sort_key sort[SB_FETCH_QUERY_SORT_MAX];
	int sort_count;
	bool counted;
	enum sb_fetch_slice slice;
	int64_t page, limit; /* SLICE_PAGE */
	int64_t start, end; /* SLICE_END; SLICE_LIMIT: end is start + limit */
	bool end_nan; /* _end or _limit was not a number (json-server: 0) */
	regex_t likes[SB_FETCH_QUERY_LIKES_MAX]; /* the _like patterns, */
	int like_count; /* compiled once; sb_fetch_query_clear() frees them */
};

/* What sb_fetch_query_slice() makes of a total: rows to skip and take,
 * and the page links (0: none) of a _page query. */
struct sb_fetch_window {
	int64_t offset, count;
	int64_t first, prev, next, last;
};

/*
 * Parses count query pairs against fields (a JSON array of the
 * resource's filterable field names; a dotted name reaches into objects)
 * into q, which points into pairs and arena: both must outlive it.  On
 * SB_OK q holds the compiled _like patterns and the caller frees them with
 * sb_fetch_query_clear().  On SB_ERR_INVALID err (errsize bytes) says
 * what was wrong and *code is "unknown_field" (a field not among fields;
 * err names them) or "invalid_query" (a _like pattern past a limit of
 * sb/fetch/like.h or not a regular expression, more than
 * SB_FETCH_QUERY_LIKES_MAX of them); SB_ERR_TOO_LARGE for a query past
 * SB_FETCH_QUERY_VALUES_MAX values or SB_FETCH_QUERY_SORT_MAX sort fields
 * (*code "invalid_query").  Otherwise q holds nothing to free.
 */
enum sb_err sb_fetch_query_parse(struct sb_arena *arena, const cJSON *fields,
    const struct sb_kv *pairs, size_t count, struct sb_fetch_query *q,
    const char **code, char *err, size_t errsize);

/* Frees the patterns q holds (after sb_fetch_query_parse); q may be NULL. */
void sb_fetch_query_clear(struct sb_fetch_query *q);

/* The rows to answer of total matching ones, as json-server slices. */
void sb_fetch_query_slice(
    const struct sb_fetch_query *q, int64_t total, struct sb_fetch_window *w);

/*
 * JavaScript's parseInt(text, 10) as json-server applies it: leading
 * spaces, a sign, digits up to the first non-digit.  False for NaN.
 */
bool sb_fetch_query_parse_int(const char *text, int64_t *out);

#endif
