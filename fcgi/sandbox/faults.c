/*
 * Failure switches: POST /_sandbox/faults makes the next `count` requests
 * to exactly one path fail in a chosen way, so that the gateway's retries,
 * timeouts, size caps and redirect rules meet a real failure.  The gate
 * takes a switch before the request reaches its handler; switches live in
 * the database and are taken inside BEGIN IMMEDIATE, so of the processes
 * serving the sandbox exactly one gets each use.  Switches on one path are
 * taken oldest first.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sb/core/response.h"
#include "sandbox.h"

#define FAULTS_COUNT_MAX 10000 /* uses of one switch */
#define FAULTS_MALFORMED "{\"broken\": [1, 2"
#define FAULTS_TRUNCATED "[{\"userId\": 1, \"id\": 1, \"title\": \"sunt aut"
#define FAULTS_REDIRECT_TO "http://evil.example/steal"

enum faults_sql {
	FAULTS_SQL_ANY,
	FAULTS_SQL_OLDEST,
	FAULTS_SQL_DROP_LAST,
	FAULTS_SQL_USE,
	FAULTS_SQL_INSERT,
	FAULTS_SQL_LIST,
	FAULTS_SQL_CLEAR,
	FAULTS_SQL__MAX
};

static const char *const faults_sql[FAULTS_SQL__MAX] = {
	[FAULTS_SQL_ANY] =
	    "SELECT 1 FROM sandbox_faults WHERE path = ?1 LIMIT 1",
	[FAULTS_SQL_OLDEST] = "SELECT id, kind, arg FROM sandbox_faults"
	                      " WHERE path = ?1 ORDER BY id LIMIT 1",
	[FAULTS_SQL_DROP_LAST] = "DELETE FROM sandbox_faults"
	                         " WHERE id = ?1 AND remaining <= 1",
	[FAULTS_SQL_USE] = "UPDATE sandbox_faults SET remaining = remaining - 1"
	                   " WHERE id = ?1",
	[FAULTS_SQL_INSERT] = "INSERT INTO sandbox_faults"
	                      " (path, kind, remaining, arg)"
	                      " VALUES (?1, ?2, ?3, ?4)",
	[FAULTS_SQL_LIST] = "SELECT id, path, kind, remaining, arg"
	                    " FROM sandbox_faults ORDER BY id",
	[FAULTS_SQL_CLEAR] = "DELETE FROM sandbox_faults",
};

/* The API's names of the kinds, parallel to enum sandbox_fault_kind and
 * NULL-terminated for the validation table. */
static const char *const faults_kind_names[SANDBOX_FAULT__MAX + 1] = {
	[SANDBOX_FAULT_STATUS] = "status",
	[SANDBOX_FAULT_429] = "429",
	[SANDBOX_FAULT_SLOW] = "slow",
	[SANDBOX_FAULT_MALFORMED] = "malformed",
	[SANDBOX_FAULT_OVERSIZED] = "oversized",
	[SANDBOX_FAULT_REDIRECT] = "redirect",
	[SANDBOX_FAULT_NO_REFRESH_TOKEN] = "no_refresh_token",
	[SANDBOX_FAULT_TRUNCATED] = "truncated",
	[SANDBOX_FAULT_ANSWER_LOST] = "answer_lost",
	[SANDBOX_FAULT__MAX] = NULL,
};

/* What "arg" means for each kind: its default and accepted range. */
static const struct faults_arg {
	int64_t fallback;
	int64_t min;
	int64_t max;
} faults_args[SANDBOX_FAULT__MAX] = {
	[SANDBOX_FAULT_STATUS] = { 500, 200, 599 }, /* HTTP status */
	[SANDBOX_FAULT_429] = { 1, 0, 86400 }, /* Retry-After seconds */
	[SANDBOX_FAULT_SLOW] = { 3000, 0, 120000 }, /* delay, ms */
	[SANDBOX_FAULT_MALFORMED] = { 0, 0, 0 },
	[SANDBOX_FAULT_OVERSIZED] = { 8 << 20, 2, 64 << 20 }, /* bytes */
	[SANDBOX_FAULT_REDIRECT] = { 0, 0, 0 },
	[SANDBOX_FAULT_NO_REFRESH_TOKEN] = { 0, 0, 0 },
	[SANDBOX_FAULT_TRUNCATED] = { 4096, 64, 64 << 20 }, /* bytes promised */
	[SANDBOX_FAULT_ANSWER_LOST] = { 500, 500,
	    599 }, /* status after commit */
};

