/*
 * Pushing local changes to the CRM (see include/sb/sync/sync.h).  The
 * job's payload names the user only: the push sends the user as it is
 * when the job runs (a create: as it was made, below), so a change made
 * while a job is open rides on that job.  The HTTP call is made outside any
 * transaction; its outcome is recorded in one transaction that re-reads the
 * user, so a change that arrived meanwhile is seen and pushed in another round
 * of the same job.
 *
 * A create (POST /users) carries the header Idempotency-Key: the local
 * user's id, the same on every attempt, so that a retry after an answer
 * lost (the CRM made the user, then the process died or the answer never
 * came) is answered with the user the first attempt made, not a second
 * user or a 409 for its email.  A CRM answers a key only for the body it
 * first came with, so the create sends the fields kept for it
 * (create_fields: the user as it was made) until the CRM gave a crm_id;
 * a local change made before then follows as a PUT in the next round of
 * the same job.  A CRM that refuses them (400, 409: their email is
 * another's by now) holds no user under the key, so they are dropped and
 * the create is sent again at once as the user is; a refused create
 * drops them too, so that a PUT can mend it.  A user deleted after a
 * create that may have reached the CRM has that create sent again first,
 * to learn the crm_id to delete, so that a lost answer leaves no CRM
 * user behind.
 *
 * Retries: the job's attempts (crm_sync_attempts, 3 by default) are
 * rescheduled by the jobs table with exponential backoff; this worker
 * asks for that backoff plus up to half again of jitter, so that users
 * failed together by an outage do not all come back at the same second,
 * or for the CRM's Retry-After when that is longer.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "sb/core/log.h"
#include "sb/hosting/outbox.h"
#include "sb/sync/sync.h"
#include "sync_internal.h"

/* What one push came to. */
enum push_outcome {
	PUSH_OK, /* the CRM has the user as pushed (or deleted) */
	PUSH_RETRY, /* worth another attempt */
	PUSH_PERMANENT, /* the CRM refused the data: no retry helps */
	PUSH_GONE, /* PUT to a crm_id the CRM no longer has */
};

struct push {
	struct sb_sync_user user; /* as read before the call */
	enum push_outcome outcome;
	bool behind; /* the create sent create_fields, older than fields */
	bool created; /* a create was sent, with the fields in sent */
	bool gone; /* the CRM no longer had the user's crm_id */
	char sent[SB_USER__MAX][SB_CONTACT_EMAIL_MAX + 1];
	char crm_id[SB_USER_CRM_ID_MAX];
	int64_t crm_ms;
	long status;
	int64_t retry_after_s;
	char err[SB_WORK_ERROR_MAX];
};

bool
sb_sync_crm_wins(int64_t crm_ms, int64_t local_ms, bool local_pending)
{
	return !(local_pending && local_ms > crm_ms);
}

/* Adds a new sync job for user (not written back); sets user->job_id. */
static enum sb_err
push_job_new(struct sb_db *db, struct sb_sync_user *user, int max_attempts)
{
	char payload[SB_USER_ID_MAX + 32];
	int64_t id = 0;
	enum sb_err rc;

	snprintf(payload, sizeof(payload), "{\"user_id\":\"%s\"}", user->id);
	rc = sb_jobs_enqueue(
	    db, SB_SYNC_QUEUE, payload, max_attempts, (int64_t)time(NULL), &id);
	if (rc == SB_OK)
		user->job_id = id;
	return rc;
}

enum sb_err
sb_sync_enqueue(struct sb_ctx *ctx, struct sb_sync_user *user, int max_attempts)
{
	enum sb_job_state state;
	enum sb_err rc;

	if (user->job_id > 0 &&
	    sb_jobs_state(ctx->db, user->job_id, &state) == SB_OK &&
	    (state == SB_JOB_PENDING || state == SB_JOB_LEASED))
		return sb_users_save(ctx->db, user);
	if ((rc = push_job_new(ctx->db, user, max_attempts)) != SB_OK)
		return rc;
	return sb_users_save(ctx->db, user);
}

enum sb_err
sb_sync_create(struct sb_db *db, struct sb_sync_user *user, int max_attempts)
{
	enum sb_err rc;

	if ((rc = push_job_new(db, user, max_attempts)) != SB_OK)
		return rc;
	memcpy(user->create_fields, user->fields, sizeof(user->fields));
	return sb_users_insert(db, user);
}

