/*
 * The one outbound HTTP client, on libcurl.  A struct sb_http owns one easy
 * handle that every request of the process reuses, so that curl's
 * connection cache keeps upstream connections alive.  Each request is
 * validated in full before anything is sent (method table, http/https URL,
 * header tokens without CR/LF), then sent with http and https as the only
 * protocols, no redirects, connect and total timeouts and a response body
 * cap enforced in the write callback.  The callbacks that fill the answer
 * are in lib/client/http_response.c and the retry waits in
 * lib/client/http_retry.c.
 *
 * Retries follow the policy in sb/client/http.h, decided by two tables: answers
 * (429 and 500/502/503/504) and curl errors.  Two choices the header leaves
 * open: a timeout is retried like any network error, so only for reads (GET,
 * HEAD) unless retry_unsafe is set (a write that timed out may have been
 * done); an answer over response_max is never retried, since the same
 * request will get the same answer.  Waits come from
 * sb_http_retry_delay_ms() and each retry is logged with the method and
 * the scheme://host:port only: never the path, query, headers or bodies.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>
#include <sodium.h>

#include "http_internal.h"
#include "sb/core/header.h"
#include "sb/core/deadline.h"
#include "sb/core/log.h"

#if LIBCURL_VERSION_NUM < 0x075500
#error "libcurl 7.85 or later is needed for CURLOPT_PROTOCOLS_STR"
#endif

#define HTTP_ATTEMPTS_MAX 10 /* max_attempts above this is refused */
#define HTTP_ATTEMPT_MIN_MS 100 /* a retry needs at least this much time */
#define HTTP_ORIGIN_MAX 512 /* scheme://host:port for logs */
#define LEN(a) (sizeof(a) / sizeof((a)[0]))
#define HTTP_TOKEN_EXTRA "!#$%&'*+-.^_`|~" /* RFC 9110 tchar besides alnum */

struct sb_http {
	CURL *curl;
	struct sb_http_limits limits;
	int64_t deadline; /* the current request's (sb/core/deadline.h) */
};

static const struct method {
	const char *name;
	bool read; /* every retryable failure may be retried */
	bool nobody; /* HEAD: no body in the answer */
	bool custom; /* curl needs CURLOPT_CUSTOMREQUEST for it */
	bool body_allowed; /* a request body may be sent */
	bool body_always; /* send Content-Length: 0 when body is NULL */
} methods[] = {
	{ "GET", true, false, false, false, false },
	{ "HEAD", true, true, false, false, false },
	{ "POST", false, false, false, true, true },
	{ "PUT", false, false, true, true, true },
	{ "PATCH", false, false, true, true, true },
	{ "DELETE", false, false, true, true, false },
};

/* Answers worth another attempt. */
static const struct retry_status {
	long status;
	bool writes_too; /* for every method: the provider did nothing */
} retry_statuses[] = {
	{ 429, true },
	{ 500, false },
	{ 502, false },
	{ 503, false },
	{ 504, false },
};

/* curl failures; any code not listed is SB_ERR_UPSTREAM, not retried. */
static const struct curl_failure {
	CURLcode code;
	enum sb_err rc;
	bool retry; /* for reads, or with retry_unsafe */
} curl_failures[] = {
	{ CURLE_OPERATION_TIMEDOUT, SB_ERR_TIMEOUT, true },
	{ CURLE_COULDNT_RESOLVE_HOST, SB_ERR_UPSTREAM, true },
	{ CURLE_COULDNT_RESOLVE_PROXY, SB_ERR_UPSTREAM, true },
	{ CURLE_COULDNT_CONNECT, SB_ERR_UPSTREAM, true },
	{ CURLE_SEND_ERROR, SB_ERR_UPSTREAM, true },
	{ CURLE_RECV_ERROR, SB_ERR_UPSTREAM, true },
	{ CURLE_GOT_NOTHING, SB_ERR_UPSTREAM, true },
	{ CURLE_PARTIAL_FILE, SB_ERR_UPSTREAM, true },
	{ CURLE_SSL_CONNECT_ERROR, SB_ERR_UPSTREAM, true },
	{ CURLE_HTTP2, SB_ERR_UPSTREAM, true },
	{ CURLE_HTTP2_STREAM, SB_ERR_UPSTREAM, true },
	{ CURLE_WEIRD_SERVER_REPLY, SB_ERR_UPSTREAM, false },
	{ CURLE_UNSUPPORTED_PROTOCOL, SB_ERR_UPSTREAM, false },
	{ CURLE_PEER_FAILED_VERIFICATION, SB_ERR_UPSTREAM, false },
	{ CURLE_BAD_CONTENT_ENCODING, SB_ERR_UPSTREAM, false },
	{ CURLE_FILESIZE_EXCEEDED, SB_ERR_TOO_LARGE, false },
	{ CURLE_OUT_OF_MEMORY, SB_ERR_NOMEM, false },
	{ CURLE_URL_MALFORMAT, SB_ERR_INVALID, false },
};

