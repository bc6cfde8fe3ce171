/*
 * The mock CRM's webhooks.  PATCH /crm/admin/users/{crm_id} changes a user
 * "in the CRM", as an operator of the CRM would, and fires a signed event
 * at the CRM's webhook_url, as a real CRM does.  The event is written in
 * the same transaction as the change and sent after the response by the
 * responder's after-response hook (sandbox_crm_after_response), through
 * the library's HTTP client, never inside the request.  The delivery
 * switch makes it arrive late (due delay_ms later; the process that fired
 * it waits for it after its response while that fits in its deadline, and
 * any later response sends it otherwise), twice (the same body twice), or
 * out of order (held until the next event has been sent).  Every send and
 * the receiver's answer is kept for GET /_sandbox/crm/deliveries.
 *
 * The signature is Stripe's scheme: X-CRM-Signature: t=<unix seconds>,
 * v1=<lowercase hex HMAC-SHA256 of "<t>.<raw body>" keyed by the webhook
 * secret>.  POST /crm/inbox is a receiver that checks it, for tests.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fcgiapp.h>

#include "sb/core/deadline.h"
#include "sb/core/log.h"
#include "sb/core/response.h"
#include "sb/core/signature.h"
#include "crm.h"

#define CRM_DELAY_DEFAULT_MS 2000 /* a late event's delay */
#define CRM_DELAY_MAX_MS 10000
#define CRM_RESPONSE_KEPT 1024 /* bytes of a receiver's answer kept */
#define CRM_DELIVERIES_MAX 1000 /* rows GET .../deliveries shows */
#define CRM_EVENTS_PER_HOOK 100 /* events one hook sends at most */
#define CRM_EVENT_BODY_MAX 4096

/* The delivery switches; the names are the API's. */
enum crm_delivery {
	CRM_DELIVERY_NOW,
	CRM_DELIVERY_LATE,
	CRM_DELIVERY_TWICE,
	CRM_DELIVERY_OUT_OF_ORDER,
	CRM_DELIVERY__MAX
};

static const char *const crm_delivery_names[CRM_DELIVERY__MAX] = {
	[CRM_DELIVERY_NOW] = "now",
	[CRM_DELIVERY_LATE] = "late",
	[CRM_DELIVERY_TWICE] = "twice",
	[CRM_DELIVERY_OUT_OF_ORDER] = "out_of_order",
};

/* Body members of the PATCH that are switches, not user fields. */
static const char *const crm_switch_members[] = { "delivery", "delay_ms",
	NULL };

enum crm_hook_sql {
	CRM_HOOK_SQL_EVENT_INSERT,
	CRM_HOOK_SQL_DUE,
	CRM_HOOK_SQL_CLAIM,
	CRM_HOOK_SQL_DONE,
	CRM_HOOK_SQL_RELEASE,
	CRM_HOOK_SQL_NEXT_DUE,
	CRM_HOOK_SQL_RECEIVER,
	CRM_HOOK_SQL_DELIVERY_INSERT,
	CRM_HOOK_SQL_DELIVERIES,
	CRM_HOOK_SQL_WAITING,
	CRM_HOOK_SQL__MAX
};

