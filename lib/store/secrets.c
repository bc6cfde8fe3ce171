/*
 * The secrets store (include/sb/store/secrets.h): a keyring of
 * XChaCha20-Poly1305 keys, the current one from a key source
 * (lib/store/keysource.c: its file, SB_MASTER_KEY, a command) and older ones
 * from a directory, sealing and opening credentials with them, and making
 * and digesting bearer tokens.  Every primitive is libsodium's; this file
 * only frames blobs and loads keys.
 *
 * The keyring, token subkey included, is one sodium_malloc'ed struct made
 * read-only once loaded: the keys sit in guarded pages that a stray write
 * faults on and that sodium_free() wipes.  Slot keys[nkeys] is scratch, so
 * a key's text is parsed straight into locked memory, and the text itself
 * (on the stack, or in the command source's locked buffer) is wiped.
 *
 * The blob header (version and key id) is bound into the additional data
 * together with the caller's ad, so neither can be swapped undetected.
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "sb/core/log.h"
#include "sb/store/keysource.h"
#include "sb/store/secrets.h"

#define SECRETS_COMPONENT "secrets"
#define SECRETS_VERSION 1
#define SECRETS_ID_OFFSET 1
#define SECRETS_NONCE_OFFSET 5
#define SECRETS_MASTER_NAME "master.key"
#define SECRETS_TOKEN_NAME "token.key"
#define SECRETS_OLD_SUFFIX ".key"
#define SECRETS_OLD_NAME_LEN 12 /* 8 lowercase hex digits and ".key" */
#define SECRETS_KEY_HEX_LEN (SB_SECRETS_KEY_BYTES * 2)
#define SECRETS_KEY_FILE_MAX (SECRETS_KEY_HEX_LEN + 2) /* 1 spare byte */
#define SECRETS_AD_MAX 1024
#define SECRETS_TOKEN_PREFIX_MAX 8
#define SECRETS_TOKEN_RANDOM_BYTES 32
#define SECRETS_B64 sodium_base64_VARIANT_URLSAFE_NO_PADDING
#define SECRETS_TOKEN_B64_SIZE \
	sodium_base64_ENCODED_LEN(SECRETS_TOKEN_RANDOM_BYTES, SECRETS_B64)
#define SECRETS_ID_MESSAGE "sb key id"
#define SECRETS_TOKEN_CONTEXT "sbtoken_"
#define SECRETS_TOKEN_SUBKEY_ID 1
#define SECRETS_DIR_MODE 0700
#define SECRETS_FILE_SOURCE "file" /* the key source that needs dir */
#define SECRETS_LABEL_MAX 64 /* "master key source <name>" */
#define SECRETS_FILE_MODE 0600

_Static_assert(SB_SECRETS_HEADER_BYTES ==
        SECRETS_NONCE_OFFSET + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES,
    "blob header layout");
_Static_assert(SB_SECRETS_OVERHEAD ==
        SB_SECRETS_HEADER_BYTES + crypto_aead_xchacha20poly1305_ietf_ABYTES,
    "blob overhead");
_Static_assert(
    SB_SECRETS_KEY_BYTES == crypto_aead_xchacha20poly1305_ietf_KEYBYTES &&
        SB_SECRETS_KEY_BYTES == crypto_kdf_KEYBYTES,
    "key size");
_Static_assert(sizeof(SECRETS_TOKEN_CONTEXT) - 1 == crypto_kdf_CONTEXTBYTES,
    "kdf context size");
_Static_assert(SECRETS_TOKEN_PREFIX_MAX + 1 + SECRETS_TOKEN_B64_SIZE <=
        SB_SECRETS_TOKEN_MAX,
    "token buffer size");

struct secrets_key {
	uint32_t id;
	unsigned char key[SB_SECRETS_KEY_BYTES];
};

struct sb_secrets {
	size_t nkeys; /* keys[0] is the current key */
	struct secrets_key keys[SB_SECRETS_KEYS_MAX + 1];
	unsigned char token_key[SB_SECRETS_KEY_BYTES];
};

