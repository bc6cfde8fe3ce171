/*
 * The data fetch's jobs (see include/sb/fetch/fetch.h): deciding a
 * POST /fetch, running a fetch job against the source, and storing its
 * answer in one transaction.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "sb/connect/call.h"
#include "sb/core/log.h"
#include "sb/fetch/fetch.h"
#include "sb/store/jobs.h"

#define FETCH_COMPONENT "fetch"

enum fetch_sql {
	FETCH_SQL_RESOURCE,
	FETCH_SQL_RESOURCE_NAMES,
	FETCH_SQL_STATE,
	FETCH_SQL_JOB_RELEASE,
	FETCH_SQL_RUN_INSERT,
	FETCH_SQL_STATE_ACTIVE,
	FETCH_SQL_RUN_START,
	FETCH_SQL_RUN_FAILED,
	FETCH_SQL_RUN_DONE,
	FETCH_SQL_STATE_DONE,
	FETCH_SQL_ITEM_GET,
	FETCH_SQL_ITEM_INSERT,
	FETCH_SQL_ITEM_UPDATE,
	FETCH_SQL_ITEMS_GONE,
	FETCH_SQL__MAX
};

static const char *const fetch_sql[FETCH_SQL__MAX] = {
	[FETCH_SQL_RESOURCE] =
	    "SELECT name, path, fields, coalesce(trim_field, ''),"
	    " coalesce(words_field, '') FROM fetch_resources"
	    " WHERE name = ?1 OR (?1 IS NULL AND is_default = 1)",
	[FETCH_SQL_RESOURCE_NAMES] =
	    "SELECT group_concat(name, ', ') FROM (SELECT name FROM"
	    " fetch_resources ORDER BY name)",
	[FETCH_SQL_STATE] =
	    "SELECT s.fetched_at, s.active_job, j.state, j.run_at"
	    " FROM fetch_state s LEFT JOIN jobs j ON j.id = s.active_job"
	    " WHERE s.resource = ?1",
	[FETCH_SQL_JOB_RELEASE] = "UPDATE jobs SET run_at = ?2"
	                          " WHERE id = ?1 AND state = 'pending'"
	                          " AND run_at > ?2",
	[FETCH_SQL_RUN_INSERT] = "INSERT INTO fetch_runs (job_id, resource,"
	                         " forced) VALUES (?1, ?2, ?3)",
	[FETCH_SQL_STATE_ACTIVE] =
	    "INSERT INTO fetch_state (resource, active_job) VALUES (?1, ?2)"
	    " ON CONFLICT (resource) DO UPDATE SET active_job = ?2",
	[FETCH_SQL_RUN_START] = "UPDATE fetch_runs SET started_at = ?2"
	                        " WHERE job_id = ?1",
	[FETCH_SQL_RUN_FAILED] =
	    "UPDATE fetch_runs SET outcome = 'failed', source_status = ?2,"
	    " error_code = ?3, finished_at = ?4 WHERE job_id = ?1",
	[FETCH_SQL_RUN_DONE] =
	    "UPDATE fetch_runs SET outcome = ?2, source_status = ?3,"
	    " error_code = NULL, fetched = ?4, created = ?5, updated = ?6,"
	    " unchanged = ?7, deleted = ?8, finished_at = ?9"
	    " WHERE job_id = ?1",
	[FETCH_SQL_STATE_DONE] =
	    "INSERT INTO fetch_state (resource, etag, fetched_at)"
	    " VALUES (?1, ?2, ?3) ON CONFLICT (resource) DO UPDATE SET"
	    " etag = coalesce(?2, etag), fetched_at = ?3,"
	    " active_job = CASE WHEN active_job = ?4 THEN NULL"
	    " ELSE active_job END",
	[FETCH_SQL_ITEM_GET] = "SELECT body, deleted_at IS NOT NULL"
	                       " FROM fetch_items WHERE resource = ?1"
	                       " AND id = ?2",
	[FETCH_SQL_ITEM_INSERT] =
	    "INSERT INTO fetch_items (resource, id, body, derived, fetched_at,"
	    " updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
	[FETCH_SQL_ITEM_UPDATE] =
	    "UPDATE fetch_items SET body = ?3, derived = ?4, fetched_at = ?5,"
	    " updated_at = ?5, deleted_at = NULL"
	    " WHERE resource = ?1 AND id = ?2",
	[FETCH_SQL_ITEMS_GONE] =
	    "UPDATE fetch_items SET deleted_at = ?2 WHERE resource = ?1"
	    " AND deleted_at IS NULL AND id NOT IN"
	    " (SELECT value FROM json_each(?3))",
};

/* Copies text (may be NULL: "") into out of size bytes; false if cut. */
static bool
fetch_copy(char *out, size_t size, const unsigned char *text)
{
	const char *t = text != NULL ? (const char *)text : "";

	return (size_t)snprintf(out, size, "%s", t) < size;
}

