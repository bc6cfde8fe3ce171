/*
 * Unit tests for lib/connect/path.c: a table of paths accepted and refused (raw
 * and percent-encoded at several depths), each refusal with its byte
 * offset and the "offset N: " message; the length cap on both sides of
 * SB_PATH_MAX; the decoding depth cap; and the error buffer (NULL, tiny,
 * emptied on success, never echoing the input).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sb/connect/path.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

struct path_case {
	const char *path;
	size_t len; /* 0: strlen(path) */
	enum sb_err rc;
	size_t offset; /* checked when rc != SB_OK */
};

static const struct path_case cases[] = {
	/* Accepted. */
	{ "/", 0, SB_OK, 0 },
	{ "/users/me", 0, SB_OK, 0 },
	{ "/v1/items", 0, SB_OK, 0 },
	{ "/files/a.b.c", 0, SB_OK, 0 },
	{ "/a/...", 0, SB_OK, 0 },
	{ "/a/....", 0, SB_OK, 0 },
	{ "/a/.b", 0, SB_OK, 0 },
	{ "/a/b..c", 0, SB_OK, 0 },
	{ "/a/b.", 0, SB_OK, 0 },
	{ "/.well-known/openid-configuration", 0, SB_OK, 0 },
	{ "/a/", 0, SB_OK, 0 },
	{ "/caf%C3%A9", 0, SB_OK, 0 },
	{ "/caf%c3%a9/x", 0, SB_OK, 0 },
	{ "/a%2Fb", 0, SB_OK, 0 },
	{ "/a%252Fb", 0, SB_OK, 0 },
	{ "/%7Euser", 0, SB_OK, 0 },
	{ "/v1/items;v=1", 0, SB_OK, 0 },
	{ "/a/;x", 0, SB_OK, 0 },
	{ "/a/...;x", 0, SB_OK, 0 },
	{ "/a:b/c", 0, SB_OK, 0 },
	{ "/a+b", 0, SB_OK, 0 },
	{ "/repos/o/r/issues/42/comments", 0, SB_OK, 0 },
	{ "/a%2e", 0, SB_OK, 0 },
	{ "/a%2525252e", 0, SB_OK, 0 }, /* four levels, decodes to "/a." */
	{ "/~!$&'()*+,;=:-_", 0, SB_OK, 0 },
	/* '@' percent-encoded: an Okta login in /api/v1/users/{login}. */
	{ "/api/v1/users/a%40b.com", 0, SB_OK, 0 },
	{ "/%40evil.com/x", 0, SB_OK, 0 },
	{ "/user%2540host", 0, SB_OK, 0 },

	/* Refused: not a path at all. */
	{ "", 0, SB_ERR_INVALID, 0 },
	{ "relative", 0, SB_ERR_INVALID, 0 },
	{ "a/b", 0, SB_ERR_INVALID, 0 },
	{ "http://evil", 0, SB_ERR_INVALID, 0 },
	{ "https://evil/x", 0, SB_ERR_INVALID, 0 },
	{ "javascript:alert(1)", 0, SB_ERR_INVALID, 0 },
	{ "%2fevil", 0, SB_ERR_INVALID, 0 },
	{ "\\\\evil\\x", 0, SB_ERR_INVALID, 0 },
	{ "//evil.com/x", 0, SB_ERR_INVALID, 1 },
	{ "/%2fevil.com/x", 0, SB_ERR_INVALID, 1 },

	/* Refused: dot segments, raw and encoded. */
	{ "/a/../b", 0, SB_ERR_INVALID, 3 },
	{ "/a/./b", 0, SB_ERR_INVALID, 3 },
	{ "/..", 0, SB_ERR_INVALID, 1 },
	{ "/.", 0, SB_ERR_INVALID, 1 },
	{ "/a/..", 0, SB_ERR_INVALID, 3 },
	{ "/a/.", 0, SB_ERR_INVALID, 3 },
	{ "/../etc/passwd", 0, SB_ERR_INVALID, 1 },
	{ "/a/..;/admin", 0, SB_ERR_INVALID, 3 },
	{ "/a/.;x/b", 0, SB_ERR_INVALID, 3 },
	{ "/a/%2e%2e%3b/admin", 0, SB_ERR_INVALID, 3 },
	{ "/%2e%2e/", 0, SB_ERR_INVALID, 1 },
	{ "/%2E%2E/", 0, SB_ERR_INVALID, 1 },
	{ "/.%2e/x", 0, SB_ERR_INVALID, 1 },
	{ "/%2e/x", 0, SB_ERR_INVALID, 1 },
	{ "/%252e%252e/", 0, SB_ERR_INVALID, 1 },
	{ "/%25252e%25252e/", 0, SB_ERR_INVALID, 1 },
	{ "/a%2F..%2Fb", 0, SB_ERR_INVALID, 5 },
	{ "/a%2f%2e%2e%2fb", 0, SB_ERR_INVALID, 5 },
	{ "/a%252F..%252Fb", 0, SB_ERR_INVALID, 7 },

	/* Refused: empty segments. */
	{ "/a//b", 0, SB_ERR_INVALID, 3 },
	{ "/a%2f%2fb", 0, SB_ERR_INVALID, 5 },
	{ "/a/%2fb", 0, SB_ERR_INVALID, 3 },
	{ "/a%252f%252fb", 0, SB_ERR_INVALID, 7 },

	/* Refused: bytes that change the target or the request. */
	{ "/a\\b", 0, SB_ERR_INVALID, 2 },
	{ "/a%5cb", 0, SB_ERR_INVALID, 2 },
	{ "/a%5C..%5Cb", 0, SB_ERR_INVALID, 2 },
	{ "/user@host", 0, SB_ERR_INVALID, 5 },
	{ "/user%40host@evil", 0, SB_ERR_INVALID, 12 },
	{ "/@evil.com/x", 0, SB_ERR_INVALID, 1 },
	{ "/a#b", 0, SB_ERR_INVALID, 2 },
	{ "/a%23b", 0, SB_ERR_INVALID, 2 },
	{ "/v1/items?x", 0, SB_ERR_INVALID, 9 },
	{ "/v1/items%3fx", 0, SB_ERR_INVALID, 9 },
	{ "/v1/items%253Fx", 0, SB_ERR_INVALID, 9 },
	{ "/a%0d%0aX-Injected:1", 0, SB_ERR_INVALID, 2 },
	{ "/a%0aX", 0, SB_ERR_INVALID, 2 },
	{ "/a%250d%250a", 0, SB_ERR_INVALID, 2 },
	{ "/a\r\nX-Injected: 1", 0, SB_ERR_INVALID, 2 },
	{ "/a%00", 0, SB_ERR_INVALID, 2 },
	{ "/a%2500", 0, SB_ERR_INVALID, 2 },
	{ "/a\0b", 4, SB_ERR_INVALID, 2 },
	{ "/a\tb", 0, SB_ERR_INVALID, 2 },
	{ "/a\x7f", 0, SB_ERR_INVALID, 2 },
	{ "/a%7f", 0, SB_ERR_INVALID, 2 },
	{ "/a b", 0, SB_ERR_INVALID, 2 },
	{ "/a%20b", 0, SB_ERR_INVALID, 2 },
	{ "/a%2520b", 0, SB_ERR_INVALID, 2 },
	{ "/caf\xc3\xa9", 0, SB_ERR_INVALID, 4 },

	/* Refused: malformed escapes, at any level. */
	{ "/a%zz", 0, SB_ERR_INVALID, 2 },
	{ "/a%2", 0, SB_ERR_INVALID, 2 },
	{ "/a%", 0, SB_ERR_INVALID, 2 },
	{ "/a%g0", 0, SB_ERR_INVALID, 2 },
	{ "/a%%32%65", 0, SB_ERR_INVALID, 2 },
	{ "/a%25", 0, SB_ERR_INVALID, 2 },
	{ "/a%25zz", 0, SB_ERR_INVALID, 2 },
	{ "/a%252", 0, SB_ERR_INVALID, 2 },

	/* Refused: five levels of encoding. */
	{ "/a%252525252e", 0, SB_ERR_INVALID, 2 },
};

