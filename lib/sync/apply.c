/*
 * Changes made in the CRM, applied locally: by signed webhook and by
 * reconciliation (see include/sb/sync/sync.h).  The CRM is the source of
 * truth, field by field: its value replaces the local one unless the
 * local one is a change the CRM has not received yet and is newer than
 * the CRM's (sb_sync_crm_wins()); every value overwritten, and every
 * local value kept against the CRM, is written to the sync log.
 */
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <time.h>

#include <sodium.h>

#include "sb/connect/connection.h"
#include "sb/core/contact.h"
#include "sb/core/signature.h"
#include "sb/sync/sync.h"
#include "sync_internal.h"

typedef bool (*apply_check)(const char *value);

static const apply_check apply_checks[SB_USER__MAX] = {
	[SB_USER_NAME] = sb_contact_name_valid,
	[SB_USER_EMAIL] = sb_contact_email_valid,
	[SB_USER_PHONE] = sb_contact_phone_valid,
};

/* Logs one field's decision: the value overwritten or the one kept. */
static enum sb_err
apply_log(struct sb_db *db, const struct sb_sync_user *u, int f,
    const char *crm, int64_t crm_ms, const char *kind, bool crm_won)
{
	char at[SB_DB_ISO_MAX];
	cJSON *d = cJSON_CreateObject();
	enum sb_err rc = SB_ERR_NOMEM;

	sb_users_iso(crm_ms, at);
	if (d != NULL && cJSON_AddStringToObject(d, "source", kind) != NULL &&
	    cJSON_AddStringToObject(d, "field", sb_user_field_names[f]) &&
	    cJSON_AddStringToObject(d, "local", u->fields[f]) &&
	    cJSON_AddStringToObject(d, "crm", crm) &&
	    cJSON_AddStringToObject(d, "crm_changed_at", at))
		rc = sb_users_log(db, u->id, "conflict",
		    crm_won ? "crm_won" : "local_kept", d);
	cJSON_Delete(d);
	return rc;
}

enum sb_err
sb_sync_apply(struct sb_db *db, struct sb_sync_user *user, const cJSON *crm,
    int64_t crm_ms, const char *kind, bool *changed)
{
	int64_t now = sb_users_now_ms();
	enum sb_err rc = SB_OK;

	*changed = false;
	for (int f = 0; f < SB_USER__MAX && rc == SB_OK; f++) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(
		    crm, sb_user_field_names[f]);
		bool pending, wins;

		if (!cJSON_IsString(v) || !apply_checks[f](v->valuestring) ||
		    strcmp(v->valuestring, user->fields[f]) == 0)
			continue;
		pending = user->field_ms[f] > user->pushed_ms;
		wins = sb_sync_crm_wins(crm_ms, user->field_ms[f], pending);
		rc = apply_log(db, user, f, v->valuestring, crm_ms, kind, wins);
		if (rc != SB_OK || !wins)
			continue;
		snprintf(user->fields[f], sizeof(user->fields[f]), "%s",
		    v->valuestring);
		*changed = true;
	}
	if (crm_ms > user->crm_ms)
		user->crm_ms = crm_ms;
	if (*changed) {
		user->updated_ms = now;
		sb_users_iso(now, user->updated_at);
	}
	return rc;
}

/* Adds {"field", "message"} to the answer's list of bad fields. */
static void
apply_bad(struct sb_sync_answer *a, const char *field, const char *message)
{
	cJSON *o;

	if (a->fields == NULL && (a->fields = cJSON_CreateArray()) == NULL)
		return;
	if ((o = cJSON_CreateObject()) == NULL)
		return;
	cJSON_AddStringToObject(o, "field", field);
	cJSON_AddStringToObject(o, "message", message);
	cJSON_AddItemToArray(a->fields, o);
	snprintf(a->message + strlen(a->message),
	    sizeof(a->message) - strlen(a->message), "%s%s: %s",
	    a->message[0] != '\0' ? "; " : "", field, message);
}

/* Checks updated_fields: an object of known, valid contact fields. */
static void
apply_check_fields(const cJSON *fields, struct sb_sync_answer *a)
{
	const cJSON *v;
	char name[SB_SYNC_MESSAGE_MAX];
	int f;

	if (!cJSON_IsObject(fields) || fields->child == NULL) {
		apply_bad(a, "updated_fields",
		    "required: an object with name, email or phone");
		return;
	}
	cJSON_ArrayForEach(v, fields)
	{
		for (f = 0; f < SB_USER__MAX; f++)
			if (strcmp(v->string, sb_user_field_names[f]) == 0)
				break;
		snprintf(name, sizeof(name), "updated_fields.%.64s", v->string);
		if (f == SB_USER__MAX)
			apply_bad(a, name, "unknown field");
		else if (!cJSON_IsString(v) || !apply_checks[f](v->valuestring))
			apply_bad(a, name, "invalid value");
	}
}

