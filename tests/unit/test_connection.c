/*
 * Unit tests for lib/connect/connection.c: tokens and the guard's look-up, what
 * the database file holds (never a credential or a token in the clear),
 * sealed blobs bound to their row, updates, deletes, the refresh lease,
 * refresh outcomes, the selection of connections due for a refresh, expiry
 * parsing and the public description.  Each test gets a mkdtemp var
 * directory with a migrated database and a fresh keyring; run from the
 * repository root.
 */
/* memmem(3) */
#define _GNU_SOURCE

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "sb/connect/connection.h"
#include "sb/core/deadline.h"
#include "support.h"

#define ACCESS "PLAIN-access-7f3c9a1b2d4e6f80"
#define REFRESH "PLAIN-refresh-0a1b2c3d4e5f6789"
#define CLIENT_SECRET "PLAIN-client-secret-deadbeef42"

/* A migrated database, a fresh keyring and the providers; var_dir is the
 * fixture's directory and the sandbox is allowed at 127.0.0.1:8081. */
static int
setup(void **state)
{
	struct test_fixture *f;
	struct sb_ctx *ctx;

	if (test_fixture_setup(state) != 0)
		return -1;
	f = *state;
	ctx = &f->ctx;
	snprintf(
	    ctx->config.var_dir, sizeof(ctx->config.var_dir), "%s", f->dir);
	ctx->config.sandbox_port = 8081;
	snprintf(ctx->config.allowed_hosts, sizeof(ctx->config.allowed_hosts),
	    "127.0.0.1:8081");
	if (test_ctx_open_providers(ctx, f->dir) != SB_OK) {
		test_fixture_teardown(state);
		return -1;
	}
	return 0;
}

static const struct sb_provider *
provider(struct test_fixture *f, const char *name)
{
	const struct sb_provider *p = sb_providers_find(f->ctx.providers, name);

	assert_non_null(p);
	return p;
}

static cJSON *
parse(const char *text)
{
	cJSON *j = cJSON_Parse(text);

	if (j == NULL)
		fail_msg("test JSON does not parse: %s", text);
	return j;
}

/* Creates a connection of provider with the credentials' JSON text. */
static void
create(struct test_fixture *f, const char *name, const char *credentials,
    const char *config, struct sb_connection *conn,
    char token[SB_CONNECTION_TOKEN_MAX])
{
	cJSON *creds = parse(credentials);
	cJSON *cfg = config != NULL ? parse(config) : NULL;
	cJSON *metadata = parse("{\"customer\": \"acme\"}");

	assert_int_equal(
	    sb_connection_create(SB_CONNECTION_STORE(&f->ctx),
	        provider(f, name), creds, cfg, metadata, conn, token),
	    SB_OK);
	cJSON_Delete(creds);
	cJSON_Delete(cfg);
	cJSON_Delete(metadata);
}

static void
create_sandbox(struct test_fixture *f, struct sb_connection *conn,
    char token[SB_CONNECTION_TOKEN_MAX])
{
	create(f, "sandbox",
	    "{\"access_token\": \"" ACCESS "\", \"refresh_token\": \"" REFRESH
	    "\", \"client_secret\": \"" CLIENT_SECRET "\"}",
	    NULL, conn, token);
}

