/*
 * What the sandbox's parts share: the clock, stepping a write statement,
 * the 500 answer, and reading a body that may be a form (as OAuth2 token
 * requests are) or JSON (as the tests find easier) as one flat set of
 * fields.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <fcgiapp.h>

#include "sb/core/header.h"
#include "sb/core/log.h"
#include "sb/core/response.h"
#include "sandbox.h"

int64_t
sandbox_now(void)
{
	return (int64_t)time(NULL);
}

enum sb_err
sandbox_step_write(struct sb_db *db, sqlite3_stmt *stmt, int *changes)
{
	int step;

	step = sqlite3_step(stmt);
	if (changes != NULL)
		*changes =
		    step == SQLITE_DONE ? sqlite3_changes(sb_db_handle(db)) : 0;
	if (step != SQLITE_DONE)
		sb_log(SB_LOG_ERROR, SANDBOX_COMPONENT, NULL, "write: %s",
		    sb_db_errmsg(db));
	sqlite3_reset(stmt);
	return step == SQLITE_DONE ? SB_OK : SB_ERR_DB;
}

void
sandbox_internal(struct sb_request *req, const char *what)
{
	sb_log(SB_LOG_ERROR, SANDBOX_COMPONENT, req->request_id, "%s failed",
	    what);
	sb_response_error(
	    req, 500, "internal", "the sandbox could not answer the request");
}

/* True iff content_type names application/json (parameters allowed). */
static bool
params_is_json(const char *content_type)
{
	size_t n = strlen("application/json");

	return content_type != NULL &&
	    strncasecmp(content_type, "application/json", n) == 0 &&
	    (content_type[n] == '\0' || content_type[n] == ';' ||
	        content_type[n] == ' ');
}

/* The text of one JSON member's value into the arena, or NULL if the
 * value is not a string, number or boolean. */
static const char *
params_json_text(struct sb_arena *arena, const cJSON *v)
{
	if (cJSON_IsString(v))
		return v->valuestring;
	if (cJSON_IsBool(v))
		return cJSON_IsTrue(v) ? "true" : "false";
	if (cJSON_IsNumber(v))
		return sb_arena_printf(arena, "%.17g", v->valuedouble);
	return NULL;
}

/* Flattens the JSON object body into pairs (see sandbox_params_read). */
static enum sb_err
params_json(struct sb_request *req, struct sb_kv **out, size_t *count,
    char *err, size_t errsize)
{
	const cJSON *v;
	struct sb_kv *kv;
	size_t n = 0;

	if (sb_request_parse_json(req->body, req->body_len,
	        SB_REQUEST_JSON_DEPTH_MAX, &req->json, NULL) != SB_OK ||
	    !cJSON_IsObject(req->json)) {
		snprintf(err, errsize, "the body is not a JSON object");
		return SB_ERR_INVALID;
	}
	kv = sb_arena_alloc(req->arena, sizeof(*kv) * SANDBOX_PARAMS_MAX);
	if (kv == NULL)
		return SB_ERR_NOMEM;
	cJSON_ArrayForEach(v, req->json)
	{
		if (n == SANDBOX_PARAMS_MAX) {
			snprintf(err, errsize,
			    "the body has more than %d fields",
			    SANDBOX_PARAMS_MAX);
			return SB_ERR_INVALID;
		}
		kv[n].key = v->string;
		if ((kv[n].value = params_json_text(req->arena, v)) == NULL) {
			snprintf(err, errsize,
			    "field '%.64s' must be a string or a number",
			    v->string);
			return SB_ERR_INVALID;
		}
		n++;
	}
	*out = kv;
	*count = n;
	return SB_OK;
}

enum sb_err
sandbox_params_read(struct sb_request *req, struct sb_kv **out, size_t *count,
    char *err, size_t errsize)
{
	enum sb_err rc;

	*out = NULL;
	*count = 0;
	if (req->body_len == 0)
		return SB_OK;
	if (params_is_json(req->content_type))
		return params_json(req, out, count, err, errsize);
	rc = sb_request_parse_query(req->arena, req->body, out, count);
	if (rc != SB_OK)
		snprintf(err, errsize, "the form body could not be decoded");
	return rc;
}

const char *
sandbox_url(struct sb_request *req, const char *path)
{
	const char *host = NULL;

	if (req->fcgi != NULL)
		host = FCGX_GetParam("HTTP_HOST", req->fcgi->envp);
	if (host == NULL || !sb_header_safe(host))
		host = "127.0.0.1";
	return sb_arena_printf(req->arena, "http://%s%s", host, path);
}

const char *
sandbox_params_get(const struct sb_kv *kv, size_t count, const char *key)
{
	for (size_t i = 0; i < count; i++)
		if (strcmp(kv[i].key, key) == 0)
			return kv[i].value;
	return NULL;
}
