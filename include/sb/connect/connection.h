/*
 * Connections: a provider, sealed credentials, config and metadata behind a
 * reference and a token.  The token ("<id>.<secret>") is shown once; only
 * its keyed digest is stored.  Credentials are sealed with the keyring and
 * bound to their row, so a dump of the database holds none in the clear and
 * a blob moved to another row does not open.
 *
 * Every SQL statement of the module is in lib/connect/connection.c.
 */
#ifndef SB_CONNECTION_H
#define SB_CONNECTION_H

#include <stdbool.h>
#include <stdint.h>

#include <cJSON.h>

#include "sb/client/provider.h"
#include "sb/core/err.h"
#include "sb/store/db.h"
#include "sb/store/secrets.h"

#define SB_CONNECTION_ID_PREFIX "cn_"
#define SB_CONNECTION_ID_MAX 32
#define SB_CONNECTION_TOKEN_MAX 96
#define SB_CONNECTION_ERROR_MAX 256
#define SB_CONNECTION_METADATA_MAX 8192 /* bytes of metadata JSON */
#define SB_CONNECTION_REAUTH_FAILURES 3 /* refresh failures before reauth */
/* How long past the request's deadline refreshed credentials may take to
 * be stored (sb_connection_refreshed()). */
/* What a caller is told about a connection whose credentials do not open. */
#define SB_CONNECTION_UNREADABLE_MESSAGE \
	"the connection's credentials cannot be opened (the master key " \
	"changed or the stored credentials were altered): PATCH new " \
	"credentials or DELETE the connection"

/*
 * What the connection store uses, and nothing else: its database, the
 * keyring that seals credentials and digests tokens, and the provider
 * definitions a row's provider name is resolved against.  Borrowed.
 */
struct sb_connection_store {
	struct sb_db *db;
	struct sb_secrets *secrets;
	const struct sb_providers *providers;
};

/* The store over a responder's context's parts (a borrowed view). */
#define SB_CONNECTION_STORE(ctx) \
	(&(struct sb_connection_store){ \
	    (ctx)->db, (ctx)->secrets, (ctx)->providers })

struct sb_connection {
	char id[SB_CONNECTION_ID_MAX];
	const struct sb_provider *provider;
	cJSON *credentials; /* opened; wiped and freed by clear; NULL if
	                       unreadable */
	bool unreadable; /* the sealed credentials did not open (key lost or
	                    blob altered): only sb_connection_authenticate()
	                    fills conn so */
	cJSON *config;
	cJSON *metadata;
	int64_t access_expires_at; /* 0: unknown or never */
	int64_t last_refresh_at;
	char last_refresh_status[16]; /* "", "ok" or "failed" */
	char last_refresh_error[SB_CONNECTION_ERROR_MAX];
	int refresh_failures;
	bool needs_reauth;
	char created_at[32];
	char updated_at[32];
};

/*
 * Creates a connection for provider with credentials, config and metadata
 * (already checked by sb_provider_check; config and metadata may be NULL).
 * On SB_OK conn is filled (the caller clears it with sb_connection_clear())
 * and token holds the token, which is not stored anywhere.  Otherwise token
 * is zeroed and conn holds nothing that needs clearing (clearing it is
 * harmless): SB_ERR_NOMEM, SB_ERR_TOO_LARGE or SB_ERR_CRYPTO from sealing
 * the credentials, SB_ERR_BUSY or SB_ERR_DB from the store, or
 * sb_connection_load()'s when reading the new row back.
 */
enum sb_err sb_connection_create(const struct sb_connection_store *store,
    const struct sb_provider *provider, const cJSON *credentials,
    const cJSON *config, const cJSON *metadata, struct sb_connection *conn,
    char token[SB_CONNECTION_TOKEN_MAX]);

/*
 * The guard's look-up: finds the connection the token names and checks the
 * token's digest in constant time.  If id is not NULL the token must also
 * belong to that connection.  A malformed token, an unknown connection, a
 * wrong token and another connection's token all give SB_ERR_UNAUTHORIZED
 * after the same work: the token is checked against its digest, which
 * needs no credentials.  On SB_OK conn is filled and the caller clears it
 * with sb_connection_clear(); credentials that do not open leave
 * conn->credentials NULL and conn->unreadable set (logged), so that the
 * connection can still be read, given new credentials or deleted.
 * Otherwise conn is zeroed, or cleared, and the result is
 * SB_ERR_UNAUTHORIZED, SB_ERR_CONFIG (an unknown provider) or SB_ERR_DB.
 */
enum sb_err sb_connection_authenticate(const struct sb_connection_store *store,
    const char *token, const char *id, struct sb_connection *conn);

