/*
 * Requests: the FastCGI parameters and body of one request copied into the
 * per-request arena, the query string split into decoded pairs, the JSON
 * body parsed with cJSON under a depth cap, and validation of a JSON object
 * against a table of fields before any handler sees it.
 *
 * The parsing functions take plain buffers, not FastCGI streams, so that
 * the fuzz targets and unit tests drive exactly the code the responders run.
 */
#ifndef SB_REQUEST_H
#define SB_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cJSON.h>

#include "sb/core/arena.h"
#include "sb/core/err.h"

#define SB_REQUEST_PARAMS_MAX 8 /* path parameters per route */
#define SB_REQUEST_QUERY_MAX 64 /* query pairs kept */
#define SB_REQUEST_QUERY_LEN_MAX 8192
#define SB_REQUEST_HEADERS_MAX 32 /* response headers per request */
#define SB_REQUEST_JSON_DEPTH_MAX 32
#define SB_REQUEST_JSON_ITEMS_MAX 10000

struct sb_kv {
	const char *key;
	const char *value;
};

struct FCGX_Request;

struct sb_request {
	struct FCGX_Request *fcgi; /* NULL in tests */
	struct sb_arena *arena;
	const char *method;
	const char *path; /* decoded by nginx (DOCUMENT_URI) */
	const char *raw_uri; /* REQUEST_URI as sent, with query */
	const char *query; /* raw QUERY_STRING, "" if none */
	const char *request_id; /* nginx $request_id, "-" if none */
	const char *content_type;
	const char *authorization;
	char *body; /* NUL-terminated; body_len excludes the NUL */
	size_t body_len;
	struct sb_kv params[SB_REQUEST_PARAMS_MAX];
	size_t param_count;
	struct sb_kv *queries;
	size_t query_count;
	cJSON *json; /* parsed body; freed by sb_request_clear */
	/* response side */
	int status; /* 0 until a response was sent */
	struct sb_kv headers[SB_REQUEST_HEADERS_MAX];
	size_t header_count;
	int error_style; /* enum sb_response_style */
	/* set by the serving loop from its configuration */
	const char *service; /* the responder's name, for logs */
	int json_depth_max; /* 0: SB_REQUEST_JSON_DEPTH_MAX */
};

/*
 * Fills req from the FastCGI request: parameters copied into arena, the body
 * read (at most body_max bytes; a declared or actual larger body gives
 * SB_ERR_TOO_LARGE; a malformed CONTENT_LENGTH or a body shorter than it
 * gives SB_ERR_INVALID) and the query string parsed (SB_ERR_INVALID or
 * SB_ERR_TOO_LARGE as sb_request_parse_query() says).  SB_ERR_NOMEM when
 * the arena is full.  On any result req is usable for sending an error
 * response; its strings live in arena, and the caller clears it with
 * sb_request_clear().
 */
enum sb_err sb_request_read(struct sb_request *req, struct FCGX_Request *fcgi,
    struct sb_arena *arena, size_t body_max);

/* Frees what req holds outside the arena (the parsed JSON); NULL ok. */
void sb_request_clear(struct sb_request *req);

/*
 * Splits a query string into at most SB_REQUEST_QUERY_MAX decoded pairs
 * ('+' is a space, %XX decoded; a key without '=' has value "").  Pairs
 * whose decoding holds a NUL or a bad escape fail the whole parse with
 * SB_ERR_INVALID; too many pairs or a query longer than
 * SB_REQUEST_QUERY_LEN_MAX give SB_ERR_TOO_LARGE.  On SB_OK *out (arena) and
 * *count are set.
 */
enum sb_err sb_request_parse_query(struct sb_arena *arena, const char *query,
    struct sb_kv **out, size_t *count);

/*
 * Percent-decodes the len bytes of s into the arena; '+' becomes a space if
 * plus_is_space.  On SB_OK *out is the NUL-terminated result, owned by
 * arena; otherwise *out is NULL and the result is SB_ERR_INVALID on a bad
 * escape or a decoded or raw NUL, or SB_ERR_NOMEM when the arena is full.
 */
