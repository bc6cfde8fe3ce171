/*
 * The events store of the aggregation service, and the names and limits
 * both sides of the wire share.  The producing side (the outbox) is
 * sb/hosting/outbox.h.  Delivery is at least once; an event's id stays
 * the same on every attempt, so this side stores it once
 * (sb_events_store, sb_events_store_batch): 201 the first time, 200 after.
 *
 * Every SQL statement of the module is in one table in lib/hosting/events.c.
 */
#ifndef SB_EVENTS_H
#define SB_EVENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cJSON.h>

#include "sb/store/db.h"
#include "sb/core/err.h"

#define SB_EVENTS_QUEUE "events"
#define SB_EVENTS_ID_BYTES 16 /* random bytes of a new event id */
#define SB_EVENTS_ID_MAX 64 /* characters of an event id */
#define SB_EVENTS_NAME_MAX 64 /* characters of an event name */
#define SB_EVENTS_PAGE_SIZE 20 /* default events per page */
#define SB_EVENTS_PER_PAGE_MAX 100
#define SB_EVENTS_TIME_MAX 32 /* ISO-8601 with milliseconds */
#define SB_EVENTS_BATCH_MAX 100 /* events one POST /events array holds */

/* The event names the hosting panel writes. */
#define SB_EVENT_DEPLOYMENT_CREATED "deployment.created"
#define SB_EVENT_DEPLOYMENT_CANCELLED "deployment.cancelled"
#define SB_EVENT_DEPLOYMENT_STATUS "deployment.status_changed"
#define SB_EVENT_PROJECT_URL "project.url_assigned"

/*
 * One event to store; the strings are borrowed.  payload is the parsed
 * payload (its "projectId" is read from it); payload_text, if not NULL, is
 * its text as received, which is what is stored, byte for byte (cJSON
 * would round an integer past 2^53); if NULL, payload is printed.
 */
struct sb_events_item {
	const char *id;
	const char *name;
	const cJSON *payload;
	const char *payload_text;
	size_t payload_len;
	int status; /* in: 0 to store, or the 4xx the item was refused
	               with; out: 201 stored, 200 an event with the id was
	               there, 400 refused here */
};

/*
 * Stores item unless an event with its id exists.  Its payload is stored
 * as JSON text and answered as stored; its integer "projectId", if any,
 * is kept for filtering.  On SB_OK *created tells whether it was new and
 * *out (the caller frees it with cJSON_Delete) is the stored event as the
 * API shows it.
 */
enum sb_err sb_events_store(struct sb_db *db, const struct sb_events_item *item,
    bool *created, cJSON **out);

/*
 * Stores the count (1 to SB_EVENTS_BATCH_MAX) items whose status is 0 in
 * one transaction, each as sb_events_store() would, an earlier item of the
 * batch counting as stored: status becomes 201 or 200 (400 for an item
 * without a usable id, name or payload).  Items with a status are skipped.
 * On an error nothing is stored.
 */
enum sb_err sb_events_store_batch(
    struct sb_db *db, struct sb_events_item *items, size_t count);

/* Filters of sb_events_list; NULL / 0 means "any". */
struct sb_events_filter {
	const char *name;
	int64_t project_id;
	const char *since; /* stored form (sb_events_since_parse); events
	                      created at or after it */
};

/*
 * Page page (from 1) of the events matching filter, newest first,
 * per_page a page.  On SB_OK *out is a JSON array the caller frees with
 * cJSON_Delete() and *total the number of matching events.
 */
enum sb_err sb_events_list(struct sb_db *db,
    const struct sb_events_filter *filter, int64_t page, int64_t per_page,
    cJSON **out, int64_t *total);

/* True if s is a usable event id: 1 to SB_EVENTS_ID_MAX of [A-Za-z0-9_-]. */
bool sb_events_id_valid(const char *s);

/*
 * Parses a ?since= value: "YYYY-MM-DD", "YYYY-MM-DDTHH:MM:SSZ" or
 * "YYYY-MM-DDTHH:MM:SS.mmmZ" (UTC), written to out (at least
 * SB_EVENTS_TIME_MAX bytes) in the stored form "YYYY-MM-DDTHH:MM:SS.mmmZ"
 * so that it compares as text.  False on anything else, and on a date or
 * time that does not exist ("2026-13-45", "2026-02-30", "T24:00:00Z").
 */
bool sb_events_since_parse(const char *s, char *out, size_t size);

#endif
