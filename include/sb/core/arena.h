/*
 * Per-request memory (STYLE.md rule 5).  An arena hands out memory from a
 * chain of chunks and frees it all at once with sb_arena_reset().  Its total
 * size is capped by construction so that no request can grow it without
 * bound: an allocation past the cap fails with NULL.
 */
#ifndef SB_ARENA_H
#define SB_ARENA_H

#include <stdarg.h>
#include <stddef.h>

#define SB_ARENA_CHUNK (16 * 1024)

struct sb_arena_chunk;

struct sb_arena {
	struct sb_arena_chunk *head; /* newest chunk first */
	size_t used; /* bytes handed out since reset */
	size_t cap; /* hard limit on used */
};

/* Prepares caller storage a for use with a limit of cap bytes. */
void sb_arena_init(struct sb_arena *a, size_t cap);

/* Frees every chunk but the first and forgets all allocations. */
void sb_arena_reset(struct sb_arena *a);

/* Frees all memory of a; a may be reused after sb_arena_init(). */
void sb_arena_clear(struct sb_arena *a);

/*
 * Returns n bytes aligned for any type, zeroed, valid until the next reset,
 * or NULL if the cap would be exceeded or malloc failed.
 */
void *sb_arena_alloc(struct sb_arena *a, size_t n);

/* Copies the first n bytes of s and a NUL into the arena; NULL on failure. */
char *sb_arena_strndup(struct sb_arena *a, const char *s, size_t n);

/* Copies the string s into the arena; NULL on failure or if s is NULL. */
char *sb_arena_strdup(struct sb_arena *a, const char *s);

/* snprintf into the arena; NULL on failure. */
char *sb_arena_printf(struct sb_arena *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
