/*
 * Provider calls through a connection, and token refreshes.  The order of a
 * call: fail fast if the connection needs re-authorisation; refresh an
 * expired token; validate the path; build the URL and check its host; add
 * the provider's headers, the caller's (minus forbidden ones) and the
 * authentication; send; on 401 refresh once and send once more.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>
#include <sodium.h>

#include "sb/connect/call.h"
#include "sb/core/deadline.h"
#include "sb/core/header.h"
#include "sb/core/log.h"
#include "sb/core/request.h"
#include "sb/connect/path.h"

/* Request headers a caller may never set: auth, routing and hop-by-hop. */
static const char *const forbidden_headers[] = { "authorization", "cookie",
	"host", "connection", "keep-alive", "proxy-authenticate",
	"proxy-authorization", "proxy-connection", "te", "trailer",
	"transfer-encoding", "upgrade", "content-length", "expect", NULL };

/* Response headers passed back; everything else (Set-Cookie, hop-by-hop)
 * stays behind. */
static const char *const passed_headers[] = { "link", "etag", "last-modified",
	"retry-after", "x-ratelimit-remaining", "x-ratelimit-reset",
	"x-ratelimit-limit", "x-rate-limit-remaining", "x-rate-limit-reset",
	"x-rate-limit-limit", "x-total-count", NULL };

static bool
listed(const char *const *names, const char *name)
{
	for (; *names != NULL; names++)
		if (strcasecmp(*names, name) == 0)
			return true;
	return false;
}

bool
sb_call_header_forbidden(const char *name)
{
	return listed(forbidden_headers, name);
}

bool
sb_call_header_passed(const struct sb_provider *provider, const char *name)
{
	return listed(passed_headers, name) ||
	    (provider->rate_limit_limit != NULL &&
	        strcasecmp(provider->rate_limit_limit, name) == 0) ||
	    (provider->rate_limit_remaining != NULL &&
	        strcasecmp(provider->rate_limit_remaining, name) == 0) ||
	    (provider->rate_limit_reset != NULL &&
	        strcasecmp(provider->rate_limit_reset, name) == 0);
}

