/*
 * Responses: every answer is JSON with a status, the headers added with
 * sb_response_header(), and one error shape.  The shape is the library's
 * {"error": {"code", "message"}} unless the responder's API document
 * dictates another (the hosting API's {"name", "message"}).
 */
#ifndef SB_RESPONSE_H
#define SB_RESPONSE_H

#include <cJSON.h>

#include "sb/core/err.h"
#include "sb/core/request.h"

#define SB_RESPONSE_BUSY_RETRY_S "1" /* Retry-After of a 503 busy, a 429 */
#define SB_RESPONSE_STORAGE_RETRY_S \
	"10" /* Retry-After: the store cannot write */

enum sb_response_style {
	SB_RESPONSE_STYLE_CODE, /* {"error": {"code", "message"}} */
	SB_RESPONSE_STYLE_NAME, /* {"name", "message"} */
	SB_RESPONSE_STYLE__MAX
};

/* Adds a header to the response (copied into the arena); values holding
 * CR or LF are refused with SB_ERR_INVALID. */
enum sb_err sb_response_header(
    struct sb_request *req, const char *name, const char *value);

/*
 * Sends status, the added headers, content_type and len bytes of body.  In
 * tests (req->fcgi NULL) only records the status.  A second send on one
 * request is refused.
 */
enum sb_err sb_response_send(struct sb_request *req, int status,
    const char *content_type, const char *body, size_t len);

/* Prints json unformatted and sends it as application/json. */
enum sb_err sb_response_json(
    struct sb_request *req, int status, const cJSON *json);

/* Sends 204 with no body. */
enum sb_err sb_response_no_content(struct sb_request *req);

/*
 * Sends the error shape of req->error_style.  code is a stable machine name
 * ("not_found"); the style NAME uses it as "name" after mapping through the
 * status ("NotFound").  message is for humans and must hold no secret.
 * Either shape carries the header "Switchboard-Error: <code>", which marks
 * Switchboard's own errors apart from a provider's answers passed through.
 */
enum sb_err sb_response_error(
    struct sb_request *req, int status, const char *code, const char *message);

/*
 * As sb_response_error() with one more member of the error object: name
 * holding a copy of detail (both may be NULL: none).  The integrations
 * carry the fields at fault ("fields") and a provider's error body
 * ("upstream") so.
 */
enum sb_err sb_response_error_detail(struct sb_request *req, int status,
    const char *code, const char *message, const char *name,
    const cJSON *detail);

/*
 * As sb_response_error() with, when fields is not NULL, a copy of it as
 * the error's "fields" (a list of {"field", "message"}: every bad field
 * of the request at once).
 */
enum sb_err sb_response_error_fields(struct sb_request *req, int status,
    const char *code, const char *message, const cJSON *fields);

/* As sb_response_error() with a printf-formatted message. */
enum sb_err sb_response_errorf(
    struct sb_request *req, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/*
 * Answers a storage failure that is not the caller's doing: 503 "busy"
 * with Retry-After: 1 for SB_ERR_BUSY (a lock held too long), 503
 * "storage_unavailable" with Retry-After: 10 for SB_ERR_STORAGE (the store
 * cannot write: disk full, read-only, I/O errors), else 500 "internal";
 * the message names what could not be done ("the connection could not be
 * stored") and no internals; the error itself is logged with the request
 * id.
 */
enum sb_err sb_response_store_failed(
    struct sb_request *req, enum sb_err rc, const char *what);

/* The reason phrase of status ("Not Found"); "Unknown" if none. */
const char *sb_response_reason(int status);

#endif