static enum sb_err
secrets_init(void)
{
	if (sodium_init() < 0) {
		sb_log(SB_LOG_ERROR, SECRETS_COMPONENT, NULL,
		    "libsodium failed to initialise");
		return SB_ERR_CRYPTO;
	}
	return SB_OK;
}

static void
be32_put(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

static uint32_t
be32_get(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

/* A key's id is a keyed hash of a constant: it names the key, hides it. */
static uint32_t
key_id_derive(const unsigned char *key)
{
	unsigned char h[crypto_generichash_BYTES_MIN];

	crypto_generichash(h, sizeof(h),
	    (const unsigned char *)SECRETS_ID_MESSAGE,
	    sizeof(SECRETS_ID_MESSAGE) - 1, key, SB_SECRETS_KEY_BYTES);
	return be32_get(h);
}

static enum sb_err
path_join(char *buf, size_t size, const char *dir, const char *name)
{
	int n;

	n = snprintf(buf, size, "%s/%s", dir, name);
	if (n < 0 || (size_t)n >= size) {
		sb_log(SB_LOG_ERROR, SECRETS_COMPONENT, NULL,
		    "%s: path too long", dir);
		return SB_ERR_TOO_LARGE;
	}
	return SB_OK;
}

static enum sb_err
write_all(int fd, const char *buf, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = write(fd, buf, len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return SB_ERR_IO;
		buf += n;
		len -= (size_t)n;
	}
	return SB_OK;
}

/* Writes a fresh random key as 64 hex characters and a newline to fd. */
static enum sb_err
key_file_write(int fd)
{
	unsigned char key[SB_SECRETS_KEY_BYTES];
	char hex[SECRETS_KEY_HEX_LEN + 1];
	enum sb_err rc;

	crypto_aead_xchacha20poly1305_ietf_keygen(key);
	sodium_bin2hex(hex, sizeof(hex), key, sizeof(key));
	hex[SECRETS_KEY_HEX_LEN] = '\n';
	rc = write_all(fd, hex, sizeof(hex));
	if (rc == SB_OK && fsync(fd) == -1)
		rc = SB_ERR_IO;
	sodium_memzero(key, sizeof(key));
	sodium_memzero(hex, sizeof(hex));
	return rc;
}

/*
 * Creates dir/name with O_CREAT|O_EXCL and mode 0600 holding a new random
 * key, unless it exists, which is left alone.  *created tells whether a
 * key was made.  A partly written file is removed.
 */
static enum sb_err
key_file_create(const char *dir, const char *name, bool *created)
{
	char path[PATH_MAX];
	enum sb_err rc;
	int fd;

	*created = false;
	if ((rc = path_join(path, sizeof(path), dir, name)) != SB_OK)
		return rc;
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    SECRETS_FILE_MODE);
	if (fd == -1) {
		if (errno == EEXIST)
			return SB_OK;
		sb_log(SB_LOG_ERROR, SECRETS_COMPONENT, NULL, "create %s: %s",
		    path, strerror(errno));
		return SB_ERR_IO;
	}
	rc = key_file_write(fd);
	if (close(fd) == -1)
		rc = SB_ERR_IO;
	if (rc != SB_OK) {
		sb_log(SB_LOG_ERROR, SECRETS_COMPONENT, NULL,
		    "write %s failed; removed", path);
		(void)unlink(path);
		return rc;
	}
	*created = true;
	return SB_OK;
}

/*
 * Refuses (SB_ERR_CONFIG, with a message saying how to fix it) a secrets
 * directory that is not a directory, is not the running user's, or that
 * its group or others may enter or list, as ssh does for ~/.ssh: the keys
 * are only as private as the folder that holds them.  A missing dir is
 * left to the caller.
 */
static enum sb_err
secrets_dir_check(const char *dir)
{
	struct stat st;

	if (stat(dir, &st) == -1)
		return errno == ENOENT ? SB_OK : SB_ERR_IO;
	if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() ||
	    (st.st_mode & 077) != 0) {
		sb_log(SB_LOG_ERROR, SECRETS_COMPONENT, NULL,
		    "%s: the secrets directory must be a directory of the "
		    "user running Switchboard with mode 0700 (it is %04o); "
		    "refusing to use it (chmod 700 %s)",
		    dir, (unsigned)(st.st_mode & 07777), dir);
		return SB_ERR_CONFIG;
	}
	return SB_OK;
}

