/*
 * The store of the CRM sync (see include/sb/sync/users.h): every SQL
 * statement of lib/sync is in the table below.  A user row is read and
 * written whole, through one column list, so that a field added to it is
 * added in one place.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "sb/core/log.h"
#include "sb/sync/users.h"

#define USERS_COMPONENT "sync"
#define USERS_MS 1000

const char *const sb_user_field_names[SB_USER__MAX] = {
	[SB_USER_NAME] = "name",
	[SB_USER_EMAIL] = "email",
	[SB_USER_PHONE] = "phone",
};

enum users_sql {
	USERS_SQL_INSERT,
	USERS_SQL_GET,
	USERS_SQL_GET_BY_CRM,
	USERS_SQL_SAVE,
	USERS_SQL_EMAIL_TAKEN,
	USERS_SQL_REMOVE,
	USERS_SQL_LIST,
	USERS_SQL_RECONCILE_DUE,
	USERS_SQL_DELETE_DUE,
	USERS_SQL_LOG_INSERT,
	USERS_SQL_LOG_LIST,
	USERS_SQL_IDEM_GET,
	USERS_SQL_IDEM_PUT,
	USERS_SQL_IDEM_PRUNE,
	USERS_SQL_EVENT_INSERT,
	USERS_SQL__MAX
};

#define USERS_COLUMNS \
	"id, name, email, phone, sync_status, crm_id, last_error, deleted," \
	" job_id, name_ms, email_ms, phone_ms, pushed_ms, crm_ms," \
	" reconciled_at, created_at, updated_at, updated_ms, create_name," \
	" create_email, create_phone, retry_at"
#define USERS_SELECT "SELECT " USERS_COLUMNS " FROM sync_users"

static const char *const users_sql[USERS_SQL__MAX] = {
	[USERS_SQL_INSERT] = "INSERT INTO sync_users (" USERS_COLUMNS ")"
	                     " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9,"
	                     " ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18,"
	                     " ?19, ?20, ?21, ?22)",
	[USERS_SQL_GET] = USERS_SELECT " WHERE id = ?1 AND (deleted = 0 OR ?2)",
	[USERS_SQL_GET_BY_CRM] =
	    USERS_SELECT " WHERE crm_id = ?1 AND (deleted = 0 OR ?2)",
	[USERS_SQL_SAVE] =
	    "UPDATE sync_users SET name = ?2, email = ?3, phone = ?4,"
	    " sync_status = ?5, crm_id = ?6, last_error = ?7, deleted = ?8,"
	    " job_id = ?9, name_ms = ?10, email_ms = ?11, phone_ms = ?12,"
	    " pushed_ms = ?13, crm_ms = ?14, reconciled_at = ?15,"
	    " created_at = ?16, updated_at = ?17, updated_ms = ?18,"
	    " create_name = ?19, create_email = ?20, create_phone = ?21,"
	    " retry_at = ?22 WHERE id = ?1",
	[USERS_SQL_EMAIL_TAKEN] =
	    "SELECT 1 FROM sync_users WHERE email = ?1 COLLATE NOCASE"
	    " AND deleted = 0 AND id <> ?2",
	[USERS_SQL_REMOVE] = "DELETE FROM sync_users WHERE id = ?1",
	[USERS_SQL_LIST] = USERS_SELECT
	" WHERE deleted = 0 AND (?1 IS NULL OR sync_status = ?1)"
	" AND (?2 IS NULL OR id > ?2) ORDER BY id LIMIT ?3",
	[USERS_SQL_RECONCILE_DUE] =
	    "SELECT id FROM sync_users WHERE sync_status = 'synced'"
	    " AND deleted = 0 AND crm_id IS NOT NULL AND reconciled_at < ?1"
	    " ORDER BY reconciled_at, id LIMIT ?2",
	/* by the partial index sync_users_deleted: deleted users only */
	[USERS_SQL_DELETE_DUE] =
	    "SELECT id FROM sync_users WHERE deleted = 1"
	    " AND ((job_id IS NULL AND retry_at <= ?1)"
	    " OR job_id IN (SELECT id FROM jobs WHERE state = 'dead'))"
	    " ORDER BY retry_at, id LIMIT ?2",
	[USERS_SQL_LOG_INSERT] =
	    "INSERT INTO sync_log (user_id, kind, outcome,"
	    " detail, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
	[USERS_SQL_LOG_LIST] =
	    "SELECT id, kind, outcome, detail, created_at FROM sync_log"
	    " WHERE user_id = ?1 ORDER BY id LIMIT ?2",
	[USERS_SQL_IDEM_GET] =
	    "SELECT user_id, body_hash, answer FROM sync_idempotency"
	    " WHERE key = ?1 AND created_at >= ?2",
	/* Replaces only an expired record: the caller found no live one in
	 * the same transaction. */
	[USERS_SQL_IDEM_PUT] = "INSERT OR REPLACE INTO sync_idempotency (key,"
	                       " body_hash, user_id, created_at, answer)"
	                       " VALUES (?1, ?2, ?3, ?4, ?5)",
	[USERS_SQL_IDEM_PRUNE] =
	    "DELETE FROM sync_idempotency WHERE created_at < ?1",
	[USERS_SQL_EVENT_INSERT] =
	    "INSERT OR IGNORE INTO sync_webhook_events (event_id, crm_id,"
	    " result, received_at) VALUES (?1, ?2, ?3, ?4)",
};