/* The webhook body's fields, checked; a->fields lists what is wrong. */
struct apply_event {
	const char *event_id, *crm_id;
	const cJSON *fields;
	int64_t ms;
};

static void
apply_check_body(
    const cJSON *root, struct apply_event *e, struct sb_sync_answer *a)
{
	static const char *const known[] = { "event_id", "crm_id",
		"updated_fields", "timestamp", NULL };
	const cJSON *v, *id, *crm, *ts;
	const char *const *k;

	if (!cJSON_IsObject(root)) {
		apply_bad(a, "body", "must be a JSON object");
		return;
	}
	cJSON_ArrayForEach(v, root)
	{
		for (k = known; *k != NULL && strcmp(*k, v->string) != 0; k++)
			;
		if (*k == NULL)
			apply_bad(a, v->string, "unknown field");
	}
	id = cJSON_GetObjectItemCaseSensitive(root, "event_id");
	crm = cJSON_GetObjectItemCaseSensitive(root, "crm_id");
	ts = cJSON_GetObjectItemCaseSensitive(root, "timestamp");
	if (!cJSON_IsString(id) || id->valuestring[0] == '\0' ||
	    strlen(id->valuestring) >= SB_SYNC_EVENT_ID_MAX)
		apply_bad(
		    a, "event_id", "required: a string of 1 to 127 bytes");
	if (!cJSON_IsString(crm) || crm->valuestring[0] == '\0' ||
	    strlen(crm->valuestring) >= SB_USER_CRM_ID_MAX)
		apply_bad(a, "crm_id", "required: a string of 1 to 63 bytes");
	if (!cJSON_IsString(ts) || !sb_users_parse_iso(ts->valuestring, &e->ms))
		apply_bad(a, "timestamp",
		    "required: ISO 8601 UTC (2024-05-01T12:00:00Z)");
	else if (e->ms > sb_users_now_ms() + SB_SIGNATURE_TOLERANCE_S * 1000)
		/* it would make every real change after it stale */
		apply_bad(
		    a, "timestamp", "lies more than 5 minutes in the future");
	e->fields = cJSON_GetObjectItemCaseSensitive(root, "updated_fields");
	apply_check_fields(e->fields, a);
	e->event_id = cJSON_IsString(id) ? id->valuestring : NULL;
	e->crm_id = cJSON_IsString(crm) ? crm->valuestring : NULL;
}

/* Copies credential name of creds into out ("" if absent or too long). */
static void
apply_credential(const cJSON *creds, const char *name, char *out, size_t size)
{
	const cJSON *s = cJSON_GetObjectItemCaseSensitive(creds, name);

	out[0] = '\0';
	if (cJSON_IsString(s) && strlen(s->valuestring) < size)
		snprintf(out, size, "%s", s->valuestring);
}

/*
 * Copies the CRM connection's webhook_secret into current and its
 * webhook_secret_previous (a rotation's grace period; "" when not set)
 * into previous; false if there is no current secret.
 */
static bool
apply_secrets(struct sb_ctx *ctx, char *current, char *previous, size_t size)
{
	struct sb_connection conn = { 0 };

	current[0] = previous[0] = '\0';
	if (ctx->config.crm_connection[0] != '\0' &&
	    sb_connection_load(SB_CONNECTION_STORE(ctx),
	        ctx->config.crm_connection, &conn) == SB_OK) {
		apply_credential(
		    conn.credentials, SB_SYNC_WEBHOOK_SECRET, current, size);
		apply_credential(conn.credentials,
		    SB_SYNC_WEBHOOK_SECRET_PREVIOUS, previous, size);
	}
	sb_connection_clear(&conn);
	return current[0] != '\0';
}

/*
 * True iff header signs body under the current secret or, second, the
 * previous one.  Both are always checked (each in constant time), so the
 * time taken does not tell which one matched.
 */
static bool
apply_signed(struct sb_ctx *ctx, const char *header, const char *body,
    size_t len, bool *configured)
{
	char current[SB_CONFIG_STR_MAX], previous[SB_CONFIG_STR_MAX];
	int64_t now = (int64_t)time(NULL);
	bool by_current, by_previous;

	*configured = apply_secrets(ctx, current, previous, sizeof(current));
	by_current = *configured &&
	    sb_signature_valid(
	        header, current, body, len, now, SB_SIGNATURE_TOLERANCE_S);
	by_previous = *configured && previous[0] != '\0' &&
	    sb_signature_valid(
	        header, previous, body, len, now, SB_SIGNATURE_TOLERANCE_S);
	sodium_memzero(current, sizeof(current));
	sodium_memzero(previous, sizeof(previous));
	return by_current || by_previous;
}

