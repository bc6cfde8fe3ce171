/*
 * Configuration from one file and SB_* variables.  The table below is the
 * single list of keys: each row names the key (its variable is "SB_" and
 * the key in upper case), where it lives in struct sb_config, its default
 * and its bounds.  etc/switchboard.conf documents the same keys for people.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sb/core/config.h"

#define CONFIG_BUDGET_MIN_MS 500 /* the least a request may be given */

#define CONFIG_LINE_MAX 1024
#define CONFIG_NAME_MAX 64

enum config_type {
	CONFIG_STR,
	CONFIG_LONG,
};

struct config_key {
	const char *key;
	enum config_type type;
	size_t offset;
	size_t size; /* string buffer size */
	const char *def; /* default as text */
	long min, max; /* bounds for CONFIG_LONG */
};

#define STR(k, d) \
	{ \
#k, CONFIG_STR, offsetof(struct sb_config, k), \
		    sizeof(((struct sb_config *)0)->k), d, 0, 0 \
	}
#define NUM(k, d, lo, hi) \
	{ \
#k, CONFIG_LONG, offsetof(struct sb_config, k), 0, d, lo, hi \
	}

static const struct config_key keys[] = {
	STR(var_dir, "var"),
	STR(listen_address, "127.0.0.1"),
	NUM(gateway_port, "8080", 1, 65535),
	NUM(projects_port, "3000", 1, 65535),
	NUM(events_port, "3001", 1, 65535),
	NUM(sandbox_port, "8081", 1, 65535),
	STR(projects_token, ""),
	STR(events_token, ""),
	STR(sandbox_token, ""),
	STR(master_key, ""),
	STR(master_key_source, ""),
	STR(master_key_command, ""),
	NUM(master_key_command_timeout_ms, "5000", 100, 60000),
	STR(allowed_hosts, ""),
	STR(server_names, ""),
	STR(migrations_dir, "db/migrations"),
	STR(sandbox_migrations_dir, "db/sandbox"),
	STR(seed_dir, "db/seed"),
	STR(providers_file, "etc/providers.json"),
	STR(integrations_file, "etc/integrations.json"),
	STR(log_level, "info"),
	NUM(body_max, "1048576", 1024, 64L << 20),
	NUM(json_depth_max, "32", 2, 256),
	NUM(fastcgi_timeout_s, "30", 1, 3600),
	NUM(deadline_margin_ms, "2000", 100, 60000),
	NUM(fastcgi_backlog, "1024", 16, 65535),
	NUM(rate_limit, "2000", 1, 1000000),
	NUM(rate_burst, "4000", 0, 1000000),
	NUM(gateway_procs, "2", 1, 64),
	NUM(proxy_procs, "2", 1, 64),
	NUM(proxy_threads, "8", 1, 256),
	NUM(proxy_calls_per_connection, "4", 1, 256),
	NUM(integrations_procs, "2", 1, 64),
	NUM(projects_procs, "2", 1, 64),
	NUM(events_procs, "2", 1, 64),
	NUM(sandbox_procs, "2", 1, 64),
	NUM(nginx_workers, "1", 1, 64),
	NUM(http_connect_timeout_ms, "3000", 1, 600000),
	NUM(http_timeout_ms, "10000", 1, 600000),
	NUM(http_response_max, "4194304", 1024, 256L << 20),
	NUM(http_max_attempts, "3", 1, 10),
	NUM(http_backoff_base_ms, "200", 0, 60000),
	NUM(http_backoff_cap_ms, "5000", 0, 600000),
	NUM(job_lease_s, "60", 1, 86400),
	NUM(job_max_attempts, "8", 1, 100),
	NUM(job_retention_days, "7", 0, 3650),
	NUM(db_busy_timeout_ms, "5000", 0, 600000),
	STR(project_url_domain, "switchboard.app"),
	NUM(sandbox_token_ttl_s, "300", 1, 86400),
	STR(fetch_base_url, "https://jsonplaceholder.typicode.com"),
	NUM(fetch_cooldown_s, "300", 0, 86400),
	NUM(fetch_min_interval_s, "10", 0, 3600),
	NUM(fetch_interval_min, "15", 1, 1440),
	NUM(fetch_max_attempts, "5", 1, 100),
	NUM(fetch_procs, "2", 1, 64),
	STR(crm_connection, ""),
	NUM(users_procs, "1", 1, 64),
	NUM(users_threads, "16", 1, 256),
	NUM(crm_sync_attempts, "3", 1, 100),
	NUM(crm_reconcile_period_s, "300", 0, 86400 * 30),
};

