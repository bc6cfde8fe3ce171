/*
 * Integrations are data: etc/integrations.json names, for each
 * integration, the provider it calls and its capabilities: a read or a
 * write with typed input fields and their validators, the upstream
 * requests it makes (method, path template, query), what each upstream
 * status means, and how the answer is normalised with the mapping
 * language (sb/connect/mapping.h).  One generic engine runs them, so the
 * hundredth integration is a data file, not new C.  docs/integrations.md
 * is the schema's reference.
 *
 * This module loads and checks the file (lib/integrations/load.c),
 * validates input and renders requests (input.c), and runs a capability
 * through sb_call_perform(), step by step (engine.c).
 */
#ifndef SB_INTEGRATIONS_H
#define SB_INTEGRATIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cJSON.h>

#include "sb/client/http.h"
#include "sb/client/provider.h"
#include "sb/core/arena.h"
#include "sb/core/err.h"
#include "sb/core/request.h"

#define SB_INTEGRATIONS_MAX 32 /* integrations in the file */
#define SB_INTEGRATIONS_FILE_MAX (256 * 1024)
#define SB_INTEGRATION_CAPABILITIES_MAX 32 /* capabilities each */
#define SB_INTEGRATION_INPUTS_MAX 16 /* input fields per capability */
#define SB_INTEGRATION_STEPS_MAX 4 /* upstream requests per capability */
#define SB_INTEGRATION_STATUSES_MAX 16 /* status rules per step */
#define SB_INTEGRATION_QUERY_MAX 16 /* query parameters per step */
#define SB_INTEGRATION_REASONS_MAX 4 /* paths tried for an error's reason */
#define SB_INTEGRATION_NAME_MAX 32 /* bytes of an integration's name */
#define SB_INTEGRATION_STRING_MAX 2048 /* bytes of any string input */
#define SB_INTEGRATION_PATH_MAX 1024 /* bytes of a rendered path */
#define SB_INTEGRATION_ERROR_MAX 1024 /* bytes of an error message */
#define SB_INTEGRATION_CURSOR_MAX 1024 /* bytes of a paging cursor */
/*
 * A read with paging and its "all" input set follows next links for at
 * most this many pages (the first included), then answers what it has
 * with "truncated": true and the cursor of the page after.
 */
#define SB_INTEGRATIONS_PAGES_MAX 20

enum sb_input_type {
	SB_INPUT_STRING,
	SB_INPUT_INTEGER,
	SB_INPUT_BOOLEAN,
	SB_INPUT__MAX
};

/* One input field of a capability and its validators. */
struct sb_input_field {
	const char *name;
	const char *description; /* or NULL */
	enum sb_input_type type;
	bool required;
	int64_t min, max; /* integer bounds (inclusive) */
	bool has_min, has_max;
	int64_t max_length; /* string: bytes, 1..SB_INTEGRATION_STRING_MAX */
	const char *pattern; /* string: POSIX extended regex, or NULL */
	void *compiled; /* regex_t, private */
};

/*
 * What an upstream status means for a step: go on (the next step, or the
 * answer), stop with success (a later step is moot: the delete that finds
 * the user already gone), or answer an error.
 */
enum sb_outcome_kind {
	SB_OUTCOME_OK,
	SB_OUTCOME_DONE,
	SB_OUTCOME_ERROR,
	SB_OUTCOME__MAX
};

struct sb_outcome {
	enum sb_outcome_kind kind;
	int status; /* Switchboard's answer for an error */
	const char *code; /* its error code, from the engine's table */
};

struct sb_status_rule {
	int upstream; /* an upstream status, 100..599 */
	struct sb_outcome outcome;
};

/* One upstream request. */
struct sb_step {
	const char *method;
	const char *path; /* template: "{field}" placeholders */
	const cJSON *query; /* object: parameter -> "{field}" or a literal */
	struct sb_status_rule rules[SB_INTEGRATION_STATUSES_MAX];
	size_t rule_count;
};

