/*
 * Unit tests for lib/fetch/query.c, lib/fetch/snapshot.c,
 * lib/fetch/select.c and lib/fetch/like.c: json-server's parseInt, the
 * paging (getPage and lodash's slice, clamped), the refusals (unknown
 * field, a _like past a limit, too many _like, too many conditions), the
 * queries run over snapshots of items stored in a database migrated with
 * the real migrations, table-driven; the same conditions, q and sorts
 * checked against the SQL expressions GET /data ran before the snapshots
 * (so their semantics did not move); a change seen at once through the
 * data version; and the deadline.
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
#include "sb/fetch/select.h"
#include "sb/fetch/snapshot.h"
#include "support.h"

#define LEN(a) (sizeof(a) / sizeof((a)[0]))
#define OUT_MAX 1024

static const char *const fields_json = "[\"id\", \"userId\", \"title\"]";

/* The mixed resource's fields: every JSON type, missing and null. */
#define MIXED_FIELDS \
	"[\"n\", \"s\", \"flag\", \"opt\", \"obj\", \"arr\", \"nested.x\"]"

/*
 * Ten posts (id 1-10, userId 1 or 2, titles), as the old tests had them,
 * and six items of a resource "mixed" whose fields take every JSON type,
 * or are null or missing.
 */
static const char *const items_sql =
    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n"
    " WHERE i < 10) INSERT INTO fetch_items (resource, id, body, derived,"
    " fetched_at, updated_at) SELECT 'posts', i,"
    " json_object('userId', 1 + (i > 5), 'id', i, 'title',"
    " CASE i % 3 WHEN 0 THEN 'Alpha ' || i WHEN 1 THEN 'beta'"
    " ELSE 'gamma' END), json_object('n', i), 0, 0 FROM n;"
    "INSERT INTO fetch_items (resource, id, body, derived, fetched_at,"
    " updated_at) VALUES ('posts', 11, '{\"id\":11,\"userId\":3}', '{}',"
    " 0, 0);"
    "UPDATE fetch_items SET deleted_at = 1 WHERE id = 11;"
    "INSERT INTO fetch_resources (name, path, fields) VALUES ('mixed',"
    " '/mixed', '" MIXED_FIELDS "');"
    "INSERT INTO fetch_items (resource, id, body, derived, fetched_at,"
    " updated_at) VALUES"
    " ('mixed', 1, '{\"id\":1,\"n\":5,\"s\":\"10\",\"flag\":true,"
    "\"opt\":null,\"obj\":{\"a\":\"Hello World\"},\"arr\":[1,2],"
    "\"nested\":{\"x\":\"\u00e9t\u00c9\"}}', '{}', 0, 0),"
    " ('mixed', 2, '{\"id\":2,\"n\":10,\"s\":\"9\",\"flag\":false,"
    "\"obj\":{\"a\":\"b\"},\"arr\":[\"x\"],\"nested\":{\"x\":2.5}}',"
    " '{}', 0, 0),"
    " ('mixed', 3, '{\"id\":3,\"n\":\"7\",\"s\":\"abc\",\"opt\":\"set\","
    "\"nested\":{\"x\":null}}', '{}', 0, 0),"
    " ('mixed', 4, '{\"id\":4,\"n\":2.5,\"s\":\"\",\"flag\":true,"
    "\"opt\":0}', '{}', 0, 0),"
    " ('mixed', 5, '{\"id\":5,\"s\":\"Zeta\",\"note\":\"hello\","
    "\"other\":\"world\"}', '{}', 0, 0),"
    " ('mixed', 6, '{\"id\":6,\"n\":-1,\"s\":\"ab\",\"opt\":\"\","
    "\"big\":9007199254740993}', '{}', 0, 0);";

/* The group's state: a migrated database with the items, a cache. */
struct fixture {
	struct test_fixture *base;
	struct sb_fetch_snapshot *snapshot;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	void *base = NULL;