enum sb_err sb_request_decode(struct sb_arena *arena, const char *s, size_t len,
    bool plus_is_space, char **out);

/*
 * Parses len bytes of JSON.  Rejects text nested deeper than depth_max (at
 * any depth, even past cJSON's own limit) or with more than
 * SB_REQUEST_JSON_ITEMS_MAX values (SB_ERR_TOO_LARGE), and malformed text,
 * bytes that are not UTF-8 or the escape \u0000 (SB_ERR_INVALID, with the
 * offending byte's offset in *error_offset if not NULL).  This is the one
 * place JSON bodies are checked for UTF-8.  On SB_OK *out is set and
 * the caller frees it with cJSON_Delete(); otherwise *out is NULL.
 */
enum sb_err sb_request_parse_json(const char *text, size_t len, int depth_max,
    cJSON **out, size_t *error_offset);

/* Bytes of text, not NUL-terminated: a value as it was received. */
struct sb_span {
	const char *text;
	size_t len;
};

/*
 * The text of value's member named member (the first of that name, as
 * cJSON finds it) exactly as received, white space inside it included,
 * for what must be kept byte for byte (an integer past 2^53 that cJSON
 * would round).  value is the text of an object that
 * sb_request_parse_json() accepted.  True with *out set (it points into
 * value) if the member is there; false otherwise.
 */
bool sb_request_json_member(
    struct sb_span value, const char *member, struct sb_span *out);

/*
 * As sb_request_json_member() for the index-th element (from 0) of the
 * array whose text is value.
 */
bool sb_request_json_element(
    struct sb_span value, size_t index, struct sb_span *out);

/* The value of hex digit c (either case), or -1 if c is none. */
int sb_request_hex_digit(int c);

/* Value of query key (first occurrence), borrowed from the arena, or NULL. */
const char *sb_request_query(const struct sb_request *req, const char *key);

/* Value of path parameter name, borrowed from the arena, or NULL. */
const char *sb_request_param(const struct sb_request *req, const char *name);

/*
 * Parses a decimal integer in [min, max] with nothing after it; false on
 * empty text, junk, overflow or a value out of range (*out untouched).
 */
bool sb_request_parse_int(
    const char *s, int64_t min, int64_t max, int64_t *out);

/* The largest whole number a JSON number (a double) holds exactly. */
#define SB_REQUEST_JSON_INT_MAX 9007199254740992.0 /* 2^53 */

/*
 * True iff v is a JSON number that is a whole number within
 * +-SB_REQUEST_JSON_INT_MAX (never infinity, NaN, 1e300 or 1.5); then
 * *out, if not NULL, holds it.  The one place a JSON number becomes an
 * integer: the range is checked before the cast, which past int64_t's
 * range is undefined.
 */
bool sb_request_json_int(const cJSON *v, int64_t *out);

/* Validation tables (kcgi style): one row per accepted field. */
enum sb_field_type {
	SB_FIELD_STRING,
	SB_FIELD_INT,
	SB_FIELD_BOOL,
	SB_FIELD_OBJECT,
	SB_FIELD_ARRAY,
	SB_FIELD_ANY,
	SB_FIELD__MAX
};

struct sb_field {
	const char *name;
	enum sb_field_type type;
	bool required;
	int64_t min; /* string: min length; int: min value */
	int64_t max; /* string: max length; int: max value; 0 = none */
	const char *const
	    *one_of; /* NULL-terminated allowed strings, or NULL */
	bool (*check)(const char *value); /* extra string check, or NULL */
};

/*
 * Checks that obj is a JSON object whose fields obey the table and that it
 * has no field the table does not name.  On SB_OK, if values is not NULL,
 * values[i] is the value of fields[i] (borrowed from obj; NULL when absent
 * or JSON null).  On failure returns SB_ERR_INVALID with a message naming
 * the field in err (errsize bytes).
 */
enum sb_err sb_request_validate(const cJSON *obj, const struct sb_field *fields,
    size_t field_count, const cJSON **values, char *err, size_t errsize);

#endif
