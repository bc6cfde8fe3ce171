/*
 * The Okta org's users API (/okta/{tenant}/api/v1/users...): listing with
 * limit/after and Link pagination and a subset of search, filter and q;
 * one user by id or login; the lifecycle operations suspend, unsuspend,
 * unlock and deactivate with Okta's rules (a table below); and Okta's
 * two-step DELETE (the first deactivates, the second deletes).  Every
 * handler passes okta_enter() first.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>
#include <sodium.h>

#include "sb/core/response.h"
#include "okta.h"

#define OKTA_LIMIT_MAX 200 /* Okta's own cap for users */
#define OKTA_AFTER_MAX 64
#define OKTA_QUERY_TEXT_MAX 512 /* bytes of search, filter or q */
#define OKTA_SEED_EPOCH 1704067200 /* 2024-01-01T00:00:00Z */
#define OKTA_ISO_MAX 32
#define OKTA_LIFECYCLE_FROM_MAX 8
#define OKTA_ID_ALPHABET \
	"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

/* The user fields search and filter may name, in okta_sql's order. */
enum okta_field {
	OKTA_FIELD_STATUS,
	OKTA_FIELD_ID,
	OKTA_FIELD_LOGIN,
	OKTA_FIELD_EMAIL,
	OKTA_FIELD_FIRST_NAME,
	OKTA_FIELD_LAST_NAME,
	OKTA_FIELD__MAX
};

static const char *const okta_field_names[OKTA_FIELD__MAX] = {
	[OKTA_FIELD_STATUS] = "status",
	[OKTA_FIELD_ID] = "id",
	[OKTA_FIELD_LOGIN] = "profile.login",
	[OKTA_FIELD_EMAIL] = "profile.email",
	[OKTA_FIELD_FIRST_NAME] = "profile.firstName",
	[OKTA_FIELD_LAST_NAME] = "profile.lastName",
};

/* Operators: eq (search and filter) and sw, starts with (search only). */
enum okta_op { OKTA_OP_EQ, OKTA_OP_SW, OKTA_OP__MAX };

static const char *const okta_op_names[OKTA_OP__MAX] = {
	[OKTA_OP_EQ] = "eq",
	[OKTA_OP_SW] = "sw",
};

/* One field's condition for an operator; parameter 5 + 2 field + op. */
#define OKTA_MATCH(col, eq, sw) \
	" AND (" eq " IS NULL OR lower(" col ") = lower(" eq "))" \
	" AND (" sw " IS NULL OR lower(substr(" col ", 1, length(" sw \
	"))) = lower(" sw "))"
#define OKTA_PARAM_FIRST_FIELD 5
#define OKTA_PARAM_Q 17
#define OKTA_USER_COLUMNS \
	"id, status, login, email, first_name, last_name, created," \
	" activated, status_changed, last_login, last_updated"

enum okta_users_sql {
	OKTA_USERS_SQL_INSERT,
	OKTA_USERS_SQL_LIST,
	OKTA_USERS_SQL_GET,
	OKTA_USERS_SQL_SET_STATUS,
	OKTA_USERS_SQL_DELETE,
	OKTA_USERS_SQL__MAX
};

static const char *const okta_users_sql[OKTA_USERS_SQL__MAX] = {
	[OKTA_USERS_SQL_INSERT] =
	    "INSERT INTO okta_users (tenant, " OKTA_USER_COLUMNS ")"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
	/* ?3: hide DEPROVISIONED users (a plain list, as Okta's). */
	[OKTA_USERS_SQL_LIST] =
	    "SELECT " OKTA_USER_COLUMNS " FROM okta_users"
	    " WHERE tenant = ?1 AND id > ?2"
	    " AND (?3 = 0 OR status <> 'DEPROVISIONED')" OKTA_MATCH(
	        "status", "?5", "?6") OKTA_MATCH("id", "?7",
	        "?8") OKTA_MATCH("login", "?9", "?10") OKTA_MATCH("email",
	        "?11", "?12") OKTA_MATCH("first_name", "?13",
	        "?14") OKTA_MATCH("last_name", "?15",
	        "?16") " AND (?17 IS NULL"
	               " OR lower(substr(first_name, 1, length(?17))) = "
	               "lower(?17)"
	               " OR lower(substr(last_name, 1, length(?17))) = "
	               "lower(?17)"
	               " OR lower(substr(email, 1, length(?17))) = lower(?17))"
	               " ORDER BY id LIMIT ?4",
	[OKTA_USERS_SQL_GET] = "SELECT " OKTA_USER_COLUMNS " FROM okta_users"
	                       " WHERE tenant = ?1 AND (id = ?2 OR login = ?2)",
	[OKTA_USERS_SQL_SET_STATUS] =
	    "UPDATE okta_users SET status = ?3, status_changed = ?4,"
	    " last_updated = ?4, activated = CASE WHEN ?3 = 'ACTIVE'"
	    " AND activated IS NULL THEN ?4 ELSE activated END"
	    " WHERE tenant = ?1 AND id = ?2",
	[OKTA_USERS_SQL_DELETE] =
	    "DELETE FROM okta_users WHERE tenant = ?1 AND id = ?2",
};