static const char *const crm_hook_sql[CRM_HOOK_SQL__MAX] = {
	[CRM_HOOK_SQL_EVENT_INSERT] =
	    "INSERT INTO crm_events (event_id, crm_id, delivery, state, due_ms,"
	    " copies, body) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
	[CRM_HOOK_SQL_DUE] =
	    "SELECT 1 FROM crm_events"
	    " WHERE state = 'pending' AND due_ms <= ?1 LIMIT 1",
	[CRM_HOOK_SQL_CLAIM] =
	    "UPDATE crm_events SET state = 'sending' WHERE id ="
	    " (SELECT id FROM crm_events WHERE state = 'pending'"
	    " AND due_ms <= ?1 ORDER BY id LIMIT 1)"
	    " RETURNING id, event_id, delivery, copies, body",
	[CRM_HOOK_SQL_DONE] =
	    "UPDATE crm_events SET state = 'done' WHERE id = ?1",
	[CRM_HOOK_SQL_RELEASE] =
	    "UPDATE crm_events SET state = 'pending',"
	    " due_ms = ?2 WHERE state = 'held' AND id < ?1",
	[CRM_HOOK_SQL_NEXT_DUE] = "SELECT min(due_ms) FROM crm_events"
	                          " WHERE state = 'pending'",
	[CRM_HOOK_SQL_RECEIVER] = "SELECT webhook_url, webhook_secret"
	                          " FROM crm_config WHERE id = 1",
	[CRM_HOOK_SQL_DELIVERY_INSERT] =
	    "INSERT INTO crm_deliveries (event_id, copy, url, signature, body,"
	    " status, error, response, sent_at)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
	[CRM_HOOK_SQL_DELIVERIES] =
	    "SELECT event_id, copy, url, signature, body, status, error,"
	    " response, sent_at FROM crm_deliveries ORDER BY id LIMIT ?1",
	[CRM_HOOK_SQL_WAITING] =
	    "SELECT event_id, crm_id, delivery, state, due_ms FROM crm_events"
	    " WHERE state <> 'done' ORDER BY id LIMIT ?1",
};

/* delay_ms of the query or the body into *out; false if it is bad. */
static bool
crm_delay_read(struct sb_request *req, int64_t *out)
{
	const char *text = sb_request_query(req, "delay_ms");
	const cJSON *v =
	    cJSON_GetObjectItemCaseSensitive(req->json, "delay_ms");

	*out = CRM_DELAY_DEFAULT_MS;
	if (text != NULL)
		return sb_request_parse_int(text, 0, CRM_DELAY_MAX_MS, out);
	if (v == NULL)
		return true;
	if (!cJSON_IsNumber(v) || v->valuedouble < 0 ||
	    v->valuedouble > CRM_DELAY_MAX_MS ||
	    v->valuedouble != (double)(int64_t)v->valuedouble)
		return false;
	*out = (int64_t)v->valuedouble;
	return true;
}

/* The switch named by the query or the body; false after a 400. */
static bool
crm_switch_read(
    struct sb_request *req, enum crm_delivery *delivery, int64_t *delay_ms)
{
	const char *name = sb_request_query(req, "delivery");
	const cJSON *v =
	    cJSON_GetObjectItemCaseSensitive(req->json, "delivery");

	if (name == NULL && v != NULL)
		name = cJSON_IsString(v) ? v->valuestring : "";
	*delivery = CRM_DELIVERY_NOW;
	for (int i = 0; name != NULL && i < CRM_DELIVERY__MAX; i++)
		if (strcmp(crm_delivery_names[i], name) == 0)
			*delivery = (enum crm_delivery)i;
	if (name != NULL && strcmp(crm_delivery_names[*delivery], name) != 0) {
		crm_error(req, 400, "invalid_request",
		    "delivery must be now, late, twice or out_of_order");
		return false;
	}
	if (!crm_delay_read(req, delay_ms)) {
		crm_error(req, 400, "invalid_request",
		    "delay_ms must be an integer from 0 to 10000");
		return false;
	}
	return true;
}

/* An event being fired: what the PATCH changed and how it is sent. */
struct crm_fire {
	const char *crm_id;
	enum crm_delivery delivery;
	int64_t delay_ms;
	char event_id[SB_SECRETS_TOKEN_MAX];
	char now[CRM_ISO_MAX];
};

/*
 * Drops from in the fields whose value user already has, so that only
 * changes remain; true iff any remains.
 */
static bool
crm_changes_only(const cJSON *user, struct crm_user_input *in)
{
	bool any = false;
	const cJSON *old;

	for (int f = 0; f < CRM_FIELD__MAX; f++) {
		if (in->values[f] == NULL)
			continue;
		old =
		    cJSON_GetObjectItemCaseSensitive(user, crm_field_names[f]);
		if (cJSON_IsString(old) &&
		    strcmp(old->valuestring, in->values[f]) == 0)
			in->values[f] = NULL;
		else
			any = true;
	}
	return any;
}

