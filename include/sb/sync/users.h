/*
 * The users of the CRM sync and their store: the users API's rows, their
 * sync log, the webhook events already processed and the idempotency keys
 * of POST /users.  Every SQL statement of the sync is in lib/sync/store.c,
 * so that another database can be put behind this interface.
 *
 * A user's fields carry the time of their last local change (name_ms,
 * email_ms, phone_ms); pushed_ms says up to when local changes reached the
 * CRM and crm_ms when the CRM last changed the user, which together decide
 * conflicts (sb/sync/sync.h).  Writes run inside the caller's transaction
 * (sb_db_begin()) unless said otherwise.
 */
#ifndef SB_SYNC_USERS_H
#define SB_SYNC_USERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cJSON.h>

#include "sb/core/contact.h"
#include "sb/core/err.h"
#include "sb/store/db.h"

#define SB_USER_ID_MAX 37 /* a UUID's 36 characters and a NUL */
#define SB_USER_CRM_ID_MAX 64
#define SB_USER_ERROR_MAX 256
#define SB_USER_STATUS_MAX 8
#define SB_USERS_PAGE_DEFAULT 20
#define SB_USERS_PAGE_MAX 100
#define SB_USERS_LOG_MAX 200 /* log rows one GET .../sync-log answers */
#define SB_USERS_IDEMPOTENCY_KEY_MAX 255
/* How long a POST /users Idempotency-Key is replayed: 24 hours. */
#define SB_USERS_IDEMPOTENCY_TTL_S 86400

enum sb_user_field { SB_USER_NAME, SB_USER_EMAIL, SB_USER_PHONE, SB_USER__MAX };

/* "name", "email", "phone": the API's and the CRM's field names. */
extern const char *const sb_user_field_names[SB_USER__MAX];

struct sb_sync_user {
	char id[SB_USER_ID_MAX];
	char fields[SB_USER__MAX][SB_CONTACT_EMAIL_MAX + 1];
	int64_t field_ms[SB_USER__MAX]; /* last local change of each */
	char sync_status[SB_USER_STATUS_MAX]; /* pending, synced, failed */
	char crm_id[SB_USER_CRM_ID_MAX]; /* "" until the CRM gave one */
	char last_error[SB_USER_ERROR_MAX];
	bool deleted;
	int64_t job_id; /* 0: no sync job open */
	int64_t pushed_ms;
	int64_t crm_ms;
	int64_t reconciled_at;
	char created_at[SB_DB_ISO_MAX];
	char updated_at[SB_DB_ISO_MAX];
	int64_t updated_ms;
	/* The fields the CRM create is keyed with (its Idempotency-Key is
	 * the id): written with the user, "" once the CRM gave a crm_id, or
	 * for a user from before they were kept (the create sends fields). */
	char create_fields[SB_USER__MAX][SB_CONTACT_EMAIL_MAX + 1];
	/* a deleted user's delete that gave up: when sbctl sync opens it
	 * again (unix seconds); 0: never */
	int64_t retry_at;
};

/* Unix milliseconds now. */
int64_t sb_users_now_ms(void);

/* Writes ms as ISO 8601 UTC with milliseconds ("2024-05-01T12:00:00.123Z"). */
void sb_users_iso(int64_t ms, char out[SB_DB_ISO_MAX]);

/*
 * Parses ISO 8601 UTC "YYYY-MM-DDTHH:MM:SS[.fff...]Z" into unix
 * milliseconds; false if text is not that (or names no real instant).
 */
bool sb_users_parse_iso(const char *text, int64_t *ms);

/* A new UUID v7 (time-ordered, RFC 9562) into out, lowercase. */
void sb_users_new_id(char out[SB_USER_ID_MAX]);

/* True iff s is a lowercase UUID in its 8-4-4-4-12 form. */
bool sb_users_id_valid(const char *s);

/*
 * Inserts user (a new id, its fields, times and status set by the
 * caller).  SB_ERR_CONFLICT if its email is taken; else a store error.
 */
enum sb_err sb_users_insert(struct sb_db *db, const struct sb_sync_user *user);

/*
 * Loads user id into *user; a deleted one only if with_deleted.
 * SB_ERR_NOT_FOUND if there is none.
 */
