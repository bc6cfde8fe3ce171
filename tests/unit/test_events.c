/*
 * Unit tests for lib/hosting/events.c: id and ?since= validation
 * (table-driven), the store's once-per-id rule (one event, and a batch in one
 * transaction), listing with filters and pages, the outbox (written in the
 * caller's transaction, released for --now) and the batch worker without a
 * client (every event failed, none lost).  Run
 * from the repository root; each test gets a fresh database.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "sb/runtime/context.h"
#include "sb/hosting/events.h"
#include "sb/hosting/outbox.h"
#include "support.h"

static void
test_id_valid(void **state)
{
	static const struct {
		const char *id;
		bool ok;
	} cases[] = {
		{ "a", true },
		{ "0123456789abcdef0123456789abcdef", true },
		{ "e2e-1_X", true },
		{ "", false },
		{ NULL, false },
		{ "a b", false },
		{ "a/b", false },
		{ "é", false },
		{ "012345678901234567890123456789012345678901234567890123456789"
		  "0123",
		    true },
		{ "012345678901234567890123456789012345678901234567890123456789"
		  "01234",
		    false },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_int_equal(sb_events_id_valid(cases[i].id), cases[i].ok);
}

static void
test_since_parse(void **state)
{
	static const struct {
		const char *in;
		const char *want; /* NULL: refused */
	} cases[] = {
		{ "2024-01-31", "2024-01-31T00:00:00.000Z" },
		{ "2024-01-31T10:20:30Z", "2024-01-31T10:20:30.000Z" },
		{ "2024-01-31T10:20:30.123Z", "2024-01-31T10:20:30.123Z" },
		{ "2024-1-31", NULL },
		{ "2024-01-31T10:20:30", NULL },
		{ "2024-01-31T10:20:30.1Z", NULL },
		{ "2024-01-31 10:20:30Z", NULL },
		{ "yesterday", NULL },
		{ "", NULL },
		{ "2024-01-31x", NULL },
		/* the right shape, but no such date or time */
		{ "2026-13-45", NULL },
		{ "2026-00-10", NULL },
		{ "2026-02-30", NULL },
		{ "2026-02-29", NULL },
		{ "2024-02-29", "2024-02-29T00:00:00.000Z" },
		{ "1900-02-29", NULL },
		{ "2000-02-29", "2000-02-29T00:00:00.000Z" },
		{ "2026-04-31", NULL },
		{ "2026-12-31T23:59:59Z", "2026-12-31T23:59:59.000Z" },
		{ "2026-01-01T24:00:00Z", NULL },
		{ "2026-01-01T10:60:00Z", NULL },
		{ "2026-01-01T10:00:60.000Z", NULL },
	};
	char out[SB_EVENTS_TIME_MAX];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		bool ok = sb_events_since_parse(cases[i].in, out, sizeof(out));

		assert_int_equal(ok, cases[i].want != NULL);
		if (ok)
			assert_string_equal(out, cases[i].want);
	}
	assert_false(sb_events_since_parse("2024-01-31", out, 10));
}

/* Stores an event with payload text; returns whether it was new. */
static bool
store(struct sb_db *db, const char *id, const char *name, const char *payload)
{
	cJSON *p = cJSON_Parse(payload), *out = NULL;
	struct sb_events_item item = { .id = id,
		.name = name,
		.payload = p,
		.payload_text = payload,
		.payload_len = strlen(payload) };
	bool created = false;

	assert_non_null(p);
	assert_int_equal(sb_events_store(db, &item, &created, &out), SB_OK);
	assert_string_equal(cJSON_GetObjectItem(out, "id")->valuestring, id);
	assert_non_null(cJSON_GetObjectItem(out, "createdAt"));
	cJSON_Delete(out);
	cJSON_Delete(p);
	return created;
}

static void
test_store_once(void **state)
{
	struct test_fixture *f = *state;
	cJSON *p = cJSON_CreateObject(), *out = NULL;
	bool created;

	assert_true(store(f->ctx.db, "e1", "a.b", "{\"projectId\": 7}"));
	assert_false(store(f->ctx.db, "e1", "a.b", "{\"projectId\": 7}"));
	/* A redelivery keeps the first version. */
	assert_false(store(f->ctx.db, "e1", "other", "{}"));
	assert_int_equal(
	    test_query_int(f->ctx.db, "SELECT count(*) FROM events"), 1);
	assert_int_equal(test_query_int(f->ctx.db,
	                     "SELECT project_id FROM events WHERE id = 'e1'"),
	    7);
	assert_true(store(f->ctx.db, "e2", "a.b", "{\"projectId\": \"7\"}"));
	assert_int_equal(test_query_int(f->ctx.db,
	                     "SELECT count(*) FROM events"
	                     " WHERE project_id IS NULL"),
	    1);
	assert_int_equal(sb_events_store(f->ctx.db,
	                     &(struct sb_events_item){
	                         .id = "bad id", .name = "a", .payload = p },
	                     &created, &out),
	    SB_ERR_INVALID);
	assert_null(out);
	cJSON_Delete(p);
}