/*
 * True iff name is a field GET /data can read as the JSON path '$.' ||
 * name: segments of letters, digits, '_', '$' or '-', joined by single
 * dots (migration 0013 refuses any other when the row is written).
 */
static bool
fetch_field_valid(const char *name)
{
	bool segment = false;

	for (; *name != '\0'; name++) {
		if (*name == '.' && segment)
			segment = false;
		else if (isalnum((unsigned char)*name) || *name == '_' ||
		    *name == '$' || *name == '-')
			segment = true;
		else
			return false;
	}
	return segment;
}

/* SB_OK if every one of r's fields is a valid name; else logs the first. */
static enum sb_err
fetch_fields_check(const struct sb_fetch_resource *r)
{
	const cJSON *f;

	cJSON_ArrayForEach(f, r->fields)
	{
		if (!cJSON_IsString(f) || !fetch_field_valid(f->valuestring)) {
			sb_log(SB_LOG_ERROR, FETCH_COMPONENT, NULL,
			    "fetch resource %s: fields holds %s, not a field "
			    "name (letters, digits, _ $ -, dot-separated)",
			    r->name,
			    cJSON_IsString(f) ? f->valuestring
			                      : "a non-string");
			return SB_ERR_CONFIG;
		}
	}
	return SB_OK;
}

enum sb_err
sb_fetch_resource_load(struct sb_db *db, const char *name,
    struct sb_fetch_resource *out, char *names, size_t names_size)
{
	sqlite3_stmt *st;
	enum sb_err rc = SB_ERR_NOT_FOUND;
	int step;

	memset(out, 0, sizeof(*out));
	if ((st = sb_db_stmt(db, fetch_sql[FETCH_SQL_RESOURCE])) == NULL)
		return SB_ERR_DB;
	if (name != NULL)
		sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	if ((step = sqlite3_step(st)) == SQLITE_ROW) {
		rc = SB_OK;
		if (!fetch_copy(out->name, sizeof(out->name),
		        sqlite3_column_text(st, 0)) ||
		    !fetch_copy(out->path, sizeof(out->path),
		        sqlite3_column_text(st, 1)) ||
		    !fetch_copy(out->trim_field, sizeof(out->trim_field),
		        sqlite3_column_text(st, 3)) ||
		    !fetch_copy(out->words_field, sizeof(out->words_field),
		        sqlite3_column_text(st, 4)) ||
		    (out->fields = cJSON_Parse(
		         (const char *)sqlite3_column_text(st, 2))) == NULL ||
		    !cJSON_IsArray(out->fields))
			rc = SB_ERR_CONFIG;
		else
			rc = fetch_fields_check(out);
	} else if (step != SQLITE_DONE) {
		rc = SB_ERR_DB;
	}
	sqlite3_reset(st);
	if (rc != SB_OK)
		sb_fetch_resource_clear(out);
	if (rc == SB_ERR_NOT_FOUND && names != NULL &&
	    (st = sb_db_stmt(db, fetch_sql[FETCH_SQL_RESOURCE_NAMES])) !=
	        NULL) {
		names[0] = '\0';
		if (sqlite3_step(st) == SQLITE_ROW)
			fetch_copy(
			    names, names_size, sqlite3_column_text(st, 0));
		sqlite3_reset(st);
	}
	return rc;
}

void
sb_fetch_resource_clear(struct sb_fetch_resource *r)
{
	cJSON_Delete(r->fields);
	memset(r, 0, sizeof(*r));
}

