/*
 * HTTP header values, read and written the same way everywhere: which text
 * may go into a header, and the credentials of an Authorization header.
 */
#ifndef SB_HEADER_H
#define SB_HEADER_H

#include <stdbool.h>

/*
 * True if s may be a header's name or value: no control byte but tab (CR
 * and LF above all) and no DEL; false for NULL.  Used for headers going
 * out both ways, to callers and to providers.
 */
bool sb_header_safe(const char *s);

/*
 * The token of an "Authorization: Bearer <token>" header value, borrowed
 * from authorization, or NULL when there is none.  The scheme is matched
 * without regard to case (RFC 9110 section 11.1); spaces after it are
 * skipped; the token itself is returned exactly.
 */
const char *sb_header_bearer(const char *authorization);

/*
 * True if content_type (a Content-Type value, parameters allowed) names
 * JSON: application/json in any case, and with suffix_too any "+json" type
 * (application/problem+json).  False for NULL.
 */
bool sb_header_media_json(const char *content_type, bool suffix_too);

#endif
