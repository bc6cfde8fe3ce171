/*
 * The connection store.  All SQL of connections is in the table below.
 * Credentials are kept as one JSON object sealed with the keyring and bound
 * to "connection:<id>:credentials"; tokens as keyed digests.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "sb/connect/connection.h"
#include "sb/core/deadline.h"
#include "sb/core/id.h"
#include "sb/store/db.h"
#include "sb/core/log.h"
#include "sb/core/owner.h"
#include "sb/store/secrets.h"

enum {
	Q_INSERT,
	Q_GET,
	Q_SET_CREDENTIALS,
	Q_SET_CONFIG,
	Q_DELETE,
	Q_LEASE,
	Q_REFRESH_OK,
	Q_REFRESH_FAILED,
	Q_DUE,
	Q_RELEASE,
	Q__MAX
};

static const char *const sql[Q__MAX] = {
	[Q_INSERT] = "INSERT INTO connections (id, provider, token_digest, "
	             "credentials, config, metadata, access_expires_at, "
	             "created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, "
	             "?6, ?7, ?8, ?8)",
	[Q_GET] = "SELECT provider, token_digest, credentials, config, "
	          "metadata, access_expires_at, last_refresh_at, "
	          "last_refresh_status, last_refresh_error, refresh_failures, "
	          "needs_reauth, created_at, updated_at FROM connections "
	          "WHERE id = ?1",
	[Q_SET_CREDENTIALS] = "UPDATE connections SET credentials = ?2, "
	                      "access_expires_at = ?3, needs_reauth = 0, "
	                      "refresh_failures = 0, updated_at = ?4 "
	                      "WHERE id = ?1",
	[Q_SET_CONFIG] = "UPDATE connections SET config = ?2, updated_at = ?3 "
	                 "WHERE id = ?1",
	[Q_DELETE] = "DELETE FROM connections WHERE id = ?1",
	[Q_LEASE] = "UPDATE connections SET refresh_lease_owner = ?2, "
	            "refresh_lease_until = ?3 + ?4 WHERE id = ?1 AND "
	            "(refresh_lease_until IS NULL OR refresh_lease_until < ?3 "
	            "OR " SB_DB_OWNER_DEAD_FN "(refresh_lease_owner))",
	[Q_REFRESH_OK] = "UPDATE connections SET credentials = ?2, "
	                 "access_expires_at = ?3, last_refresh_at = ?4, "
	                 "last_refresh_status = 'ok', last_refresh_error = "
	                 "NULL, refresh_failures = 0, needs_reauth = 0, "
	                 "refresh_lease_owner = CASE WHEN refresh_lease_owner "
	                 "= ?6 THEN NULL ELSE refresh_lease_owner END, "
	                 "refresh_lease_until = CASE WHEN refresh_lease_owner "
	                 "= ?6 THEN NULL ELSE refresh_lease_until END, "
	                 "updated_at = ?5 WHERE id = ?1",
	[Q_REFRESH_FAILED] = "UPDATE connections SET last_refresh_at = ?2, "
	                     "last_refresh_status = 'failed', "
	                     "last_refresh_error = ?3, refresh_failures = "
	                     "refresh_failures + 1, needs_reauth = "
	                     "(refresh_failures + 1 >= ?4), "
	                     "refresh_lease_owner = NULL, refresh_lease_until "
	                     "= NULL, updated_at = ?5 WHERE id = ?1 AND "
	                     "refresh_lease_owner = ?6",
	/* ?4: providers whose every scheme obtains tokens; ?5: providers
	 * of several schemes, some static, whose connections are due by
	 * expiry alone (a static one never expires). */
	[Q_DUE] = "SELECT id FROM connections WHERE needs_reauth = 0 AND "
	          "((provider IN (SELECT value FROM json_each(?4)) AND "
	          "((access_expires_at IS NOT NULL AND access_expires_at < ?1) "
	          "OR COALESCE(last_refresh_at, CAST(strftime('%s', "
	          "created_at) AS INTEGER)) < ?2)) OR "
	          "(provider IN (SELECT value FROM json_each(?5)) AND "
	          "access_expires_at IS NOT NULL AND access_expires_at < ?1)) "
	          "ORDER BY access_expires_at LIMIT ?3",
	[Q_RELEASE] = "UPDATE connections SET refresh_lease_owner = NULL, "
	              "refresh_lease_until = NULL WHERE id = ?1 AND "
	              "refresh_lease_owner = ?2",
};