/* Steps a bound write inside the caller's transaction. */
static enum sb_err
fetch_write(struct sb_db *db, sqlite3_stmt *st)
{
	return sb_db_step_write(db, st, NULL);
}

/* The resource's fetch state, read inside the decision's transaction. */
struct fetch_state {
	int64_t fetched_at; /* 0: never */
	int64_t active_job; /* 0: none */
	bool active; /* the active job is pending or leased */
};

static enum sb_err
fetch_state_read(struct sb_db *db, const char *resource, struct fetch_state *s)
{
	sqlite3_stmt *st;
	const char *state;
	int step;

	memset(s, 0, sizeof(*s));
	if ((st = sb_db_stmt(db, fetch_sql[FETCH_SQL_STATE])) == NULL)
		return SB_ERR_DB;
	sqlite3_bind_text(st, 1, resource, -1, SQLITE_STATIC);
	if ((step = sqlite3_step(st)) == SQLITE_ROW) {
		s->fetched_at = sqlite3_column_int64(st, 0);
		s->active_job = sqlite3_column_int64(st, 1);
		state = (const char *)sqlite3_column_text(st, 2);
		s->active = state != NULL &&
		    (strcmp(state, "pending") == 0 ||
		        strcmp(state, "leased") == 0);
	}
	sqlite3_reset(st);
	return step == SQLITE_ROW || step == SQLITE_DONE ? SB_OK : SB_ERR_DB;
}

/* Queues a new fetch job of resource and makes it the active one. */
static enum sb_err
fetch_enqueue(struct sb_ctx *ctx, const char *resource, bool force, int64_t now,
    int64_t *id)
{
	cJSON *payload = NULL;
	char *text = NULL;
	sqlite3_stmt *st;
	enum sb_err rc = SB_ERR_NOMEM;

	if ((payload = cJSON_CreateObject()) == NULL ||
	    !cJSON_AddStringToObject(payload, "resource", resource) ||
	    (text = cJSON_PrintUnformatted(payload)) == NULL)
		goto out;
	if ((rc = sb_jobs_enqueue(ctx->db, SB_FETCH_QUEUE, text,
	         (int)ctx->config.fetch_max_attempts, now, id)) != SB_OK)
		goto out;
	rc = SB_ERR_DB;
	if ((st = sb_db_stmt(ctx->db, fetch_sql[FETCH_SQL_RUN_INSERT])) == NULL)
		goto out;
	sqlite3_bind_int64(st, 1, *id);
	sqlite3_bind_text(st, 2, resource, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, force ? 1 : 0);
	if ((rc = fetch_write(ctx->db, st)) != SB_OK)
		goto out;
	rc = SB_ERR_DB;
	if ((st = sb_db_stmt(ctx->db, fetch_sql[FETCH_SQL_STATE_ACTIVE])) ==
	    NULL)
		goto out;
	sqlite3_bind_text(st, 1, resource, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, *id);
	rc = fetch_write(ctx->db, st);
out:
	cJSON_free(text);
	cJSON_Delete(payload);
	return rc;
}

/* The decision itself, inside the transaction. */
static enum sb_err
fetch_decide(struct sb_ctx *ctx, const char *resource, bool force, int64_t now,
    struct sb_fetch_decision *out)
{
	const struct sb_config *c = &ctx->config;
	struct fetch_state s;
	sqlite3_stmt *st;
	enum sb_err rc;

	if ((rc = fetch_state_read(ctx->db, resource, &s)) != SB_OK)
		return rc;
	out->fetched_at = s.fetched_at;
	if (s.active) {
		out->kind = SB_FETCH_QUEUED;
		out->job_id = s.active_job;
		out->shared = true;
		if ((st = sb_db_stmt(
		         ctx->db, fetch_sql[FETCH_SQL_JOB_RELEASE])) == NULL)
			return SB_ERR_DB;
		sqlite3_bind_int64(st, 1, s.active_job);
		sqlite3_bind_int64(st, 2, now);
		return fetch_write(ctx->db, st);
	}
	if (s.fetched_at > 0 && !force &&
	    now < s.fetched_at + c->fetch_cooldown_s) {
		out->kind = SB_FETCH_FRESH;
		out->next_fetch_after = s.fetched_at + c->fetch_cooldown_s;
		return SB_OK;
	}
	if (s.fetched_at > 0 && force &&
	    now < s.fetched_at + c->fetch_min_interval_s) {
		out->kind = SB_FETCH_TOO_SOON;
		out->next_fetch_after = s.fetched_at + c->fetch_min_interval_s;
		return SB_OK;
	}
	out->kind = SB_FETCH_QUEUED;
	return fetch_enqueue(ctx, resource, force, now, &out->job_id);
}

