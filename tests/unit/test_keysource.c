/*
 * Unit tests for lib/store/keysource.c: each source hands over the key;
 * the command source refuses a non-zero exit, a signal, a timeout (and
 * kills what the command started), too much output, malformed and empty
 * output, never logging what was printed; its stderr reaches the log with
 * a key masked; the choice of source and its contradictions; and one key
 * from different sources opens the same sealed blobs.  Each test runs in
 * its own mkdtemp directory with a keyring directory <tmp>/keys.
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "sb/core/deadline.h"
#include "sb/store/keysource.h"
#include "sb/store/secrets.h"
#include "support.h"

#define KEY TEST_KEY_HEX
#define AD "connections:7:credentials"
#define SHORT_TIMEOUT_MS 300
#define TIMEOUT_SLACK_MS 3000 /* a refused slow command returns by then */
#define LOG_MAX 16384
#define REAPED_WAIT_MS 2000 /* the init process reaps a killed grandchild */

struct fixture {
	char tmp[TEST_PATH_MAX];
	char keys[TEST_PATH_MAX];
	char log[TEST_PATH_MAX];
	char text[LOG_MAX]; /* what the last captured call logged */
	int saved_stderr;
};

static int
setup(void **state)
{
	struct fixture *f;

	if ((f = calloc(1, sizeof(*f))) == NULL)
		return -1;
	if (test_tmpdir_make(f->tmp, sizeof(f->tmp), "keysource") != 0) {
		free(f);
		return -1;
	}
	(void)snprintf(f->keys, sizeof(f->keys), "%.200s/keys", f->tmp);
	(void)snprintf(f->log, sizeof(f->log), "%.200s/log", f->tmp);
	if (mkdir(f->keys, 0700) != 0)
		return -1;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	int rc;

	rc = test_tmpdir_remove(f->tmp);
	free(f);
	return rc;
}

/* Sends stderr (where sb_log writes) to f->log until capture_end(). */
static void
capture_start(struct fixture *f)
{
	int fd;

	f->saved_stderr = dup(STDERR_FILENO);
	assert_true(f->saved_stderr != -1);
	fd = open(f->log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd != -1);
	assert_true(dup2(fd, STDERR_FILENO) != -1);
	assert_int_equal(close(fd), 0);
}

/* Restores stderr and reads what was logged into f->text. */
static void
capture_end(struct fixture *f)
{
	ssize_t n;
	int fd;

	assert_true(dup2(f->saved_stderr, STDERR_FILENO) != -1);
	assert_int_equal(close(f->saved_stderr), 0);
	fd = open(f->log, O_RDONLY);
	assert_true(fd != -1);
	n = read(fd, f->text, sizeof(f->text) - 1);
	assert_true(n >= 0);
	f->text[n] = '\0';
	assert_int_equal(close(fd), 0);
}

static void
key_file_write(const struct fixture *f, const char *text)
{
	char path[TEST_PATH_MAX * 2];
	int fd;

	(void)snprintf(path, sizeof(path), "%s/master.key", f->keys);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd != -1);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	assert_int_equal(close(fd), 0);
}

/* Loads with the named source; returns its result, hex the key or "". */
static enum sb_err
load(const char *name, const struct sb_keysource_params *p, char *hex)
{
	const struct sb_keysource *src = NULL;
	enum sb_err rc;

	memset(hex, 'x', SB_KEYSOURCE_HEX_SIZE);
	if ((rc = sb_keysource_choose(name, p, &src)) != SB_OK)
		return rc;
	assert_string_equal(src->name, name);
	assert_non_null(src->description);
	return src->load(p, hex);
}

static void
test_each_source_returns_the_key(void **state)
{
	struct fixture *f = *state;
	char hex[SB_KEYSOURCE_HEX_SIZE];
	struct sb_keysource_params file = { .dir = f->keys },
	                           env = { .key_hex = KEY },
	                           cmd = { .command = "echo " KEY },
	                           bare = { .command = "printf %s " KEY };

	key_file_write(f, KEY "\n");
	assert_int_equal(load("file", &file, hex), SB_OK);
	assert_string_equal(hex, KEY);
	assert_int_equal(load("env", &env, hex), SB_OK);
	assert_string_equal(hex, KEY);
	assert_int_equal(load("command", &cmd, hex), SB_OK);
	assert_string_equal(hex, KEY);
	assert_int_equal(load("command", &bare, hex), SB_OK);
	assert_string_equal(hex, KEY);
}

/*
 * A descriptor the process holds (the database, a socket), even one
 * without close-on-exec, is not the command's: it sees only 0, 1 and 2.
 */