/* Paging of a read: the cursor taken from a Link header's relation. */
struct sb_paging {
	bool on;
	const char *rel; /* the Link relation of the next page ("next") */
	const char *param; /* the cursor's query parameter in that link */
	const char *input; /* the input field that sends a cursor */
	const char *all; /* the boolean input field asking for every page */
};

struct sb_capability {
	const char *name;
	const char *description;
	bool write; /* kind "write": POST; "read": GET */
	struct sb_input_field inputs[SB_INTEGRATION_INPUTS_MAX];
	size_t input_count;
	struct sb_step steps[SB_INTEGRATION_STEPS_MAX];
	size_t step_count;
	/* The answer: */
	const cJSON *mapping; /* applied to the last step's body, or NULL */
	const char *root; /* the mapping's root, or NULL */
	const char *list; /* a read's records go under this key, or NULL */
	const cJSON *set; /* object: field -> "{input}" or a literal, or NULL */
	struct sb_paging paging;
};

struct sb_integration {
	const char *name;
	const char *title;
	const struct sb_provider *provider;
	/* How an upstream error body is carried ("upstream" of the error). */
	const cJSON *error_mapping; /* or NULL: not carried */
	const char *reasons[SB_INTEGRATION_REASONS_MAX]; /* source paths */
	size_t reason_count;
	struct sb_capability *capabilities; /* capability_count of them */
	size_t capability_count;
};

struct sb_integrations;

/*
 * Loads and checks the integrations file at path against providers
 * (every integration's provider must be one of them).  Refused: a file
 * over SB_INTEGRATIONS_FILE_MAX or not JSON, an unknown key anywhere, a
 * name that is not [a-z][a-z0-9_-]* or that is reserved
 * (sb_integrations_reserved()), a duplicate, a path template that is not
 * a plain absolute path or names a field that is not a required input, a
 * bad pattern, mapping or status rule, paging on a write or on several
 * steps, and anything past the caps above.  On SB_OK *out is set and the
 * caller frees it with sb_integrations_free(); otherwise *out is NULL and
 * the result is SB_ERR_CONFIG with err naming the integration, capability
 * and key at fault, or SB_ERR_NOMEM.
 */
enum sb_err sb_integrations_load(const char *path,
    const struct sb_providers *providers, struct sb_integrations **out,
    char *err, size_t errsize);

/* As sb_integrations_load() for the len bytes of text (what= for errors). */
enum sb_err sb_integrations_parse(const char *text, size_t len,
    const char *what, const struct sb_providers *providers,
    struct sb_integrations **out, char *err, size_t errsize);

/* Frees what sb_integrations_load() made; NULL is a no-op. */
void sb_integrations_free(struct sb_integrations *list);

/* Number of integrations; 0 for NULL. */
size_t sb_integrations_count(const struct sb_integrations *list);

/* The i-th integration, borrowed; NULL past the count. */
const struct sb_integration *sb_integrations_at(
    const struct sb_integrations *list, size_t i);

/* The integration called name, borrowed; NULL if none. */
const struct sb_integration *sb_integrations_find(
    const struct sb_integrations *list, const char *name);

/* The capability of integration called name, borrowed; NULL if none. */
const struct sb_capability *sb_integration_capability(
    const struct sb_integration *integration, const char *name);

/*
 * True if name is a path segment the gateway port already routes
 * (capabilities, connections, providers, mappings, proxy, health, users,
 * data, fetch, jobs, webhooks, webhook, _sandbox): no integration may be
 * called so.
 */
bool sb_integrations_reserved(const char *name);

/*
 * JSON descriptions for GET /capabilities and /capabilities/{name}: the
 * list of integrations, and one integration with its capabilities (name,
 * kind, description, method, input fields with types and limits).  The
 * caller frees them with cJSON_Delete(); NULL when out of memory.
 */
