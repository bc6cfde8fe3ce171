/*
 * The mock CRM's users API: POST /crm/users, and GET, PUT and DELETE
 * /crm/users/{crm_id}, each behind crm_enter().  Users are checked by the
 * rules of sb/core/contact.h, the same the gateway's users API keeps;
 * every bad field is named in one 400, and an email another user has is a
 * 409.  Each user keeps updated_at, ISO 8601 UTC with milliseconds, which
 * the gateway's reconciliation compares.
 */
#include <stdio.h>
#include <string.h>

#include <fcgiapp.h>
#include <sodium.h>

#include "sb/core/response.h"
#include "crm.h"

#define CRM_USER_COLUMNS "crm_id, name, email, phone, created_at, updated_at"
#define CRM_MESSAGE_MAX 160
#define CRM_IDEMPOTENCY_KEY_MAX 255 /* bytes of an Idempotency-Key */
#define CRM_IDEMPOTENCY_TTL_MS (24LL * 3600 * 1000) /* a key's life */
#define CRM_HASH_HEX (crypto_hash_sha256_BYTES * 2 + 1)

const char *const crm_field_names[CRM_FIELD__MAX] = {
	[CRM_FIELD_NAME] = "name",
	[CRM_FIELD_EMAIL] = "email",
	[CRM_FIELD_PHONE] = "phone",
};

/* Each field's rule and what a refusal says of it. */
static const struct crm_rule {
	bool (*valid)(const char *value);
	const char *message;
} crm_rules[CRM_FIELD__MAX] = {
	[CRM_FIELD_NAME] = { sb_contact_name_valid,
	    "must be 1 to 200 bytes without control characters" },
	[CRM_FIELD_EMAIL] = { sb_contact_email_valid,
	    "must be an email address (local@domain, RFC 5321 lengths)" },
	[CRM_FIELD_PHONE] = { sb_contact_phone_valid,
	    "must be 7 to 15 digits with an optional leading + and "
	    "separators (space - . ( ))" },
};

enum crm_users_sql {
	CRM_USERS_SQL_NUMBER,
	CRM_USERS_SQL_INSERT,
	CRM_USERS_SQL_GET,
	CRM_USERS_SQL_EMAIL_TAKEN,
	CRM_USERS_SQL_UPDATE,
	CRM_USERS_SQL_DELETE,
	CRM_USERS_SQL_KEY_PRUNE,
	CRM_USERS_SQL_KEY_GET,
	CRM_USERS_SQL_KEY_PUT,
	CRM_USERS_SQL_KEY_DROP,
	CRM_USERS_SQL__MAX
};

static const char *const crm_users_sql[CRM_USERS_SQL__MAX] = {
	[CRM_USERS_SQL_NUMBER] = "UPDATE crm_config SET next_number ="
	                         " next_number + 1 WHERE id = 1"
	                         " RETURNING next_number - 1",
	[CRM_USERS_SQL_INSERT] = "INSERT INTO crm_users (" CRM_USER_COLUMNS
	                         ") VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
	[CRM_USERS_SQL_GET] =
	    "SELECT " CRM_USER_COLUMNS " FROM crm_users WHERE crm_id = ?1",
	[CRM_USERS_SQL_EMAIL_TAKEN] = "SELECT 1 FROM crm_users"
	                              " WHERE lower(email) = lower(?1)"
	                              " AND crm_id <> ?2",
	/* A NULL parameter keeps the column as it is. */
	[CRM_USERS_SQL_UPDATE] = "UPDATE crm_users SET"
	                         " name = coalesce(?2, name),"
	                         " email = coalesce(?3, email),"
	                         " phone = coalesce(?4, phone),"
	                         " updated_at = ?5 WHERE crm_id = ?1",
	[CRM_USERS_SQL_DELETE] = "DELETE FROM crm_users WHERE crm_id = ?1",
	[CRM_USERS_SQL_KEY_PRUNE] =
	    "DELETE FROM crm_idempotency WHERE created_ms < ?1",
	[CRM_USERS_SQL_KEY_GET] =
	    "SELECT body_hash, crm_id FROM crm_idempotency"
	    " WHERE key = ?1",
	[CRM_USERS_SQL_KEY_PUT] =
	    "INSERT INTO crm_idempotency (key, body_hash,"
	    " crm_id, created_ms) VALUES (?1, ?2, ?3, ?4)",
	[CRM_USERS_SQL_KEY_DROP] =
	    "DELETE FROM crm_idempotency WHERE crm_id = ?1",
};