/* Options with fixed values, set before every request. */
static const struct {
	CURLoption option;
	long value;
} fixed_long_options[] = {
	{ CURLOPT_FOLLOWLOCATION, 0L },
	{ CURLOPT_NOSIGNAL, 1L },
};

static const struct {
	CURLoption option;
	const char *value;
} fixed_string_options[] = {
	{ CURLOPT_PROTOCOLS_STR, "http,https" },
	{ CURLOPT_REDIR_PROTOCOLS_STR, "http,https" },
};

/* Where the callbacks find their struct transfer. */
static const CURLoption data_options[] = { CURLOPT_WRITEDATA,
	CURLOPT_HEADERDATA };

static const char *const url_prefixes[] = { "http://", "https://" };

/* Everything one sb_http_perform() call needs. */
struct call {
	struct sb_http *http;
	const struct sb_http_request *req;
	const struct method *method;
	CURLU *url;
	struct curl_slist *headers;
	struct transfer xfer;
};

static enum sb_err fail(struct sb_http_response *, enum sb_err, const char *,
    ...) __attribute__((format(printf, 3, 4)));

/* Records why in resp->error and returns rc, so "rc = fail(...)" reads. */
static enum sb_err
fail(struct sb_http_response *resp, enum sb_err rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(resp->error, sizeof(resp->error), fmt, ap);
	va_end(ap);
	return rc;
}

static bool
limits_valid(const struct sb_http_limits *limits)
{
	return limits != NULL && limits->connect_timeout_ms > 0 &&
	    limits->total_timeout_ms > 0 && limits->response_max > 0 &&
	    limits->response_max < SIZE_MAX && limits->max_attempts >= 1 &&
	    limits->max_attempts <= HTTP_ATTEMPTS_MAX &&
	    limits->backoff_base_ms >= 0 && limits->backoff_cap_ms >= 0;
}

/*
 * Makes a client: on SB_OK *out is set and the caller frees it with
 * sb_http_free(); otherwise *out is NULL.  SB_ERR_INVALID if a limit is
 * zero or negative, or max_attempts passes HTTP_ATTEMPTS_MAX.
 */
enum sb_err
sb_http_new(const struct sb_http_limits *limits, struct sb_http **out)
{
	struct sb_http *http = NULL;
	enum sb_err rc = SB_ERR_INVALID;

	if (out == NULL)
		goto out;
	*out = NULL;
	if (!limits_valid(limits))
		goto out;
	rc = SB_ERR_NOMEM;
	if ((http = calloc(1, sizeof(*http))) == NULL)
		goto out;
	if ((http->curl = curl_easy_init()) == NULL)
		goto out;
	http->limits = *limits;
	*out = http;
	http = NULL;
	rc = SB_OK;
out:
	sb_http_free(http);
	return rc;
}

void
sb_http_deadline_set(struct sb_http *http, int64_t deadline)
{
	if (http != NULL)
		http->deadline = deadline;
}

/* Frees the client and closes its cached connections; NULL is a no-op. */
void
sb_http_free(struct sb_http *http)
{
	if (http == NULL)
		return;
	if (http->curl != NULL)
		curl_easy_cleanup(http->curl);
	free(http);
}

/*
 * Initialises libcurl and libsodium (whose generator draws the jitter).
 * Call once in main() before any thread starts.  SB_ERR_IO if libcurl
 * fails to start, SB_ERR_CRYPTO if libsodium does.
 */