/* The user id of a job's payload into id; false if there is none. */
static bool
push_user_id(const struct sb_job *job, char id[SB_USER_ID_MAX])
{
	cJSON *payload = cJSON_Parse(job->payload);
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(payload, "user_id");
	bool ok = cJSON_IsString(v) && sb_users_id_valid(v->valuestring);

	if (ok)
		snprintf(id, SB_USER_ID_MAX, "%s", v->valuestring);
	cJSON_Delete(payload);
	return ok;
}

/* The CRM user's crm_id and updated_at from a 200 or 201 answer. */
static void
push_read_answer(const struct sb_http_response *resp, struct push *p)
{
	cJSON *answer = cJSON_ParseWithLength(resp->body, resp->body_len);
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(answer, "crm_id");
	const cJSON *at =
	    cJSON_GetObjectItemCaseSensitive(answer, "updated_at");

	if (cJSON_IsString(id))
		snprintf(p->crm_id, sizeof(p->crm_id), "%s", id->valuestring);
	if (!cJSON_IsString(at) ||
	    !sb_users_parse_iso(at->valuestring, &p->crm_ms))
		p->crm_ms = sb_users_now_ms();
	if (p->crm_id[0] == '\0') {
		p->outcome = PUSH_RETRY;
		snprintf(p->err, sizeof(p->err),
		    "CRM answered %ld without a crm_id", resp->status);
	}
	cJSON_Delete(answer);
}

/* Sorts the CRM's answer to a push into p->outcome. */
static void
push_judge(
    const struct sb_http_response *resp, const char *method, struct push *p)
{
	bool deleting = strcmp(method, "DELETE") == 0;

	p->status = resp->status;
	if (resp->status == 200 || resp->status == 201 ||
	    (deleting && (resp->status == 204 || resp->status == 404))) {
		p->outcome = PUSH_OK;
		snprintf(p->crm_id, sizeof(p->crm_id), "%s", p->user.crm_id);
		if (!deleting)
			push_read_answer(resp, p);
		return;
	}
	sync_crm_error(resp, p->err, sizeof(p->err));
	if (resp->status == 404 && strcmp(method, "PUT") == 0)
		p->outcome = PUSH_GONE;
	else if (resp->status == 400 || resp->status == 409 ||
	    resp->status == 422)
		p->outcome = PUSH_PERMANENT;
	else
		p->outcome = PUSH_RETRY;
	p->retry_after_s = sync_retry_after_s(resp);
}

/*
 * The body of a PUT or POST for p->user: a create (no crm_id yet) sends
 * the fields its Idempotency-Key was first used with, when kept, and
 * p->behind says whether they are older than the user's.
 */
static cJSON *
push_body(struct push *p)
{
	const struct sb_sync_user *u = &p->user;
	bool kept = u->crm_id[0] == '\0' && u->create_fields[0][0] != '\0';
	cJSON *body = cJSON_CreateObject();

	p->behind = false;
	p->created = u->crm_id[0] == '\0';
	for (int f = 0; f < SB_USER__MAX && body != NULL; f++) {
		const char *v = kept ? u->create_fields[f] : u->fields[f];

		p->behind = p->behind || strcmp(v, u->fields[f]) != 0;
		if (p->created)
			snprintf(p->sent[f], sizeof(p->sent[f]), "%s", v);
		cJSON_AddStringToObject(body, sb_user_field_names[f], v);
	}
	return body;
}

/* One call to the CRM for p->user: DELETE, PUT or POST as it stands. */
static void
push_call(struct sb_ctx *ctx, struct push *p)
{
	struct sb_http_response resp = { 0 };
	char path[SB_USER_CRM_ID_MAX + 16];
	const char *method = "POST";
	cJSON *body = NULL, *headers = NULL;

	if (p->user.crm_id[0] != '\0') {
		method = p->user.deleted ? "DELETE" : "PUT";
		snprintf(path, sizeof(path), "/users/%s", p->user.crm_id);
	} else {
		snprintf(path, sizeof(path), "/users");
		if ((headers = cJSON_CreateObject()) == NULL ||
		    cJSON_AddStringToObject(headers, SB_SYNC_IDEMPOTENCY_HEADER,
		        p->user.id) == NULL) {
			snprintf(p->err, sizeof(p->err), "out of memory");
			p->outcome = PUSH_RETRY;
			cJSON_Delete(headers);
			return;
		}
	}
	if (!p->user.deleted)
		body = push_body(p);
	p->outcome = PUSH_RETRY;
	if (p->user.deleted && p->user.crm_id[0] == '\0') {
		p->outcome = PUSH_OK; /* the CRM never had it */
		cJSON_Delete(body);
		cJSON_Delete(headers);
		return;
	}
	if (sync_crm_call(ctx, method, path, body, headers, &resp, p->err,
	        sizeof(p->err)) == SB_OK)
		push_judge(&resp, method, p);
	cJSON_Delete(body);
	cJSON_Delete(headers);
	sb_http_response_clear(&resp);
}