/* Columns of OKTA_USER_COLUMNS. */
enum okta_column {
	OKTA_COL_ID,
	OKTA_COL_STATUS,
	OKTA_COL_LOGIN,
	OKTA_COL_EMAIL,
	OKTA_COL_FIRST_NAME,
	OKTA_COL_LAST_NAME,
	OKTA_COL_CREATED,
	OKTA_COL_ACTIVATED,
	OKTA_COL_STATUS_CHANGED,
	OKTA_COL_LAST_LOGIN,
	OKTA_COL_LAST_UPDATED,
	OKTA_COL__MAX
};

/* The seeded people: user i is first[i % 25] last[i / 25]. */
static const char *const okta_first_names[] = { "Ada", "Grace", "Alan",
	"Edsger", "Barbara", "Donald", "Frances", "John", "Margaret", "Ken",
	"Dennis", "Radia", "Tim", "Vint", "Hedy", "Linus", "Shafi", "Leslie",
	"Niklaus", "Sophie", "Whitfield", "Katherine", "Claude", "Annie",
	"Bjarne" };
static const char *const okta_last_names[] = { "Lovelace", "Hopper", "Turing",
	"Dijkstra", "Liskov", "Knuth", "Allen", "Backus", "Hamilton",
	"Thompson" };
#define OKTA_FIRST_COUNT \
	(sizeof(okta_first_names) / sizeof(okta_first_names[0]))

/* The seeded statuses, user i taking [i % 10]: half of them ACTIVE. */
static const char *const okta_seed_statuses[] = { "ACTIVE", "ACTIVE",
	"SUSPENDED", "ACTIVE", "STAGED", "ACTIVE", "DEPROVISIONED",
	"PROVISIONED", "ACTIVE", "LOCKED_OUT" };
#define OKTA_SEED_STATUS_COUNT \
	(sizeof(okta_seed_statuses) / sizeof(okta_seed_statuses[0]))

/* Unix seconds t as Okta writes times: "2024-01-01T00:00:00.000Z". */
static void
okta_iso(int64_t t, char out[OKTA_ISO_MAX])
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(out, OKTA_ISO_MAX, "%Y-%m-%dT%H:%M:%S.000Z", &tm) == 0)
		out[0] = '\0';
}

/* A fresh random user id: "00u" and 17 letters and digits. */
static void
okta_user_id_new(char out[OKTA_USER_ID_LEN + 1])
{
	size_t alphabet = strlen(OKTA_ID_ALPHABET);

	memcpy(out, "00u", 3);
	for (size_t i = 3; i < OKTA_USER_ID_LEN; i++)
		out[i] =
		    OKTA_ID_ALPHABET[randombytes_uniform((uint32_t)alphabet)];
	out[OKTA_USER_ID_LEN] = '\0';
}

/* Binds t as an ISO time to parameter i, or NULL when t is 0. */
static void
okta_bind_time(sqlite3_stmt *st, int i, int64_t t)
{
	char iso[OKTA_ISO_MAX];

	if (t == 0) {
		sqlite3_bind_null(st, i);
		return;
	}
	okta_iso(t, iso);
	sqlite3_bind_text(st, i, iso, -1, SQLITE_TRANSIENT);
}

