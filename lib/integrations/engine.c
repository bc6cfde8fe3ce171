/*
 * The generic engine (see include/sb/integrations/integrations.h): runs a
 * capability's steps through sb_call_perform(), reads each upstream
 * status through the step's rules and the defaults below, carries the
 * provider's error body inside Switchboard's error, and normalises the
 * answer with the mapping language.  It knows nothing of any provider:
 * authentication, refreshes, retries and throttling are the call path's.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "integrations_internal.h"
#include "sb/client/link.h"
#include "sb/connect/call.h"
#include "sb/connect/connection.h"
#include "sb/connect/mapping.h"
#include "sb/core/deadline.h"
#include "sb/core/log.h"
#include "sb/integrations/integrations.h"
#include "sb/runtime/context.h"

/*
 * A paged read asks for the next page only while this much of the
 * request's deadline is left; otherwise it answers what it has, truncated.
 */
#define ENGINE_PAGE_RESERVE_MS 1000

/* The defaults for upstream statuses no rule of the step names. */
static const struct {
	int upstream;
	struct sb_outcome outcome;
} defaults[] = {
	{ 400, { SB_OUTCOME_ERROR, 400, "invalid_request" } },
	{ 401, { SB_OUTCOME_ERROR, 502, "upstream_unauthorized" } },
	{ 403, { SB_OUTCOME_ERROR, 502, "upstream_unauthorized" } },
	{ 404, { SB_OUTCOME_ERROR, 404, "not_found" } },
	{ 409, { SB_OUTCOME_ERROR, 409, "conflict" } },
	{ 429, { SB_OUTCOME_ERROR, 429, "rate_limited" } },
};

static const struct sb_outcome outcome_other = { SB_OUTCOME_ERROR, 502,
	"upstream_error" };

struct sb_outcome
sb_step_outcome(const struct sb_step *step, long upstream)
{
	for (size_t i = 0; step != NULL && i < step->rule_count; i++)
		if (step->rules[i].upstream == upstream)
			return step->rules[i].outcome;
	if (upstream >= 200 && upstream < 300)
		return (struct sb_outcome){ SB_OUTCOME_OK, 0, NULL };
	for (size_t i = 0; i < sizeof(defaults) / sizeof(defaults[0]); i++)
		if (defaults[i].upstream == upstream)
			return defaults[i].outcome;
	return outcome_other;
}

/* Fills res with an error of the gateway's making. */
static void
result_error(struct sb_integration_result *res, int status, const char *code,
    const char *message)
{
	cJSON_Delete(res->body);
	res->body = NULL;
	res->detail_name = NULL;
	res->status = status;
	res->code = code;
	snprintf(res->message, sizeof(res->message), "%s", message);
}

/* The upstream body parsed, or NULL if it is empty or not JSON. */
static cJSON *
body_parse(const struct sb_http_response *resp)
{
	if (resp->body == NULL || resp->body_len == 0)
		return NULL;
	return cJSON_ParseWithLength(resp->body, resp->body_len);
}

/* The first reason path of the integration that leads to a string. */
static const char *
error_reason(const struct sb_integration *in, const cJSON *doc)
{
	struct sb_mapping_path path;
	const cJSON *v;

	for (size_t i = 0; doc != NULL && i < in->reason_count; i++) {
		if (sb_mapping_path_parse(in->reasons[i],
		        strlen(in->reasons[i]), &path, NULL) != SB_OK)
			continue;
		v = sb_mapping_lookup(doc, &path);
		if (cJSON_IsString(v) && v->valuestring[0] != '\0')
			return v->valuestring;
	}
	return NULL;
}

void
sb_capability_error(const struct sb_integration *in, struct sb_outcome outcome,
    const struct sb_http_response *resp, struct sb_integration_result *res)
{
	cJSON *doc, *detail = NULL;
	const char *reason, *retry;

	retry = sb_http_response_header(resp, "Retry-After");
	if (outcome.status == 429 && retry != NULL &&
	    strlen(retry) < sizeof(res->retry_after))
		snprintf(
		    res->retry_after, sizeof(res->retry_after), "%s", retry);
	if (resp->status == 429 && resp->attempts == 0) {
		/* Switchboard's own refusal: the budget is spent, nothing
		 * was sent, so there is no provider answer to carry. */
		result_error(res, 429, "provider_rate_limited", "");
		snprintf(res->message, sizeof(res->message),
		    "the connection's rate budget at %s is spent until its "
		    "reset; nothing was sent",
		    in->provider->name);
		return;
	}
	if ((doc = body_parse(resp)) == NULL && resp->body_len > 0) {
		result_error(res, 502, "upstream_malformed", "");
		snprintf(res->message, sizeof(res->message),
		    "%s answered %ld with a body that is not JSON",
		    in->provider->name, resp->status);
		return;
	}
	reason = error_reason(in, doc);
	result_error(res, outcome.status, outcome.code, "");
	snprintf(res->message, sizeof(res->message), "%s answered %ld%s%s",
	    in->provider->name, resp->status, reason != NULL ? ": " : "",
	    reason != NULL ? reason : "");
	if (doc != NULL && in->error_mapping != NULL &&
	    sb_mapping_apply(in->error_mapping, NULL, doc, &detail) == SB_OK) {
		res->body = detail;
		res->detail_name = "upstream";
	}
	cJSON_Delete(doc);
}

