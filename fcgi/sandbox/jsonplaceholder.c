/*
 * The sandbox's JSONPlaceholder (/jsonplaceholder/...): 100 posts by 10
 * users, 500 comments (5 a post) and the 10 users, in JSONPlaceholder's
 * shapes and key order, generated deterministically (the same text on
 * every reset) the first time they are asked for.  Answers carry a weak
 * ETag made from the body's hash, and If-None-Match naming it answers 304
 * without a body, as the real site does.  A list takes one exact filter
 * on a top-level field (?userId=1), as json-server does; the rest of
 * json-server's query language is Switchboard's own /data, not this.
 *
 * The control paths (control token) change what is served, so that a
 * fetch has something to update: POST /_sandbox/jsonplaceholder resets
 * everything to the generated items, PATCH .../{resource}/{id} merges a
 * JSON object into an item (RFC 7396), DELETE .../{resource}/{id} removes
 * it, and POST .../{resource} adds one with the next id.
 */
#include <stdio.h>
#include <string.h>

#include <fcgiapp.h>
#include <sodium.h>

#include "sb/core/response.h"
#include "sandbox.h"

#define JP_POSTS 100
#define JP_USERS 10
#define JP_COMMENTS_PER_POST 5
#define JP_ETAG_BYTES 12 /* of the body's BLAKE2b hash */
#define JP_ETAG_MAX 64
#define JP_FIELD_MAX 64 /* bytes of a filter's field name */
#define JP_TEXT_MAX 1024 /* bytes of one generated text */

enum jp_sql {
	JP_SQL_SEEDED,
	JP_SQL_MARK,
	JP_SQL_CLEAR,
	JP_SQL_INSERT,
	JP_SQL_LIST,
	JP_SQL_LIST_FILTER,
	JP_SQL_ONE,
	JP_SQL_PATCH,
	JP_SQL_DELETE,
	JP_SQL_ADD,
	JP_SQL_COUNT,
	JP_SQL__MAX
};

static const char *const jp_sql[JP_SQL__MAX] = {
	[JP_SQL_SEEDED] = "SELECT seeded FROM jp_state WHERE id = 1",
	[JP_SQL_MARK] = "UPDATE jp_state SET seeded = 1 WHERE id = 1",
	[JP_SQL_CLEAR] = "DELETE FROM jp_items",
	[JP_SQL_INSERT] =
	    "INSERT INTO jp_items (resource, id, body) VALUES (?1, ?2, ?3)",
	[JP_SQL_LIST] = "SELECT '[' || coalesce(group_concat(body, ','), '')"
	                " || ']' FROM (SELECT body FROM jp_items"
	                " WHERE resource = ?1 ORDER BY id)",
	[JP_SQL_LIST_FILTER] =
	    "SELECT '[' || coalesce(group_concat(body, ','), '') || ']'"
	    " FROM (SELECT body FROM jp_items WHERE resource = ?1"
	    " AND CAST(json_extract(body, '$.\"' || ?2 || '\"') AS TEXT) = ?3"
	    " ORDER BY id)",
	[JP_SQL_ONE] =
	    "SELECT body FROM jp_items WHERE resource = ?1 AND id = ?2",
	[JP_SQL_PATCH] = "UPDATE jp_items SET body = json_set(json_patch(body,"
	                 " ?3), '$.id', id) WHERE resource = ?1 AND id = ?2"
	                 " RETURNING body",
	[JP_SQL_DELETE] =
	    "DELETE FROM jp_items WHERE resource = ?1 AND id = ?2",
	[JP_SQL_ADD] = "INSERT INTO jp_items (resource, id, body)"
	               " SELECT ?1, coalesce(max(id), 0) + 1,"
	               " json_set(?2, '$.id', coalesce(max(id), 0) + 1)"
	               " FROM jp_items WHERE resource = ?1 RETURNING body",
	[JP_SQL_COUNT] = "SELECT resource, count(*) FROM jp_items"
	                 " GROUP BY resource",
};

/* The resources served; anything else is 404 {} as on the real site. */
static const char *const jp_resources[] = { "posts", "users", "comments",
	NULL };

