/*
 * libFuzzer target: query strings and percent-decoding, as nginx hands them
 * to every responder (QUERY_STRING), through sb_request_parse_query().
 */
#include <stdint.h>
#include <string.h>

#include "sb/core/request.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sb_arena arena;
	struct sb_kv *kv;
	size_t count;
	char *text;

	sb_arena_init(&arena, 1 << 20);
	if ((text = sb_arena_strndup(&arena, (const char *)data, size)) == NULL)
		goto out;
	if (sb_request_parse_query(&arena, text, &kv, &count) == SB_OK) {
		/* Every pair decoded to text without a NUL inside. */
		for (size_t i = 0; i < count; i++)
			if (kv[i].key == NULL || kv[i].value == NULL)
				__builtin_trap();
	}
out:
	sb_arena_clear(&arena);
	return 0;
}
