/*
 * Unit tests for lib/connect/mapping.c: a table of source paths parsed
 * (rendered segment by segment) or refused (code and 0-based position); the
 * caps on length, segments and index on both sides; sb_mapping_check() messages
 * word for word; sb_mapping_lookup() borrowing; and a table of documents
 * mapped by sb_mapping_apply(), compared as printed JSON.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>
#include <cmocka.h>

#include "sb/connect/mapping.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define RENDER_MAX 1024
#define TEXT_MAX 1024

struct parse_case {
	const char *text;
	enum sb_err rc;
	size_t pos; /* when rc != SB_OK */
	const char *render; /* when rc == SB_OK: "{key}" and "[n]" steps */
};

static const struct parse_case parse_cases[] = {
	{ "email", SB_OK, 0, "{email}" },
	{ "user.first_name", SB_OK, 0, "{user}{first_name}" },
	{ "emails[0].email", SB_OK, 0, "{emails}[0]{email}" },
	{ "data.items[2]", SB_OK, 0, "{data}{items}[2]" },
	{ "[0]", SB_OK, 0, "[0]" },
	{ "[0][1]", SB_OK, 0, "[0][1]" },
	{ "[3].name", SB_OK, 0, "[3]{name}" },
	{ "a[10][0].b", SB_OK, 0, "{a}[10][0]{b}" },
	{ "x[100000]", SB_OK, 0, "{x}[100000]" },
	{ "a b", SB_OK, 0, "{a b}" },
	{ "caf\xc3\xa9.\xc3\xb1", SB_OK, 0, "{caf\xc3\xa9}{\xc3\xb1}" },
	{ "a-b_c:d$", SB_OK, 0, "{a-b_c:d$}" },
	{ "0", SB_OK, 0, "{0}" },
	{ "a.0", SB_OK, 0, "{a}{0}" },

	{ "", SB_ERR_INVALID, 0, NULL },
	{ "emails[0.email", SB_ERR_INVALID, 8, NULL },
	{ "a..b", SB_ERR_INVALID, 2, NULL },
	{ "[x]", SB_ERR_INVALID, 1, NULL },
	{ "a.", SB_ERR_INVALID, 2, NULL },
	{ "a.b.", SB_ERR_INVALID, 4, NULL },
	{ ".a", SB_ERR_INVALID, 0, NULL },
	{ ".", SB_ERR_INVALID, 0, NULL },
	{ "]", SB_ERR_INVALID, 0, NULL },
	{ "[", SB_ERR_INVALID, 1, NULL },
	{ "a[", SB_ERR_INVALID, 2, NULL },
	{ "a[0", SB_ERR_INVALID, 3, NULL },
	{ "a[]", SB_ERR_INVALID, 2, NULL },
	{ "a]", SB_ERR_INVALID, 1, NULL },
	{ "a[0]b", SB_ERR_INVALID, 4, NULL },
	{ "a[0]]", SB_ERR_INVALID, 4, NULL },
	{ "a[0].", SB_ERR_INVALID, 5, NULL },
	{ "a.[0]", SB_ERR_INVALID, 2, NULL },
	{ "a[-1]", SB_ERR_INVALID, 2, NULL },
	{ "a[+1]", SB_ERR_INVALID, 2, NULL },
	{ "a[ 1]", SB_ERR_INVALID, 2, NULL },
	{ "a[1 ]", SB_ERR_INVALID, 3, NULL },
	{ "a[01]", SB_ERR_INVALID, 3, NULL },
	{ "a[00]", SB_ERR_INVALID, 3, NULL },
	{ "a[1a]", SB_ERR_INVALID, 3, NULL },
	{ "a[[0]]", SB_ERR_INVALID, 2, NULL },

	{ "x[100001]", SB_ERR_TOO_LARGE, 7, NULL },
	{ "x[99999999999999999999]", SB_ERR_TOO_LARGE, 7, NULL },
};

/* Writes path's segments as "{key}" and "[n]" into buf. */
static void
render(const struct sb_mapping_path *path, char *buf, size_t size)
{
	size_t used = 0;
	int n;

	buf[0] = '\0';
	for (size_t i = 0; i < path->count && used < size; i++) {
		const struct sb_mapping_segment *s = &path->segments[i];

		if (s->key != NULL)
			n = snprintf(buf + used, size - used, "{%.*s}",
			    (int)s->key_len, s->key);
		else
			n = snprintf(
			    buf + used, size - used, "[%ld]", s->index);
		assert_true(n > 0);
		used += (size_t)n;
	}
}