/* Inserts seeded user i of tenant. */
static enum sb_err
okta_user_insert(struct sb_ctx *ctx, const char *tenant, size_t i)
{
	const char *status = okta_seed_statuses[i % OKTA_SEED_STATUS_COUNT];
	const char *first = okta_first_names[i % OKTA_FIRST_COUNT];
	const char *last = okta_last_names[i / OKTA_FIRST_COUNT];
	int64_t created = OKTA_SEED_EPOCH + (int64_t)i * 3600;
	bool never_active =
	    strcmp(status, "STAGED") == 0 || strcmp(status, "PROVISIONED") == 0;
	char id[OKTA_USER_ID_LEN + 1], login[128];
	sqlite3_stmt *st;

	okta_user_id_new(id);
	snprintf(login, sizeof(login), "%s.%s@%s.example", first, last, tenant);
	for (char *c = login; *c != '\0'; c++)
		*c = (*c >= 'A' && *c <= 'Z') ? (char)(*c - 'A' + 'a') : *c;
	if ((st = sb_db_stmt(ctx->db, okta_users_sql[OKTA_USERS_SQL_INSERT])) ==
	    NULL)
		return SB_ERR_DB;
	sqlite3_bind_text(st, 1, tenant, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, status, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, login, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 5, login, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 6, first, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, last, -1, SQLITE_STATIC);
	okta_bind_time(st, 8, created);
	okta_bind_time(st, 9, never_active ? 0 : created + 60);
	okta_bind_time(st, 10, created + 120);
	okta_bind_time(
	    st, 11, never_active ? 0 : created + 86400 * (int64_t)(i % 30 + 1));
	okta_bind_time(st, 12, created + 120);
	return sb_db_step_write(ctx->db, st, NULL);
}

enum sb_err
okta_users_seed(struct sb_ctx *ctx, const char *tenant)
{
	enum sb_err rc = SB_OK;

	for (size_t i = 0; i < OKTA_USERS_SEEDED && rc == SB_OK; i++)
		rc = okta_user_insert(ctx, tenant, i);
	return rc;
}

/* Adds column col of st to o under name: its text, or null. */
static bool
okta_add_column(cJSON *o, const char *name, sqlite3_stmt *st, int col)
{
	const unsigned char *text = sqlite3_column_text(st, col);

	if (text == NULL)
		return cJSON_AddNullToObject(o, name) != NULL;
	return cJSON_AddStringToObject(o, name, (const char *)text) != NULL;
}

/* The profile and links of the user at st's row. */
static bool
okta_user_parts(cJSON *o, sqlite3_stmt *st, const char *self)
{
	cJSON *profile, *links, *link;

	return (profile = cJSON_AddObjectToObject(o, "profile")) != NULL &&
	    okta_add_column(profile, "firstName", st, OKTA_COL_FIRST_NAME) &&
	    okta_add_column(profile, "lastName", st, OKTA_COL_LAST_NAME) &&
	    cJSON_AddNullToObject(profile, "mobilePhone") != NULL &&
	    cJSON_AddNullToObject(profile, "secondEmail") != NULL &&
	    okta_add_column(profile, "login", st, OKTA_COL_LOGIN) &&
	    okta_add_column(profile, "email", st, OKTA_COL_EMAIL) &&
	    (links = cJSON_AddObjectToObject(o, "_links")) != NULL &&
	    (link = cJSON_AddObjectToObject(links, "self")) != NULL &&
	    cJSON_AddStringToObject(link, "href", self) != NULL;
}

/* The user at st's row as Okta shows one; NULL on allocation failure. */
static cJSON *
okta_user_json(
    struct sb_request *req, const struct okta_tenant *t, sqlite3_stmt *st)
{
	const char *self = sb_arena_printf(req->arena, "%s/api/v1/users/%s",
	    t->base_url, (const char *)sqlite3_column_text(st, OKTA_COL_ID));
	cJSON *o;