enum sb_err
sb_http_global_init(void)
{
	enum sb_err rc = SB_ERR_CRYPTO;

	if (sodium_init() < 0)
		goto out;
	rc = SB_ERR_IO;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		goto out;
	rc = SB_OK;
out:
	return rc;
}

/* True if s holds no CR or LF before its NUL; NULL is not safe. */
static const struct method *
method_find(const char *name)
{
	for (size_t i = 0; name != NULL && i < LEN(methods); i++)
		if (strcmp(methods[i].name, name) == 0)
			return &methods[i];
	return NULL;
}

/* True if name is a non-empty RFC 9110 token (so no ':', space, CR, LF). */
static bool
header_name_valid(const char *name)
{
	if (name == NULL || *name == '\0')
		return false;
	for (const char *p = name; *p != '\0'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		        (*p >= '0' && *p <= '9') ||
		        strchr(HTTP_TOKEN_EXTRA, *p) != NULL))
			return false;
	return true;
}

/* Checks the caller's headers; messages name the index, never a value. */
static enum sb_err
headers_validate(
    const struct sb_http_request *req, struct sb_http_response *resp)
{
	const struct sb_http_header *h;

	if (req->header_count > SB_HTTP_HEADERS_MAX)
		return fail(resp, SB_ERR_INVALID, "more than %d headers",
		    SB_HTTP_HEADERS_MAX);
	if (req->header_count > 0 && req->headers == NULL)
		return fail(
		    resp, SB_ERR_INVALID, "header count without headers");
	for (size_t i = 0; i < req->header_count; i++) {
		h = &req->headers[i];
		if (!sb_header_safe(h->name) || !header_name_valid(h->name))
			return fail(resp, SB_ERR_INVALID,
			    "header %zu: name is not a token", i);
		if (!sb_header_safe(h->value))
			return fail(resp, SB_ERR_INVALID,
			    "header %zu: value missing or holds CR/LF", i);
		if (strlen(h->name) + 2 + strlen(h->value) >
		    SB_HTTP_HEADER_LINE_MAX)
			return fail(resp, SB_ERR_INVALID,
			    "header %zu: longer than %d bytes", i,
			    SB_HTTP_HEADER_LINE_MAX);
	}
	return SB_OK;
}

static bool
url_prefix_allowed(const char *url)
{
	for (size_t i = 0; i < LEN(url_prefixes); i++)
		if (strncasecmp(
		        url, url_prefixes[i], strlen(url_prefixes[i])) == 0)
			return true;
	return false;
}

/* Checks url and parses it into *out (the caller frees it). */
static enum sb_err
url_validate(const char *url, CURLU **out, struct sb_http_response *resp)
{
	CURLU *parsed = NULL;
	enum sb_err rc = SB_ERR_INVALID;

	if (url == NULL) {
		rc = fail(resp, SB_ERR_INVALID, "no URL");
		goto out;
	}
	if (strnlen(url, SB_HTTP_URL_MAX + 1) > SB_HTTP_URL_MAX) {
		rc = fail(resp, SB_ERR_INVALID, "URL longer than %d bytes",
		    SB_HTTP_URL_MAX);
		goto out;
	}
	if (!url_prefix_allowed(url)) {
		rc = fail(resp, SB_ERR_INVALID, "URL scheme is not http(s)");
		goto out;
	}
	for (const unsigned char *p = (const unsigned char *)url; *p != '\0';
	     p++) {
		if (*p <= ' ' || *p == 0x7f) {
			rc = fail(resp, SB_ERR_INVALID,
			    "URL holds a space or control character");
			goto out;
		}
	}
	if ((parsed = curl_url()) == NULL) {
		rc = fail(resp, SB_ERR_NOMEM, "out of memory");
		goto out;
	}
	if (curl_url_set(parsed, CURLUPART_URL, url, 0) != CURLUE_OK) {
		rc = fail(resp, SB_ERR_INVALID, "URL does not parse");
		goto out;
	}
	*out = parsed;
	parsed = NULL;
	rc = SB_OK;
out:
	curl_url_cleanup(parsed);
	return rc;
}