enum sb_err
sb_fetch_request(struct sb_ctx *ctx, const char *resource, bool force,
    int64_t now, struct sb_fetch_decision *out)
{
	enum sb_err rc;

	memset(out, 0, sizeof(*out));
	if ((rc = sb_db_begin(ctx->db)) != SB_OK)
		return rc;
	if ((rc = fetch_decide(ctx, resource, force, now, out)) != SB_OK) {
		sb_db_rollback(ctx->db);
		return rc;
	}
	return sb_db_commit(ctx->db);
}

/* What one fetch found. */
struct fetch_counts {
	int64_t fetched, created, updated, unchanged, deleted;
};

/* The derived fields of item: the trimmed text and the word count. */
static cJSON *
fetch_derive(const struct sb_fetch_resource *r, const cJSON *item)
{
	const cJSON *v;
	cJSON *d = cJSON_CreateObject();
	char *trimmed = NULL;
	int64_t words = 0;
	size_t len;

	v = cJSON_GetObjectItemCaseSensitive(item, r->trim_field);
	if (d != NULL && r->trim_field[0] != '\0' && cJSON_IsString(v)) {
		const char *s = v->valuestring;

		while (isspace((unsigned char)*s))
			s++;
		len = strlen(s);
		while (len > 0 && isspace((unsigned char)s[len - 1]))
			len--;
		if ((trimmed = strndup(s, len)) == NULL ||
		    !cJSON_AddStringToObject(d, r->trim_field, trimmed))
			goto fail;
	}
	v = cJSON_GetObjectItemCaseSensitive(item, r->words_field);
	if (d != NULL && r->words_field[0] != '\0' && cJSON_IsString(v)) {
		bool in = false;

		for (const char *s = v->valuestring; *s != '\0'; s++) {
			bool space = isspace((unsigned char)*s) != 0;

			words += !space && !in;
			in = !space;
		}
		if (!cJSON_AddNumberToObject(d, "word_count", (double)words))
			goto fail;
	}
	free(trimmed);
	return d;
fail:
	free(trimmed);
	cJSON_Delete(d);
	return NULL;
}

/* Binds the item's row values: resource, id, body, derived, now. */
static void
fetch_bind_item(sqlite3_stmt *st, const char *resource, int64_t id,
    const char *body, const char *derived, int64_t now)
{
	sqlite3_bind_text(st, 1, resource, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, id);
	sqlite3_bind_text(st, 3, body, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, derived, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, now);
}

/* Stores one item (its text in body) unless it is unchanged. */
static enum sb_err
fetch_store_item(struct sb_db *db, const struct sb_fetch_resource *r,
    int64_t id, const char *body, const char *derived, int64_t now,
    struct fetch_counts *n)
{
	sqlite3_stmt *st;
	int step, which;
	bool same = false, exists;

	if ((st = sb_db_stmt(db, fetch_sql[FETCH_SQL_ITEM_GET])) == NULL)
		return SB_ERR_DB;
	sqlite3_bind_text(st, 1, r->name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, id);
	step = sqlite3_step(st);
	exists = step == SQLITE_ROW;
	if (exists)
		same = strcmp((const char *)sqlite3_column_text(st, 0), body) ==
		        0 &&
		    sqlite3_column_int(st, 1) == 0;
	sqlite3_reset(st);
	if (step != SQLITE_ROW && step != SQLITE_DONE)
		return SB_ERR_DB;
	if (same) {
		n->unchanged++;
		return SB_OK;
	}
	which = exists ? FETCH_SQL_ITEM_UPDATE : FETCH_SQL_ITEM_INSERT;
	if ((st = sb_db_stmt(db, fetch_sql[which])) == NULL)
		return SB_ERR_DB;
	fetch_bind_item(st, r->name, id, body, derived, now);
	if (exists)
		n->updated++;
	else
		n->created++;
	return fetch_write(db, st);
}