	if (self == NULL || (o = cJSON_CreateObject()) == NULL)
		return NULL;
	if (!okta_add_column(o, "id", st, OKTA_COL_ID) ||
	    !okta_add_column(o, "status", st, OKTA_COL_STATUS) ||
	    !okta_add_column(o, "created", st, OKTA_COL_CREATED) ||
	    !okta_add_column(o, "activated", st, OKTA_COL_ACTIVATED) ||
	    !okta_add_column(o, "statusChanged", st, OKTA_COL_STATUS_CHANGED) ||
	    !okta_add_column(o, "lastLogin", st, OKTA_COL_LAST_LOGIN) ||
	    !okta_add_column(o, "lastUpdated", st, OKTA_COL_LAST_UPDATED) ||
	    cJSON_AddNullToObject(o, "passwordChanged") == NULL ||
	    !okta_user_parts(o, st, self)) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

/* A list's query: the bindings of OKTA_USERS_SQL_LIST. */
struct okta_list {
	int64_t limit;
	const char *after;
	const char *search;
	const char *filter;
	const char *q;
	const char *match[OKTA_FIELD__MAX][OKTA_OP__MAX];
};

/* The index of name among count names of table, or -1. */
static int
okta_lookup(
    const char *const *table, size_t count, const char *name, size_t len)
{
	for (size_t i = 0; i < count; i++)
		if (strlen(table[i]) == len &&
		    strncmp(table[i], name, len) == 0)
			return (int)i;
	return -1;
}

/*
 * Parses one `field op "value"` term at *s into list->match, advancing
 * *s past it; ops_allowed is how many operators (from eq) may be used.
 */
static bool
okta_term_parse(struct sb_arena *arena, const char **s, int ops_allowed,
    struct okta_list *list)
{
	const char *p = *s, *end;
	int field, op;

	end = strchr(p, ' ');
	if (end == NULL ||
	    (field = okta_lookup(
	         okta_field_names, OKTA_FIELD__MAX, p, (size_t)(end - p))) < 0)
		return false;
	p = end + 1;
	if ((end = strchr(p, ' ')) == NULL ||
	    (op = okta_lookup(
	         okta_op_names, OKTA_OP__MAX, p, (size_t)(end - p))) < 0 ||
	    op >= ops_allowed || end[1] != '"')
		return false;
	p = end + 2;
	if ((end = strchr(p, '"')) == NULL ||
	    memchr(p, '\\', (size_t)(end - p)) != NULL ||
	    list->match[field][op] != NULL)
		return false;
	list->match[field][op] = sb_arena_strndup(arena, p, (size_t)(end - p));
	*s = end + 1;
	return list->match[field][op] != NULL;
}

/* Parses text, terms joined by " and ", into list; false if malformed. */
static bool
okta_terms_parse(struct sb_arena *arena, const char *text, int ops_allowed,
    struct okta_list *list)
{
	const char *s = text;

	if (strlen(text) > OKTA_QUERY_TEXT_MAX)
		return false;
	for (;;) {
		while (*s == ' ')
			s++;
		if (!okta_term_parse(arena, &s, ops_allowed, list))
			return false;
		while (*s == ' ')
			s++;
		if (*s == '\0')
			return true;
		if (strncasecmp(s, "and ", 4) != 0)
			return false;
		s += 4;
	}
}

/* Reads and checks the list's query parameters; answers 400 if bad. */
static bool
okta_list_read(struct sb_request *req, struct okta_list *list)
{
	const char *limit = sb_request_query(req, "limit");

	list->limit = OKTA_LIMIT_MAX;
	list->after = sb_request_query(req, "after");
	list->search = sb_request_query(req, "search");
	list->filter = sb_request_query(req, "filter");
	list->q = sb_request_query(req, "q");
	if (limit != NULL &&
	    !sb_request_parse_int(limit, 1, OKTA_LIMIT_MAX, &list->limit)) {
		okta_error(req, 400, "E0000001", "Api validation failed: limit",
		    "limit: must be an integer from 1 to 200");
		return false;
	}
	if ((list->after != NULL && strlen(list->after) > OKTA_AFTER_MAX) ||
	    (list->q != NULL && strlen(list->q) > OKTA_QUERY_TEXT_MAX)) {
		okta_error(req, 400, "E0000001", "Api validation failed: query",
		    "after or q is too long");
		return false;
	}
	if ((list->search != NULL &&
	        !okta_terms_parse(
	            req->arena, list->search, OKTA_OP__MAX, list)) ||
	    (list->filter != NULL &&
	        !okta_terms_parse(
	            req->arena, list->filter, OKTA_OP_EQ + 1, list))) {
		okta_error(
		    req, 400, "E0000031", "Invalid search criteria.", NULL);
		return false;
	}
	return true;
}

/* Appends "&name=<value escaped>" to url (arena) when value is set. */
static char *
okta_url_add(
    struct sb_arena *arena, char *url, const char *name, const char *value)
{
	char *escaped, *out;