/* The event's body: {"event_id", "crm_id", "updated_fields",
 * "timestamp"}, malloc'ed; NULL on allocation failure. */
static char *
crm_event_body(const struct crm_fire *fire, const struct crm_user_input *in)
{
	cJSON *root = cJSON_CreateObject(), *fields;
	char *text = NULL;
	bool ok;

	ok = root != NULL &&
	    cJSON_AddStringToObject(root, "event_id", fire->event_id) != NULL &&
	    cJSON_AddStringToObject(root, "crm_id", fire->crm_id) != NULL &&
	    (fields = cJSON_AddObjectToObject(root, "updated_fields")) != NULL;
	for (int f = 0; ok && f < CRM_FIELD__MAX; f++)
		if (in->values[f] != NULL)
			ok = cJSON_AddStringToObject(fields, crm_field_names[f],
			         in->values[f]) != NULL;
	if (ok && cJSON_AddStringToObject(root, "timestamp", fire->now) != NULL)
		text = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	return text;
}

/* Inserts the event for the changes in, inside the caller's transaction. */
static enum sb_err
crm_event_insert(struct sb_ctx *ctx, const struct crm_fire *fire,
    const struct crm_user_input *in)
{
	char *body = crm_event_body(fire, in);
	sqlite3_stmt *st;
	enum sb_err rc;

	if (body == NULL)
		return SB_ERR_NOMEM;
	st = sb_db_stmt(ctx->db, crm_hook_sql[CRM_HOOK_SQL_EVENT_INSERT]);
	if (st != NULL) {
		sqlite3_bind_text(st, 1, fire->event_id, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, fire->crm_id, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, crm_delivery_names[fire->delivery], -1,
		    SQLITE_STATIC);
		sqlite3_bind_text(st, 4,
		    fire->delivery == CRM_DELIVERY_OUT_OF_ORDER ? "held"
		                                                : "pending",
		    -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 5,
		    crm_now_ms() +
		        (fire->delivery == CRM_DELIVERY_LATE ? fire->delay_ms
		                                             : 0));
		sqlite3_bind_int(
		    st, 6, fire->delivery == CRM_DELIVERY_TWICE ? 2 : 1);
		sqlite3_bind_text(st, 7, body, -1, SQLITE_TRANSIENT);
	}
	rc = sb_db_step_write(ctx->db, st, NULL);
	cJSON_free(body);
	return rc;
}

/*
 * Applies the PATCH in one transaction: the user's changed fields and,
 * if anything changed, the event (fire->event_id "" otherwise).
 */
static enum sb_err
crm_admin_apply(
    struct sb_ctx *ctx, struct crm_fire *fire, struct crm_user_input *in)
{
	cJSON *user = NULL;
	enum sb_err rc;

	fire->event_id[0] = '\0';
	if ((rc = sb_db_begin(ctx->db)) != SB_OK)
		return rc;
	if ((rc = crm_user_load(ctx, fire->crm_id, &user)) != SB_OK ||
	    !crm_changes_only(user, in))
		goto out;
	if ((rc = sb_secrets_token_new(
	         "evt", fire->event_id, sizeof(fire->event_id))) != SB_OK ||
	    (rc = crm_user_update(ctx, fire->crm_id, in, fire->now)) != SB_OK ||
	    (rc = crm_event_insert(ctx, fire, in)) != SB_OK)
		goto out;
	cJSON_Delete(user);
	return sb_db_commit(ctx->db);
out:
	if (rc != SB_OK)
		fire->event_id[0] = '\0';
	cJSON_Delete(user);
	sb_db_rollback(ctx->db);
	return rc;
}

