/*
 * Unit tests for lib/client/http.c.  Pure functions (retry delay, header
 * safety, look-up) are table-driven; real transfers go to a forked loopback
 * server that answers each connection with the next canned raw response of a
 * script and reports every request it read through a pipe, so each case
 * checks both what the client returned and what reached the wire.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <curl/curl.h>

#include "sb/client/http.h"
#include "sb/core/log.h"

#define LEN(a) (sizeof(a) / sizeof((a)[0]))
#define STEPS_MAX 4
#define SEEN_MAX 8
#define REQUEST_MAX (2 * 1024 * 1024) /* one request, read in full */
#define RECORD_MAX 16384 /* what the child reports of it */
#define LARGE_BODY (1536 * 1024) /* where curl would send Expect */
#define NOW ((time_t)1700000000) /* Tue, 14 Nov 2023 22:13:20 GMT */

/* A script step that reads the request and then never answers. */
static const char HANG[] = "<hang>";

#define R200 \
	"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-Kept: yes\r\n" \
	"Content-Length: 5\r\nConnection: close\r\n\r\nhello"
#define R503 \
	"HTTP/1.1 503 Service Unavailable\r\nX-First: 1\r\n" \
	"Content-Length: 0\r\nConnection: close\r\n\r\n"
#define R502 \
	"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n" \
	"Connection: close\r\n\r\n"
#define R429 \
	"HTTP/1.1 429 Too Many Requests\r\nRetry-After: 0\r\n" \
	"Content-Length: 0\r\nConnection: close\r\n\r\n"

struct server {
	pid_t pid;
	int port;
	int records; /* read end: what the child saw */
};

struct seen {
	int count;
	char *requests[SEEN_MAX];
};

static void
write_all(int fd, const char *buf, size_t len)
{
	ssize_t n;

	while (len > 0 && (n = write(fd, buf, len)) > 0) {
		buf += n;
		len -= (size_t)n;
	}
}

/* Content-Length of a request head, 0 if it has none. */
static size_t
request_content_length(const char *head)
{
	const char *line = head;
	long n;

	while ((line = strstr(line, "\r\n")) != NULL) {
		line += 2;
		if (strncasecmp(line, "Content-Length:", 15) == 0) {
			n = strtol(line + 15, NULL, 10);
			return n > 0 ? (size_t)n : 0;
		}
	}
	return 0;
}

/* Reads one request: the head and as much body as it announces. */
static size_t
request_read(int fd, char *buf, size_t size)
{
	size_t len = 0, want;
	char *end;
	ssize_t n;

	buf[0] = '\0';
	while (
	    len < size - 1 && (n = read(fd, buf + len, size - 1 - len)) > 0) {
		len += (size_t)n;
		buf[len] = '\0';
		if ((end = strstr(buf, "\r\n\r\n")) == NULL)
			continue;
		want = (size_t)(end - buf) + 4 + request_content_length(buf);
		if (len >= want)
			break;
	}
	return len;
}

static void
server_child(int listener, int records, const char *const *steps)
{
	static char buf[REQUEST_MAX];
	uint32_t len;
	int fd;

	signal(SIGPIPE, SIG_IGN);
	alarm(20); /* never outlive a parent that died mid-test */
	for (size_t i = 0; i < STEPS_MAX && steps[i] != NULL; i++) {
		if ((fd = accept(listener, NULL, NULL)) < 0)
			_exit(1);
		len = (uint32_t)request_read(fd, buf, sizeof(buf));
		/* A prefix only: the pipe must not fill while the parent
		 * waits for the answer. */
		len = len < RECORD_MAX ? len : RECORD_MAX;
		write_all(records, (const char *)&len, sizeof(len));
		write_all(records, buf, len);
		if (steps[i] == HANG)
			continue; /* the socket stays open, silent */
		write_all(fd, steps[i], strlen(steps[i]));
		close(fd);
	}
	for (;;)
		pause();
}

/* Listens on 127.0.0.1 and an ephemeral port, then forks the server. */
static void
server_start(struct server *server, const char *const *steps)
{
	struct sockaddr_in addr;
	socklen_t addr_len = sizeof(addr);
	int listener, fds[2];

	memset(&addr, 0, sizeof(addr));
	addr.sin_family = AF_INET;
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	listener = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(listener >= 0);
	assert_int_equal(
	    bind(listener, (struct sockaddr *)&addr, sizeof(addr)), 0);
	assert_int_equal(listen(listener, 8), 0);
	assert_int_equal(
	    getsockname(listener, (struct sockaddr *)&addr, &addr_len), 0);
	server->port = ntohs(addr.sin_port);
	assert_int_equal(pipe(fds), 0);
	server->pid = fork();
	assert_true(server->pid >= 0);
	if (server->pid == 0) {
		close(fds[0]);
		server_child(listener, fds[1], steps);
	}
	close(fds[1]);
	close(listener);
	server->records = fds[0];
}

/* Kills and reaps the child, then collects the requests it saw. */
static void
server_stop(struct server *server, struct seen *seen)
{
	uint32_t len;
	char *request;

	kill(server->pid, SIGKILL);
	waitpid(server->pid, NULL, 0);
	memset(seen, 0, sizeof(*seen));
	while (read(server->records, &len, sizeof(len)) == sizeof(len)) {
		request = calloc(1, (size_t)len + 1);
		if (request == NULL ||
		    read(server->records, request, len) != (ssize_t)len) {
			free(request);
			break;
		}
		if (seen->count < SEEN_MAX)
			seen->requests[seen->count] = request;
		else
			free(request);
		seen->count++;
	}
	close(server->records);
}

