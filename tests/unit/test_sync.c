/*
 * Unit tests for lib/sync: the conflict rule as a table, the rule applied
 * field by field to a stored user (sb_sync_apply(): what the CRM wins,
 * what local newer changes keep, and the sync log of both), ISO 8601 UTC
 * timestamps, UUID v7 ids, the expiry of POST /users Idempotency-Key
 * records (SB_USERS_IDEMPOTENCY_TTL_S), and the fields a CRM create is
 * keyed with, kept beside the user.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sb/sync/sync.h"
#include "support.h"

struct rule_case {
	int64_t crm_ms, local_ms;
	bool pending, crm_wins;
};

/* CRM change time, local change time, local change not yet pushed. */
static const struct rule_case rules[] = {
	{ 2000, 1000, false, true }, /* pushed local, newer CRM */
	{ 1000, 2000, false, true }, /* pushed: the CRM is the truth */
	{ 2000, 1000, true, true }, /* unpushed but older: CRM wins */
	{ 1000, 2000, true, false }, /* unpushed and newer: local kept */
	{ 1000, 1000, true, true }, /* a tie goes to the CRM */
	{ 0, 1, true, false },
};

static void
test_sync_rule(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(rules); i++)
		if (sb_sync_crm_wins(rules[i].crm_ms, rules[i].local_ms,
		        rules[i].pending) != rules[i].crm_wins)
			fail_msg("rule case %zu", i);
}

/* A stored user: name changed locally at 5000 and not pushed (pushed_ms
 * 3000); email and phone changed at 1000 and pushed. */
static void
sync_user_make(struct sb_db *db, struct sb_sync_user *u)
{
	memset(u, 0, sizeof(*u));
	sb_users_new_id(u->id);
	snprintf(u->fields[SB_USER_NAME], sizeof(u->fields[0]), "Local Name");
	snprintf(
	    u->fields[SB_USER_EMAIL], sizeof(u->fields[0]), "a@example.com");
	snprintf(u->fields[SB_USER_PHONE], sizeof(u->fields[0]), "5551234567");
	u->field_ms[SB_USER_NAME] = 5000;
	u->field_ms[SB_USER_EMAIL] = u->field_ms[SB_USER_PHONE] = 1000;
	u->pushed_ms = 3000;
	u->crm_ms = 2000;
	snprintf(u->sync_status, sizeof(u->sync_status), "pending");
	snprintf(u->crm_id, sizeof(u->crm_id), "CRM100");
	sb_users_iso(1000, u->created_at);
	sb_users_iso(5000, u->updated_at);
	u->updated_ms = 5000;
	assert_int_equal(sb_db_begin(db), SB_OK);
	assert_int_equal(sb_users_insert(db, u), SB_OK);
	assert_int_equal(sb_db_commit(db), SB_OK);
}

/* Applies crm (JSON text) at crm_ms in a transaction; returns *changed. */
static bool
sync_apply(
    struct sb_db *db, struct sb_sync_user *u, const char *crm, int64_t crm_ms)
{
	cJSON *j = cJSON_Parse(crm);
	bool changed = false;

	assert_non_null(j);
	assert_int_equal(sb_db_begin(db), SB_OK);
	assert_int_equal(
	    sb_sync_apply(db, u, j, crm_ms, "reconcile", &changed), SB_OK);
	assert_int_equal(sb_users_save(db, u), SB_OK);
	assert_int_equal(sb_db_commit(db), SB_OK);
	cJSON_Delete(j);
	return changed;
}