cJSON *sb_integrations_describe(const struct sb_integrations *list);
cJSON *sb_integration_describe(const struct sb_integration *integration);

/*
 * What running a capability answers: status with body (the normalised
 * answer on success) or an error: code, message, and a detail member
 * (detail_name: "fields" for bad input, "upstream" for the provider's
 * error body) or none; retry_after is a Retry-After value to send, or "".
 */
struct sb_integration_result {
	int status;
	const char *code; /* NULL on success */
	char message[SB_INTEGRATION_ERROR_MAX];
	cJSON *body; /* success: the answer; error: the detail, or NULL */
	const char *detail_name;
	char retry_after[32];
};

/* Frees what res holds and zeroes it; safe on a zeroed res. */
void sb_integration_result_clear(struct sb_integration_result *res);

/*
 * Checks the caller's input against cap's fields.  given is an object:
 * from a query string (from_query: every value a string, converted here to
 * the field's type: integers in decimal, booleans "true" or "false") or a
 * JSON body (typed already).  Every field is checked, and every bad one
 * (unknown, missing, of the wrong type, out of bounds, too long, holding a
 * control byte, not matching its pattern) is named.  On SB_OK *out is a
 * new object of the typed values given (the caller frees it with
 * cJSON_Delete()); otherwise *out is NULL and the result is
 * SB_ERR_INVALID with res filled (400 "invalid_input", the message naming
 * each bad field, the detail "fields" an array of {"field", "message"})
 * or SB_ERR_NOMEM.
 */
enum sb_err sb_capability_input(const struct sb_capability *cap,
    const cJSON *given, bool from_query, cJSON **out,
    struct sb_integration_result *res);

/*
 * Renders the path template tmpl with input's values (percent-encoded,
 * every byte but A-Z a-z 0-9 - . _ ~) into out.  SB_ERR_INVALID if a
 * placeholder names no value of input or the template is malformed;
 * SB_ERR_TOO_LARGE if out (outsize bytes) is too small.
 */
enum sb_err sb_capability_render_path(
    const char *tmpl, const cJSON *input, char *out, size_t outsize);

/*
 * The query parameters of step for input: an object of strings (each
 * "{field}" replaced by the value given; a parameter whose field was not
 * given is left out).  The caller frees it with cJSON_Delete(); NULL when
 * out of memory.
 */
cJSON *sb_capability_render_query(
    const struct sb_step *step, const cJSON *input);

/*
 * What upstream status means for step: its own rule, else the engine's
 * defaults (2xx go on; 400 invalid_request; 401 and 403
 * upstream_unauthorized; 404 not_found; 409 conflict; 429 rate_limited;
 * any other upstream_error, 502).
 */
struct sb_outcome sb_step_outcome(const struct sb_step *step, long upstream);

/*
 * Reads an upstream error answer into res: status and code from outcome,
 * the message naming the provider's status and reason (the first of the
 * integration's reason paths that is a string), the detail "upstream" the
 * integration's error mapping of the body, and Retry-After copied for a
 * 429.  A body that is not JSON gives 502 "upstream_malformed" instead.
 */
void sb_capability_error(const struct sb_integration *integration,
    struct sb_outcome outcome, const struct sb_http_response *resp,
    struct sb_integration_result *res);

struct sb_ctx;
struct sb_connection;

/*
 * Runs cap of integration for conn with checked input (from
 * sb_capability_input()): each step through sb_call_perform() within
 * ctx->deadline, its status read through sb_step_outcome(), then the
 * answer normalised; a paged read follows next links as the paging says.
 * Nothing is sent for a step after an error.  Always fills res (status
 * 200 with body on success); the caller clears it with
 * sb_integration_result_clear().  arena holds the call's strings.
 */
void sb_capability_run(struct sb_ctx *ctx, struct sb_connection *conn,
    const struct sb_integration *integration, const struct sb_capability *cap,
    const cJSON *input, struct sb_arena *arena,
    struct sb_integration_result *res);

#endif
