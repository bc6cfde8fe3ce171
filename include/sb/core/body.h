/*
 * A request's JSON body, parsed and checked before a handler sees it: the
 * content type, the depth and value caps, and the responder's field table.
 * What fails is answered here (400, 413 or 415), so a handler either gets
 * its fields or returns.  Needs no context: the caps come with the request.
 */
#ifndef SB_BODY_H
#define SB_BODY_H

#include <stddef.h>

#include <cJSON.h>

#include "sb/core/request.h"

/*
 * Parses req's body as JSON (nested at most req->json_depth_max deep, or
 * SB_REQUEST_JSON_DEPTH_MAX when that is 0) and validates it against
 * fields (field_count rows; fields NULL skips validation).  On success
 * returns the object, owned by req (freed by sb_request_clear), and, if
 * values is not NULL, sets values[i] to the value of fields[i] (NULL when
 * absent or JSON null), so that a handler reads its fields by the enum its
 * table is indexed by, never by name again.  Otherwise has already sent the
 * error response (400 naming the problem, 413 past the caps, 415 for a
 * content type other than JSON) and returns NULL.
 */
cJSON *sb_body_json(struct sb_request *req, const struct sb_field *fields,
    size_t field_count, const cJSON **values);

#endif
