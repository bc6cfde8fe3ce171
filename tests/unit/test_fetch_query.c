/*
 * Unit tests for lib/fetch/query.c and lib/fetch/like.c: json-server's
 * parseInt, the paging (getPage and lodash's slice, clamped), the
 * refusals (unknown field, a _like past a limit, too many _like), the
 * conditions run against SQLite over sample items, table-driven, and the
 * deadline that interrupts a query.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "sb/core/deadline.h"
#include "sb/fetch/query.h"

#define LEN(a) (sizeof(a) / sizeof((a)[0]))
#define PAIRS_MAX 8

static const char *const fields_json = "[\"id\", \"userId\", \"title\"]";

static void
test_parse_int(void **state)
{
	static const struct {
		const char *text;
		bool ok;
		int64_t v;
	} cases[] = { { "10", true, 10 }, { " 7x", true, 7 },
		{ "-3", true, -3 }, { "abc", false, 0 }, { "", false, 0 },
		{ "+", false, 0 } };
	int64_t v;

	(void)state;
	for (size_t i = 0; i < LEN(cases); i++) {
		assert_int_equal(
		    sb_fetch_query_parse_int(cases[i].text, &v), cases[i].ok);
		if (cases[i].ok)
			assert_int_equal(v, cases[i].v);
	}
}

/* Runs query over ten items (id 1-10, userId 1 or 2, titles) in an
 * in-memory database; the matching ids joined by ',' into out, or the
 * parse's code. */
