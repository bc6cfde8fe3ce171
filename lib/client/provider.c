/*
 * Provider definitions loaded from a JSON file (see
 * include/sb/client/provider.h). The parsed cJSON tree lives as long as the
 * providers; every string of a struct sb_provider points into it.  The checks
 * here run when a connection is created or changed, and again on every call
 * (the URL check).
 */
#include <ctype.h>
#include <errno.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "sb/core/log.h"
#include "sb/client/provider.h"
#include "provider_internal.h"

struct sb_providers {
	cJSON *root;
	struct sb_provider items[SB_PROVIDER_MAX];
	size_t count;
};

static const char *const pagination_names[SB_PAGINATION__MAX] = {
	[SB_PAGINATION_NONE] = "none",
	[SB_PAGINATION_LINK] = "link",
	[SB_PAGINATION_CURSOR] = "cursor",
	[SB_PAGINATION_PAGE] = "page",
};

/* Credential names every part agrees on (DESIGN.md). */
static const char *const credential_names[] = { "access_token", "refresh_token",
	"expires_at", "expires_in", "client_id", "client_secret", "username",
	"password", "api_key", "private_key", "key_id", "webhook_secret",
	"webhook_secret_previous", NULL };

/* Config names every part agrees on (DESIGN.md). */
static const char *const config_names[] = { "subdomain", "domain",
	"instance_url", "base_url", NULL };

const char *
sb_provider_scheme_name(enum sb_auth_scheme scheme)
{
	const struct sb_auth_impl *impl = sb_auth_impl(scheme);

	return impl != NULL ? impl->name : "?";
}

static int
name_index(const char *const *names, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (names[i] != NULL && strcmp(names[i], name) == 0)
			return (int)i;
	return -1;
}

bool
provider_name_listed(const char *const *names, const char *name)
{
	for (; *names != NULL; names++)
		if (strcmp(*names, name) == 0)
			return true;
	return false;
}

