/*
 * The one outbound HTTP client (libcurl).  A client owns one easy handle
 * reused across requests in a process (connection reuse), and enforces:
 * connect and total timeouts, a response size cap in the write callback,
 * protocols limited to http and https, no redirects followed, CR/LF
 * rejected in header names and values, and retries with exponential backoff
 * and full jitter that honour Retry-After (seconds or HTTP date) and the
 * providers' rate-limit reset headers, both measured against the answer's
 * Date so that a skewed clock on either side does no harm.  What is
 * retried and what never is: docs/throttling-and-retries.md.
 */
#ifndef SB_HTTP_H
#define SB_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "sb/core/err.h"

#define SB_HTTP_HEADERS_MAX 32 /* request or kept response headers */
#define SB_HTTP_HEADER_LINE_MAX 8192 /* one header line, name and value */
#define SB_HTTP_URL_MAX 4096
#define SB_HTTP_ERROR_MAX 256

struct sb_http_limits {
	long connect_timeout_ms;
	long total_timeout_ms; /* per attempt */
	size_t response_max; /* body bytes; more fails with TOO_LARGE */
	int max_attempts; /* 1 = no retry */
	long backoff_base_ms;
	long backoff_cap_ms; /* also caps an honoured Retry-After */
};

struct sb_http_header {
	const char *name;
	const char *value;
};

struct sb_http_request {
	const char *method; /* GET, POST, PUT, PATCH, DELETE, HEAD */
	const char *url;
	const struct sb_http_header *headers;
	size_t header_count;
	const char *body; /* may be NULL */
	size_t body_len;
	/*
	 * Retry policy: network errors, timeouts and 500/502/503/504 answers
	 * are retried for reads (GET, HEAD) only; a write (POST, PUT, PATCH,
	 * DELETE) is sent once, since it may have been done, unless
	 * retry_unsafe is set.  A 429 (the provider refused before acting) is
	 * retried for every method unless keep_429 is set: then it comes back
	 * at once, for a caller that throttles on its own
	 * (lib/connect/call_throttle.c).
	 */
	bool retry_unsafe;
	bool keep_429;
};

struct sb_http_response {
	long status; /* 0 if no answer */
	char *body; /* malloc'ed, NUL-terminated, may be NULL */
	size_t body_len;
	char *content_type; /* malloc'ed or NULL */
	size_t header_count;
	struct {
		char *name; /* malloc'ed, as received */
		char *value; /* malloc'ed, trimmed */
	} headers[SB_HTTP_HEADERS_MAX]; /* last attempt's; extras dropped */
	int attempts; /* attempts made */
	long elapsed_ms; /* all attempts and waits */
	char error[SB_HTTP_ERROR_MAX]; /* why it failed, for logs; no secrets */
};

struct sb_http;

/*
 * Makes a client with the given limits.  On SB_OK *out is set and the
 * caller frees it with sb_http_free(); otherwise *out is NULL.
 * SB_ERR_INVALID if a timeout or response_max is not positive, a backoff
 * is negative, max_attempts is outside 1..10, or limits or out is NULL;
 * SB_ERR_NOMEM if the client or its curl handle cannot be made.
 * sb_http_global_init() must have run.
 */
enum sb_err sb_http_new(
    const struct sb_http_limits *limits, struct sb_http **out);

/* Frees the client and its handle; NULL is a no-op. */
void sb_http_free(struct sb_http *http);

/*
 * Process-wide set-up of libcurl and of libsodium (which draws the retry
 * jitter); call once in main() before any thread starts.  SB_ERR_CRYPTO if
 * libsodium fails to start, SB_ERR_IO if libcurl does.
 */
enum sb_err sb_http_global_init(void);

/*
 * Sends req, retrying as the policy allows.  resp is caller storage; it is
 * cleared first and on return holds the last attempt.  Returns SB_OK when
 * an HTTP answer arrived (whatever its status); SB_ERR_INVALID for a bad
 * method, URL, scheme or a header with CR/LF (nothing is sent);
 * SB_ERR_TIMEOUT when the last attempt timed out; SB_ERR_TOO_LARGE when
 * the body passed response_max; SB_ERR_UPSTREAM when the peer could not be
 * reached or answered something that is not HTTP.  Free with
 * sb_http_response_clear() in every case.
 */
enum sb_err sb_http_perform(struct sb_http *http,
    const struct sb_http_request *req, struct sb_http_response *resp);

/* Frees what resp holds and zeroes it; safe on a zeroed resp. */
void sb_http_response_clear(struct sb_http_response *resp);

/*
 * Case-insensitive look-up of a kept response header: the first one called
 * name, borrowed from resp until it is cleared.  NULL if absent or if resp
 * or name is NULL.
 */
const char *sb_http_response_header(
    const struct sb_http_response *resp, const char *name);

/*
 * True if the policy above lets an answer of status to req be retried
 * (attempts and the deadline aside).  False for a NULL req or an unknown
 * method.
 */
bool sb_http_retry_status(const struct sb_http_request *req, long status);

/*
 * The answer's Date header (RFC 9110 section 6.6.1) as epoch seconds, the
 * other side's clock; now when resp is NULL or the header is absent or
 * does not parse.
 */
time_t sb_http_response_date(const struct sb_http_response *resp, time_t now);

/*
 * Sets the kept header name of resp to a copy of value: replaces the first
 * one of that name (any case), else appends, else (all SB_HTTP_HEADERS_MAX
 * kept) replaces the last.  SB_ERR_NOMEM if a copy cannot be made (resp is
 * then unchanged); SB_ERR_INVALID for NULL arguments.
 */
enum sb_err sb_http_response_header_set(
    struct sb_http_response *resp, const char *name, const char *value);

/*
 * How long to wait, in ms, before attempt number attempt (1 = the first
 * retry), given the previous answer (may be NULL for network errors):
 * Retry-After (delta seconds or HTTP date), then X-RateLimit-Reset /
 * X-Rate-Limit-Reset / RateLimit-Reset (epoch seconds or delta), else full
 * jitter: uniform in [0, min(cap, base * 2^(attempt-1))].  Never more than
 * limits->backoff_cap_ms.  Retry-After is read after a 429 or a 503 only,
 * the reset headers after a 429 only.  HTTP dates and epoch resets are
 * measured against the answer's Date (sb_http_response_date()); now is
 * the current time, used when there is none.  Cannot fail: headers that do not
 * parse fall through to the jitter, and a NULL limits gives 0.
 */
long sb_http_retry_delay_ms(const struct sb_http_response *prev, int attempt,
    const struct sb_http_limits *limits, time_t now);

/*
 * Sets the deadline (a point on the monotonic clock, sb/core/deadline.h;
 * SB_DEADLINE_NONE for none) every later sb_http_perform() on http keeps
 * to: each attempt's timeout is cut to what is left, no attempt starts
 * after it (SB_ERR_TIMEOUT), and no retry is made whose wait does not fit
 * in it, nor one after a 429 or 503 whose Retry-After asks for more than
 * the backoff cap: that answer is returned as it came, for the caller to
 * pass back.  NULL http is a no-op.
 */
void sb_http_deadline_set(struct sb_http *http, int64_t deadline);

/*
 * The wait resp's Retry-After header asks for (delta seconds or an HTTP
 * date, RFC 9110 section 10.2.3, measured against the answer's Date, or
 * now without one) in milliseconds, at most cap; -1 when the header is
 * absent or malformed.
 */
long sb_http_retry_after_ms(
    const struct sb_http_response *resp, time_t now, long cap);

#endif
