/*
 * What GET /data answers from: a per-process snapshot of the stored items
 * of each resource asked for, with every value the query language
 * compares computed once, by SQLite, at load, with the expressions the
 * SQL conditions used before (so their semantics cannot move), and the
 * answer text of each item ready to be copied out.
 *
 * The snapshot is valid while the one-row table fetch_data_version
 * (db/migrations/0010_fetch_data_version.sql) holds the version it was
 * loaded at: triggers bump it on any change to fetch_items or
 * fetch_resources.  Each request reads the version with one cached
 * statement and nothing else while it is unchanged.  The version is read
 * before the items, so the items are never older than the version they
 * are labelled with; a write between the two costs one load more, never a
 * stale answer.
 *
 * Memory: what a process keeps of all its resources' snapshots is held to
 * SB_FETCH_SNAPSHOT_KEEP_BYTES by dropping the least recently used ones,
 * but the resource being answered is always kept, even alone past it, so
 * every resource is answered, from memory.  A resource's snapshot is three
 * to four times its stored JSON, which the fetch bounds (http_response_max
 * of the source's answer, SB_FETCH_ITEMS_MAX items).  A resource with more
 * live items than SB_FETCH_SNAPSHOT_ITEMS_MAX (only an operator writing
 * the table directly can make one) is refused with SB_ERR_TOO_LARGE.
 *
 * A snapshot is one worker's: it is not shared across threads.
 */
#ifndef SB_FETCH_SNAPSHOT_H
#define SB_FETCH_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cJSON.h>

#include "sb/core/err.h"
#include "sb/store/db.h"

#define SB_FETCH_SNAPSHOT_KEEP_BYTES (64L << 20) /* kept across resources */
#define SB_FETCH_SNAPSHOT_ITEMS_MAX 100000 /* live items of a resource */
#define SB_FETCH_SNAPSHOT_RESOURCES_MAX 16 /* resources kept at once */
#define SB_FETCH_SNAPSHOT_TEXT_MAX UINT32_MAX /* bytes of one's texts */

/* A value's json_type(): MISSING where SQLite gives NULL (no such path). */
enum sb_fetch_json {
	SB_FETCH_JSON_MISSING,
	SB_FETCH_JSON_NULL,
	SB_FETCH_JSON_TRUE,
	SB_FETCH_JSON_FALSE,
	SB_FETCH_JSON_INTEGER,
	SB_FETCH_JSON_REAL,
	SB_FETCH_JSON_TEXT,
	SB_FETCH_JSON_ARRAY,
	SB_FETCH_JSON_OBJECT,
};

/* The storage class of json_extract()'s value, in SQLite's order. */
enum sb_fetch_class {
	SB_FETCH_CLASS_NULL,
	SB_FETCH_CLASS_INTEGER,
	SB_FETCH_CLASS_REAL,
	SB_FETCH_CLASS_TEXT,
};

/*
 * One filterable field of one item, as SQLite computed it: its
 * json_type(); its JavaScript text (true and false as words, null and
 * missing as none, an object as "[object Object]", else the value cast to
 * text); and json_extract()'s value (what ORDER BY and the range
 * operators compare): a number, or a text (a string, or an array's or an
 * object's JSON).  Texts are offsets into the resource's text, each
 * NUL-terminated there.
 */
struct sb_fetch_value {
	uint8_t type; /* enum sb_fetch_json */
	uint8_t class; /* enum sb_fetch_class */
	bool has_text; /* the JavaScript text is not NULL */
	uint32_t text, text_len; /* the JavaScript text */
	uint32_t extract, extract_len; /* CLASS_TEXT: json_extract's */
	union {
		int64_t integer; /* CLASS_INTEGER (true 1, false 0) */
		double real; /* CLASS_REAL */
	} number;
};

/*
 * One live item: its id; out, its answer text (the stored JSON with
 * "_derived" set); and its q haystack: every atom json_tree() gives that
 * q searches (texts but "", numbers but 0, true), lowered by SQLite's
 * lower() and joined by NUL bytes, so that no match spans two.
 */
struct sb_fetch_item {
	int64_t id;
	uint32_t out, out_len;
	uint32_t haystack, haystack_len;
};

/*
 * A resource's snapshot, borrowed from the cache: its configuration and
 * its live items in id order, item i's field f at values[i * field_count
 * + f], f being the field's place in fields (the configured JSON array).
 * scratch and scratch2 are count entries each for sb_fetch_select().
 */
struct sb_fetch_view {
	const char *name;
	const cJSON *fields;
	int field_count;
	const struct sb_fetch_item *items;
	size_t count;
	const struct sb_fetch_value *values;
	const char *text;
	uint32_t *scratch, *scratch2;
};

/* The per-process cache of snapshots; opaque. */
struct sb_fetch_snapshot;

/*
 * Makes an empty cache.  On SB_OK *out is set and the caller frees it with
 * sb_fetch_snapshot_free(); otherwise (SB_ERR_NOMEM) *out is NULL.
 */
enum sb_err sb_fetch_snapshot_new(struct sb_fetch_snapshot **out);

/* Frees the cache and every snapshot it holds; NULL is a no-op. */
void sb_fetch_snapshot_free(struct sb_fetch_snapshot *s);

/*
 * The snapshot of the resource called name (NULL: the default one) in
 * *out, loaded first if the cache has none of the current version; a load
 * runs within deadline (sb/core/deadline.h; SB_DEADLINE_NONE: unbounded).
 * *out is borrowed: valid until the next call on s.  SB_ERR_NOT_FOUND if
 * there is no such resource (names, if not NULL, then gets the known
 * names, comma-separated, into names_size bytes); SB_ERR_CONFIG if its
 * fields are not a JSON array; SB_ERR_TOO_LARGE past
 * SB_FETCH_SNAPSHOT_ITEMS_MAX items or SB_FETCH_SNAPSHOT_TEXT_MAX bytes;
 * SB_ERR_TIMEOUT when the deadline passed during the load; SB_ERR_DB or
 * SB_ERR_NOMEM.  On any error *out is NULL.
 */
enum sb_err sb_fetch_snapshot_get(struct sb_fetch_snapshot *s, struct sb_db *db,
    const char *name, int64_t deadline, const struct sb_fetch_view **out,
    char *names, size_t names_size);

/* The live item id of view, or NULL. */
const struct sb_fetch_item *sb_fetch_snapshot_item(
    const struct sb_fetch_view *view, int64_t id);

/* How many loads s has made (tests). */
uint64_t sb_fetch_snapshot_loads(const struct sb_fetch_snapshot *s);

#endif
