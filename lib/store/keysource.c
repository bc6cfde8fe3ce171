/*
 * The master key's sources (include/sb/store/keysource.h): the key file,
 * the master_key setting, and a command's standard output.  Each hands the
 * secrets store 64 hex characters and nothing else; the store parses them
 * into its locked keyring.
 *
 * The command runs under /bin/sh -c as a child in its own process group,
 * stdin /dev/null, stdout and stderr on pipes, read with poll() against
 * one deadline: past it, or past KEYSOURCE_OUTPUT_MAX bytes of output, the
 * whole group is killed.  Nothing it printed on stdout reaches a log; its
 * stderr does, line by line, with long hex runs masked.
 */
#define _GNU_SOURCE /* pipe2() */

#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "sb/core/deadline.h"
#include "sb/core/log.h"
#include "sb/store/keysource.h"

#define KEYSOURCE_COMPONENT "secrets"
#define KEYSOURCE_MASTER_NAME "master.key"
#define KEYSOURCE_ENV_NAME "SB_MASTER_KEY"
#define KEYSOURCE_SHELL "/bin/sh"
#define KEYSOURCE_NULL_DEVICE "/dev/null"
#define KEYSOURCE_OUTPUT_MAX 4096 /* stdout bytes before the command dies */
#define KEYSOURCE_STDERR_MAX 2048 /* stderr bytes kept for the log */
#define KEYSOURCE_STDERR_LINE_MAX 200 /* characters of a logged line */
#define KEYSOURCE_HEX_RUN_MASK 16 /* hex runs this long are masked */
#define KEYSOURCE_REAP_STEP_MS 10 /* between checks for the child's exit */
#define KEYSOURCE_EXEC_FAILED 127 /* the shell's own "cannot run" status */
#define KEYSOURCE_CMD "master key source command"

/* Outcome of running the command, before its output is looked at. */
enum run_result {
	RUN_EXITED,
	RUN_TIMED_OUT,
	RUN_TOO_MUCH,
	RUN_FAILED, /* pipe, fork or wait failed */
};

/* The child's pipes and what came out of them. */
struct run {
	int fd[2]; /* read ends: stdout, stderr; -1 once at end of file */
	char out[KEYSOURCE_OUTPUT_MAX + 1];
	size_t out_len;
	char err[KEYSOURCE_STDERR_MAX];
	size_t err_len;
	int status; /* waitpid() status when RUN_EXITED */
};

enum sb_err
sb_keysource_file_read(const char *path, char *buf, size_t size, size_t *len)
{
	struct stat st;
	ssize_t n;
	enum sb_err rc = SB_ERR_IO;
	int fd;

	*len = 0;
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1) {
		if (errno == ENOENT || errno == ELOOP)
			rc = SB_ERR_CONFIG;
		sb_log(SB_LOG_ERROR, KEYSOURCE_COMPONENT, NULL, "open %s: %s",
		    path, strerror(errno));
		goto out;
	}
	if (fstat(fd, &st) == -1)
		goto out;
	if (!S_ISREG(st.st_mode) || (st.st_mode & 077) != 0) {
		sb_log(SB_LOG_ERROR, KEYSOURCE_COMPONENT, NULL,
		    "%s: not a regular file of mode 0600 or stricter", path);
		rc = SB_ERR_CONFIG;
		goto out;
	}
	while (*len < size) {
		n = read(fd, buf + *len, size - *len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			goto out;
		if (n == 0)
			break;
		*len += (size_t)n;
	}
	rc = SB_OK;
out:
	if (fd != -1)
		(void)close(fd);
	return rc;
}

/*
 * True iff text (len bytes) is 64 hex characters and an optional newline;
 * then hex holds the 64 and a NUL.  Says nothing about text otherwise.
 */
static bool
key_text_take(const char *text, size_t len, char *hex)
{
	size_t i;

	if (len == SB_KEYSOURCE_HEX_LEN + 1 && text[len - 1] == '\n')
		len--;
	if (len != SB_KEYSOURCE_HEX_LEN)
		return false;
	for (i = 0; i < len; i++)
		if (!isxdigit((unsigned char)text[i]))
			return false;
	memcpy(hex, text, len);
	hex[len] = '\0';
	return true;
}