/*
 * Checks and stores one element of the answer; SB_ERR_UPSTREAM if it is
 * not an object with a whole-number id.  Its id is added to seen.
 */
static enum sb_err
fetch_ingest_one(struct sb_db *db, const struct sb_fetch_resource *r,
    const cJSON *item, cJSON *seen, int64_t now, struct fetch_counts *n)
{
	const cJSON *idv = cJSON_GetObjectItemCaseSensitive(item, "id");
	char *body = NULL, *derived = NULL;
	cJSON *d = NULL;
	enum sb_err rc = SB_ERR_UPSTREAM;
	int64_t id;

	if (!cJSON_IsObject(item) || !cJSON_IsNumber(idv) ||
	    idv->valuedouble != (double)(int64_t)idv->valuedouble)
		return rc;
	id = (int64_t)idv->valuedouble;
	rc = SB_ERR_NOMEM;
	if ((body = cJSON_PrintUnformatted(item)) == NULL ||
	    (d = fetch_derive(r, item)) == NULL ||
	    (derived = cJSON_PrintUnformatted(d)) == NULL ||
	    !cJSON_AddItemToArray(seen, cJSON_CreateNumber((double)id)))
		goto out;
	n->fetched++;
	rc = fetch_store_item(db, r, id, body, derived, now, n);
out:
	cJSON_free(body);
	cJSON_free(derived);
	cJSON_Delete(d);
	return rc;
}

/* Marks the items not in seen deleted; counts them. */
static enum sb_err
fetch_mark_gone(struct sb_db *db, const char *resource, const cJSON *seen,
    int64_t now, struct fetch_counts *n)
{
	char *ids = cJSON_PrintUnformatted(seen);
	sqlite3_stmt *st;
	enum sb_err rc = SB_ERR_NOMEM;
	int changes = 0;

	if (ids == NULL)
		return rc;
	rc = SB_ERR_DB;
	if ((st = sb_db_stmt(db, fetch_sql[FETCH_SQL_ITEMS_GONE])) != NULL) {
		sqlite3_bind_text(st, 1, resource, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, now);
		sqlite3_bind_text(st, 3, ids, -1, SQLITE_STATIC);
		rc = sb_db_step_write(db, st, &changes);
	}
	n->deleted = changes;
	cJSON_free(ids);
	return rc;
}

/* Records the success: the run's counts and the resource's state. */
static enum sb_err
fetch_record_done(struct sb_db *db, const struct sb_job *job,
    const char *resource, const char *outcome, long status, const char *etag,
    const struct fetch_counts *n, int64_t now)
{
	sqlite3_stmt *st;
	enum sb_err rc;

	if ((st = sb_db_stmt(db, fetch_sql[FETCH_SQL_RUN_DONE])) == NULL)
		return SB_ERR_DB;
	sqlite3_bind_int64(st, 1, job->id);
	sqlite3_bind_text(st, 2, outcome, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, status);
	sqlite3_bind_int64(st, 4, n->fetched);
	sqlite3_bind_int64(st, 5, n->created);
	sqlite3_bind_int64(st, 6, n->updated);
	sqlite3_bind_int64(st, 7, n->unchanged);
	sqlite3_bind_int64(st, 8, n->deleted);
	sqlite3_bind_int64(st, 9, now);
	if ((rc = fetch_write(db, st)) != SB_OK)
		return rc;
	if ((st = sb_db_stmt(db, fetch_sql[FETCH_SQL_STATE_DONE])) == NULL)
		return SB_ERR_DB;
	sqlite3_bind_text(st, 1, resource, -1, SQLITE_STATIC);
	if (etag != NULL)
		sqlite3_bind_text(st, 2, etag, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, now);
	sqlite3_bind_int64(st, 4, job->id);
	return fetch_write(db, st);
}

/*
 * Stores the answer (items, the JSON array of the source's answer; NULL
 * for a 304) in one transaction; nothing is stored unless every item is.
 */
