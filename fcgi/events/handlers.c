/*
 * The events responder's handlers: POST /events stores one event or an
 * array of them once per id; GET /events lists them with filters and
 * pages.
 */
#include <stdio.h>
#include <string.h>

#include "events.h"
#include "sb/core/body.h"
#include "sb/runtime/context.h"
#include "sb/hosting/events.h"
#include "sb/hosting/hosting.h"
#include "sb/core/response.h"

/* Event names: lowercase letters, digits, '.', '_' and '-'. */
static bool
event_name_valid(const char *s)
{
	for (; *s != '\0'; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
		        *s == '.' || *s == '_' || *s == '-'))
			return false;
	return true;
}

#define EVENTS_ERROR_MAX 256

/* One event {"id", "name", "payload"}, by the index handlers read. */
enum event_field { EVENT_ID, EVENT_NAME, EVENT_PAYLOAD, EVENT__MAX };

static const struct sb_field event_fields[EVENT__MAX] = {
	[EVENT_ID] = { .name = "id",
	    .type = SB_FIELD_STRING,
	    .required = true,
	    .min = true,
	    .max = SB_EVENTS_ID_MAX,
	    .check = sb_events_id_valid },
	[EVENT_NAME] = { .name = "name",
	    .type = SB_FIELD_STRING,
	    .required = true,
	    .min = true,
	    .max = SB_EVENTS_NAME_MAX,
	    .check = event_name_valid },
	[EVENT_PAYLOAD] = { .name = "payload",
	    .type = SB_FIELD_OBJECT,
	    .required = true },
};

/*
 * Fills item from the validated fields in of the event whose text (as
 * received) is event: the payload is stored as its text, byte for byte.
 */
static void
event_item(const cJSON *const in[EVENT__MAX], struct sb_span event,
    struct sb_events_item *item)
{
	struct sb_span payload = { NULL, 0 };

	item->id = in[EVENT_ID]->valuestring;
	item->name = in[EVENT_NAME]->valuestring;
	item->payload = in[EVENT_PAYLOAD];
	if (sb_request_json_member(event, "payload", &payload)) {
		item->payload_text = payload.text;
		item->payload_len = payload.len;
	}
}

/* Stores the one event of a validated object body. */
static void
event_create_one(struct sb_ctx *ctx, struct sb_request *req,
    const cJSON *const in[EVENT__MAX])
{
	struct sb_span body = { req->body, req->body_len };
	struct sb_events_item item = { 0 };
	cJSON *event = NULL;
	bool created = false;
	enum sb_err rc;

	event_item(in, body, &item);
	rc = sb_events_store(ctx->db, &item, &created, &event);
	if (rc != SB_OK)
		sb_response_store_failed(
		    req, rc, "the event could not be stored");
	else
		sb_response_json(req, created ? 201 : 200, event);
	cJSON_Delete(event);
}

/*
 * Fills item from element index of a batch, checked against event_fields;
 * a bad element gets status 400 and *error (arena text) says why.
 */
static void
batch_item(struct sb_request *req, const cJSON *element, size_t index,
    struct sb_events_item *item, const char **error)
{
	struct sb_span body = { req->body, req->body_len }, text = { NULL, 0 };
	const cJSON *in[EVENT__MAX];
	char err[EVENTS_ERROR_MAX];

	memset(item, 0, sizeof(*item));
	*error = NULL;
	if (sb_request_validate(element, event_fields, EVENT__MAX, in, err,
	        sizeof(err)) != SB_OK) {
		item->status = 400;
		*error = sb_arena_strdup(req->arena, err);
		return;
	}
	sb_request_json_element(body, index, &text);
	event_item(in, text, item);
}

/* {"id", "status"} for item (id null if the element had none usable). */
static cJSON *
batch_result(
    const cJSON *element, const struct sb_events_item *item, const char *error)
{
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(element, "id");
	cJSON *o, *e;

	if ((o = cJSON_CreateObject()) == NULL)
		return NULL;
	if ((cJSON_IsString(id)
	            ? cJSON_AddStringToObject(o, "id", id->valuestring)
	            : cJSON_AddNullToObject(o, "id")) == NULL ||
	    cJSON_AddNumberToObject(o, "status", item->status) == NULL)
		goto fail;
	if (item->status == 400 &&
	    ((e = cJSON_AddObjectToObject(o, "error")) == NULL ||
	        cJSON_AddStringToObject(e, "code", "invalid_request") == NULL ||
	        cJSON_AddStringToObject(e, "message",
	            error != NULL ? error : "invalid event") == NULL))
		goto fail;
	return o;
fail:
	cJSON_Delete(o);
	return NULL;
}

/* The answer to a stored batch: one result per element, in order. */
static cJSON *
batch_results(const cJSON *body, const struct sb_events_item *items,
    const char *const *errors)
{
	cJSON *array = cJSON_CreateArray(), *result;
	const cJSON *element;
	size_t i = 0;

	cJSON_ArrayForEach(element, body)
	{
		if (array == NULL)
			break;
		result = batch_result(element, &items[i], errors[i]);
		if (result == NULL || !cJSON_AddItemToArray(array, result)) {
			cJSON_Delete(result);
			cJSON_Delete(array);
			array = NULL;
		}
		i++;
	}
	return array;
}

/*
 * POST /events with an array: 1 to SB_EVENTS_BATCH_MAX events stored in one
 * transaction, answered 200 with a result per element.  A bad element is
 * refused alone (its result says 400); the others are stored.
 */
