/*
 * Providers are data: etc/providers.json describes each provider Switchboard
 * can call — its base URL template, the hosts that template may resolve to,
 * its auth entries (a scheme each, with the credential fields it takes and
 * its token endpoint; a connection's credentials choose one), the config
 * fields it takes, rate-limit headers and pagination style.  This module loads
 * that file once per process, validates connection input against it, builds
 * provider URLs and adds authentication to outbound requests.  Adding a
 * provider with a known scheme needs no new C.
 */
#ifndef SB_PROVIDER_H
#define SB_PROVIDER_H

#include <stdbool.h>
#include <stddef.h>

#include <cJSON.h>

#include "sb/client/auth.h"
#include "sb/core/config.h"
#include "sb/core/err.h"

#define SB_PROVIDER_MAX 64 /* providers in the file */
#define SB_PROVIDER_FIELDS_MAX 16 /* credential or config fields each */
#define SB_PROVIDER_HOSTS_MAX 8 /* allowed host patterns each */
#define SB_PROVIDER_AUTH_MAX 4 /* auth entries (alternatives) each */
#define SB_PROVIDER_FILE_MAX (256 * 1024)
#define SB_PROVIDER_VALUE_MAX 4096 /* one credential or config value */
#define SB_PROVIDER_ERROR_MAX 256

enum sb_pagination {
	SB_PAGINATION_NONE,
	SB_PAGINATION_LINK, /* RFC 8288 Link: rel="next" */
	SB_PAGINATION_CURSOR, /* a cursor field in the body */
	SB_PAGINATION_PAGE, /* ?page=N */
	SB_PAGINATION__MAX
};

struct sb_provider_field {
	const char *name;
	bool required;
	const char *pattern; /* POSIX extended regex, or NULL */
	void *compiled; /* regex_t, private */
};

/*
 * One way of authenticating to a provider: a scheme, its settings and the
 * credential fields it takes.  A provider has one or more; a connection's
 * credentials choose one (sb_provider_auth_choose()).
 */
struct sb_provider_auth {
	enum sb_auth_scheme scheme;
	const char *token_url; /* template, or NULL; may begin "{base_url}" */
	struct sb_auth_settings settings;
	struct sb_provider_field credentials[SB_PROVIDER_FIELDS_MAX];
	size_t credential_count;
};

struct sb_provider {
	const char *name;
	const char *title;
	const char *base_url; /* template: {subdomain} {domain} {instance_url}
	                         {sandbox_port} */
	const char
	    *hosts[SB_PROVIDER_HOSTS_MAX]; /* "host:port" or "*.suffix:port" */
	size_t host_count;
	struct sb_provider_auth auth[SB_PROVIDER_AUTH_MAX];
	size_t auth_count; /* at least 1 */
	struct sb_provider_field config[SB_PROVIDER_FIELDS_MAX];
	size_t config_count;
	const cJSON *headers; /* extra headers sent on every call, or NULL */
	const cJSON *config_defaults; /* template values, or NULL */
	const char *rate_limit_limit; /* header names, or NULL */
	const char *rate_limit_remaining;
	const char *rate_limit_reset; /* epoch seconds, or delta seconds */
	bool rate_limit_reset_ms; /* the reset is a delta in milliseconds */
	enum sb_pagination pagination;
};

struct sb_providers;

/*
 * Loads and checks the providers file at path.  On SB_OK *out is set and the
 * caller frees it with sb_providers_free(), which also ends every string
 * of its providers (they point into the parsed file); otherwise *out is
 * NULL and the result is SB_ERR_CONFIG with err naming the file, or the
 * provider and field at fault (unreadable, over SB_PROVIDER_FILE_MAX, not
 * JSON, a bad definition, more than SB_PROVIDER_MAX), or SB_ERR_NOMEM.
 */
enum sb_err sb_providers_load(
    const char *path, struct sb_providers **out, char *err, size_t errsize);

/* Frees what sb_providers_load made; NULL is a no-op. */
void sb_providers_free(struct sb_providers *p);

