/*
 * Where the master key comes from: a table of key sources, one chosen by
 * the configuration (master_key_source), each loading the current master
 * key as 64 hex characters for the secrets store (sb/store/secrets.h) to
 * parse into its locked keyring.
 *
 *   file     var/secrets/master.key (mode 0600 in a 0700 directory), as
 *            `sbctl init` makes it; the default.
 *   env      the master_key setting, in practice SB_MASTER_KEY.
 *   command  the standard output of master_key_command, run with /bin/sh
 *            -c (operator configuration, like a cron line), for a secrets
 *            manager's CLI.  It is given master_key_command_timeout_ms, and
 *            must print exactly 64 hex characters and an optional newline.
 *
 * Older keys (for opening blobs sealed before a rotation) are
 * "<key id>.key" files in the keyring directory whatever the source, and
 * token.key stays there too (secrets.c).  Adding a source is one row in
 * the table in lib/store/keysource.c.
 */
#ifndef SB_KEYSOURCE_H
#define SB_KEYSOURCE_H

#include <stddef.h>

#include "sb/core/err.h"

#define SB_KEYSOURCE_HEX_LEN 64 /* a key's text: 32 bytes in hex */
#define SB_KEYSOURCE_HEX_SIZE (SB_KEYSOURCE_HEX_LEN + 1) /* with a NUL */
#define SB_KEYSOURCE_TIMEOUT_MS 5000 /* master_key_command's default */

/* What the sources read; each uses its own field and ignores the rest. */
struct sb_keysource_params {
	const char *dir; /* the keyring directory (file) */
	const char *key_hex; /* the master_key setting (env) */
	const char *command; /* master_key_command (command) */
	long timeout_ms; /* the command's time limit; <= 0: the default */
};

/*
 * A source.  load() writes the key's 64 hex characters and a NUL into hex
 * (SB_KEYSOURCE_HEX_SIZE bytes) and returns SB_OK, or logs why not (naming
 * the source, never the key or anything the command printed) and returns
 * SB_ERR_CONFIG (misconfigured, refused output) or SB_ERR_IO; hex is then
 * wiped.  The caller wipes hex after use.
 */
struct sb_keysource {
	const char *name; /* master_key_source's value */
	const char *description;
	enum sb_err (*load)(const struct sb_keysource_params *p, char *hex);
};

/*
 * Chooses the source named name: "file", "env" or "command"; NULL or ""
 * keeps the behaviour from before sources existed: env when p->key_hex is
 * set, else file.  SB_ERR_CONFIG (logged) for an unknown name, and when
 * the settings contradict the choice (a master_key given with the file or
 * command source, a command given with another source) so that a key in
 * the environment is never silently ignored.  On SB_OK *out is a row of a
 * static table (never freed); otherwise NULL.
 */
enum sb_err sb_keysource_choose(const char *name,
    const struct sb_keysource_params *p, const struct sb_keysource **out);

/*
 * Reads at most size bytes of the key file at path into buf, without a
 * NUL; *len is how many.  Refuses (SB_ERR_CONFIG, logged) a missing file,
 * a symlink, and a file that is not regular or that group or others may
 * access: a key anyone else can read is a key to rotate, not to use.
 * SB_ERR_IO (logged) if it cannot be read.
 */
enum sb_err sb_keysource_file_read(
    const char *path, char *buf, size_t size, size_t *len);

#endif
