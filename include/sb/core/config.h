/*
 * Configuration: one documented file (etc/switchboard.conf, "key = value"
 * lines, '#' comments) read first, then SB_* environment variables, which
 * win.  Every key, its variable, default and meaning live in one table in
 * lib/core/config.c; `sbctl config` prints the resolved values for the shell
 * scripts so that C and shell never disagree.
 */
#ifndef SB_CONFIG_H
#define SB_CONFIG_H

#include <stdio.h>

#include "sb/core/err.h"

#define SB_CONFIG_STR_MAX 512
#define SB_CONFIG_FILE_DEFAULT "etc/switchboard.conf"

struct sb_config {
	char var_dir[SB_CONFIG_STR_MAX];
	char listen_address[64];
	long gateway_port;
	long projects_port;
	long events_port;
	long sandbox_port;
	char projects_token[128];
	char events_token[128];
	char sandbox_token[128];
	char master_key[128];
	char master_key_source[16];
	char master_key_command[SB_CONFIG_STR_MAX];
	long master_key_command_timeout_ms;
	char allowed_hosts[SB_CONFIG_STR_MAX];
	char server_names[SB_CONFIG_STR_MAX];
	char migrations_dir[SB_CONFIG_STR_MAX];
	char sandbox_migrations_dir[SB_CONFIG_STR_MAX];
	char seed_dir[SB_CONFIG_STR_MAX];
	char providers_file[SB_CONFIG_STR_MAX];
	char integrations_file[SB_CONFIG_STR_MAX];
	char log_level[16];
	long body_max;
	long json_depth_max;
	long fastcgi_timeout_s;
	long deadline_margin_ms;
	long fastcgi_backlog;
	long rate_limit;
	long rate_burst;
	long gateway_procs;
	long proxy_procs;
	long proxy_threads;
	long proxy_calls_per_connection;
	long integrations_procs;
	long projects_procs;
	long events_procs;
	long sandbox_procs;
	long nginx_workers;
	long http_connect_timeout_ms;
	long http_timeout_ms;
	long http_response_max;
	long http_max_attempts;
	long http_backoff_base_ms;
	long http_backoff_cap_ms;
	long job_lease_s;
	long job_max_attempts;
	long job_retention_days;
	long db_busy_timeout_ms;
	char project_url_domain[128];
	long sandbox_token_ttl_s;
	/* The data fetch (lib/fetch): its source, how often it may be
	 * asked, and how often cron fetches. */
	char fetch_base_url[SB_CONFIG_STR_MAX];
	long fetch_cooldown_s;
	long fetch_min_interval_s;
	long fetch_interval_min;
	long fetch_max_attempts;
	long fetch_procs;
	char crm_connection[64]; /* the connection the CRM sync uses */
	long users_procs;
	long users_threads; /* requests one users process serves at once */
	long crm_sync_attempts; /* pushes of one change before "failed" */
	long crm_reconcile_period_s; /* `sbctl sync` pulls a user so often */
};

/*
 * Fills cfg with defaults, then the file at path (or SB_CONFIG, or
 * SB_CONFIG_FILE_DEFAULT if it exists; a missing default file is not an
 * error, a missing named file is), then SB_* variables.  On failure err
 * (errsize bytes) names the key or line at fault and cfg is unspecified.
 */
enum sb_err sb_config_load(
    struct sb_config *cfg, const char *path, char *err, size_t errsize);

/*
 * Writes "<path>" under cfg->var_dir into out.  Returns SB_ERR_TOO_LARGE if
 * it does not fit.
 */
enum sb_err sb_config_var_path(
    const struct sb_config *cfg, const char *name, char *out, size_t outsize);

/* Prints every key as SB_NAME='value' lines for the shell (tokens included:
 * the output is for the operator and the start script only). */
void sb_config_print_shell(const struct sb_config *cfg, FILE *out);

/*
 * A request's budget in milliseconds: nginx's FastCGI read timeout less
 * deadline_margin_ms (sb/core/deadline.h).  sb_config_load() has checked
 * that it holds an outbound attempt and a database wait.
 */
long sb_config_request_budget_ms(const struct sb_config *cfg);

#endif