/* 200 {"user", "event_id" (null when nothing changed), "delivery"}. */
static void
crm_admin_answer(
    struct sb_ctx *ctx, struct sb_request *req, const struct crm_fire *fire)
{
	cJSON *root = cJSON_CreateObject(), *user = NULL;

	if (root == NULL || crm_user_load(ctx, fire->crm_id, &user) != SB_OK ||
	    !cJSON_AddItemToObject(root, "user", user)) {
		cJSON_Delete(user);
		goto fail;
	}
	if ((fire->event_id[0] != '\0'
	            ? cJSON_AddStringToObject(root, "event_id", fire->event_id)
	            : cJSON_AddNullToObject(root, "event_id")) == NULL ||
	    cJSON_AddStringToObject(
	        root, "delivery", crm_delivery_names[fire->delivery]) == NULL)
		goto fail;
	sb_response_json(req, 200, root);
	cJSON_Delete(root);
	return;
fail:
	cJSON_Delete(root);
	sandbox_internal(req, "answering the CRM change");
}

void
sandbox_crm_admin_patch(struct sb_ctx *ctx, struct sb_request *req)
{
	struct sandbox_state *state = ctx->user;
	struct crm_fire fire = { .crm_id = sb_request_param(req, "crm_id") };
	struct crm_user_input in;
	enum sb_err rc;

	if (!sandbox_control_allowed(ctx, req)) {
		sb_response_error(req, 401, "unauthorized",
		    "the CRM's admin paths need the sandbox's control token "
		    "(var/secrets/sandbox.token) as a bearer token");
		return;
	}
	if (!crm_user_read(req, false, crm_switch_members, &in) ||
	    !crm_switch_read(req, &fire.delivery, &fire.delay_ms))
		return;
	crm_iso_ms(crm_now_ms(), fire.now);
	if ((rc = crm_admin_apply(ctx, &fire, &in)) != SB_OK) {
		crm_user_write_failed(req, rc, fire.crm_id);
		return;
	}
	if (fire.event_id[0] != '\0')
		state->crm_fired = true;
	crm_admin_answer(ctx, req, &fire);
}

/* One claimed event, its strings malloc'ed (crm_claimed_clear). */
struct crm_claimed {
	int64_t id;
	char *event_id;
	char *delivery;
	int copies;
	char *body;
};

static void
crm_claimed_clear(struct crm_claimed *c)
{
	free(c->event_id);
	free(c->delivery);
	free(c->body);
	memset(c, 0, sizeof(*c));
}

/* A malloc'ed copy of column col's text ("" for NULL); NULL if no memory. */
static char *
crm_column_dup(sqlite3_stmt *st, int col)
{
	const unsigned char *text = sqlite3_column_text(st, col);

	return strdup(text != NULL ? (const char *)text : "");
}

/* True iff a pending event is due: one read, the hook's usual cost. */
static bool
crm_any_due(struct sb_ctx *ctx, int64_t now)
{
	sqlite3_stmt *st = sb_db_stmt(ctx->db, crm_hook_sql[CRM_HOOK_SQL_DUE]);
	bool due;

	if (st == NULL)
		return false;
	sqlite3_bind_int64(st, 1, now);
	due = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_reset(st);
	return due;
}

/*
 * Claims the oldest due event (pending to sending) in its own
 * transaction.  SB_OK with *out filled, SB_ERR_NOT_FOUND, or an error.
 */
