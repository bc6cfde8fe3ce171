/*
 * Unit tests for lib/store/secrets.c: key generation and the keyring's file
 * checks, sealing and opening (tampering, truncation, rotation), tokens,
 * digests and constant-time comparison.  Each test runs in its own mkdtemp
 * directory, removed afterwards; the keyring directory is <tmp>/keys.
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <fcntl.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "sb/store/secrets.h"
#include "support.h"

#define AD "connections:42:credentials"
#define HEX32 "00112233445566778899aabbccddeeff"
#define HEX64 HEX32 HEX32
#define B64URL \
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
#define NOT_NULL ((void *)&not_null_target)

static char not_null_target;

struct fixture {
	char tmp[TEST_PATH_MAX];
	char keys[TEST_PATH_MAX];
};

static int
setup(void **state)
{
	struct fixture *f;

	if ((f = calloc(1, sizeof(*f))) == NULL)
		return -1;
	if (test_tmpdir_make(f->tmp, sizeof(f->tmp), "secrets") != 0) {
		free(f);
		return -1;
	}
	(void)snprintf(f->keys, sizeof(f->keys), "%.200s/keys", f->tmp);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	int rc;

	rc = test_tmpdir_remove(f->tmp);
	free(f);
	return rc;
}

static void
path_in(char *buf, const char *dir, const char *name)
{
	int n = snprintf(buf, TEST_PATH_MAX, "%s/%s", dir, name);

	assert_true(n > 0 && n < TEST_PATH_MAX);
}

/* Writes len bytes to dir/name with exactly the given mode. */
static void
write_file(const char *dir, const char *name, const char *data, size_t len,
    mode_t mode)
{
	char path[TEST_PATH_MAX];
	int fd;

	path_in(path, dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd != -1);
	assert_int_equal(fchmod(fd, mode), 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	assert_int_equal(close(fd), 0);
}

static size_t
read_file(const char *path, char *buf, size_t size)
{
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY);
	assert_true(fd != -1);
	n = read(fd, buf, size);
	assert_true(n >= 0);
	assert_int_equal(close(fd), 0);
	return (size_t)n;
}

static void
make_keys_dir(const struct fixture *f)
{
	assert_int_equal(mkdir(f->keys, 0700), 0);
}

static void
hex_key_random(char hex[SB_SECRETS_KEY_BYTES * 2 + 1])
{
	unsigned char key[SB_SECRETS_KEY_BYTES];

	randombytes_buf(key, sizeof(key));
	sodium_bin2hex(hex, SB_SECRETS_KEY_BYTES * 2 + 1, key, sizeof(key));
}

static struct sb_secrets *
open_ok(const char *dir, const char *env)
{
	struct sb_secrets *s = NULL;

	assert_int_equal(sb_secrets_open(dir, env, &s), SB_OK);
	assert_non_null(s);
	return s;
}

static uint32_t
key_id_of_hex(const char *hex)
{
	struct sb_secrets *s = open_ok(NULL, hex);
	uint32_t id = sb_secrets_key_id(s);

	sb_secrets_free(s);
	return id;
}

/* Writes hex into dir as the old key file "<its id>.key". */
static void
write_old_key(const char *dir, const char *hex)
{
	char name[32];

	(void)snprintf(
	    name, sizeof(name), "%08" PRIx32 ".key", key_id_of_hex(hex));
	write_file(dir, name, hex, strlen(hex), 0600);
}

/* The key id a blob names: bytes 1 to 4, big endian. */
static uint32_t
blob_key_id(const unsigned char *blob)
{
	return (uint32_t)blob[1] << 24 | (uint32_t)blob[2] << 16 |
	    (uint32_t)blob[3] << 8 | (uint32_t)blob[4];
}

static void
seal_ok(const struct sb_secrets *s, const void *plain, size_t len,
    const char *ad, unsigned char **blob, size_t *blob_len)
{
	assert_int_equal(
	    sb_secrets_seal(s, plain, len, ad, blob, blob_len), SB_OK);
	assert_non_null(*blob);
	assert_int_equal(*blob_len, len + SB_SECRETS_OVERHEAD);
}

/* Asserts that unsealing fails with SB_ERR_CRYPTO and leaves no output. */
static void
unseal_fails(const struct sb_secrets *s, const unsigned char *blob,
    size_t blob_len, const char *ad)
{
	char *plain = NOT_NULL;
	size_t len = 99;

	assert_int_equal(sb_secrets_unseal(s, blob, blob_len, ad, &plain, &len),
	    SB_ERR_CRYPTO);
	assert_null(plain);
	assert_int_equal(len, 0);
}