/* A POST's Idempotency-Key and the hash of its body (key NULL: none). */
struct crm_key {
	const char *key;
	char hash[CRM_HASH_HEX];
	bool replayed; /* the key's user was answered again */
};

/* Adds {"field", "message"} to fields; false on allocation failure. */
static bool
crm_field_add(cJSON *fields, const char *field, const char *message)
{
	cJSON *o = cJSON_CreateObject();

	if (o == NULL || !cJSON_AddItemToArray(fields, o)) {
		cJSON_Delete(o);
		return false;
	}
	return cJSON_AddStringToObject(o, "field", field) != NULL &&
	    cJSON_AddStringToObject(o, "message", message) != NULL;
}

/* True iff name is one of skip (NULL-terminated; NULL for none). */
static bool
crm_skipped(const char *const *skip, const char *name)
{
	for (; skip != NULL && *skip != NULL; skip++)
		if (strcmp(*skip, name) == 0)
			return true;
	return false;
}

/* The index of a user field called name, or -1. */
static int
crm_field_index(const char *name)
{
	for (int f = 0; f < CRM_FIELD__MAX; f++)
		if (strcmp(crm_field_names[f], name) == 0)
			return f;
	return -1;
}

/* Checks every member of body into in, a refusal per bad one in fields. */
static bool
crm_user_members(const cJSON *body, const char *const *skip,
    struct crm_user_input *in, cJSON *fields)
{
	const cJSON *v;
	int f;

	cJSON_ArrayForEach(v, body)
	{
		if (crm_skipped(skip, v->string))
			continue;
		if ((f = crm_field_index(v->string)) < 0) {
			if (!crm_field_add(fields, v->string, "is not a field"))
				return false;
			continue;
		}
		if (!cJSON_IsString(v) || !crm_rules[f].valid(v->valuestring)) {
			if (!crm_field_add(fields, v->string,
			        cJSON_IsString(v) ? crm_rules[f].message
			                          : "must be a string"))
				return false;
			continue;
		}
		in->values[f] = v->valuestring;
	}
	return true;
}

/*
 * Adds a refusal to fields for each field missing (all), or one when no
 * field was given and nothing else was refused (not all).
 */
static bool
crm_user_missing(
    bool all, const cJSON *body, const struct crm_user_input *in, cJSON *fields)
{
	bool any = false;

	for (int f = 0; f < CRM_FIELD__MAX; f++) {
		if (in->values[f] != NULL ||
		    cJSON_GetObjectItemCaseSensitive(
		        body, crm_field_names[f]) != NULL)
			any = true;
		else if (all &&
		    !crm_field_add(fields, crm_field_names[f], "is required"))
			return false;
	}
	return any || all || cJSON_GetArraySize(fields) > 0 ||
	    crm_field_add(fields, "name", "give at least one field to change");
}

bool
crm_user_read(struct sb_request *req, bool all, const char *const *skip,
    struct crm_user_input *in)
{
	cJSON *root = NULL, *fields;

	memset(in, 0, sizeof(*in));
	if (sb_request_parse_json(req->body != NULL ? req->body : "",
	        req->body_len, SB_REQUEST_JSON_DEPTH_MAX, &req->json,
	        NULL) != SB_OK ||
	    !cJSON_IsObject(req->json)) {
		crm_error(req, 400, "invalid_request",
		    "the body must be a JSON object");
		return false;
	}
	if ((root = cJSON_CreateObject()) == NULL ||
	    cJSON_AddStringToObject(root, "error", "validation_failed") ==
	        NULL ||
	    cJSON_AddStringToObject(
	        root, "message", "some fields are invalid") == NULL ||
	    (fields = cJSON_AddArrayToObject(root, "fields")) == NULL ||
	    !crm_user_members(req->json, skip, in, fields) ||
	    !crm_user_missing(all, req->json, in, fields)) {
		sandbox_internal(req, "checking a CRM user");
		cJSON_Delete(root);
		return false;
	}
	if (cJSON_GetArraySize(fields) > 0)
		sb_response_json(req, 400, root);
	cJSON_Delete(root);
	return req->status != 400;
}

