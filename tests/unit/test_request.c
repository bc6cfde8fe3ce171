/*
 * Unit tests for the parsers of lib/core/request.c: query strings,
 * percent-decoding, JSON bodies under the depth and item caps, integers,
 * validation tables, and the query and path parameter look-ups.  Each test
 * has its own arena, cleared in teardown (AddressSanitizer sees leaks).
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

#include "sb/core/arena.h"
#include "sb/core/request.h"

#define TEST_ARENA_CAP (1u << 20)
#define TEST_PAIRS_MAX 4
#define TEST_ERR_MAX 256

static int
setup(void **state)
{
	struct sb_arena *a = malloc(sizeof(*a));

	if (a == NULL)
		return -1;
	sb_arena_init(a, TEST_ARENA_CAP);
	*state = a;
	return 0;
}

static int
teardown(void **state)
{
	sb_arena_clear(*state);
	free(*state);
	return 0;
}

struct query_case {
	const char *query;
	enum sb_err rc;
	size_t count;
	struct sb_kv pairs[TEST_PAIRS_MAX];
};

static void
test_parse_query(void **state)
{
	static const struct query_case cases[] = {
		{ "", SB_OK, 0, { { NULL, NULL } } },
		{ "a=1", SB_OK, 1, { { "a", "1" } } },
		{ "a=1&b=2", SB_OK, 2, { { "a", "1" }, { "b", "2" } } },
		{ "q=hello+world", SB_OK, 1, { { "q", "hello world" } } },
		{ "q=a%2Bb", SB_OK, 1, { { "q", "a+b" } } },
		{ "k%20ey=v%3d", SB_OK, 1, { { "k ey", "v=" } } },
		{ "%41=%61", SB_OK, 1, { { "A", "a" } } },
		{ "a=%E2%82%ac", SB_OK, 1, { { "a", "\xe2\x82\xac" } } },
		{ "flag", SB_OK, 1, { { "flag", "" } } },
		{ "flag&x=1", SB_OK, 2, { { "flag", "" }, { "x", "1" } } },
		{ "a=", SB_OK, 1, { { "a", "" } } },
		{ "=v", SB_OK, 1, { { "", "v" } } },
		{ "a=1=2", SB_OK, 1, { { "a", "1=2" } } },
		{ "a=1&&b=2", SB_OK, 2, { { "a", "1" }, { "b", "2" } } },
		{ "&a=1&", SB_OK, 1, { { "a", "1" } } },
		{ "&&&", SB_OK, 0, { { NULL, NULL } } },
		{ "a=1&a=2", SB_OK, 2, { { "a", "1" }, { "a", "2" } } },
		{ "a=%zz", SB_ERR_INVALID, 0, { { NULL, NULL } } },
		{ "a=%4", SB_ERR_INVALID, 0, { { NULL, NULL } } },
		{ "a=%4g", SB_ERR_INVALID, 0, { { NULL, NULL } } },
		{ "a=%", SB_ERR_INVALID, 0, { { NULL, NULL } } },
		{ "a%4=1", SB_ERR_INVALID, 0, { { NULL, NULL } } },
		{ "a=%00", SB_ERR_INVALID, 0, { { NULL, NULL } } },
		{ "%00=a", SB_ERR_INVALID, 0, { { NULL, NULL } } },
		{ "a=1&b=%zz", SB_ERR_INVALID, 0, { { NULL, NULL } } },
	};
	struct sb_arena *arena = *state;
	struct sb_kv *kv;
	size_t count;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		kv = (struct sb_kv *)1;
		count = 99;
		if (sb_request_parse_query(
		        arena, cases[i].query, &kv, &count) != cases[i].rc)
			fail_msg("case %zu (\"%s\"): wrong result", i,
			    cases[i].query);
		if (cases[i].rc != SB_OK) {
			assert_null(kv);
			assert_int_equal(count, 0);
			continue;
		}
		assert_int_equal(count, cases[i].count);
		for (size_t j = 0; j < count; j++) {
			assert_string_equal(kv[j].key, cases[i].pairs[j].key);
			assert_string_equal(
			    kv[j].value, cases[i].pairs[j].value);
		}
	}
}

/* Writes n "k<i>=v" pairs joined by '&' into buf. */
static void
make_pairs(char *buf, size_t size, size_t n)
{
	size_t off = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		int w = snprintf(
		    buf + off, size - off, "%sk%zu=v", i > 0 ? "&" : "", i);

		assert_true(w > 0 && (size_t)w < size - off);
		off += (size_t)w;
	}
}