/* The push's log detail: method-free facts, no secret. */
static cJSON *
push_detail(const struct push *p, int attempt, int max_attempts)
{
	cJSON *d = cJSON_CreateObject();

	if (d == NULL)
		return NULL;
	cJSON_AddNumberToObject(d, "attempt", attempt);
	cJSON_AddNumberToObject(d, "max_attempts", max_attempts);
	cJSON_AddStringToObject(d, "operation",
	    p->user.deleted                 ? "delete"
	        : p->user.crm_id[0] != '\0' ? "update"
	                                    : "create");
	if (p->status > 0)
		cJSON_AddNumberToObject(d, "status", (double)p->status);
	if (p->crm_id[0] != '\0')
		cJSON_AddStringToObject(d, "crm_id", p->crm_id);
	if (p->err[0] != '\0')
		cJSON_AddStringToObject(d, "error", p->err);
	if (p->retry_after_s > 0)
		cJSON_AddNumberToObject(
		    d, "retry_after_s", (double)p->retry_after_s);
	return d;
}

/* When a delete that gives up now is due again: a period on, 60 s at least. */
static int64_t
push_delete_later(const struct sb_ctx *ctx)
{
	int64_t wait = ctx->config.crm_reconcile_period_s;

	if (wait < SB_SYNC_DELETE_RETRY_MIN_S)
		wait = SB_SYNC_DELETE_RETRY_MIN_S;
	return (int64_t)time(NULL) + wait;
}

/* Marks u failed with the error, writes its event and warns (in the tx). */
static enum sb_err
push_give_up(struct sb_ctx *ctx, struct sb_sync_user *u, const struct push *p,
    int attempts)
{
	cJSON *event = cJSON_CreateObject();
	enum sb_err rc = SB_ERR_NOMEM;

	snprintf(u->sync_status, sizeof(u->sync_status), "failed");
	snprintf(u->last_error, sizeof(u->last_error), "%s", p->err);
	u->job_id = 0;
	u->retry_at = 0;
	if (u->deleted && p->outcome != PUSH_PERMANENT) /* an outage */
		u->retry_at = push_delete_later(ctx);
	if (event == NULL)
		return rc;
	cJSON_AddStringToObject(event, "userId", u->id);
	if (u->crm_id[0] != '\0')
		cJSON_AddStringToObject(event, "crmId", u->crm_id);
	cJSON_AddStringToObject(event, "error", p->err);
	cJSON_AddNumberToObject(event, "attempts", attempts);
	rc = sb_outbox_add(ctx->db, SB_SYNC_EVENT_FAILED, event,
	    (int)ctx->config.job_max_attempts, NULL);
	cJSON_Delete(event);
	if (rc == SB_OK)
		sb_log(SB_LOG_WARN, SYNC_COMPONENT, NULL,
		    "{\"user_id\":\"%s\",\"event\":\"%s\",\"attempts\":%d}",
		    u->id, SB_SYNC_EVENT_FAILED, attempts);
	return rc;
}

/* Stores the crm_id the CRM holds u under; the create's fields are done. */
static void
push_crm_id(struct sb_sync_user *u, const char *crm_id)
{
	snprintf(u->crm_id, sizeof(u->crm_id), "%s", crm_id);
	memset(u->create_fields, 0, sizeof(u->create_fields));
}

/*
 * Keeps on u the fields its CRM create is keyed with: those p's create
 * sent, when its answer may have been lost, so that every later create
 * (a retry, or a delete's, below) is the same request; none once the CRM
 * refused it (no retry of that body can help).  A crm_id ends them
 * (push_crm_id()).
 */
static void
push_keep_create(struct sb_sync_user *u, const struct push *p)
{
	if (!p->created || p->outcome == PUSH_OK || u->crm_id[0] != '\0')
		return;
	if (p->outcome == PUSH_PERMANENT)
		memset(u->create_fields, 0, sizeof(u->create_fields));
	else
		memcpy(u->create_fields, p->sent, sizeof(u->create_fields));
}