static enum sb_err
request_validate(struct call *call, struct sb_http_response *resp)
{
	const struct sb_http_request *req = call->req;
	enum sb_err rc = SB_ERR_INVALID;

	if ((call->method = method_find(req->method)) == NULL) {
		rc = fail(resp, SB_ERR_INVALID, "method not allowed");
		goto out;
	}
	if (req->body == NULL && req->body_len != 0) {
		rc = fail(resp, SB_ERR_INVALID, "body length without body");
		goto out;
	}
	if (req->body != NULL && !call->method->body_allowed) {
		rc = fail(resp, SB_ERR_INVALID, "%s takes no body",
		    call->method->name);
		goto out;
	}
	if ((rc = headers_validate(req, resp)) != SB_OK)
		goto out;
	rc = url_validate(req->url, &call->url, resp);
out:
	return rc;
}

/* The curl header list: "Expect:" (no 100-continue) and req's headers. */
static enum sb_err
headers_build(struct call *call, struct sb_http_response *resp)
{
	char line[SB_HTTP_HEADER_LINE_MAX + 1];
	const struct sb_http_header *h;
	struct curl_slist *list;

	if ((list = curl_slist_append(NULL, "Expect:")) == NULL)
		return fail(resp, SB_ERR_NOMEM, "out of memory");
	call->headers = list;
	for (size_t i = 0; i < call->req->header_count; i++) {
		h = &call->req->headers[i];
		/* "Name;" is curl's way to send a header with no value. */
		(void)snprintf(line, sizeof(line), "%s%s%s", h->name,
		    *h->value == '\0' ? ";" : ": ", h->value);
		if ((list = curl_slist_append(call->headers, line)) == NULL)
			return fail(resp, SB_ERR_NOMEM, "out of memory");
		call->headers = list;
	}
	return SB_OK;
}

/* Options every attempt shares; false if curl refused one. */
static bool
handle_setup_common(struct call *call)
{
	const struct sb_http_limits *limits = &call->http->limits;
	CURL *curl = call->http->curl;
	bool bad = false;

	for (size_t i = 0; i < LEN(fixed_long_options); i++)
		bad |= curl_easy_setopt(curl, fixed_long_options[i].option,
		           fixed_long_options[i].value) != CURLE_OK;
	for (size_t i = 0; i < LEN(fixed_string_options); i++)
		bad |= curl_easy_setopt(curl, fixed_string_options[i].option,
		           fixed_string_options[i].value) != CURLE_OK;
	bad |= curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS,
	           limits->connect_timeout_ms) != CURLE_OK;
	bad |= curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS,
	           limits->total_timeout_ms) != CURLE_OK;
	bad |= curl_easy_setopt(curl, CURLOPT_CURLU, call->url) != CURLE_OK;
	bad |= curl_easy_setopt(curl, CURLOPT_HTTPHEADER, call->headers) !=
	    CURLE_OK;
	bad |= curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, http_body_write) !=
	    CURLE_OK;
	bad |= curl_easy_setopt(
	           curl, CURLOPT_HEADERFUNCTION, http_header_write) != CURLE_OK;
	for (size_t i = 0; i < LEN(data_options); i++)
		bad |= curl_easy_setopt(curl, data_options[i], &call->xfer) !=
		    CURLE_OK;
	return !bad;
}

/* The method and body; false if curl refused an option. */
static bool
handle_setup_method(struct call *call)
{
	const struct method *method = call->method;
	const struct sb_http_request *req = call->req;
	CURL *curl = call->http->curl;
	bool bad = false;

	if (method->nobody)
		bad |= curl_easy_setopt(curl, CURLOPT_NOBODY, 1L) != CURLE_OK;
	if (req->body != NULL || method->body_always) {
		bad |= curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
		           (curl_off_t)req->body_len) != CURLE_OK;
		bad |= curl_easy_setopt(curl, CURLOPT_POSTFIELDS,
		           req->body != NULL ? req->body : "") != CURLE_OK;
	}
	if (method->custom)
		bad |= curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST,
		           method->name) != CURLE_OK;
	return !bad;
}

static const struct curl_failure *
curl_failure_find(CURLcode code)
{
	for (size_t i = 0; i < LEN(curl_failures); i++)
		if (curl_failures[i].code == code)
			return &curl_failures[i];
	return NULL;
}

