/*
 * The events store of the aggregation service (see
 * include/sb/hosting/events.h): events stored once per id, and listed.
 * Every SQL statement of the module is in the table below; listing picks
 * the statement whose index fits the filters given (project, else name,
 * else none).  The producing side is lib/hosting/outbox.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "sb/runtime/context.h"
#include "sb/hosting/events.h"
#include "sb/core/log.h"
#include "sb/core/request.h"

#define EVENTS_COMPONENT "events"

enum events_sql {
	EVENTS_SQL_INSERT,
	EVENTS_SQL_GET,
	EVENTS_SQL_LIST_PROJECT,
	EVENTS_SQL_LIST_NAME,
	EVENTS_SQL_LIST_ALL,
	EVENTS_SQL_COUNT_PROJECT,
	EVENTS_SQL_COUNT_NAME,
	EVENTS_SQL_COUNT_ALL,
	EVENTS_SQL__MAX
};

/*
 * The filters: ?1 name, ?2 project id, ?3 since, each NULL for "any".  The
 * project and name variants state their column's equality outright so the
 * planner takes events_project or events_name, which also give the order.
 */
#define EVENTS_FILTER \
	" (?1 IS NULL OR name = ?1) AND (?2 IS NULL OR project_id = ?2)" \
	" AND (?3 IS NULL OR created_at >= ?3)"
#define EVENTS_BY_PROJECT " WHERE project_id = ?2 AND" EVENTS_FILTER
#define EVENTS_BY_NAME " WHERE name = ?1 AND" EVENTS_FILTER
#define EVENTS_BY_ANY " WHERE" EVENTS_FILTER
#define EVENTS_COLUMNS "SELECT seq, id, name, payload, created_at FROM events"
#define EVENTS_COUNT "SELECT count(*) FROM events"
#define EVENTS_PAGE " ORDER BY seq DESC LIMIT ?4 OFFSET ?5"

static const char *const events_sql[EVENTS_SQL__MAX] = {
	[EVENTS_SQL_INSERT] = "INSERT OR IGNORE INTO events (id, name,"
	                      " project_id, payload, created_at)"
	                      " VALUES (?1, ?2, ?3, ?4, ?5)",
	[EVENTS_SQL_GET] = EVENTS_COLUMNS " WHERE id = ?1",
	[EVENTS_SQL_LIST_PROJECT] =
	    EVENTS_COLUMNS EVENTS_BY_PROJECT EVENTS_PAGE,
	[EVENTS_SQL_LIST_NAME] = EVENTS_COLUMNS EVENTS_BY_NAME EVENTS_PAGE,
	[EVENTS_SQL_LIST_ALL] = EVENTS_COLUMNS EVENTS_BY_ANY EVENTS_PAGE,
	[EVENTS_SQL_COUNT_PROJECT] = EVENTS_COUNT EVENTS_BY_PROJECT,
	[EVENTS_SQL_COUNT_NAME] = EVENTS_COUNT EVENTS_BY_NAME,
	[EVENTS_SQL_COUNT_ALL] = EVENTS_COUNT EVENTS_BY_ANY,
};

/* The stored event in the API's shape from a row of EVENTS_COLUMNS. */
static cJSON *
events_row_json(sqlite3_stmt *stmt)
{
	const char *payload = (const char *)sqlite3_column_text(stmt, 3);
	cJSON *o, *p;

	if ((o = cJSON_CreateObject()) == NULL)
		return NULL;
	/* The payload as it was received: cJSON would round big integers. */
	p = cJSON_CreateRaw(payload != NULL ? payload : "null");
	if (p == NULL ||
	    !cJSON_AddStringToObject(
	        o, "id", (const char *)sqlite3_column_text(stmt, 1)) ||
	    !cJSON_AddNumberToObject(
	        o, "seq", (double)sqlite3_column_int64(stmt, 0)) ||
	    !cJSON_AddStringToObject(
	        o, "name", (const char *)sqlite3_column_text(stmt, 2))) {
		cJSON_Delete(p);
		cJSON_Delete(o);
		return NULL;
	}
	cJSON_AddItemToObject(o, "payload", p);
	if (!cJSON_AddStringToObject(
	        o, "createdAt", (const char *)sqlite3_column_text(stmt, 4))) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

/* The payload's "projectId" if it is a whole number >= 1, else 0. */
static int64_t
events_project_id(const cJSON *payload)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(payload, "projectId");

	if (!cJSON_IsNumber(v) || v->valuedouble < 1 ||
	    v->valuedouble >= 9007199254740992.0 ||
	    v->valuedouble != (double)(int64_t)v->valuedouble)
		return 0;
	return (int64_t)v->valuedouble;
}