static void
test_command_inherits_no_descriptor(void **state)
{
	struct fixture *f = *state;
	char hex[SB_KEYSOURCE_HEX_SIZE], command[128];
	struct sb_keysource_params p = { .timeout_ms = 2000 };
	int fd;

	assert_true((fd = open(f->tmp, O_RDONLY)) > STDERR_FILENO);
	(void)snprintf(command, sizeof(command),
	    "test -e /dev/fd/%d && exit 3; echo %s", fd, KEY);
	p.command = command;
	capture_start(f);
	assert_int_equal(load("command", &p, hex), SB_OK);
	capture_end(f);
	assert_string_equal(hex, KEY);
	(void)close(fd);
}

/*
 * The command starts with an empty signal mask and SIGPIPE at its
 * default, whatever the process blocks or ignores (a responder blocks
 * TERM and ignores PIPE).  The shell's grep reads its own status, which
 * it inherited through the shell: exit 4 for a blocked signal, 5 for an
 * ignored SIGPIPE (bit 12 of SigIgn).
 */
static void
test_command_signals_reset(void **state)
{
	struct fixture *f = *state;
	char hex[SB_KEYSOURCE_HEX_SIZE];
	struct sb_keysource_params p = {
		.timeout_ms = 2000,
		.command =
		    "set -- $(grep -E '^Sig(Blk|Ign):' /proc/self/status)"
		    " && [ $((0x$2)) -eq 0 ] || exit 4; "
		    "[ $((0x$4 & 0x1000)) -eq 0 ] || exit 5; echo " KEY,
	};
	struct sigaction ign = { .sa_handler = SIG_IGN }, old_pipe;
	sigset_t term, old_mask;

	assert_int_equal(sigemptyset(&term), 0);
	assert_int_equal(sigaddset(&term, SIGTERM), 0);
	assert_int_equal(sigprocmask(SIG_BLOCK, &term, &old_mask), 0);
	assert_int_equal(sigaction(SIGPIPE, &ign, &old_pipe), 0);
	capture_start(f);
	assert_int_equal(load("command", &p, hex), SB_OK);
	capture_end(f);
	assert_int_equal(sigaction(SIGPIPE, &old_pipe, NULL), 0);
	assert_int_equal(sigprocmask(SIG_SETMASK, &old_mask, NULL), 0);
	assert_string_equal(hex, KEY);
	assert_null(strstr(f->text, "exited with status"));
}

/* What the command source must refuse, and what its log must say. */
static const struct {
	const char *command;
	const char *logged;
} refused[] = {
	{ "echo " KEY "; exit 3", "exited with status 3" },
	{ "echo " KEY "; kill -9 $$", "killed by signal 9" },
	{ "exit 0", "printed nothing" },
	{ "echo secretsecret" KEY, "printed 77 bytes, not a key" },
	{ "echo zz" KEY, "printed 67 bytes, not a key" },
	{ "printf %s " KEY " | cut -c 2-", "printed 64 bytes, not a key" },
	{ "printf '%s\\n\\n' " KEY, "printed 66 bytes, not a key" },
	{ "printf '%s\\r\\n' " KEY, "printed 66 bytes, not a key" },
	{ "yes " KEY, "printed more than 4096 bytes; killed it" },
	{ "/nonexistent/vault kv get", "exited with status 127" },
};

static void
test_command_refusals(void **state)
{
	struct fixture *f = *state;
	char hex[SB_KEYSOURCE_HEX_SIZE];
	struct sb_keysource_params p = { .timeout_ms = 2000 };
	size_t i;

	for (i = 0; i < ARRAY_LEN(refused); i++) {
		p.command = refused[i].command;
		capture_start(f);
		assert_int_equal(load("command", &p, hex), SB_ERR_CONFIG);
		capture_end(f);
		if (strstr(f->text, refused[i].logged) == NULL)
			fail_msg("%s: log lacks \"%s\": %s", refused[i].command,
			    refused[i].logged, f->text);
		assert_non_null(strstr(f->text, "master key source command"));
		/* Nothing printed reaches the log, nor the buffer. */
		assert_null(strstr(f->text, KEY + 8));
		assert_null(strstr(f->text, "secretsecret"));
		assert_int_equal(hex[0], '\0');
	}
}

/* False once pid is gone or a zombie (its parent, init, may be slow). */
static bool
process_alive(pid_t pid)
{
	char path[64], stat[256];
	const char *state;
	ssize_t n;
	int fd;

	(void)snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	if ((fd = open(path, O_RDONLY)) == -1)
		return false;
	n = read(fd, stat, sizeof(stat) - 1);
	(void)close(fd);
	if (n <= 0)
		return false;
	stat[n] = '\0';
	state = strrchr(stat, ')');
	return state != NULL && state[1] == ' ' && state[2] != 'Z';
}