/* Fills res from a failed sb_call_perform(). */
static void
call_failed(struct sb_integration_result *res, enum sb_err rc, const char *err)
{
	const struct sb_call_failure *f = sb_call_failure(rc);

	if (rc == SB_ERR_STORAGE) {
		result_error(res, 503, "storage_unavailable",
		    "the call could not be made: the store cannot write");
		snprintf(
		    res->retry_after, sizeof(res->retry_after), "%s", "10");
		return;
	}
	if (f == NULL) {
		result_error(res, 500, "internal", "the call failed");
		return;
	}
	result_error(
	    res, f->status, f->code, err[0] != '\0' ? err : f->message);
	if (f->status == 503)
		snprintf(res->retry_after, sizeof(res->retry_after), "%s", "1");
}

/*
 * Sends step with input.  Returns the outcome; for an error res is
 * filled.  resp holds the answer (the caller clears it in every case).
 */
static enum sb_outcome_kind
step_perform(struct sb_ctx *ctx, struct sb_connection *conn,
    const struct sb_integration *in, const struct sb_step *step,
    const cJSON *input, struct sb_http_response *resp,
    struct sb_integration_result *res)
{
	char path[SB_INTEGRATION_PATH_MAX], err[SB_CALL_ERROR_MAX] = "";
	struct sb_call call = { .method = step->method, .path = path };
	struct sb_outcome outcome;
	cJSON *query = NULL;
	enum sb_err rc;

	if (sb_capability_render_path(step->path, input, path, sizeof(path)) !=
	        SB_OK ||
	    (query = sb_capability_render_query(step, input)) == NULL) {
		result_error(res, 500, "internal",
		    "the request could not be "
		    "built");
		return SB_OUTCOME_ERROR;
	}
	call.query = query;
	rc = sb_call_perform(ctx, conn, &call, resp, err, sizeof(err));
	cJSON_Delete(query);
	if (rc != SB_OK) {
		call_failed(res, rc, err);
		return SB_OUTCOME_ERROR;
	}
	outcome = sb_step_outcome(step, resp->status);
	if (outcome.kind == SB_OUTCOME_ERROR)
		sb_capability_error(in, outcome, resp, res);
	return outcome.kind;
}

/*
 * The answer's body: the mapping of the last upstream body (when the
 * capability has one), then the set fields.  NULL with res filled on
 * failure.
 */
static cJSON *
answer_build(const struct sb_capability *cap, const cJSON *input,
    const struct sb_http_response *resp, struct sb_integration_result *res)
{
	cJSON *doc = NULL, *out = NULL;

	if (cap->mapping != NULL) {
		if ((doc = body_parse(resp)) == NULL) {
			result_error(res, 502, "upstream_malformed",
			    "the provider's answer is not JSON (or was cut "
			    "short)");
			return NULL;
		}
		if (sb_mapping_apply(cap->mapping, cap->root, doc, &out) !=
		    SB_OK)
			result_error(res, 500, "internal",
			    "the answer could not be normalised");
		cJSON_Delete(doc);
	} else {
		out = cJSON_CreateObject();
	}
	if (out != NULL && cap->set != NULL &&
	    (!cJSON_IsObject(out) ||
	        !sb_capability_set_fields(cap, input, out))) {
		result_error(res, 502, "upstream_malformed",
		    "the provider's answer is not an object");
		cJSON_Delete(out);
		out = NULL;
	}
	if (out == NULL && res->code == NULL)
		result_error(res, 500, "internal", "out of memory");
	return out;
}

static void list_wrap(
    const struct sb_capability *cap, struct sb_integration_result *res);