/* What a failed transfer means, and why in resp->error. */
static enum sb_err
curl_code_map(CURLcode code, const struct transfer *xfer)
{
	const struct curl_failure *failure;

	if (xfer->too_large)
		return fail(xfer->resp, SB_ERR_TOO_LARGE,
		    "response body over %zu bytes", xfer->response_max);
	if (xfer->nomem)
		return fail(xfer->resp, SB_ERR_NOMEM, "out of memory");
	failure = curl_failure_find(code);
	return fail(xfer->resp, failure != NULL ? failure->rc : SB_ERR_UPSTREAM,
	    "%s", curl_easy_strerror(code));
}

/* One attempt.  A failed one keeps status and headers but no body. */
static enum sb_err
attempt_run(struct call *call, CURLcode *code)
{
	struct sb_http_response *resp = call->xfer.resp;
	CURL *curl = call->http->curl;
	char *content_type = NULL;
	enum sb_err rc = SB_OK;

	http_transfer_reset(&call->xfer);
	*code = curl_easy_perform(curl);
	if (curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &resp->status) !=
	    CURLE_OK)
		resp->status = 0;
	if (*code != CURLE_OK) {
		rc = curl_code_map(*code, &call->xfer);
		free(resp->body);
		resp->body = NULL;
		resp->body_len = 0;
		goto out;
	}
	if (curl_easy_getinfo(curl, CURLINFO_CONTENT_TYPE, &content_type) ==
	        CURLE_OK &&
	    content_type != NULL &&
	    (resp->content_type = strdup(content_type)) == NULL)
		rc = fail(resp, SB_ERR_NOMEM, "out of memory");
out:
	return rc;
}

/* An answer of status to a request of method: the policy's word. */
static bool
status_retryable(
    const struct method *method, const struct sb_http_request *req, long status)
{
	bool safe = method->read || req->retry_unsafe;

	if (status == 429 && req->keep_429)
		return false;
	for (size_t i = 0; i < LEN(retry_statuses); i++)
		if (retry_statuses[i].status == status)
			return safe || retry_statuses[i].writes_too;
	return false;
}

bool
sb_http_retry_status(const struct sb_http_request *req, long status)
{
	const struct method *method;

	if (req == NULL || (method = method_find(req->method)) == NULL)
		return false;
	return status_retryable(method, req, status);
}

/* Whether the policy in sb/client/http.h allows another attempt after this one.
 */
static bool
retry_wanted(
    const struct call *call, enum sb_err rc, CURLcode code, long status)
{
	bool safe = call->method->read || call->req->retry_unsafe;
	const struct curl_failure *failure;

	if (rc == SB_OK)
		return status_retryable(call->method, call->req, status);
	if (rc == SB_ERR_TOO_LARGE || rc == SB_ERR_NOMEM)
		return false;
	failure = curl_failure_find(code);
	return safe && failure != NULL && failure->retry;
}

