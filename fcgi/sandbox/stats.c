/*
 * Request counters per exact path, for tests that must know how often the
 * gateway called the outside world (a cached answer, a retry, a refresh).
 * The gate counts every request but those to /health and anything under
 * /_sandbox/; GET /_sandbox/stats reads the counters and DELETE sets them to
 * zero.
 */
#include <string.h>

#include "sb/core/response.h"
#include "sandbox.h"

enum stats_sql {
	STATS_SQL_HIT,
	STATS_SQL_LIST,
	STATS_SQL_RESET,
	STATS_SQL__MAX
};

static const char *const stats_sql[STATS_SQL__MAX] = {
	[STATS_SQL_HIT] =
	    "INSERT INTO sandbox_hits (path, count) VALUES (?1, 1)"
	    " ON CONFLICT (path) DO UPDATE SET count = count + 1",
	[STATS_SQL_LIST] = "SELECT path, count FROM sandbox_hits ORDER BY path",
	[STATS_SQL_RESET] = "DELETE FROM sandbox_hits",
};

enum sb_err
sandbox_stats_hit(struct sb_ctx *ctx, const char *path)
{
	sqlite3_stmt *stmt;

	if (strlen(path) > SANDBOX_PATH_MAX)
		return SB_OK;
	if ((stmt = sb_db_stmt(ctx->db, stats_sql[STATS_SQL_HIT])) == NULL)
		return SB_ERR_DB;
	sqlite3_bind_text(stmt, 1, path, -1, SQLITE_STATIC);
	return sandbox_step_write(ctx->db, stmt, NULL);
}

/*
 * Reads every counter into paths and their sum into *total.  SB_ERR_DB or
 * SB_ERR_NOMEM on failure.
 */
static enum sb_err
stats_read(struct sb_ctx *ctx, cJSON *paths, int64_t *total)
{
	sqlite3_stmt *stmt;
	enum sb_err rc = SB_OK;
	int64_t n;
	int step;

	*total = 0;
	if ((stmt = sb_db_stmt(ctx->db, stats_sql[STATS_SQL_LIST])) == NULL)
		return SB_ERR_DB;
	while ((step = sqlite3_step(stmt)) == SQLITE_ROW) {
		n = sqlite3_column_int64(stmt, 1);
		if (cJSON_AddNumberToObject(paths,
		        (const char *)sqlite3_column_text(stmt, 0),
		        (double)n) == NULL) {
			rc = SB_ERR_NOMEM;
			goto out;
		}
		*total += n;
	}
	if (step != SQLITE_DONE)
		rc = SB_ERR_DB;
out:
	sqlite3_reset(stmt);
	return rc;
}

/* GET /_sandbox/stats: {"paths": {path: count, ...}, "total": sum}. */
void
sandbox_stats_get(struct sb_ctx *ctx, struct sb_request *req)
{
	cJSON *root = NULL, *paths;
	int64_t total;

	if ((root = cJSON_CreateObject()) == NULL ||
	    (paths = cJSON_AddObjectToObject(root, "paths")) == NULL ||
	    stats_read(ctx, paths, &total) != SB_OK ||
	    cJSON_AddNumberToObject(root, "total", (double)total) == NULL) {
		sandbox_internal(req, "reading the counters");
		goto out;
	}
	sb_response_json(req, 200, root);
out:
	cJSON_Delete(root);
}

/* DELETE /_sandbox/stats: every counter back to zero; 204. */
void
sandbox_stats_reset(struct sb_ctx *ctx, struct sb_request *req)
{
	sqlite3_stmt *stmt;

	if ((stmt = sb_db_stmt(ctx->db, stats_sql[STATS_SQL_RESET])) == NULL ||
	    sandbox_step_write(ctx->db, stmt, NULL) != SB_OK) {
		sandbox_internal(req, "resetting the counters");
		return;
	}
	sb_response_no_content(req);
}
