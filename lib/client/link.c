/*
 * RFC 8288 Link header parsing (see sb/client/link.h): a scanner over the
 * value, one function per production of section 3's grammar.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "sb/client/link.h"

/* One link's outcome while scanning. */
struct link_scan {
	const char *p; /* the next byte */
	const char *rel; /* the relation type looked for */
	bool rel_seen; /* this link's first rel was read */
	bool matches; /* and it holds the relation type */
};

static void
link_skip_ows(struct link_scan *s)
{
	while (*s->p == ' ' || *s->p == '\t')
		s->p++;
}

/* True iff c is an RFC 9110 tchar. */
static bool
link_tchar(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') ||
	    (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* Scans a token into buf; SB_ERR_INVALID if there is none. */
static enum sb_err
link_token(struct link_scan *s, char *buf, size_t bufsize)
{
	size_t n = 0;

	while (link_tchar(*s->p)) {
		if (n + 1 >= bufsize)
			return SB_ERR_TOO_LARGE;
		buf[n++] = *s->p++;
	}
	buf[n] = '\0';
	return n > 0 ? SB_OK : SB_ERR_INVALID;
}

/* Scans a quoted-string, escapes undone, into buf. */
static enum sb_err
link_quoted(struct link_scan *s, char *buf, size_t bufsize)
{
	size_t n = 0;
	char c;

	s->p++; /* the opening quote */
	while ((c = *s->p++) != '"') {
		if (c == '\\')
			c = *s->p++;
		if (c == '\0' || (c > 0 && c < ' ' && c != '\t') || c == 0x7f)
			return SB_ERR_INVALID;
		if (n + 1 >= bufsize)
			return SB_ERR_TOO_LARGE;
		buf[n++] = c;
	}
	buf[n] = '\0';
	return SB_OK;
}

/* True iff the space-separated list types holds rel (any case). */
static bool
link_rel_has(const char *types, const char *rel)
{
	size_t n = strlen(rel), len;

	while (*types != '\0') {
		while (*types == ' ')
			types++;
		len = strcspn(types, " ");
		if (len == n && strncasecmp(types, rel, n) == 0)
			return true;
		types += len;
	}
	return false;
}

/* Scans one `; name [= value]` parameter (the ';' already taken). */
static enum sb_err
link_param(struct link_scan *s)
{
	char name[SB_LINK_PARAM_MAX], value[SB_LINK_PARAM_MAX];
	enum sb_err rc;

	value[0] = '\0';
	link_skip_ows(s);
	if ((rc = link_token(s, name, sizeof(name))) != SB_OK)
		return rc;
	link_skip_ows(s);
	if (*s->p == '=') {
		s->p++;
		link_skip_ows(s);
		rc = *s->p == '"' ? link_quoted(s, value, sizeof(value))
		                  : link_token(s, value, sizeof(value));
		if (rc != SB_OK)
			return rc;
	}
	if (strcasecmp(name, "rel") == 0 && !s->rel_seen) {
		s->rel_seen = true;
		s->matches = link_rel_has(value, s->rel);
	}
	return SB_OK;
}

/* Scans `<target>`; *target and *len point into the value. */
static enum sb_err
link_target(struct link_scan *s, const char **target, size_t *len)
{
	if (*s->p != '<')
		return SB_ERR_INVALID;
	*target = ++s->p;
	while (*s->p != '>') {
		if ((unsigned char)*s->p <= ' ' || *s->p == 0x7f ||
		    *s->p == '<')
			return SB_ERR_INVALID;
		s->p++;
	}
	*len = (size_t)(s->p - *target);
	s->p++;
	return SB_OK;
}

/* Copies the target of the link found into out. */
static enum sb_err
link_copy(const char *target, size_t len, char *out, size_t outsize)
{
	if (len >= outsize)
		return SB_ERR_TOO_LARGE;
	memcpy(out, target, len);
	out[len] = '\0';
	return SB_OK;
}

/* Scans one link-value and what ends it (',' or the end). */
static enum sb_err
link_value(struct link_scan *s, const char **target, size_t *len)
{
	enum sb_err rc;

	s->rel_seen = false;
	s->matches = false;
	if ((rc = link_target(s, target, len)) != SB_OK)
		return rc;
	for (;;) {
		link_skip_ows(s);
		if (*s->p != ';')
			break;
		s->p++;
		if ((rc = link_param(s)) != SB_OK)
			return rc;
	}
	return *s->p == ',' || *s->p == '\0' ? SB_OK : SB_ERR_INVALID;
}

enum sb_err
sb_link_find(const char *value, const char *rel, char *out, size_t outsize)
{
	struct link_scan s = { .p = value, .rel = rel };
	enum sb_err rc = SB_ERR_NOT_FOUND, step;
	const char *target;
	size_t len;

	if (outsize > 0)
		out[0] = '\0';
	if (value == NULL || rel == NULL || outsize == 0)
		return value == NULL ? SB_ERR_NOT_FOUND : SB_ERR_INVALID;
	if (strlen(value) > SB_LINK_VALUE_MAX)
		return SB_ERR_TOO_LARGE;
	for (;;) {
		while (*s.p == ' ' || *s.p == '\t' || *s.p == ',')
			s.p++;
		if (*s.p == '\0')
			break;
		if ((step = link_value(&s, &target, &len)) != SB_OK) {
			rc = step;
			goto out;
		}
		if (s.matches && rc == SB_ERR_NOT_FOUND &&
		    (rc = link_copy(target, len, out, outsize)) ==
		        SB_ERR_TOO_LARGE)
			goto out;
	}
	return rc;
out:
	out[0] = '\0';
	return rc;
}