static void
test_sync_apply(void **state)
{
	struct test_fixture *f = *state;
	struct sb_db *db = f->ctx.db;
	struct sb_sync_user u, back;
	cJSON *log = NULL;

	sync_user_make(db, &u);
	/* at 4000: older than the unpushed name, newer than the phone */
	assert_true(sync_apply(db, &u,
	    "{\"name\": \"CRM Name\", \"phone\": \"5559876543\", "
	    "\"email\": \"a@example.com\"}",
	    4000));
	assert_int_equal(sb_users_get(db, u.id, false, &back), SB_OK);
	assert_string_equal(back.fields[SB_USER_NAME], "Local Name");
	assert_string_equal(back.fields[SB_USER_PHONE], "5559876543");
	assert_int_equal(back.crm_ms, 4000);
	assert_int_equal(sb_users_log_list(db, u.id, &log), SB_OK);
	assert_int_equal(cJSON_GetArraySize(log), 2);
	assert_string_equal(
	    cJSON_GetObjectItem(cJSON_GetArrayItem(log, 0), "outcome")
	        ->valuestring,
	    "local_kept");
	assert_string_equal(
	    cJSON_GetObjectItem(
	        cJSON_GetObjectItem(cJSON_GetArrayItem(log, 1), "detail"),
	        "local")
	        ->valuestring,
	    "5551234567");
	cJSON_Delete(log);
	/* at 6000 the CRM's name is newer: it wins; a bad value is skipped */
	assert_true(sync_apply(db, &u,
	    "{\"name\": \"Newest\", \"email\": \"not-an-email\"}", 6000));
	assert_string_equal(u.fields[SB_USER_NAME], "Newest");
	assert_string_equal(u.fields[SB_USER_EMAIL], "a@example.com");
	/* the same values again change nothing */
	assert_false(sync_apply(db, &u, "{\"name\": \"Newest\"}", 7000));
}

/* sb_sync_create() keeps the fields as the create's; a PUT-like change
 * leaves them; once they are cleared they read back empty. */
static void
test_sync_create_fields(void **state)
{
	struct test_fixture *f = *state;
	struct sb_db *db = f->ctx.db;
	struct sb_sync_user u, back;

	sync_user_make(db, &u); /* sb_users_insert(): none kept */
	assert_int_equal(sb_users_get(db, u.id, false, &back), SB_OK);
	assert_string_equal(back.create_fields[SB_USER_NAME], "");
	sb_users_new_id(u.id);
	u.crm_id[0] = '\0';
	snprintf(u.fields[SB_USER_EMAIL], sizeof(u.fields[0]), "b@example.com");
	assert_int_equal(sb_db_begin(db), SB_OK);
	assert_int_equal(sb_sync_create(db, &u, 3), SB_OK);
	assert_int_equal(sb_db_commit(db), SB_OK);
	assert_true(u.job_id > 0);
	snprintf(u.fields[SB_USER_NAME], sizeof(u.fields[0]), "Changed");
	assert_int_equal(sb_db_begin(db), SB_OK);
	assert_int_equal(sb_users_save(db, &u), SB_OK);
	assert_int_equal(sb_db_commit(db), SB_OK);
	assert_int_equal(sb_users_get(db, u.id, false, &back), SB_OK);
	assert_string_equal(back.fields[SB_USER_NAME], "Changed");
	assert_string_equal(back.create_fields[SB_USER_NAME], "Local Name");
	assert_string_equal(back.create_fields[SB_USER_EMAIL], "b@example.com");
	assert_string_equal(back.create_fields[SB_USER_PHONE], "5551234567");
	memset(back.create_fields, 0, sizeof(back.create_fields));
	assert_int_equal(sb_db_begin(db), SB_OK);
	assert_int_equal(sb_users_save(db, &back), SB_OK);
	assert_int_equal(sb_db_commit(db), SB_OK);
	assert_int_equal(sb_users_get(db, u.id, false, &back), SB_OK);
	assert_string_equal(back.create_fields[SB_USER_EMAIL], "");
}

