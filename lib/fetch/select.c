/*
 * GET /data's evaluation (see include/sb/fetch/select.h): filter the
 * snapshot's items into an index array, sort it (a stable merge sort:
 * the items are in id order, so ties keep it), slice, and copy out the
 * window's answer texts.  The comparisons are SQLite's: numbers by value
 * across integers and reals (sqlite3IntFloatCompare()), texts by their
 * bytes (the BINARY collation), and NULL < numbers < text between
 * classes.
 */
#include <stdlib.h>
#include <string.h>

#include "sb/core/deadline.h"
#include "sb/fetch/select.h"

/* A value as SQLite compares it. */
struct select_key {
	uint8_t class; /* enum sb_fetch_class */
	int64_t integer;
	double real;
	const char *text;
	size_t len;
};

/* The key of json_extract()'s value v. */
static struct select_key
select_key_of(const struct sb_fetch_view *view, const struct sb_fetch_value *v)
{
	struct select_key k = { .class = v->class };

	if (v->class == SB_FETCH_CLASS_INTEGER)
		k.integer = v->number.integer;
	else if (v->class == SB_FETCH_CLASS_REAL)
		k.real = v->number.real;
	else if (v->class == SB_FETCH_CLASS_TEXT) {
		k.text = view->text + v->extract;
		k.len = v->extract_len;
	}
	return k;
}

/* -1, 0 or 1 as a is below, equal to or above b. */
static int
select_sign(double a, double b)
{
	return a < b ? -1 : a > b ? 1 : 0;
}

/* SQLite's sqlite3IntFloatCompare(): i against r, exactly. */
static int
select_int_real(int64_t i, double r)
{
	int64_t y;

	if (r < -9223372036854775808.0)
		return 1;
	if (r >= 9223372036854775808.0)
		return -1;
	y = (int64_t)r;
	if (i != y)
		return i < y ? -1 : 1;
	return select_sign((double)i, r);
}

/* Two numbers (CLASS_INTEGER or CLASS_REAL). */
static int
select_numbers(const struct select_key *a, const struct select_key *b)
{
	bool ai = a->class == SB_FETCH_CLASS_INTEGER;
	bool bi = b->class == SB_FETCH_CLASS_INTEGER;

	if (ai && bi)
		return a->integer < b->integer ? -1 : a->integer > b->integer;
	if (ai)
		return select_int_real(a->integer, b->real);
	if (bi)
		return -select_int_real(b->integer, a->real);
	return select_sign(a->real, b->real);
}

/* SQLite's order of a and b. */
static int
select_order(const struct select_key *a, const struct select_key *b)
{
	static const int rank[] = { [SB_FETCH_CLASS_NULL] = 0,
		[SB_FETCH_CLASS_INTEGER] = 1,
		[SB_FETCH_CLASS_REAL] = 1,
		[SB_FETCH_CLASS_TEXT] = 2 };
	size_t n;
	int c;

	if (rank[a->class] != rank[b->class])
		return rank[a->class] < rank[b->class] ? -1 : 1;
	if (rank[a->class] == 0)
		return 0;
	if (rank[a->class] == 1)
		return select_numbers(a, b);
	n = a->len < b->len ? a->len : b->len;
	if ((c = memcmp(a->text, b->text, n)) != 0)
		return c < 0 ? -1 : 1;
	return a->len < b->len ? -1 : a->len > b->len;
}

/* v's JavaScript text is o's. */
static bool
select_equal(const struct sb_fetch_view *view, const struct sb_fetch_value *v,
    const struct sb_fetch_operand *o)
{
	return v->text_len == o->len &&
	    memcmp(view->text + v->text, o->text, o->len) == 0;
}