/*
 * An event's payload as it is stored: its JSON text (malloc'ed: the text
 * as received, or printed) and its project id.  Both are made before the
 * transaction, so that the write lock is held for the inserts alone.
 */
struct events_row {
	char *text;
	int64_t project_id;
};

/* Fills row from item; SB_ERR_NOMEM if the text cannot be made. */
static enum sb_err
events_row_make(const struct sb_events_item *item, struct events_row *row)
{
	row->project_id = events_project_id(item->payload);
	if (item->payload_text == NULL) {
		row->text = cJSON_PrintUnformatted(item->payload);
	} else if ((row->text = cJSON_malloc(item->payload_len + 1)) != NULL) {
		memcpy(row->text, item->payload_text, item->payload_len);
		row->text[item->payload_len] = '\0';
	}
	return row->text != NULL ? SB_OK : SB_ERR_NOMEM;
}

/* Inserts the event unless its id exists; *created tells which. */
static enum sb_err
events_insert(struct sb_db *db, const char *id, const char *name,
    const struct events_row *row, bool *created)
{
	char now[SB_EVENTS_TIME_MAX];
	sqlite3_stmt *stmt;
	int bound, step = SQLITE_ERROR;

	sb_db_now_iso(now, sizeof(now));
	if ((stmt = sb_db_stmt(db, events_sql[EVENTS_SQL_INSERT])) == NULL)
		goto out;
	bound = sqlite3_bind_text(stmt, 1, id, -1, SQLITE_STATIC) |
	    sqlite3_bind_text(stmt, 2, name, -1, SQLITE_STATIC) |
	    sqlite3_bind_text(stmt, 4, row->text, -1, SQLITE_STATIC) |
	    sqlite3_bind_text(stmt, 5, now, -1, SQLITE_STATIC);
	if (row->project_id > 0)
		bound |= sqlite3_bind_int64(stmt, 3, row->project_id);
	if (bound != SQLITE_OK)
		goto out;
	step = sqlite3_step(stmt);
	*created =
	    step == SQLITE_DONE && sqlite3_changes(sb_db_handle(db)) == 1;
	sqlite3_reset(stmt);
out:
	if (step != SQLITE_DONE)
		sb_log(SB_LOG_ERROR, EVENTS_COMPONENT, NULL, "insert: %s",
		    sb_db_errmsg(db));
	return step == SQLITE_DONE ? SB_OK : sb_db_rc(step);
}

/* True if item has a usable id, a name and a payload. */
static bool
events_item_valid(const struct sb_events_item *item)
{
	return item != NULL && sb_events_id_valid(item->id) &&
	    item->name != NULL && item->name[0] != '\0' &&
	    item->payload != NULL;
}

/*
 * Stores the event unless its id exists, in one transaction; on SB_OK *out
 * (caller frees with cJSON_Delete) is the stored event.
 */
enum sb_err
sb_events_store(struct sb_db *db, const struct sb_events_item *item,
    bool *created, cJSON **out)
{
	struct events_row row = { NULL, 0 };
	sqlite3_stmt *stmt = NULL;
	enum sb_err rc;

	*out = NULL;
	if (!events_item_valid(item))
		return SB_ERR_INVALID;
	if ((rc = events_row_make(item, &row)) != SB_OK)
		return rc;
	if ((rc = sb_db_begin(db)) != SB_OK)
		goto out;
	if ((rc = events_insert(db, item->id, item->name, &row, created)) !=
	    SB_OK)
		goto out;
	rc = SB_ERR_DB;
	if ((stmt = sb_db_stmt(db, events_sql[EVENTS_SQL_GET])) == NULL ||
	    sqlite3_bind_text(stmt, 1, item->id, -1, SQLITE_STATIC) !=
	        SQLITE_OK ||
	    sqlite3_step(stmt) != SQLITE_ROW)
		goto out;
	rc = SB_ERR_NOMEM;
	if ((*out = events_row_json(stmt)) == NULL)
		goto out;
	sqlite3_reset(stmt);
	stmt = NULL;
	rc = sb_db_commit(db);
out:
	if (stmt != NULL)
		sqlite3_reset(stmt);
	if (rc != SB_OK) {
		sb_db_rollback(db);
		cJSON_Delete(*out);
		*out = NULL;
	}
	cJSON_free(row.text);
	return rc;
}