static enum sb_err
validate(const struct path_case *c, char *err, size_t errsize)
{
	return sb_path_validate(
	    c->path, c->len != 0 ? c->len : strlen(c->path), err, errsize);
}

/* Every case gives its code; refusals name the offset, passes empty err. */
static void
test_table(void **state)
{
	char err[SB_PATH_ERROR_MAX], want[32];
	enum sb_err rc;

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		memset(err, 'x', sizeof(err));
		rc = validate(&cases[i], err, sizeof(err));
		if (rc != cases[i].rc)
			fail_msg("case %zu \"%s\": got %d (%s), want %d", i,
			    cases[i].path, rc, err, cases[i].rc);
		if (rc == SB_OK) {
			assert_string_equal(err, "");
			continue;
		}
		(void)snprintf(
		    want, sizeof(want), "offset %zu: ", cases[i].offset);
		if (strncmp(err, want, strlen(want)) != 0)
			fail_msg("case %zu \"%s\": got \"%s\", want \"%s...\"",
			    i, cases[i].path, err, want);
	}
}

/* Refusals found only after decoding say so; raw ones do not. */
static void
test_encoded_note(void **state)
{
	char err[SB_PATH_ERROR_MAX];

	(void)state;
	assert_int_equal(
	    sb_path_validate("/a/../b", 7, err, sizeof(err)), SB_ERR_INVALID);
	assert_string_equal(err, "offset 3: '.' or '..' segment");
	assert_int_equal(
	    sb_path_validate("/%2e%2e/", 8, err, sizeof(err)), SB_ERR_INVALID);
	assert_string_equal(
	    err, "offset 1: '.' or '..' segment (percent-encoded)");
	assert_int_equal(
	    sb_path_validate("/a%0d", 5, err, sizeof(err)), SB_ERR_INVALID);
	assert_string_equal(err, "offset 2: control byte (percent-encoded)");
	assert_int_equal(
	    sb_path_validate("http://x", 8, err, sizeof(err)), SB_ERR_INVALID);
	assert_string_equal(err, "offset 0: scheme prefix not allowed");
	assert_int_equal(
	    sb_path_validate("/a%252525252e", 13, err, sizeof(err)),
	    SB_ERR_INVALID);
	assert_string_equal(err, "offset 2: percent-encoded too deeply");
}