static void
seen_clear(struct seen *seen)
{
	for (int i = 0; i < seen->count && i < SEEN_MAX; i++)
		free(seen->requests[i]);
	memset(seen, 0, sizeof(*seen));
}

static const struct sb_http_limits test_limits = {
	.connect_timeout_ms = 1000,
	.total_timeout_ms = 2000,
	.response_max = 4096,
	.max_attempts = 3,
	.backoff_base_ms = 1,
	.backoff_cap_ms = 50,
};

/* Fills resp with a status and strdup'ed headers, as a transfer would. */
static void
response_fake(struct sb_http_response *resp, long status,
    const struct sb_http_header *headers, size_t count)
{
	memset(resp, 0, sizeof(*resp));
	resp->status = status;
	for (size_t i = 0; i < count && headers[i].name != NULL; i++) {
		resp->headers[i].name = strdup(headers[i].name);
		resp->headers[i].value = strdup(headers[i].value);
		assert_non_null(resp->headers[i].name);
		assert_non_null(resp->headers[i].value);
		resp->header_count++;
	}
}

struct delay_case {
	const char *name;
	long status;
	struct sb_http_header headers[3];
	int attempt;
	long base_ms, cap_ms;
	long min_ms, max_ms;
};

static const struct delay_case delay_cases[] = {
	{ "Retry-After seconds, 429", 429, { { "Retry-After", "3" } }, 1, 1,
	    10000, 3000, 3000 },
	{ "Retry-After seconds, 503", 503, { { "retry-after", "2" } }, 1, 1,
	    10000, 2000, 2000 },
	{ "Retry-After clamped to cap", 429, { { "Retry-After", "100" } }, 1, 1,
	    5000, 5000, 5000 },
	{ "Retry-After HTTP date", 429,
	    { { "Retry-After", "Tue, 14 Nov 2023 22:13:27 GMT" } }, 1, 1, 10000,
	    7000, 7000 },
	{ "Retry-After date in the past", 503,
	    { { "Retry-After", "Tue, 14 Nov 2023 22:13:10 GMT" } }, 1, 1, 10000,
	    0, 0 },
	{ "Retry-After before reset header", 429,
	    { { "X-RateLimit-Reset", "9" }, { "Retry-After", "1" } }, 1, 1,
	    10000, 1000, 1000 },
	{ "X-RateLimit-Reset epoch", 429,
	    { { "X-RateLimit-Reset", "1700000004" } }, 1, 1, 10000, 4000,
	    4000 },
	{ "X-Rate-Limit-Reset delta", 429, { { "X-Rate-Limit-Reset", "2" } }, 1,
	    1, 10000, 2000, 2000 },
	{ "RateLimit-Reset delta", 429, { { "RateLimit-Reset", "6" } }, 1, 1,
	    10000, 6000, 6000 },
	{ "reset epoch with fraction", 429,
	    { { "X-RateLimit-Reset", "1700000001.5" } }, 1, 1, 10000, 1500,
	    1500 },
	/* The provider's clock 10 s ahead of ours: measured against Date. */
	{ "reset epoch against a skewed Date", 429,
	    { { "X-Rate-Limit-Reset", "1700000014" },
	        { "Date", "Tue, 14 Nov 2023 22:13:30 GMT" } },
	    1, 1, 10000, 4000, 4000 },
	{ "Retry-After date against a skewed Date", 429,
	    { { "Retry-After", "Tue, 14 Nov 2023 22:13:37 GMT" },
	        { "Date", "Tue, 14 Nov 2023 22:13:30 GMT" } },
	    1, 1, 10000, 7000, 7000 },
	{ "malformed Date: our clock", 429,
	    { { "X-Rate-Limit-Reset", "1700000003" }, { "Date", "soon" } }, 1,
	    1, 10000, 3000, 3000 },
	{ "reset epoch in the past", 429,
	    { { "X-RateLimit-Reset", "1699999990" } }, 1, 1, 10000, 0, 0 },
	{ "reset clamped to cap", 429, { { "RateLimit-Reset", "3600" } }, 1, 1,
	    10000, 10000, 10000 },
	{ "garbage Retry-After falls to reset", 429,
	    { { "Retry-After", "soon" }, { "RateLimit-Reset", "3" } }, 1, 1,
	    10000, 3000, 3000 },
	{ "negative Retry-After is jitter", 429, { { "Retry-After", "-5" } }, 1,
	    1, 10000, 0, 1 },
	{ "reset header ignored on 503", 503, { { "X-RateLimit-Reset", "5" } },
	    1, 1, 10000, 0, 1 },
	{ "Retry-After ignored on 502", 502, { { "Retry-After", "5" } }, 1, 1,
	    10000, 0, 1 },
	{ "no answer: jitter, third retry", 0, { { NULL, NULL } }, 3, 10, 10000,
	    0, 40 },
	{ "cap 0 wins over Retry-After", 429, { { "Retry-After", "5" } }, 1, 1,
	    0, 0, 0 },
	{ "huge attempt stays under cap", 500, { { NULL, NULL } }, 1000, 1000,
	    50, 0, 50 },
	{ "huge shift does not overflow", 500, { { NULL, NULL } }, 70, 1,
	    LONG_MAX, 0, LONG_MAX },
	{ "attempt 0 treated as first", 500, { { NULL, NULL } }, 0, 7, 10000, 0,
	    7 },
};

