/*
 * Checking a connection's credentials and config against its provider
 * (see include/sb/client/provider.h): which auth entry the credentials
 * choose, each field against its definition, and the rendered base URL
 * against the hosts allowed.  Runs when a connection is created or
 * changed; sb_provider_auth_choose() also on every call.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <regex.h>

#include "sb/client/provider.h"
#include "provider_internal.h"

/*
 * Informational fields of an OAuth2 token response (RFC 6749 section 5.1,
 * RFC 8693, OpenID Connect Core 3.1.3.3, and the extensions Keycloak,
 * GitHub Apps and Microsoft send), so that a provider's raw answer can be
 * pasted whole as credentials.  Providers with an OAuth2 scheme accept them
 * and they are dropped before sealing; what matters of that answer
 * (access_token, refresh_token, expires_in) is an ordinary credential
 * field.  The list is in docs/providers.md.
 */
static const char *const token_info_names[] = { "token_type", "scope",
	"id_token", "issued_token_type", "refresh_expires_in",
	"refresh_token_expires_in", "ext_expires_in", "not-before-policy",
	"session_state", NULL };

bool
sb_provider_token_info(const char *name)
{
	return name != NULL && provider_name_listed(token_info_names, name);
}

static const struct sb_provider_field *
field_find(
    const struct sb_provider_field *fields, size_t count, const char *name)
{
	for (size_t i = 0; i < count; i++)
		if (strcmp(fields[i].name, name) == 0)
			return &fields[i];
	return NULL;
}

/* Checks one value against its field; numbers only for expiries. */
static bool
check_value(const struct sb_provider_field *f, const cJSON *v, const char *what,
    char *err, size_t errsize)
{
	bool numeric = strncmp(f->name, "expires_", 8) == 0;

	if (numeric && cJSON_IsNumber(v) && v->valuedouble >= 0 &&
	    v->valuedouble < 1e12)
		return true;
	if (!cJSON_IsString(v) || v->valuestring[0] == '\0' ||
	    strlen(v->valuestring) > SB_PROVIDER_VALUE_MAX) {
		snprintf(err, errsize,
		    "%s field '%s' must be a non-empty "
		    "string of at most %d bytes%s",
		    what, f->name, SB_PROVIDER_VALUE_MAX,
		    numeric ? " or a number" : "");
		return false;
	}
	if (f->compiled != NULL &&
	    regexec(f->compiled, v->valuestring, 0, NULL, 0) != 0) {
		snprintf(err, errsize, "%s field '%s' does not match %s", what,
		    f->name, f->pattern);
		return false;
	}
	return true;
}

/*
 * Checks obj against fields.  token_info: the informational fields of an
 * OAuth2 token response are let through unchecked (they are not stored).
 */
static bool
check_object(const struct sb_provider *provider,
    const struct sb_provider_field *fields, size_t count, const cJSON *obj,
    bool partial, bool token_info, const char *what, char *err, size_t errsize)
{
	const struct sb_provider_field *f;
	const cJSON *v;

	if (obj != NULL && !cJSON_IsObject(obj)) {
		snprintf(err, errsize, "%s must be an object", what);
		return false;
	}
	cJSON_ArrayForEach(v, obj)
	{
		if (token_info && sb_provider_token_info(v->string))
			continue;
		if ((f = field_find(fields, count, v->string)) == NULL) {
			snprintf(err, errsize,
			    "%s field '%.64s' is not used by provider '%s'",
			    what, v->string, provider->name);
			return false;
		}
		if (!check_value(f, v, what, err, errsize))
			return false;
	}
	for (size_t i = 0; !partial && i < count; i++) {
		if (fields[i].required &&
		    cJSON_GetObjectItemCaseSensitive(obj, fields[i].name) ==
		        NULL) {
			snprintf(err, errsize,
			    "%s field '%s' is required by provider '%s'", what,
			    fields[i].name, provider->name);
			return false;
		}
	}
	return true;
}

/*
 * True if credentials fit auth entry a: every present field is one of its
 * own (an OAuth2 token response's informational fields aside when it
 * obtains tokens) and, unless partial, every required one is present.
 */
static bool
auth_fits(
    const struct sb_provider_auth *a, const cJSON *credentials, bool partial)
{
	bool token_info = sb_auth_obtains_token(a->scheme);
	const cJSON *v;

	cJSON_ArrayForEach(v, credentials)
	{
		if (!(token_info && sb_provider_token_info(v->string)) &&
		    field_find(
		        a->credentials, a->credential_count, v->string) == NULL)
			return false;
	}
	for (size_t i = 0; !partial && i < a->credential_count; i++)
		if (a->credentials[i].required &&
		    cJSON_GetObjectItemCaseSensitive(
		        credentials, a->credentials[i].name) == NULL)
			return false;
	return true;
}

/* True if credentials hold a required field of a (a field that picks it). */
static bool
auth_touched(const struct sb_provider_auth *a, const cJSON *credentials)
{
	for (size_t i = 0; i < a->credential_count; i++)
		if (a->credentials[i].required &&
		    cJSON_GetObjectItemCaseSensitive(
		        credentials, a->credentials[i].name) != NULL)
			return true;
	return false;
}

/* The index of the one entry credentials fit; -1 if none, -2 if several. */
static int
auth_pick(
    const struct sb_provider *provider, const cJSON *credentials, bool partial)
{
	int found = -1;

	for (size_t i = 0; i < provider->auth_count; i++) {
		if (!auth_fits(&provider->auth[i], credentials, partial))
			continue;
		if (found >= 0)
			return -2;
		found = (int)i;
	}
	return found;
}