static void
test_command_timeout_kills(void **state)
{
	struct fixture *f = *state;
	char hex[SB_KEYSOURCE_HEX_SIZE], cmd[TEST_PATH_MAX * 3],
	    path[TEST_PATH_MAX * 2], pid_text[32];
	struct sb_keysource_params p = { .timeout_ms = SHORT_TIMEOUT_MS };
	int64_t start;
	long pid;
	int fd;
	ssize_t n;

	/* A grandchild holding stdout open: the whole group dies. */
	(void)snprintf(path, sizeof(path), "%s/pid", f->tmp);
	(void)snprintf(cmd, sizeof(cmd),
	    "sleep 30 & echo $! > %s; echo " KEY "; wait", path);
	p.command = cmd;
	start = sb_deadline_now();
	capture_start(f);
	assert_int_equal(load("command", &p, hex), SB_ERR_CONFIG);
	capture_end(f);
	assert_true(sb_deadline_now() - start < TIMEOUT_SLACK_MS);
	assert_non_null(strstr(f->text, "no answer within 300 ms"));
	assert_null(strstr(f->text, KEY + 8));
	fd = open(path, O_RDONLY);
	assert_true(fd != -1);
	n = read(fd, pid_text, sizeof(pid_text) - 1);
	assert_true(n > 0);
	pid_text[n] = '\0';
	assert_int_equal(close(fd), 0);
	pid = strtol(pid_text, NULL, 10);
	assert_true(pid > 1);
	start = sb_deadline_now();
	while (process_alive((pid_t)pid) &&
	    sb_deadline_now() - start < REAPED_WAIT_MS)
		sb_deadline_sleep(10);
	assert_false(process_alive((pid_t)pid));

	/* A command that closes its output and lingers: timed out too. */
	p.command = "echo " KEY "; exec >&- 2>&-; sleep 30";
	start = sb_deadline_now();
	capture_start(f);
	assert_int_equal(load("command", &p, hex), SB_ERR_CONFIG);
	capture_end(f);
	assert_true(sb_deadline_now() - start < TIMEOUT_SLACK_MS);
	assert_non_null(strstr(f->text, "no answer within"));
}

static void
test_command_stderr_logged_key_masked(void **state)
{
	struct fixture *f = *state;
	char hex[SB_KEYSOURCE_HEX_SIZE];
	struct sb_keysource_params p = {
		.command = "echo 'vault: token renews soon' >&2; "
		           "echo 'oops " KEY "' >&2; echo " KEY,
	};

	capture_start(f);
	assert_int_equal(load("command", &p, hex), SB_OK);
	capture_end(f);
	assert_string_equal(hex, KEY);
	assert_non_null(strstr(f->text, "stderr: vault: token renews soon"));
	assert_non_null(strstr(f->text, "stderr: oops ****"));
	assert_null(strstr(f->text, KEY + 16));
}

static void
test_choose(void **state)
{
	static const struct {
		const char *name, *key, *command, *want;
	} cases[] = {
		{ NULL, NULL, NULL, "file" },
		{ "", "", "", "file" },
		{ "", KEY, NULL, "env" },
		{ "file", NULL, NULL, "file" },
		{ "env", KEY, NULL, "env" },
		{ "command", NULL, "true", "command" },
		{ "vault", NULL, NULL, NULL },
		{ "FILE", NULL, NULL, NULL },
		{ "file", KEY, NULL, NULL }, /* a key in the env not ignored */
		{ "command", KEY, "true", NULL },
		{ "env", KEY, "true", NULL },
		{ "", NULL, "true", NULL },
	};
	const struct sb_keysource *src = NULL;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_LEN(cases); i++) {
		struct sb_keysource_params p = { .key_hex = cases[i].key,
			.command = cases[i].command };

		if (cases[i].want == NULL) {
			assert_int_equal(
			    sb_keysource_choose(cases[i].name, &p, &src),
			    SB_ERR_CONFIG);
			assert_null(src);
		} else {
			assert_int_equal(
			    sb_keysource_choose(cases[i].name, &p, &src),
			    SB_OK);
			assert_string_equal(src->name, cases[i].want);
		}
	}
}