static void
test_parse_table(void **state)
{
	struct sb_mapping_path path;
	const struct parse_case *c;
	char buf[RENDER_MAX];
	size_t pos;
	enum sb_err rc;

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(parse_cases); i++) {
		c = &parse_cases[i];
		pos = 9999;
		path.count = 7;
		rc = sb_mapping_path_parse(
		    c->text, strlen(c->text), &path, &pos);
		if (rc != c->rc || (rc != SB_OK && pos != c->pos))
			fail_msg("case \"%s\": got %d at %zu, want %d at %zu",
			    c->text, rc, pos, c->rc, c->pos);
		if (rc != SB_OK) {
			assert_int_equal(path.count, 0);
			continue;
		}
		render(&path, buf, sizeof(buf));
		if (strcmp(buf, c->render) != 0)
			fail_msg("case \"%s\": got %s, want %s", c->text, buf,
			    c->render);
	}
}

/* Keys point into the text; the length, not a NUL, ends them. */
static void
test_parse_borrows(void **state)
{
	static const char text[] = "user.name[1]";
	struct sb_mapping_path path;

	(void)state;
	assert_int_equal(sb_mapping_path_parse(text, 9, &path, NULL), SB_OK);
	assert_int_equal(path.count, 2);
	assert_ptr_equal(path.segments[0].key, text);
	assert_ptr_equal(path.segments[1].key, text + 5);
	assert_int_equal(path.segments[1].key_len, 4);
	assert_int_equal(sb_mapping_path_parse(text, 12, &path, NULL), SB_OK);
	assert_int_equal(path.count, 3);
	assert_null(path.segments[2].key);
	assert_int_equal(path.segments[2].index, 1);
	assert_int_equal(
	    sb_mapping_path_parse(NULL, 3, &path, NULL), SB_ERR_INVALID);
	assert_int_equal(
	    sb_mapping_path_parse(text, 4, NULL, NULL), SB_ERR_INVALID);
}

/* Fills buf with count segments "a.a.a..." (or "[0]" steps). */
static size_t
make_segments(char *buf, size_t count, bool index)
{
	size_t len = 0;

	for (size_t i = 0; i < count; i++) {
		if (index) {
			memcpy(buf + len, "[0]", 3);
			len += 3;
			continue;
		}
		if (i > 0)
			buf[len++] = '.';
		buf[len++] = 'a';
	}
	buf[len] = '\0';
	return len;
}

/* Length and segment caps: at the cap parses, one past is too large. */
static void
test_parse_caps(void **state)
{
	struct sb_mapping_path path;
	char text[TEXT_MAX];
	size_t len, pos;

	(void)state;
	len = make_segments(text, SB_MAPPING_SEGMENTS_MAX, false);
	assert_int_equal(sb_mapping_path_parse(text, len, &path, &pos), SB_OK);
	assert_int_equal(path.count, SB_MAPPING_SEGMENTS_MAX);
	len = make_segments(text, SB_MAPPING_SEGMENTS_MAX + 1, false);
	assert_int_equal(
	    sb_mapping_path_parse(text, len, &path, &pos), SB_ERR_TOO_LARGE);
	assert_int_equal(pos, len - 1);
	len = make_segments(text, SB_MAPPING_SEGMENTS_MAX, true);
	assert_int_equal(sb_mapping_path_parse(text, len, &path, &pos), SB_OK);
	len = make_segments(text, SB_MAPPING_SEGMENTS_MAX + 1, true);
	assert_int_equal(
	    sb_mapping_path_parse(text, len, &path, &pos), SB_ERR_TOO_LARGE);
	assert_int_equal(pos, len - 3);

	memset(text, 'k', SB_MAPPING_PATH_MAX + 1);
	assert_int_equal(
	    sb_mapping_path_parse(text, SB_MAPPING_PATH_MAX, &path, &pos),
	    SB_OK);
	assert_int_equal(path.segments[0].key_len, SB_MAPPING_PATH_MAX);
	assert_int_equal(
	    sb_mapping_path_parse(text, SB_MAPPING_PATH_MAX + 1, &path, &pos),
	    SB_ERR_TOO_LARGE);
	assert_int_equal(pos, SB_MAPPING_PATH_MAX);
}

struct check_case {
	const char *mapping; /* JSON */
	const char *root;
	enum sb_err rc;
	const char *message;
};

