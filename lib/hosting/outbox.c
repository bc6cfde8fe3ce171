/*
 * The outbox of the hosting panel's events (see
 * include/sb/hosting/outbox.h): events written in the transaction of the
 * change they report, and delivered to the aggregation service through the
 * one client of that service.
 *
 * A batch is sent as the jobs' payload texts joined into one array, so
 * each event goes out byte for byte as it was written to the outbox; the
 * service answers one {"id", "status"} per item, in order, and only the
 * items answered 201 or 200 under their own id count as delivered.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "sb/core/log.h"
#include "sb/hosting/outbox.h"
#include "sb/runtime/context.h"

#define OUTBOX_COMPONENT "outbox"
#define OUTBOX_ID_TIME_BYTES 6 /* milliseconds, big endian, lead an id */
#define OUTBOX_RETRY_AFTER_MAX_MS (86400L * 1000) /* a day */
#define OUTBOX_AUTH_MAX (SB_CONFIG_STR_MAX + 16) /* "Bearer " and a token */

enum outbox_sql { OUTBOX_SQL_BACKED_OFF, OUTBOX_SQL__MAX };

static const char *const outbox_sql[OUTBOX_SQL__MAX] = {
	[OUTBOX_SQL_BACKED_OFF] = "SELECT 1 FROM jobs WHERE state = 'pending'"
	                          " AND run_at > ?1"
	                          " AND +queue = '" SB_EVENTS_QUEUE "' LIMIT 1",
};

/*
 * Enqueues the event in the caller's transaction; payload stays the
 * caller's.  On SB_OK *job_id is the job.
 */
/*
 * A new event id: 6 bytes of milliseconds since the epoch, big endian, then
 * random bytes.  Ids made close in time sort close together, so the events
 * table's unique index on them grows at its end instead of touching a
 * random page per insert; the random part keeps them unique and
 * unguessable.
 */