static void
test_parse_query_pair_cap(void **state)
{
	struct sb_arena *arena = *state;
	char query[2048];
	struct sb_kv *kv;
	size_t count;

	make_pairs(query, sizeof(query), SB_REQUEST_QUERY_MAX);
	assert_int_equal(
	    sb_request_parse_query(arena, query, &kv, &count), SB_OK);
	assert_int_equal(count, SB_REQUEST_QUERY_MAX);
	assert_string_equal(kv[SB_REQUEST_QUERY_MAX - 1].key, "k63");

	make_pairs(query, sizeof(query), SB_REQUEST_QUERY_MAX + 1);
	assert_int_equal(sb_request_parse_query(arena, query, &kv, &count),
	    SB_ERR_TOO_LARGE);
	assert_null(kv);
	assert_int_equal(count, 0);
}

static void
test_parse_query_length_cap(void **state)
{
	struct sb_arena *arena = *state;
	static char query[SB_REQUEST_QUERY_LEN_MAX + 2];
	struct sb_kv *kv;
	size_t count;

	/* "q=" and SB_REQUEST_QUERY_LEN_MAX - 2 x's: exactly at the cap. */
	memset(query, 'x', SB_REQUEST_QUERY_LEN_MAX);
	query[0] = 'q';
	query[1] = '=';
	query[SB_REQUEST_QUERY_LEN_MAX] = '\0';
	assert_int_equal(
	    sb_request_parse_query(arena, query, &kv, &count), SB_OK);
	assert_int_equal(count, 1);
	assert_int_equal(strlen(kv[0].value), SB_REQUEST_QUERY_LEN_MAX - 2);

	query[SB_REQUEST_QUERY_LEN_MAX] = 'x';
	query[SB_REQUEST_QUERY_LEN_MAX + 1] = '\0';
	assert_int_equal(sb_request_parse_query(arena, query, &kv, &count),
	    SB_ERR_TOO_LARGE);
	assert_null(kv);
}

struct decode_case {
	const char *s;
	size_t len;
	bool plus_is_space;
	enum sb_err rc;
	const char *want;
};

#define DECODE(s, plus, rc, want) \
	{ \
		s, sizeof(s) - 1, plus, rc, want \
	}

static void
test_decode(void **state)
{
	static const struct decode_case cases[] = {
		DECODE("", true, SB_OK, ""),
		DECODE("plain", true, SB_OK, "plain"),
		DECODE("a+b", true, SB_OK, "a b"),
		DECODE("a+b", false, SB_OK, "a+b"),
		DECODE("a%20b", false, SB_OK, "a b"),
		DECODE("%2f%2F", true, SB_OK, "//"),
		DECODE("%ff", true, SB_OK, "\xff"),
		DECODE("100%25", true, SB_OK, "100%"),
		DECODE("100%", true, SB_ERR_INVALID, NULL),
		DECODE("%4", true, SB_ERR_INVALID, NULL),
		DECODE("%zz", true, SB_ERR_INVALID, NULL),
		DECODE("%%41", true, SB_ERR_INVALID, NULL),
		DECODE("%00", true, SB_ERR_INVALID, NULL),
		DECODE("a\0b", true, SB_ERR_INVALID, NULL),
		/* Only len bytes count: the escape is cut off. */
		{ "ab%41", 3, true, SB_ERR_INVALID, NULL },
		{ "abcdef", 3, true, SB_OK, "abc" },
	};
	struct sb_arena *arena = *state;
	char *out;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		out = (char *)1;
		if (sb_request_decode(arena, cases[i].s, cases[i].len,
		        cases[i].plus_is_space, &out) != cases[i].rc)
			fail_msg("case %zu: wrong result", i);
		if (cases[i].want == NULL)
			assert_null(out);
		else
			assert_string_equal(out, cases[i].want);
	}
}

struct json_case {
	const char *text;
	int depth_max;
	enum sb_err rc;
	long offset; /* expected error offset, -1: not checked */
};

/*
 * Depth counts every value, scalars included: the root is at depth 1, so
 * "[[1]]" is of depth 3 while "[[]]" is of depth 2.
 */