static void
unseal_equals(const struct sb_secrets *s, const unsigned char *blob,
    size_t blob_len, const char *ad, const void *want, size_t want_len)
{
	char *plain = NULL;
	size_t len = 0;

	assert_int_equal(
	    sb_secrets_unseal(s, blob, blob_len, ad, &plain, &len), SB_OK);
	assert_non_null(plain);
	assert_int_equal(len, want_len);
	assert_memory_equal(plain, want, want_len);
	assert_int_equal(plain[len], '\0');
	sb_secrets_plain_free(plain, len);
}

static void
test_keygen_creates_private_key(void **state)
{
	const struct fixture *f = *state;
	char path[TEST_PATH_MAX], first[128], again[128];
	struct stat st;
	bool created = false;
	size_t n;

	assert_int_equal(sb_secrets_keygen(f->keys, &created), SB_OK);
	assert_true(created);
	assert_int_equal(stat(f->keys, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0700);
	path_in(path, f->keys, "master.key");
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0600);
	n = read_file(path, first, sizeof(first));
	assert_int_equal(n, 65);
	assert_int_equal(strspn(first, "0123456789abcdef"), 64);
	assert_int_equal(first[64], '\n');

	assert_int_equal(sb_secrets_keygen(f->keys, &created), SB_OK);
	assert_false(created);
	assert_int_equal(read_file(path, again, sizeof(again)), n);
	assert_memory_equal(first, again, n);
	sb_secrets_free(open_ok(f->keys, NULL));
}

static void
test_keygen_existing_dir(void **state)
{
	const struct fixture *f = *state;
	bool created = false;

	make_keys_dir(f);
	assert_int_equal(sb_secrets_keygen(f->keys, &created), SB_OK);
	assert_true(created);
	assert_int_equal(sb_secrets_keygen(f->keys, NULL), SB_OK);
	assert_int_equal(sb_secrets_keygen(NULL, &created), SB_ERR_INVALID);
	assert_false(created);
	assert_int_equal(sb_secrets_keygen("", NULL), SB_ERR_INVALID);
}

static void
test_open_env_key(void **state)
{
	const struct fixture *f = *state;
	struct sb_secrets *env, *file, *missing;
	char hex[65], missing_dir[TEST_PATH_MAX];
	unsigned char *blob = NULL;
	size_t blob_len = 0;

	hex_key_random(hex);
	env = open_ok(NULL, hex);
	path_in(missing_dir, f->tmp, "missing");
	missing = open_ok(missing_dir, hex);
	assert_int_equal(sb_secrets_key_id(env), sb_secrets_key_id(missing));

	make_keys_dir(f);
	write_file(f->keys, "master.key", hex, strlen(hex), 0600);
	file = open_ok(f->keys, "");
	assert_int_equal(sb_secrets_key_id(env), sb_secrets_key_id(file));
	seal_ok(env, "pw", 2, AD, &blob, &blob_len);
	unseal_equals(file, blob, blob_len, AD, "pw", 2);
	sb_secrets_free(file);

	/* The environment key replaces master.key. */
	write_file(f->keys, "master.key", HEX64, 64, 0600);
	file = open_ok(f->keys, hex);
	assert_int_equal(sb_secrets_key_id(file), sb_secrets_key_id(env));
	sb_secrets_free(file);
	file = open_ok(f->keys, NULL);
	assert_int_equal(sb_secrets_key_id(file), key_id_of_hex(HEX64));
	assert_int_not_equal(sb_secrets_key_id(file), sb_secrets_key_id(env));

	free(blob);
	sb_secrets_free(file);
	sb_secrets_free(missing);
	sb_secrets_free(env);
}

static void
test_open_bad_env_key(void **state)
{
	static const char *const bad[] = {
		"0",
		HEX32,
		HEX64 "0",
		HEX64 "\n",
		" " HEX32 "0112233445566778899aabbccddeeff",
		"g" HEX32 "0112233445566778899aabbccddeeff",
		"0x" HEX32 "00112233445566778899aabbccddee",
		HEX32 "00112233445566778899aabbccddee:f",
	};
	const struct fixture *f = *state;
	struct sb_secrets *s;
	size_t i;

	for (i = 0; i < ARRAY_LEN(bad); i++) {
		s = NOT_NULL;
		assert_int_equal(
		    sb_secrets_open(f->keys, bad[i], &s), SB_ERR_CONFIG);
		assert_null(s);
		s = NOT_NULL;
		assert_int_equal(
		    sb_secrets_open(NULL, bad[i], &s), SB_ERR_CONFIG);
		assert_null(s);
	}
}