static void
test_misconfigured_sources(void **state)
{
	struct fixture *f = *state;
	char hex[SB_KEYSOURCE_HEX_SIZE];
	struct sb_keysource_params none = { .dir = f->keys },
	                           shortkey = { .key_hex = "abcd" };
	struct sb_secrets *s = NULL;

	capture_start(f);
	assert_int_equal(load("env", &none, hex), SB_ERR_CONFIG);
	assert_int_equal(load("env", &shortkey, hex), SB_ERR_CONFIG);
	assert_int_equal(load("command", &none, hex), SB_ERR_CONFIG);
	assert_int_equal(load("file", &none, hex), SB_ERR_CONFIG);
	assert_int_equal(
	    sb_secrets_open_source("command", &none, &s), SB_ERR_CONFIG);
	assert_null(s);
	assert_int_equal(
	    sb_secrets_open_source("nope", &none, &s), SB_ERR_CONFIG);
	capture_end(f);
	assert_non_null(strstr(f->text,
	    "master key source env: SB_MASTER_KEY (master_key) is not set"));
	assert_non_null(strstr(f->text,
	    "master_key_command "
	    "(SB_MASTER_KEY_COMMAND) is empty"));
	assert_non_null(strstr(f->text, "master.key: No such file"));
	assert_non_null(strstr(f->text, "'nope' is not one of"));
	assert_null(strstr(f->text, "abcd"));
}

/* Seals under one source's keyring and opens under another's. */
static void
test_same_key_any_source(void **state)
{
	struct fixture *f = *state;
	struct sb_keysource_params file = { .dir = f->keys },
	                           env = { .dir = f->keys, .key_hex = KEY },
	                           cmd = { .dir = f->keys,
		                           .command = "echo " KEY };
	const struct {
		const char *name;
		const struct sb_keysource_params *p;
	} src[] = { { "file", &file }, { "env", &env }, { "command", &cmd } };
	struct sb_secrets *a = NULL, *b = NULL;
	unsigned char *blob = NULL;
	size_t blob_len = 0, len = 0, i, j;
	char *plain = NULL;

	key_file_write(f, KEY "\n");
	for (i = 0; i < ARRAY_LEN(src); i++) {
		assert_int_equal(
		    sb_secrets_open_source(src[i].name, src[i].p, &a), SB_OK);
		assert_int_equal(
		    sb_secrets_seal(a, "hunter2", 7, AD, &blob, &blob_len),
		    SB_OK);
		for (j = 0; j < ARRAY_LEN(src); j++) {
			assert_int_equal(
			    sb_secrets_open_source(src[j].name, src[j].p, &b),
			    SB_OK);
			assert_int_equal(
			    sb_secrets_key_id(a), sb_secrets_key_id(b));
			assert_int_equal(sb_secrets_unseal(b, blob, blob_len,
			                     AD, &plain, &len),
			    SB_OK);
			assert_string_equal(plain, "hunter2");
			sb_secrets_plain_free(plain, len);
			sb_secrets_free(b);
		}
		free(blob);
		sb_secrets_free(a);
	}
}

/* A rotated-away key kept as <key id>.key opens old blobs for any source. */
static void
test_old_key_files_with_command(void **state)
{
	struct fixture *f = *state;
	static const char *const next =
	    "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100";
	struct sb_keysource_params file = { .dir = f->keys },
	                           cmd = { .dir = f->keys };
	char command[128], from[TEST_PATH_MAX * 2], to[TEST_PATH_MAX * 2];
	struct sb_secrets *old = NULL, *s = NULL;
	unsigned char *blob = NULL;
	size_t blob_len = 0, len = 0;
	char *plain = NULL;

	key_file_write(f, KEY "\n");
	assert_int_equal(sb_secrets_open_source("file", &file, &old), SB_OK);
	assert_int_equal(
	    sb_secrets_seal(old, "x", 1, AD, &blob, &blob_len), SB_OK);
	(void)snprintf(from, sizeof(from), "%s/master.key", f->keys);
	(void)snprintf(to, sizeof(to), "%s/%08x.key", f->keys,
	    (unsigned)sb_secrets_key_id(old));
	assert_int_equal(rename(from, to), 0);
	(void)snprintf(command, sizeof(command), "echo %s", next);
	cmd.command = command;
	assert_int_equal(sb_secrets_open_source("command", &cmd, &s), SB_OK);
	assert_true(sb_secrets_key_id(s) != sb_secrets_key_id(old));
	assert_int_equal(
	    sb_secrets_unseal(s, blob, blob_len, AD, &plain, &len), SB_OK);
	sb_secrets_plain_free(plain, len);
	free(blob);
	sb_secrets_free(s);
	sb_secrets_free(old);
}

#define KEYSOURCE_TEST(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		KEYSOURCE_TEST(test_each_source_returns_the_key),
		KEYSOURCE_TEST(test_command_refusals),
		KEYSOURCE_TEST(test_command_inherits_no_descriptor),
		KEYSOURCE_TEST(test_command_signals_reset),
		KEYSOURCE_TEST(test_command_timeout_kills),
		KEYSOURCE_TEST(test_command_stderr_logged_key_masked),
		KEYSOURCE_TEST(test_choose),
		KEYSOURCE_TEST(test_misconfigured_sources),
		KEYSOURCE_TEST(test_same_key_any_source),
		KEYSOURCE_TEST(test_old_key_files_with_command),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