static enum sb_err
crm_claim(struct sb_ctx *ctx, struct crm_claimed *out)
{
	sqlite3_stmt *st;
	enum sb_err rc;
	int step;

	memset(out, 0, sizeof(*out));
	if ((rc = sb_db_begin(ctx->db)) != SB_OK)
		return rc;
	if ((st = sb_db_stmt(ctx->db, crm_hook_sql[CRM_HOOK_SQL_CLAIM])) ==
	    NULL) {
		sb_db_rollback(ctx->db);
		return SB_ERR_DB;
	}
	sqlite3_bind_int64(st, 1, crm_now_ms());
	if ((step = sqlite3_step(st)) == SQLITE_ROW) {
		out->id = sqlite3_column_int64(st, 0);
		out->event_id = crm_column_dup(st, 1);
		out->delivery = crm_column_dup(st, 2);
		out->copies = sqlite3_column_int(st, 3);
		out->body = crm_column_dup(st, 4);
		step = sqlite3_step(st);
	}
	sqlite3_reset(st);
	rc = out->id == 0 ? SB_ERR_NOT_FOUND : SB_OK;
	if (step != SQLITE_DONE)
		rc = sb_db_rc(step);
	else if (rc == SB_OK &&
	    (out->event_id == NULL || out->delivery == NULL ||
	        out->body == NULL))
		rc = SB_ERR_NOMEM;
	if (rc == SB_OK)
		rc = sb_db_commit(ctx->db);
	if (rc != SB_OK) {
		sb_db_rollback(ctx->db);
		crm_claimed_clear(out);
	}
	return rc;
}

/* Where events go and the key they are signed with. */
struct crm_receiver {
	char url[CRM_URL_MAX + 1];
	char secret[CRM_SECRET_MAX + 1];
};

/* Reads the receiver; false if there is no CRM (reset meanwhile). */
static bool
crm_receiver_read(struct sb_ctx *ctx, struct crm_receiver *out)
{
	sqlite3_stmt *st;
	bool found;

	st = sb_db_stmt(ctx->db, crm_hook_sql[CRM_HOOK_SQL_RECEIVER]);
	if (st == NULL)
		return false;
	if ((found = sqlite3_step(st) == SQLITE_ROW)) {
		snprintf(out->url, sizeof(out->url), "%s",
		    (const char *)sqlite3_column_text(st, 0));
		snprintf(out->secret, sizeof(out->secret), "%s",
		    (const char *)sqlite3_column_text(st, 1));
	}
	sqlite3_reset(st);
	return found;
}

/* One send as it is recorded. */
struct crm_sent {
	const struct crm_claimed *event;
	int copy;
	const char *url;
	char signature[SB_SIGNATURE_HEADER_MAX];
	long status;
	const char *error;
	const char *response;
	size_t response_len;
};

/* Records one send (its own statement, autocommit). */
static void
crm_sent_record(struct sb_ctx *ctx, const struct crm_sent *sent)
{
	char now[CRM_ISO_MAX];
	sqlite3_stmt *st;

	crm_iso_ms(crm_now_ms(), now);
	st = sb_db_stmt(ctx->db, crm_hook_sql[CRM_HOOK_SQL_DELIVERY_INSERT]);
	if (st != NULL) {
		sqlite3_bind_text(
		    st, 1, sent->event->event_id, -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 2, sent->copy);
		sqlite3_bind_text(st, 3, sent->url, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, sent->signature, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 5, sent->event->body, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 6, sent->status);
		sqlite3_bind_text(st, 7, sent->error, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 8, sent->response,
		    (int)(sent->response_len < CRM_RESPONSE_KEPT
		            ? sent->response_len
		            : CRM_RESPONSE_KEPT),
		    SQLITE_STATIC);
		sqlite3_bind_text(st, 9, now, -1, SQLITE_STATIC);
	}
	if (sb_db_write(ctx->db, st, NULL) != SB_OK)
		sb_log(SB_LOG_ERROR, SANDBOX_COMPONENT, NULL,
		    "recording a CRM delivery failed");
}

