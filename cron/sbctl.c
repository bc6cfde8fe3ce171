/*
 * sbctl: the one command-line binary, run by cron and by operators.  Each
 * command is a row of the table below saying what state it needs (a
 * database, the keyring, an HTTP client), so `sbctl config` works before
 * anything exists and `sbctl tick` gets everything.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sb/runtime/context.h"
#include "sb/connect/call.h"
#include "sb/hosting/events.h"
#include "sb/hosting/outbox.h"
#include "sb/hosting/hosting.h"
#include "sb/integrations/integrations.h"
#include "sb/core/log.h"
#include "sb/queues.h"
#include "sb/store/secrets.h"
#include "sb/runtime/work.h"
#include "sb/fetch/fetch.h"
#include "sb/sync/sync.h"

#define SBCTL_DAY_S 86400 /* seconds */

struct command {
	const char *name;
	const char *help;
	const struct sb_app *app;
	int (*run)(struct sb_ctx *ctx, int argc, char **argv);
};

static const struct sb_app app_bare = { .name = "sbctl" };
static const struct sb_app app_keys = { .name = "sbctl", .needs_secrets = 1 };
static const struct sb_app app_db = {
	.name = "sbctl", .db_file = "switchboard.db", .needs_secrets = 1
};
static const struct sb_app app_all = { .name = "sbctl",
	.db_file = "switchboard.db",
	.needs_secrets = 1,
	.needs_http = 1,
	.needs_providers = 1 };
static const struct sb_app app_providers = { .name = "sbctl",
	.needs_providers = 1 };

static int
cmd_config(struct sb_ctx *ctx, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	sb_config_print_shell(&ctx->config, stdout);
	return 0;
}

/* Makes dir with mode unless it exists; false with a log if that fails. */
static bool
make_dir(const char *dir, mode_t mode)
{
	if (mkdir(dir, mode) != 0 && errno != EEXIST) {
		sb_log(SB_LOG_ERROR, "sbctl", NULL, "mkdir %s: %s", dir,
		    strerror(errno));
		return false;
	}
	return true;
}

/* Writes a new static bearer token to secrets/<name> unless one exists. */
static bool
make_token(const struct sb_ctx *ctx, const char *name, const char *prefix)
{
	char path[SB_CONFIG_STR_MAX + 64], token[SB_SECRETS_TOKEN_MAX];
	bool ok = false;
	int fd;

	snprintf(
	    path, sizeof(path), "%s/secrets/%s", ctx->config.var_dir, name);
	if (access(path, F_OK) == 0)
		return true;
	if (sb_secrets_token_new(prefix, token, sizeof(token)) != SB_OK)
		return false;
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600)) < 0)
		goto out;
	ok = write(fd, token, strlen(token)) == (ssize_t)strlen(token) &&
	    write(fd, "\n", 1) == 1;
	close(fd);
	printf("created %s\n", path);
out:
	memset(token, 0, sizeof(token));
	return ok;
}

static int
cmd_init(struct sb_ctx *ctx, int argc, char **argv)
{
	static const char *const dirs[] = { "run", "log", "tmp" };
	char path[SB_CONFIG_STR_MAX + 64];
	struct sb_keysource_params keys;
	bool created = false;

	(void)argc;
	(void)argv;
	if (!make_dir(ctx->config.var_dir, 0700))
		return 1;
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(
		    path, sizeof(path), "%s/%s", ctx->config.var_dir, dirs[i]);
		if (!make_dir(path, 0755))
			return 1;
	}
	snprintf(path, sizeof(path), "%s/secrets", ctx->config.var_dir);
	sb_context_keysource_params(&ctx->config, path, &keys);
	if (sb_secrets_keygen_source(
	        ctx->config.master_key_source, &keys, &created) != SB_OK)
		return 1;
	if (created)
		printf("created %s/master.key\n", path);
	if (!make_token(ctx, "projects.token", "sbp") ||
	    !make_token(ctx, "events.token", "sbe") ||
	    !make_token(ctx, "sandbox.token", "sbs"))
		return 1;
	return 0;
}

/*
 * Prints the current master key's id (not secret), from whichever source
 * is configured: the name "<id>.key" the key takes in var/secrets/ once
 * it is rotated away.
 */
static int
cmd_key_id(struct sb_ctx *ctx, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	printf("%08" PRIx32 "\n", sb_secrets_key_id(ctx->secrets));
	return 0;
}

/* Applies the migrations of dir to the database file name under var. */
static int
migrate_one(const struct sb_config *cfg, const char *file, const char *dir)
{
	char path[SB_CONFIG_STR_MAX + 64];
	struct sb_db *db = NULL;
	int applied = 0, status = 1;

	if (sb_config_var_path(cfg, file, path, sizeof(path)) != SB_OK ||
	    sb_db_open(path, cfg->db_busy_timeout_ms, &db) != SB_OK)
		goto out;
	if (sb_db_migrate(db, dir, &applied) != SB_OK)
		goto out;
	printf("%s: %d migration(s) applied, schema version %lld\n", file,
	    applied, (long long)sb_db_schema_version(db));
	status = 0;
out:
	sb_db_close(db);
	return status;
}