/* Exactly SB_PATH_MAX bytes pass; one more is SB_ERR_TOO_LARGE. */
static void
test_length_cap(void **state)
{
	char err[SB_PATH_ERROR_MAX];
	char *path;

	(void)state;
	assert_non_null(path = malloc(SB_PATH_MAX + 1));
	memset(path, 'a', SB_PATH_MAX + 1);
	path[0] = '/';
	assert_int_equal(
	    sb_path_validate(path, SB_PATH_MAX, err, sizeof(err)), SB_OK);
	assert_int_equal(
	    sb_path_validate(path, SB_PATH_MAX + 1, err, sizeof(err)),
	    SB_ERR_TOO_LARGE);
	assert_string_equal(err, "offset 2048: path too long");
	/* A bad byte at the very end of a full-length path is still found. */
	path[SB_PATH_MAX - 1] = '@';
	assert_int_equal(sb_path_validate(path, SB_PATH_MAX, err, sizeof(err)),
	    SB_ERR_INVALID);
	assert_string_equal(err, "offset 2047: '@' not allowed");
	free(path);
}

/* A full-length path made only of escapes decodes without overrun. */
static void
test_full_of_escapes(void **state)
{
	char path[SB_PATH_MAX];
	size_t i;

	(void)state;
	path[0] = '/';
	path[1] = 'a';
	for (i = 2; i + 3 <= SB_PATH_MAX; i += 3)
		memcpy(path + i, "%41", 3);
	assert_int_equal(sb_path_validate(path, i, NULL, 0), SB_OK);
	for (i = 2; i + 5 <= SB_PATH_MAX; i += 5)
		memcpy(path + i, "%2541", 5);
	assert_int_equal(sb_path_validate(path, i, NULL, 0), SB_OK);
	memcpy(path + i - 5, "%252f", 5);
	memcpy(path + i - 10, "%252f", 5);
	assert_int_equal(sb_path_validate(path, i, NULL, 0), SB_ERR_INVALID);
}

/* NULL path and NULL or tiny error buffers are handled. */
static void
test_buffers(void **state)
{
	char err[SB_PATH_ERROR_MAX], tiny[8];

	(void)state;
	assert_int_equal(
	    sb_path_validate(NULL, 0, err, sizeof(err)), SB_ERR_INVALID);
	assert_string_equal(err, "offset 0: empty path");
	assert_int_equal(sb_path_validate("/a?b", 4, NULL, 0), SB_ERR_INVALID);
	assert_int_equal(sb_path_validate("/ok", 3, NULL, 0), SB_OK);
	memset(tiny, 'x', sizeof(tiny));
	assert_int_equal(
	    sb_path_validate("/a?b", 4, tiny, sizeof(tiny)), SB_ERR_INVALID);
	assert_string_equal(tiny, "offset ");
	tiny[0] = 'x';
	assert_int_equal(sb_path_validate("/a?b", 4, tiny, 0), SB_ERR_INVALID);
	assert_int_equal(tiny[0], 'x');
}

/* Messages never carry the caller's bytes. */
static void
test_no_echo(void **state)
{
	static const char *const paths[] = { "/tok-SECRET@x", "SECRET://x",
		"/SECRET/../x", "/SECRET%0d%0a", "/SECRET?k=v" };
	char err[SB_PATH_ERROR_MAX];

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(paths); i++) {
		assert_int_equal(sb_path_validate(paths[i], strlen(paths[i]),
		                     err, sizeof(err)),
		    SB_ERR_INVALID);
		assert_null(strstr(err, "SECRET"));
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_encoded_note),
		cmocka_unit_test(test_length_cap),
		cmocka_unit_test(test_full_of_escapes),
		cmocka_unit_test(test_buffers),
		cmocka_unit_test(test_no_echo),
	};

	return cmocka_run_group_tests_name("path", tests, NULL, NULL);
}