static void
test_parse_json(void **state)
{
	static const struct json_case cases[] = {
		{ "{}", 32, SB_OK, -1 },
		{ "{\"a\":1,\"b\":[true,null,\"x\"]}", 32, SB_OK, -1 },
		{ "[]", 32, SB_OK, -1 },
		{ "42", 32, SB_OK, -1 },
		{ "  {\"a\":1}  \r\n\t", 32, SB_OK, -1 },
		{ "{\"a\":1} x", 32, SB_ERR_INVALID, 8 },
		{ "{\"a\":1}{}", 32, SB_ERR_INVALID, 7 },
		{ "{} 1", 32, SB_ERR_INVALID, 3 },
		{ "", 32, SB_ERR_INVALID, -1 },
		{ "   ", 32, SB_ERR_INVALID, -1 },
		{ "{", 32, SB_ERR_INVALID, -1 },
		{ "{\"a\":}", 32, SB_ERR_INVALID, 5 },
		{ "{'a':1}", 32, SB_ERR_INVALID, -1 },
		{ "[1,]", 32, SB_ERR_INVALID, -1 },
		{ "nul", 32, SB_ERR_INVALID, -1 },
		{ "[[]]", 2, SB_OK, -1 },
		{ "[[[]]]", 2, SB_ERR_TOO_LARGE, -1 },
		{ "{\"a\":1}", 2, SB_OK, -1 },
		{ "{\"a\":{\"b\":1}}", 2, SB_ERR_TOO_LARGE, -1 },
		{ "{\"a\":{\"b\":1}}", 3, SB_OK, -1 },
		/* \u0000 and bytes that are not UTF-8, at their own offset */
		{ "{\"a\":\"x\\u0000\"}", 32, SB_ERR_INVALID, 7 },
		{ "{\"a\":\"x\\\\u0000\"}", 32, SB_OK, -1 },
		{ "{\"a\":\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"}", 32,
		    SB_OK, -1 },
		{ "{\"a\":\"caf\xe9\"}", 32, SB_ERR_INVALID, 9 },
		{ "{\"a\xff\":1}", 32, SB_ERR_INVALID, 3 },
		{ "{\"a\":\"\xc0\xaf\"}", 32, SB_ERR_INVALID, 6 },
		{ "{\"a\":\"\xed\xa0\x80\"}", 32, SB_ERR_INVALID, 6 },
		{ "{\"a\":\"\xf4\x90\x80\x80\"}", 32, SB_ERR_INVALID, 6 },
		{ "{\"a\":\"\xe2\x82\"}", 32, SB_ERR_INVALID, 6 },
		{ "{\"a\":\"\\\xff\"}", 32, SB_ERR_INVALID, 7 },
		{ "{\"a\":\"[[[\"}", 2, SB_OK, -1 },
		/* control bytes between tokens are no white space */
		{ "{\"a\":\x01\"b\"}", 32, SB_ERR_INVALID, 5 },
		{ "{\"a\":\x0b1}", 32, SB_ERR_INVALID, 5 },
		{ "{\"a\":\t\r\n 1}", 32, SB_OK, -1 },
	};
	cJSON *j;
	size_t offset;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		j = (cJSON *)1;
		offset = 12345;
		if (sb_request_parse_json(cases[i].text, strlen(cases[i].text),
		        cases[i].depth_max, &j, &offset) != cases[i].rc)
			fail_msg(
			    "case %zu (%s): wrong result", i, cases[i].text);
		if (cases[i].rc == SB_OK) {
			assert_non_null(j);
			assert_int_equal(offset, 0);
			cJSON_Delete(j);
			continue;
		}
		assert_null(j);
		if (cases[i].offset >= 0 && offset != (size_t)cases[i].offset)
			fail_msg("case %zu (%s): offset %zu, want %ld", i,
			    cases[i].text, offset, cases[i].offset);
	}
}