static void
test_open_key_file_modes(void **state)
{
	static const struct {
		mode_t mode;
		enum sb_err want;
	} cases[] = {
		{ 0600, SB_OK },
		{ 0400, SB_OK },
		{ 0700, SB_OK },
		{ 0640, SB_ERR_CONFIG },
		{ 0644, SB_ERR_CONFIG },
		{ 0604, SB_ERR_CONFIG },
		{ 0620, SB_ERR_CONFIG },
		{ 0602, SB_ERR_CONFIG },
		{ 0610, SB_ERR_CONFIG },
		{ 0666, SB_ERR_CONFIG },
	};
	const struct fixture *f = *state;
	struct sb_secrets *s;
	size_t i;

	make_keys_dir(f);
	for (i = 0; i < ARRAY_LEN(cases); i++) {
		write_file(f->keys, "master.key", HEX64, 64, cases[i].mode);
		s = NOT_NULL;
		assert_int_equal(
		    sb_secrets_open(f->keys, NULL, &s), cases[i].want);
		assert_true((s != NULL) == (cases[i].want == SB_OK));
		sb_secrets_free(s);
	}
}

/*
 * A secrets directory group or others may enter or list is refused, by
 * open and by keygen, whatever its key files' modes (issue 8 §8).
 */
static void
test_open_dir_modes(void **state)
{
	static const struct {
		mode_t mode;
		enum sb_err want;
	} cases[] = {
		{ 0700, SB_OK },
		{ 0500, SB_OK },
		{ 0750, SB_ERR_CONFIG },
		{ 0755, SB_ERR_CONFIG },
		{ 0701, SB_ERR_CONFIG },
		{ 0710, SB_ERR_CONFIG },
		{ 0777, SB_ERR_CONFIG },
	};
	const struct fixture *f = *state;
	struct sb_secrets *s;
	size_t i;

	make_keys_dir(f);
	write_file(f->keys, "master.key", HEX64, 64, 0600);
	assert_int_equal(sb_secrets_keygen(f->keys, NULL), SB_OK);
	for (i = 0; i < ARRAY_LEN(cases); i++) {
		assert_int_equal(chmod(f->keys, cases[i].mode), 0);
		s = NOT_NULL;
		assert_int_equal(
		    sb_secrets_open(f->keys, NULL, &s), cases[i].want);
		assert_true((s != NULL) == (cases[i].want == SB_OK));
		sb_secrets_free(s);
		if (cases[i].want != SB_OK)
			assert_int_equal(
			    sb_secrets_keygen(f->keys, NULL), cases[i].want);
	}
	assert_int_equal(chmod(f->keys, 0700), 0);
}

static void
test_open_old_key_file_mode(void **state)
{
	const struct fixture *f = *state;
	struct sb_secrets *s = NOT_NULL;
	char hex[65], name[32];

	assert_int_equal(sb_secrets_keygen(f->keys, NULL), SB_OK);
	hex_key_random(hex);
	write_old_key(f->keys, hex);
	sb_secrets_free(open_ok(f->keys, NULL));
	(void)snprintf(
	    name, sizeof(name), "%08" PRIx32 ".key", key_id_of_hex(hex));
	write_file(f->keys, name, hex, 64, 0644);
	assert_int_equal(sb_secrets_open(f->keys, NULL, &s), SB_ERR_CONFIG);
	assert_null(s);
}

static void
test_open_key_file_contents(void **state)
{
	static const struct {
		const char *data;
		enum sb_err want;
	} cases[] = {
		{ HEX64, SB_OK },
		{ HEX64 "\n", SB_OK },
		{ "", SB_ERR_CONFIG },
		{ "\n", SB_ERR_CONFIG },
		{ HEX32, SB_ERR_CONFIG },
		{ HEX64 "0", SB_ERR_CONFIG },
		{ HEX64 "\n\n", SB_ERR_CONFIG },
		{ HEX64 "\r\n", SB_ERR_CONFIG },
		{ HEX64 " ", SB_ERR_CONFIG },
		{ "z" HEX32 "0112233445566778899aabbccddeeff", SB_ERR_CONFIG },
	};
	const struct fixture *f = *state;
	struct sb_secrets *s;
	size_t i;

	make_keys_dir(f);
	for (i = 0; i < ARRAY_LEN(cases); i++) {
		write_file(f->keys, "master.key", cases[i].data,
		    strlen(cases[i].data), 0600);
		s = NOT_NULL;
		assert_int_equal(
		    sb_secrets_open(f->keys, NULL, &s), cases[i].want);
		assert_true((s != NULL) == (cases[i].want == SB_OK));
		sb_secrets_free(s);
	}
}

