/*
 * Unit tests for lib/core/config.c: defaults, the "key = value" file, SB_*
 * variables winning over the file, errors naming the key at fault, the
 * token files under var_dir, sb_config_var_path and the shell output.
 * Each test gets its own mkdtemp directory; every SB_* variable is removed
 * before and after each test so that the caller's environment and one
 * test's variables cannot leak into another.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "sb/core/config.h"
#include "support.h"

#define TEST_ERR_MAX 256

extern char **environ;

struct fixture {
	char dir[TEST_PATH_MAX];
	char file[TEST_PATH_MAX]; /* dir/test.conf */
	struct sb_config cfg;
	char err[TEST_ERR_MAX];
};

/* Removes every SB_* variable, restarting the scan after each removal. */
static void
env_clear_sb(void)
{
	char name[128];
	bool again = true;

	while (again) {
		again = false;
		for (char **e = environ; e != NULL && *e != NULL; e++) {
			const char *eq = strchr(*e, '=');
			size_t n = eq != NULL ? (size_t)(eq - *e) : strlen(*e);

			if (strncmp(*e, "SB_", 3) != 0 || n >= sizeof(name))
				continue;
			memcpy(name, *e, n);
			name[n] = '\0';
			unsetenv(name);
			again = true;
			break;
		}
	}
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	int n;

	if (f == NULL)
		return -1;
	env_clear_sb();
	if (test_tmpdir_make(f->dir, sizeof(f->dir), "config") != 0) {
		free(f);
		return -1;
	}
	n = snprintf(f->file, sizeof(f->file), "%s/test.conf", f->dir);
	if (n < 0 || (size_t)n >= sizeof(f->file)) {
		rmdir(f->dir);
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	env_clear_sb();
	test_tmpdir_remove(f->dir);
	free(f);
	return 0;
}

static void
write_file(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	assert_int_equal(fputs(text, fp) >= 0, 1);
	assert_int_equal(fclose(fp), 0);
}

/* Loads text written to the fixture's file. */
static enum sb_err
load_text(struct fixture *f, const char *text)
{
	write_file(f->file, text);
	memset(f->err, 0, sizeof(f->err));
	return sb_config_load(&f->cfg, f->file, f->err, sizeof(f->err));
}

/* An empty path reads no file: the defaults of the table.  (The tokens
 * depend on files under the default var_dir; test_token_file_missing covers
 * them, and no token is compared here so none is ever printed.) */
static void
test_defaults(void **state)
{
	struct fixture *f = *state;
	struct sb_config *c = &f->cfg;

	assert_int_equal(sb_config_load(c, "", f->err, sizeof(f->err)), SB_OK);
	assert_string_equal(c->var_dir, "var");
	assert_string_equal(c->listen_address, "127.0.0.1");
	assert_int_equal(c->gateway_port, 8080);
	assert_int_equal(c->projects_port, 3000);
	assert_int_equal(c->events_port, 3001);
	assert_int_equal(c->sandbox_port, 8081);
	assert_string_equal(c->migrations_dir, "db/migrations");
	assert_string_equal(c->log_level, "info");
	assert_int_equal(c->body_max, 1048576);
	assert_int_equal(c->json_depth_max, 32);
	assert_int_equal(c->job_lease_s, 60);
	assert_int_equal(c->job_max_attempts, 8);
	assert_int_equal(c->db_busy_timeout_ms, 5000);
	assert_string_equal(c->project_url_domain, "switchboard.app");
}

/* Comments, blank lines and spaces around '=' are all accepted. */
static void
test_file_parsing(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(load_text(f,
	                     "# a comment\n"
	                     "\n"
	                     "   \t\n"
	                     "   # indented comment\n"
	                     "gateway_port=9000\n"
	                     "  projects_port   =   9001  \n"
	                     "\tlog_level\t=\tdebug\t\n"
	                     "listen_address = 0.0.0.0\n"
	                     "allowed_hosts = a.example, b.example\n"
	                     "master_key =\n"
	                     "body_max = 2048"), /* no final newline */
	    SB_OK);
	assert_int_equal(f->cfg.gateway_port, 9000);
	assert_int_equal(f->cfg.projects_port, 9001);
	assert_string_equal(f->cfg.log_level, "debug");
	assert_string_equal(f->cfg.listen_address, "0.0.0.0");
	assert_string_equal(f->cfg.allowed_hosts, "a.example, b.example");
	assert_string_equal(f->cfg.master_key, "");
	assert_int_equal(f->cfg.body_max, 2048);
	/* Keys the file does not name keep their defaults. */
	assert_int_equal(f->cfg.events_port, 3001);
}

struct bad_case {
	const char *text;
	const char *in_err; /* must appear in err */
};

/* Every malformed file fails with SB_ERR_CONFIG and an error naming it. */
static void
test_file_errors(void **state)
{
	static const struct bad_case cases[] = {
		{ "no_such_key = 1\n", "no_such_key" },
		{ "gateway_port = 1\nGATEWAY_PORT = 2\n", "GATEWAY_PORT" },
		{ "gateway_port = abc\n", "gateway_port" },
		{ "gateway_port = 12abc\n", "gateway_port" },
		{ "gateway_port = \n", "gateway_port" },
		{ "gateway_port = 0\n", "gateway_port" },
		{ "gateway_port = 65536\n", "gateway_port" },
		{ "gateway_port = -1\n", "gateway_port" },
		{ "gateway_port = 99999999999999999999999\n", "gateway_port" },
		{ "json_depth_max = 1\n", "json_depth_max" },
		{ "json_depth_max = 257\n", "json_depth_max" },
		{ "body_max = 1.5\n", "body_max" },
		/* a lease no longer than a request's budget (28,000 ms) */
		{ "job_lease_s = 28\n", "job_lease_s" },
		{ "# ok\njust words\n", ":2:" },
		{ "log_level = "
		  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		  "\n",
		    "log_level" },
	};
	struct fixture *f = *state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(load_text(f, cases[i].text), SB_ERR_CONFIG);
		if (strstr(f->err, cases[i].in_err) == NULL)
			fail_msg("case %zu: err \"%s\" does not name \"%s\"", i,
			    f->err, cases[i].in_err);
	}
}

