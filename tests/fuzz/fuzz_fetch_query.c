/*
 * libFuzzer target: GET /data's query language (lib/fetch/query.c) and
 * its evaluation (lib/fetch/select.c), as a request's query string reaches
 * them, over a small snapshot built here (no database): whatever the
 * bytes, a query either is refused with a code or answers a JSON array of
 * at most the items there are, its window inside the matches.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sb/core/deadline.h"
#include "sb/fetch/select.h"

#define FUZZ_ITEMS 4
#define FUZZ_FIELDS 3
#define FUZZ_TEXT 2048

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The snapshot: four items, their fields n (numbers, a text, missing), s
 * (texts, null) and flag (booleans), as the load would have made them. */
static char text[FUZZ_TEXT];
static size_t text_len;
static struct sb_fetch_item items[FUZZ_ITEMS];
static struct sb_fetch_value values[FUZZ_ITEMS * FUZZ_FIELDS];
static uint32_t scratch[FUZZ_ITEMS + 1], scratch2[FUZZ_ITEMS + 1];

/* s (len bytes) appended to text with a NUL; its offset. */
static uint32_t
fuzz_text(const char *s, size_t len)
{
	uint32_t at = (uint32_t)text_len;

	memcpy(text + text_len, s, len);
	text[text_len + len] = '\0';
	text_len += len + 1;
	return at;
}

/* A value of type with JavaScript text js (NULL: none) and json_extract
 * class with its number or text. */
static struct sb_fetch_value
fuzz_value(enum sb_fetch_json type, const char *js, enum sb_fetch_class class,
    double number)
{
	struct sb_fetch_value v = { .type = type, .class = class };

	if (js != NULL) {
		v.has_text = true;
		v.text_len = (uint32_t)strlen(js);
		v.text = fuzz_text(js, v.text_len);
	}
	if (class == SB_FETCH_CLASS_INTEGER)
		v.number.integer = (int64_t)number;
	else if (class == SB_FETCH_CLASS_REAL)
		v.number.real = number;
	else if (class == SB_FETCH_CLASS_TEXT) {
		v.extract = v.text;
		v.extract_len = v.text_len;
	}
	return v;
}

static void
fuzz_snapshot(void)
{
	static const char *const outs[FUZZ_ITEMS] = { "{\"id\":1}",
		"{\"id\":2}", "{\"id\":3}", "{\"id\":4}" };
	static const char hay[] = "hello\0world\0005";
	struct sb_fetch_value *v = values;

	for (int i = 0; i < FUZZ_ITEMS; i++) {
		items[i].id = i + 1;
		items[i].out_len = (uint32_t)strlen(outs[i]);
		items[i].out = fuzz_text(outs[i], items[i].out_len);
		items[i].haystack_len = (uint32_t)(sizeof(hay) - 1 - (size_t)i);
		items[i].haystack = fuzz_text(hay, items[i].haystack_len);
	}
	*v++ =
	    fuzz_value(SB_FETCH_JSON_INTEGER, "5", SB_FETCH_CLASS_INTEGER, 5);
	*v++ = fuzz_value(SB_FETCH_JSON_TEXT, "abc", SB_FETCH_CLASS_TEXT, 0);
	*v++ =
	    fuzz_value(SB_FETCH_JSON_TRUE, "true", SB_FETCH_CLASS_INTEGER, 1);
	*v++ = fuzz_value(SB_FETCH_JSON_REAL, "2.5", SB_FETCH_CLASS_REAL, 2.5);
	*v++ = fuzz_value(SB_FETCH_JSON_NULL, NULL, SB_FETCH_CLASS_NULL, 0);
	*v++ =
	    fuzz_value(SB_FETCH_JSON_FALSE, "false", SB_FETCH_CLASS_INTEGER, 0);
	*v++ = fuzz_value(SB_FETCH_JSON_TEXT, "7", SB_FETCH_CLASS_TEXT, 0);
	*v++ = fuzz_value(SB_FETCH_JSON_TEXT, "", SB_FETCH_CLASS_TEXT, 0);
	*v++ = fuzz_value(SB_FETCH_JSON_MISSING, NULL, SB_FETCH_CLASS_NULL, 0);
	*v++ = fuzz_value(SB_FETCH_JSON_MISSING, NULL, SB_FETCH_CLASS_NULL, 0);
	*v++ = fuzz_value(SB_FETCH_JSON_TEXT, "Zeta", SB_FETCH_CLASS_TEXT, 0);
	*v = fuzz_value(SB_FETCH_JSON_TRUE, "true", SB_FETCH_CLASS_INTEGER, 1);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static cJSON *fields;
	struct sb_fetch_view view = { .name = "fuzz",
		.field_count = FUZZ_FIELDS,
		.items = items,
		.count = FUZZ_ITEMS,
		.values = values,
		.text = text,
		.scratch = scratch,
		.scratch2 = scratch2 };
	struct sb_fetch_query q;
	struct sb_fetch_window w;
	struct sb_arena arena;
	struct sb_kv *pairs;
	char err[256], *json = NULL, *query;
	const char *code;
	int64_t total;
	size_t count, len;

	if (fields == NULL) {
		fields = cJSON_Parse("[\"n\", \"s\", \"flag\"]");
		fuzz_snapshot();
	}
	view.fields = fields;
	sb_arena_init(&arena, 1 << 20);
	if ((query = sb_arena_strndup(&arena, (const char *)data, size)) ==
	        NULL ||
	    sb_request_parse_query(&arena, query, &pairs, &count) != SB_OK)
		goto out;
	if (sb_fetch_query_parse(&arena, fields, pairs, count, &q, &code, err,
	        sizeof(err)) != SB_OK) {
		if (code == NULL)
			__builtin_trap();
		goto out;
	}
	if (sb_fetch_select(&view, &q, SB_DEADLINE_NONE, &total, &w, &json,
	        &len) != SB_OK ||
	    total > FUZZ_ITEMS || w.count > total ||
	    (w.count > 0 && (w.offset < 0 || w.offset + w.count > total)) ||
	    json[0] != '[' || json[len - 1] != ']' || strlen(json) != len)
		__builtin_trap();
	free(json);
	sb_fetch_query_clear(&q);
out:
	sb_arena_clear(&arena);
	return 0;
}