/* Members and elements as received, byte for byte. */
static void
test_json_span(void **state)
{
	static const struct {
		const char *text;
		const char *member; /* NULL: element index */
		size_t index;
		const char *want; /* NULL: not found */
	} cases[] = {
		{ "{\"a\": 9007199254740993, \"b\": 2}", "a", 0,
		    "9007199254740993" },
		{ "{\"a\":1,\"payload\" : { \"x\": [1, \"]}\"] } }", "payload",
		    0, "{ \"x\": [1, \"]}\"] }" },
		{ "{\"a\":\"p\\\"\",\"b\":true}", "b", 0, "true" },
		{ "{\"p\\u0061yload\":{}}", "payload", 0, "{}" },
		{ "{\"a\":1,\"a\":2}", "a", 0, "1" },
		{ "{\"a\":1}", "b", 0, NULL },
		{ "{}", "a", 0, NULL },
		{ "[1,2]", "a", 0, NULL },
		{ " [ {\"a\":1} , 1.5e3 ,null] ", NULL, 1, "1.5e3" },
		{ "[{\"a\":[]},2]", NULL, 0, "{\"a\":[]}" },
		{ "[1,2]", NULL, 2, NULL },
		{ "[]", NULL, 0, NULL },
		{ "{\"a\":1}", NULL, 0, NULL },
		{ "[1,", NULL, 1, NULL },
		{ "{\"a\"", "a", 0, NULL },
		{ "", "a", 0, NULL },
	};
	struct sb_span out;
	bool found;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sb_span in = { cases[i].text, strlen(cases[i].text) };

		found = cases[i].member != NULL
		    ? sb_request_json_member(in, cases[i].member, &out)
		    : sb_request_json_element(in, cases[i].index, &out);
		if (found != (cases[i].want != NULL))
			fail_msg(
			    "case %zu (%s): found %d", i, cases[i].text, found);
		if (found &&
		    (out.len != strlen(cases[i].want) ||
		        memcmp(out.text, cases[i].want, out.len) != 0))
			fail_msg(
			    "case %zu: got '%.*s'", i, (int)out.len, out.text);
	}
}

/* Only len bytes are parsed; an error offset is optional. */
static void
test_parse_json_length(void **state)
{
	const char *text = "{\"a\":1}garbage";
	cJSON *j = NULL;
	size_t offset = 0;

	(void)state;
	assert_int_equal(sb_request_parse_json(text, 7, 32, &j, NULL), SB_OK);
	assert_int_equal(cJSON_GetObjectItem(j, "a")->valueint, 1);
	cJSON_Delete(j);
	assert_int_equal(
	    sb_request_parse_json(text, 8, 32, &j, NULL), SB_ERR_INVALID);
	assert_null(j);
	/* A NUL inside len is not trailing white space. */
	assert_int_equal(
	    sb_request_parse_json("{}\0", 3, 32, &j, NULL), SB_ERR_INVALID);
	assert_null(j);
	/* Nor white space between tokens, nor a byte of a string. */
	assert_int_equal(
	    sb_request_parse_json("{\"a\":\0\0\"b\"}", 10, 32, &j, &offset),
	    SB_ERR_INVALID);
	assert_int_equal(offset, 5);
	assert_int_equal(
	    sb_request_parse_json("{\"a\":\"x\0y\"}", 11, 32, &j, &offset),
	    SB_ERR_INVALID);
	assert_int_equal(offset, 7);
}

/* Writes depth nested arrays, with inner (may be "") innermost. */
static char *
nested(int depth, const char *inner)
{
	size_t len = 2 * (size_t)depth + strlen(inner);
	char *s = malloc(len + 1);

	assert_non_null(s);
	memset(s, '[', (size_t)depth);
	memcpy(s + depth, inner, strlen(inner));
	memset(s + depth + strlen(inner), ']', (size_t)depth);
	s[len] = '\0';
	return s;
}

struct depth_case {
	int arrays;
	const char *inner;
	int depth_max;
	enum sb_err rc;
};

static void
test_parse_json_depth_cap(void **state)
{
	static const struct depth_case cases[] = {
		{ SB_REQUEST_JSON_DEPTH_MAX, "", SB_REQUEST_JSON_DEPTH_MAX,
		    SB_OK },
		{ SB_REQUEST_JSON_DEPTH_MAX + 1, "", SB_REQUEST_JSON_DEPTH_MAX,
		    SB_ERR_TOO_LARGE },
		{ SB_REQUEST_JSON_DEPTH_MAX - 1, "1", SB_REQUEST_JSON_DEPTH_MAX,
		    SB_OK },
		{ SB_REQUEST_JSON_DEPTH_MAX, "1", SB_REQUEST_JSON_DEPTH_MAX,
		    SB_ERR_TOO_LARGE },
		{ 200, "", 256, SB_OK },
		{ 300, "", 256, SB_ERR_TOO_LARGE },
		/* Deeper than cJSON's own nesting limit: too deep all the same.
		 */
		{ 5000, "", 256, SB_ERR_TOO_LARGE },
		{ 10000, "", SB_REQUEST_JSON_DEPTH_MAX, SB_ERR_TOO_LARGE },
	};
	cJSON *j;
	char *s;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		s = nested(cases[i].arrays, cases[i].inner);
		j = (cJSON *)1;
		if (sb_request_parse_json(s, strlen(s), cases[i].depth_max, &j,
		        NULL) != cases[i].rc)
			fail_msg("case %zu: wrong result", i);
		if (cases[i].rc == SB_OK)
			assert_non_null(j);
		else
			assert_null(j);
		cJSON_Delete(j);
		free(s);
	}
}