enum sb_err
crm_user_load(struct sb_ctx *ctx, const char *crm_id, cJSON **out)
{
	sqlite3_stmt *st;
	enum sb_err rc = SB_OK;
	int step;

	*out = NULL;
	if ((st = sb_db_stmt(ctx->db, crm_users_sql[CRM_USERS_SQL_GET])) ==
	    NULL)
		return SB_ERR_DB;
	sqlite3_bind_text(st, 1, crm_id, -1, SQLITE_STATIC);
	if ((step = sqlite3_step(st)) == SQLITE_ROW) {
		if ((*out = cJSON_CreateObject()) == NULL)
			rc = SB_ERR_NOMEM;
		for (int c = 0; c < sqlite3_column_count(st) && rc == SB_OK;
		     c++)
			if (cJSON_AddStringToObject(*out,
			        sqlite3_column_name(st, c),
			        (const char *)sqlite3_column_text(st, c)) ==
			    NULL)
				rc = SB_ERR_NOMEM;
	} else {
		rc = step == SQLITE_DONE ? SB_ERR_NOT_FOUND : SB_ERR_DB;
	}
	sqlite3_reset(st);
	if (rc != SB_OK) {
		cJSON_Delete(*out);
		*out = NULL;
	}
	return rc;
}

/* SB_ERR_CONFLICT iff a user other than crm_id has email, else SB_OK. */
static enum sb_err
crm_email_free(struct sb_ctx *ctx, const char *email, const char *crm_id)
{
	sqlite3_stmt *st;
	int step;

	if (email == NULL)
		return SB_OK;
	st = sb_db_stmt(ctx->db, crm_users_sql[CRM_USERS_SQL_EMAIL_TAKEN]);
	if (st == NULL)
		return SB_ERR_DB;
	sqlite3_bind_text(st, 1, email, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, crm_id, -1, SQLITE_STATIC);
	step = sqlite3_step(st);
	sqlite3_reset(st);
	if (step == SQLITE_ROW)
		return SB_ERR_CONFLICT;
	return step == SQLITE_DONE ? SB_OK : SB_ERR_DB;
}

enum sb_err
crm_user_update(struct sb_ctx *ctx, const char *crm_id,
    const struct crm_user_input *in, const char *now)
{
	sqlite3_stmt *st;
	enum sb_err rc;
	int changes = 0;

	if ((rc = crm_email_free(ctx, in->values[CRM_FIELD_EMAIL], crm_id)) !=
	    SB_OK)
		return rc;
	if ((st = sb_db_stmt(ctx->db, crm_users_sql[CRM_USERS_SQL_UPDATE])) !=
	    NULL) {
		sqlite3_bind_text(st, 1, crm_id, -1, SQLITE_STATIC);
		for (int f = 0; f < CRM_FIELD__MAX; f++)
			sqlite3_bind_text(
			    st, 2 + f, in->values[f], -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 5, now, -1, SQLITE_STATIC);
	}
	if ((rc = sb_db_step_write(ctx->db, st, &changes)) != SB_OK)
		return rc;
	return changes == 1 ? SB_OK : SB_ERR_NOT_FOUND;
}

void
crm_user_write_failed(
    struct sb_request *req, enum sb_err rc, const char *crm_id)
{
	if (rc == SB_ERR_NOT_FOUND)
		crm_not_found(req, crm_id);
	else if (rc == SB_ERR_CONFLICT)
		crm_error(
		    req, 409, "duplicate_email", "another user has this email");
	else
		sandbox_internal(req, "writing a CRM user");
}

/*
 * Inside the transaction: drops the keys past their life, then looks key
 * up.  SB_OK with k->replayed and out set when it made a user from the
 * same body; SB_ERR_INVALID when it came with another body; SB_OK with
 * nothing set when it is new (or there is no key).
 */
static enum sb_err
crm_key_find(struct sb_ctx *ctx, struct crm_key *k, char out[CRM_ID_MAX])
{
	sqlite3_stmt *st;
	enum sb_err rc;
	bool same = false;
	int step;

	if (k->key == NULL)
		return SB_OK;
	st = sb_db_stmt(ctx->db, crm_users_sql[CRM_USERS_SQL_KEY_PRUNE]);
	if (st != NULL)
		sqlite3_bind_int64(
		    st, 1, crm_now_ms() - CRM_IDEMPOTENCY_TTL_MS);
	if ((rc = sb_db_step_write(ctx->db, st, NULL)) != SB_OK)
		return rc;
	st = sb_db_stmt(ctx->db, crm_users_sql[CRM_USERS_SQL_KEY_GET]);
	if (st == NULL)
		return SB_ERR_DB;
	sqlite3_bind_text(st, 1, k->key, -1, SQLITE_STATIC);
	if ((step = sqlite3_step(st)) == SQLITE_ROW) {
		same = sodium_memcmp(sqlite3_column_text(st, 0), k->hash,
		           CRM_HASH_HEX - 1) == 0;
		snprintf(out, CRM_ID_MAX, "%s",
		    (const char *)sqlite3_column_text(st, 1));
	}
	sqlite3_reset(st);
	if (step == SQLITE_DONE)
		return SB_OK;
	if (step != SQLITE_ROW)
		return sb_db_rc(step);
	k->replayed = same;
	return same ? SB_OK : SB_ERR_INVALID;
}

