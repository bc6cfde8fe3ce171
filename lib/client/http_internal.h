/*
 * What lib/client/http.c (requests, attempts and retries) and
 * lib/client/http_response.c (the answer, as curl's callbacks fill it) share.
 * Private to the HTTP client: nothing outside lib/http*.c includes it, and the
 * public API stays in include/sb/client/http.h.
 */
#ifndef SB_HTTP_INTERNAL_H
#define SB_HTTP_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "sb/client/http.h"

/* What curl's callbacks share during one attempt. */
struct transfer {
	struct sb_http_response *resp;
	size_t response_max;
	size_t body_alloc;
	long line_status; /* from the last status line seen */
	bool nobody;
	bool too_large;
	bool nomem;
};

/*
 * Drops what the previous attempt left in xfer->resp (body, content type,
 * kept headers, status, error) and the callbacks' state in xfer, keeping
 * attempts and timing.  Cannot fail.
 */
void http_transfer_reset(struct transfer *xfer);

/*
 * curl's write callback (arg is the struct transfer): appends to the body,
 * kept NUL-terminated.  Returns size * nmemb, or 0 to abort the transfer
 * with xfer->too_large set past response_max or xfer->nomem set if the
 * buffer could not grow.  The body belongs to xfer->resp.
 */
size_t http_body_write(char *data, size_t size, size_t nmemb, void *arg);

/*
 * curl's header callback (arg is the struct transfer).  A status line
 * starts a new answer and drops the headers kept so far; a "name: value"
 * line is kept (owned by xfer->resp) up to SB_HTTP_HEADERS_MAX.  Returns
 * size * nitems, or 0 to abort with xfer->too_large set when
 * Content-Length announces a body past response_max, or xfer->nomem set.
 */
size_t http_header_write(char *data, size_t size, size_t nitems, void *arg);

#endif