/* scheme://host:port of url, without user, path, query or fragment. */
static void
origin_format(CURLU *url, char *buf, size_t size)
{
	char *scheme = NULL, *host = NULL, *port = NULL;

	if (curl_url_get(url, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
	    curl_url_get(url, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
	    curl_url_get(url, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) ==
	        CURLUE_OK)
		(void)snprintf(buf, size, "%s://%s:%s", scheme, host, port);
	else
		(void)snprintf(buf, size, "-");
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
}

static void
retry_log(const struct call *call, int attempt, CURLcode code, long delay)
{
	const struct sb_http_response *resp = call->xfer.resp;
	char origin[HTTP_ORIGIN_MAX];

	origin_format(call->url, origin, sizeof(origin));
	if (code == CURLE_OK)
		sb_log(SB_LOG_WARN, "http", NULL,
		    "%s %s attempt %d/%d: status %ld; retry in %ld ms",
		    call->method->name, origin, attempt,
		    call->http->limits.max_attempts, resp->status, delay);
	else
		sb_log(SB_LOG_WARN, "http", NULL,
		    "%s %s attempt %d/%d: %s; retry in %ld ms",
		    call->method->name, origin, attempt,
		    call->http->limits.max_attempts, curl_easy_strerror(code),
		    delay);
}

/*
 * Whether the wait before another attempt fits: the other side's own
 * Retry-After (uncapped) must not pass the backoff cap, and the wait plus
 * a whole HTTP_ATTEMPT_MIN_MS attempt must fit in what is left of the
 * deadline.  Otherwise the answer in hand is passed back as it is.
 */
static bool
retry_fits(const struct call *call, long delay)
{
	const struct sb_http_response *resp = call->xfer.resp;
	long asked = -1;

	if (resp->status == 429 || resp->status == 503)
		asked = sb_http_retry_after_ms(resp, time(NULL), LONG_MAX);
	if (asked > call->http->limits.backoff_cap_ms)
		return false;
	return sb_deadline_left(call->http->deadline) >=
	    (int64_t)delay + HTTP_ATTEMPT_MIN_MS;
}

/*
 * Each attempt's total timeout: the configured one, or what is left of the
 * deadline if that is less.  False if the deadline has passed.
 */
static bool
attempt_timeout_set(const struct call *call)
{
	int64_t left = sb_deadline_left(call->http->deadline);
	long total = call->http->limits.total_timeout_ms;

	if (left <= 0)
		return false;
	if (left < total)
		total = (long)left;
	return curl_easy_setopt(call->http->curl, CURLOPT_TIMEOUT_MS, total) ==
	    CURLE_OK;
}

/* Runs attempts until one succeeds for good or the policy says stop. */
static enum sb_err
attempts_run(struct call *call)
{
	const struct sb_http_limits *limits = &call->http->limits;
	struct sb_http_response *resp = call->xfer.resp;
	CURLcode code;
	enum sb_err rc;
	long delay;

	for (int attempt = 1;; attempt++) {
		if (!attempt_timeout_set(call))
			return fail(resp, SB_ERR_TIMEOUT,
			    "the request's deadline passed before attempt %d",
			    attempt);
		rc = attempt_run(call, &code);
		resp->attempts = attempt;
		if (attempt >= limits->max_attempts ||
		    !retry_wanted(call, rc, code, resp->status))
			break;
		delay =
		    sb_http_retry_delay_ms(resp, attempt, limits, time(NULL));
		if (!retry_fits(call, delay))
			break;
		retry_log(call, attempt, code, delay);
		sb_deadline_sleep(delay);
	}
	return rc;
}

static long
elapsed_ms(const struct timespec *start)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (long)(now.tv_sec - start->tv_sec) * 1000L +
	    (now.tv_nsec - start->tv_nsec) / 1000000L;
}

/*
 * Sends req as the contract in sb/client/http.h says.  resp is zeroed first
 * (not freed: it may be uninitialised storage), so clear a reused resp before
 * calling again.  A failed attempt leaves no body in resp, only its status
 * (if an answer started), kept headers and error.
 */
enum sb_err
sb_http_perform(struct sb_http *http, const struct sb_http_request *req,
    struct sb_http_response *resp)
{
	struct call call = { .http = http, .req = req };
	enum sb_err rc = SB_ERR_INVALID;
	struct timespec start;

	if (resp == NULL)
		return SB_ERR_INVALID;
	memset(resp, 0, sizeof(*resp));
	clock_gettime(CLOCK_MONOTONIC, &start);
	if (http == NULL || req == NULL) {
		rc = fail(resp, SB_ERR_INVALID, "no client or no request");
		goto out;
	}
	if ((rc = request_validate(&call, resp)) != SB_OK ||
	    (rc = headers_build(&call, resp)) != SB_OK)
		goto out;
	call.xfer.resp = resp;
	call.xfer.response_max = http->limits.response_max;
	call.xfer.nobody = call.method->nobody;
	if (!handle_setup_common(&call) || !handle_setup_method(&call)) {
		rc = fail(resp, SB_ERR_UPSTREAM, "libcurl refused an option");
		goto out;
	}
	rc = attempts_run(&call);
out:
	/* Back to defaults, keeping the connections, so the handle holds no
	 * pointer into this call once it returns. */
	if (http != NULL)
		curl_easy_reset(http->curl);
	resp->elapsed_ms = elapsed_ms(&start);
	curl_slist_free_all(call.headers);
	curl_url_cleanup(call.url);
	return rc;
}