#define AD_MAX (SB_CONNECTION_ID_MAX + 32)

static void
connection_ad(const char *id, char *ad, size_t size)
{
	snprintf(ad, size, "connection:%s:credentials", id);
}

int64_t
sb_connection_expiry(const cJSON *credentials, int64_t now)
{
	const cJSON *at =
	    cJSON_GetObjectItemCaseSensitive(credentials, "expires_at");
	const cJSON *in =
	    cJSON_GetObjectItemCaseSensitive(credentials, "expires_in");
	char *end;
	double v;

	if (at == NULL && in == NULL)
		return 0;
	at = at != NULL ? at : in;
	if (cJSON_IsNumber(at))
		v = at->valuedouble;
	else if (cJSON_IsString(at)) {
		v = strtod(at->valuestring, &end);
		if (end == at->valuestring || *end != '\0')
			return 0;
	} else {
		return 0;
	}
	if (v <= 0 || v > 1e12)
		return 0;
	return at == in ? now + (int64_t)v : (int64_t)v;
}

/* Wipes and drops the informational token response fields of creds. */
static void
connection_drop_token_info(cJSON *creds)
{
	cJSON *item = creds != NULL ? creds->child : NULL, *next;

	for (; item != NULL; item = next) {
		next = item->next;
		if (!sb_provider_token_info(item->string))
			continue;
		cJSON_DetachItemViaPointer(creds, item);
		sb_connection_json_wipe(item);
		cJSON_Delete(item);
	}
}

/*
 * Seals credentials (normalising expires_in to expires_at, leaving out the
 * informational fields of a token response) for row id.  On SB_OK *blob is
 * malloc'ed (free()) and *expires the expiry or 0.
 */
static enum sb_err
connection_seal(const struct sb_connection_store *store, const char *id,
    const cJSON *credentials, unsigned char **blob, size_t *blob_len,
    int64_t *expires)
{
	char ad[AD_MAX], *text = NULL;
	cJSON *copy = cJSON_Duplicate(credentials, true);
	enum sb_err rc = SB_ERR_NOMEM;

	*blob = NULL;
	*expires = sb_connection_expiry(credentials, (int64_t)time(NULL));
	if (copy == NULL)
		goto out;
	cJSON_DeleteItemFromObjectCaseSensitive(copy, "expires_in");
	cJSON_DeleteItemFromObjectCaseSensitive(copy, "expires_at");
	connection_drop_token_info(copy);
	if (*expires > 0 &&
	    cJSON_AddNumberToObject(copy, "expires_at", (double)*expires) ==
	        NULL)
		goto out;
	if ((text = cJSON_PrintUnformatted(copy)) == NULL)
		goto out;
	connection_ad(id, ad, sizeof(ad));
	rc = sb_secrets_seal(
	    store->secrets, text, strlen(text), ad, blob, blob_len);
out:
	if (text != NULL)
		sodium_memzero(text, strlen(text));
	cJSON_free(text);
	sb_connection_json_wipe(copy);
	cJSON_Delete(copy);
	return rc;
}

static char *
json_text(const cJSON *j)
{
	return j != NULL ? cJSON_PrintUnformatted(j) : strdup("{}");
}