/*
 * Settles on u (re-read) which crm_id and create fields p's calls leave:
 * a crm_id learnt for a DELETE that then failed (its retry needs it),
 * none when the CRM no longer had it and the re-create failed, and the
 * create's fields (push_keep_create()).
 */
static void
push_settle_keys(struct sb_sync_user *u, const struct push *p)
{
	if (u->deleted && p->user.deleted && u->crm_id[0] == '\0' &&
	    p->user.crm_id[0] != '\0')
		push_crm_id(u, p->user.crm_id);
	if (p->gone && p->outcome != PUSH_OK)
		u->crm_id[0] = '\0';
	push_keep_create(u, p);
}

/* Records a successful push on u; *again if a newer change waits. */
static void
push_succeeded(struct sb_sync_user *u, const struct push *p, bool *again)
{
	push_crm_id(u, p->crm_id);
	u->last_error[0] = '\0';
	u->crm_ms = p->crm_ms > u->crm_ms ? p->crm_ms : u->crm_ms;
	if (!p->behind)
		u->pushed_ms = p->user.updated_ms;
	u->reconciled_at = (int64_t)time(NULL);
	*again = p->behind || u->updated_ms != p->user.updated_ms;
	if (!*again) {
		snprintf(u->sync_status, sizeof(u->sync_status), "synced");
		u->job_id = 0;
	}
}

/*
 * Frees crm_id for u: the CRM gave it to u, so another local user that
 * holds it has lost its CRM record (the CRM reissued the id: it was reset,
 * or the record deleted there).  The CRM is the source of truth: a holder
 * whose delete was pending is removed; any other lets go of the id and is
 * failed with a note saying so (POST /users/{id}/sync pushes it again as a
 * new CRM user), and its sync log keeps the conflict.
 */
static enum sb_err
push_take_crm_id(
    struct sb_ctx *ctx, const struct sb_sync_user *u, const char *crm_id)
{
	struct sb_sync_user holder;
	cJSON *detail;
	enum sb_err rc = sb_users_get_by_crm_id(ctx->db, crm_id, true, &holder);

	if (rc == SB_ERR_NOT_FOUND ||
	    (rc == SB_OK && strcmp(holder.id, u->id) == 0))
		return SB_OK;
	if (rc != SB_OK)
		return rc;
	sb_log(SB_LOG_WARN, "sync", NULL,
	    "the CRM gave %s, held by user %s, to user %s", crm_id, holder.id,
	    u->id);
	if (holder.deleted)
		return sb_users_remove(ctx->db, holder.id);
	if ((detail = cJSON_CreateObject()) == NULL ||
	    cJSON_AddStringToObject(detail, "crm_id", crm_id) == NULL ||
	    cJSON_AddStringToObject(detail, "given_to", u->id) == NULL) {
		cJSON_Delete(detail);
		return SB_ERR_NOMEM;
	}
	holder.crm_id[0] = '\0';
	snprintf(holder.sync_status, sizeof(holder.sync_status), "failed");
	snprintf(holder.last_error, sizeof(holder.last_error),
	    "the CRM gave its id %s to another user: this user's CRM record "
	    "is gone; POST /users/%s/sync pushes it again",
	    crm_id, holder.id);
	rc = sb_users_log(
	    ctx->db, holder.id, "conflict", "crm_id_reissued", detail);
	cJSON_Delete(detail);
	return rc != SB_OK ? rc : sb_users_save(ctx->db, &holder);
}

/* Records p's success on u (re-read in the transaction); as push_record. */
static enum sb_err
push_record_ok(struct sb_ctx *ctx, struct sb_sync_user *u, const struct push *p,
    bool *again)
{
	enum sb_err rc = SB_OK;

	if (!(u->deleted && p->user.deleted) &&
	    (rc = push_take_crm_id(ctx, u, p->crm_id)) != SB_OK)
		return rc;
	if (u->deleted && !p->user.deleted) {
		/* deleted while this push made or updated it: the CRM's copy
		 * is deleted in the next round */
		push_crm_id(u, p->crm_id);
		*again = true;
		return sb_users_save(ctx->db, u);
	}
	if (u->deleted)
		return sb_users_remove(ctx->db, u->id);
	push_succeeded(u, p, again);
	return sb_users_save(ctx->db, u);
}