/* v >= o (gte) or v <= o: numbers with a number, strings with text. */
static bool
select_range(const struct sb_fetch_view *view, const struct sb_fetch_value *v,
    const struct sb_fetch_operand *o, bool gte)
{
	struct select_key a = select_key_of(view, v), b = { 0 };
	int c;

	if (v->type == SB_FETCH_JSON_INTEGER || v->type == SB_FETCH_JSON_REAL) {
		if (!o->is_number)
			return false;
		b.class = SB_FETCH_CLASS_REAL;
		b.real = o->number;
	} else if (v->type == SB_FETCH_JSON_TEXT) {
		b.class = SB_FETCH_CLASS_TEXT;
		b.text = o->text;
		b.len = o->len;
	} else {
		return false;
	}
	c = select_order(&a, &b);
	return gte ? c >= 0 : c <= 0;
}

/* Whether the value v passes o under op; null and missing pass none. */
static bool
select_operand(const struct sb_fetch_view *view, const struct sb_fetch_value *v,
    enum sb_fetch_op op, const struct sb_fetch_operand *o)
{
	switch (op) {
	case SB_FETCH_OP_EQ:
		return v->has_text && select_equal(view, v, o);
	case SB_FETCH_OP_NE:
		return v->has_text && !select_equal(view, v, o);
	case SB_FETCH_OP_LIKE:
		return v->has_text &&
		    regexec(o->regex, view->text + v->text, 0, NULL, 0) == 0;
	case SB_FETCH_OP_GTE:
	case SB_FETCH_OP_LTE:
		return select_range(view, v, o, op == SB_FETCH_OP_GTE);
	}
	return false;
}

/* Whether item i passes filter f: one of its values (all, for _ne). */
static bool
select_filter(const struct sb_fetch_view *view, const struct sb_fetch_query *q,
    const struct sb_fetch_filter *f, size_t i)
{
	const struct sb_fetch_value *v =
	    &view->values[i * (size_t)view->field_count + (size_t)f->field];
	bool all = f->op == SB_FETCH_OP_NE;

	for (int k = f->first; k < f->first + f->count; k++)
		if (select_operand(view, v, f->op, &q->operands[k]) != all)
			return !all;
	return all;
}

/*
 * Whether the lowered q is in item's haystack, as SQLite's instr() finds
 * it in one of its atoms: instr() tries only the starts of characters, so
 * a q beginning with a UTF-8 continuation byte matches only at an atom's
 * start.  A match cannot span two atoms: q holds no NUL.
 */
static bool
select_q(const struct sb_fetch_view *view, const struct sb_fetch_item *item,
    const char *q, size_t len)
{
	const char *hay = view->text + item->haystack;
	const char *end = hay + item->haystack_len, *at = hay;
	bool continuation = ((unsigned char)q[0] & 0xc0) == 0x80;

	while ((size_t)(end - at) >= len &&
	    (at = memchr(at, q[0], (size_t)(end - at) - len + 1)) != NULL) {
		if (memcmp(at, q, len) == 0 &&
		    (!continuation || at == hay || at[-1] == '\0'))
			return true;
		at++;
	}
	return false;
}

/* Whether item i matches q's q and every filter. */
static bool
select_match(
    const struct sb_fetch_view *view, const struct sb_fetch_query *q, size_t i)
{
	if (q->q != NULL && !select_q(view, &view->items[i], q->q, q->q_len))
		return false;
	for (int f = 0; f < q->filter_count; f++)
		if (!select_filter(view, q, &q->filters[f], i))
			return false;
	return true;
}

/* The matching items' places into view->scratch, *n of them. */
static enum sb_err
select_filter_all(const struct sb_fetch_view *view,
    const struct sb_fetch_query *q, int64_t deadline, size_t *n)
{
	*n = 0;
	for (size_t i = 0; i < view->count; i++) {
		if ((i & (SB_FETCH_SELECT_DEADLINE_ITEMS - 1)) == 0 &&
		    sb_deadline_passed(deadline))
			return SB_ERR_TIMEOUT;
		if (select_match(view, q, i))
			view->scratch[(*n)++] = (uint32_t)i;
	}
	return SB_OK;
}