int64_t
sb_users_now_ms(void)
{
	return sb_db_now_ms();
}

void
sb_users_iso(int64_t ms, char out[SB_DB_ISO_MAX])
{
	sb_db_iso_ms(ms, out, SB_DB_ISO_MAX);
}

/* Reads n digits at *p into *v, moving *p; false if one is not a digit. */
static bool
users_digits(const char **p, int n, int *v)
{
	*v = 0;
	for (int i = 0; i < n; i++, (*p)++) {
		if (**p < '0' || **p > '9')
			return false;
		*v = *v * 10 + (**p - '0');
	}
	return true;
}

/* Reads the optional ".fff..." (milliseconds kept) and the final "Z". */
static bool
users_fraction(const char *p, int *ms)
{
	int scale = 100;

	*ms = 0;
	if (*p == '.') {
		if (*++p < '0' || *p > '9')
			return false;
		for (; *p >= '0' && *p <= '9'; p++, scale /= 10)
			*ms += scale * (*p - '0');
	}
	return p[0] == 'Z' && p[1] == '\0';
}

bool
sb_users_parse_iso(const char *text, int64_t *ms)
{
	int year, mon, day, hour, min, sec, frac;
	const char *p = text;
	struct tm tm = { 0 };
	time_t t;

	if (text == NULL || !users_digits(&p, 4, &year) || *p++ != '-' ||
	    !users_digits(&p, 2, &mon) || *p++ != '-' ||
	    !users_digits(&p, 2, &day) || *p++ != 'T' ||
	    !users_digits(&p, 2, &hour) || *p++ != ':' ||
	    !users_digits(&p, 2, &min) || *p++ != ':' ||
	    !users_digits(&p, 2, &sec) || !users_fraction(p, &frac))
		return false;
	tm.tm_year = year - 1900;
	tm.tm_mon = mon - 1;
	tm.tm_mday = day;
	tm.tm_hour = hour;
	tm.tm_min = min;
	tm.tm_sec = sec;
	if (year < 1970 || mon < 1 || mon > 12 || day < 1 || hour > 23 ||
	    min > 59 || sec > 59 || (t = timegm(&tm)) == (time_t)-1)
		return false;
	gmtime_r(&t, &tm);
	if (tm.tm_mday != day) /* 31 February and the like */
		return false;
	*ms = (int64_t)t * USERS_MS + frac;
	return true;
}