enum sb_err
sb_connection_create(const struct sb_connection_store *store,
    const struct sb_provider *provider, const cJSON *credentials,
    const cJSON *config, const cJSON *metadata, struct sb_connection *conn,
    char token[SB_CONNECTION_TOKEN_MAX])
{
	char secret[SB_SECRETS_TOKEN_MAX], digest[SB_SECRETS_DIGEST_HEX];
	char *config_text = NULL, *metadata_text = NULL;
	unsigned char *blob = NULL;
	size_t blob_len = 0;
	int64_t expires = 0;
	sqlite3_stmt *st;
	enum sb_err rc;

	memset(conn, 0, sizeof(*conn));
	if ((rc = sb_id_new(SB_CONNECTION_ID_PREFIX, conn->id,
	         sizeof(conn->id))) != SB_OK ||
	    (rc = sb_secrets_token_new("sbc", secret, sizeof(secret))) != SB_OK)
		goto out;
	snprintf(token, SB_CONNECTION_TOKEN_MAX, "%s.%s", conn->id, secret);
	sb_secrets_token_digest(store->secrets, token, digest);
	if ((rc = connection_seal(store, conn->id, credentials, &blob,
	         &blob_len, &expires)) != SB_OK)
		goto out;
	rc = SB_ERR_NOMEM;
	if ((config_text = json_text(config)) == NULL ||
	    (metadata_text = json_text(metadata)) == NULL)
		goto out;
	sb_db_now_iso(conn->created_at, sizeof(conn->created_at));
	if ((st = sb_db_stmt(store->db, sql[Q_INSERT])) != NULL) {
		sqlite3_bind_text(st, 1, conn->id, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, provider->name, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, digest, -1, SQLITE_STATIC);
		sqlite3_bind_blob(st, 4, blob, (int)blob_len, SQLITE_STATIC);
		sqlite3_bind_text(st, 5, config_text, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 6, metadata_text, -1, SQLITE_STATIC);
		if (expires > 0)
			sqlite3_bind_int64(st, 7, expires);
		sqlite3_bind_text(st, 8, conn->created_at, -1, SQLITE_STATIC);
	}
	if ((rc = sb_db_write(store->db, st, NULL)) != SB_OK)
		goto out;
	rc = sb_connection_load(store, conn->id, conn);
out:
	sodium_memzero(secret, sizeof(secret));
	if (rc != SB_OK)
		sodium_memzero(token, SB_CONNECTION_TOKEN_MAX);
	free(blob);
	cJSON_free(config_text);
	cJSON_free(metadata_text);
	return rc;
}

static void
column_copy(sqlite3_stmt *st, int col, char *out, size_t size)
{
	const unsigned char *v = sqlite3_column_text(st, col);

	snprintf(out, size, "%s", v != NULL ? (const char *)v : "");
}

/* Opens the credentials blob of the current row into conn. */
static enum sb_err
connection_open(const struct sb_connection_store *store, sqlite3_stmt *st,
    struct sb_connection *conn)
{
	const void *blob = sqlite3_column_blob(st, 2);
	int blob_len = sqlite3_column_bytes(st, 2);
	char ad[AD_MAX], *plain = NULL;
	size_t len = 0;
	enum sb_err rc;

	connection_ad(conn->id, ad, sizeof(ad));
	rc = sb_secrets_unseal(
	    store->secrets, blob, (size_t)blob_len, ad, &plain, &len);
	if (rc != SB_OK) {
		sb_log(SB_LOG_ERROR, "connection", NULL,
		    "credentials of %s do not open: %s", conn->id,
		    sb_strerror(rc));
		return SB_ERR_CRYPTO;
	}
	conn->credentials = cJSON_ParseWithLength(plain, len);
	sb_secrets_plain_free(plain, len);
	return conn->credentials != NULL ? SB_OK : SB_ERR_CRYPTO;
}

/*
 * Fills conn from the current row of Q_GET (id already set).  Credentials
 * that do not open give SB_ERR_CRYPTO if need_credentials, and otherwise
 * leave conn->credentials NULL with conn->unreadable set.
 */
static enum sb_err
connection_from_row(const struct sb_connection_store *store, sqlite3_stmt *st,
    struct sb_connection *conn, bool need_credentials)
{
	enum sb_err rc;

	const char *provider = (const char *)sqlite3_column_text(st, 0);