static enum sb_err
fetch_ingest(struct sb_db *db, const struct sb_job *job,
    const struct sb_fetch_resource *r, const cJSON *items, long status,
    const char *etag, int64_t now)
{
	struct fetch_counts n = { 0 };
	const cJSON *item;
	cJSON *seen = cJSON_CreateArray();
	enum sb_err rc;

	if (seen == NULL)
		return SB_ERR_NOMEM;
	if ((rc = sb_db_begin(db)) != SB_OK)
		goto out;
	cJSON_ArrayForEach(item, items)
	{
		if ((rc = fetch_ingest_one(db, r, item, seen, now, &n)) !=
		    SB_OK)
			goto fail;
	}
	if ((items != NULL &&
	        (rc = fetch_mark_gone(db, r->name, seen, now, &n)) != SB_OK) ||
	    (rc = fetch_record_done(db, job, r->name,
	         items != NULL ? "fetched" : "not_modified", status, etag, &n,
	         now)) != SB_OK)
		goto fail;
	rc = sb_db_commit(db);
	goto out;
fail:
	sb_db_rollback(db);
out:
	cJSON_Delete(seen);
	return rc;
}

/* Records a failed attempt on the job's run (its own transaction). */
static void
fetch_record_failed(struct sb_db *db, const struct sb_job *job, long status,
    const char *code, int64_t now)
{
	sqlite3_stmt *st = sb_db_stmt(db, fetch_sql[FETCH_SQL_RUN_FAILED]);

	if (st == NULL)
		return;
	sqlite3_bind_int64(st, 1, job->id);
	sqlite3_bind_int64(st, 2, status);
	sqlite3_bind_text(st, 3, code, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, now);
	sb_db_write(db, st, NULL);
}

/* Marks the run started (its own transaction). */
static void
fetch_record_start(struct sb_db *db, const struct sb_job *job, int64_t now)
{
	sqlite3_stmt *st = sb_db_stmt(db, fetch_sql[FETCH_SQL_RUN_START]);

	if (st == NULL)
		return;
	sqlite3_bind_int64(st, 1, job->id);
	sqlite3_bind_int64(st, 2, now);
	sb_db_write(db, st, NULL);
}

/* The job's resource, from its payload {"resource"}. */
static enum sb_err
fetch_job_resource(
    struct sb_db *db, const struct sb_job *job, struct sb_fetch_resource *r)
{
	cJSON *p = cJSON_Parse(job->payload);
	const cJSON *name = cJSON_GetObjectItemCaseSensitive(p, "resource");
	enum sb_err rc = SB_ERR_INVALID;

	if (cJSON_IsString(name))
		rc = sb_fetch_resource_load(db, name->valuestring, r, NULL, 0);
	cJSON_Delete(p);
	return rc;
}

/*
 * Asks the source for r through a connection of SB_FETCH_PROVIDER at
 * fetch_base_url, with If-None-Match when an ETag is known.
 */
static enum sb_err
fetch_call(struct sb_ctx *ctx, const struct sb_fetch_resource *r,
    const char *etag, struct sb_http_response *resp, char *err, size_t errsize)
{
	struct sb_connection conn = { .provider = NULL };
	cJSON *headers = cJSON_CreateObject();
	struct sb_call call = { .method = "GET", .path = r->path };
	enum sb_err rc = SB_ERR_NOMEM;

	snprintf(conn.id, sizeof(conn.id), "fetch-%s", SB_FETCH_PROVIDER);
	conn.provider = sb_providers_find(ctx->providers, SB_FETCH_PROVIDER);
	conn.credentials = cJSON_CreateObject();
	conn.config = cJSON_CreateObject();
	if (conn.provider == NULL) {
		snprintf(err, errsize, "no provider '%s'", SB_FETCH_PROVIDER);
		rc = SB_ERR_CONFIG;
		goto out;
	}
	if (headers == NULL || conn.credentials == NULL ||
	    conn.config == NULL ||
	    !cJSON_AddStringToObject(
	        conn.config, "base_url", ctx->config.fetch_base_url) ||
	    (etag != NULL &&
	        !cJSON_AddStringToObject(headers, "If-None-Match", etag)))
		goto out;
	call.headers = headers;
	rc = sb_call_perform(ctx, &conn, &call, resp, err, errsize);
out:
	cJSON_Delete(headers);
	sb_connection_clear(&conn);
	return rc;
}