static const struct check_case check_cases[] = {
	{ "{\"email\":\"emails[0].email\"}", NULL, SB_OK, "" },
	{ "{\"id\":\"id\",\"name\":\"user.name\"}", "data.items", SB_OK, "" },
	{ "{\"email\":\"emails[0.email\"}", NULL, SB_ERR_INVALID,
	    "field 'email': syntax error at position 9 in 'emails[0.email'" },
	{ "{\"ok\":\"a\",\"a\":\"a..b\"}", NULL, SB_ERR_INVALID,
	    "field 'a': syntax error at position 3 in 'a..b'" },
	{ "{\"a\":\"\"}", NULL, SB_ERR_INVALID,
	    "field 'a': syntax error at position 1 in ''" },
	{ "{\"a\":\"x[100001]\"}", NULL, SB_ERR_TOO_LARGE,
	    "field 'a': index too large at position 8 in 'x[100001]'" },
	{ "{\"id\":\"id\"}", "data..items", SB_ERR_INVALID,
	    "root: syntax error at position 6 in 'data..items'" },
	{ "{\"id\":\"id\"}", "", SB_ERR_INVALID,
	    "root: syntax error at position 1 in ''" },
	{ "[]", NULL, SB_ERR_INVALID, "mapping must be a JSON object" },
	{ "\"x\"", NULL, SB_ERR_INVALID, "mapping must be a JSON object" },
	{ "{}", NULL, SB_ERR_INVALID, "mapping has no fields" },
	{ "{\"a\":1}", NULL, SB_ERR_INVALID,
	    "field 'a': source path must be a string" },
	{ "{\"a\":null}", NULL, SB_ERR_INVALID,
	    "field 'a': source path must be a string" },
	{ "{\"a\":[\"x\"]}", NULL, SB_ERR_INVALID,
	    "field 'a': source path must be a string" },
	{ "{\"\":\"x\"}", NULL, SB_ERR_INVALID, "a field name is empty" },
	{ "{\"a\":\"x\",\"b\":\"y\",\"a\":\"z\"}", NULL, SB_ERR_INVALID,
	    "field 'a' is given twice" },
	{ "{\"a_very_long_field_name_that_goes_on_and_on\":\"a.\"}", NULL,
	    SB_ERR_INVALID,
	    "field 'a_very_long_field_name_that_goes...': syntax error at "
	    "position 3 in 'a.'" },
	{ "{\"a\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa]\"}", NULL,
	    SB_ERR_INVALID,
	    "field 'a': syntax error at position 46 in "
	    "'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...'" },
	{ "{\"a\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\xc3\xa9]\"}", NULL,
	    SB_ERR_INVALID,
	    "field 'a': syntax error at position 42 in "
	    "'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...'" },
};

static void
test_check_table(void **state)
{
	const struct check_case *c;
	char err[SB_MAPPING_ERROR_MAX];
	cJSON *mapping;
	enum sb_err rc;

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(check_cases); i++) {
		c = &check_cases[i];
		assert_non_null(mapping = cJSON_Parse(c->mapping));
		memset(err, 'x', sizeof(err));
		rc = sb_mapping_check(mapping, c->root, err, sizeof(err));
		if (rc != c->rc || strcmp(err, c->message) != 0)
			fail_msg("case %zu: got %d \"%s\", want %d \"%s\"", i,
			    rc, err, c->rc, c->message);
		cJSON_Delete(mapping);
	}
}

/* Adds count fields f0..fn mapping to "id" to a new object. */
static cJSON *
make_fields(size_t count)
{
	char name[32];
	cJSON *mapping = cJSON_CreateObject();

	assert_non_null(mapping);
	for (size_t i = 0; i < count; i++) {
		(void)snprintf(name, sizeof(name), "f%zu", i);
		assert_non_null(cJSON_AddStringToObject(mapping, name, "id"));
	}
	return mapping;
}