/* The file source: <dir>/master.key. */
static enum sb_err
source_file_load(const struct sb_keysource_params *p, char *hex)
{
	char path[PATH_MAX], text[SB_KEYSOURCE_HEX_LEN + 2];
	size_t len = 0;
	enum sb_err rc = SB_ERR_CONFIG;
	int n;

	if (p->dir == NULL || *p->dir == '\0') {
		sb_log(SB_LOG_ERROR, KEYSOURCE_COMPONENT, NULL,
		    "master key source file: no keyring directory");
		goto out;
	}
	n = snprintf(
	    path, sizeof(path), "%s/%s", p->dir, KEYSOURCE_MASTER_NAME);
	if (n < 0 || (size_t)n >= sizeof(path)) {
		sb_log(SB_LOG_ERROR, KEYSOURCE_COMPONENT, NULL,
		    "master key source file: %s: path too long", p->dir);
		goto out;
	}
	if ((rc = sb_keysource_file_read(path, text, sizeof(text), &len)) !=
	    SB_OK)
		goto out;
	if (!key_text_take(text, len, hex)) {
		sb_log(SB_LOG_ERROR, KEYSOURCE_COMPONENT, NULL,
		    "master key source file: %s: not a key of %d hex "
		    "characters and an optional newline",
		    path, SB_KEYSOURCE_HEX_LEN);
		rc = SB_ERR_CONFIG;
	}
out:
	sodium_memzero(text, sizeof(text));
	if (rc != SB_OK)
		sodium_memzero(hex, SB_KEYSOURCE_HEX_SIZE);
	return rc;
}

/* The env source: the master_key setting (SB_MASTER_KEY). */
static enum sb_err
source_env_load(const struct sb_keysource_params *p, char *hex)
{
	const char *k = p->key_hex;

	if (k == NULL || *k == '\0') {
		sb_log(SB_LOG_ERROR, KEYSOURCE_COMPONENT, NULL,
		    "master key source env: %s (master_key) is not set",
		    KEYSOURCE_ENV_NAME);
		return SB_ERR_CONFIG;
	}
	if (strlen(k) != SB_KEYSOURCE_HEX_LEN ||
	    !key_text_take(k, SB_KEYSOURCE_HEX_LEN, hex)) {
		sb_log(SB_LOG_ERROR, KEYSOURCE_COMPONENT, NULL,
		    "master key source env: %s: not a key of %d hex "
		    "characters",
		    KEYSOURCE_ENV_NAME, SB_KEYSOURCE_HEX_LEN);
		sodium_memzero(hex, SB_KEYSOURCE_HEX_SIZE);
		return SB_ERR_CONFIG;
	}
	return SB_OK;
}

/*
 * Logs the command's stderr (err, len bytes), a line an event: control
 * bytes become '?', runs of KEYSOURCE_HEX_RUN_MASK or more hex characters
 * become '*' (a key echoed by mistake), lines are cut to
 * KEYSOURCE_STDERR_LINE_MAX.  err is altered in place.
 */
static void
stderr_log(char *err, size_t len)
{
	size_t i, start = 0, run = 0;

	for (i = 0; i < len; i++) {
		if (isxdigit((unsigned char)err[i])) {
			if (++run == KEYSOURCE_HEX_RUN_MASK)
				memset(err + i + 1 - run, '*', run);
			else if (run > KEYSOURCE_HEX_RUN_MASK)
				err[i] = '*';
			continue;
		}
		run = 0;
		if (err[i] == '\n')
			err[i] = '\0';
		else if (iscntrl((unsigned char)err[i]))
			err[i] = '?';
	}
	while (start < len) {
		if (err[start] != '\0')
			sb_log(SB_LOG_WARN, KEYSOURCE_COMPONENT, NULL,
			    "master_key_command stderr: %.*s",
			    KEYSOURCE_STDERR_LINE_MAX, err + start);
		start += strnlen(err + start, len - start) + 1;
	}
}

