/*
 * Logging: one line per event on stderr with time, level, component,
 * request id and message (STYLE.md rule 15).  Never pass a secret, token or
 * request body to these functions.
 */
#ifndef SB_LOG_H
#define SB_LOG_H

enum sb_log_level {
	SB_LOG_DEBUG,
	SB_LOG_INFO,
	SB_LOG_WARN,
	SB_LOG_ERROR,
	SB_LOG__MAX
};

/* Sets the lowest level written; lower levels are dropped. */
void sb_log_set_level(enum sb_log_level level);

/* Parses "debug", "info", "warn" or "error"; returns false otherwise. */
_Bool sb_log_level_parse(const char *name, enum sb_log_level *out);

/*
 * Writes one line to stderr.  component names the program or module,
 * request_id may be NULL (printed as "-").  Newlines in the message are
 * replaced so that one event stays one line.
 */
void sb_log(enum sb_log_level level, const char *component,
    const char *request_id, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
