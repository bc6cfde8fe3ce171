/*
 * _like's regular expressions (see include/sb/fetch/like.h): a scan that
 * bounds what glibc's regcomp() will build before it is asked to.
 *
 * The scan follows glibc's reading of a POSIX extended expression far
 * enough to see its structure: bracket expressions (with [:class:],
 * [=equiv=], [.coll.] inside, and a leading ] taken literally) are one
 * piece; \x is one piece (\1-\9 back-references are refused, GNU's \b \B
 * \< \> \` \' are anchors like ^ and $); ( ) group; | alternates; * + ?
 * and {m,n} repeat the piece before them.  Where glibc would refuse the
 * pattern (an unclosed group, a bad interval, a repeat of nothing) the
 * scan counts the character as one piece and leaves the refusal to
 * regcomp(): it only has to be right about what regcomp() would accept.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "sb/fetch/like.h"

#define LIKE_NUMBER_CAP 100000 /* a bound's digits stop counting here */

/* One open group of the scan. */
struct like_group {
	int size; /* pieces inside so far, repeats copied out */
	bool anchored; /* holds an anchor */
	bool empty; /* a finished alternative can match the empty string */
	bool alt_empty; /* the current alternative can, so far */
	bool before_last; /* alt_empty before the last piece */
};

/* The scan's state; group[0] is the whole pattern. */
struct like_scan {
	struct like_group group[SB_FETCH_LIKE_BYTES_MAX + 1];
	int depth;
	int total; /* pieces of the pattern, repeats copied out */
	int anchors;
	int last; /* size of the piece a repeat would apply to; 0: none */
	bool last_anchored;
	bool last_empty; /* the last piece can match the empty string */
	char *err;
	size_t errsize;
};

/* Writes the refusal into s->err; false. */
static bool __attribute__((format(printf, 2, 3)))
like_refuse(struct like_scan *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->err, s->errsize, fmt, ap);
	va_end(ap);
	return false;
}

/* Adds n pieces to the open group; false past SB_FETCH_LIKE_SIZE_MAX. */
static bool
like_grow(struct like_scan *s, int n)
{
	s->group[s->depth].size += n;
	s->total += n;
	if (s->total <= SB_FETCH_LIKE_SIZE_MAX)
		return true;
	return like_refuse(s,
	    "a _like pattern has at most %d pieces once its repeats are "
	    "copied out (x{m,n} counts x n times, x+ twice; nested repeats "
	    "multiply)",
	    SB_FETCH_LIKE_SIZE_MAX);
}

/* Appends a piece (empty: it can match the empty string) to the
 * current alternative. */
static void
like_append(struct like_scan *s, bool empty)
{
	struct like_group *g = &s->group[s->depth];

	g->before_last = g->alt_empty;
	g->alt_empty = g->alt_empty && empty;
	s->last_empty = empty;
}

/* One piece (a character, a bracket expression, an escape, an anchor). */
static bool
like_piece(struct like_scan *s, bool anchor)
{
	like_append(s, anchor); /* an anchor matches no character */
	s->last = 1;
	s->last_anchored = anchor;
	if (anchor) {
		s->group[s->depth].anchored = true;
		if (++s->anchors > SB_FETCH_LIKE_ANCHORS_MAX)
			return like_refuse(s,
			    "a _like pattern has at most %d anchors "
			    "(^ $ \\b \\B \\< \\> \\` \\')",
			    SB_FETCH_LIKE_ANCHORS_MAX);
	}
	return like_grow(s, 1);
}

/*
 * A repeat making copies copies of the last piece; optional: it may
 * repeat it no time, unbounded: as many times as there are characters.
 * An unbounded repeat of what can match the empty string ((a*)*, (a|)+)
 * loops on nothing, which glibc compiles in time exponential in their
 * number once the pattern has an anchor: refused, as a repeated anchor.
 */
static bool
like_repeat(struct like_scan *s, int copies, bool optional, bool unbounded)
{
	struct like_group *g = &s->group[s->depth];
	int size = s->last;

	if (size == 0) /* nothing to repeat: regcomp() refuses it */
		return like_piece(s, false);
	if (s->last_anchored)
		return like_refuse(s,
		    "a _like pattern may not repeat an anchor (^ $ \\b ...)");
	if (unbounded && s->last_empty)
		return like_refuse(s,
		    "a _like pattern may not repeat without bound what can "
		    "match nothing, as (a*)* or (a|)+ do (write a* instead)");
	if (optional) {
		s->last_empty = true;
		g->alt_empty = g->before_last;
	}
	s->last = size * copies + 1; /* what a repeat after this repeats */
	return like_grow(s, size * (copies - 1) + 1);
}

/* The digits at *p (past them after), capped; *any: there were some. */
static int
like_number(const char **p, bool *any)
{
	int v = 0;

	for (; isdigit((unsigned char)**p); (*p)++) {
		*any = true;
		if (v < LIKE_NUMBER_CAP)
			v = v * 10 + (**p - '0');
	}
	return v;
}

