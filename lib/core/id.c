/*
 * Random prefixed ids (see include/sb/core/id.h), from libsodium's
 * random source.
 */
#include <string.h>

#include <sodium.h>

#include "sb/core/id.h"

enum sb_err
sb_id_new(const char *prefix, char *out, size_t size)
{
	unsigned char raw[SB_ID_RANDOM_BYTES];
	size_t n = strlen(prefix);

	if (size < n + SB_ID_HEX_LEN + 1)
		return SB_ERR_TOO_LARGE;
	randombytes_buf(raw, sizeof(raw));
	memcpy(out, prefix, n);
	sodium_bin2hex(out + n, size - n, raw, sizeof(raw));
	return SB_OK;
}

bool
sb_id_valid(const char *prefix, const char *s, size_t len)
{
	size_t n = strlen(prefix);

	if (len != n + SB_ID_HEX_LEN || strncmp(s, prefix, n) != 0)
		return false;
	for (size_t i = n; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		        (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}