/* The retry policy by method and status (sb_http_retry_status()). */
static const struct retry_status_case {
	const char *method;
	long status;
	bool retry_unsafe, keep_429;
	bool want;
} retry_status_cases[] = {
	{ "GET", 500, false, false, true },
	{ "GET", 502, false, false, true },
	{ "GET", 503, false, false, true },
	{ "GET", 504, false, false, true },
	{ "HEAD", 503, false, false, true },
	{ "GET", 501, false, false, false },
	{ "GET", 404, false, false, false },
	{ "GET", 200, false, false, false },
	{ "POST", 500, false, false, false },
	{ "POST", 503, false, false, false },
	{ "PUT", 502, false, false, false },
	{ "PATCH", 504, false, false, false },
	{ "DELETE", 500, false, false, false },
	{ "POST", 429, false, false, true },
	{ "DELETE", 429, false, false, true },
	{ "GET", 429, false, true, false },
	{ "POST", 429, false, true, false },
	{ "PATCH", 502, true, false, true },
	{ "BREW", 503, false, false, false },
};

static void
test_retry_status_table(void **state)
{
	struct sb_http_request req;
	const struct retry_status_case *c;

	(void)state;
	for (size_t i = 0; i < LEN(retry_status_cases); i++) {
		c = &retry_status_cases[i];
		memset(&req, 0, sizeof(req));
		req.method = c->method;
		req.retry_unsafe = c->retry_unsafe;
		req.keep_429 = c->keep_429;
		if (sb_http_retry_status(&req, c->status) != c->want)
			fail_msg("%s %ld (unsafe %d, keep_429 %d): want %d",
			    c->method, c->status, c->retry_unsafe, c->keep_429,
			    c->want);
	}
	assert_false(sb_http_retry_status(NULL, 503));
}

/* sb_http_response_header_set(): replaces, appends, and when full
 * replaces the last. */
static void
test_response_header_set(void **state)
{
	struct sb_http_response resp;
	char name[16];

	(void)state;
	memset(&resp, 0, sizeof(resp));
	assert_int_equal(
	    sb_http_response_header_set(&resp, "Retry-After", "5"), SB_OK);
	assert_int_equal(resp.header_count, 1);
	assert_int_equal(
	    sb_http_response_header_set(&resp, "retry-after", "7"), SB_OK);
	assert_int_equal(resp.header_count, 1);
	assert_string_equal(sb_http_response_header(&resp, "Retry-After"), "7");
	for (int i = 1; i < SB_HTTP_HEADERS_MAX + 3; i++) {
		snprintf(name, sizeof(name), "X-H%d", i);
		assert_int_equal(
		    sb_http_response_header_set(&resp, name, "v"), SB_OK);
	}
	assert_int_equal(resp.header_count, SB_HTTP_HEADERS_MAX);
	assert_int_equal(
	    sb_http_response_header_set(&resp, "Retry-After", "9"), SB_OK);
	assert_string_equal(sb_http_response_header(&resp, "Retry-After"), "9");
	assert_int_equal(resp.header_count, SB_HTTP_HEADERS_MAX);
	assert_int_equal(
	    sb_http_response_header_set(&resp, NULL, "v"), SB_ERR_INVALID);
	sb_http_response_clear(&resp);
}

static void
test_retry_delay_table(void **state)
{
	const struct delay_case *c;
	struct sb_http_limits limits = test_limits;
	struct sb_http_response resp;
	long ms;

	(void)state;
	for (size_t i = 0; i < LEN(delay_cases); i++) {
		c = &delay_cases[i];
		response_fake(&resp, c->status, c->headers, LEN(c->headers));
		limits.backoff_base_ms = c->base_ms;
		limits.backoff_cap_ms = c->cap_ms;
		/* Jittered cases are drawn often enough to hit a bad bound. */
		for (int draw = 0; draw < 200; draw++) {
			ms = sb_http_retry_delay_ms(
			    &resp, c->attempt, &limits, NOW);
			if (ms < c->min_ms || ms > c->max_ms)
				fail_msg("%s: %ld ms not in [%ld, %ld]",
				    c->name, ms, c->min_ms, c->max_ms);
		}
		sb_http_response_clear(&resp);
	}
}

/* Draws stay in [0, bound] and spread over it (not a constant). */
static void
test_retry_delay_jitter_bounds(void **state)
{
	static const struct {
		int attempt;
		long base_ms, cap_ms, bound_ms;
	} cases[] = {
		{ 1, 10, 1000, 10 },
		{ 3, 10, 1000, 40 },
		{ 8, 10, 100, 100 },
		{ 40, 3, 90, 90 },
	};
	struct sb_http_limits limits = test_limits;
	long ms, low, high;

	(void)state;
	for (size_t i = 0; i < LEN(cases); i++) {
		limits.backoff_base_ms = cases[i].base_ms;
		limits.backoff_cap_ms = cases[i].cap_ms;
		low = LONG_MAX;
		high = -1;
		for (int draw = 0; draw < 3000; draw++) {
			ms = sb_http_retry_delay_ms(
			    NULL, cases[i].attempt, &limits, NOW);
			assert_in_range(ms, 0, cases[i].bound_ms);
			low = ms < low ? ms : low;
			high = ms > high ? ms : high;
		}
		assert_true(low <= cases[i].bound_ms / 4);
		assert_true(high >= cases[i].bound_ms * 3 / 4);
	}
}