	conn->provider = sb_providers_find(store->providers, provider);
	if (conn->provider == NULL) {
		sb_log(SB_LOG_ERROR, "connection", NULL,
		    "connection %s names unknown provider '%s'", conn->id,
		    provider != NULL ? provider : "");
		return SB_ERR_CONFIG;
	}
	conn->config = cJSON_Parse((const char *)sqlite3_column_text(st, 3));
	conn->metadata = cJSON_Parse((const char *)sqlite3_column_text(st, 4));
	conn->access_expires_at = sqlite3_column_int64(st, 5);
	conn->last_refresh_at = sqlite3_column_int64(st, 6);
	column_copy(st, 7, conn->last_refresh_status,
	    sizeof(conn->last_refresh_status));
	column_copy(
	    st, 8, conn->last_refresh_error, sizeof(conn->last_refresh_error));
	conn->refresh_failures = sqlite3_column_int(st, 9);
	conn->needs_reauth = sqlite3_column_int(st, 10) != 0;
	column_copy(st, 11, conn->created_at, sizeof(conn->created_at));
	column_copy(st, 12, conn->updated_at, sizeof(conn->updated_at));
	if (conn->config == NULL || conn->metadata == NULL)
		return SB_ERR_DB;
	rc = connection_open(store, st, conn);
	if (rc == SB_ERR_CRYPTO && !need_credentials) {
		conn->unreadable = true;
		rc = SB_OK;
	}
	return rc;
}

enum sb_err
sb_connection_load(const struct sb_connection_store *store, const char *id,
    struct sb_connection *conn)
{
	sqlite3_stmt *st = sb_db_stmt(store->db, sql[Q_GET]);
	enum sb_err rc = SB_ERR_NOT_FOUND;
	char key[SB_CONNECTION_ID_MAX];
	int step;

	/* id may point into conn, which is about to be cleared. */
	snprintf(key, sizeof(key), "%s", id);
	sb_connection_clear(conn);
	if (st == NULL)
		return SB_ERR_DB;
	memcpy(conn->id, key, sizeof(key));
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	if ((step = sqlite3_step(st)) == SQLITE_ROW)
		rc = connection_from_row(store, st, conn, true);
	else if (step != SQLITE_DONE)
		rc = SB_ERR_DB;
	sqlite3_reset(st);
	if (rc != SB_OK)
		sb_connection_clear(conn);
	return rc;
}

/*
 * The token's connection id, if the token has the shape "<id>.<secret>";
 * otherwise "" (which names no row).
 */
static void
token_connection_id(const char *token, char id[SB_CONNECTION_ID_MAX])
{
	const char *dot = token != NULL ? strchr(token, '.') : NULL;

	id[0] = '\0';
	if (dot != NULL && strlen(token) < SB_CONNECTION_TOKEN_MAX &&
	    sb_id_valid(
	        SB_CONNECTION_ID_PREFIX, token, (size_t)(dot - token))) {
		memcpy(id, token, (size_t)(dot - token));
		id[dot - token] = '\0';
	}
}

/*
 * One read of the row does both: the stored digest is compared while the
 * row is current, and only a match goes on to open it.  A missing row is
 * compared against a digest of zeros, so every token costs the same digest
 * and compare.
 */
enum sb_err
sb_connection_authenticate(const struct sb_connection_store *store,
    const char *token, const char *id, struct sb_connection *conn)
{
	char given[SB_SECRETS_DIGEST_HEX], stored[SB_SECRETS_DIGEST_HEX];
	sqlite3_stmt *st = sb_db_stmt(store->db, sql[Q_GET]);
	enum sb_err rc = SB_ERR_UNAUTHORIZED;
	bool row, ok;

	memset(conn, 0, sizeof(*conn));
	memset(stored, '0', sizeof(stored) - 1);
	stored[sizeof(stored) - 1] = '\0';
	token_connection_id(token, conn->id);
	sb_secrets_token_digest(
	    store->secrets, token != NULL ? token : "", given);
	if (st == NULL)
		return SB_ERR_DB;
	sqlite3_bind_text(st, 1, conn->id, -1, SQLITE_STATIC);
	row = sqlite3_step(st) == SQLITE_ROW &&
	    sqlite3_column_bytes(st, 1) == SB_SECRETS_DIGEST_HEX - 1;
	if (row)
		memcpy(stored, sqlite3_column_text(st, 1), sizeof(stored));
	ok = sb_secrets_equal(given, stored, sizeof(given)) && row;
	ok = ok && (id == NULL || strcmp(id, conn->id) == 0);
	if (ok)
		rc = connection_from_row(store, st, conn, false);
	sqlite3_reset(st);
	if (rc != SB_OK)
		sb_connection_clear(conn);
	return rc;
}

