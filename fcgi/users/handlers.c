/*
 * The users API (see fcgi/users.c): validation of the three contact
 * fields (sb/core/contact.h, the rules the CRM keeps too), every bad field
 * named at once; each change and its sync job in one transaction; answers
 * 202 with the user object itself, as the CRM has not been told yet.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fcgiapp.h>
#include <sodium.h>

#include "sb/core/body.h"
#include "sb/core/contact.h"
#include "sb/core/header.h"
#include "sb/core/log.h"
#include "sb/core/response.h"
#include "sb/store/group.h"
#include "sb/sync/sync.h"
#include "users.h"

#define USERS_MESSAGE_MAX 512
#define USERS_HASH_HEX (crypto_hash_sha256_BYTES * 2 + 1)
#define USERS_LOCATION_MAX (SB_USER_ID_MAX + 16)
#define USERS_NEXT_MAX 256

static const char *const users_field_rules[SB_USER__MAX] = {
	[SB_USER_NAME] = "required: 1 to 200 bytes, not only spaces",
	[SB_USER_EMAIL] = "required: a valid address (local@domain, "
	                  "RFC 5321 lengths)",
	[SB_USER_PHONE] = "required: 7 to 15 digits with spaces, - . ( ), "
	                  "an optional leading +",
};

static bool (*const users_checks[SB_USER__MAX])(const char *) = {
	[SB_USER_NAME] = sb_contact_name_valid,
	[SB_USER_EMAIL] = sb_contact_email_valid,
	[SB_USER_PHONE] = sb_contact_phone_valid,
};

static const char *const users_statuses[] = { "pending", "synced", "failed",
	NULL };

/* A request header's value (HTTP_<NAME> of FastCGI), or NULL. */
static const char *
users_header(const struct sb_request *req, const char *param)
{
	return req->fcgi != NULL ? FCGX_GetParam(param, req->fcgi->envp) : NULL;
}

/* Adds {"field", "message"} to *bad and to message. */
static void
users_bad(cJSON *bad, char *message, const char *field, const char *why)
{
	cJSON *o = cJSON_CreateObject();
	size_t len = strlen(message);

	if (o != NULL) {
		cJSON_AddStringToObject(o, "field", field);
		cJSON_AddStringToObject(o, "message", why);
		cJSON_AddItemToArray(bad, o);
	}
	snprintf(message + len, USERS_MESSAGE_MAX - len, "%s%s: %s",
	    len > 0 ? "; " : "", field, why);
}

/*
 * Reads the body's name, email and phone into values, checking each and
 * refusing unknown fields; answers 400 naming each bad field (or the body
 * error) and returns false when something is wrong.
 */
static bool
users_read_fields(struct sb_request *req, const char *values[SB_USER__MAX])
{
	char message[USERS_MESSAGE_MAX] = "";
	const cJSON *root, *obj, *v;
	cJSON *bad = NULL;
	bool ok;
	int f;

	if ((root = sb_body_json(req, NULL, 0, NULL)) == NULL)
		return false;
	if ((bad = cJSON_CreateArray()) == NULL) {
		sb_response_error(req, 500, "internal", "out of memory");
		return false;
	}
	if (!cJSON_IsObject(root))
		users_bad(bad, message, "body", "must be a JSON object");
	obj = cJSON_IsObject(root) ? root : NULL;
	cJSON_ArrayForEach(v, obj)
	{
		for (f = 0; f < SB_USER__MAX; f++)
			if (strcmp(v->string, sb_user_field_names[f]) == 0)
				break;
		if (f == SB_USER__MAX)
			users_bad(bad, message, v->string, "unknown field");
	}
	for (f = 0; f < SB_USER__MAX && cJSON_IsObject(root); f++) {
		v = cJSON_GetObjectItemCaseSensitive(
		    root, sb_user_field_names[f]);
		values[f] = cJSON_IsString(v) ? v->valuestring : NULL;
		if (values[f] == NULL || !users_checks[f](values[f]))
			users_bad(bad, message, sb_user_field_names[f],
			    users_field_rules[f]);
	}
	ok = cJSON_GetArraySize(bad) == 0;
	if (!ok)
		sb_response_error_fields(
		    req, 400, "invalid_user", message, bad);
	cJSON_Delete(bad);
	return ok;
}