static void
outbox_new_id(unsigned char id[SB_EVENTS_ID_BYTES])
{
	struct timespec ts;
	uint64_t ms;

	clock_gettime(CLOCK_REALTIME, &ts);
	ms = (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
	for (int i = OUTBOX_ID_TIME_BYTES - 1; i >= 0; i--, ms >>= 8)
		id[i] = (unsigned char)(ms & 0xff);
	randombytes_buf(id + OUTBOX_ID_TIME_BYTES,
	    SB_EVENTS_ID_BYTES - OUTBOX_ID_TIME_BYTES);
}

enum sb_err
sb_outbox_add(struct sb_db *db, const char *name, cJSON *payload,
    int max_attempts, int64_t *job_id)
{
	unsigned char random[SB_EVENTS_ID_BYTES];
	char id[SB_EVENTS_ID_BYTES * 2 + 1], now[SB_EVENTS_TIME_MAX];
	cJSON *job = NULL, *body;
	enum sb_err rc = SB_ERR_NOMEM;
	char *text = NULL;

	outbox_new_id(random);
	sodium_bin2hex(id, sizeof(id), random, sizeof(random));
	sb_db_now_iso(now, sizeof(now));
	if ((job = cJSON_CreateObject()) == NULL ||
	    !cJSON_AddStringToObject(job, "id", id) ||
	    !cJSON_AddStringToObject(job, "name", name) ||
	    (body = cJSON_Duplicate(payload, 1)) == NULL)
		goto out;
	cJSON_AddItemToObject(job, "payload", body);
	if (!cJSON_AddStringToObject(body, "eventId", id) ||
	    !cJSON_AddStringToObject(body, "name", name) ||
	    !cJSON_AddStringToObject(body, "occurredAt", now) ||
	    (text = cJSON_PrintUnformatted(job)) == NULL)
		goto out;
	rc = sb_jobs_enqueue(db, SB_EVENTS_QUEUE, text, max_attempts,
	    (int64_t)time(NULL), job_id);
out:
	cJSON_free(text);
	cJSON_Delete(job);
	return rc;
}

/*
 * Makes the pending events due at now in its own transaction; *count gets
 * how many moved.
 */
enum sb_err
sb_outbox_release(struct sb_db *db, int64_t now, int64_t *count)
{
	return sb_jobs_release(db, SB_EVENTS_QUEUE, now, count);
}

/* Sets *any to whether an event waits in backoff at now (a read). */
static enum sb_err
outbox_backed_off(struct sb_db *db, int64_t now, bool *any)
{
	sqlite3_stmt *stmt;
	int step;

	*any = false;
	if ((stmt = sb_db_stmt(db, outbox_sql[OUTBOX_SQL_BACKED_OFF])) ==
	        NULL ||
	    sqlite3_bind_int64(stmt, 1, now) != SQLITE_OK)
		return SB_ERR_DB;
	step = sqlite3_step(stmt);
	sqlite3_reset(stmt);
	*any = step == SQLITE_ROW;
	return step == SQLITE_ROW || step == SQLITE_DONE ? SB_OK
	                                                 : sb_db_rc(step);
}

/*
 * One GET /health asks the service whether it answers again; no event
 * spends an attempt on the question.  A service still down is no error.
 */
enum sb_err
sb_outbox_resume(struct sb_ctx *ctx, int64_t now, int64_t *released)
{
	struct sb_http_response resp = { 0 };
	char err[SB_WORK_ERROR_MAX] = "";
	bool waiting = false;
	enum sb_err rc;

	if (released != NULL)
		*released = 0;
	if ((rc = outbox_backed_off(ctx->db, now, &waiting)) != SB_OK ||
	    !waiting)
		return rc;
	rc = sb_outbox_service(
	    ctx, "GET", "/health", NULL, 0, &resp, err, sizeof(err));
	if (rc == SB_OK && resp.status == 200) {
		rc = sb_outbox_release(ctx->db, now, released);
	} else {
		sb_log(SB_LOG_INFO, OUTBOX_COMPONENT, NULL,
		    "events wait in backoff; the service still fails: %s",
		    rc != SB_OK ? err : "its health is not 200");
		rc = SB_OK;
	}
	sb_http_response_clear(&resp);
	return rc;
}

/* Retry-After in whole seconds (at most a day) if the answer has one; else 0.
 */
static int64_t
outbox_retry_after(const struct sb_http_response *resp)
{
	long ms =
	    sb_http_retry_after_ms(resp, time(NULL), OUTBOX_RETRY_AFTER_MAX_MS);

	return ms > 0 ? (ms + 999) / 1000 : 0;
}

enum sb_err
sb_outbox_service(struct sb_ctx *ctx, const char *method,
    const char *path_query, const char *body, size_t len,
    struct sb_http_response *resp, char *err, size_t errsize)
{
	char url[SB_HTTP_URL_MAX], auth[OUTBOX_AUTH_MAX];
	struct sb_http_header headers[2] = {
		{ "Authorization", auth },
		{ "Content-Type", "application/json" },
	};
	struct sb_http_request req = { .method = method,
		.url = url,
		.headers = headers,
		.header_count = body != NULL ? 2 : 1,
		.body = body,
		.body_len = len };
	enum sb_err rc = SB_ERR_CONFIG;

	if (ctx->http == NULL || ctx->config.events_token[0] == '\0') {
		snprintf(err, errsize, "no HTTP client or events token");
		goto out;
	}
	snprintf(url, sizeof(url), "http://%s:%ld%s",
	    ctx->config.listen_address, ctx->config.events_port, path_query);
	snprintf(auth, sizeof(auth), "Bearer %s", ctx->config.events_token);
	if ((rc = sb_http_perform(ctx->http, &req, resp)) != SB_OK)
		snprintf(err, errsize, "events service: %s",
		    resp->error[0] != '\0' ? resp->error : sb_strerror(rc));
out:
	sodium_memzero(auth, sizeof(auth));
	return rc;
}

/*
 * POSTs body (len bytes of JSON) to the events service; resp gets the
 * answer, which the caller clears.  SB_OK on 200 or 201, otherwise err
 * says why and *retry_after_s may be set.
 */
static enum sb_err
outbox_post(struct sb_ctx *ctx, const char *body, size_t len,
    struct sb_http_response *resp, char *err, size_t errsize,
    int64_t *retry_after_s)
{
	enum sb_err rc;

	rc = sb_outbox_service(
	    ctx, "POST", "/events", body, len, resp, err, errsize);
	if (rc == SB_OK && resp->status != 200 && resp->status != 201) {
		snprintf(
		    err, errsize, "events service answered %ld", resp->status);
		*retry_after_s = outbox_retry_after(resp);
		rc = SB_ERR_UPSTREAM;
	}
	return rc;
}

/*
 * POSTs the job's event; SB_OK on 200 or 201, otherwise err says why and
 * *retry_after_s may be set.
 */
enum sb_err
sb_outbox_deliver(struct sb_ctx *ctx, const struct sb_job *job, char *err,
    size_t errsize, int64_t *retry_after_s)
{
	struct sb_http_response resp = { 0 };
	enum sb_err rc;

	rc = outbox_post(ctx, job->payload, strlen(job->payload), &resp, err,
	    errsize, retry_after_s);
	sb_http_response_clear(&resp);
	return rc;
}

/*
 * How many of the n jobs (at least one) go in the next POST: at most
 * SB_EVENTS_BATCH_MAX, and no more than fit body_max once joined.
 */
static size_t
outbox_chunk(const struct sb_ctx *ctx, const struct sb_job *jobs, size_t n)
{
	size_t size = 1 + strlen(jobs[0].payload) + 1, i;

	for (i = 1; i < n && i < SB_EVENTS_BATCH_MAX; i++) {
		size += strlen(jobs[i].payload) + 1;
		if (size > (size_t)ctx->config.body_max)
			break;
	}
	return i;
}

/* "[p0,p1,...]" from the n jobs' payloads; NULL when memory runs out. */
static char *
outbox_batch_body(const struct sb_job *jobs, size_t n, size_t *len)
{
	size_t size = 3, off = 0, i, l; /* "[", "]", NUL; a comma each */
	char *body;

	for (i = 0; i < n; i++)
		size += strlen(jobs[i].payload) + 1;
	if ((body = malloc(size)) == NULL)
		return NULL;
	body[off++] = '[';
	for (i = 0; i < n; i++) {
		if (i > 0)
			body[off++] = ',';
		l = strlen(jobs[i].payload);
		memcpy(body + off, jobs[i].payload, l);
		off += l;
	}
	body[off++] = ']';
	body[off] = '\0';
	*len = off;
	return body;
}

/*
 * True if the job's event id (its payload's "id") is id.  The outbox
 * writes "id" first ({"id":"...",...}), so for a usable id (nothing in
 * it to escape) the text is compared as it is, and the payload is parsed
 * only when it is shaped otherwise.
 */
static bool
outbox_job_is(const struct sb_job *job, const char *id)
{
	static const char prefix[] = "{\"id\":\"";
	size_t n = sizeof(prefix) - 1, len = strlen(id);
	const cJSON *v;
	cJSON *event;
	bool same;

	if (sb_events_id_valid(id) && strncmp(job->payload, prefix, n) == 0)
		return strncmp(job->payload + n, id, len) == 0 &&
		    job->payload[n + len] == '"';
	event = cJSON_Parse(job->payload);
	v = cJSON_GetObjectItemCaseSensitive(event, "id");
	same = cJSON_IsString(v) && strcmp(v->valuestring, id) == 0;
	cJSON_Delete(event);
	return same;
}

/* Sets result from the service's answer item for job. */
static void
outbox_item_result(
    const cJSON *item, const struct sb_job *job, struct sb_work_result *result)
{
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(item, "id");
	const cJSON *status = cJSON_GetObjectItemCaseSensitive(item, "status");
	int code = cJSON_IsNumber(status) ? status->valueint : 0;

	if (!cJSON_IsString(id) || !outbox_job_is(job, id->valuestring))
		snprintf(result->err, sizeof(result->err),
		    "events service answered for another event");
	else if (code != 201 && code != 200)
		snprintf(result->err, sizeof(result->err),
		    "events service answered %d for the event", code);
	else
		result->rc = SB_OK;
}

/*
 * Reads a batch answer: SB_OK with results set item by item if it is a 200
 * with an array of one result per job; otherwise err says why.
 */
static enum sb_err
outbox_batch_answer(const struct sb_http_response *resp,
    const struct sb_job *jobs, size_t n, struct sb_work_result *results,
    char *err, size_t errsize)
{
	const cJSON *item;
	cJSON *answer = NULL;
	enum sb_err rc = SB_ERR_UPSTREAM;
	size_t i = 0;

	if (resp->status == 200 && resp->body != NULL)
		answer = cJSON_ParseWithLength(resp->body, resp->body_len);
	if (!cJSON_IsArray(answer) || (size_t)cJSON_GetArraySize(answer) != n) {
		snprintf(err, errsize,
		    "events service answered %ld without a result per event",
		    resp->status);
		goto out;
	}
	cJSON_ArrayForEach(item, answer)
	{
		outbox_item_result(item, &jobs[i], &results[i]);
		i++;
	}
	rc = SB_OK;
out:
	cJSON_Delete(answer);
	return rc;
}

/* One POST of n jobs; on a failure of the whole, every result says so. */
static void
outbox_deliver_chunk(struct sb_ctx *ctx, const struct sb_job *jobs, size_t n,
    struct sb_work_result *results)
{
	struct sb_http_response resp = { 0 };
	char err[SB_WORK_ERROR_MAX] = "out of memory";
	int64_t retry_after = 0;
	enum sb_err rc = SB_ERR_NOMEM;
	size_t len;
	char *body;

	if ((body = outbox_batch_body(jobs, n, &len)) == NULL)
		goto out;
	rc = outbox_post(ctx, body, len, &resp, err, sizeof(err), &retry_after);
	if (rc == SB_OK)
		rc = outbox_batch_answer(
		    &resp, jobs, n, results, err, sizeof(err));
out:
	for (size_t i = 0; rc != SB_OK && i < n; i++) {
		results[i].rc = rc;
		results[i].retry_after_s = retry_after;
		snprintf(results[i].err, sizeof(results[i].err), "%s", err);
	}
	free(body);
	sb_http_response_clear(&resp);
}

/* POSTs the jobs' events in as few arrays as the caps allow. */
void
sb_outbox_deliver_batch(struct sb_ctx *ctx, const struct sb_job *jobs,
    size_t count, struct sb_work_result *results)
{
	size_t start = 0, n;

	while (start < count) {
		n = outbox_chunk(ctx, jobs + start, count - start);
		outbox_deliver_chunk(ctx, jobs + start, n, results + start);
		start += n;
	}
}