#define KEY_COUNT (sizeof(keys) / sizeof(keys[0]))

static const struct config_key *
config_find(const char *key)
{
	for (size_t i = 0; i < KEY_COUNT; i++)
		if (strcmp(keys[i].key, key) == 0)
			return &keys[i];
	return NULL;
}

/* Stores text as the value of k in cfg; false (with err) if it is bad. */
static bool
config_set(struct sb_config *cfg, const struct config_key *k, const char *text,
    char *err, size_t errsize)
{
	char *field = (char *)cfg + k->offset;
	char *end;
	long v;

	if (k->type == CONFIG_STR) {
		if (strlen(text) >= k->size) {
			snprintf(err, errsize, "%s: value too long", k->key);
			return false;
		}
		memcpy(field, text, strlen(text) + 1);
		return true;
	}
	errno = 0;
	v = strtol(text, &end, 10);
	if (errno != 0 || end == text || *end != '\0' || v < k->min ||
	    v > k->max) {
		snprintf(err, errsize, "%s: expected an integer in [%ld, %ld]",
		    k->key, k->min, k->max);
		return false;
	}
	memcpy(field, &v, sizeof(v));
	return true;
}

static char *
trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

/* Reads "key = value" lines; unknown keys are errors so typos show. */
static enum sb_err
config_read_file(
    struct sb_config *cfg, FILE *f, const char *path, char *err, size_t errsize)
{
	char line[CONFIG_LINE_MAX];
	const struct config_key *k;
	char *eq, *key, *value;
	int lineno = 0;

	while (fgets(line, sizeof(line), f) != NULL) {
		lineno++;
		if (strchr(line, '\n') == NULL && !feof(f)) {
			snprintf(
			    err, errsize, "%s:%d: line too long", path, lineno);
			return SB_ERR_CONFIG;
		}
		key = trim(line);
		if (*key == '\0' || *key == '#')
			continue;
		if ((eq = strchr(key, '=')) == NULL) {
			snprintf(err, errsize, "%s:%d: expected key = value",
			    path, lineno);
			return SB_ERR_CONFIG;
		}
		*eq = '\0';
		key = trim(key);
		value = trim(eq + 1);
		if ((k = config_find(key)) == NULL) {
			snprintf(err, errsize, "%s:%d: unknown key '%.64s'",
			    path, lineno, key);
			return SB_ERR_CONFIG;
		}
		if (!config_set(cfg, k, value, err, errsize))
			return SB_ERR_CONFIG;
	}
	return SB_OK;
}

static void
config_env_name(const struct config_key *k, char *out, size_t outsize)
{
	size_t i;

	snprintf(out, outsize, "SB_%s", k->key);
	for (i = 3; out[i] != '\0'; i++)
		out[i] = (char)toupper((unsigned char)out[i]);
}

/* Reads a generated token from var_dir/secrets/<name> if the value is unset. */
static void
config_token_file(
    const struct sb_config *cfg, const char *name, char *value, size_t size)
{
	char path[SB_CONFIG_STR_MAX + 64];
	FILE *f;

	if (*value != '\0')
		return;
	snprintf(path, sizeof(path), "%s/secrets/%s", cfg->var_dir, name);
	if ((f = fopen(path, "r")) == NULL)
		return;
	if (fgets(value, (int)size, f) == NULL)
		*value = '\0';
	value[strcspn(value, "\r\n")] = '\0';
	fclose(f);
}

/*
 * The timeouts must fit together: a request's budget (nginx's FastCGI
 * timeout less the margin) must hold at least CONFIG_BUDGET_MIN_MS, one
 * whole outbound attempt and one whole wait for the database; a backoff
 * base no larger than its cap.  (A connect timeout longer than the attempt
 * is harmless: curl keeps to the shorter.)  SB_ERR_CONFIG with the keys named
 * otherwise.
 */