/* Fills the answer of an error. */
static void
apply_fail(
    struct sb_sync_answer *a, int status, const char *code, const char *message)
{
	a->status = status;
	a->code = code;
	snprintf(a->message, sizeof(a->message), "%s", message);
}

/* The webhook's log detail. */
static cJSON *
apply_event_detail(const struct apply_event *e, const char *ts)
{
	cJSON *d = cJSON_CreateObject();

	if (d == NULL)
		return NULL;
	cJSON_AddStringToObject(d, "event_id", e->event_id);
	cJSON_AddStringToObject(d, "crm_id", e->crm_id);
	cJSON_AddStringToObject(d, "timestamp", ts);
	cJSON_AddItemToObject(
	    d, "updated_fields", cJSON_Duplicate(e->fields, 1));
	return d;
}

/*
 * The event's effect, in one transaction: recorded once per event_id
 * (the primary key decides), stale or applied.
 */
static void
apply_event(struct sb_ctx *ctx, const struct apply_event *e, const char *ts,
    struct sb_sync_answer *a)
{
	struct sb_sync_user u;
	cJSON *detail = NULL;
	enum sb_err rc;
	bool first = false, changed = false;

	if ((rc = sb_db_begin(ctx->db)) != SB_OK)
		goto out;
	rc = sb_users_get_by_crm_id(ctx->db, e->crm_id, false, &u);
	if (rc == SB_ERR_NOT_FOUND) {
		apply_fail(a, 404, "user_not_found", "no user has this crm_id");
		goto out;
	}
	a->result = e->ms <= u.crm_ms ? "stale" : "applied";
	if (rc != SB_OK ||
	    (rc = sb_users_event_record(
	         ctx->db, e->event_id, e->crm_id, a->result, &first)) != SB_OK)
		goto out;
	if (!first) {
		a->result = "duplicate";
		goto out;
	}
	detail = apply_event_detail(e, ts);
	if ((rc = sb_users_log(ctx->db, u.id, "webhook", a->result, detail)) !=
	        SB_OK ||
	    strcmp(a->result, "stale") == 0)
		goto out;
	if ((rc = sb_sync_apply(
	         ctx->db, &u, e->fields, e->ms, "webhook", &changed)) == SB_OK)
		rc = sb_users_save(ctx->db, &u);
out:
	cJSON_Delete(detail);
	if (rc == SB_OK)
		rc = sb_db_commit(ctx->db);
	if (rc != SB_OK) {
		sb_db_rollback(ctx->db);
		if (rc == SB_ERR_CONFLICT)
			apply_fail(a, 409, "duplicate_email",
			    "another user has the event's email; nothing "
			    "was applied");
		else if (a->status == 200)
			apply_fail(a, 503, "busy",
			    "the webhook could not be recorded; send it again");
	}
}

void
sb_sync_webhook(struct sb_ctx *ctx, const char *header, const char *body,
    size_t len, struct sb_sync_answer *answer)
{
	struct apply_event e = { 0 };
	cJSON *root = NULL;
	const cJSON *ts;
	bool shaped = header != NULL && strncmp(header, "t=", 2) == 0;
	bool signed_ok = false, configured = false;

	memset(answer, 0, sizeof(*answer));
	answer->status = 200;
	/* A header that cannot be a signature costs no connection load and
	 * no decryption. */
	if (shaped)
		signed_ok = apply_signed(ctx, header, body, len, &configured);
	if (shaped && !configured) {
		apply_fail(answer, 503, "crm_not_configured",
		    "the CRM connection or its webhook_secret is not set up");
		return;
	}
	if (!signed_ok) {
		apply_fail(answer, 401, "invalid_signature",
		    "X-CRM-Signature is missing, wrong or more than 5 minutes "
		    "off");
		return;
	}
	root = cJSON_ParseWithLength(body, len);
	apply_check_body(root, &e, answer);
	if (answer->fields != NULL) {
		static const struct {
			int status;
			const char *code;
		} invalid = { 400, "invalid_webhook" };

		answer->status = invalid.status;
		answer->code = invalid.code; /* message: the bad fields */
	} else {
		ts = cJSON_GetObjectItemCaseSensitive(root, "timestamp");
		apply_event(ctx, &e, ts->valuestring, answer);
	}
	cJSON_Delete(root);
}