static const char *
credential(const struct sb_connection *conn, const char *name)
{
	const cJSON *v =
	    cJSON_GetObjectItemCaseSensitive(conn->credentials, name);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* Outbound headers with their text in one bounded pool. */
struct headers {
	struct sb_http_header list[SB_HTTP_HEADERS_MAX];
	size_t count;
	char pool[SB_CALL_HEADER_POOL];
	size_t used;
};

/* Adds "name: prefix value"; false if the pool or list is full. */
static bool
headers_add(
    struct headers *h, const char *name, const char *prefix, const char *value)
{
	size_t nlen = strlen(name) + 1, vlen;
	int n;

	if (h->count == SB_HTTP_HEADERS_MAX || nlen > sizeof(h->pool) - h->used)
		return false;
	memcpy(h->pool + h->used, name, nlen);
	h->list[h->count].name = h->pool + h->used;
	h->used += nlen;
	n = snprintf(h->pool + h->used, sizeof(h->pool) - h->used, "%s%s",
	    prefix, value);
	vlen = n < 0 ? sizeof(h->pool) : (size_t)n + 1;
	if (vlen > sizeof(h->pool) - h->used)
		return false;
	h->list[h->count++].value = h->pool + h->used;
	h->used += vlen;
	return true;
}

/* The auth entry conn's credentials choose, or NULL if they fit none. */
static const struct sb_provider_auth *
conn_auth(const struct sb_connection *conn)
{
	return sb_provider_auth_choose(conn->provider, conn->credentials);
}

/* New credentials from a token endpoint's answer, or NULL with err. */
static cJSON *
refresh_parse(const struct sb_connection *conn,
    const struct sb_http_response *resp, char *err, size_t errsize)
{
	cJSON *body = cJSON_ParseWithLength(resp->body, resp->body_len);
	const cJSON *access, *refresh, *expires, *code;
	cJSON *creds = NULL;

	access = cJSON_GetObjectItemCaseSensitive(body, "access_token");
	refresh = cJSON_GetObjectItemCaseSensitive(body, "refresh_token");
	expires = cJSON_GetObjectItemCaseSensitive(body, "expires_in");
	code = cJSON_GetObjectItemCaseSensitive(body, "error");
	if (resp->status != 200 || !cJSON_IsString(access)) {
		snprintf(err, errsize,
		    "the token endpoint answered %ld%s%.64s%s", resp->status,
		    cJSON_IsString(code) ? " (" : "",
		    cJSON_IsString(code) ? code->valuestring : "",
		    cJSON_IsString(code) ? ")" : " without an access token");
		goto out;
	}
	if ((creds = cJSON_Duplicate(conn->credentials, true)) == NULL)
		goto out;
	cJSON_DeleteItemFromObjectCaseSensitive(creds, "expires_at");
	cJSON_DeleteItemFromObjectCaseSensitive(creds, "expires_in");
	cJSON_ReplaceItemInObjectCaseSensitive(
	    creds, "access_token", cJSON_CreateString(access->valuestring));
	if (cJSON_GetObjectItemCaseSensitive(creds, "access_token") == NULL)
		cJSON_AddStringToObject(
		    creds, "access_token", access->valuestring);
	/* A provider that returns no refresh token keeps the old one. */
	if (cJSON_IsString(refresh))
		cJSON_ReplaceItemInObjectCaseSensitive(creds, "refresh_token",
		    cJSON_CreateString(refresh->valuestring));
	if (cJSON_IsNumber(expires))
		cJSON_AddNumberToObject(
		    creds, "expires_in", expires->valuedouble);
out:
	cJSON_Delete(body);
	return creds;
}

/*
 * The token request of conn's auth entry into form (url its rendered
 * token URL); SB_ERR_INVALID with err if the entry obtains no token, the
 * token URL is not allowed or the scheme cannot build the form.
 */
static enum sb_err
refresh_form(struct sb_ctx *ctx, const struct sb_connection *conn, char *url,
    size_t urlsize, char *form, size_t formsize, char *err, size_t errsize)
{
	const struct sb_provider_auth *auth = conn_auth(conn);
	struct sb_auth_token_request r = { .credentials = conn->credentials,
		.token_url = url,
		.now = (int64_t)time(NULL) };

	if (auth == NULL || !sb_auth_obtains_token(auth->scheme)) {
		snprintf(err, errsize,
		    "the connection's auth scheme obtains no token");
		return SB_ERR_INVALID;
	}
	r.settings = &auth->settings;
	if (sb_provider_render(conn->provider, auth->token_url, &ctx->config,
	        conn->config, url, urlsize) != SB_OK ||
	    !sb_provider_url_allowed(conn->provider, &ctx->config, url)) {
		snprintf(err, errsize, "the token endpoint is not allowed");
		return SB_ERR_INVALID;
	}
	if (!sb_auth_impl(auth->scheme)
	         ->token_form(&r, form, formsize, err, errsize))
		return SB_ERR_INVALID;
	return SB_OK;
}

/* Asks the token endpoint; on SB_OK *creds holds the new credentials. */
static enum sb_err
refresh_request(struct sb_ctx *ctx, const struct sb_connection *conn,
    cJSON **creds, char *err, size_t errsize)
{
	static const struct sb_http_header headers[] = {
		{ "Content-Type", "application/x-www-form-urlencoded" },
		{ "Accept", "application/json" },
	};
	struct sb_http_request req = { .method = "POST",
		.headers = headers,
		.header_count = sizeof(headers) / sizeof(headers[0]) };
	struct sb_http_response resp = { 0 };
	char url[SB_HTTP_URL_MAX], *form = NULL;
	enum sb_err rc;

	*creds = NULL;
	if ((form = calloc(1, SB_AUTH_FORM_MAX)) == NULL)
		return SB_ERR_NOMEM;
	if ((rc = refresh_form(ctx, conn, url, sizeof(url), form,
	         SB_AUTH_FORM_MAX, err, errsize)) != SB_OK)
		goto out;
	req.url = url;
	req.body = form;
	req.body_len = strlen(form);
	rc = sb_http_perform(ctx->http, &req, &resp);
	if (rc != SB_OK)
		snprintf(err, errsize, "the token endpoint failed: %s",
		    sb_strerror(rc));
	else if ((*creds = refresh_parse(conn, &resp, err, errsize)) == NULL)
		rc = SB_ERR_UPSTREAM;
	if (resp.body != NULL)
		sodium_memzero(resp.body, resp.body_len);
	sb_http_response_clear(&resp);
out:
	sodium_memzero(form, SB_AUTH_FORM_MAX);
	free(form);
	return rc;
}

/* True if conn's access token is no longer the one seen as stale. */
static bool
token_changed(const struct sb_connection *conn, const char *stale)
{
	const char *now = credential(conn, "access_token");

	if (now == NULL)
		return false;
	return stale == NULL || !sb_secrets_equal_str(now, stale);
}

/*
 * The refresh lease outlives the longest token request the HTTP limits
 * allow (every attempt timing out, every backoff at its cap), so it cannot
 * expire while its holder is still asking.
 */
static int
refresh_lease_s(const struct sb_config *c)
{
	long ms = c->http_max_attempts *
	        (c->http_connect_timeout_ms + c->http_timeout_ms) +
	    (c->http_max_attempts - 1) * c->http_backoff_cap_ms;

	return (int)(ms / 1000) + SB_CALL_LEASE_S;
}

/*
 * When a call stops waiting for another process's refresh (monotonic ms):
 * after SB_CALL_WAIT_MS, or SB_CALL_WAIT_SLACK_MS before the request's
 * deadline if that comes first, so that the last look at the lease is
 * written before the deadline.
 */
static int64_t
refresh_wait_until(const struct sb_ctx *ctx)
{
	int64_t left = sb_deadline_left(ctx->deadline) - SB_CALL_WAIT_SLACK_MS;

	return sb_deadline_now() +
	    (left < SB_CALL_WAIT_MS ? left : SB_CALL_WAIT_MS);
}

/*
 * Waits for the refresh lease; *done when someone else refreshed.  A lease
 * whose holder died is taken over by sb_connection_lease() itself.
 */
static enum sb_err
refresh_lease(struct sb_ctx *ctx, struct sb_connection *conn, const char *stale,
    bool *done, char *err, size_t errsize)
{
	int64_t until = refresh_wait_until(ctx), left;
	char id[SB_CONNECTION_ID_MAX];
	bool got = false;
	enum sb_err rc;

	*done = false;
	memcpy(id, conn->id, sizeof(id));
	for (;;) {
		rc = sb_connection_lease(SB_CONNECTION_STORE(ctx), id,
		    (int64_t)time(NULL), refresh_lease_s(&ctx->config), &got);
		if (rc != SB_OK || got)
			break;
		if ((left = until - sb_deadline_now()) <= 0) {
			snprintf(err, errsize, SB_CALL_BUSY_MESSAGE);
			return SB_ERR_BUSY;
		}
		sb_deadline_sleep(
		    left < SB_CALL_POLL_MS ? left : SB_CALL_POLL_MS);
		if ((rc = sb_connection_load(
		         SB_CONNECTION_STORE(ctx), id, conn)) != SB_OK)
			return rc;
		if (token_changed(conn, stale)) {
			*done = true;
			return SB_OK;
		}
	}
	if (rc != SB_OK && sb_deadline_passed(ctx->deadline))
		snprintf(err, errsize, SB_CALL_BUSY_MESSAGE);
	else if (rc != SB_OK)
		snprintf(err, errsize, "the token refresh could not start: %s",
		    sb_strerror(rc));
	if (rc != SB_OK)
		return rc;
	if ((rc = sb_connection_load(SB_CONNECTION_STORE(ctx), id, conn)) !=
	    SB_OK)
		return rc;
	if (token_changed(conn, stale)) {
		*done = true;
		sb_connection_release(SB_CONNECTION_STORE(ctx), id);
	}
	return SB_OK;
}

enum sb_err
sb_call_refresh(struct sb_ctx *ctx, struct sb_connection *conn,
    const char *stale_token, char *err, size_t errsize)
{
	char *stale = NULL;
	cJSON *creds = NULL;
	bool done = false;
	enum sb_err rc, stored;

	if (stale_token != NULL && (stale = strdup(stale_token)) == NULL)
		return SB_ERR_NOMEM;
	if ((rc = refresh_lease(ctx, conn, stale, &done, err, errsize)) !=
	        SB_OK ||
	    done)
		goto out;
	rc = refresh_request(ctx, conn, &creds, err, errsize);
	/*
	 * The answer is stored before anything else is done with it.  The
	 * provider may have rotated the refresh token already, so the store
	 * may take up to half the deadline's margin past the deadline: it is
	 * never rolled back, and still done before nginx gives up.
	 */
	if (ctx->deadline != SB_DEADLINE_NONE)
		sb_db_deadline_set(ctx->db,
		    ctx->deadline + ctx->config.deadline_margin_ms / 2);
	stored = sb_connection_refreshed(
	    SB_CONNECTION_STORE(ctx), conn, creds, err, (int64_t)time(NULL));
	sb_db_deadline_set(ctx->db, ctx->deadline);
	if (rc == SB_OK && stored != SB_OK) {
		snprintf(
		    err, errsize, "the refreshed token could not be stored");
		rc = SB_ERR_DB;
	} else if (rc != SB_OK) {
		rc = SB_ERR_UNAUTHORIZED;
	}
	sb_log(rc == SB_OK ? SB_LOG_INFO : SB_LOG_WARN, "refresh", NULL,
	    "connection %s: %s", conn->id, rc == SB_OK ? "refreshed" : err);
out:
	if (stale != NULL) {
		sodium_memzero(stale, strlen(stale));
		free(stale);
	}
	sb_connection_json_wipe(creds);
	cJSON_Delete(creds);
	return rc;
}

/* Appends s to url; false if it does not fit. */
static bool
url_add(char *url, size_t size, const char *s, size_t n)
{
	size_t len = strlen(url);

	if (n >= size - len)
		return false;
	memcpy(url + len, s, n);
	url[len + n] = '\0';
	return true;
}

/* Appends one "key=value" pair, escaped, after '?' or '&'. */
static bool
url_add_pair(char *url, size_t size, const char *key, const char *value)
{
	char *k = curl_easy_escape(NULL, key, 0);
	char *v = curl_easy_escape(NULL, value, 0);
	bool ok = k != NULL && v != NULL &&
	    url_add(url, size, strchr(url, '?') != NULL ? "&" : "?", 1) &&
	    url_add(url, size, k, strlen(k)) && url_add(url, size, "=", 1) &&
	    url_add(url, size, v, strlen(v));

	curl_free(k);
	curl_free(v);
	return ok;
}

/*
 * The text of a scalar query value, or NULL if it is not a scalar or is a
 * number past a double's range (1e309 parses as infinity: "inf" is no
 * number the caller sent).
 */
static const char *
query_scalar(const cJSON *v, char *buf, size_t size)
{
	int64_t n;

	if (cJSON_IsString(v))
		return v->valuestring;
	if (cJSON_IsBool(v))
		return cJSON_IsTrue(v) ? "true" : "false";
	if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble))
		return NULL;
	if (sb_request_json_int(v, &n))
		snprintf(buf, size, "%" PRId64, n);
	else
		snprintf(buf, size, "%.17g", v->valuedouble);
	return buf;
}

