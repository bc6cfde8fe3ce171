/*
 * One line per event on stderr: "<time> <level> <component> <request id>
 * <message>".  The line is built in one buffer and written with one write(2)
 * so that lines of several processes sharing a log file do not interleave.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "sb/core/log.h"

#define LOG_LINE_MAX 2048

static enum sb_log_level threshold = SB_LOG_INFO;

static const char *const level_names[SB_LOG__MAX] = {
	[SB_LOG_DEBUG] = "debug",
	[SB_LOG_INFO] = "info",
	[SB_LOG_WARN] = "warn",
	[SB_LOG_ERROR] = "error",
};

void
sb_log_set_level(enum sb_log_level level)
{
	if (level < SB_LOG__MAX)
		threshold = level;
}

bool
sb_log_level_parse(const char *name, enum sb_log_level *out)
{
	for (int i = 0; i < SB_LOG__MAX; i++) {
		if (name != NULL && strcasecmp(name, level_names[i]) == 0) {
			*out = (enum sb_log_level)i;
			return true;
		}
	}
	return false;
}

void
sb_log(enum sb_log_level level, const char *component, const char *request_id,
    const char *fmt, ...)
{
	char line[LOG_LINE_MAX];
	struct timespec ts;
	struct tm tm;
	va_list ap;
	size_t len;
	int n;

	if (level < threshold || level >= SB_LOG__MAX)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = snprintf(line, sizeof(line),
	    "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s %s %s ", tm.tm_year + 1900,
	    tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
	    ts.tv_nsec / 1000000L, level_names[level],
	    component != NULL ? component : "-",
	    request_id != NULL && *request_id != '\0' ? request_id : "-");
	if (n < 0)
		return;
	len = (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1;
	va_start(ap, fmt);
	n = vsnprintf(line + len, sizeof(line) - len, fmt, ap);
	va_end(ap);
	if (n > 0)
		len += (size_t)n < sizeof(line) - len ? (size_t)n
		                                      : sizeof(line) - len - 1;
	/* Keep one event on one line whatever the message held. */
	for (size_t i = 0; i < len; i++)
		if (line[i] == '\n' || line[i] == '\r')
			line[i] = ' ';
	if (len >= sizeof(line) - 1)
		len = sizeof(line) - 2;
	line[len++] = '\n';
	(void)!write(STDERR_FILENO, line, len);
}