/* Seals and stores new credentials of conn; conn takes a copy. */
static enum sb_err
connection_set_credentials(const struct sb_connection_store *store,
    struct sb_connection *conn, const cJSON *credentials, const char *now_iso)
{
	unsigned char *blob = NULL;
	size_t blob_len = 0;
	int64_t expires = 0;
	sqlite3_stmt *st;
	enum sb_err rc;

	if ((rc = connection_seal(store, conn->id, credentials, &blob,
	         &blob_len, &expires)) != SB_OK)
		return rc;
	if ((st = sb_db_stmt(store->db, sql[Q_SET_CREDENTIALS])) != NULL) {
		sqlite3_bind_text(st, 1, conn->id, -1, SQLITE_STATIC);
		sqlite3_bind_blob(st, 2, blob, (int)blob_len, SQLITE_STATIC);
		if (expires > 0)
			sqlite3_bind_int64(st, 3, expires);
		sqlite3_bind_text(st, 4, now_iso, -1, SQLITE_STATIC);
	}
	rc = sb_db_step_write(store->db, st, NULL);
	free(blob);
	return rc;
}

/* Writes config as the connection's, inside the caller's transaction. */
static enum sb_err
connection_set_config(const struct sb_connection_store *store,
    const struct sb_connection *conn, const cJSON *config, const char *now_iso)
{
	char *text = cJSON_PrintUnformatted(config);
	sqlite3_stmt *st;
	enum sb_err rc;

	if (text == NULL)
		return SB_ERR_NOMEM;
	if ((st = sb_db_stmt(store->db, sql[Q_SET_CONFIG])) != NULL) {
		sqlite3_bind_text(st, 1, conn->id, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, text, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, now_iso, -1, SQLITE_STATIC);
	}
	rc = sb_db_step_write(store->db, st, NULL);
	cJSON_free(text);
	return rc;
}

enum sb_err
sb_connection_update(const struct sb_connection_store *store,
    struct sb_connection *conn, const cJSON *credentials, const cJSON *config)
{
	char now[SB_DB_ISO_MAX], id[SB_CONNECTION_ID_MAX];
	enum sb_err rc;

	sb_db_now_iso(now, sizeof(now));
	/* Both in one transaction: a PATCH changes both or nothing. */
	if ((rc = sb_db_begin(store->db)) != SB_OK)
		return rc;
	if ((credentials != NULL &&
	        (rc = connection_set_credentials(
	             store, conn, credentials, now)) != SB_OK) ||
	    (config != NULL &&
	        (rc = connection_set_config(store, conn, config, now)) !=
	            SB_OK) ||
	    (rc = sb_db_commit(store->db)) != SB_OK) {
		sb_db_rollback(store->db);
		return rc;
	}
	memcpy(id, conn->id, sizeof(id));
	return sb_connection_load(store, id, conn);
}

enum sb_err
sb_connection_delete(const struct sb_connection_store *store, const char *id)
{
	sqlite3_stmt *st = sb_db_stmt(store->db, sql[Q_DELETE]);
	int changes = 0;
	enum sb_err rc;

	if (st != NULL)
		sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	if ((rc = sb_db_write(store->db, st, &changes)) != SB_OK)
		return rc;
	return changes == 1 ? SB_OK : SB_ERR_NOT_FOUND;
}

enum sb_err
sb_connection_lease(const struct sb_connection_store *store, const char *id,
    int64_t now, int lease_s, bool *got)
{
	sqlite3_stmt *st = sb_db_stmt(store->db, sql[Q_LEASE]);
	int changes = 0;
	enum sb_err rc;

	*got = false;
	if (st != NULL) {
		sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, sb_owner_self(), -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, now);
		sqlite3_bind_int(st, 4, lease_s);
	}
	if ((rc = sb_db_write(store->db, st, &changes)) == SB_OK)
		*got = changes == 1;
	return rc;
}