static void
test_response_header_and_clear(void **state)
{
	static const struct sb_http_header headers[] = {
		{ "Content-Type", "text/html" },
		{ "X-Request-Id", "abc" },
		{ "x-request-id", "second" },
	};
	struct sb_http_response resp;
	struct sb_http_response zero;

	(void)state;
	memset(&zero, 0, sizeof(zero));
	response_fake(&resp, 200, headers, LEN(headers));
	resp.body = strdup("body");
	resp.content_type = strdup("text/html");
	assert_string_equal(
	    sb_http_response_header(&resp, "content-type"), "text/html");
	assert_string_equal(
	    sb_http_response_header(&resp, "X-REQUEST-ID"), "abc");
	assert_null(sb_http_response_header(&resp, "X-Missing"));
	assert_null(sb_http_response_header(&resp, NULL));
	assert_null(sb_http_response_header(NULL, "X-Request-Id"));
	sb_http_response_clear(&resp);
	assert_memory_equal(&resp, &zero, sizeof(resp));
	sb_http_response_clear(&resp); /* safe on a zeroed resp */
	sb_http_response_clear(NULL);
}

static void
test_new_rejects_bad_limits(void **state)
{
	struct sb_http_limits limits[6];
	struct sb_http *http = (struct sb_http *)&limits;

	(void)state;
	for (size_t i = 0; i < LEN(limits); i++)
		limits[i] = test_limits;
	limits[0].connect_timeout_ms = 0;
	limits[1].total_timeout_ms = -1;
	limits[2].response_max = 0;
	limits[3].max_attempts = 0;
	limits[4].backoff_base_ms = -1;
	limits[5].backoff_cap_ms = -1;
	for (size_t i = 0; i < LEN(limits); i++) {
		assert_int_equal(
		    sb_http_new(&limits[i], &http), SB_ERR_INVALID);
		assert_null(http);
	}
	assert_int_equal(sb_http_new(NULL, &http), SB_ERR_INVALID);
	assert_int_equal(sb_http_new(&test_limits, &http), SB_OK);
	assert_non_null(http);
	sb_http_free(http);
	sb_http_free(NULL);
}

struct invalid_case {
	const char *name;
	const char *method;
	const char *url; /* NULL: the live server's */
	struct sb_http_header header;
	const char *body;
	size_t body_len;
};

static const struct invalid_case invalid_cases[] = {
	{ "lower-case method", "get", NULL, { NULL, NULL }, NULL, 0 },
	{ "TRACE", "TRACE", NULL, { NULL, NULL }, NULL, 0 },
	{ "CONNECT", "CONNECT", NULL, { NULL, NULL }, NULL, 0 },
	{ "no method", NULL, NULL, { NULL, NULL }, NULL, 0 },
	{ "ftp scheme", "GET", "ftp://127.0.0.1/", { NULL, NULL }, NULL, 0 },
	{ "file scheme", "GET", "file:///etc/passwd", { NULL, NULL }, NULL, 0 },
	{ "no scheme", "GET", "127.0.0.1/x", { NULL, NULL }, NULL, 0 },
	{ "no URL", "GET", "", { NULL, NULL }, NULL, 0 },
	{ "CRLF in URL", "GET", "http://127.0.0.1/\r\nX: y", { NULL, NULL },
	    NULL, 0 },
	{ "space in URL", "GET", "http://127.0.0.1/a b", { NULL, NULL }, NULL,
	    0 },
	{ "CRLF in value", "GET", NULL, { "X-Token", "secret\r\nX-Evil: 1" },
	    NULL, 0 },
	{ "LF in value", "GET", NULL, { "X-Token", "secret\nX-Evil: 1" }, NULL,
	    0 },
	{ "CRLF in name", "GET", NULL, { "X-A\r\nX-B", "secret" }, NULL, 0 },
	{ "colon in name", "GET", NULL, { "X-A:", "secret" }, NULL, 0 },
	{ "space in name", "GET", NULL, { "X A", "secret" }, NULL, 0 },
	{ "empty name", "GET", NULL, { "", "secret" }, NULL, 0 },
	{ "NULL value", "GET", NULL, { "X-A", NULL }, NULL, 0 },
	{ "body on GET", "GET", NULL, { NULL, NULL }, "x", 1 },
	{ "body length without body", "POST", NULL, { NULL, NULL }, NULL, 3 },
};

/* Sends one invalid request; checks the verdict and the error text. */
static void
invalid_send(
    struct sb_http *http, const struct invalid_case *c, const char *server_url)
{
	struct sb_http_request req;
	struct sb_http_response resp;
	enum sb_err rc;

	memset(&req, 0, sizeof(req));
	req.method = c->method;
	req.url = c->url != NULL ? c->url : server_url;
	req.headers = &c->header;
	req.header_count = c->header.name != NULL || c->header.value != NULL;
	req.body = c->body;
	req.body_len = c->body_len;
	rc = sb_http_perform(http, &req, &resp);
	if (rc != SB_ERR_INVALID || resp.attempts != 0 ||
	    resp.error[0] == '\0' || strstr(resp.error, "secret") != NULL)
		fail_msg("%s: rc %d attempts %d error \"%s\"", c->name, rc,
		    resp.attempts, resp.error);
	sb_http_response_clear(&resp);
}