/* Signs and posts the event to the receiver once, and records it. */
static void
crm_send(struct sb_ctx *ctx, const struct crm_receiver *to,
    const struct crm_claimed *event, int copy)
{
	struct crm_sent sent = { .event = event, .copy = copy, .url = to->url };
	struct sb_http_response resp = { .status = 0 };
	struct sb_http_header headers[2];
	int64_t t = sandbox_now();
	struct sb_http_request out = { .method = "POST", .url = to->url };
	enum sb_err rc;

	sb_signature_header(
	    to->secret, t, event->body, strlen(event->body), sent.signature);
	headers[0] =
	    (struct sb_http_header){ "Content-Type", "application/json" };
	headers[1] =
	    (struct sb_http_header){ "X-CRM-Signature", sent.signature };
	out.headers = headers;
	out.header_count = 2;
	out.body = event->body;
	out.body_len = strlen(event->body);
	sent.error = "";
	sent.response = "";
	if (to->url[0] == '\0')
		sent.error = "the CRM has no webhook_url";
	else if ((rc = sb_http_perform(ctx->http, &out, &resp)) != SB_OK)
		sent.error =
		    resp.error[0] != '\0' ? resp.error : sb_strerror(rc);
	sent.status = resp.status;
	if (resp.body != NULL) {
		sent.response = resp.body;
		sent.response_len = resp.body_len;
	}
	crm_sent_record(ctx, &sent);
	sb_http_response_clear(&resp);
}

/*
 * Marks the event sent and, unless it was itself an out_of_order one,
 * releases the events held before it: they go next, after it.
 */
static void
crm_finish(struct sb_ctx *ctx, const struct crm_claimed *event)
{
	sqlite3_stmt *st;
	enum sb_err rc;

	if ((rc = sb_db_begin(ctx->db)) != SB_OK)
		goto out;
	if ((st = sb_db_stmt(ctx->db, crm_hook_sql[CRM_HOOK_SQL_DONE])) != NULL)
		sqlite3_bind_int64(st, 1, event->id);
	if ((rc = sb_db_step_write(ctx->db, st, NULL)) != SB_OK)
		goto out;
	if (strcmp(event->delivery,
	        crm_delivery_names[CRM_DELIVERY_OUT_OF_ORDER]) != 0) {
		st = sb_db_stmt(ctx->db, crm_hook_sql[CRM_HOOK_SQL_RELEASE]);
		if (st != NULL) {
			sqlite3_bind_int64(st, 1, event->id);
			sqlite3_bind_int64(st, 2, crm_now_ms());
		}
		if ((rc = sb_db_step_write(ctx->db, st, NULL)) != SB_OK)
			goto out;
	}
	rc = sb_db_commit(ctx->db);
out:
	if (rc != SB_OK) {
		sb_db_rollback(ctx->db);
		sb_log(SB_LOG_ERROR, SANDBOX_COMPONENT, NULL,
		    "finishing CRM event %s failed", event->event_id);
	}
}

/*
 * How long until the next pending event is due, in ms (0 if one is due
 * now), or -1 when none waits or it would not be sent within the
 * deadline (it then waits for a later response).
 */
static int64_t
crm_wait_ms(struct sb_ctx *ctx)
{
	sqlite3_stmt *st;
	int64_t wait = -1, left = sb_deadline_left(ctx->deadline);

	st = sb_db_stmt(ctx->db, crm_hook_sql[CRM_HOOK_SQL_NEXT_DUE]);
	if (st == NULL)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW &&
	    sqlite3_column_type(st, 0) != SQLITE_NULL)
		wait = sqlite3_column_int64(st, 0) - crm_now_ms();
	sqlite3_reset(st);
	if (wait < 0)
		return wait == -1 ? -1 : 0;
	return wait + ctx->config.http_timeout_ms < left ? wait : -1;
}

void
sandbox_crm_after_response(struct sb_ctx *ctx)
{
	struct sandbox_state *state = ctx->user;
	bool fired = state->crm_fired;
	struct crm_receiver to;
	struct crm_claimed event;
	int64_t wait;

	state->crm_fired = false;
	if (ctx->db == NULL || (!fired && !crm_any_due(ctx, crm_now_ms())))
		return;
	for (int sent = 0; sent < CRM_EVENTS_PER_HOOK;) {
		if (crm_claim(ctx, &event) == SB_OK) {
			if (crm_receiver_read(ctx, &to))
				for (int copy = 1; copy <= event.copies; copy++)
					crm_send(ctx, &to, &event, copy);
			crm_finish(ctx, &event);
			crm_claimed_clear(&event);
			sent++;
			continue;
		}
		/* Only the process that fired waits for a late event. */
		if (!fired || (wait = crm_wait_ms(ctx)) < 0)
			break;
		sb_deadline_sleep(wait);
	}
}

