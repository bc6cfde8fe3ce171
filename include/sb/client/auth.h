/*
 * Auth schemes as a table: each scheme is one entry naming the credential
 * fields it needs, the settings of a provider's auth entry it needs, how it
 * adds authentication to a request and, if it obtains tokens, the form it
 * sends to the token endpoint.  Providers (etc/providers.json) name a
 * scheme per auth entry; the call path walks the entry of a connection's
 * scheme and never switches on the scheme itself.  Adding a scheme is one
 * enum value and one table entry here.
 */
#ifndef SB_AUTH_H
#define SB_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cJSON.h>

enum sb_auth_scheme {
	SB_AUTH_NONE,
	SB_AUTH_BEARER, /* static access token */
	SB_AUTH_OAUTH2, /* access + refresh token, refresh grant */
	SB_AUTH_CLIENT_CREDENTIALS, /* client id + secret for a token */
	SB_AUTH_BASIC, /* username + password */
	SB_AUTH_API_KEY_HEADER, /* api_key in a header, with a prefix */
	SB_AUTH_API_KEY_QUERY, /* api_key as a query parameter */
	SB_AUTH_PRIVATE_KEY_JWT, /* client credentials, RS256 assertion */
	SB_AUTH__MAX
};

#define SB_AUTH_FORM_MAX 16384 /* bytes of a token request's form body */
#define SB_AUTH_ASSERTION_LIFETIME_S 120 /* a client assertion lives */

/* Where a scheme puts what it adds. */
enum sb_auth_place {
	SB_AUTH_PLACE_HEADER,
	SB_AUTH_PLACE_QUERY,
};

/*
 * Adds name: prefix value (a header) or name=value (a query parameter);
 * false if it does not fit, which fails the request.
 */
typedef bool (*sb_auth_add_fn)(void *arg, enum sb_auth_place place,
    const char *name, const char *prefix, const char *value);

/* A provider auth entry's settings, as a scheme uses them. */
struct sb_auth_settings {
	const char *header; /* API key header name, or NULL */
	const char *prefix; /* e.g. "SSWS ", or NULL */
	const char *query; /* API key query parameter, or NULL */
	const char *scope; /* sent with token requests, or NULL */
};

/* A token request: the connection's credentials and where it goes. */
struct sb_auth_token_request {
	const struct sb_auth_settings *settings;
	const cJSON *credentials;
	const char *token_url; /* rendered */
	int64_t now; /* unix seconds */
};

struct sb_auth_impl {
	const char *name; /* as etc/providers.json names it */
	const char *const *needs; /* credential fields it needs, NULL-ended */
	bool needs_token_url;
	bool needs_query;
	/* Adds the auth of credentials to a request; true if none needed. */
	bool (*apply)(const struct sb_auth_settings *settings,
	    const cJSON *credentials, sb_auth_add_fn add, void *arg);
	/*
	 * Writes the token request's form into form; NULL for schemes that
	 * obtain no token.  False with err (no secrets in it) on failure.
	 */
	bool (*token_form)(const struct sb_auth_token_request *r, char *form,
	    size_t size, char *err, size_t errsize);
	/* Checks credentials beyond their fields' patterns, or NULL. */
	bool (*check)(const cJSON *credentials, char *err, size_t errsize);
};

/* The scheme's entry; NULL past SB_AUTH__MAX. */
const struct sb_auth_impl *sb_auth_impl(enum sb_auth_scheme scheme);

/* The scheme called name; false if there is none. */
bool sb_auth_scheme_find(const char *name, enum sb_auth_scheme *out);

/* True if the scheme obtains tokens from a token endpoint. */
bool sb_auth_obtains_token(enum sb_auth_scheme scheme);

#endif