static void
test_perform_rejects_invalid(void **state)
{
	static const char *const steps[] = { R200, R200, NULL };
	struct sb_http *http = NULL;
	struct server server;
	struct seen seen;
	char url[64];

	(void)state;
	assert_int_equal(sb_http_new(&test_limits, &http), SB_OK);
	server_start(&server, steps);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/", server.port);
	for (size_t i = 0; i < LEN(invalid_cases); i++)
		invalid_send(http, &invalid_cases[i], url);
	server_stop(&server, &seen);
	sb_http_free(http);
	assert_int_equal(seen.count, 0); /* nothing reached the wire */
	seen_clear(&seen);
}

static void
test_perform_rejects_long_url(void **state)
{
	struct sb_http_request req = { .method = "GET" };
	struct sb_http_response resp;
	struct sb_http *http = NULL;
	char *url;

	(void)state;
	url = malloc(SB_HTTP_URL_MAX + 2);
	assert_non_null(url);
	memcpy(url, "http://127.0.0.1/", 17);
	memset(url + 17, 'a', SB_HTTP_URL_MAX + 1 - 17);
	url[SB_HTTP_URL_MAX + 1] = '\0';
	req.url = url;
	assert_int_equal(sb_http_new(&test_limits, &http), SB_OK);
	assert_int_equal(sb_http_perform(http, &req, &resp), SB_ERR_INVALID);
	assert_int_equal(resp.attempts, 0);
	sb_http_response_clear(&resp);
	assert_int_equal(sb_http_perform(NULL, &req, &resp), SB_ERR_INVALID);
	sb_http_response_clear(&resp);
	assert_int_equal(sb_http_perform(http, NULL, &resp), SB_ERR_INVALID);
	sb_http_response_clear(&resp);
	assert_int_equal(sb_http_perform(http, &req, NULL), SB_ERR_INVALID);
	sb_http_free(http);
	free(url);
}

static void
test_nothing_listening(void **state)
{
	struct sb_http_request req = { .method = "GET" };
	struct sb_http_limits limits = test_limits;
	struct sb_http_response resp;
	struct sockaddr_in addr;
	socklen_t addr_len = sizeof(addr);
	struct sb_http *http = NULL;
	char url[64];
	int fd;

	(void)state;
	/* A port that was free a moment ago and has no listener now. */
	memset(&addr, 0, sizeof(addr));
	addr.sin_family = AF_INET;
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	assert_int_equal(
	    getsockname(fd, (struct sockaddr *)&addr, &addr_len), 0);
	close(fd);
	snprintf(
	    url, sizeof(url), "http://127.0.0.1:%d/", ntohs(addr.sin_port));
	req.url = url;
	limits.max_attempts = 2;
	assert_int_equal(sb_http_new(&limits, &http), SB_OK);
	assert_int_equal(sb_http_perform(http, &req, &resp), SB_ERR_UPSTREAM);
	assert_int_equal(resp.status, 0);
	assert_int_equal(resp.attempts, 2);
	assert_true(resp.error[0] != '\0');
	sb_http_response_clear(&resp);
	sb_http_free(http);
}

/*
 * The retry log names method and origin but not the path, query or
 * header values; stderr goes to a temporary file for one request.
 */
static void
test_retry_log_hides_secrets(void **state)
{
	static const char *const steps[] = { R503, R200, NULL };
	static const struct sb_http_header header = { "Authorization",
		"Bearer hdrsecret" };
	struct sb_http_request req = {
		.method = "GET", .headers = &header, .header_count = 1
	};
	char path[] = "/tmp/test_http_log_XXXXXX";
	char url[128], logged[4096], origin[64];
	struct sb_http_response resp;
	struct sb_http *http = NULL;
	struct server server;
	struct seen seen;
	int saved, fd;
	ssize_t n;
	enum sb_err rc;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	unlink(path);
	assert_int_equal(sb_http_new(&test_limits, &http), SB_OK);
	server_start(&server, steps);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/pathsecret?q=qsecret",
	    server.port);
	snprintf(
	    origin, sizeof(origin), "GET http://127.0.0.1:%d ", server.port);
	req.url = url;
	saved = dup(STDERR_FILENO);
	dup2(fd, STDERR_FILENO);
	rc = sb_http_perform(http, &req, &resp);
	dup2(saved, STDERR_FILENO);
	close(saved);
	server_stop(&server, &seen);
	sb_http_free(http);
	n = pread(fd, logged, sizeof(logged) - 1, 0);
	close(fd);
	assert_true(n > 0);
	logged[n] = '\0';
	assert_int_equal(rc, SB_OK);
	assert_int_equal(resp.attempts, 2);
	assert_non_null(strstr(logged, origin));
	assert_non_null(strstr(logged, "503"));
	assert_null(strstr(logged, "secret"));
	sb_http_response_clear(&resp);
	seen_clear(&seen);
}

struct transfer_case {
	const char *name;
	const char *method;
	const char *path;
	struct sb_http_header headers[3];
	const char *body;
	bool retry_unsafe;
	bool keep_429;
	size_t response_max; /* 0: test_limits' */
	long total_timeout_ms; /* 0: test_limits' */
	int max_attempts; /* 0: test_limits' */
	const char *steps[STEPS_MAX + 1];
	enum sb_err rc;
	long status;
	int attempts;
	int requests; /* seen by the server */
	const char *resp_body; /* NULL: none */
	const char *content_type; /* NULL: none */
	const char *kept[2]; /* a kept header and its value */
	const char *absent; /* a header that must not be kept */
	const char *request_has[5]; /* in the last request seen */
	const char *request_lacks; /* not in the last request seen */
	long elapsed_min_ms, elapsed_max_ms; /* both 0: not checked */
};

