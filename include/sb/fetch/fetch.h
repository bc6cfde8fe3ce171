/*
 * The data fetch: items of a source (JSONPlaceholder's posts by default)
 * fetched by jobs of the queue SB_FETCH_QUEUE through a connection of
 * provider "jsonplaceholder" whose base URL is the configured
 * fetch_base_url, stored with derived fields beside them, and read back
 * with json-server's query language (sb/fetch/query.h) from a snapshot
 * of them in memory (sb/fetch/snapshot.h, sb/fetch/select.h).
 *
 * What is fetched is configuration: each row of the table
 * fetch_resources names a resource, its path under the base URL, the
 * fields GET /data filters on and the fields the ingest derives from.
 *
 * A fetch is one transaction: every item created, changed or left alone,
 * the ones the source no longer has marked deleted, the outcome and the
 * ETag recorded; a malformed or partial answer changes nothing.  The
 * cooldown, the hard minimum interval for a forced fetch, and the sharing
 * of one job by concurrent requests are decided in one BEGIN IMMEDIATE
 * transaction (sb_fetch_request()), so processes agree on them.
 */
#ifndef SB_FETCH_H
#define SB_FETCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cJSON.h>

#include "sb/fetch/query.h"
#include "sb/runtime/context.h"
#include "sb/store/jobs.h"

#define SB_FETCH_QUEUE "fetch"
#define SB_FETCH_PROVIDER "jsonplaceholder"
#define SB_FETCH_NAME_MAX 64 /* bytes of a resource's name */
#define SB_FETCH_ITEMS_MAX 100000 /* items one answer may hold */
#define SB_FETCH_JOBS_LIST_MAX 100 /* jobs GET /jobs shows */
#define SB_FETCH_JITTER_DIVISOR 2 /* jitter: up to backoff / this */

/* One resource, as fetch_resources configures it. */
struct sb_fetch_resource {
	char name[SB_FETCH_NAME_MAX];
	char path[SB_FETCH_NAME_MAX * 2];
	cJSON *fields; /* array of field names; freed by _clear */
	char trim_field[SB_FETCH_NAME_MAX]; /* "" for none */
	char words_field[SB_FETCH_NAME_MAX]; /* "" for none */
};

/*
 * Loads the resource called name (NULL: the default one) into out.  On
 * SB_OK the caller clears out with sb_fetch_resource_clear();
 * SB_ERR_NOT_FOUND if there is none (*names, if not NULL, then gets the
 * known names, comma-separated, into names_size bytes).
 */
enum sb_err sb_fetch_resource_load(struct sb_db *db, const char *name,
    struct sb_fetch_resource *out, char *names, size_t names_size);

/* Frees what r holds; safe on a zeroed r. */
void sb_fetch_resource_clear(struct sb_fetch_resource *r);

/* What POST /fetch decided. */
struct sb_fetch_decision {
	enum {
		SB_FETCH_FRESH, /* within the cooldown: nothing to do */
		SB_FETCH_TOO_SOON, /* forced inside the minimum interval */
		SB_FETCH_QUEUED, /* job_id runs (new or shared) */
	} kind;
	int64_t job_id;
	bool shared; /* an earlier request's job */
	int64_t fetched_at; /* the last successful fetch, 0: none */
	int64_t next_fetch_after; /* unix seconds */
};

/*
 * Decides a fetch of resource at now, in one transaction: the job already
 * queued or running for it is shared (and made due now); otherwise
 * within the cooldown the answer is FRESH, forced within the minimum
 * interval TOO_SOON, else a new job is queued.  SB_ERR_DB or SB_ERR_BUSY
 * on store failure, nothing changed.
 */
enum sb_err sb_fetch_request(struct sb_ctx *ctx, const char *resource,
    bool force, int64_t now, struct sb_fetch_decision *out);

/*
 * The queue's worker (struct sb_work_queue's run): fetches the job's
 * resource with If-None-Match and stores the answer in one transaction.
 * A source failure is recorded on the job's run (status, error) and
 * returned with a backoff-with-jitter hint in *retry_after_s.
 */
enum sb_err sb_fetch_run(struct sb_ctx *ctx, const struct sb_job *job,
    char *err, size_t errsize, int64_t *retry_after_s);

/*
 * The fetch job id as GET /jobs/{id} shows it; SB_ERR_NOT_FOUND if there
 * is no such fetch job.  On SB_OK the caller frees *out with
 * cJSON_Delete().
 */
enum sb_err sb_fetch_job_json(struct sb_db *db, int64_t id, cJSON **out);

/* The latest SB_FETCH_JOBS_LIST_MAX fetch jobs, newest first. */
enum sb_err sb_fetch_jobs_json(struct sb_db *db, cJSON **out);

/*
 * `sbctl fetch`: queues a fetch of every resource whose last successful
 * fetch is fetch_interval_min minutes old or more (the cooldown holds:
 * never sooner than it), then runs the due fetch jobs.  *queued, *done
 * and *failed count what happened.
 */
enum sb_err sb_fetch_scheduled(
    struct sb_ctx *ctx, int64_t now, int *queued, int *done, int *failed);

#endif