/*
 * Makes the stored form of every item to store, refusing (400) those
 * without a usable id, name or payload; rows[i].text stays NULL for an
 * item not to store.  SB_ERR_NOMEM if a text cannot be made.
 */
static enum sb_err
events_rows_make(
    struct sb_events_item *items, size_t count, struct events_row *rows)
{
	for (size_t i = 0; i < count; i++) {
		if (items[i].status != 0)
			continue;
		if (!events_item_valid(&items[i]))
			items[i].status = 400;
		else if (events_row_make(&items[i], &rows[i]) != SB_OK)
			return SB_ERR_NOMEM;
	}
	return SB_OK;
}

/*
 * Stores the items whose status is 0 in one transaction, each once per
 * id; status becomes 201, 200 or 400.  On an error nothing is stored.  The
 * payloads' texts are made first, outside the transaction.
 */
enum sb_err
sb_events_store_batch(
    struct sb_db *db, struct sb_events_item *items, size_t count)
{
	struct events_row rows[SB_EVENTS_BATCH_MAX];
	enum sb_err rc;
	bool created;

	if (items == NULL || count < 1 || count > SB_EVENTS_BATCH_MAX)
		return SB_ERR_INVALID;
	memset(rows, 0, sizeof(rows));
	if ((rc = events_rows_make(items, count, rows)) != SB_OK ||
	    (rc = sb_db_begin(db)) != SB_OK)
		goto out;
	for (size_t i = 0; i < count; i++) {
		if (rows[i].text == NULL)
			continue;
		created = false;
		if ((rc = events_insert(db, items[i].id, items[i].name,
		         &rows[i], &created)) != SB_OK)
			goto out;
		items[i].status = created ? 201 : 200;
	}
	rc = sb_db_commit(db);
out:
	if (rc != SB_OK)
		sb_db_rollback(db);
	for (size_t i = 0; i < count; i++)
		cJSON_free(rows[i].text);
	return rc;
}

/* Binds the filters ?1 to ?3 (NULL when not given). */
static int
events_bind_filter(sqlite3_stmt *stmt, const struct sb_events_filter *f)
{
	int bound = SQLITE_OK;

	if (f->name != NULL)
		bound |= sqlite3_bind_text(stmt, 1, f->name, -1, SQLITE_STATIC);
	if (f->project_id > 0)
		bound |= sqlite3_bind_int64(stmt, 2, f->project_id);
	if (f->since != NULL)
		bound |=
		    sqlite3_bind_text(stmt, 3, f->since, -1, SQLITE_STATIC);
	return bound;
}

/* Counts the matching events with the statement of the given index. */
static enum sb_err
events_count(struct sb_db *db, enum events_sql which,
    const struct sb_events_filter *f, int64_t *total)
{
	sqlite3_stmt *stmt;
	int step;

	if ((stmt = sb_db_stmt(db, events_sql[which])) == NULL ||
	    events_bind_filter(stmt, f) != SQLITE_OK)
		return SB_ERR_DB;
	step = sqlite3_step(stmt);
	if (step == SQLITE_ROW)
		*total = sqlite3_column_int64(stmt, 0);
	sqlite3_reset(stmt);
	return step == SQLITE_ROW ? SB_OK : sb_db_rc(step);
}

/*
 * On SB_OK *out is a new array (caller frees with cJSON_Delete) of page
 * page of the matching events, newest first, and *total their number.
 */