/*
 * Records p's outcome in one transaction.  *again is set when the push
 * succeeded but the user changed meanwhile; the result is SB_OK when the
 * job is done, SB_ERR_UPSTREAM when it is to be retried.
 */
static enum sb_err
push_record(
    struct sb_ctx *ctx, const struct sb_job *job, struct push *p, bool *again)
{
	bool last = job->attempts >= job->max_attempts;
	struct sb_sync_user u;
	cJSON *detail = NULL;
	enum sb_err rc, result = SB_ERR_UPSTREAM;

	*again = false;
	if ((rc = sb_db_begin(ctx->db)) != SB_OK)
		return rc;
	if ((rc = sb_users_get(ctx->db, p->user.id, true, &u)) != SB_OK) {
		rc = rc == SB_ERR_NOT_FOUND ? SB_OK : rc;
		goto out;
	}
	detail = push_detail(p, job->attempts, job->max_attempts);
	push_settle_keys(&u, p);
	if (p->outcome == PUSH_OK) {
		result = SB_OK;
		if ((rc = sb_users_log(ctx->db, u.id, "push", "ok", detail)) ==
		    SB_OK)
			rc = push_record_ok(ctx, &u, p, again);
	} else if ((p->outcome == PUSH_PERMANENT || last) &&
	    !(u.deleted && !p->user.deleted)) {
		result = p->outcome == PUSH_PERMANENT ? SB_OK : SB_ERR_UPSTREAM;
		if ((rc = sb_users_log(ctx->db, u.id, "failed", "gave_up",
		         detail)) == SB_OK &&
		    (rc = push_give_up(ctx, &u, p, job->attempts)) == SB_OK)
			rc = sb_users_save(ctx->db, &u);
	} else {
		if (u.deleted && !p->user.deleted) { /* deleted meanwhile: */
			result = SB_OK; /* the next round deletes */
			*again = true;
		}
		snprintf(u.last_error, sizeof(u.last_error), "%s", p->err);
		if ((rc = sb_users_log(
		         ctx->db, u.id, "push", "error", detail)) == SB_OK)
			rc = sb_users_save(ctx->db, &u);
	}
out:
	cJSON_Delete(detail);
	if (rc == SB_OK)
		rc = sb_db_commit(ctx->db);
	if (rc != SB_OK)
		sb_db_rollback(ctx->db);
	return rc != SB_OK ? rc : result;
}

/* The wait asked before the next attempt: backoff with jitter, or more. */
static int64_t
push_wait_s(const struct sb_job *job, int64_t retry_after_s)
{
	int64_t backoff = sb_jobs_backoff_s(job->attempts);
	int64_t wait = backoff +
	    randombytes_uniform(
	        (uint32_t)(backoff / SB_SYNC_JITTER_DIVISOR) + 1);

	return retry_after_s > wait ? retry_after_s : wait;
}

/*
 * True if u, deleted before the CRM gave it a crm_id, may be in the CRM
 * all the same: a create was tried before (an earlier attempt of this
 * job, or one that failed) and its answer may have been lost.
 */
static bool
push_create_may_have_landed(
    const struct sb_job *job, const struct sb_sync_user *u)
{
	return u->deleted && u->crm_id[0] == '\0' &&
	    u->create_fields[0][0] != '\0' &&
	    (job->attempts > 1 || u->last_error[0] != '\0');
}

/*
 * Sends p->user's create again, with its key, to learn the crm_id the CRM
 * holds it under: answered with the user it made, or made now, and either
 * way deleted by the DELETE that follows.  False, with the create's
 * outcome in p, when that failed: a retry, or, when the CRM refused it
 * (409: the key expired and the lost user still holds the email; 422), a
 * user failed and kept, as a CRM user may be left behind.
 */
static bool
push_learn_crm_id(struct sb_ctx *ctx, struct push *p)
{
	p->user.deleted = false;
	push_call(ctx, p);
	p->user.deleted = true;
	if (p->outcome != PUSH_OK)
		return false;
	snprintf(p->user.crm_id, sizeof(p->user.crm_id), "%s", p->crm_id);
	p->behind = false;
	p->status = 0;
	p->retry_after_s = 0;
	p->err[0] = '\0';
	return true;
}