static const char *
cred(const struct sb_connection *conn, const char *name)
{
	const cJSON *v =
	    cJSON_GetObjectItemCaseSensitive(conn->credentials, name);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* Runs one statement with up to two text parameters; returns changes. */
static int
exec_sql(struct test_fixture *f, const char *sql, const char *a, const char *b)
{
	sqlite3 *h = sb_db_handle(f->ctx.db);
	sqlite3_stmt *st = NULL;

	assert_int_equal(sqlite3_prepare_v2(h, sql, -1, &st, NULL), SQLITE_OK);
	if (a != NULL)
		sqlite3_bind_text(st, 1, a, -1, SQLITE_TRANSIENT);
	if (b != NULL)
		sqlite3_bind_text(st, 2, b, -1, SQLITE_TRANSIENT);
	assert_int_equal(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
	return sqlite3_changes(h);
}

/* Reads the whole file at path; *len gets its size.  Caller frees. */
static unsigned char *
slurp(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	unsigned char *buf;
	long size;

	*len = 0;
	if (fp == NULL)
		return NULL;
	assert_int_equal(fseek(fp, 0, SEEK_END), 0);
	assert_true((size = ftell(fp)) >= 0);
	rewind(fp);
	assert_non_null(buf = malloc((size_t)size + 1));
	assert_int_equal(fread(buf, 1, (size_t)size, fp), (size_t)size);
	fclose(fp);
	*len = (size_t)size;
	return buf;
}

/* True if needle occurs in the database file or its WAL. */
static bool
db_holds(struct test_fixture *f, const char *needle)
{
	char db_path[TEST_PATH_MAX + 32], wal[TEST_PATH_MAX + 64];
	const char *paths[] = { db_path, wal };
	unsigned char *buf;
	bool found = false;
	size_t len;

	snprintf(db_path, sizeof(db_path), "%s/%s", f->dir, TEST_DB_NAME);
	snprintf(wal, sizeof(wal), "%s-wal", db_path);
	for (size_t i = 0; i < ARRAY_LEN(paths); i++) {
		if ((buf = slurp(paths[i], &len)) == NULL)
			continue;
		if (memmem(buf, len, needle, strlen(needle)) != NULL)
			found = true;
		free(buf);
	}
	return found;
}

static void
checkpoint(struct test_fixture *f)
{
	assert_int_equal(
	    sqlite3_exec(sb_db_handle(f->ctx.db),
	        "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL),
	    SQLITE_OK);
}

static void
test_create_token(void **state)
{
	struct test_fixture *f = *state;
	char token[SB_CONNECTION_TOKEN_MAX], *dot;
	struct sb_connection conn;
	size_t idlen;

	create_sandbox(f, &conn, token);
	/* "<id>.<secret>": the id is "cn_" and 20 hex digits. */
	assert_non_null(dot = strchr(token, '.'));
	idlen = (size_t)(dot - token);
	assert_int_equal(idlen, strlen(conn.id));
	assert_memory_equal(token, conn.id, idlen);
	assert_int_equal(strlen(conn.id), 23);
	assert_memory_equal(conn.id, "cn_", 3);
	assert_int_equal(strspn(conn.id + 3, "0123456789abcdef"), 20);
	assert_true(strlen(dot + 1) >= 32);
	assert_null(strchr(dot + 1, '.'));
	assert_ptr_equal(conn.provider, provider(f, "sandbox"));
	assert_string_equal(cred(&conn, "access_token"), ACCESS);
	assert_string_equal(
	    cJSON_GetObjectItemCaseSensitive(conn.metadata, "customer")
	        ->valuestring,
	    "acme");
	assert_true(cJSON_IsObject(conn.config));
	assert_false(conn.needs_reauth);
	assert_int_equal(conn.refresh_failures, 0);
	assert_true(conn.created_at[0] != '\0');
	assert_int_equal(test_query_int_text(f->ctx.db,
	                     "SELECT count(*) FROM connections WHERE "
	                     "id = ?1",
	                     conn.id),
	    1);
	sb_connection_clear(&conn);
	/* A zeroed connection clears without harm, twice. */
	sb_connection_clear(&conn);
	sb_connection_clear(NULL);
}

static void
test_authenticate(void **state)
{
	struct test_fixture *f = *state;
	char token[SB_CONNECTION_TOKEN_MAX], other[SB_CONNECTION_TOKEN_MAX];
	char wrong[SB_CONNECTION_TOKEN_MAX + 8], mixed[SB_CONNECTION_TOKEN_MAX];
	char truncated[SB_CONNECTION_TOKEN_MAX],
	    longer[SB_CONNECTION_TOKEN_MAX + 8];
	char upper[SB_CONNECTION_TOKEN_MAX], unknown[SB_CONNECTION_TOKEN_MAX];
	char huge[512];
	struct sb_connection a, b, conn;
	const char *dot;

	create_sandbox(f, &a, token);
	create(f, "github",
	    "{\"access_token\": \"ghp_abcdefghijklmnopqrstuvwxyz0123\"}", NULL,
	    &b, other);
	dot = strchr(token, '.');
	/* a's id with b's secret */
	snprintf(mixed, sizeof(mixed), "%.*s%s", (int)(dot - token), token,
	    strchr(other, '.'));
	/* one character of the secret changed */
	snprintf(wrong, sizeof(wrong), "%s", token);
	wrong[strlen(wrong) - 1] = wrong[strlen(wrong) - 1] == 'A' ? 'B' : 'A';
	snprintf(truncated, sizeof(truncated), "%.*s", (int)strlen(token) - 1,
	    token);
	snprintf(longer, sizeof(longer), "%sx", token);
	snprintf(upper, sizeof(upper), "%s", token);
	for (size_t i = 3; i < (size_t)(dot - token); i++)
		if (upper[i] >= 'a' && upper[i] <= 'f')
			upper[i] = (char)(upper[i] - 'a' + 'A');
	snprintf(unknown, sizeof(unknown), "cn_00000000000000000000%s", dot);
	memset(huge, 'a', sizeof(huge) - 1);
	huge[sizeof(huge) - 1] = '\0';
	memcpy(huge, token, strlen(token));

	struct {
		const char *token;
		const char *id;
		enum sb_err want;
		const char *want_id;
	} cases[] = {
		{ token, NULL, SB_OK, a.id },
		{ token, a.id, SB_OK, a.id },
		{ other, NULL, SB_OK, b.id },
		{ other, b.id, SB_OK, b.id },
		{ token, b.id, SB_ERR_UNAUTHORIZED, NULL },
		{ other, a.id, SB_ERR_UNAUTHORIZED, NULL },
		{ token, "cn_00000000000000000000", SB_ERR_UNAUTHORIZED, NULL },
		{ mixed, NULL, SB_ERR_UNAUTHORIZED, NULL },
		{ mixed, a.id, SB_ERR_UNAUTHORIZED, NULL },
		{ wrong, NULL, SB_ERR_UNAUTHORIZED, NULL },
		{ truncated, NULL, SB_ERR_UNAUTHORIZED, NULL },
		{ longer, NULL, SB_ERR_UNAUTHORIZED, NULL },
		{ upper, NULL, SB_ERR_UNAUTHORIZED, NULL },
		{ unknown, NULL, SB_ERR_UNAUTHORIZED, NULL },
		{ huge, NULL, SB_ERR_UNAUTHORIZED, NULL },
		{ a.id, NULL, SB_ERR_UNAUTHORIZED, NULL },
		{ dot, NULL, SB_ERR_UNAUTHORIZED, NULL },
		{ "", NULL, SB_ERR_UNAUTHORIZED, NULL },
		{ ".", NULL, SB_ERR_UNAUTHORIZED, NULL },
		{ "garbage", NULL, SB_ERR_UNAUTHORIZED, NULL },
		{ "cn_zz.x", NULL, SB_ERR_UNAUTHORIZED, NULL },
		{ NULL, NULL, SB_ERR_UNAUTHORIZED, NULL },
		{ NULL, a.id, SB_ERR_UNAUTHORIZED, NULL },
	};
	enum sb_err rc;

	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		memset(&conn, 0x5a, sizeof(conn));
		rc = sb_connection_authenticate(SB_CONNECTION_STORE(&f->ctx),
		    cases[i].token, cases[i].id, &conn);
		if (rc != cases[i].want)
			fail_msg("case %zu: got %s, want %s", i,
			    sb_strerror(rc), sb_strerror(cases[i].want));
		if (rc == SB_OK) {
			assert_string_equal(conn.id, cases[i].want_id);
			assert_non_null(conn.credentials);
		} else {
			assert_null(conn.credentials);
			assert_null(conn.provider);
		}
		sb_connection_clear(&conn);
	}
	sb_connection_clear(&a);
	sb_connection_clear(&b);
}

static void
test_db_holds_no_secrets(void **state)
{
	struct test_fixture *f = *state;
	char token[SB_CONNECTION_TOKEN_MAX];
	const char *secret_part;
	struct sb_connection conn;
	cJSON *creds;

	create_sandbox(f, &conn, token);
	secret_part = strchr(token, '.') + 1;
	creds = parse("{\"access_token\": \"PLAIN-updated-access-55aa\", "
	              "\"refresh_token\": \"" REFRESH "\"}");
	assert_int_equal(sb_connection_update(
	                     SB_CONNECTION_STORE(&f->ctx), &conn, creds, NULL),
	    SB_OK);
	cJSON_Delete(creds);
	checkpoint(f);
	/* The test's own probe works: ids and metadata are in the clear. */
	assert_true(db_holds(f, conn.id));
	assert_true(db_holds(f, "acme"));
	assert_false(db_holds(f, ACCESS));
	assert_false(db_holds(f, REFRESH));
	assert_false(db_holds(f, CLIENT_SECRET));
	assert_false(db_holds(f, "PLAIN-updated-access-55aa"));
	assert_false(db_holds(f, "PLAIN-"));
	assert_false(db_holds(f, token));
	assert_false(db_holds(f, secret_part));
	/* and no key material either */
	assert_int_equal(test_query_int_text(f->ctx.db,
	                     "SELECT length(token_digest) FROM "
	                     "connections WHERE id = ?1",
	                     conn.id),
	    64);
	sb_connection_clear(&conn);
}

/* Flips one byte of the sealed blob of id, inside the ciphertext. */
static void
tamper(struct test_fixture *f, const char *id, int offset)
{
	sqlite3 *h = sb_db_handle(f->ctx.db);
	sqlite3_stmt *st = NULL;
	unsigned char *blob;
	int len;

	assert_int_equal(
	    sqlite3_prepare_v2(h,
	        "SELECT credentials FROM connections WHERE id = ?1", -1, &st,
	        NULL),
	    SQLITE_OK);
	sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	len = sqlite3_column_bytes(st, 0);
	assert_true(len > offset);
	assert_non_null(blob = malloc((size_t)len));
	memcpy(blob, sqlite3_column_blob(st, 0), (size_t)len);
	sqlite3_finalize(st);
	blob[offset < 0 ? len + offset : offset] ^= 0x01;
	assert_int_equal(sqlite3_prepare_v2(h,
	                     "UPDATE connections SET credentials = ?2 WHERE "
	                     "id = ?1",
	                     -1, &st, NULL),
	    SQLITE_OK);
	sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_blob(st, 2, blob, len, SQLITE_TRANSIENT);
	assert_int_equal(sqlite3_step(st), SQLITE_DONE);
	assert_int_equal(sqlite3_changes(h), 1);
	sqlite3_finalize(st);
	free(blob);
}

static void
test_tampered_blob(void **state)
{
	static const int offsets[] = { 0, 1, 5, 20, 29, 40, -1 };
	struct test_fixture *f = *state;
	char token[SB_CONNECTION_TOKEN_MAX], id[SB_CONNECTION_ID_MAX];
	struct sb_connection conn, loaded = { 0 };

	for (size_t i = 0; i < ARRAY_LEN(offsets); i++) {
		create_sandbox(f, &conn, token);
		snprintf(id, sizeof(id), "%s", conn.id);
		sb_connection_clear(&conn);
		assert_int_equal(sb_connection_load(
		                     SB_CONNECTION_STORE(&f->ctx), id, &loaded),
		    SB_OK);
		sb_connection_clear(&loaded);
		tamper(f, id, offsets[i]);
		if (sb_connection_load(SB_CONNECTION_STORE(&f->ctx), id,
		        &loaded) != SB_ERR_CRYPTO)
			fail_msg(
			    "offset %d: a tampered blob opened", offsets[i]);
		assert_null(loaded.credentials);
		/* The right token still names the connection (its digest
		 * needs no credentials), but yields no credentials. */
		assert_int_equal(
		    sb_connection_authenticate(
		        SB_CONNECTION_STORE(&f->ctx), token, id, &loaded),
		    SB_OK);
		assert_true(loaded.unreadable);
		assert_null(loaded.credentials);
		sb_connection_clear(&loaded);
	}
}

static void
test_blob_bound_to_row(void **state)
{
	struct test_fixture *f = *state;
	char ta[SB_CONNECTION_TOKEN_MAX], tb[SB_CONNECTION_TOKEN_MAX];
	struct sb_connection a, b, loaded = { 0 };

	create_sandbox(f, &a, ta);
	create(f, "sandbox",
	    "{\"access_token\": \"b-access\", \"refresh_token\": \"b-r\"}",
	    NULL, &b, tb);
	assert_int_equal(exec_sql(f,
	                     "UPDATE connections SET credentials = (SELECT "
	                     "credentials FROM connections WHERE id = ?1) "
	                     "WHERE id = ?2",
	                     a.id, b.id),
	    1);
	assert_int_equal(
	    sb_connection_load(SB_CONNECTION_STORE(&f->ctx), b.id, &loaded),
	    SB_ERR_CRYPTO);
	assert_null(loaded.credentials);
	assert_int_equal(sb_connection_authenticate(
	                     SB_CONNECTION_STORE(&f->ctx), tb, NULL, &loaded),
	    SB_OK);
	assert_true(loaded.unreadable);
	assert_null(loaded.credentials);
	sb_connection_clear(&loaded);
	/* The original row still opens. */
	assert_int_equal(
	    sb_connection_load(SB_CONNECTION_STORE(&f->ctx), a.id, &loaded),
	    SB_OK);
	assert_string_equal(cred(&loaded, "access_token"), ACCESS);
	sb_connection_clear(&loaded);
	sb_connection_clear(&a);
	sb_connection_clear(&b);
}

/*
 * A connection whose credentials do not open can be repaired: the guard's
 * look-up still authenticates it (and still refuses a wrong token), its
 * description says the credentials are unreadable, new credentials replace
 * them without opening the old, and it can be deleted.
 */
static void
test_unreadable_repaired(void **state)
{
	struct test_fixture *f = *state;
	char token[SB_CONNECTION_TOKEN_MAX], id[SB_CONNECTION_ID_MAX];
	struct sb_connection conn, got = { 0 };
	cJSON *creds, *j;

	create_sandbox(f, &conn, token);
	snprintf(id, sizeof(id), "%s", conn.id);
	sb_connection_clear(&conn);
	tamper(f, id, 5);
	token[strlen(token) - 1] ^= 1;
	assert_int_equal(sb_connection_authenticate(
	                     SB_CONNECTION_STORE(&f->ctx), token, id, &got),
	    SB_ERR_UNAUTHORIZED);
	token[strlen(token) - 1] ^= 1;
	assert_int_equal(sb_connection_authenticate(
	                     SB_CONNECTION_STORE(&f->ctx), token, id, &got),
	    SB_OK);
	assert_true(got.unreadable);
	assert_non_null(j = sb_connection_describe(&got));
	assert_true(cJSON_IsFalse(
	    cJSON_GetObjectItemCaseSensitive(j, "credentials_readable")));
	assert_true(cJSON_IsTrue(
	    cJSON_GetObjectItemCaseSensitive(j, "needs_reauthorization")));
	cJSON_Delete(j);
	creds = parse("{\"access_token\": \"fresh\"}");
	assert_int_equal(sb_connection_update(
	                     SB_CONNECTION_STORE(&f->ctx), &got, creds, NULL),
	    SB_OK);
	cJSON_Delete(creds);
	assert_false(got.unreadable);
	assert_string_equal(cred(&got, "access_token"), "fresh");
	assert_non_null(j = sb_connection_describe(&got));
	assert_true(cJSON_IsTrue(
	    cJSON_GetObjectItemCaseSensitive(j, "credentials_readable")));
	cJSON_Delete(j);
	sb_connection_clear(&got);
	/* Tampered again: deleted without opening. */
	tamper(f, id, 5);
	assert_int_equal(sb_connection_authenticate(
	                     SB_CONNECTION_STORE(&f->ctx), token, id, &got),
	    SB_OK);
	assert_int_equal(
	    sb_connection_delete(SB_CONNECTION_STORE(&f->ctx), got.id), SB_OK);
	sb_connection_clear(&got);
	assert_int_equal(sb_connection_authenticate(
	                     SB_CONNECTION_STORE(&f->ctx), token, id, &got),
	    SB_ERR_UNAUTHORIZED);
}

static void
test_update(void **state)
{
	struct test_fixture *f = *state;
	char token[SB_CONNECTION_TOKEN_MAX];
	struct sb_connection conn, loaded = { 0 };
	cJSON *creds, *config;

	create(f, "okta", "{\"api_key\": \"abcdefghijklmnopqrstuvwxyz\"}",
	    "{\"subdomain\": \"acme\"}", &conn, token);
	assert_string_equal(
	    cJSON_GetObjectItemCaseSensitive(conn.config, "subdomain")
	        ->valuestring,
	    "acme");

	/* config alone: credentials stay */
	config = parse("{\"subdomain\": \"globex\"}");
	assert_int_equal(sb_connection_update(
	                     SB_CONNECTION_STORE(&f->ctx), &conn, NULL, config),
	    SB_OK);
	cJSON_Delete(config);
	assert_string_equal(
	    cJSON_GetObjectItemCaseSensitive(conn.config, "subdomain")
	        ->valuestring,
	    "globex");
	assert_string_equal(
	    cred(&conn, "api_key"), "abcdefghijklmnopqrstuvwxyz");

	/* credentials alone: config stays */
	creds = parse("{\"api_key\": \"zyxwvutsrqponmlkjihgfedcba\"}");
	assert_int_equal(sb_connection_update(
	                     SB_CONNECTION_STORE(&f->ctx), &conn, creds, NULL),
	    SB_OK);
	cJSON_Delete(creds);
	assert_string_equal(
	    cred(&conn, "api_key"), "zyxwvutsrqponmlkjihgfedcba");

	/* what is stored, read back in a fresh load */
	assert_int_equal(
	    sb_connection_load(SB_CONNECTION_STORE(&f->ctx), conn.id, &loaded),
	    SB_OK);
	assert_string_equal(
	    cred(&loaded, "api_key"), "zyxwvutsrqponmlkjihgfedcba");
	assert_string_equal(
	    cJSON_GetObjectItemCaseSensitive(loaded.config, "subdomain")
	        ->valuestring,
	    "globex");
	sb_connection_clear(&loaded);

	/* the token still authenticates after updates */
	assert_int_equal(
	    sb_connection_authenticate(
	        SB_CONNECTION_STORE(&f->ctx), token, conn.id, &loaded),
	    SB_OK);
	sb_connection_clear(&loaded);
	sb_connection_clear(&conn);
}

/* Takes the refresh lease, as a refresher must, and records a failure. */
static void
fail_refresh(struct test_fixture *f, struct sb_connection *conn,
    const char *error, int64_t now)
{
	bool got = false;

	assert_int_equal(sb_connection_lease(SB_CONNECTION_STORE(&f->ctx),
	                     conn->id, now, 30, &got),
	    SB_OK);
	assert_true(got);
	assert_int_equal(sb_connection_refreshed(SB_CONNECTION_STORE(&f->ctx),
	                     conn, NULL, error, now),
	    SB_OK);
}

static void
test_update_clears_reauth(void **state)
{
	struct test_fixture *f = *state;
	char token[SB_CONNECTION_TOKEN_MAX];
	struct sb_connection conn;
	cJSON *creds;

	create_sandbox(f, &conn, token);
	for (int i = 0; i < SB_CONNECTION_REAUTH_FAILURES; i++)
		fail_refresh(f, &conn, "invalid_grant", 1000 + i);
	assert_true(conn.needs_reauth);
	creds = parse("{\"access_token\": \"n\", \"refresh_token\": \"m\", "
	              "\"expires_in\": 3600}");
	assert_int_equal(sb_connection_update(
	                     SB_CONNECTION_STORE(&f->ctx), &conn, creds, NULL),
	    SB_OK);
	cJSON_Delete(creds);
	assert_false(conn.needs_reauth);
	assert_int_equal(conn.refresh_failures, 0);
	assert_true(conn.access_expires_at > (int64_t)time(NULL) + 3500);
	/* expires_in is stored as expires_at */
	assert_null(
	    cJSON_GetObjectItemCaseSensitive(conn.credentials, "expires_in"));
	assert_non_null(
	    cJSON_GetObjectItemCaseSensitive(conn.credentials, "expires_at"));
	sb_connection_clear(&conn);
}

/*
 * A raw OAuth2 token response given as credentials, at creation and in an
 * update: the tokens are kept, expires_in becomes expires_at, and the
 * informational fields are not stored.
 */
static void
test_token_response(void **state)
{
	static const struct {
		const char *credentials;
		const char *kept[3];
		const char *dropped[4];
	} cases[] = {
		{ "{\"access_token\": \"" ACCESS "\", \"token_type\": "
		  "\"Bearer\", \"expires_in\": 300, \"refresh_token\": "
		  "\"" REFRESH "\", \"scope\": \"read\"}",
		    { "access_token", "refresh_token", "expires_at" },
		    { "token_type", "scope", "expires_in", NULL } },
		{ "{\"access_token\": \"" ACCESS
		  "\", \"refresh_token\": \"" REFRESH
		  "\", \"expires_in\": 60, \"id_token\": \"PLAIN-id-token\", "
		  "\"refresh_expires_in\": 1800, \"not-before-policy\": 0, "
		  "\"session_state\": \"st\"}",
		    { "access_token", "refresh_token", "expires_at" },
		    { "id_token", "refresh_expires_in", "not-before-policy",
		        "session_state" } },
	};
	struct test_fixture *f = *state;
	char token[SB_CONNECTION_TOKEN_MAX];
	struct sb_connection conn;
	cJSON *creds;

	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		create(f, "sandbox", cases[i].credentials, NULL, &conn, token);
		for (int pass = 0; pass < 2; pass++) {
			for (size_t k = 0; k < ARRAY_LEN(cases[i].kept); k++)
				if (cJSON_GetObjectItemCaseSensitive(
				        conn.credentials, cases[i].kept[k]) ==
				    NULL)
					fail_msg("case %zu/%d: %s lost", i,
					    pass, cases[i].kept[k]);
			for (size_t k = 0; k < ARRAY_LEN(cases[i].dropped) &&
			     cases[i].dropped[k] != NULL;
			     k++)
				if (cJSON_GetObjectItemCaseSensitive(
				        conn.credentials,
				        cases[i].dropped[k]) != NULL)
					fail_msg("case %zu/%d: %s stored", i,
					    pass, cases[i].dropped[k]);
			assert_int_equal(cJSON_GetArraySize(conn.credentials),
			    ARRAY_LEN(cases[i].kept));
			assert_true(
			    conn.access_expires_at > (int64_t)time(NULL));
			/* the second pass: the same answer as an update */
			creds = parse(cases[i].credentials);
			assert_int_equal(
			    sb_connection_update(SB_CONNECTION_STORE(&f->ctx),
			        &conn, creds, NULL),
			    SB_OK);
			cJSON_Delete(creds);
		}
		sb_connection_clear(&conn);
	}
	checkpoint(f);
	assert_false(db_holds(f, "PLAIN-id-token"));
}

static void
test_delete(void **state)
{
	struct test_fixture *f = *state;
	char token[SB_CONNECTION_TOKEN_MAX],
	    keep_token[SB_CONNECTION_TOKEN_MAX];
	char id[SB_CONNECTION_ID_MAX];
	struct sb_connection conn, keep, loaded = { 0 };

	create_sandbox(f, &conn, token);
	create_sandbox(f, &keep, keep_token);
	snprintf(id, sizeof(id), "%s", conn.id);
	sb_connection_clear(&conn);
	assert_int_equal(
	    sb_connection_delete(SB_CONNECTION_STORE(&f->ctx), id), SB_OK);
	assert_int_equal(
	    sb_connection_load(SB_CONNECTION_STORE(&f->ctx), id, &loaded),
	    SB_ERR_NOT_FOUND);
	assert_int_equal(
	    sb_connection_authenticate(
	        SB_CONNECTION_STORE(&f->ctx), token, NULL, &loaded),
	    SB_ERR_UNAUTHORIZED);
	assert_int_equal(sb_connection_delete(SB_CONNECTION_STORE(&f->ctx), id),
	    SB_ERR_NOT_FOUND);
	assert_int_equal(
	    sb_connection_delete(SB_CONNECTION_STORE(&f->ctx), "cn_nope"),
	    SB_ERR_NOT_FOUND);
	assert_int_equal(test_query_int_text(f->ctx.db,
	                     "SELECT count(*) FROM connections "
	                     "WHERE id = ?1",
	                     id),
	    0);
	/* the other connection is untouched */
	assert_int_equal(
	    sb_connection_load(SB_CONNECTION_STORE(&f->ctx), keep.id, &loaded),
	    SB_OK);
	sb_connection_clear(&loaded);
	sb_connection_clear(&keep);
}

static void
test_lease(void **state)
{
	static const struct {
		int64_t now;
		bool release_first;
		bool want;
	} steps[] = {
		{ 1000, false, true }, /* first taker */
		{ 1000, false, false }, /* single flight */
		{ 1010, false, false },
		{ 1030, false, false }, /* until = 1030, still held */
		{ 1031, false, true }, /* expired: taken over */
		{ 1032, false, false },
		{ 1032, true, true }, /* released: free again */
	};
	struct test_fixture *f = *state;
	char token[SB_CONNECTION_TOKEN_MAX];
	struct sb_connection conn;
	bool got;

	create_sandbox(f, &conn, token);
	for (size_t i = 0; i < ARRAY_LEN(steps); i++) {
		if (steps[i].release_first)
			assert_int_equal(
			    sb_connection_release(
			        SB_CONNECTION_STORE(&f->ctx), conn.id),
			    SB_OK);
		got = !steps[i].want;
		assert_int_equal(
		    sb_connection_lease(SB_CONNECTION_STORE(&f->ctx), conn.id,
		        steps[i].now, 30, &got),
		    SB_OK);
		if (got != steps[i].want)
			fail_msg("step %zu (now %lld): got %d", i,
			    (long long)steps[i].now, got);
	}
	/* An unknown connection has no lease to take. */
	got = true;
	assert_int_equal(sb_connection_lease(SB_CONNECTION_STORE(&f->ctx),
	                     "cn_nope", 1000, 30, &got),
	    SB_OK);
	assert_false(got);
	sb_connection_clear(&conn);
}

/* Sets the refresh lease of id to holder until until, behind the store. */
static void
lease_set(struct test_fixture *f, const char *id, const char *holder,
    const char *until)
{
	char sql[160];

	snprintf(sql, sizeof(sql),
	    "UPDATE connections SET refresh_lease_owner = ?2, "
	    "refresh_lease_until = %s WHERE id = ?1",
	    until);
	assert_int_equal(exec_sql(f, sql, id, holder), 1);
}

/*
 * A lease whose holder is a dead process of this host is taken over at
 * once, long before it runs out; one held by a live process, by this one
 * or by another host's is not.
 */
static void
test_lease_dead_holder(void **state)
{
	static const bool taken[TEST_OWNER__MAX] = {
		[TEST_OWNER_DEAD] = true,
	};
	struct test_fixture *f = *state;
	char token[SB_CONNECTION_TOKEN_MAX], holder[SB_OWNER_MAX];
	struct sb_connection conn;
	bool got;

	create_sandbox(f, &conn, token);
	for (int k = 0; k < TEST_OWNER__MAX; k++) {
		test_owner_name(
		    (enum test_owner_kind)k, holder, sizeof(holder));
		lease_set(f, conn.id, holder, "5000");
		assert_int_equal(
		    sb_connection_lease(
		        SB_CONNECTION_STORE(&f->ctx), conn.id, 1000, 30, &got),
		    SB_OK);
		if (got != taken[k])
			fail_msg("holder %s: taken %d", holder, got);
	}
	sb_connection_clear(&conn);
}

/*
 * Refreshed credentials are stored even when the lease was taken over
 * meanwhile (the other holder's lease is left alone) and even past the
 * request's deadline; a failure is recorded only by the lease's holder.
 */
static void
test_refreshed_always_stored(void **state)
{
	struct test_fixture *f = *state;
	char token[SB_CONNECTION_TOKEN_MAX];
	struct sb_connection conn;
	int64_t passed = sb_deadline_now() - 1;
	cJSON *creds;
	bool got;

	create_sandbox(f, &conn, token);
	lease_set(f, conn.id, "elsewhere.invalid:1", "5000");
	assert_int_equal(sb_connection_refreshed(SB_CONNECTION_STORE(&f->ctx),
	                     &conn, NULL, "late failure", 1000),
	    SB_OK);
	assert_int_equal(conn.refresh_failures, 0);
	creds = parse("{\"access_token\": \"a2\", \"refresh_token\": \"r2\"}");
	assert_int_equal(sb_connection_refreshed(SB_CONNECTION_STORE(&f->ctx),
	                     &conn, creds, NULL, 1000),
	    SB_OK);
	assert_string_equal(cred(&conn, "refresh_token"), "r2");
	assert_int_equal(sb_connection_lease(SB_CONNECTION_STORE(&f->ctx),
	                     conn.id, 1000, 30, &got),
	    SB_OK);
	assert_false(got);
	cJSON_Delete(creds);

	/* The store keeps to the database's deadline; the caller (call.c)
	 * extends it for this write, so that it is not lost. */
	sb_db_deadline_set(f->ctx.db, passed);
	creds = parse("{\"access_token\": \"a3\", \"refresh_token\": \"r3\"}");
	assert_int_not_equal(
	    sb_connection_refreshed(
	        SB_CONNECTION_STORE(&f->ctx), &conn, creds, NULL, 1001),
	    SB_OK);
	sb_db_deadline_set(f->ctx.db, sb_deadline_now() + 1000);
	assert_int_equal(
	    sb_connection_load(SB_CONNECTION_STORE(&f->ctx), conn.id, &conn),
	    SB_OK);
	assert_string_equal(cred(&conn, "refresh_token"), "r2");
	assert_int_equal(sb_connection_refreshed(SB_CONNECTION_STORE(&f->ctx),
	                     &conn, creds, NULL, 1001),
	    SB_OK);
	cJSON_Delete(creds);
	sb_db_deadline_set(f->ctx.db, SB_DEADLINE_NONE);
	assert_string_equal(cred(&conn, "refresh_token"), "r3");
	assert_int_equal(
	    sb_connection_load(SB_CONNECTION_STORE(&f->ctx), conn.id, &conn),
	    SB_OK);
	assert_string_equal(cred(&conn, "refresh_token"), "r3");
	sb_connection_clear(&conn);
}

static void
test_refreshed(void **state)
{
	struct test_fixture *f = *state;
	char token[SB_CONNECTION_TOKEN_MAX];
	struct sb_connection conn;
	cJSON *creds;
	bool got;

	create_sandbox(f, &conn, token);

	/* Failures count up; the lease is released each time. */
	for (int i = 1; i <= SB_CONNECTION_REAUTH_FAILURES; i++) {
		assert_int_equal(
		    sb_connection_lease(
		        SB_CONNECTION_STORE(&f->ctx), conn.id, 2000, 30, &got),
		    SB_OK);
		assert_true(got);
		assert_int_equal(
		    sb_connection_refreshed(SB_CONNECTION_STORE(&f->ctx), &conn,
		        NULL, "the token endpoint answered 400", 2000 + i),
		    SB_OK);
		assert_int_equal(conn.refresh_failures, i);
		assert_string_equal(conn.last_refresh_status, "failed");
		assert_string_equal(
		    conn.last_refresh_error, "the token endpoint answered 400");
		assert_int_equal(conn.last_refresh_at, 2000 + i);
		assert_int_equal(
		    conn.needs_reauth, i >= SB_CONNECTION_REAUTH_FAILURES);
		/* the old credentials are kept */
		assert_string_equal(cred(&conn, "access_token"), ACCESS);
	}
	assert_true(conn.needs_reauth);

	/* A success stores the new credentials and resets everything. */
	assert_int_equal(sb_connection_lease(SB_CONNECTION_STORE(&f->ctx),
	                     conn.id, 3000, 30, &got),
	    SB_OK);
	assert_true(got);
	creds = parse("{\"access_token\": \"new-access\", \"refresh_token\": "
	              "\"new-refresh\", \"expires_in\": 600}");
	assert_int_equal(sb_connection_refreshed(SB_CONNECTION_STORE(&f->ctx),
	                     &conn, creds, NULL, 3000),
	    SB_OK);
	cJSON_Delete(creds);
	assert_string_equal(cred(&conn, "access_token"), "new-access");
	assert_string_equal(cred(&conn, "refresh_token"), "new-refresh");
	assert_int_equal(conn.refresh_failures, 0);
	assert_false(conn.needs_reauth);
	assert_string_equal(conn.last_refresh_status, "ok");
	assert_string_equal(conn.last_refresh_error, "");
	assert_int_equal(conn.last_refresh_at, 3000);
	assert_true(conn.access_expires_at > 0);
	/* the lease was released with the success */
	assert_int_equal(sb_connection_lease(SB_CONNECTION_STORE(&f->ctx),
	                     conn.id, 3000, 30, &got),
	    SB_OK);
	assert_true(got);

	/* A failure after a success starts counting from one again. */
	assert_int_equal(sb_connection_refreshed(SB_CONNECTION_STORE(&f->ctx),
	                     &conn, NULL, NULL, 3100),
	    SB_OK);
	assert_int_equal(conn.refresh_failures, 1);
	assert_false(conn.needs_reauth);
	assert_string_equal(conn.last_refresh_error, "refresh failed");
	sb_connection_clear(&conn);
}

static bool
ids_have(char (*ids)[SB_CONNECTION_ID_MAX], size_t count, const char *id)
{
	for (size_t i = 0; i < count; i++)
		if (strcmp(ids[i], id) == 0)
			return true;
	return false;
}

static void
test_due(void **state)
{
	struct test_fixture *f = *state;
	char token[SB_CONNECTION_TOKEN_MAX], ids[8][SB_CONNECTION_ID_MAX];
	struct sb_connection soon, later, crm, github, okta, reauth, jwt;
	int64_t now = (int64_t)time(NULL);
	size_t count = 0;
	char creds[256];

	snprintf(creds, sizeof(creds),
	    "{\"access_token\": \"a\", \"refresh_token\": \"r\", "
	    "\"expires_at\": %lld}",
	    (long long)(now + 300));
	create(f, "sandbox", creds, NULL, &soon, token);
	snprintf(creds, sizeof(creds),
	    "{\"access_token\": \"a\", \"refresh_token\": \"r\", "
	    "\"expires_at\": %lld}",
	    (long long)(now + 86400));
	create(f, "sandbox", creds, NULL, &later, token);
	create(f, "sandbox-crm",
	    "{\"client_id\": \"c\", \"client_secret\": \"s\"}", NULL, &crm,
	    token);
	/* a bearer connection with an expiry: never refreshable */
	snprintf(creds, sizeof(creds),
	    "{\"access_token\": \"ghp_abcdefghijklmnopqrstuvwxyz\", "
	    "\"expires_at\": %lld}",
	    (long long)(now + 300));
	create(f, "github", creds, NULL, &github, token);
	create(f, "okta", "{\"api_key\": \"abcdefghijklmnopqrstuvwxyz\"}",
	    "{\"subdomain\": \"acme\"}", &okta, token);
	/* okta's private_key_jwt entry obtains tokens, its api_key one not:
	 * its connections are due by expiry alone */
	snprintf(creds, sizeof(creds),
	    "{\"client_id\": \"c\", \"private_key\": \"k\", "
	    "\"key_id\": \"i\", \"access_token\": \"a\", "
	    "\"expires_at\": %lld}",
	    (long long)(now + 300));
	create(f, "okta", creds, "{\"subdomain\": \"acme\"}", &jwt, token);
	snprintf(creds, sizeof(creds),
	    "{\"access_token\": \"a\", \"refresh_token\": \"r\", "
	    "\"expires_at\": %lld}",
	    (long long)(now + 300));
	create(f, "sandbox", creds, NULL, &reauth, token);
	for (int i = 0; i < SB_CONNECTION_REAUTH_FAILURES; i++)
		fail_refresh(f, &reauth, "x", now);
	assert_true(reauth.needs_reauth);

	/* Expiring within the hour, none stale. */
	assert_int_equal(sb_connection_due(SB_CONNECTION_STORE(&f->ctx),
	                     now + 3600, 0, ids, ARRAY_LEN(ids), &count),
	    SB_OK);
	assert_int_equal(count, 2);
	assert_true(ids_have(ids, count, soon.id));
	assert_true(ids_have(ids, count, jwt.id));

	/* Expiring within two days. */
	assert_int_equal(sb_connection_due(SB_CONNECTION_STORE(&f->ctx),
	                     now + 2 * 86400, 0, ids, ARRAY_LEN(ids), &count),
	    SB_OK);
	assert_int_equal(count, 3);
	assert_true(ids_have(ids, count, soon.id));
	assert_true(ids_have(ids, count, later.id));

	/* Stale: everything not refreshed since "now + 1h", i.e. all of them,
	 * but only the refreshable ones that do not need re-authorisation. */
	assert_int_equal(sb_connection_due(SB_CONNECTION_STORE(&f->ctx), 0,
	                     now + 3600, ids, ARRAY_LEN(ids), &count),
	    SB_OK);
	assert_int_equal(count, 3);
	assert_true(ids_have(ids, count, soon.id));
	assert_true(ids_have(ids, count, later.id));
	assert_true(ids_have(ids, count, crm.id));
	assert_false(ids_have(ids, count, github.id));
	assert_false(ids_have(ids, count, okta.id));
	assert_false(ids_have(ids, count, jwt.id));
	assert_false(ids_have(ids, count, reauth.id));

	/* Nothing due. */
	assert_int_equal(sb_connection_due(SB_CONNECTION_STORE(&f->ctx), now,
	                     now - 3600, ids, ARRAY_LEN(ids), &count),
	    SB_OK);
	assert_int_equal(count, 0);

	/* max caps the answer. */
	assert_int_equal(sb_connection_due(SB_CONNECTION_STORE(&f->ctx), 0,
	                     now + 3600, ids, 1, &count),
	    SB_OK);
	assert_int_equal(count, 1);

	sb_connection_clear(&soon);
	sb_connection_clear(&later);
	sb_connection_clear(&crm);
	sb_connection_clear(&github);
	sb_connection_clear(&okta);
	sb_connection_clear(&reauth);
	sb_connection_clear(&jwt);
}

/*
 * Connections that can never be refreshed (bearer, API key) must not keep
 * refreshable ones from being selected: they are stale forever (never
 * refreshed) and sort first (no expiry), so a batch filled with them would
 * starve every OAuth2 connection of its scheduled refresh.
 */
static void
test_due_not_starved(void **state)
{
	struct test_fixture *f = *state;
	char token[SB_CONNECTION_TOKEN_MAX], ids[2][SB_CONNECTION_ID_MAX];
	char oauth_id[SB_CONNECTION_ID_MAX];
	struct sb_connection conn;
	int64_t now = (int64_t)time(NULL);
	size_t count = 0;
	char creds[256];

	for (int i = 0; i < 8; i++) {
		create(f, "github",
		    "{\"access_token\": \"ghp_abcdefghijklmnopqrstuvwxyz\"}",
		    NULL, &conn, token);
		sb_connection_clear(&conn);
	}
	snprintf(creds, sizeof(creds),
	    "{\"access_token\": \"a\", \"refresh_token\": \"r\", "
	    "\"expires_at\": %lld}",
	    (long long)(now + 60));
	create(f, "sandbox", creds, NULL, &conn, token);
	snprintf(oauth_id, sizeof(oauth_id), "%s", conn.id);
	sb_connection_clear(&conn);
	assert_int_equal(sb_connection_due(SB_CONNECTION_STORE(&f->ctx),
	                     now + 900, now + 3600, ids, 1, &count),
	    SB_OK);
	assert_int_equal(count, 1);
	assert_string_equal(ids[0], oauth_id);
}

static void
test_expiry(void **state)
{
	static const struct {
		const char *credentials;
		int64_t want;
	} cases[] = {
		{ "{}", 0 },
		{ "{\"access_token\": \"a\"}", 0 },
		{ "{\"expires_at\": 2000000000}", 2000000000 },
		{ "{\"expires_at\": \"2000000000\"}", 2000000000 },
		{ "{\"expires_in\": 3600}", 1000 + 3600 },
		{ "{\"expires_in\": \"3600\"}", 1000 + 3600 },
		{ "{\"expires_in\": 1.9}", 1000 + 1 },
		{ "{\"expires_at\": 2000000000, \"expires_in\": 60}",
		    2000000000 },
		{ "{\"expires_at\": 0}", 0 },
		{ "{\"expires_in\": 0}", 0 },
		{ "{\"expires_at\": -5}", 0 },
		{ "{\"expires_in\": -5}", 0 },
		{ "{\"expires_at\": 1e13}", 0 },
		{ "{\"expires_at\": true}", 0 },
		{ "{\"expires_at\": null}", 0 },
		{ "{\"expires_at\": {}}", 0 },
		{ "{\"expires_at\": \"\"}", 0 },
		{ "{\"expires_at\": \"soon\"}", 0 },
		/* trailing junk is not a number (strtod's end is unchecked) */
		{ "{\"expires_in\": \"3600abc\"}", 0 },
		{ "{\"expires_at\": \"2000000000 or so\"}", 0 },
	};
	cJSON *j;
	int64_t got;

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		j = parse(cases[i].credentials);
		got = sb_connection_expiry(j, 1000);
		cJSON_Delete(j);
		if (got != cases[i].want)
			fail_msg("case %zu (%s): got %lld, want %lld", i,
			    cases[i].credentials, (long long)got,
			    (long long)cases[i].want);
	}
	assert_int_equal(sb_connection_expiry(NULL, 1000), 0);
}

