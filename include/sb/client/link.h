/*
 * The HTTP Link header (RFC 8288): finding the target of the link with a
 * given relation type, as a paginated provider's answer names its next
 * page (`Link: <https://org/api/v1/users?after=00u1>; rel="next"`).
 *
 * The parser follows section 3's grammar: a comma-separated list (empty
 * elements allowed, as RFC 9110's #rule says) of `<URI-Reference>` each
 * followed by `;`-separated parameters whose values are tokens or quoted
 * strings (backslash escapes undone); white space is allowed around `;`,
 * `,` and `=`.  Parameter names are matched without regard to case, only
 * the first `rel` of a link counts (section 3.3), and `rel` may hold
 * several relation types separated by spaces, each compared without
 * regard to case.  Commas and semicolons inside `<...>` or a quoted
 * string are part of it.  Several Link headers are one value joined with
 * ", " (RFC 9110 section 5.3).
 */
#ifndef SB_LINK_H
#define SB_LINK_H

#include <stddef.h>

#include "sb/core/err.h"

#define SB_LINK_VALUE_MAX 16384 /* bytes of a header value parsed */
#define SB_LINK_PARAM_MAX 512 /* bytes of one parameter value, unescaped */

/*
 * Finds the first link of value whose rel holds the relation type rel and
 * copies its target (the URI-Reference as written, relative or not) with
 * a NUL into out (outsize bytes).  SB_OK if found; SB_ERR_NOT_FOUND if no
 * link has that relation (an empty or NULL value too); SB_ERR_INVALID if
 * value is malformed anywhere, even after the link found; SB_ERR_TOO_LARGE
 * if value passes SB_LINK_VALUE_MAX, a parameter value SB_LINK_PARAM_MAX,
 * or the target does not fit out.  out holds "" unless SB_OK.
 */
enum sb_err sb_link_find(
    const char *value, const char *rel, char *out, size_t outsize);

#endif
