/*
 * The two-way user sync with a CRM (brief 002).  A local change (create,
 * update, delete) writes its sync job (a job of SB_SYNC_QUEUE) in the
 * change's own transaction; the job pushes the user through the CRM
 * connection (config crm_connection, provider sandbox-crm) with
 * sb_call_perform(), right after the response (the runtime's drain) or
 * from `sbctl sync`.  Changes made in the CRM come back by signed webhook
 * (sb_sync_webhook()) and by reconciliation (sb_sync_reconcile()), and
 * are applied field by field under the conflict rule
 * (sb_sync_crm_wins()).  One sync job is open per user at a time, so two
 * workers never push one user at once: the job's lease covers the user.
 */
#ifndef SB_SYNC_H
#define SB_SYNC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cJSON.h>

#include "sb/runtime/context.h"
#include "sb/runtime/work.h"
#include "sb/store/jobs.h"
#include "sb/sync/users.h"

#define SB_SYNC_QUEUE "crm_sync"
#define SB_SYNC_EVENT_FAILED "user.sync_failed"
#define SB_SYNC_PUSH_ROUNDS 3 /* pushes of one job while changes arrive */
#define SB_SYNC_RECONCILE_BATCH 200 /* users one `sbctl sync` pulls */
/* the least wait before a delete that gave up is opened again */
#define SB_SYNC_DELETE_RETRY_MIN_S 60
#define SB_SYNC_PUSH_BATCH_MAX 16 /* pushes one round leases together */
#define SB_SYNC_JITTER_DIVISOR 2 /* jitter: up to half the backoff */
#define SB_SYNC_EVENT_ID_MAX 128
#define SB_SYNC_MESSAGE_MAX 512
/* The CRM connection's credentials that key the webhooks' signature:
 * the secret, and the one it replaced while a rotation's grace lasts. */
#define SB_SYNC_WEBHOOK_SECRET "webhook_secret"
#define SB_SYNC_WEBHOOK_SECRET_PREVIOUS "webhook_secret_previous"
/* The header of a push that creates: the local user id, per creation. */
#define SB_SYNC_IDEMPOTENCY_HEADER "Idempotency-Key"

/*
 * The conflict rule, per field: true iff the CRM's value (changed at
 * crm_ms) replaces the local one.  It does unless the local value is a
 * change that has not reached the CRM yet (local_pending) made after the
 * CRM's (local_ms > crm_ms).
 */
bool sb_sync_crm_wins(int64_t crm_ms, int64_t local_ms, bool local_pending);

/*
 * Inserts the new user with its sync job, inside the caller's transaction:
 * the job first, so that the user row is written once, with its job_id.
 * Its fields are kept as the CRM create's (create_fields): every attempt
 * of the create sends them, so a retry under its Idempotency-Key is the
 * same request even if the user changed since.
 * SB_ERR_CONFLICT if another user has its email (sb_users_insert()).
 */
enum sb_err sb_sync_create(
    struct sb_db *db, struct sb_sync_user *user, int max_attempts);

/*
 * Opens the sync job of user inside the caller's transaction, unless one
 * is open (pending or leased): that one pushes the user as it is when it
 * runs.  Sets user->job_id and writes the user back.
 */
enum sb_err sb_sync_enqueue(
    struct sb_ctx *ctx, struct sb_sync_user *user, int max_attempts);

/*
 * The SB_SYNC_QUEUE worker (an sb_work_fn): pushes the job's user to the
 * CRM (POST, PUT or DELETE), records every attempt in the sync log, and
 * on success stores crm_id and "synced".  A failure is retried with
 * exponential backoff and jitter, honouring the CRM's Retry-After
 * (*retry_after_s); after the last attempt, or at once for an answer that
 * no retry can change (400, 409), the user is "failed" with the error, a
 * user.sync_failed event goes to the outbox and a warning is logged.  A
 * create sends the fields it was first sent with (create_fields); a user
 * deleted after a create that may have reached the CRM has it sent again
 * to learn the crm_id to delete.
 */
enum sb_err sb_sync_push(struct sb_ctx *ctx, const struct sb_job *job,
    char *err, size_t errsize, int64_t *retry_after_s);

/*
 * Applies the CRM's values in crm (an object with any of name, email and
 * phone), changed at crm_ms, to user under the conflict rule, logging in
 * the sync log each overwritten value and each local value kept (kind
 * names the source: "webhook", "reconcile").  *changed gets whether a
 * field changed.  Inside the caller's transaction; the caller saves user.
 */
enum sb_err sb_sync_apply(struct sb_db *db, struct sb_sync_user *user,
    const cJSON *crm, int64_t crm_ms, const char *kind, bool *changed);

/* What a webhook's processing answers. */
struct sb_sync_answer {
	int status; /* 200, 400, 401, 404, 409, 503 ... */
	const char *code; /* error code, or NULL on 200 */
	const char *result; /* "applied", "stale", "duplicate" on 200 */
	char message[SB_SYNC_MESSAGE_MAX];
	cJSON *fields; /* 400: [{"field", "message"}], the caller frees */
};

/*
 * Processes one CRM webhook: signature (header, the raw body, keyed by the
 * CRM connection's webhook_secret or, second, its webhook_secret_previous;
 * 401, before the connection is loaded when the header is missing or does
 * not start with "t="), then the body (400 naming each bad field; unknown
 * fields refused; a timestamp more than 5 minutes in the future refused),
 * then the user (unknown crm_id: 404).
 * An event is applied once per event_id, also across processes; one older
 * than the user's last CRM change is recorded and answered "stale".
 * Fills answer; the caller frees answer->fields.
 */
void sb_sync_webhook(struct sb_ctx *ctx, const char *header, const char *body,
    size_t len, struct sb_sync_answer *answer);

/*
 * Pulls user id from the CRM (GET /users/{crm_id}) and applies it under
 * the conflict rule (kind "reconcile").  SB_ERR_NOT_FOUND if the user does
 * not exist; SB_ERR_CONFLICT if it has no crm_id yet; SB_ERR_UPSTREAM
 * (err says why) if the CRM could not be read.
 */
enum sb_err sb_sync_reconcile(
    struct sb_ctx *ctx, const char *id, char *err, size_t errsize);

/*
 * `sbctl sync`'s reconciliation: every synced user not reconciled within
 * crm_reconcile_period_s (all of them with all), at most
 * SB_SYNC_RECONCILE_BATCH.  *done and *failed count them.
 */
enum sb_err sb_sync_reconcile_due(
    struct sb_ctx *ctx, bool all, int *done, int *failed);

/*
 * `sbctl sync`'s next chance for deletes: each user deleted here whose
 * push to the CRM gave up after retries (an outage) crm_reconcile_period_s
 * ago (at least SB_SYNC_DELETE_RETRY_MIN_S), or whose sync job died
 * without giving up, gets a sync job again, at most
 * SB_SYNC_RECONCILE_BATCH; *reopened counts them.  A deleted user is out
 * of the API's reach, so nothing else could start it again; a delete the
 * CRM refused outright (400, 409, 422) is not.  A user that cannot be opened
 * is logged and skipped; an error is returned only when none could be
 * looked for.
 */
enum sb_err sb_sync_delete_retry_due(struct sb_ctx *ctx, int *reopened);

#endif