/* Records key as having made user crm_id, inside the transaction. */
static enum sb_err
crm_key_put(struct sb_ctx *ctx, const struct crm_key *k, const char *crm_id)
{
	sqlite3_stmt *st;

	if (k->key == NULL)
		return SB_OK;
	if ((st = sb_db_stmt(ctx->db, crm_users_sql[CRM_USERS_SQL_KEY_PUT])) !=
	    NULL) {
		sqlite3_bind_text(st, 1, k->key, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, k->hash, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, crm_id, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 4, crm_now_ms());
	}
	return sb_db_step_write(ctx->db, st, NULL);
}

/*
 * Numbers and inserts the user in, in one transaction; its id in out.
 * A key already used with the same body inserts nothing: out is the user
 * it made and k->replayed is set.
 */
static enum sb_err
crm_user_insert(struct sb_ctx *ctx, const struct crm_user_input *in,
    struct crm_key *k, char out[CRM_ID_MAX])
{
	char now[CRM_ISO_MAX];
	sqlite3_stmt *st;
	enum sb_err rc;
	int step;

	crm_iso_ms(crm_now_ms(), now);
	if ((rc = sb_db_begin(ctx->db)) != SB_OK)
		return rc;
	if ((rc = crm_key_find(ctx, k, out)) != SB_OK || k->replayed)
		goto done;
	if ((rc = crm_email_free(ctx, in->values[CRM_FIELD_EMAIL], "")) !=
	        SB_OK ||
	    (st = sb_db_stmt(ctx->db, crm_users_sql[CRM_USERS_SQL_NUMBER])) ==
	        NULL) {
		rc = rc != SB_OK ? rc : SB_ERR_DB;
		goto out;
	}
	if ((step = sqlite3_step(st)) == SQLITE_ROW)
		snprintf(out, CRM_ID_MAX, "CRM%lld",
		    (long long)sqlite3_column_int64(st, 0));
	if (step != SQLITE_ROW || (step = sqlite3_step(st)) != SQLITE_DONE)
		rc = step == SQLITE_ROW ? SB_ERR_DB : sb_db_rc(step);
	sqlite3_reset(st);
	if (rc != SB_OK ||
	    (st = sb_db_stmt(ctx->db, crm_users_sql[CRM_USERS_SQL_INSERT])) ==
	        NULL) {
		rc = rc != SB_OK ? rc : SB_ERR_DB;
		goto out;
	}
	sqlite3_bind_text(st, 1, out, -1, SQLITE_STATIC);
	for (int f = 0; f < CRM_FIELD__MAX; f++)
		sqlite3_bind_text(st, 2 + f, in->values[f], -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, now, -1, SQLITE_STATIC);
	if ((rc = sb_db_step_write(ctx->db, st, NULL)) != SB_OK ||
	    (rc = crm_key_put(ctx, k, out)) != SB_OK)
		goto out;
done:
	if (rc == SB_OK)
		return sb_db_commit(ctx->db);
out:
	sb_db_rollback(ctx->db);
	return rc;
}

/*
 * Answers status with the user crm_id as it is now; after an answer_lost
 * switch the write stands but the answer is that switch's error.
 */
static void
crm_user_answer(
    struct sb_ctx *ctx, struct sb_request *req, int status, const char *id)
{
	const struct sandbox_state *state = ctx->user;
	cJSON *user = NULL;
	enum sb_err rc;

	if (state != NULL && state->answer_lost != 0) {
		crm_error(req, state->answer_lost, "injected",
		    "injected fault: the change was made, its answer lost");
		return;
	}
	if ((rc = crm_user_load(ctx, id, &user)) == SB_OK)
		sb_response_json(req, status, user);
	else if (rc == SB_ERR_NOT_FOUND)
		crm_not_found(req, id);
	else
		sandbox_internal(req, "reading a CRM user");
	cJSON_Delete(user);
}

