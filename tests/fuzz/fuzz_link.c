/*
 * libFuzzer target: Link header values as providers send them, through
 * sb_link_find().  A target found must be a substring of the input that
 * fits the buffer, and a failure must leave the buffer empty.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sb/client/link.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char out[256];
	char *text;
	enum sb_err rc;

	if ((text = malloc(size + 1)) == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	rc = sb_link_find(text, "next", out, sizeof(out));
	if (rc == SB_OK &&
	    (strlen(out) >= sizeof(out) || strstr(text, out) == NULL))
		__builtin_trap();
	if (rc != SB_OK && out[0] != '\0')
		__builtin_trap();
	free(text);
	return 0;
}
