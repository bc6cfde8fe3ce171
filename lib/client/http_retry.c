/*
 * How long the HTTP client waits before a retry (sb_http_retry_delay_ms()
 * in sb/client/http.h), kept apart from the transfer code in lib/client/http.c
 * because it is pure arithmetic over a previous answer's headers and the clock:
 * no curl handle, no I/O.  A server's own word wins over our backoff:
 * Retry-After (delta seconds or HTTP date) after a 429 or 503, then the
 * rate-limit reset headers after a 429, and only then full jitter.  Every
 * wait is capped by backoff_cap_ms, so a hostile or confused server cannot
 * park a responder.
 */
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <sodium.h>

#include "sb/client/http.h"

#define HTTP_EPOCH_MIN 1e9 /* reset values above are epoch secs */
#define HTTP_JITTER_MAX_MS 86400000L /* one day: keeps the draw in 32 bits */
#define LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Headers naming when a rate limit resets, in the order consulted. */
static const char *const reset_headers[] = {
	"X-RateLimit-Reset",
	"X-Rate-Limit-Reset",
	"RateLimit-Reset",
};

/*
 * Parses non-negative decimal seconds ("12" or "12.5"): no sign, exponent,
 * hex, inf or spaces.  False if s is anything else.
 */
static bool
seconds_parse(const char *s, double *out)
{
	size_t len;
	char *end;

	len = strspn(s, "0123456789");
	if (len == 0)
		return false;
	if (s[len] == '.') {
		if (strspn(s + len + 1, "0123456789") == 0)
			return false;
		len += 1 + strspn(s + len + 1, "0123456789");
	}
	if (s[len] != '\0')
		return false;
	*out = strtod(s, &end);
	return end == s + len;
}

/* Seconds to whole ms, rounded up, within [0, cap]. */
static long
seconds_to_ms(double seconds, long cap)
{
	double ms = seconds * 1000.0;
	long whole;

	if (!(ms > 0.0))
		return 0;
	if (ms >= (double)cap)
		return cap;
	whole = (long)ms;
	return (double)whole < ms ? whole + 1 : whole;
}

time_t
sb_http_response_date(const struct sb_http_response *resp, time_t now)
{
	const char *value = sb_http_response_header(resp, "Date");
	time_t when;

	if (value == NULL || (when = curl_getdate(value, NULL)) == -1)
		return now;
	return when;
}

long
sb_http_retry_after_ms(
    const struct sb_http_response *prev, time_t now, long cap)
{
	const char *value;
	double seconds;
	time_t when;

	value = sb_http_response_header(prev, "Retry-After");
	if (value == NULL)
		return -1;
	if (seconds_parse(value, &seconds))
		return seconds_to_ms(seconds, cap);
	if ((when = curl_getdate(value, NULL)) == -1)
		return -1;
	return seconds_to_ms(
	    difftime(when, sb_http_response_date(prev, now)), cap);
}

/*
 * The first rate-limit reset header that parses; -1 if none does.  An
 * epoch reset is measured against the answer's Date, as Okta's SDKs do:
 * the provider's clock on both sides, so our clock's skew does no harm.
 */
static long
rate_reset_ms(const struct sb_http_response *prev, time_t now, long cap)
{
	const char *value;
	double seconds;

	for (size_t i = 0; i < LEN(reset_headers); i++) {
		value = sb_http_response_header(prev, reset_headers[i]);
		if (value == NULL || !seconds_parse(value, &seconds))
			continue;
		if (seconds > HTTP_EPOCH_MIN)
			seconds -= (double)sb_http_response_date(prev, now);
		return seconds_to_ms(seconds, cap);
	}
	return -1;
}

/* Full jitter: uniform in [0, min(cap, base * 2^(attempt - 1))]. */
static long
jitter_ms(int attempt, long base, long cap)
{
	unsigned int shift;
	long bound;

	if (base <= 0 || cap <= 0)
		return 0;
	shift = attempt > 1 ? (unsigned int)(attempt - 1) : 0;
	/* base << shift stays within cap, so it cannot overflow. */
	if (shift >= sizeof(long) * CHAR_BIT - 1 || base > (cap >> shift))
		bound = cap;
	else
		bound = base << shift;
	if (bound > HTTP_JITTER_MAX_MS)
		bound = HTTP_JITTER_MAX_MS;
	return (long)randombytes_uniform((uint32_t)bound + 1);
}

/*
 * The wait in ms before retry number attempt (1 = the first retry), in
 * [0, limits->backoff_cap_ms].  Retry-After is honoured after a 429 or a
 * 503, the rate-limit reset headers after a 429 only; otherwise, or when
 * they do not parse, full jitter.  prev may be NULL (no answer); limits
 * NULL gives 0.  now is the wall-clock time that HTTP dates are read
 * against.
 */
long
sb_http_retry_delay_ms(const struct sb_http_response *prev, int attempt,
    const struct sb_http_limits *limits, time_t now)
{
	long cap, ms = -1;

	if (limits == NULL)
		return 0;
	cap = limits->backoff_cap_ms > 0 ? limits->backoff_cap_ms : 0;
	if (prev != NULL && (prev->status == 429 || prev->status == 503))
		ms = sb_http_retry_after_ms(prev, now, cap);
	if (ms < 0 && prev != NULL && prev->status == 429)
		ms = rate_reset_ms(prev, now, cap);
	if (ms < 0)
		ms = jitter_ms(attempt, limits->backoff_base_ms, cap);
	return ms < 0 ? 0 : ms < cap ? ms : cap;
}