const char *
provider_json_str(const cJSON *obj, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* Reads one "credentials" or "config" object into fields. */
static bool
load_fields(const cJSON *obj, const char *const *allowed,
    struct sb_provider_field *fields, size_t *count, char *err, size_t errsize)
{
	const cJSON *f;
	regex_t *re;

	*count = 0;
	cJSON_ArrayForEach(f, obj)
	{
		if (*count == SB_PROVIDER_FIELDS_MAX || !cJSON_IsObject(f) ||
		    !provider_name_listed(allowed, f->string)) {
			snprintf(err, errsize, "field '%.64s' is not allowed",
			    f->string);
			return false;
		}
		fields[*count].name = f->string;
		fields[*count].required = cJSON_IsTrue(
		    cJSON_GetObjectItemCaseSensitive(f, "required"));
		fields[*count].pattern = provider_json_str(f, "pattern");
		if (fields[*count].pattern != NULL) {
			if ((re = calloc(1, sizeof(*re))) == NULL ||
			    regcomp(re, fields[*count].pattern,
			        REG_EXTENDED | REG_NOSUB) != 0) {
				free(re);
				snprintf(err, errsize,
				    "field '%.64s' has a bad pattern",
				    f->string);
				return false;
			}
			fields[*count].compiled = re;
		}
		(*count)++;
	}
	return true;
}

static bool
load_enum(const char *value, const char *const *names, int n, int *out)
{
	int i;

	if (value == NULL)
		return false;
	if ((i = name_index(names, (size_t)n, value)) < 0)
		return false;
	*out = i;
	return true;
}

/* The pagination; false if it is unknown. */
static bool
load_pagination(const cJSON *j, struct sb_provider *p)
{
	int pagination = 0;
	const char *pag = provider_json_str(j, "pagination");

	if (pag != NULL &&
	    !load_enum(pag, pagination_names, SB_PAGINATION__MAX, &pagination))
		return false;
	p->pagination = (enum sb_pagination)pagination;
	return true;
}

/* True if the scheme's needed credential fields are all fields of a. */
static bool
load_auth_needs(const struct sb_provider_auth *a, char *err, size_t errsize)
{
	const struct sb_auth_impl *impl = sb_auth_impl(a->scheme);
	bool found;

	for (const char *const *need = impl->needs; *need != NULL; need++) {
		found = false;
		for (size_t i = 0; i < a->credential_count; i++)
			found =
			    found || strcmp(a->credentials[i].name, *need) == 0;
		if (!found) {
			snprintf(err, errsize,
			    "auth scheme '%s' needs credentials field '%s'",
			    impl->name, *need);
			return false;
		}
	}
	return true;
}

/*
 * One auth entry: the object auth, its credential fields in creds (the
 * entry's own "credentials", or the provider's for a single entry).
 * False with err if the scheme is unknown or lacks what it needs.
 */
static bool
load_auth(const cJSON *auth, const cJSON *creds, struct sb_provider_auth *a,
    char *err, size_t errsize)
{
	const struct sb_auth_impl *impl;

	if (!cJSON_IsObject(auth) ||
	    !sb_auth_scheme_find(
	        provider_json_str(auth, "scheme"), &a->scheme)) {
		snprintf(err, errsize,
		    "needs name, base_url and a known "
		    "auth.scheme and pagination");
		return false;
	}
	impl = sb_auth_impl(a->scheme);
	a->token_url = provider_json_str(auth, "token_url");
	a->settings.header = provider_json_str(auth, "header");
	a->settings.prefix = provider_json_str(auth, "prefix");
	a->settings.query = provider_json_str(auth, "query");
	a->settings.scope = provider_json_str(auth, "scope");
	if (impl->needs_token_url && a->token_url == NULL) {
		snprintf(err, errsize, "auth.token_url is required");
		return false;
	}
	if (impl->needs_query && a->settings.query == NULL) {
		snprintf(err, errsize, "auth.query is required");
		return false;
	}
	return load_fields(creds, credential_names, a->credentials,
	           &a->credential_count, err, errsize) &&
	    load_auth_needs(a, err, errsize);
}

/*
 * The "auth" of j: one object (its credential fields the provider's
 * "credentials"), or an array of alternatives, each with its own
 * "credentials".
 */
static bool
load_auths(const cJSON *j, struct sb_provider *p, char *err, size_t errsize)
{
	const cJSON *auth = cJSON_GetObjectItemCaseSensitive(j, "auth"), *a;

	if (!cJSON_IsArray(auth))
		return load_auth(auth,
		    cJSON_GetObjectItemCaseSensitive(j, "credentials"),
		    &p->auth[p->auth_count++], err, errsize);
	if (cJSON_GetArraySize(auth) < 1 ||
	    cJSON_GetArraySize(auth) > SB_PROVIDER_AUTH_MAX) {
		snprintf(err, errsize, "auth holds 1 to %d entries",
		    SB_PROVIDER_AUTH_MAX);
		return false;
	}
	cJSON_ArrayForEach(a, auth)
	{
		if (!load_auth(a,
		        cJSON_GetObjectItemCaseSensitive(a, "credentials"),
		        &p->auth[p->auth_count++], err, errsize))
			return false;
	}
	return true;
}

/* The "hosts" array; false with err on a non-string or one too many. */
static bool
load_hosts(const cJSON *j, struct sb_provider *p, char *err, size_t errsize)
{
	const cJSON *h;

	cJSON_ArrayForEach(h, cJSON_GetObjectItemCaseSensitive(j, "hosts"))
	{
		if (!cJSON_IsString(h) ||
		    p->host_count == SB_PROVIDER_HOSTS_MAX) {
			snprintf(err, errsize, "hosts must be strings");
			return false;
		}
		p->hosts[p->host_count++] = h->valuestring;
	}
	return true;
}

/* Fills p from the JSON object j; false with err on a bad definition. */
static bool
load_one(const cJSON *j, struct sb_provider *p, char *err, size_t errsize)
{
	const cJSON *rate = cJSON_GetObjectItemCaseSensitive(j, "rate_limit");

	p->name = provider_json_str(j, "name");
	p->title = provider_json_str(j, "title");
	p->base_url = provider_json_str(j, "base_url");
	if (p->name == NULL || p->base_url == NULL || !load_pagination(j, p)) {
		snprintf(err, errsize,
		    "needs name, base_url and a known "
		    "auth.scheme and pagination");
		return false;
	}
	if (!load_auths(j, p, err, errsize) || !load_hosts(j, p, err, errsize))
		return false;
	p->headers = cJSON_GetObjectItemCaseSensitive(j, "headers");
	p->config_defaults =
	    cJSON_GetObjectItemCaseSensitive(j, "config_defaults");
	p->rate_limit_limit = provider_json_str(rate, "limit");
	p->rate_limit_remaining = provider_json_str(rate, "remaining");
	p->rate_limit_reset = provider_json_str(rate, "reset");
	p->rate_limit_reset_ms =
	    provider_json_str(rate, "reset_unit") != NULL &&
	    strcmp(provider_json_str(rate, "reset_unit"), "ms") == 0;
	return load_fields(cJSON_GetObjectItemCaseSensitive(j, "config"),
	    config_names, p->config, &p->config_count, err, errsize);
}

static char *
read_file(const char *path, size_t max, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t n;

	if (f == NULL)
		return NULL;
	if ((buf = malloc(max + 1)) != NULL) {
		n = fread(buf, 1, max + 1, f);
		if (n > max || ferror(f)) {
			free(buf);
			buf = NULL;
		} else {
			buf[n] = '\0';
			*len = n;
		}
	}
	fclose(f);
	return buf;
}

enum sb_err
sb_providers_load(
    const char *path, struct sb_providers **out, char *err, size_t errsize)
{
	struct sb_providers *p = NULL;
	const cJSON *j;
	char *text = NULL, why[SB_PROVIDER_ERROR_MAX];
	enum sb_err rc = SB_ERR_CONFIG;
	size_t len = 0;

	*out = NULL;
	if ((text = read_file(path, SB_PROVIDER_FILE_MAX, &len)) == NULL) {
		snprintf(err, errsize, "%s: cannot read (or larger than %d)",
		    path, SB_PROVIDER_FILE_MAX);
		goto out;
	}
	if ((p = calloc(1, sizeof(*p))) == NULL) {
		rc = SB_ERR_NOMEM;
		goto out;
	}
	if ((p->root = cJSON_ParseWithLength(text, len)) == NULL) {
		snprintf(err, errsize, "%s: not valid JSON", path);
		goto out;
	}
	cJSON_ArrayForEach(
	    j, cJSON_GetObjectItemCaseSensitive(p->root, "providers"))
	{
		snprintf(why, sizeof(why), "more than %d providers",
		    SB_PROVIDER_MAX);
		if (p->count == SB_PROVIDER_MAX ||
		    !load_one(j, &p->items[p->count], why, sizeof(why))) {
			snprintf(err, errsize, "%s: provider %zu: %s", path,
			    p->count + 1, why);
			p->count++;
			goto out;
		}
		p->count++;
	}
	rc = SB_OK;
	*out = p;
	p = NULL;
out:
	sb_providers_free(p);
	free(text);
	return rc;
}

static void
free_fields(struct sb_provider_field *fields, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		if (fields[i].compiled != NULL)
			regfree(fields[i].compiled);
		free(fields[i].compiled);
	}
}