/*
 * Creates dir (mode 0700; only the last component) if missing, then
 * dir/master.key if master, and dir/token.key (each mode 0600, a new
 * random key) unless they exist, which are left alone.  token.key keys the
 * token digests and is never rotated, so rotating master.key leaves issued
 * tokens valid.  *created (if not NULL) tells whether master.key was made.
 * Returns SB_ERR_INVALID for a NULL or empty dir, SB_ERR_CONFIG for a dir
 * group or others may access (secrets_dir_check), SB_ERR_IO when the
 * directory or a file cannot be made or written.
 */
static enum sb_err
keygen(const char *dir, bool master, bool *created)
{
	bool made = false, token_made = false;
	enum sb_err rc = SB_ERR_INVALID;

	if (created != NULL)
		*created = false;
	if (dir == NULL || *dir == '\0')
		goto out;
	if ((rc = secrets_init()) != SB_OK)
		goto out;
	if (mkdir(dir, SECRETS_DIR_MODE) == -1 && errno != EEXIST) {
		sb_log(SB_LOG_ERROR, SECRETS_COMPONENT, NULL, "mkdir %s: %s",
		    dir, strerror(errno));
		rc = SB_ERR_IO;
		goto out;
	}
	if ((rc = secrets_dir_check(dir)) != SB_OK ||
	    (master &&
	        (rc = key_file_create(dir, SECRETS_MASTER_NAME, &made)) !=
	            SB_OK) ||
	    (rc = key_file_create(dir, SECRETS_TOKEN_NAME, &token_made)) !=
	        SB_OK)
		goto out;
	if (created != NULL)
		*created = made;
out:
	return rc;
}

/* keygen() with master.key. */
enum sb_err
sb_secrets_keygen(const char *dir, bool *created)
{
	return keygen(dir, true, created);
}

/*
 * keygen() in p->dir, with master.key only when the source that source
 * and p choose is the file: another source's key is never written down.
 * SB_ERR_CONFIG (logged) for a source sb_keysource_choose() refuses.
 */
enum sb_err
sb_secrets_keygen_source(
    const char *source, const struct sb_keysource_params *p, bool *created)
{
	const struct sb_keysource *src = NULL;
	enum sb_err rc;

	if (created != NULL)
		*created = false;
	if (p == NULL)
		return SB_ERR_INVALID;
	if ((rc = sb_keysource_choose(source, p, &src)) != SB_OK)
		return rc;
	return keygen(
	    p->dir, strcmp(src->name, SECRETS_FILE_SOURCE) == 0, created);
}

/*
 * Parses len hex characters into the scratch slot and appends that key to
 * the keyring unless a key of the same id is already there.  source names
 * where the key came from, for logs.  name, if not NULL, is the file name
 * the key was read from, which must be "<its id>.key".
 */
