/*
 * Header values (see include/sb/core/header.h).
 */
#include <string.h>
#include <strings.h>

#include "sb/core/header.h"

#define HEADER_BEARER "Bearer "

bool
sb_header_safe(const char *s)
{
	if (s == NULL)
		return false;
	/* CR and LF would split the header; other controls have no place. */
	for (; *s != '\0'; s++)
		if (((unsigned char)*s < 0x20 && *s != '\t') || *s == 0x7f)
			return false;
	return true;
}

const char *
sb_header_bearer(const char *authorization)
{
	const char *p = authorization;
	size_t n = strlen(HEADER_BEARER);

	if (p == NULL || strncasecmp(p, HEADER_BEARER, n) != 0)
		return NULL;
	p += n + strspn(p + n, " ");
	return *p != '\0' ? p : NULL;
}