static const struct transfer_case transfer_cases[] = {
	{ .name = "200 with body, type and headers",
	    .method = "GET",
	    .path = "/hello?x=1",
	    .steps = { R200, R200 },
	    .rc = SB_OK,
	    .status = 200,
	    .attempts = 1,
	    .requests = 1,
	    .resp_body = "hello",
	    .content_type = "text/plain",
	    .kept = { "x-kept", "yes" },
	    .request_has = { "GET /hello?x=1 HTTP/1.1\r\n" } },
	{ .name = "503 then 200 takes 2 attempts",
	    .method = "GET",
	    .path = "/",
	    .steps = { R503, R200, R200 },
	    .rc = SB_OK,
	    .status = 200,
	    .attempts = 2,
	    .requests = 2,
	    .resp_body = "hello",
	    .content_type = "text/plain",
	    .kept = { "X-Kept", "yes" },
	    .absent = "X-First" },
	{ .name = "429 with Retry-After 0 then 200",
	    .method = "GET",
	    .path = "/",
	    .steps = { R429, R200, R200 },
	    .rc = SB_OK,
	    .status = 200,
	    .attempts = 2,
	    .requests = 2,
	    .resp_body = "hello",
	    .content_type = "text/plain",
	    .absent = "Retry-After",
	    .elapsed_max_ms = 900 },
	/* Not waited out (docs/reliability.md): the answer is passed back. */
	{ .name = "Retry-After over the cap is passed back at once",
	    .method = "GET",
	    .path = "/",
	    .steps = { "HTTP/1.1 503 Busy\r\nRetry-After: 1\r\n"
	               "Content-Length: 0\r\nConnection: close\r\n\r\n",
	        R200 },
	    .rc = SB_OK,
	    .status = 503,
	    .attempts = 1,
	    .requests = 1,
	    .kept = { "Retry-After", "1" },
	    .elapsed_max_ms = 500 },
	{ .name = "interim 1xx headers are not kept",
	    .method = "GET",
	    .path = "/",
	    .steps = { "HTTP/1.1 100 Continue\r\nX-Interim: 1\r\n\r\n" R200 },
	    .rc = SB_OK,
	    .status = 200,
	    .attempts = 1,
	    .requests = 1,
	    .resp_body = "hello",
	    .content_type = "text/plain",
	    .kept = { "X-Kept", "yes" },
	    .absent = "X-Interim" },
	{ .name = "GET 502 retried up to max_attempts",
	    .method = "GET",
	    .path = "/",
	    .steps = { R502, R502, R502, R200 },
	    .rc = SB_OK,
	    .status = 502,
	    .attempts = 3,
	    .requests = 3 },
	{ .name = "POST 502 not retried",
	    .method = "POST",
	    .path = "/",
	    .body = "x",
	    .steps = { R502, R200 },
	    .rc = SB_OK,
	    .status = 502,
	    .attempts = 1,
	    .requests = 1 },
	{ .name = "PATCH 502 retried with retry_unsafe",
	    .method = "PATCH",
	    .path = "/",
	    .body = "x",
	    .retry_unsafe = true,
	    .steps = { R502, R200 },
	    .rc = SB_OK,
	    .status = 200,
	    .attempts = 2,
	    .requests = 2,
	    .resp_body = "hello",
	    .content_type = "text/plain",
	    .request_has = { "PATCH / HTTP/1.1\r\n" } },
	{ .name = "POST 503 not retried (a write is sent once)",
	    .method = "POST",
	    .path = "/",
	    .body = "x",
	    .steps = { R503, R200 },
	    .rc = SB_OK,
	    .status = 503,
	    .attempts = 1,
	    .requests = 1 },
	{ .name = "PUT 502 not retried",
	    .method = "PUT",
	    .path = "/",
	    .body = "x",
	    .steps = { R502, R200 },
	    .rc = SB_OK,
	    .status = 502,
	    .attempts = 1,
	    .requests = 1 },
	{ .name = "POST 429 retried (the provider did nothing)",
	    .method = "POST",
	    .path = "/",
	    .body = "x",
	    .steps = { R429, R200 },
	    .rc = SB_OK,
	    .status = 200,
	    .attempts = 2,
	    .requests = 2,
	    .resp_body = "hello",
	    .content_type = "text/plain" },
	{ .name = "GET 429 with keep_429 comes back at once",
	    .method = "GET",
	    .path = "/",
	    .keep_429 = true,
	    .steps = { R429, R200 },
	    .rc = SB_OK,
	    .status = 429,
	    .attempts = 1,
	    .requests = 1,
	    .kept = { "Retry-After", "0" } },
	{ .name = "Content-Length over response_max",
	    .method = "GET",
	    .path = "/",
	    .response_max = 4,
	    .steps = { R200, R200 },
	    .rc = SB_ERR_TOO_LARGE,
	    .status = 200,
	    .attempts = 1,
	    .requests = 1 },
	{ .name = "unannounced body over response_max",
	    .method = "GET",
	    .path = "/",
	    .response_max = 8,
	    .steps = { "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n"
	               "0123456789abcdef",
	        R200 },
	    .rc = SB_ERR_TOO_LARGE,
	    .status = 200,
	    .attempts = 1,
	    .requests = 1 },
	{ .name = "announced length over cap fails before the body",
	    .method = "GET",
	    .path = "/",
	    .response_max = 64,
	    .steps = { "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n"
	               "Connection: close\r\n\r\nabc" },
	    .rc = SB_ERR_TOO_LARGE,
	    .status = 200,
	    .attempts = 1,
	    .requests = 1 },
	{ .name = "failed last attempt keeps no earlier headers",
	    .method = "GET",
	    .path = "/",
	    .steps = { R503, "", R200 },
	    .max_attempts = 2,
	    .rc = SB_ERR_UPSTREAM,
	    .status = 0,
	    .attempts = 2,
	    .requests = 2,
	    .absent = "X-First" },
	{ .name = "body of exactly response_max",
	    .method = "GET",
	    .path = "/",
	    .response_max = 5,
	    .steps = { R200 },
	    .rc = SB_OK,
	    .status = 200,
	    .attempts = 1,
	    .requests = 1,
	    .resp_body = "hello",
	    .content_type = "text/plain" },
	{ .name = "HEAD ignores a large Content-Length",
	    .method = "HEAD",
	    .path = "/",
	    .response_max = 4,
	    .steps = { "HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n"
	               "Connection: close\r\n\r\n" },
	    .rc = SB_OK,
	    .status = 200,
	    .attempts = 1,
	    .requests = 1,
	    .kept = { "Content-Length", "1000000" },
	    .request_has = { "HEAD / HTTP/1.1\r\n" } },
	{ .name = "GET timeout retried, then SB_ERR_TIMEOUT",
	    .method = "GET",
	    .path = "/",
	    .total_timeout_ms = 300,
	    .steps = { HANG, HANG, HANG },
	    .rc = SB_ERR_TIMEOUT,
	    .status = 0,
	    .attempts = 3,
	    .requests = 3 },
	{ .name = "POST timeout not retried",
	    .method = "POST",
	    .path = "/",
	    .body = "x",
	    .total_timeout_ms = 300,
	    .steps = { HANG, HANG },
	    .rc = SB_ERR_TIMEOUT,
	    .status = 0,
	    .attempts = 1,
	    .requests = 1 },
	{ .name = "302 returned, not followed",
	    .method = "GET",
	    .path = "/",
	    .steps = { "HTTP/1.1 302 Found\r\nLocation: /elsewhere\r\n"
	               "Content-Length: 0\r\nConnection: close\r\n\r\n",
	        R200 },
	    .rc = SB_OK,
	    .status = 302,
	    .attempts = 1,
	    .requests = 1,
	    .kept = { "location", "/elsewhere" } },
	{ .name = "garbage answer is SB_ERR_UPSTREAM",
	    .method = "GET",
	    .path = "/",
	    .steps = { "this is not HTTP at all\r\n\r\n", R200 },
	    .rc = SB_ERR_UPSTREAM,
	    .status = 0,
	    .attempts = 1,
	    .requests = 1 },
	{ .name = "closed without answer, retried",
	    .method = "GET",
	    .path = "/",
	    .steps = { "", R200 },
	    .rc = SB_OK,
	    .status = 200,
	    .attempts = 2,
	    .requests = 2,
	    .resp_body = "hello",
	    .content_type = "text/plain" },
	{ .name = "POST headers and body reach the server",
	    .method = "POST",
	    .path = "/submit",
	    .headers = { { "Content-Type", "application/json" },
	        { "X-Test", "hello" }, { "X-Empty", "" } },
	    .body = "{\"a\":1}",
	    .steps = { R200 },
	    .rc = SB_OK,
	    .status = 200,
	    .attempts = 1,
	    .requests = 1,
	    .resp_body = "hello",
	    .content_type = "text/plain",
	    .request_has = { "POST /submit HTTP/1.1\r\n",
	        "\r\nX-Test: hello\r\n", "\r\nContent-Length: 7\r\n",
	        "\r\n\r\n{\"a\":1}", "\r\nX-Empty:" },
	    .request_lacks = "Expect" },
	{ .name = "PUT without body sends Content-Length 0",
	    .method = "PUT",
	    .path = "/thing",
	    .steps = { R200 },
	    .rc = SB_OK,
	    .status = 200,
	    .attempts = 1,
	    .requests = 1,
	    .resp_body = "hello",
	    .content_type = "text/plain",
	    .request_has = { "PUT /thing HTTP/1.1\r\n",
	        "\r\nContent-Length: 0\r\n" } },
	{ .name = "DELETE sent as DELETE",
	    .method = "DELETE",
	    .path = "/thing/1",
	    .steps = { R200 },
	    .rc = SB_OK,
	    .status = 200,
	    .attempts = 1,
	    .requests = 1,
	    .resp_body = "hello",
	    .content_type = "text/plain",
	    .request_has = { "DELETE /thing/1 HTTP/1.1\r\n" } },
};