/* Bounds are inclusive. */
static void
test_file_bounds_inclusive(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(load_text(f,
	                     "gateway_port = 1\nprojects_port = 65535\n"
	                     "json_depth_max = 2\nrate_burst = 0\n"),
	    SB_OK);
	assert_int_equal(f->cfg.gateway_port, 1);
	assert_int_equal(f->cfg.projects_port, 65535);
	assert_int_equal(f->cfg.json_depth_max, 2);
	assert_int_equal(f->cfg.rate_burst, 0);
}

/* A line longer than the reader's buffer is an error, not two lines. */
static void
test_file_line_too_long(void **state)
{
	struct fixture *f = *state;
	char text[2100];

	memcpy(text, "allowed_hosts = ", 16);
	memset(text + 16, 'h', sizeof(text) - 18);
	text[sizeof(text) - 2] = '\n';
	text[sizeof(text) - 1] = '\0';
	assert_int_equal(load_text(f, text), SB_ERR_CONFIG);
	assert_non_null(strstr(f->err, "too long"));
}

static void
test_missing_named_file(void **state)
{
	struct fixture *f = *state;
	char path[TEST_PATH_MAX * 2];

	snprintf(path, sizeof(path), "%s/does-not-exist.conf", f->dir);
	assert_int_equal(sb_config_load(&f->cfg, path, f->err, sizeof(f->err)),
	    SB_ERR_CONFIG);
	assert_non_null(strstr(f->err, "does-not-exist.conf"));
	/* The same through SB_CONFIG. */
	assert_int_equal(setenv("SB_CONFIG", path, 1), 0);
	assert_int_equal(sb_config_load(&f->cfg, NULL, f->err, sizeof(f->err)),
	    SB_ERR_CONFIG);
	assert_non_null(strstr(f->err, "does-not-exist.conf"));
}

/* SB_CONFIG names the file when path is NULL. */
static void
test_sb_config_variable(void **state)
{
	struct fixture *f = *state;

	write_file(f->file, "events_port = 4444\n");
	assert_int_equal(setenv("SB_CONFIG", f->file, 1), 0);
	assert_int_equal(
	    sb_config_load(&f->cfg, NULL, f->err, sizeof(f->err)), SB_OK);
	assert_int_equal(f->cfg.events_port, 4444);
}

struct env_case {
	const char *name;
	const char *value;
};