/* The field cap; long texts stay inside the message cap; NULLs. */
static void
test_check_caps(void **state)
{
	char err[SB_MAPPING_ERROR_MAX], path[TEXT_MAX], name[TEXT_MAX];
	cJSON *mapping;

	(void)state;
	mapping = make_fields(SB_MAPPING_FIELDS_MAX);
	assert_int_equal(
	    sb_mapping_check(mapping, NULL, err, sizeof(err)), SB_OK);
	cJSON_Delete(mapping);
	mapping = make_fields(SB_MAPPING_FIELDS_MAX + 1);
	assert_int_equal(sb_mapping_check(mapping, NULL, err, sizeof(err)),
	    SB_ERR_TOO_LARGE);
	assert_string_equal(err, "mapping has more than 128 fields");
	cJSON_Delete(mapping);

	memset(path, 'p', SB_MAPPING_PATH_MAX + 1);
	path[SB_MAPPING_PATH_MAX + 1] = '\0';
	memset(name, 'n', 500);
	name[500] = '\0';
	assert_non_null(mapping = cJSON_CreateObject());
	assert_non_null(cJSON_AddStringToObject(mapping, name, path));
	assert_int_equal(sb_mapping_check(mapping, NULL, err, sizeof(err)),
	    SB_ERR_TOO_LARGE);
	assert_non_null(strstr(err, "path too long at position 257"));
	assert_true(strlen(err) < sizeof(err) - 1);
	assert_int_equal(
	    sb_mapping_check(mapping, NULL, NULL, 0), SB_ERR_TOO_LARGE);
	cJSON_Delete(mapping);
	assert_int_equal(
	    sb_mapping_check(NULL, NULL, err, sizeof(err)), SB_ERR_INVALID);
}

/* Lookups return the node inside doc itself, or NULL. */
static void
test_lookup(void **state)
{
	struct sb_mapping_path path;
	cJSON *doc;

	(void)state;
	assert_non_null(doc = cJSON_Parse("{\"a\":{\"b\":[10,{\"c\":true}]}}"));
	assert_int_equal(
	    sb_mapping_path_parse("a.b[1].c", 8, &path, NULL), SB_OK);
	assert_ptr_equal(sb_mapping_lookup(doc, &path),
	    cJSON_GetObjectItem(
	        cJSON_GetArrayItem(
	            cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "a"), "b"), 1),
	        "c"));
	assert_int_equal(
	    sb_mapping_path_parse("a.b[2]", 6, &path, NULL), SB_OK);
	assert_null(sb_mapping_lookup(doc, &path));
	assert_int_equal(sb_mapping_path_parse("a.b.c", 5, &path, NULL), SB_OK);
	assert_null(sb_mapping_lookup(doc, &path));
	assert_null(sb_mapping_lookup(NULL, &path));
	assert_null(sb_mapping_lookup(doc, NULL));
	cJSON_Delete(doc);
}

struct apply_case {
	const char *doc;
	const char *mapping;
	const char *root;
	const char *want; /* unformatted JSON */
};

static const struct apply_case apply_cases[] = {
	{ "{\"id\":7,\"emails\":[{\"email\":\"a@x\"}],"
	  "\"user\":{\"first_name\":\"Ann\"}}",
	    "{\"id\":\"id\",\"email\":\"emails[0].email\","
	    "\"first\":\"user.first_name\",\"missing\":\"nope.x\"}",
	    NULL,
	    "{\"id\":7,\"email\":\"a@x\",\"first\":\"Ann\",\"missing\":null}" },
	{ "[{\"id\":1},{\"id\":2,\"n\":\"b\"}]", "{\"id\":\"id\",\"n\":\"n\"}",
	    NULL, "[{\"id\":1,\"n\":null},{\"id\":2,\"n\":\"b\"}]" },
	{ "{\"data\":{\"items\":[{\"id\":1},{\"id\":2}]}}", "{\"i\":\"id\"}",
	    "data.items", "[{\"i\":1},{\"i\":2}]" },
	{ "{\"data\":{}}", "{\"i\":\"id\"}", "data.items", "[]" },
	{ "{\"data\":{\"items\":null}}", "{\"i\":\"id\"}", "data.items", "[]" },
	{ "{\"data\":{\"items\":[]}}", "{\"i\":\"id\"}", "data.items", "[]" },
	{ "{\"data\":{\"user\":{\"id\":3}}}", "{\"i\":\"id\"}", "data.user",
	    "{\"i\":3}" },
	{ "{\"pages\":[{\"rows\":[{\"id\":9}]}]}", "{\"i\":\"id\"}",
	    "pages[0].rows", "[{\"i\":9}]" },
	{ "{\"user\":{\"address\":{\"city\":\"X\",\"zip\":[\"1\"]}}}",
	    "{\"addr\":\"user.address\"}", NULL,
	    "{\"addr\":{\"city\":\"X\",\"zip\":[\"1\"]}}" },
	{ "[[1,2],[3]]", "{\"x\":\"[1]\"}", NULL, "[{\"x\":2},{\"x\":null}]" },
	{ "[\"a\",\"b\"]", "{\"x\":\"[0]\"}", NULL,
	    "[{\"x\":null},{\"x\":null}]" },
	{ "{\"a\":[1],\"b\":{\"0\":1}}",
	    "{\"x\":\"a.0\",\"y\":\"b[0]\",\"z\":\"a[5]\",\"w\":\"b.0\"}", NULL,
	    "{\"x\":null,\"y\":null,\"z\":null,\"w\":1}" },
	{ "null", "{\"x\":\"a\"}", NULL, "[]" },
	{ "5", "{\"x\":\"a\"}", NULL, "{\"x\":null}" },
	{ "{\"a b\":1}", "{\"x\":\"a b\"}", NULL, "{\"x\":1}" },
	{ "{\"Id\":1}", "{\"x\":\"id\"}", NULL, "{\"x\":null}" },
	{ "{\"a\":1,\"a\":2}", "{\"x\":\"a\"}", NULL, "{\"x\":1}" },
	{ "{\"ab\":1,\"a\":{\"b\":2}}", "{\"x\":\"a\",\"y\":\"abc\"}", NULL,
	    "{\"x\":{\"b\":2},\"y\":null}" },
	{ "{\"b\":2,\"a\":1}", "{\"z\":\"a\",\"y\":\"b\",\"x\":\"a\"}", NULL,
	    "{\"z\":1,\"y\":2,\"x\":1}" },
	{ "{\"r\":[{\"v\":[0,1,2,3,4,5,6,7,8,9,10,11]}]}",
	    "{\"x\":\"v[11]\",\"y\":\"v[12]\"}", "r",
	    "[{\"x\":11,\"y\":null}]" },
	{ "{\"r\":\"text\"}", "{\"x\":\"a\"}", "r", "{\"x\":null}" },
};