/*
 * The provider called name, borrowed until sb_providers_free(); NULL if
 * there is none or p or name is NULL.
 */
const struct sb_provider *sb_providers_find(
    const struct sb_providers *p, const char *name);

/* Number of providers; 0 for NULL. */
size_t sb_providers_count(const struct sb_providers *p);

/* The i-th provider, borrowed until sb_providers_free(); NULL past count. */
const struct sb_provider *sb_providers_at(
    const struct sb_providers *p, size_t i);

/*
 * A JSON description of provider (no secrets exist in it).  The caller
 * frees it with cJSON_Delete(); NULL when out of memory.
 */
cJSON *sb_provider_describe(const struct sb_provider *provider);

/* The scheme's name as used in the file ("oauth2"), never NULL. */
const char *sb_provider_scheme_name(enum sb_auth_scheme scheme);

/*
 * The auth entry of provider that credentials choose: the one entry whose
 * required credential fields are all present and whose fields include
 * every present one (an OAuth2 token response's informational fields
 * aside, for schemes that obtain tokens).  NULL if none or more than one
 * does, or credentials is NULL.  Borrowed like the provider.
 */
const struct sb_provider_auth *sb_provider_auth_choose(
    const struct sb_provider *provider, const cJSON *credentials);

/* True if any auth entry of provider obtains tokens. */
bool sb_provider_obtains_token(const struct sb_provider *provider);

/*
 * True if name is an informational field of an OAuth2 token response
 * ("token_type", "scope", "id_token", ...; the list is in
 * docs/providers.md): credentials of providers with an OAuth2 scheme
 * (oauth2, client_credentials) may hold them, and they are not stored.
 */
bool sb_provider_token_info(const char *name);

/*
 * Checks credentials (an object of strings; "expires_in"/"expires_at" may
 * be numbers) and config (an object of strings, may be NULL) against
 * provider: the credentials choose exactly one auth entry (for a provider
 * of several, err names the fields that mix two entries or lists what
 * each entry needs), required fields present, patterns matched, the
 * scheme's own check passed (a private_key must be an RSA key), no unknown
 * fields
 * (for an OAuth2 scheme, sb_provider_token_info() fields of any value are
 * let through), values at most SB_PROVIDER_VALUE_MAX bytes; then renders
 * the base URL and checks its host against the provider's hosts and
 * cfg->allowed_hosts.
 * A config "base_url" must be a scheme (http or https), a host, an
 * optional port and a path prefix of plain segments, nothing else (no user
 * information, query, fragment, percent-encoding, "." or ".." or empty
 * segments).
 * partial allows missing required credentials (a PATCH of config alone).
 * On failure returns SB_ERR_INVALID with a message naming the field in err.
 */
enum sb_err sb_provider_check(const struct sb_provider *provider,
    const struct sb_config *cfg, const cJSON *credentials, const cJSON *config,
    bool partial, char *err, size_t errsize);

/*
 * Renders the template tmpl (base_url or an auth entry's token_url) with
 * the connection's config and cfg into out.  A config "base_url" replaces
 * the base URL template (SB_ERR_INVALID unless it is clean, as
 * sb_provider_check() says); a token_url beginning "{base_url}" begins
 * with the rendered base URL.  SB_ERR_INVALID if a placeholder has no value,
 * SB_ERR_TOO_LARGE if out is too small.
 */
enum sb_err sb_provider_render(const struct sb_provider *provider,
    const char *tmpl, const struct sb_config *cfg, const cJSON *config,
    char *out, size_t outsize);

/*
 * True if url's host and port match one of provider's hosts and its scheme
 * is https, or match an entry of cfg->allowed_hosts (comma-separated
 * "host:port" entries for every provider or "provider=host:port" for that
 * one: the operator's test servers and sandboxes) and its scheme is http
 * or https.
 */
bool sb_provider_url_allowed(const struct sb_provider *provider,
    const struct sb_config *cfg, const char *url);

#endif
