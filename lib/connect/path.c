/*
 * Validation of the path a caller asks the gateway to call on a provider:
 * the guard against server-side request forgery and header injection.
 *
 * The path is checked as given, then percent-decoded one level at a time
 * and checked again at every level, until no '%' is left.  A provider (or
 * a proxy in front of it) may decode once, twice or more, so "%252e%252e"
 * is as much a ".." as "..".  Every level must pass the same rules:
 *
 *   - no control byte (0x00-0x1f, 0x7f), space, '\', '#' or '?';
 *   - no raw '@': a lax URL parser that looks for user information past
 *     the first '/' could read a host out of the path.  Percent-encoded
 *     ("%40", an Okta login in /api/v1/users/{login}) it is data to every
 *     parser, and once decoded it is a plain path character (RFC 3986
 *     pchar) after the raw leading '/', delimiting nothing, unlike '?',
 *     '#' or '/': decoded levels allow it;
 *   - every '%' is followed by two hex digits; a '%' that decodes to a
 *     literal '%' is checked as an escape at the next level, so a path
 *     whose fully decoded form would still hold a '%' is refused;
 *   - no empty segment ("//") and no "." or ".." segment ("..." and ".a"
 *     are ordinary names); ";" is allowed, but "..;x" counts as "..",
 *     since servlet containers strip path parameters before resolving
 *     dot segments (the "/..;/" bypass);
 *   - at most PATH_DECODE_DEPTH_MAX levels of decoding.
 *
 * The raw path must also start with '/' (so no "<scheme>:" prefix) and
 * hold only ASCII: an HTTP request-target is ASCII (RFC 9112), so other
 * bytes must come percent-encoded; decoded levels may hold any byte of
 * 0x80 and above ("/caf%C3%A9" is fine).
 *
 * Error messages give the byte offset in the raw path (for a decoded byte,
 * the offset of the escape it came from) and a fixed reason; they never
 * echo the input.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "sb/connect/path.h"
#include "sb/core/request.h"

/* Decoding levels tried before a path still holding '%' is refused. */
#define PATH_DECODE_DEPTH_MAX 4

_Static_assert(SB_PATH_MAX <= UINT16_MAX + 1, "origins are 16-bit");

enum path_reason {
	REASON_NONE,
	REASON_EMPTY,
	REASON_TOO_LONG,
	REASON_NOT_ABSOLUTE,
	REASON_SCHEME,
	REASON_CONTROL,
	REASON_SPACE,
	REASON_BACKSLASH,
	REASON_AT,
	REASON_HASH,
	REASON_QUERY,
	REASON_NON_ASCII,
	REASON_ESCAPE,
	REASON_DOUBLE_SLASH,
	REASON_DOT_SEGMENT,
	REASON_TOO_DEEP,
	REASON__MAX
};

static const char *const reason_text[REASON__MAX] = {
	[REASON_NONE] = "ok",
	[REASON_EMPTY] = "empty path",
	[REASON_TOO_LONG] = "path too long",
	[REASON_NOT_ABSOLUTE] = "path must start with '/'",
	[REASON_SCHEME] = "scheme prefix not allowed",
	[REASON_CONTROL] = "control byte",
	[REASON_SPACE] = "space",
	[REASON_BACKSLASH] = "backslash",
	[REASON_AT] = "'@' not allowed",
	[REASON_HASH] = "'#' not allowed",
	[REASON_QUERY] = "'?' not allowed",
	[REASON_NON_ASCII] = "non-ASCII byte must be percent-encoded",
	[REASON_ESCAPE] = "malformed %-escape",
	[REASON_DOUBLE_SLASH] = "empty segment ('//')",
	[REASON_DOT_SEGMENT] = "'.' or '..' segment",
	[REASON_TOO_DEEP] = "percent-encoded too deeply",
};

/* Printable ASCII bytes refused at every level; zero means allowed. */
static const unsigned char ascii_refused[128] = {
	[' '] = REASON_SPACE,
	['\\'] = REASON_BACKSLASH,
	['#'] = REASON_HASH,
	['?'] = REASON_QUERY,
	[0x7f] = REASON_CONTROL,
};

/* One level of the path; origin[i] is the raw offset text[i] came from. */
struct path_level {
	unsigned char text[SB_PATH_MAX];
	uint16_t origin[SB_PATH_MAX];
	size_t len;
};

struct path_failure {
	enum path_reason reason;
	size_t offset; /* into the level's text */
};

/* The reason byte c is refused at the given depth, or REASON_NONE. */
static enum path_reason
byte_reason(unsigned char c, int depth)
{
	if (c < 0x20)
		return REASON_CONTROL;
	if (c >= 0x80)
		return depth == 0 ? REASON_NON_ASCII : REASON_NONE;
	if (c == '@')
		return depth == 0 ? REASON_AT : REASON_NONE;
	return (enum path_reason)ascii_refused[c];
}

/*
 * Checks the bytes and escapes of one level.  Returns true iff they pass;
 * *has_escape tells whether another level of decoding is needed.
 */
static bool
level_bytes_ok(const struct path_level *l, int depth, bool *has_escape,
    struct path_failure *fail)
{
	size_t i;