static void
run(const char *query, char *out, size_t size, int64_t *total)
{
	static const char *const schema =
	    "CREATE TABLE fetch_items (resource TEXT, id INTEGER, body TEXT,"
	    " deleted_at INTEGER);"
	    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n"
	    " WHERE i < 10) INSERT INTO fetch_items SELECT 'posts', i,"
	    " json_object('userId', 1 + (i > 5), 'id', i, 'title',"
	    " CASE i % 3 WHEN 0 THEN 'Alpha ' || i WHEN 1 THEN 'beta'"
	    " ELSE 'gamma' END), NULL FROM n;";
	struct sb_arena arena;
	struct sb_fetch_query *q = malloc(sizeof(*q));
	struct sb_fetch_window w;
	struct sb_kv *pairs;
	cJSON *fields = cJSON_Parse(fields_json);
	char sql[3 * SB_FETCH_QUERY_SQL_MAX], err[256];
	const char *code;
	sqlite3 *db;
	sqlite3_stmt *st;
	size_t count;

	sb_arena_init(&arena, 1 << 16);
	assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, schema, NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(sb_fetch_query_register(db), SB_OK);
	assert_int_equal(
	    sb_request_parse_query(&arena, query, &pairs, &count), SB_OK);
	out[0] = '\0';
	if (sb_fetch_query_parse(&arena, fields, pairs, count, q, &code, err,
	        sizeof(err)) != SB_OK) {
		snprintf(out, size, "%s", code);
		goto done;
	}
	snprintf(sql, sizeof(sql),
	    "SELECT count(*) FROM fetch_items WHERE resource = ?1%s", q->where);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	sqlite3_bind_text(st, 1, "posts", -1, SQLITE_STATIC);
	sb_fetch_query_bind(st, q);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	*total = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sb_fetch_query_slice(q, *total, &w);
	snprintf(sql, sizeof(sql),
	    "SELECT group_concat(id, ',') FROM (SELECT id FROM fetch_items"
	    " WHERE resource = ?1%s%s LIMIT %lld OFFSET %lld)",
	    q->where, q->order, (long long)w.count, (long long)w.offset);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	sqlite3_bind_text(st, 1, "posts", -1, SQLITE_STATIC);
	sb_fetch_query_bind(st, q);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	if (sqlite3_column_text(st, 0) != NULL)
		snprintf(out, size, "%s", sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
done:
	sqlite3_close(db);
	cJSON_Delete(fields);
	sb_fetch_query_clear(q);
	free(q);
	sb_arena_clear(&arena);
}

static void
test_queries(void **state)
{
	static const struct {
		const char *query;
		const char *ids; /* or the error code */
	} cases[] = {
		{ "", "1,2,3,4,5,6,7,8,9,10" },
		{ "userId=2", "6,7,8,9,10" },
		{ "userId=abc", "" },
		{ "id=1&id=3", "1,3" },
		{ "id_gte=8", "8,9,10" },
		{ "id_lte=2", "1,2" },
		{ "id_gte=3&id_lte=4", "3,4" },
		{ "id_ne=1&id_ne=2&userId=1", "3,4,5" },
		{ "title_like=^ALPHA", "3,6,9" },
		{ "title_like=a$&userId=1", "1,2,4,5" },
		{ "q=ALPHA 6", "6" },
		{ "q=10", "10" },
		{ "_sort=title,id&_order=asc,desc", "3,6,9,10,7,4,1,8,5,2" },
		{ "_sort=id&_order=desc&_limit=2", "10,9" },
		{ "_page=2&_limit=3", "4,5,6" },
		{ "_page=5&_limit=3", "" },
		{ "_page=0&_limit=4", "1,2,3,4" },
		{ "_start=2&_end=4", "3,4" },
		{ "_start=-2&_end=10", "9,10" },
		{ "_start=8&_limit=5", "9,10" },
		{ "_end=abc", "" },
		{ "color=red", "unknown_field" },
		{ "color_gte=1", "unknown_field" },
		{ "_sort=color", "unknown_field" },
		{ "title_like=(", "invalid_query" },
		{ "title_like=(a)\\1", "invalid_query" },
		{ "title_like=(a{1,1000}){1,1000}", "invalid_query" },
		{ "title_like=a{33}", "invalid_query" },
		{ "title_like=(^)*", "invalid_query" },
		{ "title_like=^(al|b)[p-z]{1,3}h?a", "3,6,9" },
		{ "title_like=^b&title_like=^al&title_like=x&title_like=y",
		    "1,3,4,6,7,9,10" },
		{ "title_like=^b&title_like=^al&title_like=x&title_like=y"
		  "&title_like=z",
		    "invalid_query" },
		{ "id_like=1&userId_like=1&title_like=a&title_like=b"
		  "&id_like=2",
		    "invalid_query" },
		{ "_page=999999999999999999&_limit=999999999999", "" },
		{ "_page=1&_limit=999999999999", "1,2,3,4,5,6,7,8,9,10" },
		{ "_page=2&_limit=-999999999999", "" },
		{ "_page=-999999999999999999&_limit=-3", "1,2,3,4,5,6,7" },
		{ "_start=999999999999999999&_limit=999999999999999999", "" },
		{ "_start=-999999999999999999&_end=-999999999999999999", "" },
	};
	char out[256];
	int64_t total;

	(void)state;
	for (size_t i = 0; i < LEN(cases); i++) {
		run(cases[i].query, out, sizeof(out), &total);
		if (strcmp(out, cases[i].ids) != 0)
			fail_msg("%s: got '%s', want '%s'", cases[i].query, out,
			    cases[i].ids);
	}
}

static void
test_page_links(void **state)
{
	struct sb_fetch_query q = { .slice = SB_FETCH_SLICE_PAGE, .limit = 10 };
	struct sb_fetch_window w;

	(void)state;
	q.page = 1;
	sb_fetch_query_slice(&q, 95, &w);
	assert_true(w.first == 1 && w.prev == 0 && w.next == 2 && w.last == 10);
	q.page = 5;
	sb_fetch_query_slice(&q, 95, &w);
	assert_true(w.first == 1 && w.prev == 4 && w.next == 6 && w.last == 10);
	q.page = 10;
	sb_fetch_query_slice(&q, 95, &w);
	assert_true(w.count == 5 && w.prev == 9 && w.next == 0 && w.last == 10);
	q.page = 11;
	sb_fetch_query_slice(&q, 95, &w);
	assert_true(w.count == 0 && w.first == 0 && w.prev == 0 &&
	    w.next == 0 && w.last == 0);
	q.page = 1; /* one page holds everything: no links */
	sb_fetch_query_slice(&q, 7, &w);
	assert_true(w.count == 7 && w.first == 0 && w.next == 0 && w.last == 0);
}

/* A pattern of n copies of unit. */
static const char *
repeat(char *buf, size_t size, const char *unit, int n)
{
	size_t used = 0, len = strlen(unit);

	for (int i = 0; i < n && used + len < size; i++, used += len)
		memcpy(buf + used, unit, len);
	buf[used] = '\0';
	return buf;
}

/*
 * The _like limits: each pattern is accepted (and compiles, or is not a
 * regular expression at all) or refused with the limit it breaks; the
 * hostile ones are refused before glibc is asked to build them, fast.
 */
static void
test_like_limits(void **state)
{
	static const struct {
		const char *pattern;
		const char *refusal; /* a part of the message, or NULL */
	} cases[] = {
		{ "^sunt", NULL }, { "qui$", NULL }, { "\\bqui\\b", NULL },
		{ "[0-9]{3}-[0-9]{4}", NULL }, { "(ab|cd)+e*f?", NULL },
		{ "(a{4}){8}", NULL },
		{ "[]{1000}]", NULL }, /* a bracket: {1000} is literal */
		{ "[[:alpha:]{99}]x", NULL }, { "a\\{1000\\}", NULL },
		{ "a{,32}", NULL },
		{ "(a{1,1000}){1,1000}", "bounds {m,n} are at most 32" },
		{ "a{33}", "at most 32" }, { "a{1,33}", "at most 32" },
		{ "a{33,}", "at most 32" },
		{ "a{99999999999999999999}", "at most 32" },
		{ "((a{8}){8}){8}", "at most 256 pieces" },
		{ "(a{32}){32}", "at most 256 pieces" },
		{ "a{16}{16}", "at most 256 pieces" },
		{ "((((((a+)+)+)+)+)+)+", "at most 256 pieces" },
		{ "(^)*", "may not repeat an anchor" },
		{ "(^|a)+", "may not repeat an anchor" },
		{ "(a\\b){2}", "may not repeat an anchor" },
		{ "^^^^^", "at most 4 anchors" },
		{ "(a)\\1", "back-references" }, { "(a*)*", "match nothing" },
		{ "(a|)+", "match nothing" }, { "()*", "match nothing" },
		{ "(a?){2,}", "match nothing" }, { "a**", "match nothing" },
		{ "\\<(a|b*)*(a|)*", "match nothing" }, { "(a?){8}", NULL },
		{ "(a*b|c)*", NULL }, { "^(a|b)*$", NULL },
		{ "(", NULL }, /* not a regular expression: regcomp says so */
	};
	char err[256], buf[SB_FETCH_QUERY_SQL_MAX];
	regex_t re;
	int64_t started;

	(void)state;
	for (size_t i = 0; i < LEN(cases); i++) {
		err[0] = '\0';
		started = sb_deadline_now();
		if (sb_fetch_like_check(cases[i].pattern, err, sizeof(err))) {
			if (cases[i].refusal != NULL)
				fail_msg("%s: accepted", cases[i].pattern);
			if (sb_fetch_like_compile(cases[i].pattern, &re, err,
			        sizeof(err)) == SB_OK)
				regfree(&re);
		} else if (cases[i].refusal == NULL ||
		    strstr(err, cases[i].refusal) == NULL) {
			fail_msg("%s: '%s'", cases[i].pattern, err);
		}
		if (sb_deadline_now() - started > 1000)
			fail_msg("%s: took over a second", cases[i].pattern);
	}
	/* past the bytes; many anchors; many empty alternatives repeated */
	assert_false(sb_fetch_like_check(
	    repeat(buf, sizeof(buf), "a", SB_FETCH_LIKE_BYTES_MAX + 1), err,
	    sizeof(err)));
	assert_non_null(strstr(err, "at most 256 bytes"));
	assert_false(sb_fetch_like_check(
	    repeat(buf, sizeof(buf), "\\b", 100), err, sizeof(err)));
	assert_false(sb_fetch_like_check(
	    repeat(buf, sizeof(buf), "(|){32}", 8), err, sizeof(err)));
	assert_true(sb_fetch_like_check(
	    repeat(buf, sizeof(buf), ".*", 100), err, sizeof(err)));
}

/* The paging values a huge _page and _limit are clamped to. */
static void
test_page_clamp(void **state)
{
	struct sb_arena arena;
	struct sb_fetch_query *q = malloc(sizeof(*q));
	struct sb_fetch_window w;
	struct sb_kv *pairs;
	cJSON *fields = cJSON_Parse(fields_json);
	const char *code;
	char err[256];
	size_t count;

	(void)state;
	sb_arena_init(&arena, 1 << 16);
	assert_int_equal(
	    sb_request_parse_query(&arena,
	        "_page=999999999999999999&_limit=999999999999", &pairs, &count),
	    SB_OK);
	assert_int_equal(sb_fetch_query_parse(&arena, fields, pairs, count, q,
	                     &code, err, sizeof(err)),
	    SB_OK);
	assert_int_equal(q->page, SB_FETCH_QUERY_PAGE_MAX);
	assert_int_equal(q->limit, SB_FETCH_QUERY_LIMIT_MAX);
	sb_fetch_query_slice(q, INT64_MAX / 2, &w);
	assert_int_equal(w.offset,
	    (int64_t)(SB_FETCH_QUERY_PAGE_MAX - 1) * SB_FETCH_QUERY_LIMIT_MAX);
	sb_fetch_query_clear(q);
	free(q);
	cJSON_Delete(fields);
	sb_arena_clear(&arena);
}

/* The deadline interrupts a query once it passed, and only then. */
static void
test_deadline(void **state)
{
	static const char *const slow =
	    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n"
	    " WHERE i < 100000000) SELECT count(*) FROM n";
	static const char *const quick =
	    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n"
	    " WHERE i < 10000) SELECT count(*) FROM n";
	int64_t deadline = sb_deadline_now() + 50, started;
	sqlite3_stmt *st;
	sqlite3 *db;

	(void)state;
	assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
	assert_int_equal(
	    sqlite3_prepare_v2(db, slow, -1, &st, NULL), SQLITE_OK);
	sb_fetch_query_deadline(db, &deadline);
	started = sb_deadline_now();
	assert_int_equal(sqlite3_step(st), SQLITE_INTERRUPT);
	assert_true(sb_deadline_now() - started < 1000);
	sqlite3_finalize(st);
	/* removed: the connection runs unbounded again */
	sb_fetch_query_deadline(db, NULL);
	deadline = sb_deadline_now() - 1;
	assert_int_equal(
	    sqlite3_prepare_v2(db, quick, -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int64(st, 0), 10000);
	sqlite3_finalize(st);
	sqlite3_close(db);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_int),
		cmocka_unit_test(test_queries),
		cmocka_unit_test(test_page_links),
		cmocka_unit_test(test_page_clamp),
		cmocka_unit_test(test_like_limits),
		cmocka_unit_test(test_deadline),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
