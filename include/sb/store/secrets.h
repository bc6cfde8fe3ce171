/*
 * The secrets store: sealing credentials at rest and digesting tokens, all
 * through libsodium.
 *
 * A sealed blob is: version byte (1) | key id (4, big endian) | nonce (24) |
 * XChaCha20-Poly1305 ciphertext and tag.  The additional data given at seal
 * time (e.g. "connections:42:credentials") binds the blob to its row: the
 * same blob opened with other additional data fails.  Keys live in a
 * keyring directory (var/secrets/, mode 0700; files mode 0600) and never in
 * the database: "master.key" is the current key, "<keyid>.key" files are
 * older keys still accepted for opening.  The current key may come from
 * another source instead of master.key (sb/store/keysource.h: the
 * SB_MASTER_KEY setting, a command's output); the older keys stay files.
 *
 * Token digests are keyed BLAKE2b with a subkey derived from token.key (made
 * beside master.key and never rotated, so issued tokens outlive a master
 * key rotation; without it, from the master key), so a database dump alone
 * cannot be used to test guesses offline.
 */
#ifndef SB_SECRETS_H
#define SB_SECRETS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sb/core/err.h"
#include "sb/store/keysource.h"

#define SB_SECRETS_KEY_BYTES 32
#define SB_SECRETS_DIGEST_BYTES 32
#define SB_SECRETS_DIGEST_HEX (SB_SECRETS_DIGEST_BYTES * 2 + 1)
#define SB_SECRETS_HEADER_BYTES (1 + 4 + 24)
#define SB_SECRETS_OVERHEAD (SB_SECRETS_HEADER_BYTES + 16)
#define SB_SECRETS_TOKEN_MAX 64 /* buffer size for sb_secrets_token_new */
#define SB_SECRETS_KEYS_MAX 16 /* keys in a keyring */
#define SB_SECRETS_PLAIN_MAX (64 * 1024)

struct sb_secrets;

/*
 * Creates dir (0700) if missing and writes a new random master.key and
 * token.key (0600) unless they exist, which are left alone.  *created (if not
 * NULL) tells whether master.key was made.  SB_ERR_INVALID for a NULL or empty
 * dir, SB_ERR_IO (logged) when the directory or a key file cannot be made or
 * written (a partly written key file is removed), SB_ERR_CRYPTO if
 * libsodium fails to start.
 */
enum sb_err sb_secrets_keygen(const char *dir, bool *created);

/*
 * sb_secrets_keygen() in p->dir, making master.key only when the key
 * source that source and p choose (sb_keysource_choose()) is the file;
 * token.key is made whatever the source.  SB_ERR_CONFIG (logged) for a
 * source refused by sb_keysource_choose(); otherwise as above.
 */
enum sb_err sb_secrets_keygen_source(
    const char *source, const struct sb_keysource_params *p, bool *created);

/*
 * Loads the keyring: the current key from the source named source (see
 * sb_keysource_choose(); NULL or "" for the default), the older keys and
 * token.key from p->dir, which may be NULL or missing for a source other
 * than the file.  On SB_OK *out is set and the caller frees it with
 * sb_secrets_free(); otherwise *out is NULL.  Key material is held in
 * sodium_malloc'ed memory and wiped on free.  SB_ERR_INVALID for NULL
 * arguments or the file source without p->dir; SB_ERR_CONFIG (logged,
 * naming the source, never the key) for a misconfigured or failing source,
 * a malformed or missing master key, a key file that is not a private
 * regular file (no group or other bits) or more than SB_SECRETS_KEYS_MAX
 * keys; SB_ERR_IO if a key file or dir cannot be read; SB_ERR_NOMEM;
 * SB_ERR_CRYPTO if libsodium fails.
 */
enum sb_err sb_secrets_open_source(const char *source,
    const struct sb_keysource_params *p, struct sb_secrets **out);

/*
 * sb_secrets_open_source() with the default source: env_key_hex, if not
 * NULL or empty, is the current key instead of dir/master.key.
 * SB_ERR_INVALID without dir or env_key_hex; otherwise as above.
 */
enum sb_err sb_secrets_open(
    const char *dir, const char *env_key_hex, struct sb_secrets **out);

/* Wipes and frees; NULL is a no-op. */
void sb_secrets_free(struct sb_secrets *s);

/* The current key's id (for logs and rotation; not secret); 0 for NULL. */
uint32_t sb_secrets_key_id(const struct sb_secrets *s);

/*
 * Seals len bytes of plain bound to ad.  On SB_OK *blob (malloc'ed, caller
 * frees with free()) holds *blob_len bytes; otherwise *blob is NULL and
 * *blob_len 0.  SB_ERR_INVALID for a NULL keyring, ad or out-pointer (or
 * NULL plain with len > 0); SB_ERR_TOO_LARGE past SB_SECRETS_PLAIN_MAX or
 * for an ad over 1024 bytes; SB_ERR_NOMEM; SB_ERR_CRYPTO if sealing fails.
 */
enum sb_err sb_secrets_seal(const struct sb_secrets *s, const void *plain,
    size_t len, const char *ad, unsigned char **blob, size_t *blob_len);

/*
 * Opens a blob made by sb_secrets_seal() with the same ad.  On SB_OK *plain
 * holds *len bytes followed by a NUL (not counted), and the caller frees it
 * with sb_secrets_plain_free(); otherwise *plain is NULL, *len 0, and the
 * result is SB_ERR_CRYPTO (tampered, wrong ad, unknown key id or
 * malformed; an unknown key id is logged), SB_ERR_INVALID for a NULL
 * keyring or out-pointer, or SB_ERR_NOMEM.
 */
enum sb_err sb_secrets_unseal(const struct sb_secrets *s,
    const unsigned char *blob, size_t blob_len, const char *ad, char **plain,
    size_t *len);

/* Wipes len bytes of plain and frees it; NULL is a no-op. */
void sb_secrets_plain_free(char *plain, size_t len);

/*
 * Writes a new random token "<prefix>_" followed by 43 base64url characters
 * (32 random bytes) and a NUL into out (SB_SECRETS_TOKEN_MAX bytes always
 * fit).  prefix is 1 to 8 characters of [a-z0-9], else SB_ERR_INVALID; an
 * outsize too small for the token gives SB_ERR_TOO_LARGE.  On failure out,
 * if it has room, holds "".
 */
enum sb_err sb_secrets_token_new(const char *prefix, char *out, size_t outsize);

/*
 * Keyed BLAKE2b digest of token into out (caller storage), as lowercase
 * hex with a NUL.  Cannot fail; a NULL keyring or token writes "".
 */
void sb_secrets_token_digest(const struct sb_secrets *s, const char *token,
    char out[SB_SECRETS_DIGEST_HEX]);

/*
 * Constant-time equality of n bytes (sodium_memcmp); true for n 0, false
 * if either is NULL.
 */
bool sb_secrets_equal(const void *a, const void *b, size_t n);

/*
 * Constant-time equality of two NUL-terminated strings: compares digests of
 * both so the time depends on neither content nor where they differ.
 * False if either is NULL.
 */
bool sb_secrets_equal_str(const char *a, const char *b);

#endif