/* Writes a JSON array of n zeros. */
static char *
array_of(size_t n)
{
	char *s = malloc(2 * n + 2);
	size_t off = 0;

	assert_non_null(s);
	s[off++] = '[';
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			s[off++] = ',';
		s[off++] = '0';
	}
	s[off++] = ']';
	s[off] = '\0';
	return s;
}

/* The root counts as one value. */
static void
test_parse_json_items_cap(void **state)
{
	cJSON *j = NULL;
	char *s;

	(void)state;
	s = array_of(SB_REQUEST_JSON_ITEMS_MAX - 1);
	assert_int_equal(
	    sb_request_parse_json(s, strlen(s), 32, &j, NULL), SB_OK);
	assert_int_equal(cJSON_GetArraySize(j), SB_REQUEST_JSON_ITEMS_MAX - 1);
	cJSON_Delete(j);
	free(s);
	s = array_of(SB_REQUEST_JSON_ITEMS_MAX);
	assert_int_equal(sb_request_parse_json(s, strlen(s), 32, &j, NULL),
	    SB_ERR_TOO_LARGE);
	assert_null(j);
	free(s);
}

struct int_case {
	const char *s;
	int64_t min, max;
	bool ok;
	int64_t want;
};

static void
test_parse_int(void **state)
{
	static const struct int_case cases[] = {
		{ "0", 0, 10, true, 0 },
		{ "10", 0, 10, true, 10 },
		{ "11", 0, 10, false, 0 },
		{ "-1", 0, 10, false, 0 },
		{ "-10", -10, 10, true, -10 },
		{ "-11", -10, 10, false, 0 },
		{ "007", 0, 10, true, 7 },
		{ "9223372036854775807", INT64_MIN, INT64_MAX, true,
		    INT64_MAX },
		{ "-9223372036854775808", INT64_MIN, INT64_MAX, true,
		    INT64_MIN },
		{ "9223372036854775808", INT64_MIN, INT64_MAX, false, 0 },
		{ "-9223372036854775809", INT64_MIN, INT64_MAX, false, 0 },
		{ "99999999999999999999999", INT64_MIN, INT64_MAX, false, 0 },
		{ "", 0, 10, false, 0 },
		{ "abc", 0, 10, false, 0 },
		{ "12a", 0, 100, false, 0 },
		{ "1.5", 0, 10, false, 0 },
		{ "1e3", 0, 10000, false, 0 },
		{ "0x10", 0, 100, false, 0 },
		{ "+5", 0, 10, false, 0 },
		{ " 5", 0, 10, false, 0 },
		{ "\t5", 0, 10, false, 0 },
		{ "5 ", 0, 10, false, 0 },
		{ "5\n", 0, 10, false, 0 },
		{ "-", -10, 10, false, 0 },
		{ "--5", -10, 10, false, 0 },
		{ "-+5", -10, 10, false, 0 },
		{ "- 5", -10, 10, false, 0 },
	};
	int64_t out;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		out = 777;
		if (sb_request_parse_int(cases[i].s, cases[i].min, cases[i].max,
		        &out) != cases[i].ok)
			fail_msg(
			    "case %zu (\"%s\"): wrong result", i, cases[i].s);
		/* On failure *out is left alone. */
		assert_int_equal(out, cases[i].ok ? cases[i].want : 777);
	}
	assert_false(sb_request_parse_int(NULL, 0, 10, &out));
}