	if (url == NULL || value == NULL)
		return url;
	if ((escaped = curl_easy_escape(NULL, value, 0)) == NULL)
		return NULL;
	out = sb_arena_printf(arena, "%s&%s=%s", url, name, escaped);
	curl_free(escaped);
	return out;
}

/* Adds the Link header "<url>; rel=<rel>" for the page after `after`. */
static void
okta_link(struct sb_request *req, const struct okta_tenant *t,
    const struct okta_list *list, const char *after, const char *rel)
{
	char *url = sb_arena_printf(req->arena, "%s/api/v1/users?limit=%lld",
	    t->base_url, (long long)list->limit);

	url = okta_url_add(req->arena, url, "search", list->search);
	url = okta_url_add(req->arena, url, "filter", list->filter);
	url = okta_url_add(req->arena, url, "q", list->q);
	url = okta_url_add(req->arena, url, "after", after);
	if (url != NULL && strlen(url) <= OKTA_URL_MAX)
		sb_response_header(req, "Link",
		    sb_arena_printf(req->arena, "<%s>; rel=\"%s\"", url, rel));
}

/* Binds list to the list statement (see OKTA_USERS_SQL_LIST). */
static void
okta_list_bind(
    sqlite3_stmt *st, const char *tenant, const struct okta_list *list)
{
	bool plain = list->search == NULL && list->filter == NULL;

	sqlite3_bind_text(st, 1, tenant, -1, SQLITE_STATIC);
	sqlite3_bind_text(
	    st, 2, list->after != NULL ? list->after : "", -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, plain ? 1 : 0);
	sqlite3_bind_int64(st, 4, list->limit + 1);
	for (int f = 0; f < OKTA_FIELD__MAX; f++)
		for (int op = 0; op < OKTA_OP__MAX; op++)
			if (list->match[f][op] != NULL)
				sqlite3_bind_text(st,
				    OKTA_PARAM_FIRST_FIELD + 2 * f + op,
				    list->match[f][op], -1, SQLITE_STATIC);
	if (list->q != NULL)
		sqlite3_bind_text(st, OKTA_PARAM_Q, list->q, -1, SQLITE_STATIC);
}

/* Runs the list into users; *next gets the cursor (arena) or NULL. */
static enum sb_err
okta_list_run(struct sb_ctx *ctx, struct sb_request *req,
    const struct okta_tenant *t, const struct okta_list *list, cJSON *users,
    const char **next)
{
	sqlite3_stmt *st;
	cJSON *u;
	int64_t n = 0;
	int step;

	*next = NULL;
	st = sb_db_stmt(ctx->db, okta_users_sql[OKTA_USERS_SQL_LIST]);
	if (st == NULL)
		return SB_ERR_DB;
	okta_list_bind(st, t->name, list);
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		if (++n > list->limit)
			break;
		if ((u = okta_user_json(req, t, st)) == NULL ||
		    !cJSON_AddItemToArray(users, u)) {
			cJSON_Delete(u);
			sqlite3_reset(st);
			return SB_ERR_NOMEM;
		}
		*next = sb_arena_strdup(req->arena,
		    (const char *)sqlite3_column_text(st, OKTA_COL_ID));
	}
	if (n <= list->limit)
		*next = NULL;
	sqlite3_reset(st);
	return step == SQLITE_ROW || step == SQLITE_DONE ? SB_OK : SB_ERR_DB;
}

void
sandbox_okta_users_list(struct sb_ctx *ctx, struct sb_request *req)
{
	struct okta_tenant t;
	struct okta_list list = { .limit = OKTA_LIMIT_MAX };
	const char *next = NULL;
	cJSON *users = NULL;

	if (!okta_enter(ctx, req, &t) || !okta_list_read(req, &list))
		return;
	if ((users = cJSON_CreateArray()) == NULL ||
	    okta_list_run(ctx, req, &t, &list, users, &next) != SB_OK) {
		sandbox_internal(req, "listing Okta users");
		goto out;
	}
	okta_link(req, &t, &list, list.after, "self");
	if (next != NULL)
		okta_link(req, &t, &list, next, "next");
	sb_response_json(req, 200, users);
out:
	cJSON_Delete(users);
}