static bool
url_add_query(
    char *url, size_t size, const cJSON *query, char *err, size_t errsize)
{
	const cJSON *v, *item;
	const char *text;
	char num[64];

	cJSON_ArrayForEach(v, query)
	{
		item = cJSON_IsArray(v) ? v->child : v;
		for (; item != NULL;
		     item = cJSON_IsArray(v) ? item->next : NULL) {
			if ((text = query_scalar(item, num, sizeof(num))) ==
			    NULL) {
				snprintf(err, errsize,
				    "query '%.64s' must be a string, a "
				    "finite number, a boolean or an array "
				    "of them",
				    v->string);
				return false;
			}
			if (!url_add_pair(url, size, v->string, text)) {
				snprintf(err, errsize, "the URL is too long");
				return false;
			}
		}
	}
	return true;
}

/*
 * Appends a raw query string (as the caller sent it) after '?': bytes
 * 0x80-0xFF are percent-encoded (a URL holds ASCII only; the provider
 * decodes them back), and control bytes, spaces, DEL and '#' (a fragment
 * would silently cut the query) refuse it.  False if refused or too long.
 */
static bool
url_add_raw_query(char *url, size_t size, const char *q)
{
	static const char hex[] = "0123456789ABCDEF";
	unsigned char c;
	char escaped[3];

	if (!url_add(url, size, "?", 1))
		return false;
	for (; *q != '\0'; q++) {
		c = (unsigned char)*q;
		if (c <= ' ' || c == '#' || c == 0x7f)
			return false;
		escaped[0] = '%';
		escaped[1] = hex[c >> 4];
		escaped[2] = hex[c & 0x0f];
		if (c >= 0x80 ? !url_add(url, size, escaped, 3)
		              : !url_add(url, size, q, 1))
			return false;
	}
	return true;
}