	*has_escape = false;
	for (i = 0; i < l->len; i++) {
		fail->offset = i;
		if ((fail->reason = byte_reason(l->text[i], depth)) !=
		    REASON_NONE)
			return false;
		if (l->text[i] != '%')
			continue;
		*has_escape = true;
		fail->reason = REASON_ESCAPE;
		if (l->len - i < 3 ||
		    sb_request_hex_digit(l->text[i + 1]) < 0 ||
		    sb_request_hex_digit(l->text[i + 2]) < 0)
			return false;
	}
	fail->reason = REASON_NONE;
	return true;
}

/* True iff bytes [start, end) are "." or "..", ignoring any ";params". */
static bool
is_dot_segment(const struct path_level *l, size_t start, size_t end)
{
	size_t i, dots = 0;

	for (i = start; i < end && l->text[i] != ';'; i++)
		if (l->text[i] != '.' || ++dots > 2)
			return false;
	return dots > 0;
}

/* Checks the segments of one level, which starts with '/'. */
static bool
level_segments_ok(const struct path_level *l, struct path_failure *fail)
{
	size_t start, end;

	for (start = 1; start <= l->len; start = end + 1) {
		end = start;
		while (end < l->len && l->text[end] != '/')
			end++;
		fail->offset = start;
		if (end == start && end < l->len) {
			fail->reason = REASON_DOUBLE_SLASH;
			return false;
		}
		if (is_dot_segment(l, start, end)) {
			fail->reason = REASON_DOT_SEGMENT;
			return false;
		}
	}
	return true;
}

/* Decodes one level of from into to; from's escapes are all well formed. */
static void
level_decode(const struct path_level *from, struct path_level *to)
{
	size_t i, j = 0;

	for (i = 0; i < from->len; i++, j++) {
		to->origin[j] = from->origin[i];
		if (from->text[i] == '%') {
			to->text[j] = (unsigned char)(sb_request_hex_digit(
			                                  from->text[i + 1])
			        << 4 |
			    sb_request_hex_digit(from->text[i + 2]));
			i += 2;
		} else {
			to->text[j] = from->text[i];
		}
	}
	to->len = j;
}

/* The reason a path that does not start with '/' is refused. */
static enum path_reason
start_reason(const char *path, size_t len)
{
	size_t i = 0;

	while (i < len &&
	    ((path[i] >= 'a' && path[i] <= 'z') ||
	        (path[i] >= 'A' && path[i] <= 'Z')))
		i++;
	if (i > 0 && i < len && path[i] == ':')
		return REASON_SCHEME;
	return REASON_NOT_ABSOLUTE;
}

/*
 * Writes "offset N: reason" (with a note when the byte was found only
 * after decoding) into err, which may be NULL.
 */
static void
report(char *err, size_t errsize, size_t offset, enum path_reason reason,
    int depth)
{
	if (err == NULL || errsize == 0)
		return;
	if (reason == REASON_NONE) {
		err[0] = '\0';
		return;
	}
	(void)snprintf(err, errsize, "offset %zu: %s%s", offset,
	    reason_text[reason],
	    depth > 0 && reason != REASON_TOO_DEEP ? " (percent-encoded)" : "");
}

/*
 * Checks the raw level levels[0] (already filled, starting with '/') and
 * each decoded level after it.  Returns true iff all pass; otherwise *fail
 * holds the reason and the raw offset, and *depth the failing level.
 */
static bool
path_levels_ok(
    struct path_level levels[2], int *depth, struct path_failure *fail)
{
	struct path_level *l;
	bool has_escape;

	for (*depth = 0;; (*depth)++) {
		l = &levels[*depth % 2];
		if (!level_bytes_ok(l, *depth, &has_escape, fail) ||
		    !level_segments_ok(l, fail))
			break;
		if (!has_escape)
			return true;
		if (*depth == PATH_DECODE_DEPTH_MAX) {
			fail->reason = REASON_TOO_DEEP;
			fail->offset = 0;
			while (l->text[fail->offset] != '%')
				fail->offset++;
			break;
		}
		level_decode(l, &levels[(*depth + 1) % 2]);
	}
	fail->offset = l->origin[fail->offset < l->len ? fail->offset : 0];
	return false;
}

/*
 * Checks the len bytes of path (see include/sb/connect/path.h).  Returns SB_OK
 * iff the path may be sent, and then empties err; otherwise SB_ERR_INVALID (or
 * SB_ERR_TOO_LARGE past SB_PATH_MAX) with "offset N: reason" in err.  err
 * may be NULL; nothing is allocated.
 */
enum sb_err
sb_path_validate(const char *path, size_t len, char *err, size_t errsize)
{
	struct path_level levels[2];
	struct path_failure fail = { REASON_NONE, 0 };
	enum sb_err rc = SB_ERR_INVALID;
	int depth = 0;
	size_t i;

	if (path == NULL || len == 0) {
		fail.reason = REASON_EMPTY;
		goto out;
	}
	if (len > SB_PATH_MAX) {
		rc = SB_ERR_TOO_LARGE;
		fail.reason = REASON_TOO_LONG;
		fail.offset = SB_PATH_MAX;
		goto out;
	}
	if (path[0] != '/') {
		fail.reason = start_reason(path, len);
		goto out;
	}
	for (i = 0; i < len; i++) {
		levels[0].text[i] = (unsigned char)path[i];
		levels[0].origin[i] = (uint16_t)i;
	}
	levels[0].len = len;
	if (path_levels_ok(levels, &depth, &fail)) {
		rc = SB_OK;
		fail.reason = REASON_NONE;
	}
out:
	report(err, errsize, fail.offset, fail.reason, depth);
	return rc;
}