static void
fd_close(int *fd)
{
	if (*fd != -1) {
		(void)close(*fd);
		*fd = -1;
	}
}

/*
 * In the child, before exec: an empty signal mask and SIGPIPE at its
 * default.  The caller may have signals blocked or ignored (the serve
 * layer, lib/runtime/serve.c, blocks TERM and INT and ignores PIPE, the
 * only signal it ignores) and exec keeps both: the command must be
 * stoppable and see a closed pipe the usual way.  Async-signal-safe calls
 * only.
 */
static void
child_signals_reset(void)
{
	struct sigaction dfl;
	sigset_t none;

	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	(void)sigemptyset(&dfl.sa_mask);
	(void)sigaction(SIGPIPE, &dfl, NULL);
	(void)sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);
}

/*
 * Starts /bin/sh -c command in a new process group with stdin from
 * /dev/null and stdout, stderr on pipes whose read ends go to r->fd; it
 * inherits no other descriptor, an empty signal mask and SIGPIPE at its
 * default.
 * Returns the child's pid, or -1 (logged).  Only async-signal-safe calls
 * run in the child.
 */
static pid_t
child_start(const char *command, struct run *r)
{
	char *const argv[] = { "sh", "-c", (char *)command, NULL };
	int out[2] = { -1, -1 }, err[2] = { -1, -1 }, devnull;
	pid_t pid = -1;

	devnull = open(KEYSOURCE_NULL_DEVICE, O_RDONLY | O_CLOEXEC);
	if (devnull == -1 || pipe2(out, O_CLOEXEC) == -1 ||
	    pipe2(err, O_CLOEXEC) == -1)
		goto out;
	if ((pid = fork()) == 0) {
		(void)setpgid(0, 0);
		child_signals_reset();
		if (dup2(devnull, STDIN_FILENO) == -1 ||
		    dup2(out[1], STDOUT_FILENO) == -1 ||
		    dup2(err[1], STDERR_FILENO) == -1)
			_exit(KEYSOURCE_EXEC_FAILED);
		closefrom(
		    STDERR_FILENO + 1); /* the db, sockets: not its business */
		execv(KEYSOURCE_SHELL, argv);
		_exit(KEYSOURCE_EXEC_FAILED);
	}
	if (pid > 0) {
		(void)setpgid(pid, pid); /* either side may win the race */
		r->fd[0] = out[0];
		r->fd[1] = err[0];
		out[0] = err[0] = -1;
	}
out:
	if (pid == -1)
		sb_log(SB_LOG_ERROR, KEYSOURCE_COMPONENT, NULL,
		    KEYSOURCE_CMD ": cannot start %s: %s", KEYSOURCE_SHELL,
		    strerror(errno));
	fd_close(&out[0]);
	fd_close(&out[1]);
	fd_close(&err[0]);
	fd_close(&err[1]);
	if (devnull != -1)
		(void)close(devnull);
	return pid;
}

/*
 * Reads what is ready on r->fd[i] (0: stdout, 1: stderr).  False once
 * stdout passed KEYSOURCE_OUTPUT_MAX; stderr past its cap is dropped.
 */
static bool
pipe_drain(struct run *r, int i)
{
	char spill[KEYSOURCE_STDERR_MAX];
	char *buf = i == 0 ? r->out + r->out_len : spill;
	size_t room = i == 0 ? sizeof(r->out) - r->out_len : sizeof(spill);
	ssize_t n;

	n = read(r->fd[i], buf, room);
	if (n == -1 && errno == EINTR)
		return true;
	if (n <= 0) {
		fd_close(&r->fd[i]);
		return true;
	}
	if (i == 0) {
		r->out_len += (size_t)n;
		return r->out_len <= KEYSOURCE_OUTPUT_MAX;
	}
	if ((size_t)n > sizeof(r->err) - r->err_len)
		n = (ssize_t)(sizeof(r->err) - r->err_len);
	memcpy(r->err + r->err_len, spill, (size_t)n);
	r->err_len += (size_t)n;
	sodium_memzero(spill, sizeof(spill));
	return true;
}

