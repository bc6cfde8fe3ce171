/*
 * A chunked bump allocator for per-request memory.  Chunks are at least
 * SB_ARENA_CHUNK bytes; a larger request gets a chunk of its own.  The cap
 * counts bytes handed out, so a request can never make the arena hold more
 * than cap plus one chunk of slack.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sb/core/arena.h"

#define ARENA_ALIGN 16

struct sb_arena_chunk {
	struct sb_arena_chunk *next;
	size_t size; /* usable bytes in data */
	size_t used;
	_Alignas(ARENA_ALIGN) unsigned char data[];
};

void
sb_arena_init(struct sb_arena *a, size_t cap)
{
	a->head = NULL;
	a->used = 0;
	a->cap = cap;
}

void
sb_arena_reset(struct sb_arena *a)
{
	struct sb_arena_chunk *c, *next;

	if (a->head == NULL)
		return;
	/* Keep the oldest chunk (the tail): most requests fit in it. */
	for (c = a->head; c->next != NULL; c = next) {
		next = c->next;
		free(c);
	}
	c->used = 0;
	a->head = c;
	a->used = 0;
}

void
sb_arena_clear(struct sb_arena *a)
{
	struct sb_arena_chunk *c, *next;

	for (c = a->head; c != NULL; c = next) {
		next = c->next;
		free(c);
	}
	a->head = NULL;
	a->used = 0;
}

void *
sb_arena_alloc(struct sb_arena *a, size_t n)
{
	struct sb_arena_chunk *c = a->head;
	size_t need, size;
	void *p;

	if (n == 0)
		n = 1;
	if (n > SIZE_MAX - ARENA_ALIGN)
		return NULL;
	need = (n + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
	if (need > a->cap - a->used || a->used > a->cap)
		return NULL;
	if (c == NULL || c->size - c->used < need) {
		size = need > SB_ARENA_CHUNK ? need : SB_ARENA_CHUNK;
		c = malloc(sizeof(*c) + size);
		if (c == NULL)
			return NULL;
		c->size = size;
		c->used = 0;
		c->next = a->head;
		a->head = c;
	}
	p = c->data + c->used;
	c->used += need;
	a->used += need;
	memset(p, 0, n);
	return p;
}

char *
sb_arena_strndup(struct sb_arena *a, const char *s, size_t n)
{
	char *p;

	if (s == NULL || n == SIZE_MAX)
		return NULL;
	if ((p = sb_arena_alloc(a, n + 1)) == NULL)
		return NULL;
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *
sb_arena_strdup(struct sb_arena *a, const char *s)
{
	return s == NULL ? NULL : sb_arena_strndup(a, s, strlen(s));
}

char *
sb_arena_printf(struct sb_arena *a, const char *fmt, ...)
{
	va_list ap;
	char *p;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || (p = sb_arena_alloc(a, (size_t)n + 1)) == NULL)
		return NULL;
	va_start(ap, fmt);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return p;
}