static enum sb_err
keyring_append(struct sb_secrets *s, const char *hex, size_t len,
    const char *source, const char *name)
{
	struct secrets_key *k = &s->keys[s->nkeys];
	char expect[SECRETS_OLD_NAME_LEN + 1];
	size_t binlen = 0, i;
	enum sb_err rc = SB_ERR_CONFIG;

	if (len != SECRETS_KEY_HEX_LEN ||
	    sodium_hex2bin(
	        k->key, sizeof(k->key), hex, len, NULL, &binlen, NULL) != 0 ||
	    binlen != sizeof(k->key)) {
		sb_log(SB_LOG_ERROR, SECRETS_COMPONENT, NULL,
		    "%s: not a key of %d hex characters", source,
		    SECRETS_KEY_HEX_LEN);
		goto out;
	}
	k->id = key_id_derive(k->key);
	(void)snprintf(expect, sizeof(expect), "%08" PRIx32 "%s", k->id,
	    SECRETS_OLD_SUFFIX);
	if (name != NULL && strcmp(name, expect) != 0) {
		sb_log(SB_LOG_ERROR, SECRETS_COMPONENT, NULL,
		    "%s: holds the key named %s", source, expect);
		goto out;
	}
	rc = SB_OK;
	for (i = 0; i < s->nkeys; i++)
		if (s->keys[i].id == k->id)
			goto out;
	if (s->nkeys == SB_SECRETS_KEYS_MAX) {
		sb_log(SB_LOG_ERROR, SECRETS_COMPONENT, NULL,
		    "%s: more than %d keys in the keyring", source,
		    SB_SECRETS_KEYS_MAX);
		rc = SB_ERR_CONFIG;
		goto out;
	}
	s->nkeys++;
	k = NULL;
out:
	if (k != NULL)
		sodium_memzero(k, sizeof(*k));
	return rc;
}

/* Reads the older key dir/name, which must be named by its id, and appends it.
 */
static enum sb_err
keyring_append_file(struct sb_secrets *s, const char *dir, const char *name)
{
	char path[PATH_MAX];
	char hex[SECRETS_KEY_FILE_MAX];
	size_t len = 0;
	enum sb_err rc;

	if ((rc = path_join(path, sizeof(path), dir, name)) != SB_OK)
		goto out;
	if ((rc = sb_keysource_file_read(path, hex, sizeof(hex), &len)) !=
	    SB_OK)
		goto out;
	if (len > 0 && hex[len - 1] == '\n')
		len--;
	rc = keyring_append(s, hex, len, path, name);
out:
	sodium_memzero(hex, sizeof(hex));
	return rc;
}

/* True iff name is an old key's file name: 8 lowercase hex and ".key". */
static bool
key_old_name(const char *name)
{
	size_t i;

	if (strlen(name) != SECRETS_OLD_NAME_LEN)
		return false;
	for (i = 0; i < 8; i++)
		if (!((name[i] >= '0' && name[i] <= '9') ||
		        (name[i] >= 'a' && name[i] <= 'f')))
			return false;
	return strcmp(name + 8, SECRETS_OLD_SUFFIX) == 0;
}

/* Appends every "<keyid>.key" in dir; a missing dir is fine iff optional. */
static enum sb_err
keyring_load_old(struct sb_secrets *s, const char *dir, bool optional)
{
	struct dirent *e;
	enum sb_err rc = SB_OK;
	DIR *d;

	if ((d = opendir(dir)) == NULL) {
		if (errno != ENOENT || !optional) {
			sb_log(SB_LOG_ERROR, SECRETS_COMPONENT, NULL,
			    "opendir %s: %s", dir, strerror(errno));
			rc = errno == ENOENT ? SB_ERR_CONFIG : SB_ERR_IO;
		}
		goto out;
	}
	for (;;) {
		errno = 0;
		if ((e = readdir(d)) == NULL)
			break;
		if (!key_old_name(e->d_name))
			continue;
		rc = keyring_append_file(s, dir, e->d_name);
		if (rc != SB_OK)
			goto out;
	}
	if (errno != 0) {
		sb_log(SB_LOG_ERROR, SECRETS_COMPONENT, NULL, "readdir %s: %s",
		    dir, strerror(errno));
		rc = SB_ERR_IO;
	}
out:
	if (d != NULL)
		(void)closedir(d);
	return rc;
}

/*
 * Derives the token-digest key: from dir/token.key when there is one (it
 * is never rotated, so issued tokens outlive a master key rotation), else
 * from the current master key.
 */