/* True iff key is 1 to CRM_IDEMPOTENCY_KEY_MAX visible ASCII bytes. */
static bool
crm_key_valid(const char *key)
{
	size_t n = strlen(key);

	if (n == 0 || n > CRM_IDEMPOTENCY_KEY_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (key[i] <= ' ' || key[i] > '~')
			return false;
	return true;
}

/* Reads req's Idempotency-Key into k; false after answering 400. */
static bool
crm_key_read(struct sb_request *req, struct crm_key *k)
{
	unsigned char digest[crypto_hash_sha256_BYTES];

	memset(k, 0, sizeof(*k));
	if (req->fcgi != NULL)
		k->key = FCGX_GetParam("HTTP_IDEMPOTENCY_KEY", req->fcgi->envp);
	if (k->key == NULL)
		return true;
	if (!crm_key_valid(k->key)) {
		crm_error(req, 400, "invalid_request",
		    "Idempotency-Key must be 1 to 255 visible ASCII "
		    "characters");
		return false;
	}
	crypto_hash_sha256(digest,
	    (const unsigned char *)(req->body != NULL ? req->body : ""),
	    req->body_len);
	sodium_bin2hex(k->hash, sizeof(k->hash), digest, sizeof(digest));
	return true;
}

void
sandbox_crm_user_create(struct sb_ctx *ctx, struct sb_request *req)
{
	struct crm_user_input in;
	struct crm_key key;
	char crm_id[CRM_ID_MAX], *location;
	enum sb_err rc;

	if (!crm_enter(ctx, req) || !crm_key_read(req, &key) ||
	    !crm_user_read(req, true, NULL, &in))
		return;
	if ((rc = crm_user_insert(ctx, &in, &key, crm_id)) == SB_ERR_INVALID) {
		crm_error(req, 422, "idempotency_key_reused",
		    "this Idempotency-Key was used with another body");
		return;
	}
	if (rc != SB_OK) {
		crm_user_write_failed(req, rc, "");
		return;
	}
	location = sb_arena_printf(req->arena, "/crm/users/%s", crm_id);
	if (location != NULL)
		sb_response_header(req, "Location", location);
	if (key.replayed)
		sb_response_header(req, "Idempotent-Replayed", "true");
	crm_user_answer(ctx, req, 201, crm_id);
}

void
sandbox_crm_user_get(struct sb_ctx *ctx, struct sb_request *req)
{
	if (crm_enter(ctx, req))
		crm_user_answer(ctx, req, 200, sb_request_param(req, "crm_id"));
}

void
sandbox_crm_user_put(struct sb_ctx *ctx, struct sb_request *req)
{
	const char *crm_id = sb_request_param(req, "crm_id");
	struct crm_user_input in;
	char now[CRM_ISO_MAX];
	enum sb_err rc;

	if (!crm_enter(ctx, req) || !crm_user_read(req, true, NULL, &in))
		return;
	crm_iso_ms(crm_now_ms(), now);
	if ((rc = sb_db_begin(ctx->db)) == SB_OK &&
	    (rc = crm_user_update(ctx, crm_id, &in, now)) == SB_OK)
		rc = sb_db_commit(ctx->db);
	if (rc != SB_OK) {
		sb_db_rollback(ctx->db);
		crm_user_write_failed(req, rc, crm_id);
		return;
	}
	crm_user_answer(ctx, req, 200, crm_id);
}

/* Deletes user crm_id and the keys that made it, in one transaction. */
static enum sb_err
crm_user_remove(struct sb_ctx *ctx, const char *crm_id, int *changes)
{
	sqlite3_stmt *st;
	enum sb_err rc;

	if ((rc = sb_db_begin(ctx->db)) != SB_OK)
		return rc;
	st = sb_db_stmt(ctx->db, crm_users_sql[CRM_USERS_SQL_DELETE]);
	if (st != NULL)
		sqlite3_bind_text(st, 1, crm_id, -1, SQLITE_STATIC);
	if ((rc = sb_db_step_write(ctx->db, st, changes)) != SB_OK)
		goto out;
	st = sb_db_stmt(ctx->db, crm_users_sql[CRM_USERS_SQL_KEY_DROP]);
	if (st != NULL)
		sqlite3_bind_text(st, 1, crm_id, -1, SQLITE_STATIC);
	if ((rc = sb_db_step_write(ctx->db, st, NULL)) == SB_OK)
		return sb_db_commit(ctx->db);
out:
	sb_db_rollback(ctx->db);
	return rc;
}

void
sandbox_crm_user_delete(struct sb_ctx *ctx, struct sb_request *req)
{
	const char *crm_id = sb_request_param(req, "crm_id");
	int changes = 0;

	if (!crm_enter(ctx, req))
		return;
	if (crm_user_remove(ctx, crm_id, &changes) != SB_OK)
		sandbox_internal(req, "deleting a CRM user");
	else if (changes == 0)
		crm_not_found(req, crm_id);
	else
		sb_response_no_content(req);
}