static int
cmd_migrate(struct sb_ctx *ctx, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	if (migrate_one(&ctx->config, "switchboard.db",
	        ctx->config.migrations_dir) != 0)
		return 1;
	return migrate_one(
	    &ctx->config, "sandbox.db", ctx->config.sandbox_migrations_dir);
}

/* Loads the hosting panel's users.json and projects.json from seed_dir. */
static int
cmd_seed(struct sb_ctx *ctx, int argc, char **argv)
{
	int users = 0, projects = 0;
	enum sb_err rc;

	(void)argc;
	(void)argv;
	rc = sb_hosting_seed(
	    ctx->db, ctx->secrets, ctx->config.seed_dir, &users, &projects);
	if (rc != SB_OK) {
		fprintf(stderr, "seed: %s/{users,projects}.json: %s\n",
		    ctx->config.seed_dir, sb_strerror(rc));
		return 1;
	}
	printf("seed: %d user(s), %d project(s) loaded\n", users, projects);
	return 0;
}

static int
cmd_tick(struct sb_ctx *ctx, int argc, char **argv)
{
	int done = 0, failed = 0;
	int64_t pruned = 0;

	(void)argc;
	(void)argv;

	if (sb_work_run_due(ctx, sb_queues, SB_QUEUE_COUNT, &done, &failed) !=
	        SB_OK ||
	    sb_jobs_prune(ctx->db,
	        (int64_t)time(NULL) -
	            ctx->config.job_retention_days * SBCTL_DAY_S,
	        &pruned) != SB_OK ||
	    sb_users_idempotency_prune(ctx->db, sb_users_now_ms(), NULL) !=
	        SB_OK)
		return 1;
	printf("tick: %d job(s) done, %d failed, %lld old done job(s) pruned\n",
	    done, failed, (long long)pruned);
	return 0;
}

/*
 * Delivers the events left in the outbox: those due, or with --now every
 * pending one at once, whatever its backoff.  Without --now, events in
 * backoff are made due when the aggregation service answers its health
 * check again (sb_outbox_resume()): from cron, delivery resumes within a
 * minute of an outage's end.  They go a batch (one POST of
 * up to SB_EVENTS_BATCH_MAX) at a time until none is due.
 */
static int
cmd_deliver(struct sb_ctx *ctx, int argc, char **argv)
{
	int64_t released = 0;
	int done = 0, failed = 0;

	if (argc > 2 || (argc == 2 && strcmp(argv[1], "--now") != 0)) {
		fprintf(stderr, "usage: sbctl deliver [--now]\n");
		return 2;
	}
	if (argc == 2 &&
	    sb_outbox_release(ctx->db, (int64_t)time(NULL), &released) != SB_OK)
		return 1;
	if (argc == 1 &&
	    sb_outbox_resume(ctx, (int64_t)time(NULL), &released) != SB_OK)
		return 1;
	if (sb_work_run_queue(ctx, sb_queues, SB_QUEUE_COUNT, SB_EVENTS_QUEUE,
	        &done, &failed) != SB_OK)
		return 1;
	printf("deliver: %d event(s) delivered, %d failed\n", done, failed);
	return 0;
}

/*
 * The CRM sync's cron work: pushes the due sync jobs (with --now every
 * pending one, whatever its backoff), sends the user.sync_failed events
 * they wrote, then reconciles the synced users not pulled from the CRM
 * within crm_reconcile_period_s (with --all every synced user).  First it
 * gives each delete that gave up a period ago another job.
 */
static int
cmd_sync(struct sb_ctx *ctx, int argc, char **argv)
{
	int pushed = 0, failed = 0, pulled = 0, pull_failed = 0, reopened = 0;
	bool now = false, all = false;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--now") == 0) {
			now = true;
		} else if (strcmp(argv[i], "--all") == 0) {
			all = true;
		} else {
			fprintf(stderr, "usage: sbctl sync [--now] [--all]\n");
			return 2;
		}
	}
	if ((now &&
	        sb_jobs_release(ctx->db, SB_SYNC_QUEUE, (int64_t)time(NULL),
	            NULL) != SB_OK) ||
	    sb_sync_delete_retry_due(ctx, &reopened) != SB_OK ||
	    sb_work_run_queue(ctx, sb_queues, SB_QUEUE_COUNT, SB_SYNC_QUEUE,
	        &pushed, &failed) != SB_OK ||
	    sb_work_run_queue(ctx, sb_queues, SB_QUEUE_COUNT, SB_EVENTS_QUEUE,
	        NULL, NULL) != SB_OK ||
	    sb_sync_reconcile_due(ctx, all, &pulled, &pull_failed) != SB_OK ||
	    sb_users_idempotency_prune(ctx->db, sb_users_now_ms(), NULL) !=
	        SB_OK)
		return 1;
	printf("sync: %d push(es) done, %d failed; %d user(s) reconciled, "
	       "%d failed; %d delete(s) reopened\n",
	    pushed, failed, pulled, pull_failed, reopened);
	return 0;
}