/* Runs the steps in order; the answer is built from the last one sent. */
static void
run_steps(struct sb_ctx *ctx, struct sb_connection *conn,
    const struct sb_integration *in, const struct sb_capability *cap,
    const cJSON *input, struct sb_integration_result *res)
{
	struct sb_http_response resp = { 0 };
	enum sb_outcome_kind kind = SB_OUTCOME_OK;

	for (size_t i = 0; i < cap->step_count; i++) {
		sb_http_response_clear(&resp);
		kind = step_perform(
		    ctx, conn, in, &cap->steps[i], input, &resp, res);
		if (kind != SB_OUTCOME_OK)
			break;
	}
	if (kind != SB_OUTCOME_ERROR &&
	    (res->body = answer_build(cap, input, &resp, res)) != NULL)
		res->status = 200;
	if (res->body != NULL && cap->list != NULL)
		list_wrap(cap, res);
	sb_http_response_clear(&resp);
}

/*
 * Every Link header of resp as one value, joined with ", " as RFC 9110
 * section 5.3 allows (Okta sends "self" and "next" apart), into *out
 * (arena); NULL when there is none.  SB_ERR_TOO_LARGE past
 * SB_LINK_VALUE_MAX, SB_ERR_NOMEM.
 */
static enum sb_err
link_value(const struct sb_http_response *resp, struct sb_arena *arena,
    const char **out)
{
	char *joined = NULL;

	*out = NULL;
	for (size_t i = 0; i < resp->header_count; i++) {
		if (strcasecmp(resp->headers[i].name, "Link") != 0)
			continue;
		joined = joined == NULL
		    ? sb_arena_strdup(arena, resp->headers[i].value)
		    : sb_arena_printf(
		          arena, "%s, %s", joined, resp->headers[i].value);
		if (joined == NULL)
			return SB_ERR_NOMEM;
		if (strlen(joined) > SB_LINK_VALUE_MAX)
			return SB_ERR_TOO_LARGE;
	}
	*out = joined;
	return SB_OK;
}

/*
 * The cursor of resp's next page: the paging parameter of the Link
 * header's target with the paging relation, decoded, into out; "" when
 * there is no such link.  False (res filled) when the header does not
 * parse or the cursor is unusable.
 */
static bool
page_cursor(const struct sb_paging *p, const struct sb_http_response *resp,
    struct sb_arena *arena, char *out, size_t outsize,
    struct sb_integration_result *res)
{
	char target[SB_HTTP_URL_MAX];
	struct sb_kv *pairs = NULL;
	const char *q, *links = NULL;
	size_t count = 0;
	enum sb_err rc;

	out[0] = '\0';
	rc = link_value(resp, arena, &links);
	if (rc == SB_OK)
		rc = sb_link_find(links, p->rel, target, sizeof(target));
	if (rc == SB_ERR_NOT_FOUND)
		return true;
	q = rc == SB_OK ? strchr(target, '?') : NULL;
	if (q != NULL)
		q = sb_arena_strndup(arena, q + 1, strcspn(q + 1, "#"));
	if (q == NULL ||
	    sb_request_parse_query(arena, q, &pairs, &count) != SB_OK)
		goto bad;
	for (size_t i = 0; i < count; i++)
		if (strcmp(pairs[i].key, p->param) == 0 &&
		    pairs[i].value[0] != '\0' &&
		    strlen(pairs[i].value) < outsize) {
			snprintf(out, outsize, "%s", pairs[i].value);
			return true;
		}
bad:
	result_error(res, 502, "upstream_malformed",
	    "the provider's Link header names no usable next page");
	return false;
}

/*
 * Appends the items of page (an array, consumed) to list; false (res
 * filled) if the page is not a list.
 */
static bool
page_append(cJSON *list, cJSON *page, struct sb_integration_result *res)
{
	cJSON *item;

	if (!cJSON_IsArray(page)) {
		cJSON_Delete(page);
		result_error(res, 502, "upstream_malformed",
		    "the provider's answer is not a list");
		return false;
	}
	while ((item = cJSON_DetachItemFromArray(page, 0)) != NULL)
		cJSON_AddItemToArray(list, item);
	cJSON_Delete(page);
	return true;
}

/* Where a paged read is: its records, the next cursor, why it stopped. */
struct pages {
	cJSON *list;
	char cursor[SB_INTEGRATION_CURSOR_MAX];
	int count;
	bool all;
	const char *stopped; /* "cap" or "deadline", or NULL */
};