static void
test_open_missing_or_odd_files(void **state)
{
	const struct fixture *f = *state;
	struct sb_secrets *s = NOT_NULL;
	char target[TEST_PATH_MAX], linkpath[TEST_PATH_MAX];

	assert_int_equal(sb_secrets_open(f->keys, NULL, &s), SB_ERR_CONFIG);
	assert_null(s);
	make_keys_dir(f);
	assert_int_equal(sb_secrets_open(f->keys, NULL, &s), SB_ERR_CONFIG);
	assert_null(s);
	assert_int_equal(sb_secrets_open(NULL, NULL, &s), SB_ERR_INVALID);
	assert_int_equal(sb_secrets_open(f->keys, NULL, NULL), SB_ERR_INVALID);

	/* A symlinked key file is refused, even to a private file. */
	write_file(f->tmp, "elsewhere.key", HEX64, 64, 0600);
	path_in(target, f->tmp, "elsewhere.key");
	path_in(linkpath, f->keys, "master.key");
	assert_int_equal(symlink(target, linkpath), 0);
	s = NOT_NULL;
	assert_int_equal(sb_secrets_open(f->keys, NULL, &s), SB_ERR_CONFIG);
	assert_null(s);
	assert_int_equal(unlink(linkpath), 0);

	/* Files not named like keys are ignored, whatever they hold. */
	write_file(f->keys, "master.key", HEX64, 64, 0600);
	write_file(f->keys, "README", "x", 1, 0644);
	write_file(f->keys, "ABCDEF01.key", "x", 1, 0644);
	write_file(f->keys, "master.key.bak", "x", 1, 0644);
	write_file(f->keys, "0123456.key", "x", 1, 0644);
	sb_secrets_free(open_ok(f->keys, NULL));
}

static void
test_open_mislabelled_old_key(void **state)
{
	const struct fixture *f = *state;
	struct sb_secrets *s = NOT_NULL;
	char hex[65], name[32];

	assert_int_equal(sb_secrets_keygen(f->keys, NULL), SB_OK);
	hex_key_random(hex);
	(void)snprintf(
	    name, sizeof(name), "%08" PRIx32 ".key", key_id_of_hex(hex) + 1);
	write_file(f->keys, name, hex, 64, 0600);
	assert_int_equal(sb_secrets_open(f->keys, NULL, &s), SB_ERR_CONFIG);
	assert_null(s);
}

static void
test_open_too_many_keys(void **state)
{
	const struct fixture *f = *state;
	struct sb_secrets *s = NOT_NULL;
	char hex[65];
	int i;

	assert_int_equal(sb_secrets_keygen(f->keys, NULL), SB_OK);
	for (i = 1; i < SB_SECRETS_KEYS_MAX; i++) {
		hex_key_random(hex);
		write_old_key(f->keys, hex);
	}
	sb_secrets_free(open_ok(f->keys, NULL));
	hex_key_random(hex);
	write_old_key(f->keys, hex);
	assert_int_equal(sb_secrets_open(f->keys, NULL, &s), SB_ERR_CONFIG);
	assert_null(s);
}

static void
test_seal_round_trip(void **state)
{
	static const struct {
		const char *plain;
		size_t len;
	} cases[] = {
		{ "", 0 },
		{ "hunter2", 7 },
		{ "\0", 1 },
		{ "\0a\0b\xff\x80\0", 7 },
		{ "{\"client_secret\":\"s3cr3t\"}", 26 },
	};
	struct sb_secrets *s;
	unsigned char *blob;
	size_t blob_len, i;

	(void)state;
	s = open_ok(NULL, HEX64);
	for (i = 0; i < ARRAY_LEN(cases); i++) {
		seal_ok(s, cases[i].plain, cases[i].len, AD, &blob, &blob_len);
		assert_int_equal(blob[0], 1);
		assert_int_equal(blob_key_id(blob), sb_secrets_key_id(s));
		unseal_equals(
		    s, blob, blob_len, AD, cases[i].plain, cases[i].len);
		free(blob);
	}
	sb_secrets_free(s);
}