void
sandbox_okta_user_get(struct sb_ctx *ctx, struct sb_request *req)
{
	const char *user = sb_request_param(req, "user");
	struct okta_tenant t;
	sqlite3_stmt *st;
	cJSON *u = NULL;
	int step;

	if (!okta_enter(ctx, req, &t))
		return;
	if ((st = sb_db_stmt(ctx->db, okta_users_sql[OKTA_USERS_SQL_GET])) ==
	    NULL) {
		sandbox_internal(req, "reading an Okta user");
		return;
	}
	sqlite3_bind_text(st, 1, t.name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, user, -1, SQLITE_STATIC);
	if ((step = sqlite3_step(st)) == SQLITE_DONE)
		okta_not_found(req, user);
	else if (step != SQLITE_ROW ||
	    (u = okta_user_json(req, &t, st)) == NULL)
		sandbox_internal(req, "reading an Okta user");
	else
		sb_response_json(req, 200, u);
	sqlite3_reset(st);
	cJSON_Delete(u);
}

/* Okta's lifecycle operations: from which statuses each goes where. */
static const struct okta_lifecycle {
	const char *action;
	const char *from[OKTA_LIFECYCLE_FROM_MAX]; /* NULL-terminated */
	const char *to;
	const char *refusal; /* Okta's reason when the status forbids it */
} okta_lifecycles[] = {
	{ .action = "suspend",
	    .from = { "ACTIVE" },
	    .to = "SUSPENDED",
	    .refusal = "Cannot suspend a user that is not active" },
	{ .action = "unsuspend",
	    .from = { "SUSPENDED" },
	    .to = "ACTIVE",
	    .refusal = "Cannot unsuspend a user that is not suspended" },
	{ .action = "unlock",
	    .from = { "LOCKED_OUT" },
	    .to = "ACTIVE",
	    .refusal = "Cannot unlock a user that is not locked out" },
	{ .action = "deactivate",
	    .from = { "STAGED", "PROVISIONED", "ACTIVE", "RECOVERY",
	        "PASSWORD_EXPIRED", "LOCKED_OUT", "SUSPENDED" },
	    .to = "DEPROVISIONED",
	    .refusal = "Cannot deactivate a user that is deactivated" },
};

#define OKTA_LIFECYCLE_COUNT \
	(sizeof(okta_lifecycles) / sizeof(okta_lifecycles[0]))

/* A user found in a write transaction: its id and status. */
struct okta_found {
	char id[OKTA_USER_ID_LEN + 1];
	char status[32];
};

/* Finds user (id or login) of tenant: SB_OK, SB_ERR_NOT_FOUND or DB. */
static enum sb_err
okta_user_find(struct sb_ctx *ctx, const char *tenant, const char *user,
    struct okta_found *out)
{
	sqlite3_stmt *st;
	int step;

	st = sb_db_stmt(ctx->db, okta_users_sql[OKTA_USERS_SQL_GET]);
	if (st == NULL)
		return SB_ERR_DB;
	sqlite3_bind_text(st, 1, tenant, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, user, -1, SQLITE_STATIC);
	if ((step = sqlite3_step(st)) == SQLITE_ROW) {
		snprintf(out->id, sizeof(out->id), "%s",
		    (const char *)sqlite3_column_text(st, OKTA_COL_ID));
		snprintf(out->status, sizeof(out->status), "%s",
		    (const char *)sqlite3_column_text(st, OKTA_COL_STATUS));
	}
	sqlite3_reset(st);
	if (step == SQLITE_ROW)
		return SB_OK;
	return step == SQLITE_DONE ? SB_ERR_NOT_FOUND : SB_ERR_DB;
}

/* Sets the status of user id (to NULL: deletes it), in the transaction. */
static enum sb_err
okta_user_set(
    struct sb_ctx *ctx, const char *tenant, const char *id, const char *status)
{
	char now[OKTA_ISO_MAX];
	sqlite3_stmt *st;