	if (f == NULL || test_fixture_setup(&base) != 0)
		goto fail;
	f->base = base;
	if (sqlite3_exec(sb_db_handle(f->base->ctx.db), items_sql, NULL, NULL,
	        NULL) != SQLITE_OK ||
	    sb_fetch_snapshot_new(&f->snapshot) != SB_OK)
		goto fail;
	*state = f;
	return 0;
fail:
	if (base != NULL)
		test_fixture_teardown(&base);
	free(f);
	return -1;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	void *base = f->base;

	sb_fetch_snapshot_free(f->snapshot);
	test_fixture_teardown(&base);
	free(f);
	return 0;
}

/* The view of resource in the fixture's cache; asserts it loads. */
static const struct sb_fetch_view *
view_of(struct fixture *f, const char *resource)
{
	const struct sb_fetch_view *view;

	assert_int_equal(sb_fetch_snapshot_get(f->snapshot, f->base->ctx.db,
	                     resource, SB_DEADLINE_NONE, &view, NULL, 0),
	    SB_OK);
	return view;
}

/* The ids of a JSON array answer, joined by ',' into out. */
static void
ids_of(const char *json, char *out, size_t size)
{
	cJSON *a = cJSON_Parse(json), *item;
	size_t used = 0;

	assert_non_null(a);
	out[0] = '\0';
	cJSON_ArrayForEach(item, a)
	{
		used += (size_t)snprintf(out + used, size - used, "%s%d",
		    used > 0 ? "," : "",
		    cJSON_GetObjectItem(item, "id")->valueint);
		assert_true(used < size);
	}
	cJSON_Delete(a);
}

/* Runs count pairs over resource; the matching ids joined by ',' into
 * out, or the parse's code; *total the match count. */
static void
run_pairs(struct fixture *f, const char *resource, const struct sb_kv *pairs,
    size_t count, char *out, size_t size, int64_t *total)
{
	const struct sb_fetch_view *view = view_of(f, resource);
	struct sb_arena arena;
	struct sb_fetch_query *q = malloc(sizeof(*q));
	struct sb_fetch_window w;
	char err[256], *json = NULL;
	const char *code;
	size_t len;

	assert_non_null(q);
	sb_arena_init(&arena, 1 << 16);
	if (sb_fetch_query_parse(&arena, view->fields, pairs, count, q, &code,
	        err, sizeof(err)) != SB_OK) {
		snprintf(out, size, "%s", code);
		goto done;
	}
	assert_int_equal(
	    sb_fetch_select(view, q, SB_DEADLINE_NONE, total, &w, &json, &len),
	    SB_OK);
	assert_int_equal(strlen(json), len);
	ids_of(json, out, size);
done:
	free(json);
	sb_fetch_query_clear(q);
	free(q);
	sb_arena_clear(&arena);
}

/* As run_pairs(), with the pairs of a query string. */
static void
run(struct fixture *f, const char *resource, const char *query, char *out,
    size_t size, int64_t *total)
{
	struct sb_arena arena;
	struct sb_kv *pairs;
	size_t count;

	sb_arena_init(&arena, 1 << 16);
	assert_int_equal(
	    sb_request_parse_query(&arena, query, &pairs, &count), SB_OK);
	run_pairs(f, resource, pairs, count, out, size, total);
	sb_arena_clear(&arena);
}

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

/* One query and the ids it answers (or the parse's error code). */
struct query_case {
	const char *query;
	const char *ids;
};

/* Runs count cases over resource; fails at the first wrong answer. */
static void
run_cases(struct fixture *f, const char *resource,
    const struct query_case *cases, size_t count)
{
	char out[OUT_MAX];
	int64_t total;

	for (size_t i = 0; i < count; i++) {
		run(f, resource, cases[i].query, out, sizeof(out), &total);
		if (strcmp(out, cases[i].ids) != 0)
			fail_msg("%s: got '%s', want '%s'", cases[i].query, out,
			    cases[i].ids);
	}
}

/* The queries of the SQL-era tests, over the ten posts (the eleventh is
 * deleted: never seen). */