/* sb_users_due(): deletes due again, and synced users due a pull. */
static void
test_sync_due(void **state)
{
	struct test_fixture *f = *state;
	struct sb_db *db = f->ctx.db;
	struct sb_sync_user u[5];
	char ids[5][SB_USER_ID_MAX];
	int64_t pending, dead;
	size_t n = 0;

	pending = test_job_enqueue(db, SB_SYNC_QUEUE, "{}", 3, 0);
	dead = test_job_enqueue(db, SB_SYNC_QUEUE, "{}", 3, 0);
	assert_int_equal(sqlite3_exec(sb_db_handle(db),
	                     "UPDATE jobs SET state = 'dead' WHERE id = 2",
	                     NULL, NULL, NULL),
	    SQLITE_OK);
	assert_int_equal(dead, 2);
	sync_user_make(db, &u[0]);
	assert_int_equal(sb_db_begin(db), SB_OK);
	for (int i = 1; i < 5; i++) {
		u[i] = u[0];
		sb_users_new_id(u[i].id);
		snprintf(u[i].fields[SB_USER_EMAIL], sizeof(u[i].fields[0]),
		    "due%d@example.com", i);
		snprintf(u[i].crm_id, sizeof(u[i].crm_id), "CRM%d", 200 + i);
		assert_int_equal(sb_users_insert(db, &u[i]), SB_OK);
	}
	assert_int_equal(sb_db_commit(db), SB_OK);
	for (int i = 0; i < 5; i++) {
		u[i].reconciled_at = 1000;
		u[i].retry_at = i < 3 ? 1000 : 0;
		u[i].deleted = i != 3;
		snprintf(u[i].sync_status, sizeof(u[i].sync_status), "%s",
		    i == 3 ? "synced" : "failed");
	}
	u[1].job_id = pending; /* its delete is open again */
	u[2].retry_at = 5000; /* not yet */
	u[4].job_id = dead; /* its job died without giving up */
	assert_int_equal(sb_db_begin(db), SB_OK);
	for (int i = 0; i < 5; i++)
		assert_int_equal(sb_users_save(db, &u[i]), SB_OK);
	assert_int_equal(sb_db_commit(db), SB_OK);
	assert_int_equal(
	    sb_users_due(db, SB_USERS_DUE_DELETE, 2000, ids, 5, &n), SB_OK);
	assert_int_equal(n, 2);
	assert_string_equal(ids[0], u[4].id); /* no retry_at: first */
	assert_string_equal(ids[1], u[0].id);
	assert_int_equal(
	    sb_users_due(db, SB_USERS_DUE_RECONCILE, 2000, ids, 5, &n), SB_OK);
	assert_int_equal(n, 1);
	assert_string_equal(ids[0], u[3].id);
}

/* Ages key's record by seconds past its creation. */
static void
idem_age(struct sb_db *db, const char *key, int64_t seconds)
{
	char at[SB_DB_ISO_MAX], sql[256];

	sb_users_iso(sb_users_now_ms() - seconds * 1000, at);
	snprintf(sql, sizeof(sql),
	    "UPDATE sync_idempotency SET created_at = '%s' WHERE key = '%s'",
	    at, key);
	assert_int_equal(
	    sqlite3_exec(sb_db_handle(db), sql, NULL, NULL, NULL), SQLITE_OK);
}

static void
test_sync_idempotency_expiry(void **state)
{
	struct test_fixture *f = *state;
	struct sb_db *db = f->ctx.db;
	char user_id[SB_USER_ID_MAX], hash[65], *answer = NULL;
	int64_t pruned = -1;

	assert_int_equal(
	    sb_users_idempotency_put(db, "k-old", "h1", "u1", "{}"), SB_OK);
	assert_int_equal(
	    sb_users_idempotency_put(db, "k-new", "h2", "u2", "{}"), SB_OK);
	idem_age(db, "k-old", SB_USERS_IDEMPOTENCY_TTL_S + 1);
	idem_age(db, "k-new", SB_USERS_IDEMPOTENCY_TTL_S - 60);
	/* an expired record is not replayed, even before the prune */
	assert_int_equal(
	    sb_users_idempotency_get(db, "k-old", user_id, hash, &answer),
	    SB_ERR_NOT_FOUND);
	assert_int_equal(
	    sb_users_idempotency_get(db, "k-new", user_id, hash, &answer),
	    SB_OK);
	assert_string_equal(user_id, "u2");
	free(answer);
	/* the prune drops the expired one only */
	assert_int_equal(
	    sb_users_idempotency_prune(db, sb_users_now_ms(), &pruned), SB_OK);
	assert_int_equal(pruned, 1);
	assert_int_equal(
	    sb_users_idempotency_prune(db, sb_users_now_ms(), &pruned), SB_OK);
	assert_int_equal(pruned, 0);
	/* an expired key may be used anew, after its prune or before */
	assert_int_equal(
	    sb_users_idempotency_put(db, "k-old", "h3", "u3", "{}"), SB_OK);
	idem_age(db, "k-new", SB_USERS_IDEMPOTENCY_TTL_S + 1);
	assert_int_equal(
	    sb_users_idempotency_put(db, "k-new", "h4", "u4", "{}"), SB_OK);
	answer = NULL;
	assert_int_equal(
	    sb_users_idempotency_get(db, "k-new", user_id, hash, &answer),
	    SB_OK);
	assert_string_equal(hash, "h4");
	free(answer);
}