	st = sb_db_stmt(ctx->db,
	    okta_users_sql[status != NULL ? OKTA_USERS_SQL_SET_STATUS
	                                  : OKTA_USERS_SQL_DELETE]);
	if (st == NULL)
		return SB_ERR_DB;
	okta_iso(sandbox_now(), now);
	sqlite3_bind_text(st, 1, tenant, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
	if (status != NULL) {
		sqlite3_bind_text(st, 3, status, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, now, -1, SQLITE_TRANSIENT);
	}
	return sb_db_step_write(ctx->db, st, NULL);
}

/* True iff status is one of the lifecycle's from statuses. */
static bool
okta_lifecycle_allows(const struct okta_lifecycle *l, const char *status)
{
	for (size_t i = 0; i < OKTA_LIFECYCLE_FROM_MAX && l->from[i] != NULL;
	     i++)
		if (strcmp(l->from[i], status) == 0)
			return true;
	return false;
}

/*
 * Changes user in one transaction: with l, applies that lifecycle step
 * (SB_ERR_CONFLICT when the status forbids it); without, Okta's DELETE
 * (deactivates, or deletes a user already deprovisioned).  SB_OK,
 * SB_ERR_NOT_FOUND, SB_ERR_CONFLICT or a store error.
 */
static enum sb_err
okta_user_change(struct sb_ctx *ctx, const char *tenant, const char *user,
    const struct okta_lifecycle *l)
{
	struct okta_found found;
	const char *to;
	enum sb_err rc;

	if ((rc = sb_db_begin(ctx->db)) != SB_OK)
		return rc;
	if ((rc = okta_user_find(ctx, tenant, user, &found)) != SB_OK)
		goto out;
	if (l != NULL && !okta_lifecycle_allows(l, found.status)) {
		rc = SB_ERR_CONFLICT;
		goto out;
	}
	if (l != NULL)
		to = l->to;
	else
		to = strcmp(found.status, "DEPROVISIONED") == 0
		    ? NULL
		    : "DEPROVISIONED";
	if ((rc = okta_user_set(ctx, tenant, found.id, to)) != SB_OK)
		goto out;
	return sb_db_commit(ctx->db);
out:
	sb_db_rollback(ctx->db);
	return rc;
}

void
sandbox_okta_user_lifecycle(struct sb_ctx *ctx, struct sb_request *req)
{
	const char *user = sb_request_param(req, "user");
	const char *action = sb_request_param(req, "action");
	const struct okta_lifecycle *l = NULL;
	struct okta_tenant t;
	enum sb_err rc;

	if (!okta_enter(ctx, req, &t))
		return;
	for (size_t i = 0; i < OKTA_LIFECYCLE_COUNT; i++)
		if (strcmp(okta_lifecycles[i].action, action) == 0)
			l = &okta_lifecycles[i];
	if (l == NULL) {
		okta_not_found(req, req->path);
		return;
	}
	rc = okta_user_change(ctx, t.name, user, l);
	if (rc == SB_ERR_NOT_FOUND)
		okta_not_found(req, user);
	else if (rc == SB_ERR_CONFLICT)
		okta_error(req, 400, "E0000001",
		    sb_arena_printf(
		        req->arena, "Api validation failed: %s", l->action),
		    l->refusal);
	else if (rc != SB_OK)
		sandbox_internal(req, "changing an Okta user");
	else
		sb_response_send(req, 200, "application/json", "{}", 2);
}

void
sandbox_okta_user_delete(struct sb_ctx *ctx, struct sb_request *req)
{
	const char *user = sb_request_param(req, "user");
	const char *send_email = sb_request_query(req, "sendEmail");
	struct okta_tenant t;
	enum sb_err rc;

	if (!okta_enter(ctx, req, &t))
		return;
	if (send_email != NULL && strcmp(send_email, "true") != 0 &&
	    strcmp(send_email, "false") != 0) {
		okta_error(req, 400, "E0000001",
		    "Api validation failed: sendEmail",
		    "sendEmail: must be true or false");
		return;
	}
	if ((rc = okta_user_change(ctx, t.name, user, NULL)) ==
	    SB_ERR_NOT_FOUND)
		okta_not_found(req, user);
	else if (rc != SB_OK)
		sandbox_internal(req, "deleting an Okta user");
	else
		sb_response_no_content(req);
}
