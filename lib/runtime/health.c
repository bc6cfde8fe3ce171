/*
 * The /health route (see include/sb/runtime/health.h): a database read and
 * a write probe (sb_db_probe), so that a responder whose store cannot be
 * read, or cannot be written, says so and why.
 */
#include <stdio.h>

#include "sb/core/response.h"
#include "sb/runtime/health.h"

#define HEALTH_BODY_MAX 256

/*
 * Answers 503 and returns false if db cannot be read or written; otherwise
 * sets *version and *store ("writable", or "busy": a lock held elsewhere,
 * which a write would wait for).
 */
static bool
health_store(struct sb_db *db, struct sb_request *req, int64_t *version,
    const char **store)
{
	const char *reason;
	enum sb_err rc;

	if ((*version = sb_db_schema_version(db)) < 0) {
		sb_response_error(
		    req, 503, "unavailable", "the database cannot be read");
		return false;
	}
	rc = sb_db_probe(db, &reason);
	if (rc == SB_ERR_STORAGE) {
		sb_response_header(
		    req, "Retry-After", SB_RESPONSE_STORAGE_RETRY_S);
		sb_response_errorf(req, 503, "storage_unavailable",
		    "the database cannot be written: %s", reason);
		return false;
	}
	if (rc != SB_OK && rc != SB_ERR_BUSY) {
		sb_response_error(
		    req, 503, "unavailable", "the database cannot be written");
		return false;
	}
	*store = rc == SB_OK ? "writable" : "busy";
	return true;
}

void
sb_health(struct sb_ctx *ctx, struct sb_request *req)
{
	char body[HEALTH_BODY_MAX];
	const char *store = "none";
	int64_t version = 0;
	int n;

	if (ctx->db != NULL && !health_store(ctx->db, req, &version, &store))
		return;
	n = snprintf(body, sizeof(body),
	    "{\"status\":\"ok\",\"service\":\"%s\",\"schema_version\":%lld,"
	    "\"store\":\"%s\"}",
	    ctx->app->name, (long long)version, store);
	sb_response_send(req, 200, "application/json", body, (size_t)n);
}