/*
 * Loads connection id without a token (sbctl, refreshes), first clearing
 * what conn held.  On SB_OK the caller clears conn with
 * sb_connection_clear(); otherwise conn is cleared and the result is
 * SB_ERR_NOT_FOUND if there is no such row, SB_ERR_CRYPTO (logged) if its
 * credentials do not open, SB_ERR_CONFIG (logged) if it names an unknown
 * provider, or SB_ERR_DB.
 */
enum sb_err sb_connection_load(const struct sb_connection_store *store,
    const char *id, struct sb_connection *conn);

/*
 * Replaces the credentials (if not NULL) and the config (if not NULL) of
 * conn, in the database and in conn.  New credentials clear needs_reauth
 * and the failure count.  On SB_OK conn is reloaded from the database.
 * Each part is written in its own transaction, so a failed config write
 * leaves the new credentials stored.  Errors: SB_ERR_NOMEM, SB_ERR_CRYPTO
 * or SB_ERR_TOO_LARGE from sealing, SB_ERR_BUSY or SB_ERR_DB from the
 * store, or sb_connection_load()'s (conn then cleared).  The caller clears
 * conn as before, in every case.
 */
enum sb_err sb_connection_update(const struct sb_connection_store *store,
    struct sb_connection *conn, const cJSON *credentials, const cJSON *config);

/*
 * Deletes connection id and its sealed credentials.  SB_ERR_NOT_FOUND if
 * there was no such row; SB_ERR_BUSY or SB_ERR_DB if the write failed.
 */
enum sb_err sb_connection_delete(
    const struct sb_connection_store *store, const char *id);

/*
 * Takes the refresh lease of connection id for lease_s seconds, naming
 * this process (sb_owner_self()) its holder: *got is true iff no lease was
 * held, or the one held has run out or its holder is a dead process of
 * this host (sb_owner_dead()), which is taken over at once.  Single-flight
 * refreshes rest on this.  On an error (SB_ERR_BUSY or SB_ERR_DB from the
 * write) *got is false.
 */
enum sb_err sb_connection_lease(const struct sb_connection_store *store,
    const char *id, int64_t now, int lease_s, bool *got);

/*
 * Gives up this process's refresh lease of id without recording anything;
 * a lease held by another process is left alone.  SB_ERR_BUSY or SB_ERR_DB
 * if the write failed.
 */
enum sb_err sb_connection_release(
    const struct sb_connection_store *store, const char *id);

/*
 * Records the outcome of a refresh attempt and releases the lease: on
 * success stores credentials (sealed) and their expiry whoever holds the
 * lease by now (the provider may have rotated the refresh token: these are
 * the only ones that work), within the database's deadline (which the
 * caller may extend for it); on failure, if this process still
 * holds the lease, counts it and marks the connection as needing
 * re-authorisation after SB_CONNECTION_REAUTH_FAILURES in a row.  credentials
 * NULL means failure (error, or "refresh failed" if NULL, is stored and must
 * hold no secret). On SB_OK conn is reloaded from the database; otherwise the
 * result is a sealing or store error, or sb_connection_load()'s (conn then
 * cleared).
 */
enum sb_err sb_connection_refreshed(const struct sb_connection_store *store,
    struct sb_connection *conn, const cJSON *credentials, const char *error,
    int64_t now);

/*
 * Ids (up to max) of connections of providers with a refreshable scheme
 * whose token expires before expires_before or that were not refreshed
 * since stale_before (for providers of several schemes, some static: by
 * expiry alone), and that do not need re-authorisation.  ids[i] are
 * caller buffers of SB_CONNECTION_ID_MAX bytes; *count gets how many were
 * filled.  SB_ERR_DB if the query failed (or the provider list could not
 * be built), with *count as far as it got.
 */
enum sb_err sb_connection_due(const struct sb_connection_store *store,
    int64_t expires_before, int64_t stale_before,
    char (*ids)[SB_CONNECTION_ID_MAX], size_t max, size_t *count);

/*
 * The public view of conn (no credentials; "credentials_readable" false,
 * and "needs_reauthorization" true, when they do not open).  The caller frees
 * it with cJSON_Delete(); NULL when out of memory.
 */
cJSON *sb_connection_describe(const struct sb_connection *conn);

/* Overwrites every string in j (credentials about to be freed); NULL ok. */
void sb_connection_json_wipe(cJSON *j);

/* Wipes and frees what conn holds; safe on a zeroed conn. */
void sb_connection_clear(struct sb_connection *conn);

/*
 * Expiry as unix seconds from credentials' expires_at (absolute) or
 * expires_in (relative to now), numbers or numeric strings; 0 when neither
 * is present or the value is not a positive number up to 1e12.
 */
int64_t sb_connection_expiry(const cJSON *credentials, int64_t now);

#endif