/* The calls of one attempt for p->user; their outcome is in p. */
static void
push_attempt(struct sb_ctx *ctx, const struct sb_job *job, struct push *p)
{
	if (push_create_may_have_landed(job, &p->user) &&
	    !push_learn_crm_id(ctx, p))
		return;
	push_call(ctx, p);
	if (p->outcome == PUSH_GONE) { /* deleted in the CRM: create */
		p->user.crm_id[0] = '\0';
		p->gone = true;
		push_call(ctx, p);
	} else if (p->outcome == PUSH_PERMANENT && p->behind) {
		memset(p->user.create_fields, 0, sizeof(p->user.create_fields));
		push_call(ctx, p);
	}
}

enum sb_err
sb_sync_push(struct sb_ctx *ctx, const struct sb_job *job, char *err,
    size_t errsize, int64_t *retry_after_s)
{
	char id[SB_USER_ID_MAX];
	struct push p;
	enum sb_err rc = SB_OK;
	bool again = true;

	if (!push_user_id(job, id)) {
		sb_log(SB_LOG_ERROR, SYNC_COMPONENT, NULL,
		    "sync job %lld has no user id; dropped",
		    (long long)job->id);
		return SB_OK;
	}
	for (int round = 0; again && round < SB_SYNC_PUSH_ROUNDS; round++) {
		memset(&p, 0, sizeof(p));
		rc = sb_users_get(ctx->db, id, true, &p.user);
		if (rc == SB_ERR_NOT_FOUND ||
		    (rc == SB_OK && p.user.job_id != job->id))
			return SB_OK; /* gone, or another job has it now */
		if (rc != SB_OK)
			break;
		push_attempt(ctx, job, &p);
		rc = push_record(ctx, job, &p, &again);
	}
	if (rc == SB_OK && again)
		rc = SB_ERR_CONFLICT; /* kept changing: the next attempt */
	if (rc != SB_OK) {
		snprintf(err, errsize, "%s",
		    p.err[0] != '\0' ? p.err : sb_strerror(rc));
		*retry_after_s = push_wait_s(job, p.retry_after_s);
	}
	return rc;
}

/*
 * True if u's delete is due another job at now (seen in the transaction
 * that opens it, so that two runs do not both open one): it gave up
 * after retries and its retry_at came, or its job died without giving up
 * and no retry_at is ahead.
 */
static bool
push_delete_due(struct sb_ctx *ctx, const struct sb_sync_user *u, int64_t now)
{
	enum sb_job_state state;

	if (!u->deleted || u->retry_at > now)
		return false;
	if (u->job_id == 0)
		return u->retry_at > 0;
	return sb_jobs_state(ctx->db, u->job_id, &state) == SB_OK &&
	    state == SB_JOB_DEAD;
}

/*
 * Opens a new sync job for the deleted user id if its delete is due one
 * (a sync_due_fn): SB_OK if it did, SB_ERR_NOT_FOUND if none was due, or
 * the error, logged.
 */
static enum sb_err
push_delete_reopen(struct sb_ctx *ctx, const char *id)
{
	struct sb_sync_user u = { 0 };
	enum sb_err rc;
	int64_t before;

	if ((rc = sb_db_begin(ctx->db)) != SB_OK)
		goto out;
	if ((rc = sb_users_get(ctx->db, id, true, &u)) == SB_OK &&
	    !push_delete_due(ctx, &u, (int64_t)time(NULL)))
		rc = SB_ERR_NOT_FOUND;
	before = u.job_id;
	if (rc == SB_OK) {
		u.retry_at = push_delete_later(ctx); /* should this job die */
		snprintf(u.sync_status, sizeof(u.sync_status), "pending");
		rc = sb_sync_enqueue(
		    ctx, &u, (int)ctx->config.crm_sync_attempts);
	}
	if (rc == SB_OK)
		rc = u.job_id != before
		    ? sb_users_log(ctx->db, id, "push", "reopened", NULL)
		    : SB_ERR_NOT_FOUND; /* one was open after all */
	if (rc == SB_OK)
		rc = sb_db_commit(ctx->db);
	if (rc != SB_OK)
		sb_db_rollback(ctx->db);
out:
	if (rc != SB_OK && rc != SB_ERR_NOT_FOUND)
		sb_log(SB_LOG_ERROR, SYNC_COMPONENT, NULL,
		    "the delete of user %s not opened again: %s", id,
		    sb_strerror(rc));
	return rc;
}

enum sb_err
sb_sync_delete_retry_due(struct sb_ctx *ctx, int *reopened)
{
	int failed = 0;

	return sync_each_due(ctx, SB_USERS_DUE_DELETE, (int64_t)time(NULL),
	    push_delete_reopen, reopened, &failed);
}