void
sb_users_new_id(char out[SB_USER_ID_MAX])
{
	unsigned char b[16];
	uint64_t ms = (uint64_t)sb_users_now_ms();
	char hex[33];

	randombytes_buf(b, sizeof(b));
	for (int i = 5; i >= 0; i--, ms >>= 8)
		b[i] = (unsigned char)(ms & 0xff);
	b[6] = (unsigned char)(0x70 | (b[6] & 0x0f)); /* version 7 */
	b[8] = (unsigned char)(0x80 | (b[8] & 0x3f)); /* variant 10 */
	sodium_bin2hex(hex, sizeof(hex), b, sizeof(b));
	snprintf(out, SB_USER_ID_MAX, "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8,
	    hex + 12, hex + 16, hex + 20);
}

bool
sb_users_id_valid(const char *s)
{
	if (s == NULL || strlen(s) != SB_USER_ID_MAX - 1)
		return false;
	for (int i = 0; i < SB_USER_ID_MAX - 1; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;

		if (dash ? s[i] != '-'
		         : !((s[i] >= '0' && s[i] <= '9') ||
		               (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	}
	return true;
}

static int
users_text(sqlite3_stmt *st, int index, const char *text)
{
	return sqlite3_bind_text(st, index, text, -1, SQLITE_STATIC);
}

/* Binds text, or NULL when it is empty. */
static int
users_text_or_null(sqlite3_stmt *st, int index, const char *text)
{
	return text[0] != '\0' ? users_text(st, index, text)
	                       : sqlite3_bind_null(st, index);
}

/* Binds the 22 columns of user in USERS_COLUMNS order. */
static int
users_bind(sqlite3_stmt *st, const struct sb_sync_user *u)
{
	int rc = SQLITE_OK;

	for (int f = 0; f < SB_USER__MAX; f++)
		rc |= users_text_or_null(st, 19 + f, u->create_fields[f]);
	rc |= u->retry_at > 0 ? sqlite3_bind_int64(st, 22, u->retry_at)
	                      : sqlite3_bind_null(st, 22);
	return rc | users_text(st, 1, u->id) |
	    users_text(st, 2, u->fields[SB_USER_NAME]) |
	    users_text(st, 3, u->fields[SB_USER_EMAIL]) |
	    users_text(st, 4, u->fields[SB_USER_PHONE]) |
	    users_text(st, 5, u->sync_status) |
	    users_text_or_null(st, 6, u->crm_id) |
	    users_text_or_null(st, 7, u->last_error) |
	    sqlite3_bind_int(st, 8, u->deleted ? 1 : 0) |
	    (u->job_id > 0 ? sqlite3_bind_int64(st, 9, u->job_id)
	                   : sqlite3_bind_null(st, 9)) |
	    sqlite3_bind_int64(st, 10, u->field_ms[SB_USER_NAME]) |
	    sqlite3_bind_int64(st, 11, u->field_ms[SB_USER_EMAIL]) |
	    sqlite3_bind_int64(st, 12, u->field_ms[SB_USER_PHONE]) |
	    sqlite3_bind_int64(st, 13, u->pushed_ms) |
	    sqlite3_bind_int64(st, 14, u->crm_ms) |
	    sqlite3_bind_int64(st, 15, u->reconciled_at) |
	    users_text(st, 16, u->created_at) |
	    users_text(st, 17, u->updated_at) |
	    sqlite3_bind_int64(st, 18, u->updated_ms);
}

/* Copies column col (NULL: "") into buf, truncated to size. */
static void
users_column(sqlite3_stmt *st, int col, char *buf, size_t size)
{
	const unsigned char *text = sqlite3_column_text(st, col);

	snprintf(buf, size, "%s", text != NULL ? (const char *)text : "");
}

/* Reads a row of USERS_COLUMNS into *u. */
static void
users_read(sqlite3_stmt *st, struct sb_sync_user *u)
{
	memset(u, 0, sizeof(*u));
	users_column(st, 0, u->id, sizeof(u->id));
	for (int f = 0; f < SB_USER__MAX; f++) {
		users_column(st, 1 + f, u->fields[f], sizeof(u->fields[f]));
		u->field_ms[f] = sqlite3_column_int64(st, 9 + f);
	}
	users_column(st, 4, u->sync_status, sizeof(u->sync_status));
	users_column(st, 5, u->crm_id, sizeof(u->crm_id));
	users_column(st, 6, u->last_error, sizeof(u->last_error));
	u->deleted = sqlite3_column_int(st, 7) != 0;
	u->job_id = sqlite3_column_int64(st, 8);
	u->pushed_ms = sqlite3_column_int64(st, 12);
	u->crm_ms = sqlite3_column_int64(st, 13);
	u->reconciled_at = sqlite3_column_int64(st, 14);
	users_column(st, 15, u->created_at, sizeof(u->created_at));
	users_column(st, 16, u->updated_at, sizeof(u->updated_at));
	u->updated_ms = sqlite3_column_int64(st, 17);
	for (int f = 0; f < SB_USER__MAX; f++)
		users_column(st, 18 + f, u->create_fields[f],
		    sizeof(u->create_fields[f]));
	u->retry_at = sqlite3_column_int64(st, 21);
}

/* Steps a one-user query: SB_OK with *u, SB_ERR_NOT_FOUND, or an error. */
static enum sb_err
users_step_one(sqlite3_stmt *st, struct sb_sync_user *u)
{
	int step = sqlite3_step(st);
	enum sb_err rc = SB_ERR_NOT_FOUND;

	if (step == SQLITE_ROW) {
		users_read(st, u);
		rc = SB_OK;
	} else if (step != SQLITE_DONE) {
		rc = sb_db_rc(step);
	}
	sqlite3_reset(st);
	return rc;
}

/* SB_ERR_CONFLICT if another user (not id) has email. */
static enum sb_err
users_email_free(struct sb_db *db, const char *email, const char *id)
{
	sqlite3_stmt *st = sb_db_stmt(db, users_sql[USERS_SQL_EMAIL_TAKEN]);
	int step;

	if (st == NULL ||
	    (users_text(st, 1, email) | users_text(st, 2, id)) != SQLITE_OK)
		return SB_ERR_DB;
	step = sqlite3_step(st);
	sqlite3_reset(st);
	if (step == SQLITE_ROW)
		return SB_ERR_CONFLICT;
	return step == SQLITE_DONE ? SB_OK : sb_db_rc(step);
}

/* Runs INSERT or SAVE of u after the email check. */
static enum sb_err
users_write(struct sb_db *db, enum users_sql sql, const struct sb_sync_user *u)
{
	sqlite3_stmt *st;
	enum sb_err rc;
	int changes = 0;

	if (!u->deleted &&
	    (rc = users_email_free(db, u->fields[SB_USER_EMAIL], u->id)) !=
	        SB_OK)
		return rc;
	if ((st = sb_db_stmt(db, users_sql[sql])) == NULL ||
	    users_bind(st, u) != SQLITE_OK)
		return SB_ERR_DB;
	if ((rc = sb_db_step_write(db, st, &changes)) != SB_OK)
		return rc;
	return changes == 1 ? SB_OK : SB_ERR_NOT_FOUND;
}

enum sb_err
sb_users_insert(struct sb_db *db, const struct sb_sync_user *user)
{
	return users_write(db, USERS_SQL_INSERT, user);
}

enum sb_err
sb_users_save(struct sb_db *db, const struct sb_sync_user *user)
{
	return users_write(db, USERS_SQL_SAVE, user);
}

enum sb_err
sb_users_get(struct sb_db *db, const char *id, bool with_deleted,
    struct sb_sync_user *user)
{
	sqlite3_stmt *st = sb_db_stmt(db, users_sql[USERS_SQL_GET]);

	if (st == NULL ||
	    (users_text(st, 1, id) | sqlite3_bind_int(st, 2, with_deleted)) !=
	        SQLITE_OK)
		return SB_ERR_DB;
	return users_step_one(st, user);
}

enum sb_err
sb_users_get_by_crm_id(struct sb_db *db, const char *crm_id, bool with_deleted,
    struct sb_sync_user *user)
{
	sqlite3_stmt *st = sb_db_stmt(db, users_sql[USERS_SQL_GET_BY_CRM]);

	if (st == NULL || users_text(st, 1, crm_id) != SQLITE_OK ||
	    sqlite3_bind_int(st, 2, with_deleted) != SQLITE_OK)
		return SB_ERR_DB;
	return users_step_one(st, user);
}

enum sb_err
sb_users_remove(struct sb_db *db, const char *id)
{
	sqlite3_stmt *st = sb_db_stmt(db, users_sql[USERS_SQL_REMOVE]);

	if (st == NULL || users_text(st, 1, id) != SQLITE_OK)
		return SB_ERR_DB;
	return sb_db_step_write(db, st, NULL);
}

enum sb_err
sb_users_list(struct sb_db *db, const char *status, const char *after,
    size_t limit, struct sb_sync_user **out, size_t *count)
{
	sqlite3_stmt *st = sb_db_stmt(db, users_sql[USERS_SQL_LIST]);
	struct sb_sync_user *users;
	enum sb_err rc = SB_OK;
	size_t n = 0;
	int step;

	*out = NULL;
	*count = 0;
	if (limit < 1 || limit > SB_USERS_PAGE_MAX)
		return SB_ERR_INVALID;
	if ((users = calloc(limit, sizeof(*users))) == NULL)
		return SB_ERR_NOMEM;
	if (st == NULL ||
	    ((status != NULL ? users_text(st, 1, status)
	                     : sqlite3_bind_null(st, 1)) |
	        (after != NULL ? users_text(st, 2, after)
	                       : sqlite3_bind_null(st, 2)) |
	        sqlite3_bind_int64(st, 3, (int64_t)limit)) != SQLITE_OK) {
		free(users);
		return SB_ERR_DB;
	}
	while (n < limit && (step = sqlite3_step(st)) == SQLITE_ROW)
		users_read(st, &users[n++]);
	if (n < limit && step != SQLITE_DONE)
		rc = sb_db_rc(step);
	sqlite3_reset(st);
	if (rc != SB_OK) {
		free(users);
		return rc;
	}
	*out = users;
	*count = n;
	return SB_OK;
}

enum sb_err
sb_users_due(struct sb_db *db, enum sb_users_due_kind kind, int64_t at,
    char (*ids)[SB_USER_ID_MAX], size_t max, size_t *count)
{
	sqlite3_stmt *st = sb_db_stmt(db,
	    users_sql[kind == SB_USERS_DUE_DELETE ? USERS_SQL_DELETE_DUE
	                                          : USERS_SQL_RECONCILE_DUE]);
	int step = SQLITE_DONE;

	*count = 0;
	if (st == NULL ||
	    (sqlite3_bind_int64(st, 1, at) |
	        sqlite3_bind_int64(st, 2, (int64_t)max)) != SQLITE_OK)
		return SB_ERR_DB;
	while (*count < max && (step = sqlite3_step(st)) == SQLITE_ROW)
		users_column(st, 0, ids[(*count)++], SB_USER_ID_MAX);
	sqlite3_reset(st);
	return step == SQLITE_ROW || step == SQLITE_DONE ? SB_OK
	                                                 : sb_db_rc(step);
}

enum sb_err
sb_users_log(struct sb_db *db, const char *user_id, const char *kind,
    const char *outcome, const cJSON *detail)
{
	sqlite3_stmt *st = sb_db_stmt(db, users_sql[USERS_SQL_LOG_INSERT]);
	char now[SB_DB_ISO_MAX];
	char *text = detail != NULL ? cJSON_PrintUnformatted(detail) : NULL;
	enum sb_err rc = SB_ERR_DB;

	sb_db_now_iso(now, sizeof(now));
	if (st != NULL &&
	    (users_text(st, 1, user_id) | users_text(st, 2, kind) |
	        users_text(st, 3, outcome) |
	        users_text(st, 4, text != NULL ? text : "{}") |
	        users_text(st, 5, now)) == SQLITE_OK)
		rc = sb_db_step_write(db, st, NULL);
	sb_log(SB_LOG_INFO, USERS_COMPONENT, NULL,
	    "{\"user_id\":\"%s\",\"kind\":\"%s\",\"outcome\":\"%s\","
	    "\"detail\":%s}",
	    user_id, kind, outcome, text != NULL ? text : "{}");
	cJSON_free(text);
	return rc;
}

/* One log row as {"id", "kind", "outcome", "detail", "created_at"}. */
static cJSON *
users_log_row(sqlite3_stmt *st)
{
	const char *detail = (const char *)sqlite3_column_text(st, 3);
	cJSON *o = cJSON_CreateObject();

	if (o == NULL)
		return NULL;
	cJSON_AddNumberToObject(o, "id", (double)sqlite3_column_int64(st, 0));
	cJSON_AddStringToObject(
	    o, "kind", (const char *)sqlite3_column_text(st, 1));
	cJSON_AddStringToObject(
	    o, "outcome", (const char *)sqlite3_column_text(st, 2));
	cJSON_AddItemToObject(o, "detail",
	    detail != NULL ? cJSON_Parse(detail) : cJSON_CreateObject());
	cJSON_AddStringToObject(
	    o, "created_at", (const char *)sqlite3_column_text(st, 4));
	return o;
}

enum sb_err
sb_users_log_list(struct sb_db *db, const char *user_id, cJSON **out)
{
	sqlite3_stmt *st = sb_db_stmt(db, users_sql[USERS_SQL_LOG_LIST]);
	cJSON *rows = cJSON_CreateArray(), *row;
	int step = SQLITE_DONE;

	*out = NULL;
	if (rows == NULL)
		return SB_ERR_NOMEM;
	if (st == NULL ||
	    (users_text(st, 1, user_id) |
	        sqlite3_bind_int(st, 2, SB_USERS_LOG_MAX)) != SQLITE_OK) {
		cJSON_Delete(rows);
		return SB_ERR_DB;
	}
	while ((step = sqlite3_step(st)) == SQLITE_ROW)
		if ((row = users_log_row(st)) != NULL)
			cJSON_AddItemToArray(rows, row);
	sqlite3_reset(st);
	if (step != SQLITE_DONE) {
		cJSON_Delete(rows);
		return sb_db_rc(step);
	}
	*out = rows;
	return SB_OK;
}

/* The oldest created_at of a live Idempotency-Key at now_ms. */
static void
users_idempotency_cutoff(int64_t now_ms, char out[SB_DB_ISO_MAX])
{
	sb_users_iso(now_ms - SB_USERS_IDEMPOTENCY_TTL_S * USERS_MS, out);
}

enum sb_err
sb_users_idempotency_get(struct sb_db *db, const char *key,
    char user_id[SB_USER_ID_MAX], char hash[65], char **answer)
{
	sqlite3_stmt *st = sb_db_stmt(db, users_sql[USERS_SQL_IDEM_GET]);
	char cutoff[SB_DB_ISO_MAX];
	enum sb_err rc = SB_ERR_NOT_FOUND;
	int step;

	users_idempotency_cutoff(sb_users_now_ms(), cutoff);
	if (st == NULL ||
	    (users_text(st, 1, key) | users_text(st, 2, cutoff)) != SQLITE_OK)
		return SB_ERR_DB;
	step = sqlite3_step(st);
	if (step == SQLITE_ROW) {
		users_column(st, 0, user_id, SB_USER_ID_MAX);
		users_column(st, 1, hash, 65);
		*answer = strdup((const char *)sqlite3_column_text(st, 2));
		rc = *answer != NULL ? SB_OK : SB_ERR_NOMEM;
	} else if (step != SQLITE_DONE) {
		rc = sb_db_rc(step);
	}
	sqlite3_reset(st);
	return rc;
}

enum sb_err
sb_users_idempotency_put(struct sb_db *db, const char *key, const char *hash,
    const char *user_id, const char *answer)
{
	sqlite3_stmt *st = sb_db_stmt(db, users_sql[USERS_SQL_IDEM_PUT]);
	char now[SB_DB_ISO_MAX];

	sb_db_now_iso(now, sizeof(now));
	if (st == NULL ||
	    (users_text(st, 1, key) | users_text(st, 2, hash) |
	        users_text(st, 3, user_id) | users_text(st, 4, now) |
	        users_text(st, 5, answer)) != SQLITE_OK)
		return SB_ERR_DB;
	return sb_db_step_write(db, st, NULL);
}

enum sb_err
sb_users_idempotency_prune(struct sb_db *db, int64_t now_ms, int64_t *pruned)
{
	sqlite3_stmt *st = sb_db_stmt(db, users_sql[USERS_SQL_IDEM_PRUNE]);
	char cutoff[SB_DB_ISO_MAX];
	enum sb_err rc;
	int changes = 0;

	users_idempotency_cutoff(now_ms, cutoff);
	if (st == NULL || users_text(st, 1, cutoff) != SQLITE_OK)
		return SB_ERR_DB;
	rc = sb_db_write(db, st, &changes);
	if (pruned != NULL)
		*pruned = rc == SB_OK ? changes : 0;
	return rc;
}

enum sb_err
sb_users_event_record(struct sb_db *db, const char *event_id,
    const char *crm_id, const char *result, bool *first)
{
	sqlite3_stmt *st = sb_db_stmt(db, users_sql[USERS_SQL_EVENT_INSERT]);
	char now[SB_DB_ISO_MAX];
	enum sb_err rc;
	int changes = 0;

	*first = false;
	sb_db_now_iso(now, sizeof(now));
	if (st == NULL ||
	    (users_text(st, 1, event_id) | users_text(st, 2, crm_id) |
	        users_text(st, 3, result) | users_text(st, 4, now)) !=
	        SQLITE_OK)
		return SB_ERR_DB;
	rc = sb_db_step_write(db, st, &changes);
	*first = rc == SB_OK && changes == 1;
	return rc;
}

/* Adds name: text, or null when text is empty. */
static void
users_add_or_null(cJSON *o, const char *name, const char *text)
{
	if (text[0] != '\0')
		cJSON_AddStringToObject(o, name, text);
	else
		cJSON_AddNullToObject(o, name);
}

cJSON *
sb_users_describe(const struct sb_sync_user *u)
{
	cJSON *o = cJSON_CreateObject();

	if (o == NULL)
		return NULL;
	cJSON_AddStringToObject(o, "id", u->id);
	for (int f = 0; f < SB_USER__MAX; f++)
		cJSON_AddStringToObject(
		    o, sb_user_field_names[f], u->fields[f]);
	cJSON_AddStringToObject(o, "sync_status", u->sync_status);
	users_add_or_null(o, "crm_id", u->crm_id);
	users_add_or_null(o, "last_error", u->last_error);
	cJSON_AddStringToObject(o, "created_at", u->created_at);
	cJSON_AddStringToObject(o, "updated_at", u->updated_at);
	return o;
}