void
sb_providers_free(struct sb_providers *p)
{
	if (p == NULL)
		return;
	for (size_t i = 0; i < p->count && i < SB_PROVIDER_MAX; i++) {
		for (size_t a = 0; a < p->items[i].auth_count; a++)
			free_fields(p->items[i].auth[a].credentials,
			    p->items[i].auth[a].credential_count);
		free_fields(p->items[i].config, p->items[i].config_count);
	}
	cJSON_Delete(p->root);
	free(p);
}

const struct sb_provider *
sb_providers_find(const struct sb_providers *p, const char *name)
{
	for (size_t i = 0; p != NULL && name != NULL && i < p->count; i++)
		if (strcmp(p->items[i].name, name) == 0)
			return &p->items[i];
	return NULL;
}

size_t
sb_providers_count(const struct sb_providers *p)
{
	return p != NULL ? p->count : 0;
}

const struct sb_provider *
sb_providers_at(const struct sb_providers *p, size_t i)
{
	return p != NULL && i < p->count ? &p->items[i] : NULL;
}

static cJSON *
describe_fields(const struct sb_provider_field *fields, size_t count)
{
	cJSON *obj = cJSON_CreateObject(), *f;

	for (size_t i = 0; obj != NULL && i < count; i++) {
		if ((f = cJSON_AddObjectToObject(obj, fields[i].name)) == NULL)
			break;
		cJSON_AddBoolToObject(f, "required", fields[i].required);
		if (fields[i].pattern != NULL)
			cJSON_AddStringToObject(
			    f, "pattern", fields[i].pattern);
	}
	return obj;
}

