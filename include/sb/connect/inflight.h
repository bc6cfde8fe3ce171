/*
 * Calls in flight per connection, counted across the worker threads of one
 * process, so that one connection's slow provider cannot take every worker:
 * past its cap a call is refused at once (429) instead of waiting.  The
 * count is per process; with proxy_procs processes a connection may have
 * up to that many times the cap in flight.
 */
#ifndef SB_INFLIGHT_H
#define SB_INFLIGHT_H

#include <stdbool.h>
#include <stddef.h>

#include "sb/core/err.h"

struct sb_inflight;

/*
 * Makes a counter allowing per_key_max calls of one key at once, for up to
 * key_slots distinct keys in flight together (at least the number of
 * workers).  On SB_OK *out is set and the caller frees it with
 * sb_inflight_free(); otherwise *out is NULL (SB_ERR_NOMEM, or
 * SB_ERR_INVALID for a zero size).
 */
enum sb_err sb_inflight_new(
    size_t per_key_max, size_t key_slots, struct sb_inflight **out);

/* Frees the counter; NULL is a no-op.  No call may be in flight. */
void sb_inflight_free(struct sb_inflight *inflight);

/*
 * Counts a call of key in: true if it may go ahead (the caller then calls
 * sb_inflight_leave() with the same key when it ends), false when key has
 * per_key_max calls in flight already or every slot is taken.  Safe from
 * any thread.
 */
bool sb_inflight_enter(struct sb_inflight *inflight, const char *key);

/* Counts a call of key out (after a true sb_inflight_enter()). */
void sb_inflight_leave(struct sb_inflight *inflight, const char *key);

/* The cap per key it was made with. */
size_t sb_inflight_max(const struct sb_inflight *inflight);

#endif