enum sb_err sb_users_get(struct sb_db *db, const char *id, bool with_deleted,
    struct sb_sync_user *user);

/* As sb_users_get() by the CRM's id. */
enum sb_err sb_users_get_by_crm_id(struct sb_db *db, const char *crm_id,
    bool with_deleted, struct sb_sync_user *user);

/*
 * Writes every column of user back (by id).  SB_ERR_CONFLICT if its email
 * is taken by another user; SB_ERR_NOT_FOUND if the row is gone.
 */
enum sb_err sb_users_save(struct sb_db *db, const struct sb_sync_user *user);

/* Deletes the row of user id (its log stays). */
enum sb_err sb_users_remove(struct sb_db *db, const char *id);

/*
 * The users (not deleted) whose sync_status is status (NULL: any), id
 * after after (NULL: from the start), at most limit (1 to
 * SB_USERS_PAGE_MAX), in id order.  On SB_OK *out is an array of
 * *count users the caller frees with free(); otherwise *out is NULL.
 */
enum sb_err sb_users_list(struct sb_db *db, const char *status,
    const char *after, size_t limit, struct sb_sync_user **out, size_t *count);

/* The users sb_users_due() finds. */
enum sb_users_due_kind {
	/* synced, with a crm_id, last reconciled before at */
	SB_USERS_DUE_RECONCILE,
	/* deleted, with a delete that gave up due by at (retry_at), or
	 * whose sync job died without giving up */
	SB_USERS_DUE_DELETE,
};

/*
 * Ids of the users of kind, as their kind says for at (unix seconds),
 * longest waiting first, at most max, into ids (caller buffers); *count
 * gets how many.
 */
enum sb_err sb_users_due(struct sb_db *db, enum sb_users_due_kind kind,
    int64_t at, char (*ids)[SB_USER_ID_MAX], size_t max, size_t *count);

/*
 * Adds a sync log row for user_id: kind ("push", "webhook", "reconcile",
 * "conflict", "failed"), outcome and detail (a JSON object, may be NULL
 * for {}; never a secret).  Also writes it as one JSON log line.
 */
enum sb_err sb_users_log(struct sb_db *db, const char *user_id,
    const char *kind, const char *outcome, const cJSON *detail);

/*
 * The log rows of user_id, oldest first, at most SB_USERS_LOG_MAX, as a
 * JSON array of {"id", "kind", "outcome", "detail", "created_at"}.  On
 * SB_OK the caller frees *out with cJSON_Delete().
 */
enum sb_err sb_users_log_list(
    struct sb_db *db, const char *user_id, cJSON **out);

/*
 * The user id an Idempotency-Key was first used for, the hash of that
 * request's body and the first answer's body, if the key was used within
 * SB_USERS_IDEMPOTENCY_TTL_S (an older record counts as none): SB_OK
 * with all set (the caller frees *answer with free()), or
 * SB_ERR_NOT_FOUND.
 */
enum sb_err sb_users_idempotency_get(struct sb_db *db, const char *key,
    char user_id[SB_USER_ID_MAX], char hash[65], char **answer);

/* Records key as used for user_id with the body's hash and the answer
 * (replacing an expired record of the key). */
enum sb_err sb_users_idempotency_put(struct sb_db *db, const char *key,
    const char *hash, const char *user_id, const char *answer);

/*
 * Deletes the Idempotency-Key records older than SB_USERS_IDEMPOTENCY_TTL_S
 * at now_ms (unix milliseconds), in a transaction of its own; how many in
 * *pruned (may be NULL).  `sbctl tick` and `sbctl sync` call it.
 */
enum sb_err sb_users_idempotency_prune(
    struct sb_db *db, int64_t now_ms, int64_t *pruned);

/*
 * Records webhook event_id as processed with result, unless it already
 * was: *first is true iff this call recorded it (the primary key decides,
 * also between processes).
 */
enum sb_err sb_users_event_record(struct sb_db *db, const char *event_id,
    const char *crm_id, const char *result, bool *first);

/* The public view of user: the users API's object. */
cJSON *sb_users_describe(const struct sb_sync_user *user);

#endif