/* The payload is kept and answered byte for byte: no rounding past 2^53. */
static void
test_store_verbatim(void **state)
{
	static const char text[] = "{\"n\": 9007199254740993, \"x\": 1.10}";
	struct test_fixture *f = *state;
	cJSON *p = cJSON_Parse(text), *out = NULL;
	struct sb_events_item item = { .id = "big",
		.name = "a.b",
		.payload = p,
		.payload_text = text,
		.payload_len = sizeof(text) - 1 };
	bool created = false;
	char *printed;

	assert_int_equal(
	    sb_events_store(f->ctx.db, &item, &created, &out), SB_OK);
	printed = cJSON_PrintUnformatted(cJSON_GetObjectItem(out, "payload"));
	assert_string_equal(printed, text);
	assert_int_equal(test_query_int(f->ctx.db,
	                     "SELECT count(*) FROM events WHERE payload = "
	                     "'{\"n\": 9007199254740993, \"x\": 1.10}'"),
	    1);
	cJSON_free(printed);
	cJSON_Delete(out);
	cJSON_Delete(p);
}

static void
test_list(void **state)
{
	struct test_fixture *f = *state;
	struct sb_events_filter filter = { 0 };
	char id[16];
	int64_t total;
	cJSON *out;

	for (int i = 1; i <= 7; i++) {
		snprintf(id, sizeof(id), "e%d", i);
		store(f->ctx.db, id, i % 2 ? "odd" : "even",
		    i <= 4 ? "{\"projectId\": 1}" : "{\"projectId\": 2}");
	}
	assert_int_equal(
	    sb_events_list(f->ctx.db, &filter, 1, 3, &out, &total), SB_OK);
	assert_int_equal(total, 7);
	assert_int_equal(cJSON_GetArraySize(out), 3);
	assert_string_equal(
	    cJSON_GetObjectItem(cJSON_GetArrayItem(out, 0), "id")->valuestring,
	    "e7");
	cJSON_Delete(out);
	filter.project_id = 1;
	filter.name = "odd";
	assert_int_equal(
	    sb_events_list(f->ctx.db, &filter, 1, 20, &out, &total), SB_OK);
	assert_int_equal(total, 2); /* e1, e3 */
	assert_string_equal(
	    cJSON_GetObjectItem(cJSON_GetArrayItem(out, 1), "id")->valuestring,
	    "e1");
	cJSON_Delete(out);
	filter.project_id = 0;
	filter.since = "2999-01-01T00:00:00.000Z";
	assert_int_equal(
	    sb_events_list(f->ctx.db, &filter, 1, 20, &out, &total), SB_OK);
	assert_int_equal(total, 0);
	assert_int_equal(cJSON_GetArraySize(out), 0);
	cJSON_Delete(out);
	assert_int_equal(
	    sb_events_list(f->ctx.db, &filter, 0, 20, &out, &total),
	    SB_ERR_INVALID);
	assert_int_equal(
	    sb_events_list(f->ctx.db, &filter, 1, 101, &out, &total),
	    SB_ERR_INVALID);
}

static void
test_outbox(void **state)
{
	struct test_fixture *f = *state;
	cJSON *payload = cJSON_Parse("{\"projectId\": 3}");
	int64_t job = 0, moved = 0;

	/* Rolled back with the caller's transaction. */
	assert_int_equal(sb_db_begin(f->ctx.db), SB_OK);
	assert_int_equal(
	    sb_outbox_add(f->ctx.db, "x.y", payload, 3, &job), SB_OK);
	sb_db_rollback(f->ctx.db);
	assert_int_equal(
	    test_query_int(f->ctx.db, "SELECT count(*) FROM jobs"), 0);
	assert_int_equal(sb_db_begin(f->ctx.db), SB_OK);
	assert_int_equal(
	    sb_outbox_add(f->ctx.db, "x.y", payload, 3, &job), SB_OK);
	assert_int_equal(sb_db_commit(f->ctx.db), SB_OK);
	assert_int_equal(test_query_int(f->ctx.db,
	                     "SELECT json_extract(payload, '$.id') ="
	                     " json_extract(payload, '$.payload.eventId')"
	                     " AND length(json_extract(payload, '$.id')) = 32"
	                     " AND json_extract(payload, '$.payload.projectId')"
	                     " = 3 AND queue = 'events' FROM jobs"),
	    1);
	/* The caller's payload is left as it was. */
	assert_null(cJSON_GetObjectItem(payload, "eventId"));
	cJSON_Delete(payload);
	assert_int_equal(
	    sqlite3_exec(sb_db_handle(f->ctx.db),
	        "UPDATE jobs SET run_at = run_at + 3600", NULL, NULL, NULL),
	    SQLITE_OK);
	assert_int_equal(
	    sb_outbox_release(f->ctx.db, (int64_t)time(NULL), &moved), SB_OK);
	assert_int_equal(moved, 1);
	assert_int_equal(test_query_int(f->ctx.db,
	                     "SELECT run_at <= strftime('%s')"
	                     " FROM jobs"),
	    1);
}