static void
test_seal_largest_and_too_large(void **state)
{
	struct sb_secrets *s;
	unsigned char *big, *blob = NOT_NULL;
	size_t blob_len = 99;

	(void)state;
	s = open_ok(NULL, HEX64);
	big = malloc(SB_SECRETS_PLAIN_MAX + 1);
	assert_non_null(big);
	randombytes_buf(big, SB_SECRETS_PLAIN_MAX + 1);
	assert_int_equal(sb_secrets_seal(s, big, SB_SECRETS_PLAIN_MAX + 1, AD,
	                     &blob, &blob_len),
	    SB_ERR_TOO_LARGE);
	assert_null(blob);
	assert_int_equal(blob_len, 0);

	seal_ok(s, big, SB_SECRETS_PLAIN_MAX, AD, &blob, &blob_len);
	unseal_equals(s, blob, blob_len, AD, big, SB_SECRETS_PLAIN_MAX);
	free(blob);
	free(big);
	sb_secrets_free(s);
}

static void
test_seal_fresh_nonce(void **state)
{
	struct sb_secrets *s;
	unsigned char *a, *b;
	size_t alen, blen;

	(void)state;
	s = open_ok(NULL, HEX64);
	seal_ok(s, "same", 4, AD, &a, &alen);
	seal_ok(s, "same", 4, AD, &b, &blen);
	assert_int_equal(alen, blen);
	assert_memory_not_equal(a + 5, b + 5, 24);
	assert_memory_not_equal(a, b, alen);
	free(a);
	free(b);
	sb_secrets_free(s);
}

static void
test_seal_unseal_invalid_arguments(void **state)
{
	struct sb_secrets *s;
	unsigned char *blob = NOT_NULL;
	size_t blob_len = 1, len = 1;
	char *plain = NOT_NULL;

	(void)state;
	s = open_ok(NULL, HEX64);
	assert_int_equal(
	    sb_secrets_seal(s, "x", 1, NULL, &blob, &blob_len), SB_ERR_INVALID);
	assert_null(blob);
	assert_int_equal(blob_len, 0);
	assert_int_equal(sb_secrets_seal(NULL, "x", 1, AD, &blob, &blob_len),
	    SB_ERR_INVALID);
	assert_int_equal(
	    sb_secrets_seal(s, NULL, 1, AD, &blob, &blob_len), SB_ERR_INVALID);
	assert_int_equal(
	    sb_secrets_seal(s, "x", 1, AD, NULL, &blob_len), SB_ERR_INVALID);
	assert_int_equal(sb_secrets_unseal(NULL, (const unsigned char *)"x", 1,
	                     AD, &plain, &len),
	    SB_ERR_INVALID);
	assert_null(plain);
	assert_int_equal(len, 0);
	unseal_fails(s, NULL, 0, AD);
	seal_ok(s, NULL, 0, AD, &blob, &blob_len);
	unseal_equals(s, blob, blob_len, AD, "", 0);
	unseal_fails(s, blob, blob_len, NULL);
	free(blob);
	sb_secrets_free(s);
}

static void
test_unseal_wrong_ad(void **state)
{
	static const char *const wrong[] = {
		"",
		"connections:43:credentials",
		"connections:42:credential",
		"connections:42:credentials ",
		"Connections:42:credentials",
		"connections:4",
	};
	struct sb_secrets *s;
	unsigned char *blob;
	size_t blob_len, i;

	(void)state;
	s = open_ok(NULL, HEX64);
	seal_ok(s, "secret", 6, AD, &blob, &blob_len);
	for (i = 0; i < ARRAY_LEN(wrong); i++)
		unseal_fails(s, blob, blob_len, wrong[i]);
	unseal_equals(s, blob, blob_len, AD, "secret", 6);
	free(blob);
	sb_secrets_free(s);
}

static void
test_unseal_every_byte_flip(void **state)
{
	static const unsigned char masks[] = { 0x01, 0x80, 0xff };
	struct sb_secrets *s;
	unsigned char *blob, *copy;
	size_t blob_len, i, m;

	(void)state;
	s = open_ok(NULL, HEX64);
	seal_ok(s, "flip me!", 8, AD, &blob, &blob_len);
	copy = malloc(blob_len);
	assert_non_null(copy);
	for (i = 0; i < blob_len; i++) {
		for (m = 0; m < ARRAY_LEN(masks); m++) {
			memcpy(copy, blob, blob_len);
			copy[i] ^= masks[m];
			unseal_fails(s, copy, blob_len, AD);
		}
	}
	unseal_equals(s, blob, blob_len, AD, "flip me!", 8);
	free(copy);
	free(blob);
	sb_secrets_free(s);
}