/* SB_* variables beat the file. */
static void
test_env_overrides_file(void **state)
{
	static const struct env_case env[] = {
		{ "SB_GATEWAY_PORT", "7000" },
		{ "SB_LOG_LEVEL", "warn" },
		{ "SB_VAR_DIR", "/srv/sb" },
		{ "SB_JOB_LEASE_S", "45" },
		{ "SB_MASTER_KEY_SOURCE", "command" },
		{ "SB_MASTER_KEY_COMMAND",
		    "vault kv get -field=key secret/sb" },
	};
	struct fixture *f = *state;

	for (size_t i = 0; i < sizeof(env) / sizeof(env[0]); i++)
		assert_int_equal(setenv(env[i].name, env[i].value, 1), 0);
	assert_int_equal(load_text(f,
	                     "gateway_port = 9000\nlog_level = debug\n"
	                     "var_dir = /tmp/elsewhere\nevents_port = 4000\n"
	                     "master_key_command_timeout_ms = 250\n"),
	    SB_OK);
	assert_int_equal(f->cfg.gateway_port, 7000);
	assert_string_equal(f->cfg.log_level, "warn");
	assert_string_equal(f->cfg.var_dir, "/srv/sb");
	assert_int_equal(f->cfg.job_lease_s, 45);
	assert_string_equal(f->cfg.master_key_source, "command");
	assert_string_equal(
	    f->cfg.master_key_command, "vault kv get -field=key secret/sb");
	/* The file still counts where no variable is set. */
	assert_int_equal(f->cfg.events_port, 4000);
	assert_int_equal(f->cfg.master_key_command_timeout_ms, 250);
}

/* A bad variable is an error naming its key, like a bad line. */
static void
test_env_errors(void **state)
{
	static const struct env_case cases[] = {
		{ "SB_GATEWAY_PORT", "http" },
		{ "SB_GATEWAY_PORT", "70000" },
		{ "SB_GATEWAY_PORT", "" },
		{ "SB_HTTP_MAX_ATTEMPTS", "0" },
		{ "SB_MASTER_KEY_COMMAND_TIMEOUT_MS", "99" },
	};
	struct fixture *f = *state;
	char key[64];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		env_clear_sb();
		assert_int_equal(setenv(cases[i].name, cases[i].value, 1), 0);
		assert_int_equal(
		    sb_config_load(&f->cfg, "", f->err, sizeof(f->err)),
		    SB_ERR_CONFIG);
		/* "SB_GATEWAY_PORT" names the key "gateway_port". */
		for (size_t j = 0; cases[i].name[3 + j] != '\0'; j++) {
			char c = cases[i].name[3 + j];

			key[j] =
			    (char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
			key[j + 1] = '\0';
		}
		if (strstr(f->err, key) == NULL)
			fail_msg("case %zu: err \"%s\" does not name %s", i,
			    f->err, key);
	}
}

/* With SB_PROJECTS_TOKEN unset the token comes from
 * <var_dir>/secrets/projects.token (its line ending dropped). */
static void
test_token_file(void **state)
{
	struct fixture *f = *state;
	char path[TEST_PATH_MAX * 2];

	snprintf(path, sizeof(path), "%s/secrets", f->dir);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/secrets/projects.token", f->dir);
	write_file(path, "tok-from-file\r\n");
	snprintf(path, sizeof(path), "%s/secrets/events.token", f->dir);
	write_file(path, "events-from-file\n");
	assert_int_equal(setenv("SB_VAR_DIR", f->dir, 1), 0);

	assert_int_equal(
	    sb_config_load(&f->cfg, "", f->err, sizeof(f->err)), SB_OK);
	assert_string_equal(f->cfg.projects_token, "tok-from-file");
	assert_string_equal(f->cfg.events_token, "events-from-file");

	/* A set variable wins over the file. */
	assert_int_equal(setenv("SB_PROJECTS_TOKEN", "tok-from-env", 1), 0);
	assert_int_equal(
	    sb_config_load(&f->cfg, "", f->err, sizeof(f->err)), SB_OK);
	assert_string_equal(f->cfg.projects_token, "tok-from-env");
	assert_string_equal(f->cfg.events_token, "events-from-file");
}

/* No token file, no variable: the token stays empty. */
static void
test_token_file_missing(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(setenv("SB_VAR_DIR", f->dir, 1), 0);
	assert_int_equal(
	    sb_config_load(&f->cfg, "", f->err, sizeof(f->err)), SB_OK);
	assert_string_equal(f->cfg.projects_token, "");
	assert_string_equal(f->cfg.events_token, "");
}

struct var_path_case {
	const char *var_dir;
	const char *name;
	size_t outsize;
	enum sb_err want;
	const char *out;
};