static int
cmd_refresh(struct sb_ctx *ctx, int argc, char **argv)
{
	int refreshed = 0, failed = 0;

	(void)argc;
	(void)argv;
	if (sb_call_refresh_due(
	        ctx, (int64_t)time(NULL), &refreshed, &failed) != SB_OK)
		return 1;
	printf("refresh: %d connection(s) refreshed, %d failed\n", refreshed,
	    failed);
	return failed > 0 ? 1 : 0;
}

/*
 * Checks the integrations file (integrations_file) against the providers
 * as the integrations responder does at start, and prints each
 * integration's name, one a line: scripts/stack renders nginx's locations
 * from them, and refuses to start on a bad file.
 */
static int
cmd_integrations(struct sb_ctx *ctx, int argc, char **argv)
{
	char err[SB_INTEGRATION_ERROR_MAX];
	struct sb_integrations *list = NULL;

	(void)argv;
	if (argc != 1) {
		fprintf(stderr, "usage: sbctl integrations\n");
		return 2;
	}
	if (sb_integrations_load(ctx->config.integrations_file, ctx->providers,
	        &list, err, sizeof(err)) != SB_OK) {
		fprintf(stderr, "sbctl integrations: %s\n", err);
		return 1;
	}
	for (size_t i = 0; i < sb_integrations_count(list); i++)
		printf("%s\n", sb_integrations_at(list, i)->name);
	sb_integrations_free(list);
	return 0;
}

/*
 * The scheduled data fetch: queues a fetch of each resource whose last
 * successful one is fetch_interval_min minutes old (never within the
 * cooldown), then runs the due fetch jobs, retries included.
 */
static int
cmd_fetch(struct sb_ctx *ctx, int argc, char **argv)
{
	int queued = 0, done = 0, failed = 0;

	(void)argc;
	(void)argv;
	if (sb_fetch_scheduled(
	        ctx, (int64_t)time(NULL), &queued, &done, &failed) != SB_OK)
		return 1;
	printf("fetch: %d queued, %d job(s) done, %d failed\n", queued, done,
	    failed);
	return failed > 0 ? 1 : 0;
}

static const struct command commands[] = {
	{ "config", "print the resolved configuration as shell variables",
	    &app_bare, cmd_config },
	{ "init",
	    "create var/, the master key (the file source's) and the static "
	    "tokens",
	    &app_bare, cmd_init },
	{ "key-id", "print the current master key's id (its rotated file name)",
	    &app_keys, cmd_key_id },
	{ "migrate", "apply pending database migrations", &app_bare,
	    cmd_migrate },
	{ "seed", "load the seed data (idempotent)", &app_db, cmd_seed },
	{ "tick", "run every due job", &app_all, cmd_tick },
	{ "refresh", "refresh OAuth2 tokens that expire soon or are stale",
	    &app_all, cmd_refresh },
	{ "fetch",
	    "fetch the data due by fetch_interval_min and run fetch jobs",
	    &app_all, cmd_fetch },
	{ "deliver", "deliver the outbox's due events (--now: all pending)",
	    &app_all, cmd_deliver },
	{ "integrations", "check the integrations file; print their names",
	    &app_providers, cmd_integrations },
	{ "sync",
	    "push due CRM sync jobs (--now: all pending) and reconcile users "
	    "from the CRM (--all: every synced user)",
	    &app_all, cmd_sync },
};

#define COMMAND_COUNT (sizeof(commands) / sizeof(commands[0]))

static int
usage(void)
{
	fprintf(stderr, "usage: sbctl <command>\n\ncommands:\n");
	for (size_t i = 0; i < COMMAND_COUNT; i++)
		fprintf(
		    stderr, "  %-10s %s\n", commands[i].name, commands[i].help);
	return 2;
}

int
main(int argc, char **argv)
{
	const struct command *cmd = NULL;
	struct sb_ctx ctx;
	int status = 1;

	for (size_t i = 0; argc > 1 && i < COMMAND_COUNT; i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			cmd = &commands[i];
	if (cmd == NULL)
		return usage();
	if (sb_context_init(&ctx, cmd->app) == SB_OK)
		status = cmd->run(&ctx, argc - 1, argv + 1);
	else
		fprintf(
		    stderr, "sbctl %s: start-up failed (see log)\n", cmd->name);
	sb_context_clear(&ctx);
	return status;
}