static void
transfer_check(const struct transfer_case *c,
    const struct sb_http_response *resp, const struct seen *seen)
{
	const char *last;

	assert_int_equal(resp->status, c->status);
	assert_int_equal(resp->attempts, c->attempts);
	assert_int_equal(seen->count, c->requests);
	assert_true(resp->elapsed_ms >= 0);
	if (c->resp_body != NULL) {
		assert_non_null(resp->body);
		assert_int_equal(resp->body_len, strlen(c->resp_body));
		assert_string_equal(resp->body, c->resp_body);
	} else {
		assert_null(resp->body);
		assert_int_equal(resp->body_len, 0);
	}
	if (c->content_type != NULL)
		assert_string_equal(resp->content_type, c->content_type);
	else
		assert_null(resp->content_type);
	if (c->kept[0] != NULL)
		assert_string_equal(
		    sb_http_response_header(resp, c->kept[0]), c->kept[1]);
	if (c->absent != NULL)
		assert_null(sb_http_response_header(resp, c->absent));
	last = seen->count > 0 && seen->count <= SEEN_MAX
	    ? seen->requests[seen->count - 1]
	    : "";
	for (size_t i = 0; i < LEN(c->request_has) && c->request_has[i]; i++)
		if (strstr(last, c->request_has[i]) == NULL)
			fail_msg("request lacks \"%s\":\n%s", c->request_has[i],
			    last);
	if (c->request_lacks != NULL)
		assert_null(strstr(last, c->request_lacks));
	if (c->elapsed_max_ms != 0)
		assert_in_range(
		    resp->elapsed_ms, c->elapsed_min_ms, c->elapsed_max_ms);
}