static enum sb_err
token_key_derive(struct sb_secrets *s, const char *dir)
{
	unsigned char base[SB_SECRETS_KEY_BYTES];
	char path[PATH_MAX], hex[SECRETS_KEY_FILE_MAX];
	const unsigned char *from = s->keys[0].key;
	size_t len = 0, bin = 0;
	enum sb_err rc = SB_OK;

	if (dir != NULL &&
	    path_join(path, sizeof(path), dir, SECRETS_TOKEN_NAME) == SB_OK &&
	    access(path, F_OK) == 0) {
		if ((rc = sb_keysource_file_read(
		         path, hex, sizeof(hex), &len)) != SB_OK)
			goto out;
		if (len > 0 && hex[len - 1] == '\n')
			len--;
		if (len != SECRETS_KEY_HEX_LEN ||
		    sodium_hex2bin(
		        base, sizeof(base), hex, len, NULL, &bin, NULL) != 0 ||
		    bin != sizeof(base)) {
			sb_log(SB_LOG_ERROR, SECRETS_COMPONENT, NULL,
			    "%s: not 64 hex characters", path);
			rc = SB_ERR_CONFIG;
			goto out;
		}
		from = base;
	}
	if (crypto_kdf_derive_from_key(s->token_key, sizeof(s->token_key),
	        SECRETS_TOKEN_SUBKEY_ID, SECRETS_TOKEN_CONTEXT, from) != 0)
		rc = SB_ERR_CRYPTO;
out:
	sodium_memzero(base, sizeof(base));
	sodium_memzero(hex, sizeof(hex));
	return rc;
}

/*
 * Appends the current key from the source chosen by source and p (see
 * sb_keysource_choose()) as keys[0].  The key's text sits on the stack
 * only while it is parsed into locked memory, and is wiped.
 */
static enum sb_err
keyring_append_current(struct sb_secrets *s, const struct sb_keysource *src,
    const struct sb_keysource_params *p)
{
	char hex[SB_KEYSOURCE_HEX_SIZE], label[SECRETS_LABEL_MAX];
	enum sb_err rc;

	(void)snprintf(label, sizeof(label), "master key source %s", src->name);
	if ((rc = src->load(p, hex)) == SB_OK)
		rc = keyring_append(s, hex, strlen(hex), label, NULL);
	sodium_memzero(hex, sizeof(hex));
	return rc;
}

/*
 * Loads the keyring.  The current key comes from the source that source
 * and p choose (sb_keysource_choose(): the key file p->dir/master.key,
 * the master_key setting, or master_key_command's output).  Every file
 * "<8 lowercase hex>.key" in p->dir is an older key, accepted for
 * unsealing only, whatever the source; its name must be its key id.
 * Other files are ignored.  p->dir may be NULL, or missing, only for a
 * source other than the file.
 *
 * A dir group or others may access (secrets_dir_check), and a key file
 * that is not a regular file, is a symlink, or has any group or other
 * permission bit set (st_mode & 077) are refused with SB_ERR_CONFIG,
 * as are a source misconfigured or failing, a malformed key, a missing
 * master.key and more than SB_SECRETS_KEYS_MAX distinct keys.  Read errors
 * give SB_ERR_IO.
 *
 * On SB_OK *out is set and the caller frees it with sb_secrets_free();
 * otherwise *out is NULL.
 */
enum sb_err
sb_secrets_open_source(const char *source, const struct sb_keysource_params *p,
    struct sb_secrets **out)
{
	const struct sb_keysource *src = NULL;
	struct sb_secrets *s = NULL;
	const char *dir;
	bool file;
	enum sb_err rc = SB_ERR_INVALID;