/* {"scheme", "credentials"} of one auth entry, added to array. */
static void
describe_auth(cJSON *array, const struct sb_provider_auth *a)
{
	cJSON *j = cJSON_CreateObject();

	if (j == NULL || !cJSON_AddItemToArray(array, j)) {
		cJSON_Delete(j);
		return;
	}
	cJSON_AddStringToObject(
	    j, "scheme", sb_provider_scheme_name(a->scheme));
	cJSON_AddItemToObject(j, "credentials",
	    describe_fields(a->credentials, a->credential_count));
}

cJSON *
sb_provider_describe(const struct sb_provider *provider)
{
	cJSON *j = cJSON_CreateObject(), *auth;

	if (j == NULL)
		return NULL;
	cJSON_AddStringToObject(j, "name", provider->name);
	if (provider->title != NULL)
		cJSON_AddStringToObject(j, "title", provider->title);
	cJSON_AddStringToObject(j, "base_url", provider->base_url);
	/* The first entry, as before alternatives existed; then them all. */
	cJSON_AddStringToObject(j, "auth_scheme",
	    sb_provider_scheme_name(provider->auth[0].scheme));
	cJSON_AddItemToObject(j, "credentials",
	    describe_fields(provider->auth[0].credentials,
	        provider->auth[0].credential_count));
	if ((auth = cJSON_AddArrayToObject(j, "auth")) != NULL)
		for (size_t i = 0; i < provider->auth_count; i++)
			describe_auth(auth, &provider->auth[i]);
	cJSON_AddItemToObject(j, "config",
	    describe_fields(provider->config, provider->config_count));
	cJSON_AddStringToObject(
	    j, "pagination", pagination_names[provider->pagination]);
	return j;
}

/* The value of placeholder name: config, then defaults, then cfg. */
static const char *
render_value(const struct sb_provider *provider, const struct sb_config *cfg,
    const cJSON *config, const char *name, char *num, size_t numsize)
{
	const char *v = provider_json_str(config, name);

	if (v == NULL)
		v = provider_json_str(provider->config_defaults, name);
	if (v == NULL && strcmp(name, "sandbox_port") == 0) {
		snprintf(num, numsize, "%ld", cfg->sandbox_port);
		v = num;
	}
	return v;
}

/* Host-part values may hold only host characters. */
static bool
render_value_safe(const char *name, const char *v)
{
	if (strcmp(name, "instance_url") == 0)
		return true;
	for (; *v != '\0'; v++)
		if (!isalnum((unsigned char)*v) && *v != '-' && *v != '.')
			return false;
	return true;
}

