/*
 * The outbox of the hosting panel's events, the producing side.  Each
 * event is written to the outbox (a job of the SB_EVENTS_QUEUE queue) in
 * the transaction of the change it reports, with an id made at that
 * moment, and sb_outbox_deliver_batch() POSTs the due ones, up to
 * SB_EVENTS_BATCH_MAX in one JSON array, to the aggregation service after
 * a response (the runtime's drain) or from `sbctl deliver`.  Every call to
 * the aggregation service goes through sb_outbox_service().
 */
#ifndef SB_OUTBOX_H
#define SB_OUTBOX_H

#include <stddef.h>
#include <stdint.h>

#include <cJSON.h>

#include "sb/client/http.h"
#include "sb/core/err.h"
#include "sb/hosting/events.h"
#include "sb/runtime/work.h"
#include "sb/store/db.h"
#include "sb/store/jobs.h"

struct sb_ctx;

/*
 * Writes event name with payload to the outbox inside the caller's
 * transaction: a new random id is made, "eventId", "name" and "occurredAt"
 * are added to payload (which stays the caller's), and the job
 * {"id", "name", "payload"} is enqueued on SB_EVENTS_QUEUE, runnable now.
 * On SB_OK *job_id is the job's id.
 */
enum sb_err sb_outbox_add(struct sb_db *db, const char *name, cJSON *payload,
    int max_attempts, int64_t *job_id);

/*
 * Makes every pending job of SB_EVENTS_QUEUE due now, so an operator's
 * `sbctl deliver --now` does not wait for the backoff.  *count (if not
 * NULL) gets how many were moved.
 */
enum sb_err sb_outbox_release(struct sb_db *db, int64_t now, int64_t *count);

/*
 * Resumes delivery after an outage of the aggregation service (`sbctl
 * deliver`, every minute from cron): if some events wait in backoff at
 * now, asks the service's GET /health once, and if it answers 200 makes
 * every pending event due now (sb_outbox_release()), so that delivery
 * resumes within a minute of the service's return instead of after the
 * backoff (up to SB_JOBS_BACKOFF_CAP_S).  *released (if not NULL) gets how
 * many were made due.  A service that still fails is logged and is no
 * error; SB_ERR_DB or SB_ERR_BUSY if the outbox could not be read or
 * written.
 */
enum sb_err sb_outbox_resume(
    struct sb_ctx *ctx, int64_t now, int64_t *released);

/*
 * The "events" queue's worker (an sb_work_fn): POSTs the job's payload to
 * http://<listen_address>:<events_port>/events with the events token
 * through ctx->http.  SB_OK on 201 or 200; otherwise the status or
 * transport error is written into err and *retry_after_s gets Retry-After.
 */
enum sb_err sb_outbox_deliver(struct sb_ctx *ctx, const struct sb_job *job,
    char *err, size_t errsize, int64_t *retry_after_s);

/*
 * The "events" queue's batch worker (an sb_work_batch_fn): POSTs the jobs'
 * payloads, unchanged, as one JSON array (several arrays if together they
 * would pass the configured body_max), and sets results[i] to SB_OK for
 * each event the service answered 201 or 200 for, under its id.  When a
 * POST fails or is answered otherwise, every event in it gets the status
 * or transport error and the Retry-After.
 */
void sb_outbox_deliver_batch(struct sb_ctx *ctx, const struct sb_job *jobs,
    size_t count, struct sb_work_result *results);

/*
 * The one client of the aggregation service: method on
 * http://<listen_address>:<events_port><path_query> with its token (wiped
 * from memory after), and body (len bytes of JSON; NULL for none).  On
 * SB_OK resp holds the answer, whatever its status; otherwise err says why
 * (no HTTP client or token: SB_ERR_CONFIG; transport errors as
 * sb_http_perform()).  The caller clears resp in every case.
 */
enum sb_err sb_outbox_service(struct sb_ctx *ctx, const char *method,
    const char *path_query, const char *body, size_t len,
    struct sb_http_response *resp, char *err, size_t errsize);

#endif
