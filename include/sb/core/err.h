/*
 * One error enum for the whole library (STYLE.md rule 2).  Every exported
 * function that can fail returns an enum sb_err; SB_OK is zero so that
 * "if (rc != SB_OK) goto out;" reads naturally.
 */
#ifndef SB_ERR_H
#define SB_ERR_H

enum sb_err {
	SB_OK = 0,
	SB_ERR_NOMEM, /* allocation or arena cap exhausted */
	SB_ERR_INVALID, /* caller input failed validation */
	SB_ERR_NOT_FOUND, /* no such row, route, key or job */
	SB_ERR_TOO_LARGE, /* a named size cap was exceeded */
	SB_ERR_DB, /* SQLite reported an error */
	SB_ERR_BUSY, /* SQLite stayed busy past every retry */
	SB_ERR_CRYPTO, /* seal/open failed: tampered or wrong key */
	SB_ERR_IO, /* file system or socket error */
	SB_ERR_UPSTREAM, /* outbound call failed or answered garbage */
	SB_ERR_TIMEOUT, /* outbound call ran out of time */
	SB_ERR_CONFLICT, /* state forbids the change */
	SB_ERR_UNAUTHORIZED, /* credentials missing or wrong */
	SB_ERR_CONFIG, /* configuration missing or malformed */
	SB_ERR_STORAGE, /* the store cannot write: disk full, read-only, I/O */
	SB_ERR__MAX
};

/* Returns a static, human-readable name for rc; never NULL. */
const char *sb_strerror(enum sb_err rc);

#endif
