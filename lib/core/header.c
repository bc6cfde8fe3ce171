/*
 * Header values (see include/sb/core/header.h).
 */
#include <string.h>
#include <strings.h>

#include "sb/core/header.h"

#define HEADER_BEARER "Bearer "
#define HEADER_JSON "application/json"
#define HEADER_JSON_SUFFIX "+json"

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

bool
sb_header_media_json(const char *content_type, bool suffix_too)
{
	size_t n, suffix = strlen(HEADER_JSON_SUFFIX);

	if (content_type == NULL)
		return false;
	n = strcspn(content_type, ";");
	while (n > 0 && content_type[n - 1] == ' ')
		n--;
	if (n == strlen(HEADER_JSON) &&
	    strncasecmp(content_type, HEADER_JSON, n) == 0)
		return true;
	return suffix_too && n > suffix &&
	    strncasecmp(
	        content_type + n - suffix, HEADER_JSON_SUFFIX, suffix) == 0;
}