/* A JSON number is an integer iff whole and within +-2^53. */
static void
test_json_int(void **state)
{
	static const struct {
		const char *text;
		bool ok;
		int64_t want;
	} cases[] = {
		{ "0", true, 0 },
		{ "-7", true, -7 },
		{ "1e3", true, 1000 },
		{ "9007199254740992", true, 9007199254740992LL },
		{ "-9007199254740992", true, -9007199254740992LL },
		{ "9007199254740994", false, 0 },
		{ "1e18", false, 0 },
		{ "1e300", false, 0 },
		{ "-1e300", false, 0 },
		{ "1e309", false, 0 }, /* cJSON: infinity */
		{ "1.5", false, 0 },
		{ "\"5\"", false, 0 },
		{ "true", false, 0 },
		{ "null", false, 0 },
	};
	cJSON *v;
	int64_t out;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_non_null(v = cJSON_Parse(cases[i].text));
		out = 777;
		if (sb_request_json_int(v, &out) != cases[i].ok)
			fail_msg(
			    "case %zu (%s): wrong result", i, cases[i].text);
		assert_int_equal(out, cases[i].ok ? cases[i].want : 777);
		assert_int_equal(sb_request_json_int(v, NULL), cases[i].ok);
		cJSON_Delete(v);
	}
	assert_false(sb_request_json_int(NULL, &out));
}

static bool
is_lower(const char *s)
{
	for (; *s != '\0'; s++)
		if (*s < 'a' || *s > 'z')
			return false;
	return true;
}

static const char *const kinds[] = { "a", "b", NULL };

static const struct sb_field fields[] = {
	{ .name = "name",
	    .type = SB_FIELD_STRING,
	    .required = true,
	    .min = 1,
	    .max = 8 },
	{ .name = "count", .type = SB_FIELD_INT, .min = 1, .max = 100 },
	{ .name = "neg", .type = SB_FIELD_INT, .min = -10, .max = 10 },
	{ .name = "big", .type = SB_FIELD_INT }, /* no max */
	{ .name = "flag", .type = SB_FIELD_BOOL },
	{ .name = "meta", .type = SB_FIELD_OBJECT },
	{ .name = "tags", .type = SB_FIELD_ARRAY },
	{ .name = "any", .type = SB_FIELD_ANY },
	{ .name = "kind", .type = SB_FIELD_STRING, .one_of = kinds },
	{ .name = "slug", .type = SB_FIELD_STRING, .check = is_lower },
};

struct validate_case {
	const char *json;
	enum sb_err rc;
	const char *in_err; /* must appear in err, or NULL */
};

