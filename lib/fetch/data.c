/*
 * Reading what the data fetch did (see include/sb/fetch/fetch.h): the
 * jobs with their runs, and the scheduled fetch `sbctl fetch` runs.  The
 * items GET /data answers are read through sb/fetch/snapshot.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sb/fetch/fetch.h"
#include "sb/queues.h"
#include "sb/runtime/work.h"

enum data_sql { DATA_SQL_JOB, DATA_SQL_JOBS, DATA_SQL_DUE, DATA_SQL__MAX };

/* Unix seconds as the API's other times are: ISO 8601 UTC with ms. */
#define DATA_ISO(x) "strftime('%Y-%m-%dT%H:%M:%fZ', " x ", 'unixepoch')"
#define DATA_JOB_COLUMNS \
	"SELECT j.id, r.resource, j.state, j.attempts, j.max_attempts," \
	" j.created_at, j.updated_at, " DATA_ISO( \
	    "j.run_at") ", j.last_error," \
	                " r.forced, r.outcome, r.source_status, " \
	                "r.error_code, r.fetched," \
	                " r.created, r.updated, r.unchanged, " \
	                "r.deleted, " DATA_ISO("r.started_at") ", " DATA_ISO( \
	                    "r.finished_at") " FROM jobs j JOIN fetch_runs r " \
	                                     "ON r.job_id = j.id"

static const char *const data_sql[DATA_SQL__MAX] = {
	[DATA_SQL_JOB] = DATA_JOB_COLUMNS " WHERE j.id = ?1",
	[DATA_SQL_JOBS] = DATA_JOB_COLUMNS " ORDER BY j.id DESC LIMIT ?1",
	/* resources never fetched or fetched interval and cooldown ago */
	[DATA_SQL_DUE] = "SELECT r.name FROM fetch_resources r"
	                 " LEFT JOIN fetch_state s ON s.resource = r.name"
	                 " WHERE s.fetched_at IS NULL OR s.fetched_at <= ?1"
	                 " ORDER BY r.name",
};

/* The API's status of a job: its state, and for a pending job whether
 * an attempt failed already. */
static const char *
data_status(const char *state, int64_t attempts)
{
	if (strcmp(state, "pending") == 0)
		return attempts > 0 ? "failed" : "queued";
	if (strcmp(state, "leased") == 0)
		return "running";
	if (strcmp(state, "done") == 0)
		return "succeeded";
	return "dead";
}

/* Adds column col as a number, or null when it is NULL. */
static bool
data_add_int(cJSON *o, const char *name, sqlite3_stmt *st, int col)
{
	if (sqlite3_column_type(st, col) == SQLITE_NULL)
		return cJSON_AddNullToObject(o, name) != NULL;
	return cJSON_AddNumberToObject(
	           o, name, (double)sqlite3_column_int64(st, col)) != NULL;
}

/* Adds column col as a string, or null when it is NULL. */
static bool
data_add_text(cJSON *o, const char *name, sqlite3_stmt *st, int col)
{
	const char *t = (const char *)sqlite3_column_text(st, col);

	if (t == NULL)
		return cJSON_AddNullToObject(o, name) != NULL;
	return cJSON_AddStringToObject(o, name, t) != NULL;
}

/* The counts of a run: fetched, created, updated, unchanged, deleted. */
static bool
data_add_counts(cJSON *o, sqlite3_stmt *st)
{
	static const char *const names[] = { "fetched", "created", "updated",
		"unchanged", "deleted" };
	cJSON *c = cJSON_AddObjectToObject(o, "counts");

	for (int i = 0; c != NULL && i < 5; i++)
		if (!data_add_int(c, names[i], st, 13 + i))
			return false;
	return c != NULL;
}

