/*
 * Validation of the path a caller asks Switchboard to call on a provider.
 * The caller supplies only a path; Switchboard supplies scheme, host and
 * port.  A path that could change where the request goes, or smuggle a
 * header, is refused before anything is sent.
 */
#ifndef SB_PATH_H
#define SB_PATH_H

#include <stddef.h>

#include "sb/core/err.h"

#define SB_PATH_MAX 2048
#define SB_PATH_ERROR_MAX 128

/*
 * Checks the len bytes of path.  Accepted: starts with '/', at most
 * SB_PATH_MAX bytes, and holds none of the following, raw or
 * percent-encoded (any depth of encoding, e.g. %252e): a ".." segment
 * (also "." segments), "//", '\', '#', '?', a scheme prefix
 * ("http:", "https:", "//", any "<alpha>+:" before the first '/'), CR, LF,
 * NUL or other control bytes, spaces, and malformed %-escapes; nor a raw
 * '@' (percent-encoded, "%40", it is allowed).  On failure
 * returns SB_ERR_INVALID (SB_ERR_TOO_LARGE past SB_PATH_MAX) and writes the
 * reason with the byte offset into err.
 */
enum sb_err sb_path_validate(
    const char *path, size_t len, char *err, size_t errsize);

#endif