	if (out == NULL || p == NULL)
		goto out;
	*out = NULL;
	dir = p->dir;
	if ((rc = sb_keysource_choose(source, p, &src)) != SB_OK)
		goto out;
	rc = SB_ERR_INVALID;
	file = strcmp(src->name, SECRETS_FILE_SOURCE) == 0;
	if ((dir == NULL && file) || (rc = secrets_init()) != SB_OK ||
	    (dir != NULL && (rc = secrets_dir_check(dir)) != SB_OK))
		goto out;
	if ((s = sodium_malloc(sizeof(*s))) == NULL) {
		rc = SB_ERR_NOMEM;
		goto out;
	}
	sodium_memzero(s, sizeof(*s));
	if ((rc = keyring_append_current(s, src, p)) != SB_OK ||
	    (dir != NULL && (rc = keyring_load_old(s, dir, !file)) != SB_OK))
		goto out;
	if ((rc = token_key_derive(s, dir)) != SB_OK)
		goto out;
	if (sodium_mprotect_readonly(s) != 0)
		sb_log(SB_LOG_WARN, SECRETS_COMPONENT, NULL,
		    "keyring could not be made read-only");
	sb_log(SB_LOG_DEBUG, SECRETS_COMPONENT, NULL,
	    "master key %08" PRIx32 " from source %s, %zu key(s) in all",
	    s->keys[0].id, src->name, s->nkeys);
	*out = s;
	s = NULL;
out:
	sb_secrets_free(s);
	return rc;
}

/*
 * sb_secrets_open_source() with the source chosen as before sources
 * existed: env_key_hex when given, else dir/master.key.
 */
enum sb_err
sb_secrets_open(
    const char *dir, const char *env_key_hex, struct sb_secrets **out)
{
	struct sb_keysource_params p = { .dir = dir, .key_hex = env_key_hex };

	if (out != NULL)
		*out = NULL;
	if (dir == NULL && (env_key_hex == NULL || *env_key_hex == '\0'))
		return SB_ERR_INVALID;
	return sb_secrets_open_source(NULL, &p, out);
}

/* Wipes the keyring (sodium_free() zeroes it) and frees it; NULL is a no-op. */
void
sb_secrets_free(struct sb_secrets *s)
{
	if (s != NULL)
		sodium_free(s);
}

/* The current key's id, or 0 for a NULL keyring. */
uint32_t
sb_secrets_key_id(const struct sb_secrets *s)
{
	return s != NULL ? s->keys[0].id : 0;
}

/* Lays out header || ad into aad; ad past SECRETS_AD_MAX is refused. */
static enum sb_err
ad_build(unsigned char *aad, const unsigned char *header, const char *ad,
    size_t *aadlen)
{
	size_t len = strnlen(ad, SECRETS_AD_MAX + 1);

	if (len > SECRETS_AD_MAX)
		return SB_ERR_TOO_LARGE;
	memcpy(aad, header, SB_SECRETS_HEADER_BYTES);
	memcpy(aad + SB_SECRETS_HEADER_BYTES, ad, len);
	*aadlen = SB_SECRETS_HEADER_BYTES + len;
	return SB_OK;
}

static const struct secrets_key *
keyring_find(const struct sb_secrets *s, uint32_t id)
{
	size_t i;

	for (i = 0; i < s->nkeys; i++)
		if (s->keys[i].id == id)
			return &s->keys[i];
	return NULL;
}

/*
 * Seals len bytes of plain (NULL only if len is 0) under the current key,
 * bound to ad (NUL-terminated, at most 1024 bytes) and to the blob header.
 * On SB_OK *blob (malloc'ed, caller frees with free()) holds *blob_len
 * bytes; otherwise *blob is NULL and *blob_len 0.  Returns SB_ERR_INVALID
 * for NULL arguments and SB_ERR_TOO_LARGE past SB_SECRETS_PLAIN_MAX or for
 * an overlong ad.
 */