const struct sb_provider_auth *
sb_provider_auth_choose(
    const struct sb_provider *provider, const cJSON *credentials)
{
	int i;

	if (provider == NULL)
		return NULL;
	/* One entry is every connection's, as before alternatives. */
	if (provider->auth_count == 1)
		return &provider->auth[0];
	if (!cJSON_IsObject(credentials) ||
	    (i = auth_pick(provider, credentials, false)) < 0)
		return NULL;
	return &provider->auth[i];
}

bool
sb_provider_obtains_token(const struct sb_provider *provider)
{
	for (size_t i = 0; i < provider->auth_count; i++)
		if (sb_auth_obtains_token(provider->auth[i].scheme))
			return true;
	return false;
}

/* Appends printf-style text to buf; silently cut at its end. */
static void text_add(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
text_add(char *buf, size_t size, const char *fmt, ...)
{
	size_t len = strlen(buf);
	va_list ap;

	if (len + 1 >= size)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(buf + len, size - len, fmt, ap);
	va_end(ap);
}

/* "a, b (scheme); c (scheme)": each entry's required fields. */
static void
auth_list(const struct sb_provider *provider, char *buf, size_t size)
{
	const struct sb_provider_auth *a;
	bool first;

	for (size_t i = 0; i < provider->auth_count; i++) {
		a = &provider->auth[i];
		first = true;
		text_add(buf, size, "%s", i > 0 ? "; " : "");
		for (size_t f = 0; f < a->credential_count; f++) {
			if (!a->credentials[f].required)
				continue;
			text_add(buf, size, "%s%s", first ? "" : ", ",
			    a->credentials[f].name);
			first = false;
		}
		text_add(
		    buf, size, " (%s)", sb_provider_scheme_name(a->scheme));
	}
}

/*
 * Why credentials choose no entry of a provider of several: the present
 * fields of each entry they touch ("mix"), or what each entry needs.
 */
static void
auth_mixed(const struct sb_provider *provider, const cJSON *credentials,
    char *err, size_t errsize)
{
	const struct sb_provider_auth *a;
	bool first = true;

	snprintf(err, errsize,
	    "credentials mix auth schemes of provider '%s':", provider->name);
	for (size_t i = 0; i < provider->auth_count; i++) {
		a = &provider->auth[i];
		for (size_t f = 0; f < a->credential_count; f++) {
			if (!a->credentials[f].required ||
			    cJSON_GetObjectItemCaseSensitive(
			        credentials, a->credentials[f].name) == NULL)
				continue;
			text_add(err, errsize, "%s '%s' (%s)", first ? "" : ",",
			    a->credentials[f].name,
			    sb_provider_scheme_name(a->scheme));
			first = false;
		}
	}
	text_add(err, errsize, "; give the fields of one: ");
	auth_list(provider, err, errsize);
}

/* Checks credentials against the one entry they choose (see .h). */
static bool
check_credentials(const struct sb_provider *provider, const cJSON *credentials,
    bool partial, char *err, size_t errsize)
{
	const struct sb_provider_auth *a = NULL;
	size_t touched = 0;
	int i = provider->auth_count == 1
	    ? 0
	    : auth_pick(provider, credentials, partial);

	for (size_t k = 0; i == -1 && k < provider->auth_count; k++)
		if (auth_touched(&provider->auth[k], credentials) &&
		    touched++ == 0)
			a = &provider->auth[k];
	if (i >= 0)
		a = &provider->auth[i];
	else if (i == -2 || touched > 1) {
		auth_mixed(provider, credentials, err, errsize);
		return false;
	} else if (a == NULL) {
		snprintf(err, errsize,
		    "credentials of provider '%s' are one of: ",
		    provider->name);
		auth_list(provider, err, errsize);
		return false;
	}
	if (!check_object(provider, a->credentials, a->credential_count,
	        credentials, partial, sb_auth_obtains_token(a->scheme),
	        "credentials", err, errsize))
		return false;
	return sb_auth_impl(a->scheme)->check == NULL ||
	    sb_auth_impl(a->scheme)->check(credentials, err, errsize);
}

enum sb_err
sb_provider_check(const struct sb_provider *provider,
    const struct sb_config *cfg, const cJSON *credentials, const cJSON *config,
    bool partial, char *err, size_t errsize)
{
	char url[2048], missing[64];
	const char *problem = NULL;
	enum sb_err rc;

	if (!check_credentials(provider, credentials, partial, err, errsize) ||
	    !check_object(provider, provider->config, provider->config_count,
	        config, false, false, "config", err, errsize))
		return SB_ERR_INVALID;
	if (provider_json_str(config, "base_url") != NULL &&
	    (problem = provider_base_url_problem(
	         provider_json_str(config, "base_url"))) != NULL) {
		snprintf(err, errsize,
		    "config field 'base_url' %s: a base URL is a scheme, a "
		    "host, a port and a path prefix, nothing else",
		    problem);
		return SB_ERR_INVALID;
	}
	rc = provider_render(provider, provider->base_url, cfg, config, url,
	    sizeof(url), missing, sizeof(missing));
	if (rc != SB_OK) {
		snprintf(err, errsize,
		    "config field '%s' is missing or "
		    "holds characters a host cannot",
		    missing);
		return SB_ERR_INVALID;
	}
	if (!sb_provider_url_allowed(provider, cfg, url)) {
		snprintf(err, errsize,
		    "the base URL's host is not one "
		    "provider '%s' allows",
		    provider->name);
		return SB_ERR_INVALID;
	}
	return SB_OK;
}