static void
test_unseal_truncated_or_extended(void **state)
{
	struct sb_secrets *s;
	unsigned char *blob, *longer;
	size_t blob_len, n;

	(void)state;
	s = open_ok(NULL, HEX64);
	seal_ok(s, "cut me", 6, AD, &blob, &blob_len);
	for (n = 0; n < blob_len; n++)
		unseal_fails(s, blob, n, AD);
	longer = malloc(blob_len + 1);
	assert_non_null(longer);
	memcpy(longer, blob, blob_len);
	longer[blob_len] = 0;
	unseal_fails(s, longer, blob_len + 1, AD);
	free(longer);
	free(blob);
	sb_secrets_free(s);
}

static void
test_rotation_keeps_old_blobs(void **state)
{
	const struct fixture *f = *state;
	struct sb_secrets *old, *cur;
	char path[TEST_PATH_MAX], hex[128];
	char before[SB_SECRETS_DIGEST_HEX], after[SB_SECRETS_DIGEST_HEX];
	unsigned char *old_blob, *new_blob;
	size_t old_len, new_len, n;

	assert_int_equal(sb_secrets_keygen(f->keys, NULL), SB_OK);
	old = open_ok(f->keys, NULL);
	seal_ok(old, "old secret", 10, AD, &old_blob, &old_len);

	/* Rotate: keep the old key as <id>.key, make a new master.key. */
	path_in(path, f->keys, "master.key");
	n = read_file(path, hex, sizeof(hex));
	assert_int_equal(n, 65);
	hex[64] = '\0';
	write_old_key(f->keys, hex);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(sb_secrets_keygen(f->keys, NULL), SB_OK);
	cur = open_ok(f->keys, NULL);
	assert_int_not_equal(sb_secrets_key_id(cur), sb_secrets_key_id(old));

	unseal_equals(cur, old_blob, old_len, AD, "old secret", 10);
	/* Token digests are keyed by token.key, which rotation leaves alone. */
	sb_secrets_token_digest(old, "sbc_token", before);
	sb_secrets_token_digest(cur, "sbc_token", after);
	assert_string_equal(before, after);
	seal_ok(cur, "new secret", 10, AD, &new_blob, &new_len);
	assert_int_equal(blob_key_id(new_blob), sb_secrets_key_id(cur));
	unseal_fails(old, new_blob, new_len, AD);
	free(old_blob);
	free(new_blob);
	sb_secrets_free(cur);
	sb_secrets_free(old);
}

static void
test_unseal_unknown_key(void **state)
{
	struct sb_secrets *a, *b;
	unsigned char *blob;
	size_t blob_len;
	char hex[65];

	(void)state;
	hex_key_random(hex);
	a = open_ok(NULL, hex);
	b = open_ok(NULL, HEX64);
	assert_int_not_equal(sb_secrets_key_id(a), sb_secrets_key_id(b));
	seal_ok(a, "mine", 4, AD, &blob, &blob_len);
	unseal_fails(b, blob, blob_len, AD);
	unseal_equals(a, blob, blob_len, AD, "mine", 4);
	free(blob);
	sb_secrets_free(b);
	sb_secrets_free(a);
}

static void
test_token_format(void **state)
{
	static const char *const prefixes[] = { "sbk", "a", "0", "abcdefgh",
		"x9z", "sess" };
	char tok[SB_SECRETS_TOKEN_MAX];
	unsigned char bin[64];
	size_t i, plen, binlen;

	(void)state;
	for (i = 0; i < ARRAY_LEN(prefixes); i++) {
		plen = strlen(prefixes[i]);
		memset(tok, 'X', sizeof(tok));
		assert_int_equal(
		    sb_secrets_token_new(prefixes[i], tok, sizeof(tok)), SB_OK);
		assert_int_equal(strlen(tok), plen + 1 + 43);
		assert_memory_equal(tok, prefixes[i], plen);
		assert_int_equal(tok[plen], '_');
		assert_int_equal(strspn(tok + plen + 1, B64URL), 43);
		assert_int_equal(sodium_base642bin(bin, sizeof(bin),
		                     tok + plen + 1, 43, NULL, &binlen, NULL,
		                     sodium_base64_VARIANT_URLSAFE_NO_PADDING),
		    0);
		assert_int_equal(binlen, 32);
	}
}