/* One job row (DATA_JOB_COLUMNS) as the API shows it. */
static cJSON *
data_job(sqlite3_stmt *st)
{
	cJSON *o = cJSON_CreateObject();
	const char *state = (const char *)sqlite3_column_text(st, 2);
	int64_t attempts = sqlite3_column_int64(st, 3);
	bool pending = strcmp(state, "pending") == 0;

	if (o == NULL || !data_add_int(o, "id", st, 0) ||
	    !data_add_text(o, "resource", st, 1) ||
	    !cJSON_AddStringToObject(
	        o, "status", data_status(state, attempts)) ||
	    !data_add_int(o, "attempts", st, 3) ||
	    !data_add_int(o, "max_attempts", st, 4) ||
	    !cJSON_AddBoolToObject(o, "forced", sqlite3_column_int(st, 9)) ||
	    !data_add_text(o, "created_at", st, 5) ||
	    !data_add_text(o, "updated_at", st, 6) ||
	    !data_add_text(o, "started_at", st, 18) ||
	    !data_add_text(o, "finished_at", st, 19) ||
	    (pending ? !data_add_text(o, "next_attempt_at", st, 7)
	             : !cJSON_AddNullToObject(o, "next_attempt_at")) ||
	    !data_add_text(o, "outcome", st, 10) ||
	    !data_add_int(o, "source_status", st, 11) ||
	    !data_add_counts(o, st) ||
	    !data_add_text(o, "error_code", st, 12) ||
	    !data_add_text(o, "error", st, 8)) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

enum sb_err
sb_fetch_job_json(struct sb_db *db, int64_t id, cJSON **out)
{
	sqlite3_stmt *st;
	int step;

	*out = NULL;
	if ((st = sb_db_stmt(db, data_sql[DATA_SQL_JOB])) == NULL)
		return SB_ERR_DB;
	sqlite3_bind_int64(st, 1, id);
	if ((step = sqlite3_step(st)) == SQLITE_ROW &&
	    (*out = data_job(st)) == NULL)
		step = SQLITE_NOMEM;
	sqlite3_reset(st);
	if (step == SQLITE_DONE)
		return SB_ERR_NOT_FOUND;
	return step == SQLITE_ROW ? SB_OK : SB_ERR_DB;
}

enum sb_err
sb_fetch_jobs_json(struct sb_db *db, cJSON **out)
{
	sqlite3_stmt *st;
	cJSON *job;
	int step;

	if ((*out = cJSON_CreateArray()) == NULL)
		return SB_ERR_NOMEM;
	if ((st = sb_db_stmt(db, data_sql[DATA_SQL_JOBS])) == NULL)
		return SB_ERR_DB;
	sqlite3_bind_int(st, 1, SB_FETCH_JOBS_LIST_MAX);
	while ((step = sqlite3_step(st)) == SQLITE_ROW)
		if ((job = data_job(st)) == NULL ||
		    !cJSON_AddItemToArray(*out, job)) {
			cJSON_Delete(job);
			step = SQLITE_NOMEM;
			break;
		}
	sqlite3_reset(st);
	if (step == SQLITE_DONE)
		return SB_OK;
	cJSON_Delete(*out);
	*out = NULL;
	return SB_ERR_DB;
}

/* Queues a fetch of every resource due at now; *queued counts them. */
static enum sb_err
data_queue_due(struct sb_ctx *ctx, int64_t now, int *queued)
{
	const struct sb_config *c = &ctx->config;
	int64_t every = c->fetch_interval_min * 60;
	char names[16][SB_FETCH_NAME_MAX];
	struct sb_fetch_decision d;
	size_t count = 0;
	sqlite3_stmt *st;
	int step;

	if (every < c->fetch_cooldown_s)
		every = c->fetch_cooldown_s;
	if ((st = sb_db_stmt(ctx->db, data_sql[DATA_SQL_DUE])) == NULL)
		return SB_ERR_DB;
	sqlite3_bind_int64(st, 1, now - every);
	while ((step = sqlite3_step(st)) == SQLITE_ROW && count < 16)
		snprintf(names[count++], SB_FETCH_NAME_MAX, "%s",
		    (const char *)sqlite3_column_text(st, 0));
	sqlite3_reset(st);
	if (step != SQLITE_DONE && step != SQLITE_ROW)
		return SB_ERR_DB;
	for (size_t i = 0; i < count; i++) {
		if (sb_fetch_request(ctx, names[i], false, now, &d) != SB_OK)
			return SB_ERR_DB;
		*queued += d.kind == SB_FETCH_QUEUED && !d.shared;
	}
	return SB_OK;
}

enum sb_err
sb_fetch_scheduled(
    struct sb_ctx *ctx, int64_t now, int *queued, int *done, int *failed)
{
	enum sb_err rc;

	*queued = *done = *failed = 0;
	if ((rc = data_queue_due(ctx, now, queued)) != SB_OK)
		return rc;
	return sb_work_run_queue(
	    ctx, sb_queues, SB_QUEUE_COUNT, SB_FETCH_QUEUE, done, failed);
}