/*
 * Why a connection's config base_url is refused, or NULL if it is clean.
 * A base URL is a scheme (http or https), a host of letters, digits, dots
 * and dashes, an optional port, and a path prefix of plain segments, and
 * nothing else: user information, a query or a fragment would change
 * where or what the path guard's checked path ends up calling, and "." or
 * ".." segments would climb out of the prefix an allowed host was given.
 */
const char *
provider_base_url_problem(const char *url)
{
	const char *p = url, *host, *segment;
	long port;
	char *end;

	if (strncmp(p, "https://", 8) == 0)
		p += 8;
	else if (strncmp(p, "http://", 7) == 0)
		p += 7;
	else
		return "must start with http:// or https://";
	if (strchr(p, '@') != NULL)
		return "may not hold user information ('@')";
	if (strchr(p, '?') != NULL)
		return "may not hold a query ('?')";
	if (strchr(p, '#') != NULL)
		return "may not hold a fragment ('#')";
	for (host = p; isalnum((unsigned char)*p) || *p == '.' || *p == '-';)
		p++;
	if (p == host)
		return "needs a host of letters, digits, dots and dashes";
	if (*p == ':') {
		errno = 0;
		port = strtol(p + 1, &end, 10);
		if (end == p + 1 || !isdigit((unsigned char)p[1]) ||
		    errno != 0 || port < 1 || port > 65535)
			return "has a port that is not a number from 1 to "
			       "65535";
		p = end;
	}
	while (*p == '/') {
		segment = ++p;
		while (isalnum((unsigned char)*p) ||
		    (*p != '\0' && strchr("-._~", *p) != NULL))
			p++;
		if (p == segment && (*p == '/' || *p == '\0'))
			return "may not hold an empty path segment ('//' or a "
			       "trailing '/')";
		if ((p - segment == 1 && segment[0] == '.') ||
		    (p - segment == 2 && strncmp(segment, "..", 2) == 0))
			return "may not hold '.' or '..' path segments";
	}
	if (*p != '\0')
		return "may hold only letters, digits and '-._~' in its path "
		       "(no percent-encoding, no '\\')";
	return NULL;
}

/* A token URL beginning so begins with the rendered base URL. */
#define BASE_URL_PLACEHOLDER "{base_url}"

/* Renders tmpl (see provider_internal.h); {base_url} first, if it leads. */
enum sb_err
provider_render(const struct sb_provider *provider, const char *tmpl,
    const struct sb_config *cfg, const cJSON *config, char *out, size_t outsize,
    char *missing, size_t missing_size)
{
	const char *p = tmpl, *close, *v;
	char name[64], num[32];
	size_t len = 0, n;
	enum sb_err rc;

	if (tmpl != provider->base_url &&
	    strncmp(tmpl, BASE_URL_PLACEHOLDER, strlen(BASE_URL_PLACEHOLDER)) ==
	        0) {
		rc = provider_render(provider, provider->base_url, cfg, config,
		    out, outsize, missing, missing_size);
		if (rc != SB_OK)
			return rc;
		len = strlen(out);
		p += strlen(BASE_URL_PLACEHOLDER);
	} else if (tmpl == provider->base_url &&
	    provider_json_str(config, "base_url") != NULL) {
		p = provider_json_str(config, "base_url");
		if (provider_base_url_problem(p) != NULL) {
			snprintf(missing, missing_size, "base_url");
			return SB_ERR_INVALID;
		}
	}
	for (; *p != '\0'; p++) {
		v = p;
		n = 1;
		if (*p == '{' && (close = strchr(p, '}')) != NULL &&
		    (size_t)(close - p - 1) < sizeof(name)) {
			memcpy(name, p + 1, (size_t)(close - p - 1));
			name[close - p - 1] = '\0';
			v = render_value(
			    provider, cfg, config, name, num, sizeof(num));
			if (v == NULL || !render_value_safe(name, v)) {
				snprintf(missing, missing_size, "%s", name);
				return SB_ERR_INVALID;
			}
			n = strlen(v);
			p = close;
		}
		if (len + n >= outsize)
			return SB_ERR_TOO_LARGE;
		memcpy(out + len, v, n);
		len += n;
	}
	out[len] = '\0';
	return SB_OK;
}