static int
compare_tokens(const void *a, const void *b)
{
	return strcmp(a, b);
}

static void
test_token_unique(void **state)
{
	enum { COUNT = 512 };
	char(*toks)[SB_SECRETS_TOKEN_MAX];
	size_t i;

	(void)state;
	toks = calloc(COUNT, sizeof(*toks));
	assert_non_null(toks);
	for (i = 0; i < COUNT; i++)
		assert_int_equal(
		    sb_secrets_token_new("sbk", toks[i], sizeof(toks[i])),
		    SB_OK);
	qsort(toks, COUNT, sizeof(*toks), compare_tokens);
	for (i = 1; i < COUNT; i++)
		assert_string_not_equal(toks[i - 1], toks[i]);
	free(toks);
}

static void
test_token_bad_prefix(void **state)
{
	static const char *const bad[] = { "", "SBK", "abcdefghi", "a-b", "a_b",
		"a b", "sbk\n", "caf\xc3\xa9", "a.b", NULL };
	char tok[SB_SECRETS_TOKEN_MAX];
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_LEN(bad); i++) {
		memset(tok, 'X', sizeof(tok));
		assert_int_equal(sb_secrets_token_new(bad[i], tok, sizeof(tok)),
		    SB_ERR_INVALID);
		assert_int_equal(tok[0], '\0');
	}
	assert_int_equal(sb_secrets_token_new("sbk", NULL, 64), SB_ERR_INVALID);
}

static void
test_token_outsize(void **state)
{
	static const struct {
		const char *prefix;
		size_t outsize;
		enum sb_err want;
	} cases[] = {
		{ "sbk", 48, SB_OK },
		{ "sbk", 47, SB_ERR_TOO_LARGE },
		{ "sbk", 1, SB_ERR_TOO_LARGE },
		{ "sbk", 0, SB_ERR_TOO_LARGE },
		{ "abcdefgh", 53, SB_OK },
		{ "abcdefgh", 52, SB_ERR_TOO_LARGE },
		{ "abcdefgh", SB_SECRETS_TOKEN_MAX, SB_OK },
	};
	char tok[SB_SECRETS_TOKEN_MAX + 1];
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_LEN(cases); i++) {
		memset(tok, 'X', sizeof(tok));
		assert_int_equal(sb_secrets_token_new(
		                     cases[i].prefix, tok, cases[i].outsize),
		    cases[i].want);
		if (cases[i].want == SB_OK)
			assert_int_equal(
			    strlen(tok), strlen(cases[i].prefix) + 44);
		else if (cases[i].outsize > 0)
			assert_int_equal(tok[0], '\0');
		assert_int_equal(tok[cases[i].outsize], 'X');
	}
}

static void
assert_digest_hex(const char *d)
{
	assert_int_equal(strlen(d), SB_SECRETS_DIGEST_HEX - 1);
	assert_int_equal(strspn(d, "0123456789abcdef"), 64);
}

static void
test_token_digest(void **state)
{
	const struct fixture *f = *state;
	struct sb_secrets *a, *a_file, *b;
	char t1[SB_SECRETS_TOKEN_MAX], t2[SB_SECRETS_TOKEN_MAX];
	char d1[SB_SECRETS_DIGEST_HEX], d1_again[SB_SECRETS_DIGEST_HEX];
	char d1_file[SB_SECRETS_DIGEST_HEX], d1_b[SB_SECRETS_DIGEST_HEX];
	char d2[SB_SECRETS_DIGEST_HEX], plain[SB_SECRETS_DIGEST_HEX];
	unsigned char h[SB_SECRETS_DIGEST_BYTES];

	a = open_ok(NULL, HEX64);
	make_keys_dir(f);
	write_file(f->keys, "master.key", HEX64 "\n", 65, 0600);
	a_file = open_ok(f->keys, NULL);
	b = open_ok(NULL, HEX32 "ffeeddccbbaa99887766554433221100");
	assert_int_equal(sb_secrets_token_new("sbk", t1, sizeof(t1)), SB_OK);
	assert_int_equal(sb_secrets_token_new("sbk", t2, sizeof(t2)), SB_OK);

	sb_secrets_token_digest(a, t1, d1);
	sb_secrets_token_digest(a, t1, d1_again);
	sb_secrets_token_digest(a_file, t1, d1_file);
	sb_secrets_token_digest(b, t1, d1_b);
	sb_secrets_token_digest(a, t2, d2);
	assert_digest_hex(d1);
	assert_digest_hex(d1_b);
	assert_digest_hex(d2);
	assert_string_equal(d1, d1_again);
	assert_string_equal(d1, d1_file);
	assert_string_not_equal(d1, d1_b);
	assert_string_not_equal(d1, d2);

	/* Keyed: not the plain BLAKE2b of the token. */
	crypto_generichash(
	    h, sizeof(h), (const unsigned char *)t1, strlen(t1), NULL, 0);
	sodium_bin2hex(plain, sizeof(plain), h, sizeof(h));
	assert_string_not_equal(d1, plain);

	sb_secrets_token_digest(NULL, t1, d1);
	assert_string_equal(d1, "");
	sb_secrets_free(b);
	sb_secrets_free(a_file);
	sb_secrets_free(a);
}

