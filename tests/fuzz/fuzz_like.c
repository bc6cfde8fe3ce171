/*
 * libFuzzer target: GET /data's _like patterns (lib/fetch/like.c).  What
 * sb_fetch_like_check() accepts must cost glibc little: compiling it and
 * matching it against a kilobyte of text takes under a second (the run's
 * -timeout and -rss_limit_mb catch far worse), whatever the bytes.
 */
#include <regex.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sb/core/deadline.h"
#include "sb/fetch/like.h"

#define FUZZ_LIKE_TEXT 1024
#define FUZZ_LIKE_MS_MAX 1000

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char words[] = "ab a.b Sunt qui [x]{1}\n";
	char pattern[SB_FETCH_LIKE_BYTES_MAX + 2], text[FUZZ_LIKE_TEXT + 1];
	char err[256];
	int64_t started;
	regex_t re;

	if (size > SB_FETCH_LIKE_BYTES_MAX + 1 || memchr(data, 0, size))
		return 0;
	memcpy(pattern, data, size);
	pattern[size] = '\0';
	for (size_t i = 0; i < FUZZ_LIKE_TEXT; i++)
		text[i] = words[i % (sizeof(words) - 1)];
	text[FUZZ_LIKE_TEXT] = '\0';
	started = sb_deadline_now();
	if (sb_fetch_like_compile(pattern, &re, err, sizeof(err)) != SB_OK)
		return 0;
	regexec(&re, text, 0, NULL, 0);
	regfree(&re);
	if (sb_deadline_now() - started > FUZZ_LIKE_MS_MAX)
		__builtin_trap();
	return 0;
}