static void
test_validate(void **state)
{
	static const struct validate_case cases[] = {
		{ "{\"name\":\"x\"}", SB_OK, NULL },
		{ "{\"name\":\"12345678\",\"count\":1,\"neg\":-10,"
		  "\"big\":1000000000000,\"flag\":false,\"meta\":{},"
		  "\"tags\":[],\"any\":[1],\"kind\":\"b\",\"slug\":\"abc\"}",
		    SB_OK, NULL },
		{ "{\"name\":\"x\",\"count\":null,\"meta\":null}", SB_OK,
		    NULL },
		{ "{\"name\":\"x\",\"any\":\"s\"}", SB_OK, NULL },
		{ "{\"name\":\"x\",\"count\":100,\"neg\":10}", SB_OK, NULL },
		{ "{\"name\":\"x\",\"count\":2.0}", SB_OK, NULL },
		{ "{}", SB_ERR_INVALID, "field 'name' is required" },
		{ "{\"name\":null}", SB_ERR_INVALID,
		    "field 'name' is required" },
		{ "{\"count\":5}", SB_ERR_INVALID, "field 'name' is required" },
		{ "{\"name\":1}", SB_ERR_INVALID,
		    "field 'name' must be a string" },
		{ "{\"name\":\"\"}", SB_ERR_INVALID, "field 'name' must be 1" },
		{ "{\"name\":\"123456789\"}", SB_ERR_INVALID,
		    "field 'name' must be 1" },
		{ "{\"name\":\"x\",\"count\":0}", SB_ERR_INVALID,
		    "field 'count' is out of range" },
		{ "{\"name\":\"x\",\"count\":101}", SB_ERR_INVALID,
		    "field 'count' is out of range" },
		{ "{\"name\":\"x\",\"neg\":-11}", SB_ERR_INVALID,
		    "field 'neg' is out of range" },
		{ "{\"name\":\"x\",\"big\":-1}", SB_ERR_INVALID,
		    "field 'big' is out of range" },
		{ "{\"name\":\"x\",\"count\":1.5}", SB_ERR_INVALID,
		    "field 'count' must be an integer" },
		{ "{\"name\":\"x\",\"count\":\"5\"}", SB_ERR_INVALID,
		    "field 'count' must be an integer" },
		{ "{\"name\":\"x\",\"big\":1e300}", SB_ERR_INVALID,
		    "field 'big' must be an integer" },
		{ "{\"name\":\"x\",\"count\":true}", SB_ERR_INVALID,
		    "field 'count' must be an integer" },
		{ "{\"name\":\"x\",\"flag\":1}", SB_ERR_INVALID,
		    "field 'flag' must be a boolean" },
		{ "{\"name\":\"x\",\"flag\":\"true\"}", SB_ERR_INVALID,
		    "field 'flag' must be a boolean" },
		{ "{\"name\":\"x\",\"meta\":[]}", SB_ERR_INVALID,
		    "field 'meta' must be an object" },
		{ "{\"name\":\"x\",\"tags\":{}}", SB_ERR_INVALID,
		    "field 'tags' must be an array" },
		{ "{\"name\":\"x\",\"kind\":\"c\"}", SB_ERR_INVALID,
		    "field 'kind' has an invalid value" },
		{ "{\"name\":\"x\",\"kind\":\"A\"}", SB_ERR_INVALID,
		    "field 'kind' has an invalid value" },
		{ "{\"name\":\"x\",\"slug\":\"ABC\"}", SB_ERR_INVALID,
		    "field 'slug' has an invalid value" },
		{ "{\"name\":\"x\",\"extra\":1}", SB_ERR_INVALID,
		    "unknown field 'extra'" },
		{ "{\"name\":\"x\",\"Name\":\"y\"}", SB_ERR_INVALID,
		    "unknown field 'Name'" },
		{ "[]", SB_ERR_INVALID, "must be a JSON object" },
		{ "\"name\"", SB_ERR_INVALID, "must be a JSON object" },
		{ "null", SB_ERR_INVALID, "must be a JSON object" },
	};
	char err[TEST_ERR_MAX];
	cJSON *j;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		j = cJSON_Parse(cases[i].json);
		assert_non_null(j);
		err[0] = '\0';
		if (sb_request_validate(j, fields,
		        sizeof(fields) / sizeof(fields[0]), NULL, err,
		        sizeof(err)) != cases[i].rc)
			fail_msg("case %zu (%s): wrong result, err \"%s\"", i,
			    cases[i].json, err);
		if (cases[i].in_err != NULL &&
		    strstr(err, cases[i].in_err) == NULL)
			fail_msg("case %zu: err \"%s\" lacks \"%s\"", i, err,
			    cases[i].in_err);
		cJSON_Delete(j);
	}
	assert_int_equal(
	    sb_request_validate(NULL, fields, 1, NULL, err, sizeof(err)),
	    SB_ERR_INVALID);
}

/* An empty table accepts only the empty object. */
static void
test_validate_empty_table(void **state)
{
	char err[TEST_ERR_MAX];
	cJSON *j;

	(void)state;
	j = cJSON_Parse("{}");
	assert_int_equal(
	    sb_request_validate(j, fields, 0, NULL, err, sizeof(err)), SB_OK);
	cJSON_Delete(j);
	j = cJSON_Parse("{\"name\":\"x\"}");
	assert_int_equal(
	    sb_request_validate(j, fields, 0, NULL, err, sizeof(err)),
	    SB_ERR_INVALID);
	cJSON_Delete(j);
}

/*
 * A string row with a minimum and no maximum (max 0 = none) must not report
 * its length error as a range ending at 0.
 */
static void
test_validate_min_only_message(void **state)
{
	static const struct sb_field nick[] = {
		{ .name = "nick",
		    .type = SB_FIELD_STRING,
		    .required = true,
		    .min = 3 },
	};
	char err[TEST_ERR_MAX] = "";
	cJSON *j;

	(void)state;
	j = cJSON_Parse("{\"nick\":\"abcdefghijklmnopqrstuvwxyz\"}");
	assert_int_equal(
	    sb_request_validate(j, nick, 1, NULL, err, sizeof(err)), SB_OK);
	cJSON_Delete(j);
	j = cJSON_Parse("{\"nick\":\"ab\"}");
	assert_int_equal(
	    sb_request_validate(j, nick, 1, NULL, err, sizeof(err)),
	    SB_ERR_INVALID);
	cJSON_Delete(j);
	assert_non_null(strstr(err, "'nick'"));
	if (strstr(err, "to 0 ") != NULL)
		fail_msg("message promises an impossible range: \"%s\"", err);
}