/* Pulls one user's CRM record into crm; its updated_at into *crm_ms. */
static enum sb_err
apply_pull(struct sb_ctx *ctx, const struct sb_sync_user *u, cJSON **crm,
    int64_t *crm_ms, char *err, size_t errsize)
{
	struct sb_http_response resp = { 0 };
	char path[SB_USER_CRM_ID_MAX + 16];
	const cJSON *at;
	enum sb_err rc;

	*crm = NULL;
	snprintf(path, sizeof(path), "/users/%s", u->crm_id);
	rc = sync_crm_call(ctx, "GET", path, NULL, NULL, &resp, err, errsize);
	if (rc == SB_OK && resp.status != 200) {
		sync_crm_error(&resp, err, errsize);
		rc = SB_ERR_UPSTREAM;
	}
	if (rc == SB_OK &&
	    (*crm = cJSON_ParseWithLength(resp.body, resp.body_len)) == NULL) {
		snprintf(err, errsize, "CRM answered 200 without a user");
		rc = SB_ERR_UPSTREAM;
	}
	at = cJSON_GetObjectItemCaseSensitive(*crm, "updated_at");
	if (rc == SB_OK &&
	    (!cJSON_IsString(at) ||
	        !sb_users_parse_iso(at->valuestring, crm_ms)))
		*crm_ms = sb_users_now_ms();
	sb_http_response_clear(&resp);
	return rc;
}

/* Applies a pulled record to user id in one transaction. */
static enum sb_err
apply_pulled(
    struct sb_ctx *ctx, const char *id, const cJSON *crm, int64_t crm_ms)
{
	struct sb_sync_user u;
	cJSON *d = cJSON_CreateObject();
	enum sb_err rc;
	bool changed = false;

	if ((rc = sb_db_begin(ctx->db)) != SB_OK) {
		cJSON_Delete(d);
		return rc;
	}
	if ((rc = sb_users_get(ctx->db, id, false, &u)) == SB_OK &&
	    (rc = sb_sync_apply(
	         ctx->db, &u, crm, crm_ms, "reconcile", &changed)) == SB_OK) {
		u.reconciled_at = (int64_t)time(NULL);
		cJSON_AddBoolToObject(d, "changed", changed);
		if ((rc = sb_users_log(ctx->db, id, "reconcile",
		         changed ? "applied" : "unchanged", d)) == SB_OK)
			rc = sb_users_save(ctx->db, &u);
	}
	cJSON_Delete(d);
	if (rc == SB_OK)
		rc = sb_db_commit(ctx->db);
	if (rc != SB_OK)
		sb_db_rollback(ctx->db);
	return rc;
}

enum sb_err
sb_sync_reconcile(struct sb_ctx *ctx, const char *id, char *err, size_t errsize)
{
	struct sb_sync_user u;
	cJSON *crm = NULL, *d;
	int64_t crm_ms = 0;
	enum sb_err rc;

	if ((rc = sb_users_get(ctx->db, id, false, &u)) != SB_OK)
		return rc;
	if (u.crm_id[0] == '\0') {
		snprintf(err, errsize, "the user has no crm_id yet");
		return SB_ERR_CONFLICT;
	}
	rc = apply_pull(ctx, &u, &crm, &crm_ms, err, errsize);
	if (rc == SB_OK)
		rc = apply_pulled(ctx, id, crm, crm_ms);
	else if ((d = cJSON_CreateObject()) != NULL) {
		cJSON_AddStringToObject(d, "error", err);
		sb_users_log(ctx->db, id, "reconcile", "error", d);
		cJSON_Delete(d);
	}
	cJSON_Delete(crm);
	return rc;
}

enum sb_err
sync_each_due(struct sb_ctx *ctx, enum sb_users_due_kind kind, int64_t at,
    sync_due_fn fn, int *done, int *failed)
{
	char(*ids)[SB_USER_ID_MAX] =
	    calloc(SB_SYNC_RECONCILE_BATCH, sizeof(*ids));
	size_t count = 0;
	enum sb_err rc, one;

	*done = *failed = 0;
	if (ids == NULL)
		return SB_ERR_NOMEM;
	rc = sb_users_due(
	    ctx->db, kind, at, ids, SB_SYNC_RECONCILE_BATCH, &count);
	for (size_t i = 0; rc == SB_OK && i < count; i++) {
		if ((one = fn(ctx, ids[i])) == SB_OK)
			(*done)++;
		else if (one != SB_ERR_NOT_FOUND)
			(*failed)++;
	}
	free(ids);
	return rc;
}

/* sb_sync_reconcile() as a sync_due_fn (its error is in the sync log). */
static enum sb_err
apply_reconcile_one(struct sb_ctx *ctx, const char *id)
{
	char err[SB_WORK_ERROR_MAX] = "";

	return sb_sync_reconcile(ctx, id, err, sizeof(err));
}

enum sb_err
sb_sync_reconcile_due(struct sb_ctx *ctx, bool all, int *done, int *failed)
{
	return sync_each_due(ctx, SB_USERS_DUE_RECONCILE,
	    (int64_t)time(NULL) -
	        (all ? -1 : ctx->config.crm_reconcile_period_s),
	    apply_reconcile_one, done, failed);
}