/* Adds column col of st to o under its name: its text, or a number. */
static bool
crm_add_column(cJSON *o, sqlite3_stmt *st, int col)
{
	const char *name = sqlite3_column_name(st, col);

	if (sqlite3_column_type(st, col) == SQLITE_INTEGER)
		return cJSON_AddNumberToObject(o, name,
		           (double)sqlite3_column_int64(st, col)) != NULL;
	return cJSON_AddStringToObject(
	           o, name, (const char *)sqlite3_column_text(st, col)) != NULL;
}

/* Adds the rows of statement sql as objects to the array name of root. */
static enum sb_err
crm_add_rows(struct sb_ctx *ctx, cJSON *root, const char *name, int sql)
{
	cJSON *list = cJSON_AddArrayToObject(root, name), *o;
	sqlite3_stmt *st = sb_db_stmt(ctx->db, crm_hook_sql[sql]);
	enum sb_err rc = SB_OK;
	int step;

	if (list == NULL || st == NULL)
		return list == NULL ? SB_ERR_NOMEM : SB_ERR_DB;
	sqlite3_bind_int(st, 1, CRM_DELIVERIES_MAX);
	while (rc == SB_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
		if ((o = cJSON_CreateObject()) == NULL ||
		    !cJSON_AddItemToArray(list, o)) {
			cJSON_Delete(o);
			rc = SB_ERR_NOMEM;
		}
		for (int c = 0; rc == SB_OK && c < sqlite3_column_count(st);
		     c++)
			if (!crm_add_column(o, st, c))
				rc = SB_ERR_NOMEM;
	}
	if (rc == SB_OK && step != SQLITE_DONE)
		rc = SB_ERR_DB;
	sqlite3_reset(st);
	return rc;
}

void
sandbox_crm_deliveries(struct sb_ctx *ctx, struct sb_request *req)
{
	cJSON *root = cJSON_CreateObject();

	if (root == NULL ||
	    crm_add_rows(ctx, root, "deliveries", CRM_HOOK_SQL_DELIVERIES) !=
	        SB_OK ||
	    crm_add_rows(ctx, root, "waiting", CRM_HOOK_SQL_WAITING) != SB_OK)
		sandbox_internal(req, "listing the CRM's deliveries");
	else
		sb_response_json(req, 200, root);
	cJSON_Delete(root);
}

void
sandbox_crm_inbox(struct sb_ctx *ctx, struct sb_request *req)
{
	const char *header = NULL, *asked = sb_request_query(req, "status");
	struct crm_receiver to;
	int64_t status = 200;
	cJSON *root;

	if (req->fcgi != NULL)
		header = FCGX_GetParam("HTTP_X_CRM_SIGNATURE", req->fcgi->envp);
	if (asked != NULL && !sb_request_parse_int(asked, 200, 599, &status)) {
		crm_error(req, 400, "invalid_request",
		    "status must be an integer from 200 to 599");
		return;
	}
	if (!crm_receiver_read(ctx, &to)) {
		crm_error(req, 404, "not_found",
		    "the CRM is not set up (POST /_sandbox/crm)");
		return;
	}
	if (!sb_signature_valid(header, to.secret,
	        req->body != NULL ? req->body : "", req->body_len,
	        sandbox_now(), SB_SIGNATURE_TOLERANCE_S)) {
		crm_error(req, 401, "invalid_signature",
		    "X-CRM-Signature is missing, stale or wrong");
		return;
	}
	if ((root = cJSON_CreateObject()) == NULL ||
	    cJSON_AddBoolToObject(root, "received", true) == NULL)
		sandbox_internal(req, "answering a webhook");
	else
		sb_response_json(req, (int)status, root);
	cJSON_Delete(root);
}