static void
test_describe(void **state)
{
	struct test_fixture *f = *state;
	char token[SB_CONNECTION_TOKEN_MAX], *text;
	const cJSON *refresh;
	struct sb_connection conn;
	cJSON *j;

	create_sandbox(f, &conn, token);
	assert_non_null(j = sb_connection_describe(&conn));
	assert_non_null(text = cJSON_PrintUnformatted(j));
	assert_null(strstr(text, ACCESS));
	assert_null(strstr(text, REFRESH));
	assert_null(strstr(text, CLIENT_SECRET));
	assert_null(strstr(text, strchr(token, '.') + 1));
	assert_null(cJSON_GetObjectItemCaseSensitive(j, "credentials"));
	assert_null(cJSON_GetObjectItemCaseSensitive(j, "token"));
	assert_string_equal(
	    cJSON_GetObjectItemCaseSensitive(j, "id")->valuestring, conn.id);
	assert_string_equal(
	    cJSON_GetObjectItemCaseSensitive(j, "provider")->valuestring,
	    "sandbox");
	assert_string_equal(
	    cJSON_GetObjectItemCaseSensitive(j, "auth_scheme")->valuestring,
	    "oauth2");
	assert_true(cJSON_IsFalse(
	    cJSON_GetObjectItemCaseSensitive(j, "needs_reauthorization")));
	assert_true(cJSON_IsNull(
	    cJSON_GetObjectItemCaseSensitive(j, "token_expires_at")));
	assert_string_equal(
	    cJSON_GetObjectItemCaseSensitive(
	        cJSON_GetObjectItemCaseSensitive(j, "metadata"), "customer")
	        ->valuestring,
	    "acme");
	refresh = cJSON_GetObjectItemCaseSensitive(j, "last_refresh");
	assert_true(cJSON_IsObject(refresh));
	assert_true(
	    cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(refresh, "result")));
	assert_int_equal(
	    cJSON_GetObjectItemCaseSensitive(refresh, "consecutive_failures")
	        ->valueint,
	    0);
	cJSON_free(text);
	cJSON_Delete(j);

	/* An expiry is shown as an ISO time. */
	conn.access_expires_at = 2000000000;
	j = sb_connection_describe(&conn);
	assert_string_equal(
	    cJSON_GetObjectItemCaseSensitive(j, "token_expires_at")
	        ->valuestring,
	    "2033-05-18T03:33:20Z");
	cJSON_Delete(j);
	sb_connection_clear(&conn);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_create_token, setup, test_fixture_teardown),
		cmocka_unit_test_setup_teardown(
		    test_authenticate, setup, test_fixture_teardown),
		cmocka_unit_test_setup_teardown(
		    test_db_holds_no_secrets, setup, test_fixture_teardown),
		cmocka_unit_test_setup_teardown(
		    test_tampered_blob, setup, test_fixture_teardown),
		cmocka_unit_test_setup_teardown(
		    test_blob_bound_to_row, setup, test_fixture_teardown),
		cmocka_unit_test_setup_teardown(
		    test_update, setup, test_fixture_teardown),
		cmocka_unit_test_setup_teardown(
		    test_update_clears_reauth, setup, test_fixture_teardown),
		cmocka_unit_test_setup_teardown(
		    test_token_response, setup, test_fixture_teardown),
		cmocka_unit_test_setup_teardown(
		    test_delete, setup, test_fixture_teardown),
		cmocka_unit_test_setup_teardown(
		    test_lease, setup, test_fixture_teardown),
		cmocka_unit_test_setup_teardown(
		    test_refreshed, setup, test_fixture_teardown),
		cmocka_unit_test_setup_teardown(
		    test_due, setup, test_fixture_teardown),
		cmocka_unit_test_setup_teardown(
		    test_due_not_starved, setup, test_fixture_teardown),
		cmocka_unit_test(test_expiry),
		cmocka_unit_test_setup_teardown(
		    test_describe, setup, test_fixture_teardown),
		cmocka_unit_test_setup_teardown(
		    test_unreadable_repaired, setup, test_fixture_teardown),
		cmocka_unit_test_setup_teardown(
		    test_lease_dead_holder, setup, test_fixture_teardown),
		cmocka_unit_test_setup_teardown(
		    test_refreshed_always_stored, setup, test_fixture_teardown),
	};

	return cmocka_run_group_tests_name("connection", tests, NULL, NULL);
}
