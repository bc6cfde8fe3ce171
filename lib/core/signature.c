/*
 * Signed webhooks (see include/sb/core/signature.h).  The header is parsed
 * strictly: one t, one v1, nothing else, so that no variant of it can be
 * read two ways.  The HMAC and the comparison are libsodium's.
 */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "sb/core/signature.h"

#define SIGNATURE_T_DIGITS_MAX 18 /* seconds; far beyond any real time */

void
sb_signature_hex(const char *secret, int64_t t, const char *body, size_t len,
    char out[SB_SIGNATURE_HEX])
{
	unsigned char mac[crypto_auth_hmacsha256_BYTES];
	crypto_auth_hmacsha256_state state;
	char prefix[32];
	int n = snprintf(prefix, sizeof(prefix), "%lld.", (long long)t);

	crypto_auth_hmacsha256_init(
	    &state, (const unsigned char *)secret, strlen(secret));
	crypto_auth_hmacsha256_update(
	    &state, (const unsigned char *)prefix, (size_t)n);
	crypto_auth_hmacsha256_update(&state, (const unsigned char *)body, len);
	crypto_auth_hmacsha256_final(&state, mac);
	sodium_bin2hex(out, SB_SIGNATURE_HEX, mac, sizeof(mac));
	sodium_memzero(&state, sizeof(state));
	sodium_memzero(mac, sizeof(mac));
}

void
sb_signature_header(const char *secret, int64_t t, const char *body, size_t len,
    char out[SB_SIGNATURE_HEADER_MAX])
{
	char hex[SB_SIGNATURE_HEX];

	sb_signature_hex(secret, t, body, len, hex);
	snprintf(
	    out, SB_SIGNATURE_HEADER_MAX, "t=%lld,v1=%s", (long long)t, hex);
}

/*
 * Reads "t=<digits>," at the start of header into *t; the rest in *rest.
 * A leading zero is refused: the signed text is t as printed, so one
 * number must have one spelling.
 */
static bool
signature_t(const char *header, int64_t *t, const char **rest)
{
	const char *p = header + 2;
	int64_t v = 0;
	int digits = 0;

	if (strncmp(header, "t=", 2) != 0 || *p == '0')
		return false;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (++digits > SIGNATURE_T_DIGITS_MAX)
			return false;
		v = v * 10 + (*p - '0');
	}
	if (digits == 0 || *p != ',')
		return false;
	*t = v;
	*rest = p + 1;
	return true;
}

bool
sb_signature_valid(const char *header, const char *secret, const char *body,
    size_t len, int64_t now, int64_t tolerance_s)
{
	char hex[SB_SIGNATURE_HEX];
	const char *v1;
	int64_t t;
	bool ok;

	if (header == NULL || secret == NULL || secret[0] == '\0' ||
	    !signature_t(header, &t, &v1) || strncmp(v1, "v1=", 3) != 0 ||
	    strlen(v1 + 3) != SB_SIGNATURE_HEX - 1)
		return false;
	if (t > now + tolerance_s || t < now - tolerance_s)
		return false;
	sb_signature_hex(secret, t, body != NULL ? body : "", len, hex);
	ok = sodium_memcmp(v1 + 3, hex, SB_SIGNATURE_HEX - 1) == 0;
	sodium_memzero(hex, sizeof(hex));
	return ok;
}
