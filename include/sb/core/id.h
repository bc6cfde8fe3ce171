/*
 * Random ids with a type prefix ("cn_" and 20 lowercase hex digits): there
 * are no accounts, so an id is unguessable and names exactly one thing.
 */
#ifndef SB_ID_H
#define SB_ID_H

#include <stdbool.h>
#include <stddef.h>

#include "sb/core/err.h"

#define SB_ID_RANDOM_BYTES 10 /* 80 random bits */
#define SB_ID_HEX_LEN (SB_ID_RANDOM_BYTES * 2)

/*
 * Writes prefix and SB_ID_HEX_LEN random hex digits into out (size bytes,
 * NUL-terminated).  SB_ERR_TOO_LARGE (out untouched) if they do not fit.
 */
enum sb_err sb_id_new(const char *prefix, char *out, size_t size);

/* True if s is prefix followed by exactly SB_ID_HEX_LEN lowercase hex digits.
 */
bool sb_id_valid(const char *prefix, const char *s, size_t len);

#endif