enum sb_err
sb_provider_render(const struct sb_provider *provider, const char *tmpl,
    const struct sb_config *cfg, const cJSON *config, char *out, size_t outsize)
{
	char missing[64];

	return provider_render(provider, tmpl, cfg, config, out, outsize,
	    missing, sizeof(missing));
}

/* True if host:port matches one "host:port" or "*.suffix:port" entry. */
static bool
host_matches(
    const char *entry, size_t entry_len, const char *host, const char *port)
{
	const char *colon = memchr(entry, ':', entry_len);
	size_t hlen, plen, host_len = strlen(host);

	if (colon == NULL)
		return false;
	hlen = (size_t)(colon - entry);
	plen = entry_len - hlen - 1;
	if (plen != strlen(port) || memcmp(colon + 1, port, plen) != 0)
		return false;
	if (hlen > 2 && entry[0] == '*' && entry[1] == '.')
		return host_len > hlen - 1 &&
		    strncasecmp(
		        host + host_len - (hlen - 1), entry + 1, hlen - 1) == 0;
	return hlen == host_len && strncasecmp(entry, host, hlen) == 0;
}

/*
 * True if the allowed_hosts entry of len bytes at entry ("host:port" for
 * every provider, "provider=host:port" for that one alone) lets provider
 * reach host:port.
 */
static bool
allowed_entry_matches(const char *entry, size_t len,
    const struct sb_provider *provider, const char *host, const char *port)
{
	const char *eq;

	while (len > 0 && *entry == ' ') {
		entry++;
		len--;
	}
	while (len > 0 && entry[len - 1] == ' ')
		len--;
	if ((eq = memchr(entry, '=', len)) != NULL) {
		if ((size_t)(eq - entry) != strlen(provider->name) ||
		    memcmp(entry, provider->name, (size_t)(eq - entry)) != 0)
			return false;
		len -= (size_t)(eq + 1 - entry);
		entry = eq + 1;
	}
	return host_matches(entry, len, host, port);
}

/*
 * Where host:port is allowed: 2 if by the provider's own hosts (which are
 * reached over https only), 1 if by the operator's allowed_hosts (test
 * servers and sandboxes, http allowed), 0 if not at all.
 */
static int
host_allowed(const struct sb_provider *provider, const struct sb_config *cfg,
    const char *host, const char *port)
{
	const char *p = cfg->allowed_hosts, *comma;

	for (size_t i = 0; i < provider->host_count; i++)
		if (host_matches(provider->hosts[i], strlen(provider->hosts[i]),
		        host, port))
			return 2;
	while (*p != '\0') {
		comma = strchr(p, ',');
		if (comma == NULL)
			comma = p + strlen(p);
		if (allowed_entry_matches(
		        p, (size_t)(comma - p), provider, host, port))
			return 1;
		p = *comma == ',' ? comma + 1 : comma;
	}
	return 0;
}

bool
sb_provider_url_allowed(const struct sb_provider *provider,
    const struct sb_config *cfg, const char *url)
{
	char *scheme = NULL, *host = NULL, *port = NULL, *user = NULL;
	CURLU *u = curl_url();
	bool ok = false;

	if (u == NULL || curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK)
		goto out;
	if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) !=
	        CURLUE_OK)
		goto out;
	/* No user information: "https://api.example@evil" is refused. */
	if (curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK)
		goto out;
	switch (host_allowed(provider, cfg, host, port)) {
	case 2:
		ok = strcmp(scheme, "https") == 0;
		break;
	case 1:
		ok =
		    strcmp(scheme, "http") == 0 || strcmp(scheme, "https") == 0;
		break;
	default:
		ok = false;
	}
out:
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_free(user);
	curl_url_cleanup(u);
	return ok;
}