/* Reads one page with input into pg; false (res filled) on failure. */
static bool
page_read(struct sb_ctx *ctx, struct sb_connection *conn,
    const struct sb_integration *in, const struct sb_capability *cap,
    const cJSON *input, struct sb_arena *arena, struct pages *pg,
    struct sb_integration_result *res)
{
	struct sb_http_response resp = { 0 };
	cJSON *page;
	bool ok = false;

	if (step_perform(ctx, conn, in, &cap->steps[0], input, &resp, res) !=
	    SB_OUTCOME_OK)
		goto out;
	if ((page = answer_build(cap, input, &resp, res)) == NULL ||
	    !page_append(pg->list, page, res) ||
	    !page_cursor(&cap->paging, &resp, arena, pg->cursor,
	        sizeof(pg->cursor), res))
		goto out;
	pg->count++;
	ok = true;
out:
	sb_http_response_clear(&resp);
	return ok;
}

/* {"<list>": [...], "next": cursor or null[, "truncated", "stopped"]}. */
static cJSON *
pages_answer(const struct sb_capability *cap, struct pages *pg)
{
	cJSON *o = cJSON_CreateObject();
	bool ok;

	if (o == NULL)
		return NULL;
	cJSON_AddItemToObject(o, cap->list, pg->list);
	pg->list = NULL;
	ok = (pg->cursor[0] != '\0'
	             ? cJSON_AddStringToObject(o, "next", pg->cursor)
	             : cJSON_AddNullToObject(o, "next")) != NULL;
	if (ok && pg->all)
		ok = cJSON_AddBoolToObject(
		         o, "truncated", pg->stopped != NULL) != NULL;
	if (ok && pg->stopped != NULL)
		ok = cJSON_AddStringToObject(o, "stopped", pg->stopped) != NULL;
	if (!ok) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

/*
 * A read with a list and no paging: its records as {"<list>": [...],
 * "next": null}, as a paged read answers its last page.
 */
static void
list_wrap(const struct sb_capability *cap, struct sb_integration_result *res)
{
	struct pages pg = { .list = res->body };

	res->body = pages_answer(cap, &pg);
	cJSON_Delete(pg.list);
	if (res->body == NULL)
		result_error(res, 500, "internal", "out of memory");
}

/*
 * A paged read: one page, or with the "all" input every page up to
 * SB_INTEGRATIONS_PAGES_MAX and while ENGINE_PAGE_RESERVE_MS of the
 * deadline is left.
 */
static void
run_pages(struct sb_ctx *ctx, struct sb_connection *conn,
    const struct sb_integration *in, const struct sb_capability *cap,
    const cJSON *input, struct sb_arena *arena,
    struct sb_integration_result *res)
{
	const struct sb_paging *p = &cap->paging;
	struct pages pg = { .list = cJSON_CreateArray() };
	cJSON *page_input = cJSON_Duplicate(input, true);

	pg.all = p->all != NULL &&
	    cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(input, p->all));
	if (pg.list == NULL || page_input == NULL) {
		result_error(res, 500, "internal", "out of memory");
		goto out;
	}
	for (;;) {
		if (!page_read(ctx, conn, in, cap, page_input, arena, &pg, res))
			goto out;
		if (!pg.all || pg.cursor[0] == '\0')
			break;
		if (pg.count >= SB_INTEGRATIONS_PAGES_MAX) {
			pg.stopped = "cap";
			break;
		}
		if (sb_deadline_left(ctx->deadline) < ENGINE_PAGE_RESERVE_MS) {
			pg.stopped = "deadline";
			break;
		}
		cJSON_DeleteItemFromObjectCaseSensitive(page_input, p->input);
		if (cJSON_AddStringToObject(page_input, p->input, pg.cursor) ==
		    NULL) {
			result_error(res, 500, "internal", "out of memory");
			goto out;
		}
	}
	if ((res->body = pages_answer(cap, &pg)) == NULL)
		result_error(res, 500, "internal", "out of memory");
	else
		res->status = 200;
out:
	cJSON_Delete(pg.list);
	cJSON_Delete(page_input);
}

void
sb_capability_run(struct sb_ctx *ctx, struct sb_connection *conn,
    const struct sb_integration *integration, const struct sb_capability *cap,
    const cJSON *input, struct sb_arena *arena,
    struct sb_integration_result *res)
{
	sb_integration_result_clear(res);
	if (cap->paging.on)
		run_pages(ctx, conn, integration, cap, input, arena, res);
	else
		run_steps(ctx, conn, integration, cap, input, res);
	if (res->status == 0)
		result_error(
		    res, 500, "internal", "the capability gave no answer");
}