static void
test_transfer(void **state)
{
	const struct transfer_case *c = *state;
	struct sb_http_limits limits = test_limits;
	struct sb_http_request req;
	struct sb_http_response resp;
	struct sb_http *http = NULL;
	struct server server;
	struct seen seen;
	char url[256];
	enum sb_err rc;

	if (c->response_max != 0)
		limits.response_max = c->response_max;
	if (c->total_timeout_ms != 0)
		limits.total_timeout_ms = c->total_timeout_ms;
	if (c->max_attempts != 0)
		limits.max_attempts = c->max_attempts;
	assert_int_equal(sb_http_new(&limits, &http), SB_OK);
	memset(&req, 0, sizeof(req));
	req.method = c->method;
	req.headers = c->headers;
	while (req.header_count < LEN(c->headers) &&
	    c->headers[req.header_count].name != NULL)
		req.header_count++;
	req.body = c->body;
	req.body_len = c->body != NULL ? strlen(c->body) : 0;
	req.retry_unsafe = c->retry_unsafe;
	req.keep_429 = c->keep_429;
	server_start(&server, c->steps);
	snprintf(
	    url, sizeof(url), "http://127.0.0.1:%d%s", server.port, c->path);
	req.url = url;
	rc = sb_http_perform(http, &req, &resp);
	server_stop(&server, &seen);
	sb_http_free(http);
	if (rc != c->rc)
		fail_msg(
		    "%s: rc %d (%s), want %d", c->name, rc, resp.error, c->rc);
	transfer_check(c, &resp, &seen);
	sb_http_response_clear(&resp);
	seen_clear(&seen);
}

/* A body large enough for curl's Expect: 100-continue goes without it. */
static void
test_large_post_no_expect(void **state)
{
	static const char *const steps[] = { R200, NULL };
	struct sb_http_request req = { .method = "POST" };
	struct sb_http_response resp;
	struct sb_http *http = NULL;
	struct server server;
	struct seen seen;
	char url[64], length[64];
	char *body;
	enum sb_err rc;

	(void)state;
	body = malloc(LARGE_BODY);
	assert_non_null(body);
	memset(body, 'b', LARGE_BODY);
	req.body = body;
	req.body_len = LARGE_BODY;
	assert_int_equal(sb_http_new(&test_limits, &http), SB_OK);
	server_start(&server, steps);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/big", server.port);
	req.url = url;
	rc = sb_http_perform(http, &req, &resp);
	server_stop(&server, &seen);
	sb_http_free(http);
	free(body);
	assert_int_equal(rc, SB_OK);
	assert_int_equal(resp.status, 200);
	assert_int_equal(seen.count, 1);
	snprintf(
	    length, sizeof(length), "\r\nContent-Length: %d\r\n", LARGE_BODY);
	assert_non_null(strstr(seen.requests[0], length));
	assert_null(strstr(seen.requests[0], "Expect:"));
	assert_true(resp.elapsed_ms < 900); /* no wait for a 100 */
	sb_http_response_clear(&resp);
	seen_clear(&seen);
}

static const struct CMUnitTest fixed_tests[] = {
	cmocka_unit_test(test_retry_delay_table),
	cmocka_unit_test(test_retry_status_table),
	cmocka_unit_test(test_response_header_set),
	cmocka_unit_test(test_retry_delay_jitter_bounds),
	cmocka_unit_test(test_response_header_and_clear),
	cmocka_unit_test(test_new_rejects_bad_limits),
	cmocka_unit_test(test_perform_rejects_invalid),
	cmocka_unit_test(test_perform_rejects_long_url),
	cmocka_unit_test(test_nothing_listening),
	cmocka_unit_test(test_retry_log_hides_secrets),
	cmocka_unit_test(test_large_post_no_expect),
};

int
main(void)
{
	struct CMUnitTest tests[LEN(fixed_tests) + LEN(transfer_cases)];
	size_t n = 0;
	int failed;

	if (sb_http_global_init() != SB_OK)
		return 1;
	for (size_t i = 0; i < LEN(fixed_tests); i++)
		tests[n++] = fixed_tests[i];
	for (size_t i = 0; i < LEN(transfer_cases); i++) {
		memset(&tests[n], 0, sizeof(tests[n]));
		tests[n].name = transfer_cases[i].name;
		tests[n].test_func = test_transfer;
		tests[n].initial_state = (void *)&transfer_cases[i];
		n++;
	}
	failed = cmocka_run_group_tests_name("http", tests, NULL, NULL);
	curl_global_cleanup();
	return failed;
}