enum sb_err
sb_connection_release(const struct sb_connection_store *store, const char *id)
{
	sqlite3_stmt *st = sb_db_stmt(store->db, sql[Q_RELEASE]);

	if (st != NULL) {
		sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, sb_owner_self(), -1, SQLITE_STATIC);
	}
	return sb_db_write(store->db, st, NULL);
}

static enum sb_err
connection_refresh_failed(const struct sb_connection_store *store,
    struct sb_connection *conn, const char *error, int64_t now,
    const char *now_iso)
{
	sqlite3_stmt *st = sb_db_stmt(store->db, sql[Q_REFRESH_FAILED]);

	if (st != NULL) {
		sqlite3_bind_text(st, 1, conn->id, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, now);
		sqlite3_bind_text(st, 3, error, -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 4, SB_CONNECTION_REAUTH_FAILURES);
		sqlite3_bind_text(st, 5, now_iso, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 6, sb_owner_self(), -1, SQLITE_STATIC);
	}
	return sb_db_write(store->db, st, NULL);
}

/*
 * Stores refreshed credentials (sealed into blob) whoever holds the lease
 * now, releasing it only if it is this holder's.  The provider may have
 * rotated the refresh token already, so losing this write would leave the
 * connection needing re-authorisation: the caller gives the database a
 * deadline that lets it through (lib/connect/call.c).
 */
static enum sb_err
connection_store_refreshed(const struct sb_connection_store *store,
    const char *id, const unsigned char *blob, size_t blob_len, int64_t expires,
    int64_t now, const char *now_iso)
{
	sqlite3_stmt *st;

	if ((st = sb_db_stmt(store->db, sql[Q_REFRESH_OK])) != NULL) {
		sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
		sqlite3_bind_blob(st, 2, blob, (int)blob_len, SQLITE_STATIC);
		if (expires > 0)
			sqlite3_bind_int64(st, 3, expires);
		sqlite3_bind_int64(st, 4, now);
		sqlite3_bind_text(st, 5, now_iso, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 6, sb_owner_self(), -1, SQLITE_STATIC);
	}
	return sb_db_write(store->db, st, NULL);
}

enum sb_err
sb_connection_refreshed(const struct sb_connection_store *store,
    struct sb_connection *conn, const cJSON *credentials, const char *error,
    int64_t now)
{
	char now_iso[32], id[SB_CONNECTION_ID_MAX];
	unsigned char *blob = NULL;
	size_t blob_len = 0;
	int64_t expires = 0;
	enum sb_err rc;

	sb_db_now_iso(now_iso, sizeof(now_iso));
	memcpy(id, conn->id, sizeof(id));
	if (credentials == NULL)
		rc = connection_refresh_failed(store, conn,
		    error != NULL ? error : "refresh failed", now, now_iso);
	else if ((rc = connection_seal(store, conn->id, credentials, &blob,
	              &blob_len, &expires)) == SB_OK)
		rc = connection_store_refreshed(
		    store, id, blob, blob_len, expires, now, now_iso);
	free(blob);
	if (rc != SB_OK)
		return rc;
	return sb_connection_load(store, id, conn);
}

/* True if every auth entry of p obtains tokens. */
static bool
provider_all_refresh(const struct sb_provider *p)
{
	for (size_t i = 0; i < p->auth_count; i++)
		if (!sb_auth_obtains_token(p->auth[i].scheme))
			return false;
	return true;
}

/*
 * The names of providers whose tokens are refreshed, as a JSON array:
 * those all of whose schemes obtain tokens (all), or those of which only
 * some do (!all).
 */
static char *
refreshable_providers(const struct sb_providers *providers, bool all)
{
	cJSON *names = cJSON_CreateArray();
	const struct sb_provider *p;
	char *text;

	for (size_t i = 0; names != NULL && i < sb_providers_count(providers);
	     i++) {
		p = sb_providers_at(providers, i);
		if (sb_provider_obtains_token(p) &&
		    provider_all_refresh(p) == all)
			cJSON_AddItemToArray(
			    names, cJSON_CreateString(p->name));
	}
	text = names != NULL ? cJSON_PrintUnformatted(names) : NULL;
	cJSON_Delete(names);
	return text;
}