static bool
faults_path_ok(const char *path)
{
	return path[0] == '/';
}

#define FAULTS_KIND_NAME_MAX 32 /* longer than any kind's name */
#define FAULTS_ARG_MAX (64 << 20) /* the largest arg of any kind */

/* POST /_sandbox/faults: the fields, by the index the handler reads. */
enum faults_field {
	FAULTS_PATH,
	FAULTS_KIND,
	FAULTS_COUNT,
	FAULTS_ARG,
	FAULTS__MAX
};

static const struct sb_field faults_fields[FAULTS__MAX] = {
	[FAULTS_PATH] = { .name = "path",
	    .type = SB_FIELD_STRING,
	    .required = true,
	    .min = 1,
	    .max = SANDBOX_PATH_MAX,
	    .check = faults_path_ok },
	[FAULTS_KIND] = { .name = "kind",
	    .type = SB_FIELD_STRING,
	    .required = true,
	    .min = 1,
	    .max = FAULTS_KIND_NAME_MAX,
	    .one_of = faults_kind_names },
	[FAULTS_COUNT] = { .name = "count",
	    .type = SB_FIELD_INT,
	    .min = 1,
	    .max = FAULTS_COUNT_MAX },
	[FAULTS_ARG] = { .name = "arg",
	    .type = SB_FIELD_INT,
	    .min = 0,
	    .max = FAULTS_ARG_MAX },
};

/* The kind named name; false if none is. */
static bool
faults_kind_find(const char *name, enum sandbox_fault_kind *out)
{
	for (int k = 0; k < SANDBOX_FAULT__MAX; k++) {
		if (strcmp(faults_kind_names[k], name) == 0) {
			*out = (enum sandbox_fault_kind)k;
			return true;
		}
	}
	return false;
}

/*
 * Reads the oldest switch of path, uses it once, and commits.  Called with
 * a transaction open; the caller rolls back on failure.
 */
static enum sb_err
faults_take_locked(
    struct sb_ctx *ctx, const char *path, struct sandbox_fault *out)
{
	sqlite3_stmt *stmt;
	sqlite3_int64 id;
	enum sb_err rc;
	int step;

	if ((stmt = sb_db_stmt(ctx->db, faults_sql[FAULTS_SQL_OLDEST])) == NULL)
		return SB_ERR_DB;
	sqlite3_bind_text(stmt, 1, path, -1, SQLITE_STATIC);
	if ((step = sqlite3_step(stmt)) == SQLITE_ROW) {
		id = sqlite3_column_int64(stmt, 0);
		out->present = faults_kind_find(
		    (const char *)sqlite3_column_text(stmt, 1), &out->kind);
		out->arg = sqlite3_column_int64(stmt, 2);
	}
	sqlite3_reset(stmt);
	if (step == SQLITE_DONE)
		return sb_db_commit(ctx->db);
	if (step != SQLITE_ROW)
		return SB_ERR_DB;
	if ((stmt = sb_db_stmt(ctx->db, faults_sql[FAULTS_SQL_DROP_LAST])) ==
	    NULL)
		return SB_ERR_DB;
	sqlite3_bind_int64(stmt, 1, id);
	if ((rc = sandbox_step_write(ctx->db, stmt, NULL)) != SB_OK)
		return rc;
	if ((stmt = sb_db_stmt(ctx->db, faults_sql[FAULTS_SQL_USE])) == NULL)
		return SB_ERR_DB;
	sqlite3_bind_int64(stmt, 1, id);
	if ((rc = sandbox_step_write(ctx->db, stmt, NULL)) != SB_OK)
		return rc;
	return sb_db_commit(ctx->db);
}

enum sb_err
sandbox_fault_take(
    struct sb_ctx *ctx, const char *path, struct sandbox_fault *out)
{
	sqlite3_stmt *stmt;
	enum sb_err rc;
	int step;