static void
event_create_batch(
    struct sb_ctx *ctx, struct sb_request *req, const cJSON *body)
{
	struct sb_events_item items[SB_EVENTS_BATCH_MAX];
	const char *errors[SB_EVENTS_BATCH_MAX];
	int count = cJSON_GetArraySize(body);
	const cJSON *element;
	cJSON *results;
	enum sb_err rc;
	size_t i = 0;

	if (count < 1 || count > SB_EVENTS_BATCH_MAX) {
		sb_response_errorf(req, count < 1 ? 400 : 413,
		    count < 1 ? "invalid_request" : "too_large",
		    "an array of events holds 1 to %d of them",
		    SB_EVENTS_BATCH_MAX);
		return;
	}
	cJSON_ArrayForEach(element, body)
	{
		batch_item(req, element, i, &items[i], &errors[i]);
		i++;
	}
	if ((rc = sb_events_store_batch(ctx->db, items, i)) != SB_OK) {
		sb_response_store_failed(
		    req, rc, "the event could not be stored");
		return;
	}
	if ((results = batch_results(body, items, errors)) == NULL)
		sb_response_error(
		    req, 500, "internal", "the response could not be built");
	else
		sb_response_json(req, 200, results);
	cJSON_Delete(results);
}

/* POST /events: one event object, or an array of them. */
void
events_create(struct sb_ctx *ctx, struct sb_request *req)
{
	const cJSON *body, *in[EVENT__MAX];
	char err[EVENTS_ERROR_MAX];

	if ((body = sb_body_json(req, NULL, 0, NULL)) == NULL)
		return;
	if (cJSON_IsArray(body)) {
		event_create_batch(ctx, req, body);
		return;
	}
	if (sb_request_validate(body, event_fields, EVENT__MAX, in, err,
	        sizeof(err)) != SB_OK) {
		sb_response_error(req, 400, "invalid_request", err);
		return;
	}
	event_create_one(ctx, req, in);
}

/* Reads the list's query into filter, page and per_page; 400 if bad. */
static bool
list_query(struct sb_request *req, struct sb_events_filter *filter, char *since,
    int64_t *page, int64_t *per_page)
{
	const char *v;

	memset(filter, 0, sizeof(*filter));
	*per_page = SB_EVENTS_PAGE_SIZE;
	if ((v = sb_request_query(req, "name")) != NULL &&
	    (v[0] == '\0' || strlen(v) > SB_EVENTS_NAME_MAX ||
	        !event_name_valid(v))) {
		sb_response_error(req, 400, "invalid_request",
		    "name must be 1 to 64 of a-z 0-9 . _ -");
		return false;
	}
	filter->name = v;
	if ((v = sb_request_query(req, "projectId")) != NULL &&
	    !sb_request_parse_int(v, 1, INT64_MAX, &filter->project_id)) {
		sb_response_error(req, 400, "invalid_request",
		    "projectId must be a whole number from 1");
		return false;
	}
	if ((v = sb_request_query(req, "since")) != NULL) {
		if (!sb_events_since_parse(v, since, SB_EVENTS_TIME_MAX)) {
			sb_response_error(req, 400, "invalid_request",
			    "since must be YYYY-MM-DD or "
			    "YYYY-MM-DDTHH:MM:SS[.mmm]Z");
			return false;
		}
		filter->since = since;
	}
	if (!sb_hosting_page_parse(sb_request_query(req, "page"), page) ||
	    ((v = sb_request_query(req, "perPage")) != NULL &&
	        !sb_request_parse_int(
	            v, 1, SB_EVENTS_PER_PAGE_MAX, per_page))) {
		sb_response_errorf(req, 400, "invalid_request",
		    "page must be a whole number from 1 and perPage from 1 "
		    "to %d",
		    SB_EVENTS_PER_PAGE_MAX);
		return false;
	}
	return true;
}

/*
 * The query of the list's links: its filters and perPage, without page.
 * The values need no encoding: name and since were checked to hold only
 * URL-safe characters, and projectId is a number.
 */
static const char *
list_link_query(
    struct sb_request *req, const struct sb_events_filter *f, int64_t per_page)
{
	char project[40] = "";

	if (f->project_id > 0)
		snprintf(project, sizeof(project), "&projectId=%lld",
		    (long long)f->project_id);
	return sb_arena_printf(req->arena, "perPage=%lld%s%s%s%s%s",
	    (long long)per_page, f->name != NULL ? "&name=" : "",
	    f->name != NULL ? f->name : "", f->since != NULL ? "&since=" : "",
	    f->since != NULL ? f->since : "", project);
}

void
events_list(struct sb_ctx *ctx, struct sb_request *req)
{
	char since[SB_EVENTS_TIME_MAX], link[SB_HOSTING_LINK_MAX], count[32];
	struct sb_events_filter filter;
	int64_t page, per_page, total = 0;
	cJSON *events = NULL;
	const char *query;
	enum sb_err rc;

	if (!list_query(req, &filter, since, &page, &per_page))
		return;
	rc = sb_events_list(ctx->db, &filter, page, per_page, &events, &total);
	if (rc != SB_OK) {
		sb_response_store_failed(
		    req, rc, "the events could not be read");
		return;
	}
	query = list_link_query(req, &filter, per_page);
	snprintf(count, sizeof(count), "%lld", (long long)total);
	if (query == NULL ||
	    sb_hosting_link(link, sizeof(link), "/events", query, page,
	        sb_hosting_page_last(total, per_page)) != SB_OK ||
	    sb_response_header(req, "Link", link) != SB_OK ||
	    sb_response_header(req, "X-Total-Count", count) != SB_OK)
		sb_response_error(
		    req, 500, "internal", "the Link header could not be built");
	else
		sb_response_json(req, 200, events);
	cJSON_Delete(events);
}