/*
 * On success the values come back by the table's index: present fields as
 * their items, absent and JSON null ones as NULL.
 */
static void
test_validate_values(void **state)
{
	const size_t n = sizeof(fields) / sizeof(fields[0]);
	const cJSON *values[sizeof(fields) / sizeof(fields[0])];
	char err[TEST_ERR_MAX];
	cJSON *j;

	(void)state;
	j = cJSON_Parse("{\"count\": 7, \"name\": \"ab\", \"flag\": null}");
	assert_non_null(j);
	memset(values, 0xff, sizeof(values));
	assert_int_equal(
	    sb_request_validate(j, fields, n, values, err, sizeof(err)), SB_OK);
	for (size_t i = 0; i < n; i++) {
		const cJSON *want =
		    cJSON_GetObjectItemCaseSensitive(j, fields[i].name);

		if (cJSON_IsNull(want))
			want = NULL;
		if (values[i] != want)
			fail_msg(
			    "field %zu (%s): wrong value", i, fields[i].name);
	}
	assert_string_equal(values[0]->valuestring, "ab");
	assert_int_equal((int)values[1]->valuedouble, 7);
	cJSON_Delete(j);
}

static void
test_query_lookup(void **state)
{
	struct sb_arena *arena = *state;
	struct sb_request req;

	memset(&req, 0, sizeof(req));
	req.arena = arena;
	assert_null(sb_request_query(&req, "a"));
	assert_int_equal(sb_request_parse_query(arena, "a=1&b=two+words&a=2&c",
	                     &req.queries, &req.query_count),
	    SB_OK);
	assert_string_equal(sb_request_query(&req, "a"), "1");
	assert_string_equal(sb_request_query(&req, "b"), "two words");
	assert_string_equal(sb_request_query(&req, "c"), "");
	assert_null(sb_request_query(&req, "d"));
	assert_null(sb_request_query(&req, "A"));
	assert_null(sb_request_query(&req, ""));
}

static void
test_param_lookup(void **state)
{
	struct sb_request req;

	(void)state;
	memset(&req, 0, sizeof(req));
	assert_null(sb_request_param(&req, "id"));
	req.params[0] = (struct sb_kv){ "id", "42" };
	req.params[1] = (struct sb_kv){ "name", "x" };
	req.params[2] = (struct sb_kv){ "hidden", "y" };
	req.param_count = 2;
	assert_string_equal(sb_request_param(&req, "id"), "42");
	assert_string_equal(sb_request_param(&req, "name"), "x");
	/* Beyond param_count is not looked at. */
	assert_null(sb_request_param(&req, "hidden"));
	assert_null(sb_request_param(&req, "ID"));
}

static void
test_clear(void **state)
{
	struct sb_request req;

	(void)state;
	memset(&req, 0, sizeof(req));
	sb_request_clear(NULL);
	sb_request_clear(&req);
	req.json = cJSON_Parse("{\"a\":[1,2,3]}");
	assert_non_null(req.json);
	sb_request_clear(&req);
	assert_null(req.json);
	sb_request_clear(&req);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_parse_query, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_parse_query_pair_cap, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_parse_query_length_cap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_decode, setup, teardown),
		cmocka_unit_test(test_parse_json),
		cmocka_unit_test(test_parse_json_length),
		cmocka_unit_test(test_json_span),
		cmocka_unit_test(test_parse_json_depth_cap),
		cmocka_unit_test(test_parse_json_items_cap),
		cmocka_unit_test(test_parse_int),
		cmocka_unit_test(test_json_int),
		cmocka_unit_test(test_validate),
		cmocka_unit_test(test_validate_values),
		cmocka_unit_test(test_validate_empty_table),
		cmocka_unit_test(test_validate_min_only_message),
		cmocka_unit_test_setup_teardown(
		    test_query_lookup, setup, teardown),
		cmocka_unit_test(test_param_lookup),
		cmocka_unit_test(test_clear),
	};

	return cmocka_run_group_tests_name("request", tests, NULL, NULL);
}