	memset(out, 0, sizeof(*out));
	/* Most requests meet no switch: look without taking the lock. */
	if ((stmt = sb_db_stmt(ctx->db, faults_sql[FAULTS_SQL_ANY])) == NULL)
		return SB_ERR_DB;
	sqlite3_bind_text(stmt, 1, path, -1, SQLITE_STATIC);
	step = sqlite3_step(stmt);
	sqlite3_reset(stmt);
	if (step == SQLITE_DONE)
		return SB_OK;
	if (step != SQLITE_ROW)
		return SB_ERR_DB;
	if ((rc = sb_db_begin(ctx->db)) != SB_OK)
		return rc;
	if ((rc = faults_take_locked(ctx, path, out)) != SB_OK) {
		sb_db_rollback(ctx->db);
		memset(out, 0, sizeof(*out));
	}
	return rc;
}

/* Sleeps ms milliseconds, resuming after signals. */
static void
faults_sleep(int64_t ms)
{
	struct timespec ts = { .tv_sec = (time_t)(ms / 1000),
		.tv_nsec = (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0)
		continue;
}

/* Answers 200 with a valid JSON string of exactly len bytes (len >= 2). */
static void
faults_oversized(struct sb_request *req, int64_t len)
{
	char *body;

	if ((body = malloc((size_t)len)) == NULL) {
		sandbox_internal(req, "building the oversized body");
		return;
	}
	memset(body, 'x', (size_t)len);
	body[0] = '"';
	body[len - 1] = '"';
	sb_response_send(req, 200, "application/json", body, (size_t)len);
	free(body);
}

/*
 * Answers 200 announcing a body of len bytes (Content-Length) and sends
 * only the start of a JSON array: the connection ends before the answer
 * does, as when a server dies mid-answer.
 */
static void
faults_truncated(struct sb_request *req, int64_t len)
{
	char text[32];

	snprintf(text, sizeof(text), "%lld", (long long)len);
	sb_response_header(req, "Content-Type", "application/json");
	sb_response_header(req, "Content-Length", text);
	sb_response_send(
	    req, 200, NULL, FAULTS_TRUNCATED, strlen(FAULTS_TRUNCATED));
}

bool
sandbox_fault_apply(struct sb_ctx *ctx, struct sb_request *req,
    const struct sandbox_fault *fault)
{
	struct sandbox_state *state = ctx->user;
	char text[32];

	if (!fault->present)
		return false;
	switch (fault->kind) {
	case SANDBOX_FAULT_STATUS:
		sb_response_errorf(req, (int)fault->arg, "injected",
		    "injected fault: status %d", (int)fault->arg);
		return true;
	case SANDBOX_FAULT_429:
		snprintf(text, sizeof(text), "%lld", (long long)fault->arg);
		sb_response_header(req, "Retry-After", text);
		sb_response_error(req, 429, "rate_limited",
		    "injected fault: too many requests");
		return true;
	case SANDBOX_FAULT_SLOW:
		faults_sleep(fault->arg);
		return false;
	case SANDBOX_FAULT_MALFORMED:
		sb_response_send(req, 200, "application/json", FAULTS_MALFORMED,
		    strlen(FAULTS_MALFORMED));
		return true;
	case SANDBOX_FAULT_OVERSIZED:
		faults_oversized(req, fault->arg);
		return true;
	case SANDBOX_FAULT_REDIRECT:
		sb_response_header(req, "Location", FAULTS_REDIRECT_TO);
		sb_response_error(req, 302, "redirect",
		    "injected fault: moved to " FAULTS_REDIRECT_TO);
		return true;
	case SANDBOX_FAULT_NO_REFRESH_TOKEN:
		state->no_refresh_token = true;
		return false;
	case SANDBOX_FAULT_TRUNCATED:
		faults_truncated(req, fault->arg);
		return true;
	case SANDBOX_FAULT_ANSWER_LOST:
		state->answer_lost = (int)fault->arg;
		return false;
	default:
		return false;
	}
}

/* One switch as the API shows it. */
static cJSON *
faults_json(sqlite3_int64 id, const char *path, const char *kind,
    int64_t remaining, int64_t arg)
{
	cJSON *o;

	if ((o = cJSON_CreateObject()) == NULL)
		return NULL;
	if (cJSON_AddNumberToObject(o, "id", (double)id) == NULL ||
	    cJSON_AddStringToObject(o, "path", path) == NULL ||
	    cJSON_AddStringToObject(o, "kind", kind) == NULL ||
	    cJSON_AddNumberToObject(o, "remaining", (double)remaining) ==
	        NULL ||
	    cJSON_AddNumberToObject(o, "arg", (double)arg) == NULL) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

/* Inserts the switch; on SB_OK *id is its row id. */
static enum sb_err
faults_insert(struct sb_ctx *ctx, const char *path, const char *kind,
    int64_t count, int64_t arg, sqlite3_int64 *id)
{
	sqlite3_stmt *stmt;
	enum sb_err rc;

	if ((stmt = sb_db_stmt(ctx->db, faults_sql[FAULTS_SQL_INSERT])) == NULL)
		return SB_ERR_DB;
	sqlite3_bind_text(stmt, 1, path, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 2, kind, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 3, count);
	sqlite3_bind_int64(stmt, 4, arg);
	rc = sandbox_step_write(ctx->db, stmt, NULL);
	*id = sqlite3_last_insert_rowid(sb_db_handle(ctx->db));
	return rc;
}

/* POST /_sandbox/faults {"path", "kind", "count", "arg"}: 201 the switch. */
void
sandbox_faults_add(struct sb_ctx *ctx, struct sb_request *req)
{
	const cJSON *in[FAULTS__MAX], *count, *arg;
	const struct faults_arg *range;
	enum sandbox_fault_kind kind;
	const char *path, *name;
	cJSON *out = NULL;
	sqlite3_int64 id;
	int64_t n, a;

	if (sb_body_json(req, faults_fields, FAULTS__MAX, in) == NULL)
		return;
	path = in[FAULTS_PATH]->valuestring;
	name = in[FAULTS_KIND]->valuestring;
	count = in[FAULTS_COUNT];
	arg = in[FAULTS_ARG];
	if (!faults_kind_find(name, &kind)) {
		sb_response_error(req, 400, "invalid_request", "unknown kind");
		goto out;
	}
	range = &faults_args[kind];
	n = count != NULL ? (int64_t)count->valuedouble : 1;
	a = arg != NULL ? (int64_t)arg->valuedouble : range->fallback;
	if (a < range->min || a > range->max) {
		sb_response_errorf(req, 400, "invalid_request",
		    "arg of kind '%s' must be from %lld to %lld", name,
		    (long long)range->min, (long long)range->max);
		goto out;
	}
	if (faults_insert(ctx, path, name, n, a, &id) != SB_OK ||
	    (out = faults_json(id, path, name, n, a)) == NULL) {
		sandbox_internal(req, "setting a switch");
		goto out;
	}
	sb_response_json(req, 201, out);
out:
	cJSON_Delete(out);
}

/* Appends every switch to list. */
static enum sb_err
faults_read(struct sb_ctx *ctx, cJSON *list)
{
	sqlite3_stmt *stmt;
	enum sb_err rc = SB_OK;
	cJSON *item;
	int step;

	if ((stmt = sb_db_stmt(ctx->db, faults_sql[FAULTS_SQL_LIST])) == NULL)
		return SB_ERR_DB;
	while ((step = sqlite3_step(stmt)) == SQLITE_ROW) {
		item = faults_json(sqlite3_column_int64(stmt, 0),
		    (const char *)sqlite3_column_text(stmt, 1),
		    (const char *)sqlite3_column_text(stmt, 2),
		    sqlite3_column_int64(stmt, 3),
		    sqlite3_column_int64(stmt, 4));
		if (item == NULL || !cJSON_AddItemToArray(list, item)) {
			cJSON_Delete(item);
			rc = SB_ERR_NOMEM;
			goto out;
		}
	}
	if (step != SQLITE_DONE)
		rc = SB_ERR_DB;
out:
	sqlite3_reset(stmt);
	return rc;
}

/* GET /_sandbox/faults: the switches waiting, oldest first, as an array. */
void
sandbox_faults_list(struct sb_ctx *ctx, struct sb_request *req)
{
	cJSON *list;

	if ((list = cJSON_CreateArray()) == NULL ||
	    faults_read(ctx, list) != SB_OK) {
		sandbox_internal(req, "listing the switches");
		goto out;
	}
	sb_response_json(req, 200, list);
out:
	cJSON_Delete(list);
}

/* DELETE /_sandbox/faults: every switch off; 204. */
void
sandbox_faults_clear(struct sb_ctx *ctx, struct sb_request *req)
{
	sqlite3_stmt *stmt;

	if ((stmt = sb_db_stmt(ctx->db, faults_sql[FAULTS_SQL_CLEAR])) ==
	        NULL ||
	    sandbox_step_write(ctx->db, stmt, NULL) != SB_OK) {
		sandbox_internal(req, "clearing the switches");
		return;
	}
	sb_response_no_content(req);
}