static void
test_deliver_unconfigured(void **state)
{
	struct sb_job job = { .id = 1, .payload = (char *)"{}" };
	char err[128] = "";
	int64_t retry = 0;
	struct sb_ctx ctx;

	(void)state;
	memset(&ctx, 0, sizeof(ctx));
	assert_int_equal(
	    sb_outbox_deliver(&ctx, &job, err, sizeof(err), &retry),
	    SB_ERR_CONFIG);
	assert_true(err[0] != '\0');
}

/* A batch: new 201, known or repeated in the batch 200, bad 400, skipped. */
static void
test_store_batch(void **state)
{
	struct test_fixture *f = *state;
	cJSON *p1 = cJSON_Parse("{\"projectId\": 4}"), *p2 = cJSON_Parse("{}");
	struct sb_events_item items[] = {
		{ "b1", "a.b", p1, NULL, 0, 0 },
		{ "old", "a.b", p2, NULL, 0, 0 },
		{ "b1", "other", p2, NULL, 0, 0 },
		{ "bad id", "a.b", p2, NULL, 0, 0 },
		{ "b2", "", p2, NULL, 0, 0 },
		{ "b3", "a.b", p2, NULL, 0, 422 },
		{ "b4", "a.b", p2, NULL, 0, 0 },
	};
	size_t n = sizeof(items) / sizeof(items[0]);

	assert_true(store(f->ctx.db, "old", "a.b", "{}"));
	assert_int_equal(sb_events_store_batch(f->ctx.db, items, n), SB_OK);
	assert_int_equal(items[0].status, 201);
	assert_int_equal(items[1].status, 200);
	assert_int_equal(items[2].status, 200);
	assert_int_equal(items[3].status, 400);
	assert_int_equal(items[4].status, 400);
	assert_int_equal(items[5].status, 422);
	assert_int_equal(items[6].status, 201);
	assert_int_equal(
	    test_query_int(f->ctx.db, "SELECT count(*) FROM events"), 3);
	assert_int_equal(test_query_int(f->ctx.db,
	                     "SELECT project_id = 4 AND name = 'a.b'"
	                     " FROM events WHERE id = 'b1'"),
	    1);
	assert_int_equal(
	    sb_events_store_batch(f->ctx.db, items, 0), SB_ERR_INVALID);
	assert_int_equal(
	    sb_events_store_batch(f->ctx.db, items, SB_EVENTS_BATCH_MAX + 1),
	    SB_ERR_INVALID);
	assert_int_equal(
	    sb_events_store_batch(f->ctx.db, NULL, 1), SB_ERR_INVALID);
	assert_int_equal(sqlite3_get_autocommit(sb_db_handle(f->ctx.db)), 1);
	cJSON_Delete(p1);
	cJSON_Delete(p2);
}

/* Without a client every event of the batch fails, with the reason. */
static void
test_deliver_batch_unconfigured(void **state)
{
	struct sb_job jobs[2] = {
		{ .id = 1, .payload = (char *)"{\"id\":\"a\"}" },
		{ .id = 2, .payload = (char *)"{\"id\":\"b\"}" },
	};
	struct sb_work_result results[2];
	struct sb_ctx ctx;

	(void)state;
	memset(&ctx, 0, sizeof(ctx));
	memset(results, 0, sizeof(results));
	ctx.config.body_max = 1 << 20;
	sb_outbox_deliver_batch(&ctx, jobs, 2, results);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(results[i].rc, SB_ERR_CONFIG);
		assert_true(results[i].err[0] != '\0');
	}
}

#define EVENTS_TEST(fn) \
	cmocka_unit_test_setup_teardown( \
	    fn, test_fixture_setup, test_fixture_teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_id_valid),
		cmocka_unit_test(test_since_parse),
		EVENTS_TEST(test_store_once),
		EVENTS_TEST(test_store_verbatim),
		EVENTS_TEST(test_list),
		EVENTS_TEST(test_outbox),
		cmocka_unit_test(test_deliver_unconfigured),
		EVENTS_TEST(test_store_batch),
		cmocka_unit_test(test_deliver_batch_unconfigured),
	};

	return cmocka_run_group_tests_name("events", tests, NULL, NULL);
}