/* Builds the URL of call, before auth adds to it; checks its path. */
static enum sb_err
call_url(struct sb_ctx *ctx, const struct sb_connection *conn,
    const struct sb_call *call, char *url, size_t size, char *err,
    size_t errsize)
{
	if (sb_path_validate(call->path, strlen(call->path), err, errsize) !=
	    SB_OK)
		return SB_ERR_INVALID;
	if (sb_provider_render(conn->provider, conn->provider->base_url,
	        &ctx->config, conn->config, url, size) != SB_OK ||
	    !url_add(url, size, call->path, strlen(call->path))) {
		snprintf(err, errsize, "the provider URL cannot be built");
		return SB_ERR_INVALID;
	}
	if (call->raw_query != NULL && call->raw_query[0] != '\0' &&
	    !url_add_raw_query(url, size, call->raw_query)) {
		snprintf(err, errsize,
		    "the query string is not allowed (spaces, control bytes "
		    "and '#' are refused)");
		return SB_ERR_INVALID;
	}
	if (!url_add_query(url, size, call->query, err, errsize))
		return SB_ERR_INVALID;
	return SB_OK;
}

/* Where a scheme's additions go: the headers or the URL's query. */
struct auth_target {
	struct headers *headers;
	char *url;
	size_t url_size;
};