/* ORDER BY's order of items a and b: q's sort keys, then the id. */
static int
select_compare(const struct sb_fetch_view *view, const struct sb_fetch_query *q,
    uint32_t a, uint32_t b)
{
	size_t fields = (size_t)view->field_count;
	const struct sb_fetch_value *va, *vb;
	struct select_key ka, kb;
	int c;

	for (int k = 0; k < q->sort_count; k++) {
		va = &view->values[a * fields + (size_t)q->sort[k].field];
		vb = &view->values[b * fields + (size_t)q->sort[k].field];
		/* "json_type IS NULL OR json_type = 'null'" first */
		c = (va->type <= SB_FETCH_JSON_NULL) -
		    (vb->type <= SB_FETCH_JSON_NULL);
		if (c == 0) {
			ka = select_key_of(view, va);
			kb = select_key_of(view, vb);
			c = select_order(&ka, &kb);
		}
		if (c != 0)
			return q->sort[k].desc ? -c : c;
	}
	return view->items[a].id < view->items[b].id
	    ? -1
	    : view->items[a].id > view->items[b].id;
}

/* Merges the sorted from[lo, mid) and from[mid, hi) into to[lo, hi). */
static void
select_merge(const struct sb_fetch_view *view, const struct sb_fetch_query *q,
    const uint32_t *from, uint32_t *to, size_t lo, size_t mid, size_t hi)
{
	size_t i = lo, j = mid;

	for (size_t k = lo; k < hi; k++)
		if (i < mid &&
		    (j >= hi || select_compare(view, q, from[i], from[j]) <= 0))
			to[k] = from[i++];
		else
			to[k] = from[j++];
}

/* Sorts the n places of view->scratch (a bottom-up merge sort through
 * scratch2); the sorted places. */
static const uint32_t *
select_sort(
    const struct sb_fetch_view *view, const struct sb_fetch_query *q, size_t n)
{
	uint32_t *from = view->scratch, *to = view->scratch2, *swap;
	size_t mid, hi;

	for (size_t width = 1; width < n; width *= 2) {
		for (size_t lo = 0; lo < n; lo += 2 * width) {
			mid = lo + width < n ? lo + width : n;
			hi = lo + 2 * width < n ? lo + 2 * width : n;
			select_merge(view, q, from, to, lo, mid, hi);
		}
		swap = from;
		from = to;
		to = swap;
	}
	return from;
}

/* The answer texts of places[0, count) as a JSON array into *json. */
static enum sb_err
select_json(const struct sb_fetch_view *view, const uint32_t *places,
    size_t count, char **json, size_t *len)
{
	const struct sb_fetch_item *item;
	size_t size = 2 + (count > 0 ? count - 1 : 0), at = 0;

	for (size_t i = 0; i < count; i++)
		size += view->items[places[i]].out_len;
	if ((*json = malloc(size + 1)) == NULL)
		return SB_ERR_NOMEM;
	(*json)[at++] = '[';
	for (size_t i = 0; i < count; i++) {
		item = &view->items[places[i]];
		if (i > 0)
			(*json)[at++] = ',';
		memcpy(*json + at, view->text + item->out, item->out_len);
		at += item->out_len;
	}
	(*json)[at++] = ']';
	(*json)[at] = '\0';
	*len = at;
	return SB_OK;
}

enum sb_err
sb_fetch_select(const struct sb_fetch_view *view,
    const struct sb_fetch_query *q, int64_t deadline, int64_t *total,
    struct sb_fetch_window *w, char **json, size_t *len)
{
	const uint32_t *sorted = view->scratch;
	size_t n;
	enum sb_err rc;

	*json = NULL;
	*len = 0;
	if ((rc = select_filter_all(view, q, deadline, &n)) != SB_OK)
		return rc;
	*total = (int64_t)n;
	sb_fetch_query_slice(q, *total, w);
	if (w->count > 0 && q->sort_count > 0)
		sorted = select_sort(view, q, n);
	return select_json(view, sorted + (w->count > 0 ? w->offset : 0),
	    (size_t)w->count, json, len);
}