static void
test_apply_table(void **state)
{
	const struct apply_case *c;
	cJSON *doc, *mapping, *out;
	char *got;

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(apply_cases); i++) {
		c = &apply_cases[i];
		assert_non_null(doc = cJSON_Parse(c->doc));
		assert_non_null(mapping = cJSON_Parse(c->mapping));
		out = (cJSON *)&out;
		assert_int_equal(
		    sb_mapping_apply(mapping, c->root, doc, &out), SB_OK);
		/* The result owns its values: free the inputs first. */
		cJSON_Delete(doc);
		cJSON_Delete(mapping);
		assert_non_null(got = cJSON_PrintUnformatted(out));
		if (strcmp(got, c->want) != 0)
			fail_msg("case %zu: got %s, want %s", i, got, c->want);
		cJSON_free(got);
		cJSON_Delete(out);
	}
}

/* Unchecked mappings and roots are refused with *out NULL. */
static void
test_apply_invalid(void **state)
{
	static const char *const mappings[] = { "{\"a\":\"a..b\"}", "{}",
		"[\"a\"]", "{\"a\":1}", "{\"\":\"a\"}" };
	cJSON *doc, *mapping, *out;

	(void)state;
	assert_non_null(doc = cJSON_Parse("{\"a\":1}"));
	for (size_t i = 0; i < ARRAY_LEN(mappings); i++) {
		assert_non_null(mapping = cJSON_Parse(mappings[i]));
		out = (cJSON *)&out;
		assert_int_equal(
		    sb_mapping_apply(mapping, NULL, doc, &out), SB_ERR_INVALID);
		assert_null(out);
		cJSON_Delete(mapping);
	}
	assert_non_null(mapping = cJSON_Parse("{\"a\":\"a\"}"));
	out = (cJSON *)&out;
	assert_int_equal(
	    sb_mapping_apply(mapping, "r[", doc, &out), SB_ERR_INVALID);
	assert_null(out);
	assert_int_equal(
	    sb_mapping_apply(NULL, NULL, doc, &out), SB_ERR_INVALID);
	assert_null(out);
	assert_int_equal(sb_mapping_apply(mapping, NULL, NULL, &out), SB_OK);
	assert_true(cJSON_IsArray(out));
	assert_int_equal(cJSON_GetArraySize(out), 0);
	cJSON_Delete(out);
	cJSON_Delete(mapping);
	cJSON_Delete(doc);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_table),
		cmocka_unit_test(test_parse_borrows),
		cmocka_unit_test(test_parse_caps),
		cmocka_unit_test(test_check_table),
		cmocka_unit_test(test_check_caps),
		cmocka_unit_test(test_lookup),
		cmocka_unit_test(test_apply_table),
		cmocka_unit_test(test_apply_invalid),
	};

	return cmocka_run_group_tests_name("mapping", tests, NULL, NULL);
}