static enum sb_err
config_timeouts_check(const struct sb_config *cfg, char *err, size_t errsize)
{
	long budget = sb_config_request_budget_ms(cfg);

	if (budget < CONFIG_BUDGET_MIN_MS)
		snprintf(err, errsize,
		    "fastcgi_timeout_s (%ld s) less deadline_margin_ms (%ld) "
		    "leaves a request %ld ms; it needs at least %d",
		    cfg->fastcgi_timeout_s, cfg->deadline_margin_ms, budget,
		    CONFIG_BUDGET_MIN_MS);
	else if (cfg->http_timeout_ms > budget)
		snprintf(err, errsize,
		    "http_timeout_ms (%ld) does not fit in a request's %ld ms "
		    "(fastcgi_timeout_s less deadline_margin_ms)",
		    cfg->http_timeout_ms, budget);
	else if (cfg->db_busy_timeout_ms >= budget)
		snprintf(err, errsize,
		    "db_busy_timeout_ms (%ld) does not fit in a request's %ld "
		    "ms (fastcgi_timeout_s less deadline_margin_ms)",
		    cfg->db_busy_timeout_ms, budget);
	else if (cfg->job_lease_s * 1000 <= budget)
		snprintf(err, errsize,
		    "job_lease_s (%ld) does not outlast a request's %ld ms "
		    "(fastcgi_timeout_s less deadline_margin_ms): a job could "
		    "run twice at once",
		    cfg->job_lease_s, budget);
	else if (cfg->http_backoff_base_ms > cfg->http_backoff_cap_ms)
		snprintf(err, errsize,
		    "http_backoff_base_ms (%ld) is larger than "
		    "http_backoff_cap_ms (%ld)",
		    cfg->http_backoff_base_ms, cfg->http_backoff_cap_ms);
	else
		return SB_OK;
	return SB_ERR_CONFIG;
}

enum sb_err
sb_config_load(
    struct sb_config *cfg, const char *path, char *err, size_t errsize)
{
	char name[CONFIG_NAME_MAX];
	const char *v;
	enum sb_err rc = SB_OK;
	FILE *f = NULL;
	size_t i;

	memset(cfg, 0, sizeof(*cfg));
	for (i = 0; i < KEY_COUNT; i++)
		if (!config_set(cfg, &keys[i], keys[i].def, err, errsize))
			return SB_ERR_CONFIG;
	if (path == NULL && (path = getenv("SB_CONFIG")) == NULL &&
	    access(SB_CONFIG_FILE_DEFAULT, F_OK) == 0)
		path = SB_CONFIG_FILE_DEFAULT;
	if (path != NULL && *path != '\0') {
		if ((f = fopen(path, "r")) == NULL) {
			snprintf(err, errsize, "%s: cannot open", path);
			return SB_ERR_CONFIG;
		}
		rc = config_read_file(cfg, f, path, err, errsize);
		fclose(f);
		if (rc != SB_OK)
			return rc;
	}
	for (i = 0; i < KEY_COUNT; i++) {
		config_env_name(&keys[i], name, sizeof(name));
		if ((v = getenv(name)) != NULL &&
		    !config_set(cfg, &keys[i], v, err, errsize))
			return SB_ERR_CONFIG;
	}
	config_token_file(cfg, "projects.token", cfg->projects_token,
	    sizeof(cfg->projects_token));
	config_token_file(
	    cfg, "events.token", cfg->events_token, sizeof(cfg->events_token));
	config_token_file(cfg, "sandbox.token", cfg->sandbox_token,
	    sizeof(cfg->sandbox_token));
	return config_timeouts_check(cfg, err, errsize);
}

long
sb_config_request_budget_ms(const struct sb_config *cfg)
{
	return cfg->fastcgi_timeout_s * 1000 - cfg->deadline_margin_ms;
}

enum sb_err
sb_config_var_path(
    const struct sb_config *cfg, const char *name, char *out, size_t outsize)
{
	int n = snprintf(out, outsize, "%s/%s", cfg->var_dir, name);

	return n < 0 || (size_t)n >= outsize ? SB_ERR_TOO_LARGE : SB_OK;
}

/* Single-quotes s for the shell, closing and reopening around quotes. */
static void
config_print_quoted(FILE *out, const char *s)
{
	fputc('\'', out);
	for (; *s != '\0'; s++) {
		if (*s == '\'')
			fputs("'\\''", out);
		else
			fputc(*s, out);
	}
	fputc('\'', out);
}

void
sb_config_print_shell(const struct sb_config *cfg, FILE *out)
{
	char name[CONFIG_NAME_MAX];
	const char *field;
	long v;

	for (size_t i = 0; i < KEY_COUNT; i++) {
		config_env_name(&keys[i], name, sizeof(name));
		field = (const char *)cfg + keys[i].offset;
		fprintf(out, "%s=", name);
		if (keys[i].type == CONFIG_STR) {
			config_print_quoted(out, field);
		} else {
			memcpy(&v, field, sizeof(v));
			fprintf(out, "%ld", v);
		}
		fputc('\n', out);
	}
}
