/*
 * Names for enum sb_err, kept in a table parallel to the enum.
 */
#include <stddef.h>

#include "sb/core/err.h"

static const char *const names[SB_ERR__MAX] = {
	[SB_OK] = "ok",
	[SB_ERR_NOMEM] = "out of memory",
	[SB_ERR_INVALID] = "invalid input",
	[SB_ERR_NOT_FOUND] = "not found",
	[SB_ERR_TOO_LARGE] = "too large",
	[SB_ERR_DB] = "database error",
	[SB_ERR_BUSY] = "database busy",
	[SB_ERR_CRYPTO] = "cryptographic check failed",
	[SB_ERR_IO] = "input/output error",
	[SB_ERR_UPSTREAM] = "upstream error",
	[SB_ERR_TIMEOUT] = "timed out",
	[SB_ERR_CONFLICT] = "conflict",
	[SB_ERR_UNAUTHORIZED] = "unauthorized",
	[SB_ERR_CONFIG] = "configuration error",
	[SB_ERR_STORAGE] = "storage unavailable",
};

const char *
sb_strerror(enum sb_err rc)
{
	if ((unsigned)rc >= SB_ERR__MAX || names[rc] == NULL)
		return "unknown error";
	return names[rc];
}