enum sb_err
sb_secrets_seal(const struct sb_secrets *s, const void *plain, size_t len,
    const char *ad, unsigned char **blob, size_t *blob_len)
{
	static const unsigned char empty[1];
	unsigned char aad[SB_SECRETS_HEADER_BYTES + SECRETS_AD_MAX];
	unsigned char *b = NULL;
	unsigned long long clen = 0;
	size_t aadlen = 0;
	enum sb_err rc = SB_ERR_INVALID;

	if (blob == NULL || blob_len == NULL)
		goto out;
	*blob = NULL;
	*blob_len = 0;
	if (s == NULL || ad == NULL || (plain == NULL && len > 0))
		goto out;
	rc = SB_ERR_TOO_LARGE;
	if (len > SB_SECRETS_PLAIN_MAX)
		goto out;
	if ((b = malloc(len + SB_SECRETS_OVERHEAD)) == NULL) {
		rc = SB_ERR_NOMEM;
		goto out;
	}
	b[0] = SECRETS_VERSION;
	be32_put(b + SECRETS_ID_OFFSET, s->keys[0].id);
	randombytes_buf(b + SECRETS_NONCE_OFFSET,
	    crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
	if ((rc = ad_build(aad, b, ad, &aadlen)) != SB_OK)
		goto out;
	if (crypto_aead_xchacha20poly1305_ietf_encrypt(
	        b + SB_SECRETS_HEADER_BYTES, &clen, plain ? plain : empty, len,
	        aad, aadlen, NULL, b + SECRETS_NONCE_OFFSET,
	        s->keys[0].key) != 0) {
		rc = SB_ERR_CRYPTO;
		goto out;
	}
	*blob = b;
	*blob_len = SB_SECRETS_HEADER_BYTES + (size_t)clen;
	b = NULL;
out:
	free(b);
	return rc;
}

/*
 * Opens a blob made by sb_secrets_seal() with the same ad, under whichever
 * keyring key its key id names.  On SB_OK *plain holds *len bytes followed
 * by a NUL (not counted), and the caller frees it with
 * sb_secrets_plain_free(); otherwise *plain is NULL, *len 0, and the result
 * is SB_ERR_CRYPTO (tampered, wrong ad, unknown key id or version, or
 * malformed), or SB_ERR_INVALID for a NULL keyring or out-pointer, or
 * SB_ERR_NOMEM.  An unknown key id is logged (a missing old key).
 */
enum sb_err
sb_secrets_unseal(const struct sb_secrets *s, const unsigned char *blob,
    size_t blob_len, const char *ad, char **plain, size_t *len)
{
	unsigned char aad[SB_SECRETS_HEADER_BYTES + SECRETS_AD_MAX];
	const struct secrets_key *k;
	unsigned long long mlen = 0;
	size_t aadlen = 0;
	char *p = NULL;
	enum sb_err rc = SB_ERR_INVALID;

	if (plain == NULL || len == NULL)
		goto out;
	*plain = NULL;
	*len = 0;
	if (s == NULL)
		goto out;
	rc = SB_ERR_CRYPTO;
	if (blob == NULL || ad == NULL || blob_len < SB_SECRETS_OVERHEAD ||
	    blob_len - SB_SECRETS_OVERHEAD > SB_SECRETS_PLAIN_MAX ||
	    blob[0] != SECRETS_VERSION ||
	    ad_build(aad, blob, ad, &aadlen) != SB_OK)
		goto out;
	if ((k = keyring_find(s, be32_get(blob + SECRETS_ID_OFFSET))) == NULL) {
		sb_log(SB_LOG_WARN, SECRETS_COMPONENT, NULL,
		    "unseal: no key with id %08" PRIx32 " in the keyring",
		    be32_get(blob + SECRETS_ID_OFFSET));
		goto out;
	}
	if ((p = malloc(blob_len - SB_SECRETS_OVERHEAD + 1)) == NULL) {
		rc = SB_ERR_NOMEM;
		goto out;
	}
	if (crypto_aead_xchacha20poly1305_ietf_decrypt((unsigned char *)p,
	        &mlen, NULL, blob + SB_SECRETS_HEADER_BYTES,
	        blob_len - SB_SECRETS_HEADER_BYTES, aad, aadlen,
	        blob + SECRETS_NONCE_OFFSET, k->key) != 0)
		goto out;
	p[mlen] = '\0';
	*plain = p;
	*len = (size_t)mlen;
	p = NULL;
	rc = SB_OK;
out:
	free(p); /* libsodium writes no plaintext when the tag fails */
	return rc;
}

/* Wipes len bytes of plain and frees it; NULL is a no-op. */
void
sb_secrets_plain_free(char *plain, size_t len)
{
	if (plain != NULL) {
		sodium_memzero(plain, len);
		free(plain);
	}
}

/* True iff prefix is 1 to 8 characters of [a-z0-9]; *len is its length. */
static bool
token_prefix_valid(const char *prefix, size_t *len)
{
	size_t i;

	*len = strnlen(prefix, SECRETS_TOKEN_PREFIX_MAX + 1);
	if (*len == 0 || *len > SECRETS_TOKEN_PREFIX_MAX)
		return false;
	for (i = 0; i < *len; i++)
		if (!((prefix[i] >= 'a' && prefix[i] <= 'z') ||
		        (prefix[i] >= '0' && prefix[i] <= '9')))
			return false;
	return true;
}

/*
 * Writes "<prefix>_" and 43 base64url characters (32 random bytes, no
 * padding) and a NUL into out.  prefix is 1 to 8 characters of [a-z0-9],
 * else SB_ERR_INVALID; an outsize below strlen(prefix) + 45 gives
 * SB_ERR_TOO_LARGE (SB_SECRETS_TOKEN_MAX always fits).  On failure out, if
 * it has room, holds "".
 */
enum sb_err
sb_secrets_token_new(const char *prefix, char *out, size_t outsize)
{
	unsigned char rnd[SECRETS_TOKEN_RANDOM_BYTES];
	size_t plen = 0;
	enum sb_err rc = SB_ERR_INVALID;

	if (out != NULL && outsize > 0)
		out[0] = '\0';
	if (prefix == NULL || out == NULL || !token_prefix_valid(prefix, &plen))
		goto out;
	rc = SB_ERR_TOO_LARGE;
	if (outsize < plen + 1 + SECRETS_TOKEN_B64_SIZE)
		goto out;
	if ((rc = secrets_init()) != SB_OK)
		goto out;
	randombytes_buf(rnd, sizeof(rnd));
	memcpy(out, prefix, plen);
	out[plen] = '_';
	sodium_bin2base64(
	    out + plen + 1, outsize - plen - 1, rnd, sizeof(rnd), SECRETS_B64);
	sodium_memzero(rnd, sizeof(rnd));
out:
	return rc;
}

/*
 * Writes the keyed BLAKE2b digest of token, keyed with the subkey that
 * token_key_derive() made (from token.key, else from the master key), as
 * 64 lowercase hex and a NUL.  A NULL keyring or token writes "".
 */
void
sb_secrets_token_digest(const struct sb_secrets *s, const char *token,
    char out[SB_SECRETS_DIGEST_HEX])
{
	unsigned char d[SB_SECRETS_DIGEST_BYTES];

	if (s == NULL || token == NULL) {
		out[0] = '\0';
	} else {
		crypto_generichash(d, sizeof(d), (const unsigned char *)token,
		    strlen(token), s->token_key, sizeof(s->token_key));
		sodium_bin2hex(out, SB_SECRETS_DIGEST_HEX, d, sizeof(d));
	}
}

/* Constant-time equality of n bytes; false if n > 0 and either is NULL. */
bool
sb_secrets_equal(const void *a, const void *b, size_t n)
{
	if (n == 0)
		return true;
	if (a == NULL || b == NULL)
		return false;
	return sodium_memcmp(a, b, n) == 0;
}

/*
 * Constant-time equality of two strings by their unkeyed BLAKE2b digests:
 * the time depends on the lengths only.  False if either is NULL.
 */
bool
sb_secrets_equal_str(const char *a, const char *b)
{
	unsigned char da[crypto_generichash_BYTES];
	unsigned char db[crypto_generichash_BYTES];

	if (a == NULL || b == NULL || secrets_init() != SB_OK)
		return false;
	crypto_generichash(
	    da, sizeof(da), (const unsigned char *)a, strlen(a), NULL, 0);
	crypto_generichash(
	    db, sizeof(db), (const unsigned char *)b, strlen(b), NULL, 0);
	return sodium_memcmp(da, db, sizeof(da)) == 0;
}