/* Reads both pipes to their end, or until deadline or too much output. */
static enum run_result
pipes_read(struct run *r, int64_t deadline)
{
	struct pollfd pfd[2];
	int64_t left;
	int i, n;

	while (r->fd[0] != -1 || r->fd[1] != -1) {
		if ((left = sb_deadline_left(deadline)) <= 0)
			return RUN_TIMED_OUT;
		for (i = 0; i < 2; i++) {
			pfd[i].fd = r->fd[i]; /* poll() skips a negative fd */
			pfd[i].events = POLLIN;
			pfd[i].revents = 0;
		}
		n = poll(pfd, 2, left > INT_MAX ? INT_MAX : (int)left);
		if (n == -1 && errno != EINTR)
			return RUN_FAILED;
		for (i = 0; n > 0 && i < 2; i++)
			if (pfd[i].revents != 0 && !pipe_drain(r, i))
				return RUN_TOO_MUCH;
	}
	return RUN_EXITED;
}

/* Waits for pid's exit until deadline; its status goes to r->status. */
static enum run_result
child_reap(pid_t pid, struct run *r, int64_t deadline)
{
	pid_t w;

	for (;;) {
		w = waitpid(pid, &r->status, WNOHANG);
		if (w == pid)
			return RUN_EXITED;
		if (w == -1 && errno != EINTR)
			return RUN_FAILED;
		if (sb_deadline_passed(deadline))
			return RUN_TIMED_OUT;
		sb_deadline_sleep(KEYSOURCE_REAP_STEP_MS);
	}
}

/*
 * Runs command with timeout_ms, capturing into r.  Anything but a normal
 * run kills the child's whole process group and reaps the child.
 */
static enum run_result
command_run(const char *command, long timeout_ms, struct run *r)
{
	int64_t deadline = sb_deadline_now() + timeout_ms;
	enum run_result res;
	pid_t pid;

	r->fd[0] = r->fd[1] = -1;
	if ((pid = child_start(command, r)) == -1)
		return RUN_FAILED;
	res = pipes_read(r, deadline);
	if (res == RUN_EXITED)
		res = child_reap(pid, r, deadline);
	if (res != RUN_EXITED) {
		(void)kill(-pid, SIGKILL);
		(void)kill(pid, SIGKILL); /* if setpgid() failed */
		while (waitpid(pid, NULL, 0) == -1 && errno == EINTR)
			;
	}
	fd_close(&r->fd[0]);
	fd_close(&r->fd[1]);
	return res;
}

/* Logs why a finished run is refused; SB_OK iff it exited 0. */
static enum sb_err
run_status_check(enum run_result res, const struct run *r, long timeout_ms)
{
	if (res == RUN_TIMED_OUT)
		sb_log(SB_LOG_ERROR, KEYSOURCE_COMPONENT, NULL,
		    KEYSOURCE_CMD ": no answer within %ld ms "
		                  "(master_key_command_timeout_ms); killed it",
		    timeout_ms);
	else if (res == RUN_TOO_MUCH)
		sb_log(SB_LOG_ERROR, KEYSOURCE_COMPONENT, NULL,
		    KEYSOURCE_CMD ": printed more than %d bytes; killed it",
		    KEYSOURCE_OUTPUT_MAX);
	else if (res == RUN_FAILED)
		sb_log(SB_LOG_ERROR, KEYSOURCE_COMPONENT, NULL,
		    KEYSOURCE_CMD ": could not run or wait for it: %s",
		    strerror(errno));
	else if (WIFSIGNALED(r->status))
		sb_log(SB_LOG_ERROR, KEYSOURCE_COMPONENT, NULL,
		    KEYSOURCE_CMD ": killed by signal %d", WTERMSIG(r->status));
	else if (!WIFEXITED(r->status) || WEXITSTATUS(r->status) != 0)
		sb_log(SB_LOG_ERROR, KEYSOURCE_COMPONENT, NULL,
		    KEYSOURCE_CMD ": exited with status %d",
		    WIFEXITED(r->status) ? WEXITSTATUS(r->status) : -1);
	else
		return SB_OK;
	return res == RUN_FAILED ? SB_ERR_IO : SB_ERR_CONFIG;
}