enum sb_err
sb_events_list(struct sb_db *db, const struct sb_events_filter *filter,
    int64_t page, int64_t per_page, cJSON **out, int64_t *total)
{
	int offset = filter->project_id > 0 ? 0 : filter->name != NULL ? 1 : 2;
	sqlite3_stmt *stmt = NULL;
	enum sb_err rc;
	cJSON *item;
	int step = SQLITE_DONE;

	*out = NULL;
	if (page < 1 || per_page < 1 || per_page > SB_EVENTS_PER_PAGE_MAX ||
	    page > INT64_MAX / per_page)
		return SB_ERR_INVALID;
	if ((rc = events_count(db, EVENTS_SQL_COUNT_PROJECT + offset, filter,
	         total)) != SB_OK)
		return rc;
	rc = SB_ERR_NOMEM;
	if ((*out = cJSON_CreateArray()) == NULL)
		goto out;
	rc = SB_ERR_DB;
	if ((stmt = sb_db_stmt(
	         db, events_sql[EVENTS_SQL_LIST_PROJECT + offset])) == NULL ||
	    (events_bind_filter(stmt, filter) |
	        sqlite3_bind_int64(stmt, 4, per_page) |
	        sqlite3_bind_int64(stmt, 5, (page - 1) * per_page)) !=
	        SQLITE_OK)
		goto out;
	while ((step = sqlite3_step(stmt)) == SQLITE_ROW) {
		rc = SB_ERR_NOMEM;
		if ((item = events_row_json(stmt)) == NULL)
			goto out;
		cJSON_AddItemToArray(*out, item);
	}
	rc = sb_db_rc(step);
out:
	if (stmt != NULL)
		sqlite3_reset(stmt);
	if (rc != SB_OK) {
		cJSON_Delete(*out);
		*out = NULL;
	}
	return rc;
}

/* True for 1 to SB_EVENTS_ID_MAX of [A-Za-z0-9_-]. */
bool
sb_events_id_valid(const char *s)
{
	size_t n;

	if (s == NULL || (n = strnlen(s, SB_EVENTS_ID_MAX + 1)) == 0 ||
	    n > SB_EVENTS_ID_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		        (c >= '0' && c <= '9') || c == '_' || c == '-'))
			return false;
	}
	return true;
}

/*
 * True if s matches pattern, where '9' stands for a digit and any other
 * character for itself.
 */
static bool
events_shape(const char *s, const char *pattern)
{
	for (; *pattern != '\0'; s++, pattern++) {
		if (*pattern == '9' ? !(*s >= '0' && *s <= '9')
		                    : *s != *pattern)
			return false;
	}
	return *s == '\0';
}

/* The number of the n digits at s (their shape already checked). */
static int
events_digits(const char *s, int n)
{
	int v = 0;

	for (int i = 0; i < n; i++)
		v = v * 10 + (s[i] - '0');
	return v;
}

/*
 * True if the date and, when long enough, the time of s (shaped like
 * "9999-99-99T99:99:99") name a real instant: a month 1-12, a day of that
 * month (February 29 in leap years only), hours below 24, minutes and
 * seconds below 60.
 */
static bool
events_time_real(const char *s, size_t len)
{
	static const int days[12] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31,
		30, 31 };
	int year = events_digits(s, 4), month = events_digits(s + 5, 2),
	    day = events_digits(s + 8, 2);
	bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;

	if (month < 1 || month > 12 || day < 1 || day > days[month - 1] ||
	    (month == 2 && day == 29 && !leap))
		return false;
	return len < 19 ||
	    (events_digits(s + 11, 2) < 24 && events_digits(s + 14, 2) < 60 &&
	        events_digits(s + 17, 2) < 60);
}

/*
 * Writes s in the stored time form into out; false for any other shape or
 * a date or time that does not exist.
 */
bool
sb_events_since_parse(const char *s, char *out, size_t size)
{
	static const char date[] = "9999-99-99";
	static const char seconds[] = "9999-99-99T99:99:99Z";
	static const char millis[] = "9999-99-99T99:99:99.999Z";
	int n = -1;

	if (s == NULL || size < sizeof(millis))
		return false;
	if (events_shape(s, millis))
		n = snprintf(out, size, "%s", s);
	else if (events_shape(s, seconds))
		n = snprintf(out, size, "%.19s.000Z", s);
	else if (events_shape(s, date))
		n = snprintf(out, size, "%sT00:00:00.000Z", s);
	return n == (int)sizeof(millis) - 1 && events_time_real(s, strlen(s));
}