static bool
auth_add(void *arg, enum sb_auth_place place, const char *name,
    const char *prefix, const char *value)
{
	struct auth_target *t = arg;

	if (place == SB_AUTH_PLACE_QUERY)
		return url_add_pair(t->url, t->url_size, name, value);
	return headers_add(t->headers, name, prefix, value);
}

/* Adds what conn's auth entry's scheme adds to a request. */
static enum sb_err
call_auth(const struct sb_connection *conn, struct auth_target *t, char *err,
    size_t errsize)
{
	const struct sb_provider_auth *auth = conn_auth(conn);

	if (auth == NULL) {
		snprintf(err, errsize,
		    "the connection's credentials fit no auth scheme of its "
		    "provider: PATCH new credentials");
		return SB_ERR_CONFLICT;
	}
	if (!sb_auth_impl(auth->scheme)
	         ->apply(&auth->settings, conn->credentials, auth_add, t)) {
		snprintf(err, errsize,
		    "too many or too large headers, or the "
		    "URL is too long");
		return SB_ERR_INVALID;
	}
	return SB_OK;
}

/* The provider's headers, the caller's and the content type. */
static enum sb_err
call_headers(const struct sb_connection *conn, const struct sb_call *call,
    struct headers *h, char *err, size_t errsize)
{
	const cJSON *v;

	cJSON_ArrayForEach(v, conn->provider->headers)
	{
		if (cJSON_IsString(v) &&
		    !headers_add(h, v->string, "", v->valuestring))
			goto full;
	}
	cJSON_ArrayForEach(v, call->headers)
	{
		if (!cJSON_IsString(v) || !sb_header_safe(v->string) ||
		    !sb_header_safe(v->valuestring) ||
		    sb_call_header_forbidden(v->string)) {
			snprintf(err, errsize, "header '%.64s' cannot be set",
			    v->string);
			return SB_ERR_INVALID;
		}
		if (!headers_add(h, v->string, "", v->valuestring))
			goto full;
	}
	if (call->content_type != NULL &&
	    !headers_add(h, "Content-Type", "", call->content_type))
		goto full;
	return SB_OK;
full:
	snprintf(err, errsize, "too many or too large headers");
	return SB_ERR_INVALID;
}

