/*
 * libFuzzer target: provider paths from callers, through
 * sb_path_validate().  Every accepted path is decoded again here, level by
 * level, by a separate naive decoder, and each level must be free of what
 * the guard refuses: dot segments, "//", '\', '#', '?', control bytes,
 * spaces and malformed escapes; and in the raw path only, '@' (decoded,
 * "%40" is allowed).
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "sb/connect/path.h"

/* Levels of decoding the guard allows (lib/connect/path.c). */
#define FUZZ_DECODE_DEPTH_MAX 4

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
hex(uint8_t c)
{
	const char *digits = "0123456789abcdef";
	const char *p;

	if (c >= 'A' && c <= 'F')
		c = (uint8_t)(c - 'A' + 'a');
	p = c != '\0' ? strchr(digits, c) : NULL;
	return p != NULL ? (int)(p - digits) : -1;
}

/* True iff buf (len bytes, starting with '/') has a refused byte or
 * segment at that depth of decoding; bytes of 0x80 and above are allowed
 * here. */
static bool
level_bad(const uint8_t *buf, size_t len, int depth)
{
	static const char refused[] = " \\#?";

	if (len == 0 || buf[0] != '/')
		return true;
	for (size_t i = 0; i < len; i++) {
		if (buf[i] < 0x20 || buf[i] == 0x7f ||
		    (buf[i] == '@' && depth == 0) ||
		    memchr(refused, buf[i], sizeof(refused) - 1) != NULL)
			return true;
		if (buf[i] == '/' && i + 1 < len && buf[i + 1] == '/')
			return true;
		if (buf[i] == '/' && i + 1 < len && buf[i + 1] == '.' &&
		    (i + 2 == len || buf[i + 2] == '/' ||
		        (buf[i + 2] == '.' &&
		            (i + 3 == len || buf[i + 3] == '/'))))
			return true;
	}
	return false;
}

/* Decodes buf in place; false on a malformed escape. */
static bool
decode(uint8_t *buf, size_t *len)
{
	size_t i, j = 0;

	for (i = 0; i < *len; i++, j++) {
		if (buf[i] != '%') {
			buf[j] = buf[i];
			continue;
		}
		if (*len - i < 3 || hex(buf[i + 1]) < 0 || hex(buf[i + 2]) < 0)
			return false;
		buf[j] = (uint8_t)(hex(buf[i + 1]) << 4 | hex(buf[i + 2]));
		i += 2;
	}
	*len = j;
	return true;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t buf[SB_PATH_MAX];
	char err[SB_PATH_ERROR_MAX];
	enum sb_err rc;
	size_t len = size;
	int depth;

	memset(err, 'x', sizeof(err));
	rc = sb_path_validate((const char *)data, size, err, sizeof(err));
	if (memchr(err, '\0', sizeof(err)) == NULL)
		__builtin_trap();
	if ((rc == SB_ERR_TOO_LARGE) != (size > SB_PATH_MAX))
		__builtin_trap();
	if (rc != SB_OK) {
		if (rc != SB_ERR_INVALID && rc != SB_ERR_TOO_LARGE)
			__builtin_trap();
		if (strncmp(err, "offset ", 7) != 0)
			__builtin_trap();
		return 0;
	}
	if (err[0] != '\0')
		__builtin_trap();
	for (size_t i = 0; i < size; i++)
		if (data[i] >= 0x80)
			__builtin_trap();
	memcpy(buf, data, size);
	for (depth = 0; memchr(buf, '%', len) != NULL; depth++) {
		if (level_bad(buf, len, depth) ||
		    depth == FUZZ_DECODE_DEPTH_MAX || !decode(buf, &len))
			__builtin_trap();
	}
	if (level_bad(buf, len, depth))
		__builtin_trap();
	return 0;
}