static void
test_queries(void **state)
{
	static const struct query_case cases[] = {
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

	run_cases(*state, "posts", cases, LEN(cases));
}

/*
 * The mixed types: numbers against text in _gte and _lte, booleans,
 * null and missing fields (which match no equality, _ne or _like), an
 * object's and an array's text, q within one atom only (never across
 * two, never false or a 0), and _sort with missing values both ways.
 */
static void
test_mixed(void **state)
{
	static const struct query_case cases[] = {
		{ "", "1,2,3,4,5,6" },
		{ "n_gte=5", "1,2,3" }, /* "7" >= "5" as text */
		{ "n_lte=5", "1,4,6" },
		{ "n_gte=abc", "" },
		{ "n_gte=", "1,2,3,4" }, /* Number("") is 0; "7" >= "" */
		{ "n_gte=2.5&n_lte=5", "1,4" },
		{ "s_gte=9", "2,3,5,6" },
		{ "s_lte=9", "1,2,4" },
		{ "n=7", "3" },
		{ "n=2.5", "4" },
		{ "n=-1", "6" },
		{ "flag=true", "1,4" },
		{ "flag=false", "2" },
		{ "flag_ne=true", "2" },
		{ "flag_gte=0", "" },
		{ "flag_like=^TR", "1,4" },
		{ "opt=null", "" },
		{ "opt_ne=x", "3,4,6" },
		{ "opt=", "6" },
		{ "opt=0", "4" },
		{ "obj=%5Bobject%20Object%5D", "1,2" },
		{ "arr=%5B1,2%5D", "1" },
		{ "arr_like=x", "2" },
		{ "nested.x=2.5", "2" },
		{ "nested.x_ne=2.5", "1" },
		{ "q=hello", "1,5" },
		{ "q=LO%20wOr", "1" },
		{ "q=helloworld", "" },
		{ "q=0", "1,2,6" }, /* not 4: its opt is 0 */
		{ "q=true", "1,4" },
		{ "q=false", "" },
		{ "q=%C3%A9t", "1" },
		{ "q=%C3%89", "1" },
		{ "q=%89", "" },
		{ "q=9007199254740993", "6" },
		{ "_sort=n", "6,4,1,2,3,5" },
		{ "_sort=n&_order=desc", "5,3,2,1,4,6" },
		{ "_sort=opt", "4,6,3,1,2,5" },
		{ "_sort=opt&_order=DESC", "1,2,5,3,6,4" },
		{ "_sort=flag", "2,1,4,3,5,6" },
		{ "_sort=flag,n&_order=desc,asc", "6,3,5,4,1,2" },
		{ "_sort=nested.x&_order=desc", "3,4,5,6,1,2" },
		{ "_sort=obj&_order=desc", "3,4,5,6,2,1" }, /* JSON texts */
		{ "note=hello", "unknown_field" },
	};

	run_cases(*state, "mixed", cases, LEN(cases));
}

/* The SQL GET /data ran per request before the snapshots, for one
 * condition (?1 the path, ?2 the value, ?3 its number or NULL). */
#define OLD_TEXT \
	"(CASE json_type(body, ?1) WHEN 'true' THEN 'true'" \
	" WHEN 'false' THEN 'false' WHEN 'null' THEN NULL" \
	" WHEN 'object' THEN '[object Object]'" \
	" ELSE CAST(json_extract(body, ?1) AS TEXT) END)"
#define OLD_RANGE(cmp) \
	"((json_type(body, ?1) IN ('integer', 'real')" \
	" AND json_extract(body, ?1) " cmp " ?3)" \
	" OR (json_type(body, ?1) = 'text' AND json_extract(body, ?1) " cmp \
	" ?2))"
#define OLD_SELECT \
	"SELECT coalesce(group_concat(id, ','), '') FROM (SELECT id FROM" \
	" fetch_items WHERE resource = 'mixed' AND deleted_at IS NULL AND "

/* The ids the old SQL of sql gives, ?1 path, ?2 value, ?3 number. */
static void
old_ids(struct fixture *f, const char *sql, const char *path, const char *value,
    const double *number, char *out, size_t size)
{
	sqlite3_stmt *st;

	assert_int_equal(sqlite3_prepare_v2(
	                     sb_db_handle(f->base->ctx.db), sql, -1, &st, NULL),
	    SQLITE_OK);
	sqlite3_bind_text(st, 1, path, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
	if (number != NULL)
		sqlite3_bind_double(st, 3, *number);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	snprintf(out, size, "%s", sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
}

/* Every operator on every mixed field with values of every kind: the
 * snapshot's answer is the old SQL's. */
static void
test_same_as_sql(void **state)
{
	static const char *const sql[] = {
		OLD_SELECT OLD_TEXT " = ?2 ORDER BY id)",
		OLD_SELECT OLD_TEXT " <> ?2 ORDER BY id)",
		OLD_SELECT OLD_RANGE(">=") " ORDER BY id)",
		OLD_SELECT OLD_RANGE("<=") " ORDER BY id)",
	};
	static const char *const suffix[] = { "", "_ne", "_gte", "_lte" };
	static const char *const field[] = { "n", "s", "flag", "opt", "obj",
		"arr", "nested.x" };
	static const struct {
		const char *text;
		bool is_number;
		double number;
	} values[] = { { "5", true, 5 }, { "10", true, 10 }, { "7", true, 7 },
		{ "2.5", true, 2.5 }, { "-1", true, -1 }, { "", true, 0 },
		{ "abc", false, 0 }, { "true", false, 0 },
		{ "false", false, 0 }, { "null", false, 0 },
		{ "[object Object]", false, 0 }, { "[1,2]", false, 0 },
		{ "Zeta", false, 0 }, { "9", true, 9 }, { "1e1", true, 10 } };
	char want[OUT_MAX], got[OUT_MAX], key[64], path[64];
	struct sb_kv pair;
	int64_t total;

	for (size_t o = 0; o < LEN(sql); o++)
		for (size_t k = 0; k < LEN(field); k++)
			for (size_t v = 0; v < LEN(values); v++) {
				snprintf(key, sizeof(key), "%s%s", field[k],
				    suffix[o]);
				snprintf(path, sizeof(path), "$.%s", field[k]);
				pair = (struct sb_kv){ key, values[v].text };
				old_ids(*state, sql[o], path, values[v].text,
				    values[v].is_number ? &values[v].number
				                        : NULL,
				    want, sizeof(want));
				run_pairs(*state, "mixed", &pair, 1, got,
				    sizeof(got), &total);
				if (strcmp(want, got) != 0)
					fail_msg("%s=%s: got '%s', SQL '%s'",
					    key, values[v].text, got, want);
			}
}

/* q and _sort over the mixed items: the snapshot's answer is the old
 * SQL's (json_tree's atoms and instr(); ORDER BY null first or last,
 * json_extract, id). */
static void
test_q_and_sort_as_sql(void **state)
{
	static const char *const q_sql = OLD_SELECT
	    "EXISTS (SELECT 1 FROM json_tree(body) AS t"
	    " WHERE t.type IN ('text', 'integer', 'real', 'true')"
	    " AND NOT (t.type = 'text' AND t.atom = '')"
	    " AND NOT (t.type IN ('integer', 'real') AND t.atom = 0)"
	    " AND instr(lower(CASE t.type WHEN 'true' THEN 'true'"
	    " ELSE CAST(t.atom AS TEXT) END), ?2) > 0) AND ?1 IS NOT NULL"
	    " ORDER BY id)";
	static const char *const sort_sql[] = {
		OLD_SELECT "?2 IS NOT NULL ORDER BY json_type(body, ?1) IS NULL"
		           " OR json_type(body, ?1) = 'null' ASC,"
		           " json_extract(body, ?1) ASC, id)",
		OLD_SELECT "?2 IS NOT NULL ORDER BY json_type(body, ?1) IS NULL"
		           " OR json_type(body, ?1) = 'null' DESC,"
		           " json_extract(body, ?1) DESC, id)",
	};
	static const char *const needles[] = { "hello", "o w", "1", "0", "5",
		"2.5", "true", "a", "b", "z", "et", "\xc3\xa9", "\xa9", "\xc3",
		"-1", "x", "set", "7", "10", "9007199254740993" };
	static const char *const field[] = { "n", "s", "flag", "opt", "obj",
		"arr", "nested.x" };
	char want[OUT_MAX], got[OUT_MAX], path[64];
	struct sb_kv pairs[2];
	int64_t total;

	for (size_t i = 0; i < LEN(needles); i++) {
		old_ids(
		    *state, q_sql, "", needles[i], NULL, want, sizeof(want));
		pairs[0] = (struct sb_kv){ "q", needles[i] };
		run_pairs(*state, "mixed", pairs, 1, got, sizeof(got), &total);
		if (strcmp(want, got) != 0)
			fail_msg(
			    "q=%s: got '%s', SQL '%s'", needles[i], got, want);
	}
	for (size_t k = 0; k < LEN(field); k++)
		for (int desc = 0; desc < 2; desc++) {
			snprintf(path, sizeof(path), "$.%s", field[k]);
			old_ids(*state, sort_sql[desc], path, "", NULL, want,
			    sizeof(want));
			pairs[0] = (struct sb_kv){ "_sort", field[k] };
			pairs[1] =
			    (struct sb_kv){ "_order", desc ? "desc" : "asc" };
			run_pairs(*state, "mixed", pairs, 2, got, sizeof(got),
			    &total);
			if (strcmp(want, got) != 0)
				fail_msg("_sort=%s (%s): got '%s', SQL '%s'",
				    field[k], desc ? "desc" : "asc", got, want);
		}
}

/* The answer's bytes are SQLite's json_set() of each item, in order. */
static void
test_answer_bytes(void **state)
{
	struct fixture *f = *state;
	const struct sb_fetch_view *view = view_of(f, NULL);
	const struct sb_fetch_item *item;
	struct sb_fetch_query q = { .sort_count = 0 };
	struct sb_fetch_window w;
	char *json = NULL, want[OUT_MAX];
	int64_t total;
	size_t len;
	sqlite3_stmt *st;

	assert_string_equal(view->name, "posts");
	assert_int_equal(view->count, 10);
	q.slice = SB_FETCH_SLICE_END;
	q.start = 1;
	q.end = 3;
	assert_int_equal(sb_fetch_select(view, &q, SB_DEADLINE_NONE, &total, &w,
	                     &json, &len),
	    SB_OK);
	assert_int_equal(total, 10);
	assert_int_equal(sqlite3_prepare_v2(sb_db_handle(f->base->ctx.db),
	                     "SELECT '[' || group_concat(j, ',') || ']' FROM"
	                     " (SELECT json_set(body, '$._derived',"
	                     " json(derived)) AS j FROM fetch_items WHERE"
	                     " resource = 'posts' AND id IN (2, 3)"
	                     " ORDER BY id)",
	                     -1, &st, NULL),
	    SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	snprintf(want, sizeof(want), "%s", sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	assert_string_equal(json, want);
	free(json);
	/* one item, and none past the live ones */
	assert_non_null(item = sb_fetch_snapshot_item(view, 10));
	assert_int_equal(item->id, 10);
	assert_null(sb_fetch_snapshot_item(view, 11));
	assert_null(sb_fetch_snapshot_item(view, 0));
}

/* Past the caps: too many values, too many sort fields. */
static void
test_too_many(void **state)
{
	struct sb_kv pairs[SB_FETCH_QUERY_VALUES_MAX + 1];
	char out[OUT_MAX], sort[4 * (SB_FETCH_QUERY_SORT_MAX + 1)] = "";
	int64_t total;

	for (size_t i = 0; i < LEN(pairs); i++)
		pairs[i] = (struct sb_kv){ i % 2 ? "id" : "userId", "1" };
	run_pairs(
	    *state, "posts", pairs, LEN(pairs) - 1, out, sizeof(out), &total);
	assert_string_equal(out, "1");
	run_pairs(*state, "posts", pairs, LEN(pairs), out, sizeof(out), &total);
	assert_string_equal(out, "invalid_query");
	for (int i = 0; i <= SB_FETCH_QUERY_SORT_MAX; i++)
		snprintf(sort + strlen(sort), sizeof(sort) - strlen(sort), "%s",
		    i > 0 ? ",id" : "id");
	pairs[0] = (struct sb_kv){ "_sort", sort };
	run_pairs(*state, "posts", pairs, 1, out, sizeof(out), &total);
	assert_string_equal(out, "invalid_query");
	sort[strlen(sort) - 3] = '\0';
	run_pairs(*state, "posts", pairs, 1, out, sizeof(out), &total);
	assert_string_equal(out, "1,2,3,4,5,6,7,8,9,10");
}

/* A change to an item, by any writer, bumps the data version: the next
 * query sees it (one load), and queries in between load nothing. */
static void
test_version(void **state)
{
	struct fixture *f = *state;
	char out[OUT_MAX], names[256];
	const struct sb_fetch_view *view;
	uint64_t loads;
	int64_t total;

	run(f, "posts", "q=changed", out, sizeof(out), &total);
	assert_string_equal(out, "");
	loads = sb_fetch_snapshot_loads(f->snapshot);
	run(f, "posts", "userId=1", out, sizeof(out), &total);
	run(f, NULL, "userId=2", out, sizeof(out), &total);
	assert_int_equal(sb_fetch_snapshot_loads(f->snapshot), loads);
	assert_int_equal(sqlite3_exec(sb_db_handle(f->base->ctx.db),
	                     "UPDATE fetch_items SET body = json_set(body,"
	                     " '$.title', 'Changed') WHERE resource = 'posts'"
	                     " AND id = 4",
	                     NULL, NULL, NULL),
	    SQLITE_OK);
	run(f, "posts", "q=changed", out, sizeof(out), &total);
	assert_string_equal(out, "4");
	assert_int_equal(sb_fetch_snapshot_loads(f->snapshot), loads + 1);
	/* a deleted item leaves; a resource's row changing reloads it */
	assert_int_equal(sqlite3_exec(sb_db_handle(f->base->ctx.db),
	                     "UPDATE fetch_items SET deleted_at = 1 WHERE"
	                     " resource = 'posts' AND id = 4;"
	                     "UPDATE fetch_resources SET fields ="
	                     " '[\"id\", \"title\"]' WHERE name = 'posts'",
	                     NULL, NULL, NULL),
	    SQLITE_OK);
	run(f, "posts", "q=changed", out, sizeof(out), &total);
	assert_string_equal(out, "");
	run(f, "posts", "userId=1", out, sizeof(out), &total);
	assert_string_equal(out, "unknown_field");
	/* an unknown resource names the known ones */
	assert_int_equal(
	    sb_fetch_snapshot_get(f->snapshot, f->base->ctx.db, "todos",
	        SB_DEADLINE_NONE, &view, names, sizeof(names)),
	    SB_ERR_NOT_FOUND);
	assert_null(view);
	assert_string_equal(names, "comments, mixed, posts, users");
	assert_int_equal(sqlite3_exec(sb_db_handle(f->base->ctx.db),
	                     "UPDATE fetch_items SET deleted_at = NULL WHERE"
	                     " resource = 'posts' AND id = 4;"
	                     "UPDATE fetch_resources SET fields = '[\"id\","
	                     " \"userId\", \"title\", \"body\"]' WHERE"
	                     " name = 'posts'",
	                     NULL, NULL, NULL),
	    SQLITE_OK);
}

/*
 * The cache: at most SB_FETCH_SNAPSHOT_RESOURCES_MAX resources, the least
 * recently used one dropped for another; a resource with more live items
 * than SB_FETCH_SNAPSHOT_ITEMS_MAX is refused, not loaded.
 */
static void
test_cache(void **state)
{
	struct fixture *f = *state;
	struct sb_db *db = f->base->ctx.db;
	const struct sb_fetch_view *view;
	char name[16];
	uint64_t loads;

	assert_int_equal(sqlite3_exec(sb_db_handle(db),
	                     "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL"
	                     " SELECT i + 1 FROM n WHERE i < 20)"
	                     " INSERT INTO fetch_resources (name, path, fields)"
	                     " SELECT 'r' || i, '/r', '[\"id\"]' FROM n;"
	                     "INSERT INTO fetch_items (resource, id, body,"
	                     " derived, fetched_at, updated_at) SELECT name, 1,"
	                     " '{\"id\":1}', '{}', 0, 0 FROM fetch_resources"
	                     " WHERE name LIKE 'r%'",
	                     NULL, NULL, NULL),
	    SQLITE_OK);
	loads = sb_fetch_snapshot_loads(f->snapshot);
	for (int i = 1; i <= SB_FETCH_SNAPSHOT_RESOURCES_MAX + 1; i++) {
		snprintf(name, sizeof(name), "r%d", i);
		view = view_of(f, name);
		assert_string_equal(view->name, name);
		assert_int_equal(view->count, 1);
	}
	assert_int_equal(sb_fetch_snapshot_loads(f->snapshot),
	    loads + SB_FETCH_SNAPSHOT_RESOURCES_MAX + 1);
	view_of(f, "r17"); /* kept */
	assert_int_equal(sb_fetch_snapshot_loads(f->snapshot),
	    loads + SB_FETCH_SNAPSHOT_RESOURCES_MAX + 1);
	view_of(f, "r1"); /* dropped for r17: loaded again */
	assert_int_equal(sb_fetch_snapshot_loads(f->snapshot),
	    loads + SB_FETCH_SNAPSHOT_RESOURCES_MAX + 2);
	assert_int_equal(sqlite3_exec(sb_db_handle(db),
	                     "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL"
	                     " SELECT i + 1 FROM n WHERE i <= 100000)"
	                     " INSERT INTO fetch_items (resource, id, body,"
	                     " derived, fetched_at, updated_at) SELECT 'r2', i"
	                     " + 1, '{}', '{}', 0, 0 FROM n",
	                     NULL, NULL, NULL),
	    SQLITE_OK);
	assert_int_equal(sb_fetch_snapshot_get(f->snapshot, db, "r2",
	                     SB_DEADLINE_NONE, &view, NULL, 0),
	    SB_ERR_TOO_LARGE);
	assert_null(view);
	assert_non_null(view_of(f, "r3")); /* the others still answer */
}

/* The deadline: a query whose deadline passed is SB_ERR_TIMEOUT, with
 * nothing to free; within it, the same query answers. */
static void
test_deadline(void **state)
{
	struct fixture *f = *state;
	const struct sb_fetch_view *view = view_of(f, "posts");
	struct sb_fetch_query q = { .sort_count = 0 };
	struct sb_fetch_window w;
	char *json = NULL;
	int64_t total;
	size_t len;

	assert_int_equal(sb_fetch_select(view, &q, sb_deadline_now() - 1,
	                     &total, &w, &json, &len),
	    SB_ERR_TIMEOUT);
	assert_null(json);
	assert_int_equal(sb_fetch_select(view, &q, sb_deadline_now() + 60000,
	                     &total, &w, &json, &len),
	    SB_OK);
	assert_int_equal(total, 10);
	free(json);
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
	char err[256], buf[4096];
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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_int),
		cmocka_unit_test(test_page_links),
		cmocka_unit_test(test_page_clamp),
		cmocka_unit_test(test_like_limits),
		cmocka_unit_test(test_queries),
		cmocka_unit_test(test_mixed),
		cmocka_unit_test(test_same_as_sql),
		cmocka_unit_test(test_q_and_sort_as_sql),
		cmocka_unit_test(test_answer_bytes),
		cmocka_unit_test(test_too_many),
		cmocka_unit_test(test_version),
		cmocka_unit_test(test_deadline),
		cmocka_unit_test(test_cache),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