/* One attempt: build, check and send. */
static enum sb_err
call_once(struct sb_ctx *ctx, const struct sb_connection *conn,
    const struct sb_call *call, struct sb_http_response *resp, char *err,
    size_t errsize)
{
	struct sb_http_request req = { .method = call->method,
		.body = call->body,
		.body_len = call->body_len,
		.keep_429 = true /* lib/connect/call_throttle.c waits */ };
	char url[SB_HTTP_URL_MAX];
	struct auth_target target = { .url = url, .url_size = sizeof(url) };
	struct headers *h;
	enum sb_err rc;

	sb_http_response_clear(resp);
	if ((h = calloc(1, sizeof(*h))) == NULL)
		return SB_ERR_NOMEM;
	target.headers = h;
	if ((rc = call_url(ctx, conn, call, url, sizeof(url), err, errsize)) !=
	        SB_OK ||
	    (rc = call_headers(conn, call, h, err, errsize)) != SB_OK ||
	    (rc = call_auth(conn, &target, err, errsize)) != SB_OK)
		goto out;
	if (!sb_provider_url_allowed(conn->provider, &ctx->config, url)) {
		snprintf(err, errsize, "the URL's host is not the provider's");
		rc = SB_ERR_INVALID;
		goto out;
	}
	req.url = url;
	req.headers = h->list;
	req.header_count = h->count;
	if ((rc = sb_http_perform(ctx->http, &req, resp)) != SB_OK)
		snprintf(err, errsize, "%s",
		    resp->error[0] != '\0' ? resp->error : sb_strerror(rc));
out:
	sodium_memzero(h, sizeof(*h));
	free(h);
	sodium_memzero(url, sizeof(url));
	return rc;
}

/* True if conn's auth entry obtains its tokens (and so can renew them). */
static bool
refreshable(const struct sb_connection *conn)
{
	const struct sb_provider_auth *auth = conn_auth(conn);

	return auth != NULL && sb_auth_obtains_token(auth->scheme);
}

static bool
token_expired(const struct sb_connection *conn)
{
	return credential(conn, "access_token") == NULL ||
	    (conn->access_expires_at > 0 &&
	        conn->access_expires_at <=
	            (int64_t)time(NULL) + SB_CALL_EXPIRY_SKEW_S);
}

/* Refreshes conn, its current token being the stale one. */
static enum sb_err
call_refresh(
    struct sb_ctx *ctx, struct sb_connection *conn, char *err, size_t errsize)
{
	return sb_call_refresh(
	    ctx, conn, credential(conn, "access_token"), err, errsize);
}

enum sb_err
sb_call_send(struct sb_ctx *ctx, struct sb_connection *conn,
    const struct sb_call *call, struct sb_http_response *resp, char *err,
    size_t errsize)
{
	enum sb_err rc;

	err[0] = '\0';
	if (conn->unreadable) {
		snprintf(err, errsize, SB_CONNECTION_UNREADABLE_MESSAGE);
		return SB_ERR_CRYPTO;
	}
	if (conn->needs_reauth) {
		snprintf(err, errsize,
		    "the connection needs to be "
		    "re-authorised: its token could not be "
		    "refreshed (PATCH new credentials)");
		return SB_ERR_CONFLICT;
	}
	if (refreshable(conn) && token_expired(conn) &&
	    (rc = call_refresh(ctx, conn, err, errsize)) != SB_OK)
		return rc;
	rc = call_once(ctx, conn, call, resp, err, errsize);
	if (rc != SB_OK || resp->status != 401 || !refreshable(conn))
		return rc;
	/* The provider refused the token: refresh once, send once more. */
	if ((rc = call_refresh(ctx, conn, err, errsize)) != SB_OK)
		return rc;
	return call_once(ctx, conn, call, resp, err, errsize);
}

enum sb_err
sb_call_refresh_due(
    struct sb_ctx *ctx, int64_t now, int *refreshed, int *failed)
{
	char(*ids)[SB_CONNECTION_ID_MAX] = NULL, err[SB_CALL_ERROR_MAX];
	struct sb_connection conn = { 0 };
	size_t count = 0;
	enum sb_err rc;

	*refreshed = *failed = 0;
	if ((ids = calloc(SB_CALL_REFRESH_BATCH, sizeof(*ids))) == NULL)
		return SB_ERR_NOMEM;
	rc = sb_connection_due(SB_CONNECTION_STORE(ctx),
	    now + SB_CALL_REFRESH_AHEAD_S, now - SB_CALL_REFRESH_STALE_S, ids,
	    SB_CALL_REFRESH_BATCH, &count);
	for (size_t i = 0; rc == SB_OK && i < count; i++) {
		if (sb_connection_load(
		        SB_CONNECTION_STORE(ctx), ids[i], &conn) != SB_OK) {
			(*failed)++;
			continue;
		}
		/* A provider of several schemes lists its static ones too. */
		if (refreshable(&conn)) {
			if (call_refresh(ctx, &conn, err, sizeof(err)) == SB_OK)
				(*refreshed)++;
			else
				(*failed)++;
		}
		sb_connection_clear(&conn);
	}
	free(ids);
	return rc;
}