static void
test_equal(void **state)
{
	static const struct {
		const char *a, *b;
		size_t n;
		bool want;
	} cases[] = {
		{ "abcd", "abcd", 4, true },
		{ "abcd", "abce", 4, false },
		{ "xbcd", "abcd", 4, false },
		{ "abcd", "abce", 3, true },
		{ "a\0b", "a\0c", 3, false },
		{ "a\0b", "a\0b", 3, true },
		{ "", "", 0, true },
		{ "x", "y", 0, true },
		{ NULL, "abcd", 4, false },
		{ "abcd", NULL, 4, false },
	};
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_LEN(cases); i++)
		assert_int_equal(
		    sb_secrets_equal(cases[i].a, cases[i].b, cases[i].n),
		    cases[i].want);
}

static void
test_equal_str(void **state)
{
	static const struct {
		const char *a, *b;
		bool want;
	} cases[] = {
		{ "", "", true },
		{ "sbk_abc", "sbk_abc", true },
		{ "sbk_abc", "sbk_abd", false },
		{ "sbk_abc", "tbk_abc", false },
		{ "sbk_abc", "sbk_ab", false },
		{ "sbk_ab", "sbk_abc", false },
		{ "sbk_abc", "", false },
		{ "", "x", false },
		{ NULL, "", false },
		{ "", NULL, false },
		{ NULL, NULL, false },
	};
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_LEN(cases); i++)
		assert_int_equal(sb_secrets_equal_str(cases[i].a, cases[i].b),
		    cases[i].want);
}

static void
test_null_is_harmless(void **state)
{
	(void)state;
	sb_secrets_free(NULL);
	sb_secrets_plain_free(NULL, 16);
	assert_int_equal(sb_secrets_key_id(NULL), 0);
}

#define SECRETS_TEST(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		SECRETS_TEST(test_keygen_creates_private_key),
		SECRETS_TEST(test_keygen_existing_dir),
		SECRETS_TEST(test_open_env_key),
		SECRETS_TEST(test_open_bad_env_key),
		SECRETS_TEST(test_open_key_file_modes),
		SECRETS_TEST(test_open_dir_modes),
		SECRETS_TEST(test_open_old_key_file_mode),
		SECRETS_TEST(test_open_key_file_contents),
		SECRETS_TEST(test_open_missing_or_odd_files),
		SECRETS_TEST(test_open_mislabelled_old_key),
		SECRETS_TEST(test_open_too_many_keys),
		SECRETS_TEST(test_seal_round_trip),
		SECRETS_TEST(test_seal_largest_and_too_large),
		SECRETS_TEST(test_seal_fresh_nonce),
		SECRETS_TEST(test_seal_unseal_invalid_arguments),
		SECRETS_TEST(test_unseal_wrong_ad),
		SECRETS_TEST(test_unseal_every_byte_flip),
		SECRETS_TEST(test_unseal_truncated_or_extended),
		SECRETS_TEST(test_rotation_keeps_old_blobs),
		SECRETS_TEST(test_unseal_unknown_key),
		SECRETS_TEST(test_token_format),
		SECRETS_TEST(test_token_unique),
		SECRETS_TEST(test_token_bad_prefix),
		SECRETS_TEST(test_token_outsize),
		SECRETS_TEST(test_token_digest),
		SECRETS_TEST(test_equal),
		SECRETS_TEST(test_equal_str),
		SECRETS_TEST(test_null_is_harmless),
	};

	(void)umask(022);
	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests_name("secrets", tests, NULL, NULL);
}
