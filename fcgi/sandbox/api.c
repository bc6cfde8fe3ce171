/*
 * The sandbox provider's protected API, behind its bearer tokens: a user
 * with nested objects and an array of emails (for the gateway's mappings),
 * a list of users (for array mappings) and each user by id, and an echo that
 * shows exactly what the gateway sent (method, path, query, headers, body).
 */
#include <ctype.h>
#include <string.h>

#include <fcgiapp.h>

#include "sb/core/response.h"
#include "sandbox.h"

#define API_ROLES_MAX 3
#define API_LIMIT_MAX 100
#define API_HEADER_NAME_MAX 128

/* The fixed people of the API; the first is "me". */
static const struct api_user {
	const char *id;
	const char *first_name;
	const char *last_name;
	const char *email;
	const char *work_email;
	const char *city;
	double lat;
	double lng;
	const char *roles[API_ROLES_MAX + 1];
} api_users[] = {
	{ "usr_1", "Ada", "Lovelace", "ada@example.com", "ada@work.example",
	    "London", 51.5, -0.12, { "admin", "dev", NULL } },
	{ "usr_2", "Grace", "Hopper", "grace@example.com", "grace@navy.example",
	    "Arlington", 38.88, -77.1, { "dev", NULL } },
	{ "usr_3", "Alan", "Turing", "alan@example.com",
	    "alan@bletchley.example", "Manchester", 53.48, -2.24,
	    { "viewer", NULL } },
};

#define API_USER_COUNT (sizeof(api_users) / sizeof(api_users[0]))

/* Adds {"email", "primary"} to emails; false on allocation failure. */
static bool
api_email_add(cJSON *emails, const char *email, bool primary)
{
	cJSON *o;

	if ((o = cJSON_CreateObject()) == NULL ||
	    !cJSON_AddItemToArray(emails, o)) {
		cJSON_Delete(o);
		return false;
	}
	return cJSON_AddStringToObject(o, "email", email) != NULL &&
	    cJSON_AddBoolToObject(o, "primary", primary) != NULL;
}

/* Adds u's nested parts (emails, address.geo, roles) to o. */
static bool
api_user_nested(cJSON *o, const struct api_user *u)
{
	cJSON *emails, *address, *geo, *roles;

	if ((emails = cJSON_AddArrayToObject(o, "emails")) == NULL ||
	    !api_email_add(emails, u->email, true) ||
	    !api_email_add(emails, u->work_email, false) ||
	    (address = cJSON_AddObjectToObject(o, "address")) == NULL ||
	    cJSON_AddStringToObject(address, "city", u->city) == NULL ||
	    (geo = cJSON_AddObjectToObject(address, "geo")) == NULL ||
	    cJSON_AddNumberToObject(geo, "lat", u->lat) == NULL ||
	    cJSON_AddNumberToObject(geo, "lng", u->lng) == NULL ||
	    (roles = cJSON_AddArrayToObject(o, "roles")) == NULL)
		return false;
	for (size_t i = 0; u->roles[i] != NULL; i++) {
		cJSON *role = cJSON_CreateString(u->roles[i]);

		if (role == NULL || !cJSON_AddItemToArray(roles, role)) {
			cJSON_Delete(role);
			return false;
		}
	}
	return true;
}