/* Lorem ipsum, as JSONPlaceholder's texts are. */
static const char *const jp_words[] = { "sunt", "aut", "facere", "repellat",
	"provident", "occaecati", "excepturi", "optio", "reprehenderit", "quia",
	"et", "suscipit", "recusandae", "consequuntur", "expedita", "rerum",
	"est", "autem", "ut", "quas", "totam", "nostrum", "qui", "dolorem",
	"eum", "magnam", "voluptatem", "nesciunt", "dolor", "beatae", "ea",
	"sequi", "porro", "velit", "odio", "fugiat", "nihil", "minima", "ipsam",
	"molestiae", "natus", "illum", "quis", "eveniet", "vero", "laboriosam",
	"tempora", "alias" };

#define JP_WORD_COUNT (sizeof(jp_words) / sizeof(jp_words[0]))

/* JSONPlaceholder's own ten users' names and usernames. */
static const char *const jp_names[JP_USERS][2] = {
	{ "Leanne Graham", "Bret" },
	{ "Ervin Howell", "Antonette" },
	{ "Clementine Bauch", "Samantha" },
	{ "Patricia Lebsack", "Karianne" },
	{ "Chelsey Dietrich", "Kamren" },
	{ "Mrs. Dennis Schulist", "Leopoldo_Corkery" },
	{ "Kurtis Weissnat", "Elwyn.Skiles" },
	{ "Nicholas Runolfsdottir V", "Maxime_Nienow" },
	{ "Glenna Reichert", "Delphine" },
	{ "Clementina DuBuque", "Moriah.Stanton" },
};

/* True iff name is a resource served. */
static bool
jp_resource_known(const char *name)
{
	for (size_t i = 0; jp_resources[i] != NULL; i++)
		if (strcmp(jp_resources[i], name) == 0)
			return true;
	return false;
}

/* The next number of a small deterministic generator (an LCG). */
static uint32_t
jp_next(uint32_t *state)
{
	*state = *state * 1103515245u + 12345u;
	return (*state >> 16) & 0x7fff;
}

/*
 * Writes lines lines of words words each (give or take a few) drawn from
 * jp_words with the generator seeded by seed, lines joined by '\n'.
 */
static void
jp_text(uint32_t seed, int lines, int words, char out[JP_TEXT_MAX])
{
	uint32_t state = seed;
	size_t off = 0;
	int n;

	out[0] = '\0';
	for (int l = 0; l < lines; l++) {
		n = words + (int)(jp_next(&state) % 4);
		for (int w = 0; w < n && off < JP_TEXT_MAX - 1; w++)
			off += (size_t)snprintf(out + off, JP_TEXT_MAX - off,
			    "%s%s", w == 0 ? (l == 0 ? "" : "\n") : " ",
			    jp_words[jp_next(&state) % JP_WORD_COUNT]);
	}
}

/* Stores item (made by the caller, deleted here) as resource's id. */
static enum sb_err
jp_insert(struct sb_ctx *ctx, const char *resource, int id, cJSON *item)
{
	sqlite3_stmt *st;
	char *text = NULL;
	enum sb_err rc = SB_ERR_NOMEM;

	if (item == NULL || (text = cJSON_PrintUnformatted(item)) == NULL)
		goto out;
	rc = SB_ERR_DB;
	if ((st = sb_db_stmt(ctx->db, jp_sql[JP_SQL_INSERT])) == NULL)
		goto out;
	sqlite3_bind_text(st, 1, resource, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, id);
	sqlite3_bind_text(st, 3, text, -1, SQLITE_STATIC);
	rc = sandbox_step_write(ctx->db, st, NULL);
out:
	cJSON_free(text);
	cJSON_Delete(item);
	return rc;
}

