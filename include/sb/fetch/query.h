/*
 * GET /data's query language: json-server 0.16's (what JSONPlaceholder
 * runs), turned into one parameterised SQL condition over the stored
 * items' JSON (SQLite's json functions) and an ORDER BY, plus the paging
 * json-server does after filtering.  Field names and values only ever
 * reach SQLite as bound parameters; the SQL text is made of fixed pieces.
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

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cJSON.h>

#include "sb/core/arena.h"
#include "sb/core/err.h"
#include "sb/core/request.h"
#include "sb/fetch/like.h"

#define SB_FETCH_QUERY_SQL_MAX 8192 /* bytes of the condition and order */
#define SB_FETCH_QUERY_BINDS_MAX 128 /* parameters of one query */
#define SB_FETCH_QUERY_LIKES_MAX 4 /* _like patterns of one query */
#define SB_FETCH_QUERY_FIELD_MAX 64 /* bytes of a field name */
#define SB_FETCH_QUERY_FIRST_BIND 2 /* ?1 is the resource */
#define SB_FETCH_QUERY_PAGE_DEFAULT 10
/* _page is clamped to 1..PAGE_MAX and _limit to -LIMIT_MAX..LIMIT_MAX (a
 * negative limit slices from the end, as json-server does), so that a page's
 * offset (page - 1) * limit fits in 64 bits; past them json-server's
 * answers would be the same, there being fewer items than that */
#define SB_FETCH_QUERY_PAGE_MAX 1000000000
#define SB_FETCH_QUERY_LIMIT_MAX 1000000
/* virtual machine steps of a query between two looks at the deadline */
#define SB_FETCH_QUERY_PROGRESS_STEPS 1000
/* a GET /data query's time (count and rows), less when the request's
 * deadline is nearer: a _like within its limits costs at most
 * milliseconds a row, but the rows are many */
#define SB_FETCH_QUERY_TIME_MAX_MS 2000

/* One bound parameter: text, a number, NULL, or a compiled _like. */
struct sb_fetch_bind {
	enum {
		SB_FETCH_BIND_TEXT,
		SB_FETCH_BIND_REAL,
		SB_FETCH_BIND_NULL,
		SB_FETCH_BIND_REGEX
	} kind;
	const char *text;
	double real;
	const regex_t *regex; /* SB_FETCH_BIND_REGEX: one of the query's */
};

/* The paging json-server does after filtering and sorting. */
enum sb_fetch_slice {
	SB_FETCH_SLICE_NONE, /* every item */
	SB_FETCH_SLICE_PAGE, /* _page (and _limit) */
	SB_FETCH_SLICE_END, /* _start and _end */
	SB_FETCH_SLICE_LIMIT, /* _start and _limit */
};

/*
 * A parsed query.  where is " AND ..." conditions (possibly ""), order
 * " ORDER BY ..." ending with the id; their parameters are binds, from
 * ?SB_FETCH_QUERY_FIRST_BIND on.  counted: X-Total-Count is sent.
 */
struct sb_fetch_query {
	char where[SB_FETCH_QUERY_SQL_MAX];
	char order[SB_FETCH_QUERY_SQL_MAX];
	struct sb_fetch_bind binds[SB_FETCH_QUERY_BINDS_MAX];
	int bind_count;
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
 * into q, with arena holding the texts bound.  On SB_OK q holds the
 * compiled _like patterns and the caller frees them with
 * sb_fetch_query_clear().  On SB_ERR_INVALID err (errsize bytes) says
 * what was wrong and *code is "unknown_field" (a field not among fields;
 * err names them) or "invalid_query" (a _like pattern past a limit of
 * sb/fetch/like.h or not a regular expression, more than
 * SB_FETCH_QUERY_LIKES_MAX of them); SB_ERR_TOO_LARGE for a query past the
 * caps (*code "invalid_query").  Otherwise q holds nothing to free.
 */
enum sb_err sb_fetch_query_parse(struct sb_arena *arena, const cJSON *fields,
    const struct sb_kv *pairs, size_t count, struct sb_fetch_query *q,
    const char **code, char *err, size_t errsize);

/* Frees the patterns q holds (after sb_fetch_query_parse); q may be NULL. */
void sb_fetch_query_clear(struct sb_fetch_query *q);

/*
 * Binds q's parameters to the prepared statement stmt, from
 * ?SB_FETCH_QUERY_FIRST_BIND on; q must outlive the statement's run.
 */
void sb_fetch_query_bind(void *stmt, const struct sb_fetch_query *q);

/*
 * Bounds the statements run next on the connection in time: while
 * deadline (sb/core/deadline.h) is set and has passed, SQLite interrupts
 * them (sqlite3_step() returns SQLITE_INTERRUPT), looking every
 * SB_FETCH_QUERY_PROGRESS_STEPS steps.  *deadline is read, not copied: it
 * must outlive the statements.  NULL (or SB_DEADLINE_NONE) removes the
 * bound; the caller removes it before the connection runs anything else.
 */
void sb_fetch_query_deadline(void *sqlite_handle, int64_t *deadline);

/* The rows to answer of total matching ones, as json-server slices. */
void sb_fetch_query_slice(
    const struct sb_fetch_query *q, int64_t total, struct sb_fetch_window *w);

/*
 * JavaScript's parseInt(text, 10) as json-server applies it: leading
 * spaces, a sign, digits up to the first non-digit.  False for NaN.
 */
bool sb_fetch_query_parse_int(const char *text, int64_t *out);

/*
 * Registers the SQL function sb_like(pattern, text) the conditions use
 * (sb_fetch_like_register(): pattern is one of the query's compiled
 * patterns, bound by sb_fetch_query_bind()).
 */
enum sb_err sb_fetch_query_register(void *sqlite_handle);

#endif