/* Answers status with user's object (and Location on a create). */
static void
users_answer(struct sb_request *req, int status,
    const struct sb_sync_user *user, bool location)
{
	char where[USERS_LOCATION_MAX];
	cJSON *o = sb_users_describe(user);

	if (o == NULL) {
		sb_response_error(req, 500, "internal", "out of memory");
		return;
	}
	if (location) {
		snprintf(where, sizeof(where), "/users/%s", user->id);
		sb_response_header(req, "Location", where);
	}
	sb_response_json(req, status, o);
	cJSON_Delete(o);
}

/* The SHA-256 of the request body, hex. */
static void
users_body_hash(const struct sb_request *req, char out[USERS_HASH_HEX])
{
	unsigned char h[crypto_hash_sha256_BYTES];

	crypto_hash_sha256(h,
	    (const unsigned char *)(req->body ? req->body : ""), req->body_len);
	sodium_bin2hex(out, USERS_HASH_HEX, h, sizeof(h));
}

/* True if key is a usable Idempotency-Key: 1 to 255 visible ASCII. */
static bool
users_key_valid(const char *key)
{
	size_t n = strlen(key);

	if (n < 1 || n > SB_USERS_IDEMPOTENCY_KEY_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (key[i] < 0x21 || key[i] > 0x7e)
			return false;
	return true;
}

/* A new user from the validated values, pending, stamped now. */
static void
users_fill_new(struct sb_sync_user *u, const char *values[SB_USER__MAX])
{
	int64_t now = sb_users_now_ms();

	memset(u, 0, sizeof(*u));
	sb_users_new_id(u->id);
	for (int f = 0; f < SB_USER__MAX; f++) {
		snprintf(u->fields[f], sizeof(u->fields[f]), "%s", values[f]);
		u->field_ms[f] = now;
	}
	snprintf(u->sync_status, sizeof(u->sync_status), "pending");
	sb_users_iso(now, u->created_at);
	memcpy(u->updated_at, u->created_at, sizeof(u->updated_at));
	u->updated_ms = now;
}

/*
 * A create's write, run by sb_db_group_write() on whichever thread leads
 * the commit: the first answer of its Idempotency-Key if the key was used,
 * else the user with its sync job (and the key's answer).
 */
struct users_new {
	struct sb_sync_user *user;
	const char *key, *hash;
	int max_attempts;
	bool replayed; /* the key was used: first_id, first_hash, answer */
	char first_id[SB_USER_ID_MAX], first_hash[USERS_HASH_HEX];
	char *answer;
};

/* Adds the key's answer for n->user in the open transaction. */
static enum sb_err
users_key_put(struct sb_db *db, const struct users_new *n)
{
	cJSON *o = sb_users_describe(n->user);
	char *text = o != NULL ? cJSON_PrintUnformatted(o) : NULL;
	enum sb_err rc = text == NULL
	    ? SB_ERR_NOMEM
	    : sb_users_idempotency_put(db, n->key, n->hash, n->user->id, text);

	cJSON_free(text);
	cJSON_Delete(o);
	return rc;
}

static enum sb_err
users_new_write(struct sb_db *db, void *arg)
{
	struct users_new *n = arg;
	enum sb_err rc;

	if (n->key != NULL &&
	    sb_users_idempotency_get(
	        db, n->key, n->first_id, n->first_hash, &n->answer) == SB_OK) {
		n->replayed = true;
		return SB_OK;
	}
	if ((rc = sb_sync_create(db, n->user, n->max_attempts)) != SB_OK ||
	    n->key == NULL)
		return rc;
	return users_key_put(db, n);
}

/* Answers a replayed key: the first answer, or 422 for another body. */
static void
users_replay(struct sb_request *req, const struct users_new *n)
{
	char where[USERS_LOCATION_MAX];

	if (strcmp(n->hash, n->first_hash) != 0) {
		sb_response_error(req, 422, "idempotency_key_reused",
		    "this Idempotency-Key was used with another body");
		return;
	}
	snprintf(where, sizeof(where), "/users/%s", n->first_id);
	sb_response_header(req, "Location", where);
	sb_response_header(req, "Idempotent-Replayed", "true");
	sb_response_send(
	    req, 202, "application/json", n->answer, strlen(n->answer));
}

/* Answers a failed write: 409 for a taken email, else the store's error. */
static void
users_write_failed(struct sb_request *req, enum sb_err rc, const char *what)
{
	if (rc == SB_ERR_CONFLICT)
		sb_response_error(
		    req, 409, "duplicate_email", "another user has this email");
	else
		sb_response_store_failed(req, rc, what);
}

/*
 * The user and its job are written through the process's group commit:
 * creates that arrive together in the process's threads share one
 * transaction (sb/store/group.h).
 */
static struct sb_db_group users_creates = SB_DB_GROUP_INIT;

void
users_create(struct sb_ctx *ctx, struct sb_request *req)
{
	const char *values[SB_USER__MAX] = { 0 };
	char hash[USERS_HASH_HEX];
	struct sb_sync_user u;
	struct users_new n = { .user = &u, .hash = hash };
	enum sb_err rc;

	n.key = users_header(req, "HTTP_IDEMPOTENCY_KEY");
	n.max_attempts = (int)ctx->config.crm_sync_attempts;
	if (n.key != NULL && !users_key_valid(n.key)) {
		sb_response_error(req, 400, "invalid_idempotency_key",
		    "Idempotency-Key holds 1 to 255 visible ASCII characters");
		return;
	}
	if (!users_read_fields(req, values))
		return;
	users_body_hash(req, hash);
	users_fill_new(&u, values);
	rc = sb_db_group_write(&users_creates, ctx->db, ctx->deadline,
	    ctx->drain.shared != NULL ? &ctx->drain.shared->serving : NULL,
	    users_new_write, &n);
	if (rc != SB_OK)
		users_write_failed(req, rc, "the user could not be stored");
	else if (n.replayed)
		users_replay(req, &n);
	else
		users_answer(req, 202, &u, true);
	free(n.answer);
}

/* The path's user (not deleted) into *u; answers 404 and false if none. */
static bool
users_find(struct sb_ctx *ctx, struct sb_request *req, bool with_deleted,
    struct sb_sync_user *u)
{
	const char *id = sb_request_param(req, "id");
	enum sb_err rc = SB_ERR_NOT_FOUND;

	if (sb_users_id_valid(id))
		rc = sb_users_get(ctx->db, id, with_deleted, u);
	if (rc == SB_OK)
		return true;
	if (rc == SB_ERR_NOT_FOUND)
		sb_response_error(req, 404, "user_not_found", "no such user");
	else
		sb_response_store_failed(req, rc, "the user could not be read");
	return false;
}

void
users_get(struct sb_ctx *ctx, struct sb_request *req)
{
	struct sb_sync_user u;

	if (users_find(ctx, req, false, &u))
		users_answer(req, 200, &u, false);
}

/* ?sync_status and ?limit, checked; answers 400 and false if bad. */
static bool
users_list_query(struct sb_request *req, const char **status, int64_t *limit)
{
	const char *l = sb_request_query(req, "limit");
	const char *const *s;

	*status = sb_request_query(req, "sync_status");
	*limit = SB_USERS_PAGE_DEFAULT;
	for (s = users_statuses; *status != NULL && *s != NULL; s++)
		if (strcmp(*s, *status) == 0)
			break;
	if (*status != NULL && *s == NULL) {
		sb_response_error(req, 400, "invalid_query",
		    "sync_status is pending, synced or failed");
		return false;
	}
	if (l != NULL &&
	    !sb_request_parse_int(l, 1, SB_USERS_PAGE_MAX, limit)) {
		sb_response_error(req, 400, "invalid_query",
		    "limit is an integer from 1 to 100");
		return false;
	}
	return true;
}

/* The page's "next" link, or null when this page is the last. */
static void
users_add_next(cJSON *root, const char *status, int64_t limit,
    const struct sb_sync_user *last, bool full)
{
	char next[USERS_NEXT_MAX];

	if (!full || last == NULL) {
		cJSON_AddNullToObject(root, "next");
		return;
	}
	snprintf(next, sizeof(next), "/users?limit=%lld&after=%s%s%s",
	    (long long)limit, last->id, status != NULL ? "&sync_status=" : "",
	    status != NULL ? status : "");
	cJSON_AddStringToObject(root, "next", next);
}

void
users_list(struct sb_ctx *ctx, struct sb_request *req)
{
	const char *status, *after = sb_request_query(req, "after");
	struct sb_sync_user *users = NULL;
	cJSON *root = NULL, *list;
	size_t count = 0;
	int64_t limit;
	enum sb_err rc;

	if (!users_list_query(req, &status, &limit))
		return;
	rc = sb_users_list(
	    ctx->db, status, after, (size_t)limit, &users, &count);
	if (rc != SB_OK) {
		sb_response_store_failed(
		    req, rc, "the users could not be read");
		return;
	}
	if ((root = cJSON_CreateObject()) == NULL ||
	    (list = cJSON_AddArrayToObject(root, "users")) == NULL) {
		sb_response_error(req, 500, "internal", "out of memory");
		goto out;
	}
	for (size_t i = 0; i < count; i++)
		cJSON_AddItemToArray(list, sb_users_describe(&users[i]));
	users_add_next(root, status, limit,
	    count > 0 ? &users[count - 1] : NULL, count == (size_t)limit);
	sb_response_json(req, 200, root);
out:
	cJSON_Delete(root);
	free(users);
}

/* Sets the validated values on u, stamping the fields that changed. */
static void
users_apply_put(struct sb_sync_user *u, const char *values[SB_USER__MAX])
{
	int64_t now = sb_users_now_ms();

	for (int f = 0; f < SB_USER__MAX; f++) {
		if (strcmp(u->fields[f], values[f]) == 0)
			continue;
		snprintf(u->fields[f], sizeof(u->fields[f]), "%s", values[f]);
		u->field_ms[f] = now;
	}
	snprintf(u->sync_status, sizeof(u->sync_status), "pending");
	u->updated_ms = now;
	sb_users_iso(now, u->updated_at);
}

/*
 * Runs change (PUT's or DELETE's) on the path's user and opens its sync
 * job in one transaction, then answers 202 with the user.
 */
static void
users_change(struct sb_ctx *ctx, struct sb_request *req,
    const char *values[SB_USER__MAX])
{
	struct sb_sync_user u;
	enum sb_err rc;

	if ((rc = sb_db_begin(ctx->db)) != SB_OK) {
		sb_response_store_failed(
		    req, rc, "the user could not be changed");
		return;
	}
	if (!users_find(ctx, req, false, &u)) {
		sb_db_rollback(ctx->db);
		return;
	}
	if (values != NULL) {
		users_apply_put(&u, values);
	} else {
		u.deleted = true;
		snprintf(u.sync_status, sizeof(u.sync_status), "pending");
	}
	rc = sb_sync_enqueue(ctx, &u, (int)ctx->config.crm_sync_attempts);
	if (rc == SB_OK)
		rc = sb_db_commit(ctx->db);
	if (rc != SB_OK) {
		sb_db_rollback(ctx->db);
		users_write_failed(req, rc, "the user could not be changed");
		return;
	}
	users_answer(req, 202, &u, false);
}

void
users_put(struct sb_ctx *ctx, struct sb_request *req)
{
	const char *values[SB_USER__MAX] = { 0 };
	struct sb_sync_user u;

	if (!users_find(ctx, req, false, &u) || !users_read_fields(req, values))
		return;
	users_change(ctx, req, values);
}

void
users_delete(struct sb_ctx *ctx, struct sb_request *req)
{
	users_change(ctx, req, NULL);
}

void
users_sync_log(struct sb_ctx *ctx, struct sb_request *req)
{
	struct sb_sync_user u;
	cJSON *root = NULL, *entries = NULL;
	enum sb_err rc;

	if (!users_find(ctx, req, true, &u))
		return;
	if ((rc = sb_users_log_list(ctx->db, u.id, &entries)) != SB_OK) {
		sb_response_store_failed(
		    req, rc, "the sync log could not be read");
		return;
	}
	if ((root = cJSON_CreateObject()) == NULL) {
		cJSON_Delete(entries);
		sb_response_error(req, 500, "internal", "out of memory");
		return;
	}
	cJSON_AddStringToObject(root, "user_id", u.id);
	cJSON_AddItemToObject(root, "entries", entries);
	sb_response_json(req, 200, root);
	cJSON_Delete(root);
}

/* A user the CRM has not got (none yet, or failed): push it again. */
static void
users_push_again(struct sb_ctx *ctx, struct sb_request *req)
{
	struct sb_sync_user u;
	enum sb_err rc;

	if ((rc = sb_db_begin(ctx->db)) != SB_OK) {
		sb_response_store_failed(
		    req, rc, "the sync could not be started");
		return;
	}
	if (!users_find(ctx, req, false, &u)) {
		sb_db_rollback(ctx->db);
		return;
	}
	snprintf(u.sync_status, sizeof(u.sync_status), "pending");
	rc = sb_sync_enqueue(ctx, &u, (int)ctx->config.crm_sync_attempts);
	if (rc == SB_OK)
		rc = sb_db_commit(ctx->db);
	if (rc != SB_OK) {
		sb_db_rollback(ctx->db);
		sb_response_store_failed(
		    req, rc, "the sync could not be started");
		return;
	}
	users_answer(req, 202, &u, false);
}

void
users_sync_now(struct sb_ctx *ctx, struct sb_request *req)
{
	char err[SB_WORK_ERROR_MAX] = "";
	struct sb_sync_user u;
	enum sb_err rc;

	if (!users_find(ctx, req, false, &u))
		return;
	if (u.crm_id[0] == '\0' || strcmp(u.sync_status, "failed") == 0) {
		users_push_again(ctx, req);
		return;
	}
	rc = sb_sync_reconcile(ctx, u.id, err, sizeof(err));
	if (rc == SB_ERR_UPSTREAM || rc == SB_ERR_TIMEOUT ||
	    rc == SB_ERR_CONFIG || rc == SB_ERR_UNAUTHORIZED) {
		sb_response_errorf(req, 502, "crm_unavailable",
		    "the CRM could not be read: %s", err);
		return;
	}
	if (rc != SB_OK) {
		sb_response_store_failed(
		    req, rc, "the user could not be synced");
		return;
	}
	if (users_find(ctx, req, false, &u))
		users_answer(req, 200, &u, false);
}

void
users_webhook(struct sb_ctx *ctx, struct sb_request *req)
{
	struct sb_sync_answer a;
	cJSON *root;

	sb_sync_webhook(ctx, users_header(req, "HTTP_X_CRM_SIGNATURE"),
	    req->body != NULL ? req->body : "", req->body_len, &a);
	if (a.status != 200) {
		sb_response_error_fields(
		    req, a.status, a.code, a.message, a.fields);
	} else if ((root = cJSON_CreateObject()) == NULL ||
	    cJSON_AddStringToObject(root, "result", a.result) == NULL) {
		sb_response_error(req, 500, "internal", "out of memory");
		cJSON_Delete(root);
	} else {
		sb_response_json(req, 200, root);
		cJSON_Delete(root);
	}
	cJSON_Delete(a.fields);
}