enum sb_err
sb_connection_due(const struct sb_connection_store *store,
    int64_t expires_before, int64_t stale_before,
    char (*ids)[SB_CONNECTION_ID_MAX], size_t max, size_t *count)
{
	sqlite3_stmt *st = sb_db_stmt(store->db, sql[Q_DUE]);
	char *names = refreshable_providers(store->providers, true);
	char *some = refreshable_providers(store->providers, false);
	int step = SQLITE_ERROR;

	*count = 0;
	if (st == NULL || names == NULL || some == NULL)
		goto out;
	sqlite3_bind_int64(st, 1, expires_before);
	sqlite3_bind_int64(st, 2, stale_before);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)max);
	sqlite3_bind_text(st, 4, names, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, some, -1, SQLITE_STATIC);
	while ((step = sqlite3_step(st)) == SQLITE_ROW && *count < max)
		column_copy(st, 0, ids[(*count)++], SB_CONNECTION_ID_MAX);
	sqlite3_reset(st);
out:
	cJSON_free(names);
	cJSON_free(some);
	return step == SQLITE_ROW || step == SQLITE_DONE ? SB_OK : SB_ERR_DB;
}

static void
describe_time(cJSON *j, const char *key, int64_t t)
{
	char buf[32];
	struct tm tm;
	time_t tt = (time_t)t;

	if (t <= 0) {
		cJSON_AddNullToObject(j, key);
		return;
	}
	gmtime_r(&tt, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	cJSON_AddStringToObject(j, key, buf);
}

cJSON *
sb_connection_describe(const struct sb_connection *conn)
{
	cJSON *j = cJSON_CreateObject(), *refresh;
	const struct sb_provider_auth *auth;

	if (j == NULL)
		return NULL;
	cJSON_AddStringToObject(j, "id", conn->id);
	cJSON_AddStringToObject(j, "provider", conn->provider->name);
	auth = sb_provider_auth_choose(conn->provider, conn->credentials);
	if (auth != NULL)
		cJSON_AddStringToObject(
		    j, "auth_scheme", sb_provider_scheme_name(auth->scheme));
	else
		cJSON_AddNullToObject(j, "auth_scheme");
	cJSON_AddItemToObject(j, "config", cJSON_Duplicate(conn->config, 1));
	cJSON_AddItemToObject(
	    j, "metadata", cJSON_Duplicate(conn->metadata, 1));
	describe_time(j, "token_expires_at", conn->access_expires_at);
	cJSON_AddBoolToObject(
	    j, "needs_reauthorization", conn->needs_reauth || conn->unreadable);
	cJSON_AddBoolToObject(j, "credentials_readable", !conn->unreadable);
	if ((refresh = cJSON_AddObjectToObject(j, "last_refresh")) != NULL) {
		describe_time(refresh, "at", conn->last_refresh_at);
		if (conn->last_refresh_status[0] != '\0')
			cJSON_AddStringToObject(
			    refresh, "result", conn->last_refresh_status);
		else
			cJSON_AddNullToObject(refresh, "result");
		if (conn->last_refresh_error[0] != '\0')
			cJSON_AddStringToObject(
			    refresh, "error", conn->last_refresh_error);
		cJSON_AddNumberToObject(
		    refresh, "consecutive_failures", conn->refresh_failures);
	}
	cJSON_AddStringToObject(j, "created_at", conn->created_at);
	cJSON_AddStringToObject(j, "updated_at", conn->updated_at);
	return j;
}

void
sb_connection_json_wipe(cJSON *j)
{
	for (cJSON *c = j; c != NULL; c = c->next) {
		if (cJSON_IsString(c) && c->valuestring != NULL)
			sodium_memzero(c->valuestring, strlen(c->valuestring));
		sb_connection_json_wipe(c->child);
	}
}

void
sb_connection_clear(struct sb_connection *conn)
{
	if (conn == NULL)
		return;
	sb_connection_json_wipe(conn->credentials);
	cJSON_Delete(conn->credentials);
	cJSON_Delete(conn->config);
	cJSON_Delete(conn->metadata);
	memset(conn, 0, sizeof(*conn));
}