/* The command source: master_key_command's standard output. */
static enum sb_err
source_command_load(const struct sb_keysource_params *p, char *hex)
{
	long timeout_ms =
	    p->timeout_ms > 0 ? p->timeout_ms : SB_KEYSOURCE_TIMEOUT_MS;
	struct run *r = NULL;
	enum sb_err rc = SB_ERR_CONFIG;

	if (p->command == NULL || *p->command == '\0') {
		sb_log(SB_LOG_ERROR, KEYSOURCE_COMPONENT, NULL,
		    KEYSOURCE_CMD ": master_key_command "
		                  "(SB_MASTER_KEY_COMMAND) is empty");
		goto out;
	}
	if (sodium_init() < 0 || (r = sodium_malloc(sizeof(*r))) == NULL) {
		rc = SB_ERR_NOMEM;
		goto out;
	}
	memset(r, 0, sizeof(*r));
	rc = run_status_check(
	    command_run(p->command, timeout_ms, r), r, timeout_ms);
	stderr_log(r->err, r->err_len);
	if (rc != SB_OK)
		goto out;
	if (r->out_len == 0) {
		sb_log(SB_LOG_ERROR, KEYSOURCE_COMPONENT, NULL,
		    KEYSOURCE_CMD ": printed nothing");
		rc = SB_ERR_CONFIG;
	} else if (!key_text_take(r->out, r->out_len, hex)) {
		sb_log(SB_LOG_ERROR, KEYSOURCE_COMPONENT, NULL,
		    KEYSOURCE_CMD ": printed %zu bytes, not a key of %d hex "
		                  "characters and an optional newline",
		    r->out_len, SB_KEYSOURCE_HEX_LEN);
		rc = SB_ERR_CONFIG;
	}
out:
	sodium_free(r); /* wipes what the command printed */
	if (rc != SB_OK)
		sodium_memzero(hex, SB_KEYSOURCE_HEX_SIZE);
	return rc;
}

static const struct sb_keysource sources[] = {
	{ "file", "var/secrets/master.key, made by sbctl init",
	    source_file_load },
	{ "env", "the master_key setting (SB_MASTER_KEY)", source_env_load },
	{ "command", "the standard output of master_key_command",
	    source_command_load },
};

#define SOURCE_COUNT (sizeof(sources) / sizeof(sources[0]))

static const struct sb_keysource *
source_find(const char *name)
{
	size_t i;

	for (i = 0; i < SOURCE_COUNT; i++)
		if (strcmp(sources[i].name, name) == 0)
			return &sources[i];
	return NULL;
}

static bool
set(const char *s)
{
	return s != NULL && *s != '\0';
}

enum sb_err
sb_keysource_choose(const char *name, const struct sb_keysource_params *p,
    const struct sb_keysource **out)
{
	const struct sb_keysource *src;
	const char *clash = NULL;

	*out = NULL;
	if (!set(name))
		name = set(p->key_hex) ? "env" : "file";
	if ((src = source_find(name)) == NULL) {
		sb_log(SB_LOG_ERROR, KEYSOURCE_COMPONENT, NULL,
		    "master_key_source (SB_MASTER_KEY_SOURCE) '%.32s' is not "
		    "one of file, env, command",
		    name);
		return SB_ERR_CONFIG;
	}
	if (src->load != source_env_load && set(p->key_hex))
		clash = "master_key (SB_MASTER_KEY)";
	else if (src->load != source_command_load && set(p->command))
		clash = "master_key_command (SB_MASTER_KEY_COMMAND)";
	if (clash != NULL) {
		sb_log(SB_LOG_ERROR, KEYSOURCE_COMPONENT, NULL,
		    "master key source %s: %s is set too; unset it or choose "
		    "that source",
		    src->name, clash);
		return SB_ERR_CONFIG;
	}
	*out = src;
	return SB_OK;
}
