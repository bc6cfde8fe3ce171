/*
 * Calls in flight per key (see include/sb/connect/inflight.h): a small
 * table of keys and counts under one mutex.  The table has a slot for each
 * key that can be in flight at once, so a linear scan is enough.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sb/connect/inflight.h"

#define INFLIGHT_KEY_MAX 64 /* longer keys share a slot by their prefix */

struct inflight_slot {
	char key[INFLIGHT_KEY_MAX];
	size_t count; /* 0: the slot is free */
};

struct sb_inflight {
	pthread_mutex_t lock;
	size_t per_key_max;
	size_t slot_count;
	struct inflight_slot slots[]; /* slot_count of them */
};

enum sb_err
sb_inflight_new(size_t per_key_max, size_t key_slots, struct sb_inflight **out)
{
	struct sb_inflight *t;

	*out = NULL;
	if (per_key_max == 0 || key_slots == 0)
		return SB_ERR_INVALID;
	t = calloc(1, sizeof(*t) + key_slots * sizeof(t->slots[0]));
	if (t == NULL)
		return SB_ERR_NOMEM;
	if (pthread_mutex_init(&t->lock, NULL) != 0) {
		free(t);
		return SB_ERR_NOMEM;
	}
	t->per_key_max = per_key_max;
	t->slot_count = key_slots;
	*out = t;
	return SB_OK;
}

void
sb_inflight_free(struct sb_inflight *inflight)
{
	if (inflight == NULL)
		return;
	pthread_mutex_destroy(&inflight->lock);
	free(inflight);
}

/* The slot holding key, or NULL; with free (if not NULL) a free slot. */
static struct inflight_slot *
inflight_find(
    struct sb_inflight *t, const char *key, struct inflight_slot **free_slot)
{
	struct inflight_slot *found = NULL;

	for (size_t i = 0; i < t->slot_count; i++) {
		struct inflight_slot *s = &t->slots[i];

		if (s->count == 0) {
			if (free_slot != NULL && *free_slot == NULL)
				*free_slot = s;
		} else if (strncmp(s->key, key, sizeof(s->key) - 1) == 0) {
			found = s;
		}
	}
	return found;
}

bool
sb_inflight_enter(struct sb_inflight *inflight, const char *key)
{
	struct inflight_slot *s, *free_slot = NULL;
	bool ok = false;

	pthread_mutex_lock(&inflight->lock);
	s = inflight_find(inflight, key, &free_slot);
	if (s == NULL && free_slot != NULL) {
		s = free_slot;
		snprintf(s->key, sizeof(s->key), "%s", key);
	}
	if (s != NULL && s->count < inflight->per_key_max) {
		s->count++;
		ok = true;
	}
	pthread_mutex_unlock(&inflight->lock);
	return ok;
}

void
sb_inflight_leave(struct sb_inflight *inflight, const char *key)
{
	struct inflight_slot *s;

	pthread_mutex_lock(&inflight->lock);
	if ((s = inflight_find(inflight, key, NULL)) != NULL)
		s->count--;
	pthread_mutex_unlock(&inflight->lock);
}

size_t
sb_inflight_max(const struct sb_inflight *inflight)
{
	return inflight->per_key_max;
}