/*
 * The interval at p ("{m}", "{m,}", "{m,n}", "{,n}") as its bounds (*max
 * -1 for none); the character after it, or NULL when p opens none.
 */
static const char *
like_interval(const char *p, int *min, int *max)
{
	bool lo = false, hi = false, comma = false;

	p++;
	*min = like_number(&p, &lo);
	*max = *min;
	if (*p == ',') {
		comma = true;
		p++;
		*max = like_number(&p, &hi);
		if (!hi)
			*max = -1;
	}
	return *p == '}' && (lo || comma) ? p + 1 : NULL;
}

/* A repeat by the interval at *p (past it after), or a literal '{'. */
static bool
like_bounded(struct like_scan *s, const char **p)
{
	int min, max, copies;
	const char *end = like_interval(*p, &min, &max);

	if (end == NULL) {
		(*p)++;
		return like_piece(s, false);
	}
	*p = end;
	if (min > SB_FETCH_LIKE_BOUND_MAX || max > SB_FETCH_LIKE_BOUND_MAX)
		return like_refuse(s,
		    "a _like pattern's bounds {m,n} are at most %d",
		    SB_FETCH_LIKE_BOUND_MAX);
	copies = max < 0 ? min + 1 : (max > min ? max : min);
	return like_repeat(s, copies > 0 ? copies : 1, min == 0, max < 0);
}

/* The character after the bracket expression opening at p ('['). */
static const char *
like_bracket(const char *p)
{
	const char *close;
	char end[3] = { 0, ']', '\0' };

	p++;
	if (*p == '^')
		p++;
	if (*p == ']')
		p++;
	while (*p != '\0' && *p != ']') {
		if (p[0] == '[' && p[1] != '\0' &&
		    strchr(":=.", p[1]) != NULL) {
			end[0] = p[1];
			if ((close = strstr(p + 2, end)) == NULL)
				return p + strlen(p);
			p = close + 2;
		} else {
			p++;
		}
	}
	return *p == ']' ? p + 1 : p;
}

/* The escape at *p ('\\'; past it after). */
static bool
like_escape(struct like_scan *s, const char **p)
{
	char c = (*p)[1];

	if (c == '\0') {
		(*p)++;
		return like_piece(s, false);
	}
	*p += 2;
	if (isdigit((unsigned char)c))
		return like_refuse(
		    s, "a _like pattern may not hold back-references");
	return like_piece(s, strchr("bB<>`'", c) != NULL);
}

/* A group closing (')'); a literal when none is open. */
static bool
like_close(struct like_scan *s)
{
	struct like_group *g;

	if (s->depth == 0)
		return like_piece(s, false);
	g = &s->group[s->depth--];
	s->group[s->depth].size += g->size;
	s->group[s->depth].anchored |= g->anchored;
	like_append(s, g->empty || g->alt_empty);
	s->last = g->size + 1;
	s->last_anchored = g->anchored;
	return like_grow(s, 1);
}

/* The token at *p, past it after. */
static bool
like_step(struct like_scan *s, const char **p)
{
	switch (**p) {
	case '\\':
		return like_escape(s, p);
	case '[':
		*p = like_bracket(*p);
		return like_piece(s, false);
	case '{':
		return like_bounded(s, p);
	case '(':
		(*p)++;
		s->group[++s->depth] = (struct like_group){ .alt_empty = true };
		s->last = 0;
		return true;
	case '|':
		(*p)++;
		s->group[s->depth].empty |= s->group[s->depth].alt_empty;
		s->group[s->depth].alt_empty = true;
		s->last = 0;
		return like_grow(s, 1);
	}
	switch (*(*p)++) {
	case ')':
		return like_close(s);
	case '*':
		return like_repeat(s, 1, true, true);
	case '?':
		return like_repeat(s, 1, true, false);
	case '+':
		return like_repeat(s, 2, false, true);
	case '^':
	case '$':
		return like_piece(s, true);
	default:
		return like_piece(s, false);
	}
}

bool
sb_fetch_like_check(const char *pattern, char *err, size_t errsize)
{
	struct like_scan s = {
		.group[0].alt_empty = true, .err = err, .errsize = errsize
	};
	const char *p = pattern;

	if (strlen(pattern) > SB_FETCH_LIKE_BYTES_MAX)
		return like_refuse(&s, "a _like pattern has at most %d bytes",
		    SB_FETCH_LIKE_BYTES_MAX);
	while (*p != '\0')
		if (!like_step(&s, &p))
			return false;
	return true;
}

enum sb_err
sb_fetch_like_compile(
    const char *pattern, regex_t *re, char *err, size_t errsize)
{
	if (!sb_fetch_like_check(pattern, err, errsize))
		return SB_ERR_INVALID;
	if (regcomp(re, pattern, REG_EXTENDED | REG_ICASE | REG_NOSUB) != 0) {
		snprintf(err, errsize,
		    "the _like pattern is not a regular expression");
		return SB_ERR_INVALID;
	}
	return SB_OK;
}