/* Post id: {"userId", "id", "title", "body"}. */
static cJSON *
jp_post(int id)
{
	char title[JP_TEXT_MAX], body[JP_TEXT_MAX];
	cJSON *o = cJSON_CreateObject();

	jp_text((uint32_t)id * 7919u, 1, 3 + id % 5, title);
	jp_text((uint32_t)id * 104729u, 4, 6, body);
	if (o == NULL ||
	    !cJSON_AddNumberToObject(o, "userId", (id - 1) / 10 + 1) ||
	    !cJSON_AddNumberToObject(o, "id", id) ||
	    !cJSON_AddStringToObject(o, "title", title) ||
	    !cJSON_AddStringToObject(o, "body", body)) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

/* Comment id of post: {"postId", "id", "name", "email", "body"}. */
static cJSON *
jp_comment(int id)
{
	char name[JP_TEXT_MAX], body[JP_TEXT_MAX], email[64];
	cJSON *o = cJSON_CreateObject();

	jp_text((uint32_t)id * 15485863u, 1, 4, name);
	jp_text((uint32_t)id * 32452843u, 4, 5, body);
	snprintf(email, sizeof(email), "%s%d@%s.biz",
	    jp_words[(size_t)id % JP_WORD_COUNT], id,
	    jp_words[(size_t)(id * 3) % JP_WORD_COUNT]);
	if (o == NULL ||
	    !cJSON_AddNumberToObject(
	        o, "postId", (id - 1) / JP_COMMENTS_PER_POST + 1) ||
	    !cJSON_AddNumberToObject(o, "id", id) ||
	    !cJSON_AddStringToObject(o, "name", name) ||
	    !cJSON_AddStringToObject(o, "email", email) ||
	    !cJSON_AddStringToObject(o, "body", body)) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

/* User id's address, with its geo. */
static bool
jp_address(cJSON *user, int id)
{
	char text[64];
	cJSON *a, *geo;

	if ((a = cJSON_AddObjectToObject(user, "address")) == NULL)
		return false;
	snprintf(text, sizeof(text), "%d-%d", 10000 + id * 1111, id * 7);
	if (!cJSON_AddStringToObject(a, "street", jp_words[id * 2]) ||
	    !cJSON_AddStringToObject(a, "suite", "Apt. 556") ||
	    !cJSON_AddStringToObject(a, "city", jp_words[id * 3]) ||
	    !cJSON_AddStringToObject(a, "zipcode", text) ||
	    (geo = cJSON_AddObjectToObject(a, "geo")) == NULL)
		return false;
	snprintf(text, sizeof(text), "%.4f", -37.3159 + id * 7.5);
	if (!cJSON_AddStringToObject(geo, "lat", text))
		return false;
	snprintf(text, sizeof(text), "%.4f", 81.1496 - id * 13.25);
	return cJSON_AddStringToObject(geo, "lng", text) != NULL;
}

/* User id: JSONPlaceholder's nested shape. */
static cJSON *
jp_user(int id)
{
	char email[64], phone[32], site[64];
	cJSON *o = cJSON_CreateObject(), *company;
	const char *username = jp_names[id - 1][1];

	snprintf(email, sizeof(email), "%s@%s.net", username, jp_words[id]);
	snprintf(phone, sizeof(phone), "1-770-736-%04d", 8031 + id * 7);
	snprintf(site, sizeof(site), "%s.org", jp_words[id + 10]);
	if (o == NULL || !cJSON_AddNumberToObject(o, "id", id) ||
	    !cJSON_AddStringToObject(o, "name", jp_names[id - 1][0]) ||
	    !cJSON_AddStringToObject(o, "username", username) ||
	    !cJSON_AddStringToObject(o, "email", email) || !jp_address(o, id) ||
	    !cJSON_AddStringToObject(o, "phone", phone) ||
	    !cJSON_AddStringToObject(o, "website", site) ||
	    (company = cJSON_AddObjectToObject(o, "company")) == NULL ||
	    !cJSON_AddStringToObject(company, "name", jp_names[id - 1][0]) ||
	    !cJSON_AddStringToObject(company, "catchPhrase",
	        "Multi-layered client-server neural-net") ||
	    !cJSON_AddStringToObject(
	        company, "bs", "harness real-time e-markets")) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

/* Replaces every item with the generated ones, in the caller's
 * transaction. */
static enum sb_err
jp_seed(struct sb_ctx *ctx)
{
	sqlite3_stmt *st;
	enum sb_err rc;

	if ((st = sb_db_stmt(ctx->db, jp_sql[JP_SQL_CLEAR])) == NULL ||
	    (rc = sandbox_step_write(ctx->db, st, NULL)) != SB_OK)
		return SB_ERR_DB;
	for (int id = 1; id <= JP_POSTS; id++)
		if ((rc = jp_insert(ctx, "posts", id, jp_post(id))) != SB_OK)
			return rc;
	for (int id = 1; id <= JP_POSTS * JP_COMMENTS_PER_POST; id++)
		if ((rc = jp_insert(ctx, "comments", id, jp_comment(id))) !=
		    SB_OK)
			return rc;
	for (int id = 1; id <= JP_USERS; id++)
		if ((rc = jp_insert(ctx, "users", id, jp_user(id))) != SB_OK)
			return rc;
	if ((st = sb_db_stmt(ctx->db, jp_sql[JP_SQL_MARK])) == NULL)
		return SB_ERR_DB;
	return sandbox_step_write(ctx->db, st, NULL);
}

/* Whether the items were generated since the last reset, into *seeded. */
static enum sb_err
jp_seeded(struct sb_ctx *ctx, bool *seeded)
{
	sqlite3_stmt *st;
	int step;

	if ((st = sb_db_stmt(ctx->db, jp_sql[JP_SQL_SEEDED])) == NULL)
		return SB_ERR_DB;
	step = sqlite3_step(st);
	*seeded = step == SQLITE_ROW && sqlite3_column_int(st, 0) != 0;
	sqlite3_reset(st);
	return step == SQLITE_ROW ? SB_OK : SB_ERR_DB;
}

/*
 * Generates the items unless that was done (force: regardless), in one
 * transaction, so that of processes racing exactly one generates.
 */
static enum sb_err
jp_ensure(struct sb_ctx *ctx, bool force)
{
	bool seeded = false;
	enum sb_err rc;

	if (!force && (rc = jp_seeded(ctx, &seeded)) != SB_OK)
		return rc;
	if (seeded)
		return SB_OK;
	if ((rc = sb_db_begin(ctx->db)) != SB_OK)
		return rc;
	if (!force && (rc = jp_seeded(ctx, &seeded)) != SB_OK)
		goto fail;
	if (!seeded && (rc = jp_seed(ctx)) != SB_OK)
		goto fail;
	return sb_db_commit(ctx->db);
fail:
	sb_db_rollback(ctx->db);
	return rc;
}

/* True iff the If-None-Match header lists etag (or is "*"). */
static bool
jp_etag_matches(struct sb_request *req, const char *etag)
{
	const char *inm = NULL;

	if (req->fcgi != NULL)
		inm = FCGX_GetParam("HTTP_IF_NONE_MATCH", req->fcgi->envp);
	return inm != NULL &&
	    (strcmp(inm, "*") == 0 || strstr(inm, etag) != NULL);
}

/*
 * Sends body (JSON text) with status 200 and its ETag, or 304 with the
 * ETag alone when If-None-Match names it.
 */
static void
jp_send(struct sb_request *req, const char *body)
{
	unsigned char hash[JP_ETAG_BYTES];
	char hex[JP_ETAG_BYTES * 2 + 1], etag[JP_ETAG_MAX];
	size_t len = strlen(body);

	crypto_generichash(
	    hash, sizeof(hash), (const unsigned char *)body, len, NULL, 0);
	sodium_bin2hex(hex, sizeof(hex), hash, sizeof(hash));
	snprintf(etag, sizeof(etag), "W/\"%s\"", hex);
	sb_response_header(req, "ETag", etag);
	sb_response_header(req, "Cache-Control", "max-age=43200");
	if (jp_etag_matches(req, etag)) {
		sb_response_send(req, 304, NULL, NULL, 0);
		return;
	}
	sb_response_send(
	    req, 200, "application/json; charset=utf-8", body, len);
}

/* JSONPlaceholder's 404: an empty object. */
static void
jp_not_found(struct sb_request *req)
{
	sb_response_send(req, 404, "application/json; charset=utf-8", "{}", 2);
}

/* The first query pair whose key is a plausible field name, or NULL. */
static const struct sb_kv *
jp_filter(const struct sb_request *req)
{
	for (size_t i = 0; i < req->query_count; i++) {
		size_t n = strlen(req->queries[i].key);

		if (n > 0 && n <= JP_FIELD_MAX &&
		    strspn(req->queries[i].key,
		        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		        "0123456789_") == n)
			return &req->queries[i];
	}
	return NULL;
}

/* GET /jsonplaceholder/{resource}[?field=value]: the items by id. */
void
sandbox_jp_list(struct sb_ctx *ctx, struct sb_request *req)
{
	const char *resource = sb_request_param(req, "resource");
	const struct sb_kv *filter = jp_filter(req);
	sqlite3_stmt *st;

	if (!jp_resource_known(resource)) {
		jp_not_found(req);
		return;
	}
	if (jp_ensure(ctx, false) != SB_OK ||
	    (st = sb_db_stmt(ctx->db,
	         jp_sql[filter != NULL ? JP_SQL_LIST_FILTER : JP_SQL_LIST])) ==
	        NULL) {
		sandbox_internal(req, "listing JSONPlaceholder items");
		return;
	}
	sqlite3_bind_text(st, 1, resource, -1, SQLITE_STATIC);
	if (filter != NULL) {
		sqlite3_bind_text(st, 2, filter->key, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, filter->value, -1, SQLITE_STATIC);
	}
	if (sqlite3_step(st) == SQLITE_ROW)
		jp_send(req, (const char *)sqlite3_column_text(st, 0));
	else
		sandbox_internal(req, "listing JSONPlaceholder items");
	sqlite3_reset(st);
}

/* The path's id, or -1 if it is not a positive number. */
static int64_t
jp_id(const struct sb_request *req)
{
	int64_t id;

	if (!sb_request_parse_int(
	        sb_request_param(req, "id"), 1, INT32_MAX, &id))
		return -1;
	return id;
}

/* GET /jsonplaceholder/{resource}/{id}: the item, or 404 {}. */
void
sandbox_jp_get(struct sb_ctx *ctx, struct sb_request *req)
{
	const char *resource = sb_request_param(req, "resource");
	int64_t id = jp_id(req);
	sqlite3_stmt *st;
	int step;

	if (!jp_resource_known(resource) || id < 0) {
		jp_not_found(req);
		return;
	}
	if (jp_ensure(ctx, false) != SB_OK ||
	    (st = sb_db_stmt(ctx->db, jp_sql[JP_SQL_ONE])) == NULL) {
		sandbox_internal(req, "reading a JSONPlaceholder item");
		return;
	}
	sqlite3_bind_text(st, 1, resource, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, id);
	if ((step = sqlite3_step(st)) == SQLITE_ROW)
		jp_send(req, (const char *)sqlite3_column_text(st, 0));
	else if (step == SQLITE_DONE)
		jp_not_found(req);
	else
		sandbox_internal(req, "reading a JSONPlaceholder item");
	sqlite3_reset(st);
}

/* Adds resource: count to o for every resource stored. */
static enum sb_err
jp_counts(struct sb_ctx *ctx, cJSON *o)
{
	sqlite3_stmt *st;
	int step;

	if ((st = sb_db_stmt(ctx->db, jp_sql[JP_SQL_COUNT])) == NULL)
		return SB_ERR_DB;
	while ((step = sqlite3_step(st)) == SQLITE_ROW)
		if (!cJSON_AddNumberToObject(o,
		        (const char *)sqlite3_column_text(st, 0),
		        (double)sqlite3_column_int64(st, 1))) {
			step = SQLITE_NOMEM;
			break;
		}
	sqlite3_reset(st);
	return step == SQLITE_DONE ? SB_OK : SB_ERR_DB;
}

/* POST /_sandbox/jsonplaceholder: every item back as generated; 200
 * {"posts", "users", "comments"} (their counts). */
void
sandbox_jp_reset(struct sb_ctx *ctx, struct sb_request *req)
{
	cJSON *o = NULL;

	if (jp_ensure(ctx, true) != SB_OK ||
	    (o = cJSON_CreateObject()) == NULL || jp_counts(ctx, o) != SB_OK) {
		sandbox_internal(req, "resetting JSONPlaceholder");
		goto out;
	}
	sb_response_json(req, 200, o);
out:
	cJSON_Delete(o);
}

/*
 * The control routes' common start: a known resource and, with want_body,
 * a body that is a JSON object (its text in *body).  False after
 * answering 404 or 400.
 */
static bool
jp_control_enter(struct sb_ctx *ctx, struct sb_request *req, bool want_body,
    const char **resource)
{
	*resource = sb_request_param(req, "resource");
	if (!jp_resource_known(*resource)) {
		sb_response_error(req, 404, "not_found",
		    "the resources are posts, users and comments");
		return false;
	}
	if (want_body &&
	    (sb_request_parse_json(req->body, req->body_len,
	         SB_REQUEST_JSON_DEPTH_MAX, &req->json, NULL) != SB_OK ||
	        !cJSON_IsObject(req->json))) {
		sb_response_error(req, 400, "invalid_request",
		    "the body is not a JSON object");
		return false;
	}
	if (jp_ensure(ctx, false) != SB_OK) {
		sandbox_internal(req, "generating JSONPlaceholder items");
		return false;
	}
	return true;
}

/* Answers the body a RETURNING statement gave, or 404 / 500. */
static void
jp_returned(struct sb_request *req, sqlite3_stmt *st, int status)
{
	int step = sqlite3_step(st);

	if (step == SQLITE_ROW) {
		const char *body = (const char *)sqlite3_column_text(st, 0);

		sb_response_send(
		    req, status, "application/json", body, strlen(body));
		step = sqlite3_step(st);
	} else if (step == SQLITE_DONE) {
		sb_response_error(req, 404, "not_found", "no such item");
	}
	if (step != SQLITE_DONE && req->status == 0)
		sandbox_internal(req, "changing a JSONPlaceholder item");
	sqlite3_reset(st);
}

/* PATCH /_sandbox/jsonplaceholder/{resource}/{id}: merges the body in. */
void
sandbox_jp_patch(struct sb_ctx *ctx, struct sb_request *req)
{
	const char *resource;
	sqlite3_stmt *st;
	int64_t id = jp_id(req);

	if (!jp_control_enter(ctx, req, true, &resource))
		return;
	if ((st = sb_db_stmt(ctx->db, jp_sql[JP_SQL_PATCH])) == NULL) {
		sandbox_internal(req, "changing a JSONPlaceholder item");
		return;
	}
	sqlite3_bind_text(st, 1, resource, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, id);
	sqlite3_bind_text(st, 3, req->body, (int)req->body_len, SQLITE_STATIC);
	jp_returned(req, st, 200);
}

/* POST /_sandbox/jsonplaceholder/{resource}: adds the body as a new item
 * with the next id; 201 the item. */
void
sandbox_jp_add(struct sb_ctx *ctx, struct sb_request *req)
{
	const char *resource;
	sqlite3_stmt *st;

	if (!jp_control_enter(ctx, req, true, &resource))
		return;
	if ((st = sb_db_stmt(ctx->db, jp_sql[JP_SQL_ADD])) == NULL) {
		sandbox_internal(req, "adding a JSONPlaceholder item");
		return;
	}
	sqlite3_bind_text(st, 1, resource, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, req->body, (int)req->body_len, SQLITE_STATIC);
	jp_returned(req, st, 201);
}

/* DELETE /_sandbox/jsonplaceholder/{resource}/{id}: 204, or 404. */
void
sandbox_jp_delete(struct sb_ctx *ctx, struct sb_request *req)
{
	const char *resource;
	sqlite3_stmt *st;
	int changes = 0;

	if (!jp_control_enter(ctx, req, false, &resource))
		return;
	if ((st = sb_db_stmt(ctx->db, jp_sql[JP_SQL_DELETE])) == NULL) {
		sandbox_internal(req, "removing a JSONPlaceholder item");
		return;
	}
	sqlite3_bind_text(st, 1, resource, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, jp_id(req));
	if (sandbox_step_write(ctx->db, st, &changes) != SB_OK)
		sandbox_internal(req, "removing a JSONPlaceholder item");
	else if (changes == 0)
		sb_response_error(req, 404, "not_found", "no such item");
	else
		sb_response_no_content(req);
}