static void
test_var_path(void **state)
{
	static const struct var_path_case cases[] = {
		{ "var", "switchboard.db", 64, SB_OK, "var/switchboard.db" },
		{ "/srv", "x", 7, SB_OK, "/srv/x" }, /* exactly fits */
		{ "/srv", "x", 6, SB_ERR_TOO_LARGE, NULL },
		{ "/srv", "long-name.db", 8, SB_ERR_TOO_LARGE, NULL },
	};
	struct fixture *f = *state;
	char out[64];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&f->cfg, 0, sizeof(f->cfg));
		snprintf(f->cfg.var_dir, sizeof(f->cfg.var_dir), "%s",
		    cases[i].var_dir);
		assert_int_equal(sb_config_var_path(&f->cfg, cases[i].name, out,
		                     cases[i].outsize),
		    cases[i].want);
		if (cases[i].out != NULL)
			assert_string_equal(out, cases[i].out);
	}
}

/* A var_dir at its full size cannot fit with a name in a path buffer of
 * the same size. */
static void
test_var_path_long_dir(void **state)
{
	struct fixture *f = *state;
	char out[SB_CONFIG_STR_MAX];

	memset(&f->cfg, 0, sizeof(f->cfg));
	memset(f->cfg.var_dir, 'd', sizeof(f->cfg.var_dir) - 1);
	assert_int_equal(sb_config_var_path(&f->cfg, "a.db", out, sizeof(out)),
	    SB_ERR_TOO_LARGE);
}

/* Reads what print_shell wrote for cfg into buf. */
static void
print_shell(const struct sb_config *cfg, char **buf, size_t *len)
{
	FILE *out = open_memstream(buf, len);

	assert_non_null(out);
	sb_config_print_shell(cfg, out);
	assert_int_equal(fclose(out), 0);
}

static void
test_print_shell(void **state)
{
	struct fixture *f = *state;
	char *buf = NULL;
	size_t len = 0;

	assert_int_equal(setenv("SB_VAR_DIR", "it's a dir", 1), 0);
	assert_int_equal(setenv("SB_MASTER_KEY", "''", 1), 0);
	assert_int_equal(
	    sb_config_load(&f->cfg, "", f->err, sizeof(f->err)), SB_OK);
	print_shell(&f->cfg, &buf, &len);
	assert_non_null(buf);
	assert_non_null(strstr(buf, "SB_VAR_DIR='it'\\''s a dir'\n"));
	assert_non_null(strstr(buf, "SB_MASTER_KEY=''\\'''\\'''\n"));
	assert_non_null(strstr(buf, "SB_GATEWAY_PORT=8080\n"));
	assert_non_null(strstr(buf, "SB_LISTEN_ADDRESS='127.0.0.1'\n"));
	assert_non_null(strstr(buf, "SB_PROJECTS_TOKEN=''\n"));
	assert_int_equal(buf[len - 1], '\n');
	free(buf);
}

/* Every key printed is one the loader reads back as a variable: feeding
 * the output back through the environment changes nothing. */
static void
test_print_shell_round_trip(void **state)
{
	struct fixture *f = *state;
	struct sb_config again;
	char *buf = NULL, *line, *eq, *end, *value;
	size_t len = 0, vlen;
	int lines = 0;

	/* Keep the repository's own token files out of the output. */
	assert_int_equal(setenv("SB_VAR_DIR", f->dir, 1), 0);
	assert_int_equal(load_text(f,
	                     "gateway_port = 1234\n"
	                     "project_url_domain = example.test\n"),
	    SB_OK);
	print_shell(&f->cfg, &buf, &len);
	for (line = buf; *line != '\0'; line = end + 1) {
		end = strchr(line, '\n');
		assert_non_null(end);
		*end = '\0';
		eq = strchr(line, '=');
		assert_non_null(eq);
		*eq = '\0';
		value = eq + 1;
		vlen = strlen(value);
		/* No value here holds a quote: strip the outer pair. */
		if (vlen >= 2 && value[0] == '\'') {
			value[vlen - 1] = '\0';
			value++;
		}
		assert_int_equal(setenv(line, value, 1), 0);
		lines++;
	}
	free(buf);
	assert_true(lines > 30);
	assert_int_equal(
	    sb_config_load(&again, "", f->err, sizeof(f->err)), SB_OK);
	assert_memory_equal(&again, &f->cfg, sizeof(again));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_defaults, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_file_parsing, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_file_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_file_bounds_inclusive, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_file_line_too_long, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_missing_named_file, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_sb_config_variable, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_env_overrides_file, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_env_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_token_file, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_token_file_missing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_var_path, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_var_path_long_dir, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_print_shell, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_print_shell_round_trip, setup, teardown),
	};

	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