struct iso_case {
	const char *text;
	bool ok;
	int64_t ms;
};

static const struct iso_case isos[] = {
	{ "2023-10-15T12:00:00Z", true, 1697371200000 },
	{ "2023-10-15T12:00:00.123Z", true, 1697371200123 },
	{ "2023-10-15T12:00:00.1Z", true, 1697371200100 },
	{ "2023-10-15T12:00:00.123456Z", true, 1697371200123 },
	{ "2023-10-15T12:00:00", false, 0 },
	{ "2023-10-15T12:00:00+02:00", false, 0 },
	{ "2023-10-15 12:00:00Z", false, 0 },
	{ "2023-02-30T12:00:00Z", false, 0 },
	{ "2023-13-01T12:00:00Z", false, 0 },
	{ "2023-10-15T24:00:00Z", false, 0 },
	{ "2023-10-15T12:00:00.Z", false, 0 },
	{ "yesterday", false, 0 },
	{ "", false, 0 },
};

static void
test_sync_iso(void **state)
{
	char back[SB_DB_ISO_MAX];
	int64_t ms;

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(isos); i++) {
		ms = 0;
		if (sb_users_parse_iso(isos[i].text, &ms) != isos[i].ok ||
		    (isos[i].ok && ms != isos[i].ms))
			fail_msg("iso case %zu (%s)", i, isos[i].text);
	}
	sb_users_iso(1697371200123, back);
	assert_string_equal(back, "2023-10-15T12:00:00.123Z");
	assert_false(sb_users_parse_iso(NULL, &ms));
}

static void
test_sync_ids(void **state)
{
	char a[SB_USER_ID_MAX], b[SB_USER_ID_MAX];

	(void)state;
	sb_users_new_id(a);
	sb_users_new_id(b);
	assert_true(sb_users_id_valid(a));
	assert_string_not_equal(a, b);
	assert_int_equal(a[14], '7'); /* version 7 */
	assert_non_null(strchr("89ab", a[19])); /* variant 10 */
	assert_true(strncmp(a, b, 8) <= 0); /* time-ordered */
	assert_false(sb_users_id_valid("0190A1B2-0000-7000-8000-000000000000"));
	assert_false(sb_users_id_valid("not-a-uuid"));
	assert_false(sb_users_id_valid(NULL));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sync_rule),
		cmocka_unit_test_setup_teardown(
		    test_sync_apply, test_fixture_setup, test_fixture_teardown),
		cmocka_unit_test(test_sync_iso),
		cmocka_unit_test(test_sync_ids),
		cmocka_unit_test_setup_teardown(test_sync_idempotency_expiry,
		    test_fixture_setup, test_fixture_teardown),
		cmocka_unit_test_setup_teardown(test_sync_create_fields,
		    test_fixture_setup, test_fixture_teardown),
		cmocka_unit_test_setup_teardown(
		    test_sync_due, test_fixture_setup, test_fixture_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