/* u as JSON; the caller frees it with cJSON_Delete().  NULL on failure. */
static cJSON *
api_user_json(const struct api_user *u)
{
	cJSON *o;

	if ((o = cJSON_CreateObject()) == NULL)
		return NULL;
	if (cJSON_AddStringToObject(o, "id", u->id) == NULL ||
	    cJSON_AddStringToObject(o, "firstName", u->first_name) == NULL ||
	    cJSON_AddStringToObject(o, "lastName", u->last_name) == NULL ||
	    !api_user_nested(o, u)) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

/* GET /api/me: the token's user (always the first). */
void
sandbox_api_me(struct sb_ctx *ctx, struct sb_request *req)
{
	cJSON *me;

	if (!sandbox_oauth_bearer(ctx, req))
		return;
	if ((me = api_user_json(&api_users[0])) == NULL) {
		sandbox_internal(req, "building the user");
		return;
	}
	sb_response_json(req, 200, me);
	cJSON_Delete(me);
}

/* The first limit users as a JSON array; NULL on allocation failure. */
static cJSON *
api_users_json(int64_t limit)
{
	cJSON *list, *u;

	if ((list = cJSON_CreateArray()) == NULL)
		return NULL;
	for (size_t i = 0; i < API_USER_COUNT && (int64_t)i < limit; i++) {
		if ((u = api_user_json(&api_users[i])) == NULL ||
		    !cJSON_AddItemToArray(list, u)) {
			cJSON_Delete(u);
			cJSON_Delete(list);
			return NULL;
		}
	}
	return list;
}

/* GET /api/users[?limit=N]: the users, at most N of them. */
void
sandbox_api_users(struct sb_ctx *ctx, struct sb_request *req)
{
	const char *limit_text = sb_request_query(req, "limit");
	int64_t limit = API_USER_COUNT;
	cJSON *list;

	if (!sandbox_oauth_bearer(ctx, req))
		return;
	if (limit_text != NULL &&
	    !sb_request_parse_int(limit_text, 0, API_LIMIT_MAX, &limit)) {
		sb_response_errorf(req, 400, "invalid_request",
		    "limit must be an integer from 0 to %d", API_LIMIT_MAX);
		return;
	}
	if ((list = api_users_json(limit)) == NULL) {
		sandbox_internal(req, "building the users");
		return;
	}
	sb_response_json(req, 200, list);
	cJSON_Delete(list);
}

/* GET /api/users/{id}: one user, or 404 not_found. */
void
sandbox_api_user(struct sb_ctx *ctx, struct sb_request *req)
{
	const char *id = sb_request_param(req, "id");
	cJSON *u;

	if (!sandbox_oauth_bearer(ctx, req))
		return;
	for (size_t i = 0; i < API_USER_COUNT; i++) {
		if (strcmp(api_users[i].id, id) != 0)
			continue;
		if ((u = api_user_json(&api_users[i])) == NULL) {
			sandbox_internal(req, "building the user");
			return;
		}
		sb_response_json(req, 200, u);
		cJSON_Delete(u);
		return;
	}
	sb_response_errorf(req, 404, "not_found", "no user '%s'", id);
}

/*
 * Adds value under name to headers, joining a repeated header's values
 * with ", " as HTTP allows.
 */
static bool
api_echo_header_add(
    struct sb_request *req, cJSON *headers, const char *name, const char *value)
{
	cJSON *old = cJSON_GetObjectItemCaseSensitive(headers, name);
	const char *joined;

	if (old == NULL)
		return cJSON_AddStringToObject(headers, name, value) != NULL;
	joined = sb_arena_printf(req->arena, "%s, %s", old->valuestring, value);
	return joined != NULL &&
	    cJSON_ReplaceItemInObjectCaseSensitive(
	        headers, name, cJSON_CreateString(joined));
}

/* Adds every HTTP_* parameter nginx passed, named as the header was
 * ("HTTP_X_API_KEY" becomes "x-api-key"). */
static bool
api_echo_headers(struct sb_request *req, cJSON *headers)
{
	char name[API_HEADER_NAME_MAX];
	const char *param, *eq;
	size_t len;

	if (req->fcgi == NULL)
		return true;
	for (char **env = req->fcgi->envp; *env != NULL; env++) {
		param = *env;
		if (strncmp(param, "HTTP_", 5) != 0 ||
		    (eq = strchr(param, '=')) == NULL)
			continue;
		len = (size_t)(eq - param) - 5;
		if (len == 0 || len >= sizeof(name))
			continue;
		for (size_t i = 0; i < len; i++)
			name[i] = param[5 + i] == '_'
			    ? '-'
			    : (char)tolower((unsigned char)param[5 + i]);
		name[len] = '\0';
		if (!api_echo_header_add(req, headers, name, eq + 1))
			return false;
	}
	return true;
}

/* The decoded query pairs as an object (first occurrence wins). */
static bool
api_echo_args(const struct sb_request *req, cJSON *args)
{
	for (size_t i = 0; i < req->query_count; i++) {
		if (cJSON_GetObjectItemCaseSensitive(
		        args, req->queries[i].key) != NULL)
			continue;
		if (cJSON_AddStringToObject(args, req->queries[i].key,
		        req->queries[i].value) == NULL)
			return false;
	}
	return true;
}

/* ANY /api/echo: 200 {"method", "path", "query", "args", "headers",
 * "body"} with a cookie the gateway must strip. */
void
sandbox_api_echo(struct sb_ctx *ctx, struct sb_request *req)
{
	cJSON *root, *headers, *args;

	if (!sandbox_oauth_bearer(ctx, req))
		return;
	if ((root = cJSON_CreateObject()) == NULL ||
	    cJSON_AddStringToObject(root, "method", req->method) == NULL ||
	    cJSON_AddStringToObject(root, "path", req->path) == NULL ||
	    cJSON_AddStringToObject(root, "query", req->query) == NULL ||
	    (args = cJSON_AddObjectToObject(root, "args")) == NULL ||
	    !api_echo_args(req, args) ||
	    (headers = cJSON_AddObjectToObject(root, "headers")) == NULL ||
	    !api_echo_headers(req, headers) ||
	    cJSON_AddStringToObject(
	        root, "body", req->body != NULL ? req->body : "") == NULL) {
		sandbox_internal(req, "building the echo");
		goto out;
	}
	sb_response_header(req, "Set-Cookie", "sandbox=1");
	sb_response_header(req, "X-Sandbox", "echo");
	sb_response_json(req, 200, root);
out:
	cJSON_Delete(root);
}