/* The ETag stored for resource, into out; false if none. */
static bool
fetch_etag(struct sb_db *db, const char *resource, char *out, size_t size)
{
	static const char sql[] =
	    "SELECT etag FROM fetch_state WHERE resource = ?1"
	    " AND etag IS NOT NULL";
	sqlite3_stmt *st = sb_db_stmt(db, sql);
	bool found = false;

	if (st == NULL)
		return false;
	sqlite3_bind_text(st, 1, resource, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		found = fetch_copy(out, size, sqlite3_column_text(st, 0));
	sqlite3_reset(st);
	return found;
}

/* Backoff for the next attempt, with up to half of it again as jitter. */
static int64_t
fetch_backoff(int attempts)
{
	int64_t b = sb_jobs_backoff_s(attempts);
	uint32_t span = (uint32_t)(b / SB_FETCH_JITTER_DIVISOR) + 1;

	return b + (int64_t)randombytes_uniform(span);
}

/* The error code of a failed call or answer, with *status. */
static const char *
fetch_failure(enum sb_err rc, const struct sb_http_response *resp)
{
	if (rc == SB_ERR_TIMEOUT)
		return "source_timeout";
	if (rc == SB_ERR_TOO_LARGE)
		return "source_too_large";
	if (rc != SB_OK)
		return resp->status == 0 ? "source_unreachable"
		                         : "source_error";
	if (resp->status != 200 && resp->status != 304)
		return "source_error";
	return "source_malformed";
}

enum sb_err
sb_fetch_run(struct sb_ctx *ctx, const struct sb_job *job, char *err,
    size_t errsize, int64_t *retry_after_s)
{
	struct sb_http_response resp = { 0 };
	struct sb_fetch_resource r = { 0 };
	char etag[SB_CONFIG_STR_MAX];
	const char *new_etag;
	cJSON *items = NULL;
	int64_t now = (int64_t)time(NULL);
	enum sb_err rc;

	if ((rc = fetch_job_resource(ctx->db, job, &r)) != SB_OK) {
		snprintf(err, errsize, "the job names no known resource");
		return rc;
	}
	fetch_record_start(ctx->db, job, now);
	rc = fetch_call(ctx, &r,
	    fetch_etag(ctx->db, r.name, etag, sizeof(etag)) ? etag : NULL,
	    &resp, err, errsize);
	if (rc == SB_OK && resp.status == 200 &&
	    ((items = cJSON_ParseWithLength(resp.body, resp.body_len)) ==
	            NULL ||
	        !cJSON_IsArray(items) ||
	        cJSON_GetArraySize(items) > SB_FETCH_ITEMS_MAX))
		rc = SB_ERR_UPSTREAM;
	else if (rc == SB_OK && resp.status != 200 && resp.status != 304)
		rc = SB_ERR_UPSTREAM;
	new_etag = sb_http_response_header(&resp, "ETag");
	if (rc == SB_OK)
		rc = fetch_ingest(ctx->db, job, &r,
		    resp.status == 304 ? NULL : items, resp.status, new_etag,
		    (int64_t)time(NULL));
	if (rc != SB_OK) {
		const char *code = fetch_failure(rc, &resp);

		if (rc == SB_ERR_UPSTREAM && resp.status == 200)
			code = "source_malformed";
		fetch_record_failed(
		    ctx->db, job, resp.status, code, (int64_t)time(NULL));
		if (err[0] == '\0' || rc == SB_ERR_UPSTREAM)
			snprintf(err, errsize, "%s (source status %ld)", code,
			    resp.status);
		*retry_after_s = fetch_backoff(job->attempts);
	}
	sb_log(rc == SB_OK ? SB_LOG_INFO : SB_LOG_WARN, FETCH_COMPONENT, NULL,
	    "job %lld %s: source status %ld: %s", (long long)job->id, r.name,
	    resp.status, rc == SB_OK ? "stored" : err);
	cJSON_Delete(items);
	sb_http_response_clear(&resp);
	sb_fetch_resource_clear(&r);
	return rc;
}
