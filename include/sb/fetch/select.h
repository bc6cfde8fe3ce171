/*
 * GET /data's evaluation: a parsed query (sb/fetch/query.h) run in C over
 * a resource's snapshot (sb/fetch/snapshot.h), with the semantics the SQL
 * conditions had: equality, _ne and _like on the JavaScript text (null
 * and missing match none of them), _gte and _lte on json_extract()'s
 * value in SQLite's order (a number with a number query value, a string
 * with the text of the value), q a substring of one of the item's lowered
 * atoms, _sort in SQLite's ORDER BY order (null and missing last, first
 * when descending; then NULL < numbers < text), ties by id.
 */
#ifndef SB_FETCH_SELECT_H
#define SB_FETCH_SELECT_H

#include <stddef.h>
#include <stdint.h>

#include "sb/core/err.h"
#include "sb/fetch/query.h"
#include "sb/fetch/snapshot.h"

/* items filtered between two looks at the deadline (a power of two) */
#define SB_FETCH_SELECT_DEADLINE_ITEMS 64

/*
 * Runs q over view within deadline (sb/core/deadline.h; SB_DEADLINE_NONE:
 * unbounded): the matching items are counted into *total, sorted, sliced
 * as json-server slices (*w, sb_fetch_query_slice()), and the window's
 * answer texts written as one JSON array into *json (*len bytes and a
 * NUL, malloc'ed; the caller frees it).  Uses view's scratch: one call at
 * a time per view.  SB_ERR_TIMEOUT when the deadline passed while it
 * filtered, SB_ERR_NOMEM; on error *json is NULL.
 */
enum sb_err sb_fetch_select(const struct sb_fetch_view *view,
    const struct sb_fetch_query *q, int64_t deadline, int64_t *total,
    struct sb_fetch_window *w, char **json, size_t *len);

#endif
