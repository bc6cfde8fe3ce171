/*
 * Loading and checking etc/integrations.json (see
 * include/sb/integrations/integrations.h).  Everything is checked at
 * start, so that a responder never meets a capability it cannot run: a
 * bad file stops the start with a message naming the integration, the
 * capability and the key.  The structures point into the parsed document,
 * which the list keeps until sb_integrations_free().
 */
#include <ctype.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sb/connect/mapping.h"
#include "sb/integrations/integrations.h"

struct sb_integrations {
	cJSON *doc;
	struct sb_integration items[SB_INTEGRATIONS_MAX];
	size_t count;
};

/*
 * Path segments the gateway port routes already (nginx/nginx.conf.in and
 * the routes the issues reserve): an integration of that name would
 * shadow them.  scripts/stack checks the rendered locations again.
 */
static const char *const reserved[] = { "capabilities", "connections",
	"providers", "mappings", "proxy", "health", "users", "data", "fetch",
	"jobs", "webhooks", "webhook", "_sandbox", NULL };

static const char *const methods[] = { "GET", "POST", "PUT", "PATCH", "DELETE",
	NULL };

/* Where a message is about: "integration x, capability y: ". */
struct where {
	const char *integration;
	const char *capability;
	char *err;
	size_t errsize;
};

static enum sb_err fail(const struct where *w, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Writes the message, prefixed with where it is, and returns CONFIG. */
static enum sb_err
fail(const struct where *w, const char *fmt, ...)
{
	char msg[SB_INTEGRATION_ERROR_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (w->capability != NULL)
		snprintf(w->err, w->errsize,
		    "integration '%s', capability '%s': %s", w->integration,
		    w->capability, msg);
	else if (w->integration != NULL)
		snprintf(w->err, w->errsize, "integration '%s': %s",
		    w->integration, msg);
	else
		snprintf(w->err, w->errsize, "%s", msg);
	return SB_ERR_CONFIG;
}

bool
sb_integrations_reserved(const char *name)
{
	for (size_t i = 0; reserved[i] != NULL; i++)
		if (strcmp(reserved[i], name) == 0)
			return true;
	return false;
}

/* True if s is [a-z][a-z0-9_-]* of at most max bytes. */
static bool
plain_name(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n == 0 || n > max || !islower((unsigned char)s[0]))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!islower((unsigned char)s[i]) &&
		    !isdigit((unsigned char)s[i]) && s[i] != '_' && s[i] != '-')
			return false;
	return true;
}

/* The first key of obj not in allowed (NULL-terminated), or NULL. */
static const char *
unknown_key(const cJSON *obj, const char *const *allowed)
{
	const cJSON *m;

	cJSON_ArrayForEach(m, obj)
	{
		size_t i;

		for (i = 0; allowed[i] != NULL; i++)
			if (strcmp(allowed[i], m->string) == 0)
				break;
		if (allowed[i] == NULL)
			return m->string;
	}
	return NULL;
}

/* Checks obj is an object of only the allowed keys. */
static enum sb_err
check_keys(const struct where *w, const cJSON *obj, const char *what,
    const char *const *allowed)
{
	const char *bad;

	if (!cJSON_IsObject(obj))
		return fail(w, "%s must be an object", what);
	if ((bad = unknown_key(obj, allowed)) != NULL)
		return fail(w, "%s: unknown key '%s'", what, bad);
	return SB_OK;
}

/*
 * The string member key of obj into *out: NULL if absent and not
 * required; a message if present and not a non-empty string.
 */
static enum sb_err
get_string(const struct where *w, const cJSON *obj, const char *key,
    bool required, const char **out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	*out = NULL;
	if (v == NULL && !required)
		return SB_OK;
	if (!cJSON_IsString(v) || v->valuestring[0] == '\0')
		return fail(w, "'%s' must be a non-empty string", key);
	*out = v->valuestring;
	return SB_OK;
}

/* An integer member in [lo, hi] into *out; *has false when absent. */
static enum sb_err
get_int(const struct where *w, const cJSON *obj, const char *key, int64_t lo,
    int64_t hi, int64_t *out, bool *has)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	double d;

	*has = v != NULL;
	if (v == NULL)
		return SB_OK;
	d = cJSON_IsNumber(v) ? v->valuedouble : 0.5;
	if (d != (double)(int64_t)d || d < (double)lo || d > (double)hi)
		return fail(w, "'%s' must be an integer from %lld to %lld", key,
		    (long long)lo, (long long)hi);
	*out = (int64_t)d;
	return SB_OK;
}

static const char *const type_names[SB_INPUT__MAX] = {
	[SB_INPUT_STRING] = "string",
	[SB_INPUT_INTEGER] = "integer",
	[SB_INPUT_BOOLEAN] = "boolean",
};

/* Integer bounds of an integer field, and only of one. */
static enum sb_err
load_bounds(const struct where *w, const cJSON *spec, struct sb_input_field *f)
{
	enum sb_err rc;
	bool has;

	if ((rc = get_int(w, spec, "min", INT32_MIN, INT32_MAX, &f->min,
	         &f->has_min)) != SB_OK ||
	    (rc = get_int(w, spec, "max", INT32_MIN, INT32_MAX, &f->max,
	         &f->has_max)) != SB_OK ||
	    (rc = get_int(w, spec, "max_length", 1, SB_INTEGRATION_STRING_MAX,
	         &f->max_length, &has)) != SB_OK)
		return rc;
	if (!has)
		f->max_length = SB_INTEGRATION_STRING_MAX;
	if ((f->has_min || f->has_max) && f->type != SB_INPUT_INTEGER)
		return fail(
		    w, "input '%s': min and max are for integers", f->name);
	if ((has || f->pattern != NULL) && f->type != SB_INPUT_STRING)
		return fail(w,
		    "input '%s': max_length and pattern are for strings",
		    f->name);
	if (f->has_min && f->has_max && f->min > f->max)
		return fail(w, "input '%s': min is above max", f->name);
	return SB_OK;
}

/* One input field: {"type", "required", "min", "max", ...}. */
static enum sb_err
load_input(const struct where *w, const cJSON *spec, struct sb_input_field *f)
{
	static const char *const keys[] = { "type", "required", "min", "max",
		"max_length", "pattern", "description", NULL };
	const cJSON *req;
	const char *type;
	enum sb_err rc;
	regex_t *re;

	f->name = spec->string;
	if (!plain_name(f->name, SB_INTEGRATION_NAME_MAX))
		return fail(
		    w, "input '%s': a name is [a-z][a-z0-9_-]*", f->name);
	if ((rc = check_keys(w, spec, f->name, keys)) != SB_OK ||
	    (rc = get_string(w, spec, "type", true, &type)) != SB_OK ||
	    (rc = get_string(w, spec, "description", false, &f->description)) !=
	        SB_OK ||
	    (rc = get_string(w, spec, "pattern", false, &f->pattern)) != SB_OK)
		return rc;
	for (f->type = 0; f->type < SB_INPUT__MAX; f->type++)
		if (strcmp(type_names[f->type], type) == 0)
			break;
	if (f->type == SB_INPUT__MAX)
		return fail(w,
		    "input '%s': type must be string, integer or boolean",
		    f->name);
	req = cJSON_GetObjectItemCaseSensitive(spec, "required");
	if (req != NULL && !cJSON_IsBool(req))
		return fail(
		    w, "input '%s': required must be true or false", f->name);
	f->required = cJSON_IsTrue(req);
	if ((rc = load_bounds(w, spec, f)) != SB_OK)
		return rc;
	if (f->pattern == NULL)
		return SB_OK;
	if ((re = calloc(1, sizeof(*re))) == NULL)
		return SB_ERR_NOMEM;
	if (regcomp(re, f->pattern, REG_EXTENDED | REG_NOSUB) != 0) {
		free(re);
		return fail(
		    w, "input '%s': the pattern does not compile", f->name);
	}
	f->compiled = re;
	return SB_OK;
}

static enum sb_err
load_inputs(const struct where *w, const cJSON *obj, struct sb_capability *cap)
{
	const cJSON *spec;
	enum sb_err rc;

	if (obj == NULL)
		return SB_OK;
	if (!cJSON_IsObject(obj))
		return fail(w, "'input' must be an object");
	cJSON_ArrayForEach(spec, obj)
	{
		if (cap->input_count == SB_INTEGRATION_INPUTS_MAX)
			return fail(w, "more than %d input fields",
			    SB_INTEGRATION_INPUTS_MAX);
		if ((rc = load_input(
		         w, spec, &cap->inputs[cap->input_count++])) != SB_OK)
			return rc;
	}
	return SB_OK;
}

static const struct sb_input_field *
input_find(const struct sb_capability *cap, const char *name, size_t len)
{
	for (size_t i = 0; i < cap->input_count; i++)
		if (strlen(cap->inputs[i].name) == len &&
		    strncmp(cap->inputs[i].name, name, len) == 0)
			return &cap->inputs[i];
	return NULL;
}

/*
 * A value template: "{field}" naming an input field, or a literal with
 * no braces.  *field is the input named, or NULL for a literal.
 */
static enum sb_err
check_value(const struct where *w, const struct sb_capability *cap,
    const char *what, const cJSON *v, const struct sb_input_field **field)
{
	const char *s;
	size_t n;

	*field = NULL;
	if (!cJSON_IsString(v))
		return fail(w, "%s must be a string", what);
	s = v->valuestring;
	n = strlen(s);
	if (n >= 2 && s[0] == '{' && s[n - 1] == '}' &&
	    (*field = input_find(cap, s + 1, n - 2)) != NULL)
		return SB_OK;
	if (strpbrk(s, "{}") != NULL)
		return fail(w, "%s: '%s' names no input field", what, s);
	return SB_OK;
}

/*
 * A path template: '/' then segments of unreserved bytes, each '{field}'
 * naming a required input; no query, no "." or ".." segment.
 */
static enum sb_err
check_path(
    const struct where *w, const struct sb_capability *cap, const char *path)
{
	const struct sb_input_field *f;
	const char *p = path, *end;

	if (path[0] != '/' || strlen(path) > SB_INTEGRATION_PATH_MAX / 2)
		return fail(w, "path '%s' must start with '/'", path);
	while (*p == '/') {
		p++;
		end = p + strcspn(p, "/");
		if (end == p || (end - p == 1 && p[0] == '.') ||
		    (end - p == 2 && p[0] == '.' && p[1] == '.'))
			return fail(
			    w, "path '%s' has an empty or dot segment", path);
		if (*p == '{') {
			f = input_find(cap, p + 1, (size_t)(end - p - 2));
			if (end[-1] != '}' || f == NULL || !f->required)
				return fail(w,
				    "path '%s': a placeholder must be a whole "
				    "segment naming a required input",
				    path);
		} else {
			for (const char *c = p; c < end; c++)
				if (!isalnum((unsigned char)*c) &&
				    strchr("-._~", *c) == NULL)
					return fail(w,
					    "path '%s': byte '%c' is not "
					    "allowed",
					    path, *c);
		}
		p = end;
	}
	return *p == '\0' ? SB_OK : fail(w, "path '%s' is malformed", path);
}

/* The engine's outcomes a status rule may name. */
static const struct {
	const char *name;
	struct sb_outcome outcome;
} outcome_names[] = {
	{ "ok", { SB_OUTCOME_OK, 0, NULL } },
	{ "done", { SB_OUTCOME_DONE, 0, NULL } },
	{ "invalid_request", { SB_OUTCOME_ERROR, 400, "invalid_request" } },
	{ "not_found", { SB_OUTCOME_ERROR, 404, "not_found" } },
	{ "conflict", { SB_OUTCOME_ERROR, 409, "conflict" } },
	{ "rate_limited", { SB_OUTCOME_ERROR, 429, "rate_limited" } },
	{ "upstream_unauthorized",
	    { SB_OUTCOME_ERROR, 502, "upstream_unauthorized" } },
	{ "upstream_error", { SB_OUTCOME_ERROR, 502, "upstream_error" } },
};

#define OUTCOME_NAME_COUNT (sizeof(outcome_names) / sizeof(outcome_names[0]))

/* "statuses": {"404": "not_found", ...}. */
static enum sb_err
load_rules(const struct where *w, const cJSON *obj, struct sb_step *step)
{
	const cJSON *r;
	char *end;
	long code;
	size_t i;

	if (obj == NULL)
		return SB_OK;
	if (!cJSON_IsObject(obj))
		return fail(w, "'statuses' must be an object");
	cJSON_ArrayForEach(r, obj)
	{
		code = strtol(r->string, &end, 10);
		if (*end != '\0' || code < 100 || code > 599)
			return fail(
			    w, "statuses: '%s' is not a status", r->string);
		for (i = 0; i < OUTCOME_NAME_COUNT; i++)
			if (cJSON_IsString(r) &&
			    strcmp(outcome_names[i].name, r->valuestring) == 0)
				break;
		if (i == OUTCOME_NAME_COUNT)
			return fail(w,
			    "statuses: '%s' must be ok, done or an error code "
			    "of docs/integrations.md",
			    r->string);
		if (step->rule_count == SB_INTEGRATION_STATUSES_MAX)
			return fail(w, "more than %d status rules",
			    SB_INTEGRATION_STATUSES_MAX);
		step->rules[step->rule_count++] =
		    (struct sb_status_rule){ (int)code,
			    outcome_names[i].outcome };
	}
	return SB_OK;
}

static enum sb_err
load_step(const struct where *w, const cJSON *spec, struct sb_capability *cap,
    struct sb_step *step)
{
	static const char *const keys[] = { "method", "path", "query",
		"statuses", NULL };
	const struct sb_input_field *f;
	const cJSON *q;
	enum sb_err rc;
	size_t i, n = 0;

	if ((rc = check_keys(w, spec, "a step", keys)) != SB_OK ||
	    (rc = get_string(w, spec, "method", true, &step->method)) !=
	        SB_OK ||
	    (rc = get_string(w, spec, "path", true, &step->path)) != SB_OK ||
	    (rc = check_path(w, cap, step->path)) != SB_OK)
		return rc;
	for (i = 0; methods[i] != NULL; i++)
		if (strcmp(methods[i], step->method) == 0)
			break;
	if (methods[i] == NULL)
		return fail(w,
		    "method '%s' is not one of GET POST PUT PATCH "
		    "DELETE",
		    step->method);
	step->query = cJSON_GetObjectItemCaseSensitive(spec, "query");
	if (step->query != NULL && !cJSON_IsObject(step->query))
		return fail(w, "'query' must be an object");
	cJSON_ArrayForEach(q, step->query)
	{
		if (++n > SB_INTEGRATION_QUERY_MAX)
			return fail(w, "more than %d query parameters",
			    SB_INTEGRATION_QUERY_MAX);
		if ((rc = check_value(w, cap, "a query value", q, &f)) != SB_OK)
			return rc;
	}
	return load_rules(
	    w, cJSON_GetObjectItemCaseSensitive(spec, "statuses"), step);
}

static enum sb_err
load_steps(const struct where *w, const cJSON *arr, struct sb_capability *cap)
{
	const cJSON *s;
	enum sb_err rc;

	if (!cJSON_IsArray(arr) || cJSON_GetArraySize(arr) < 1 ||
	    cJSON_GetArraySize(arr) > SB_INTEGRATION_STEPS_MAX)
		return fail(w, "'steps' must be an array of 1 to %d steps",
		    SB_INTEGRATION_STEPS_MAX);
	cJSON_ArrayForEach(s, arr)
	{
		if ((rc = load_step(
		         w, s, cap, &cap->steps[cap->step_count++])) != SB_OK)
			return rc;
	}
	return SB_OK;
}

/* "answer": {"mapping", "root", "list", "set"}. */
static enum sb_err
load_answer(const struct where *w, const cJSON *spec, struct sb_capability *cap)
{
	static const char *const keys[] = { "mapping", "root", "list", "set",
		NULL };
	char merr[SB_MAPPING_ERROR_MAX];
	const struct sb_input_field *f;
	const cJSON *v;
	enum sb_err rc;

	if ((rc = check_keys(w, spec, "'answer'", keys)) != SB_OK ||
	    (rc = get_string(w, spec, "root", false, &cap->root)) != SB_OK ||
	    (rc = get_string(w, spec, "list", false, &cap->list)) != SB_OK)
		return rc;
	cap->mapping = cJSON_GetObjectItemCaseSensitive(spec, "mapping");
	cap->set = cJSON_GetObjectItemCaseSensitive(spec, "set");
	if (cap->mapping == NULL && cap->set == NULL)
		return fail(w, "'answer' needs a mapping or set");
	if (cap->mapping != NULL &&
	    sb_mapping_check(cap->mapping, cap->root, merr, sizeof(merr)) !=
	        SB_OK)
		return fail(w, "answer mapping: %s", merr);
	if (cap->list != NULL && cap->mapping == NULL)
		return fail(w, "'list' needs a mapping");
	if (cap->set != NULL && !cJSON_IsObject(cap->set))
		return fail(w, "'set' must be an object");
	cJSON_ArrayForEach(v, cap->set)
	{
		if ((rc = check_value(w, cap, "a set value", v, &f)) != SB_OK)
			return rc;
	}
	return SB_OK;
}

/* A boolean input called name, or NULL. */
static const struct sb_input_field *
input_of_type(
    const struct sb_capability *cap, const char *name, enum sb_input_type type)
{
	const struct sb_input_field *f;

	f = name != NULL ? input_find(cap, name, strlen(name)) : NULL;
	return f != NULL && f->type == type ? f : NULL;
}

/* "paging": {"rel", "param", "input", "all"}: reads of one step only. */
static enum sb_err
load_paging(const struct where *w, const cJSON *spec, struct sb_capability *cap)
{
	static const char *const keys[] = { "rel", "param", "input", "all",
		NULL };
	struct sb_paging *p = &cap->paging;
	enum sb_err rc;

	if (spec == NULL)
		return SB_OK;
	if ((rc = check_keys(w, spec, "'paging'", keys)) != SB_OK ||
	    (rc = get_string(w, spec, "rel", true, &p->rel)) != SB_OK ||
	    (rc = get_string(w, spec, "param", true, &p->param)) != SB_OK ||
	    (rc = get_string(w, spec, "input", true, &p->input)) != SB_OK ||
	    (rc = get_string(w, spec, "all", false, &p->all)) != SB_OK)
		return rc;
	if (cap->write || cap->step_count != 1 || cap->list == NULL)
		return fail(w, "paging is for reads of one step with a list");
	if (input_of_type(cap, p->input, SB_INPUT_STRING) == NULL)
		return fail(
		    w, "paging input '%s' is no string input", p->input);
	if (p->all != NULL &&
	    input_of_type(cap, p->all, SB_INPUT_BOOLEAN) == NULL)
		return fail(w, "paging all '%s' is no boolean input", p->all);
	p->on = true;
	return SB_OK;
}

static enum sb_err
load_capability(struct where *w, const cJSON *spec, struct sb_capability *cap)
{
	static const char *const keys[] = { "name", "kind", "description",
		"input", "steps", "answer", "paging", NULL };
	const char *kind;
	enum sb_err rc;

	if ((rc = check_keys(w, spec, "a capability", keys)) != SB_OK ||
	    (rc = get_string(w, spec, "name", true, &cap->name)) != SB_OK)
		return rc;
	w->capability = cap->name;
	if (!plain_name(cap->name, SB_INTEGRATION_NAME_MAX))
		return fail(w, "a name is [a-z][a-z0-9_-]*, at most %d bytes",
		    SB_INTEGRATION_NAME_MAX);
	if ((rc = get_string(w, spec, "kind", true, &kind)) != SB_OK ||
	    (rc = get_string(
	         w, spec, "description", true, &cap->description)) != SB_OK)
		return rc;
	if (strcmp(kind, "read") != 0 && strcmp(kind, "write") != 0)
		return fail(w, "kind must be read or write");
	cap->write = strcmp(kind, "write") == 0;
	if ((rc = load_inputs(
	         w, cJSON_GetObjectItemCaseSensitive(spec, "input"), cap)) !=
	        SB_OK ||
	    (rc = load_steps(w, cJSON_GetObjectItemCaseSensitive(spec, "steps"),
	         cap)) != SB_OK ||
	    (rc = load_answer(
	         w, cJSON_GetObjectItemCaseSensitive(spec, "answer"), cap)) !=
	        SB_OK)
		return rc;
	return load_paging(
	    w, cJSON_GetObjectItemCaseSensitive(spec, "paging"), cap);
}

/* "errors": {"mapping", "reason": [paths]}. */
static enum sb_err
load_errors(const struct where *w, const cJSON *spec, struct sb_integration *in)
{
	static const char *const keys[] = { "mapping", "reason", NULL };
	char merr[SB_MAPPING_ERROR_MAX];
	struct sb_mapping_path path;
	const cJSON *r, *reasons;
	enum sb_err rc;

	if (spec == NULL)
		return SB_OK;
	if ((rc = check_keys(w, spec, "'errors'", keys)) != SB_OK)
		return rc;
	in->error_mapping = cJSON_GetObjectItemCaseSensitive(spec, "mapping");
	if (in->error_mapping != NULL &&
	    sb_mapping_check(in->error_mapping, NULL, merr, sizeof(merr)) !=
	        SB_OK)
		return fail(w, "errors mapping: %s", merr);
	reasons = cJSON_GetObjectItemCaseSensitive(spec, "reason");
	if (reasons != NULL && !cJSON_IsArray(reasons))
		return fail(w, "errors reason must be an array of paths");
	cJSON_ArrayForEach(r, reasons)
	{
		if (!cJSON_IsString(r) ||
		    in->reason_count == SB_INTEGRATION_REASONS_MAX ||
		    sb_mapping_path_parse(r->valuestring,
		        strlen(r->valuestring), &path, NULL) != SB_OK)
			return fail(w, "errors reason: at most %d source paths",
			    SB_INTEGRATION_REASONS_MAX);
		in->reasons[in->reason_count++] = r->valuestring;
	}
	return SB_OK;
}

static enum sb_err
load_capabilities(struct where *w, const cJSON *arr, struct sb_integration *in)
{
	const cJSON *c;
	enum sb_err rc;
	int n = cJSON_GetArraySize(arr);

	if (!cJSON_IsArray(arr) || n < 1 || n > SB_INTEGRATION_CAPABILITIES_MAX)
		return fail(w, "'capabilities' must be an array of 1 to %d",
		    SB_INTEGRATION_CAPABILITIES_MAX);
	if ((in->capabilities = calloc((size_t)n, sizeof(*in->capabilities))) ==
	    NULL)
		return SB_ERR_NOMEM;
	cJSON_ArrayForEach(c, arr)
	{
		struct sb_capability *cap =
		    &in->capabilities[in->capability_count++];

		if ((rc = load_capability(w, c, cap)) != SB_OK)
			return rc;
		for (size_t i = 0; i + 1 < in->capability_count; i++)
			if (strcmp(in->capabilities[i].name, cap->name) == 0)
				return fail(w, "defined twice");
	}
	w->capability = NULL;
	return SB_OK;
}

static enum sb_err
load_integration(const struct sb_integrations *list, struct where *w,
    const cJSON *spec, const struct sb_providers *providers,
    struct sb_integration *in)
{
	static const char *const keys[] = { "name", "title", "provider",
		"errors", "capabilities", NULL };
	const char *provider;
	enum sb_err rc;

	if ((rc = check_keys(w, spec, "an integration", keys)) != SB_OK ||
	    (rc = get_string(w, spec, "name", true, &in->name)) != SB_OK)
		return rc;
	w->integration = in->name;
	if (!plain_name(in->name, SB_INTEGRATION_NAME_MAX))
		return fail(w, "a name is [a-z][a-z0-9_-]*, at most %d bytes",
		    SB_INTEGRATION_NAME_MAX);
	if (sb_integrations_reserved(in->name))
		return fail(w, "the name would shadow the gateway's route /%s/",
		    in->name);
	if (sb_integrations_find(list, in->name) != NULL)
		return fail(w, "defined twice");
	if ((rc = get_string(w, spec, "title", true, &in->title)) != SB_OK ||
	    (rc = get_string(w, spec, "provider", true, &provider)) != SB_OK)
		return rc;
	if ((in->provider = sb_providers_find(providers, provider)) == NULL)
		return fail(
		    w, "provider '%s' is not in the providers file", provider);
	if ((rc = load_errors(
	         w, cJSON_GetObjectItemCaseSensitive(spec, "errors"), in)) !=
	    SB_OK)
		return rc;
	return load_capabilities(
	    w, cJSON_GetObjectItemCaseSensitive(spec, "capabilities"), in);
}

enum sb_err
sb_integrations_parse(const char *text, size_t len, const char *what,
    const struct sb_providers *providers, struct sb_integrations **out,
    char *err, size_t errsize)
{
	struct where w = { NULL, NULL, err, errsize };
	struct sb_integrations *list;
	static const char *const keys[] = { "integrations", NULL };
	const cJSON *arr, *spec;
	enum sb_err rc;

	*out = NULL;
	if ((list = calloc(1, sizeof(*list))) == NULL)
		return SB_ERR_NOMEM;
	if ((list->doc = cJSON_ParseWithLength(text, len)) == NULL) {
		rc = fail(&w, "%s: not JSON", what);
		goto out;
	}
	if ((rc = check_keys(&w, list->doc, what, keys)) != SB_OK)
		goto out;
	arr = cJSON_GetObjectItemCaseSensitive(list->doc, "integrations");
	if (!cJSON_IsArray(arr) ||
	    cJSON_GetArraySize(arr) > SB_INTEGRATIONS_MAX) {
		rc = fail(&w,
		    "%s: 'integrations' must be an array of at most %d", what,
		    SB_INTEGRATIONS_MAX);
		goto out;
	}
	cJSON_ArrayForEach(spec, arr)
	{
		w.integration = w.capability = NULL;
		rc = load_integration(
		    list, &w, spec, providers, &list->items[list->count]);
		list->count++;
		if (rc != SB_OK)
			goto out;
	}
	*out = list;
	return SB_OK;
out:
	sb_integrations_free(list);
	return rc;
}

enum sb_err
sb_integrations_load(const char *path, const struct sb_providers *providers,
    struct sb_integrations **out, char *err, size_t errsize)
{
	char *text = NULL;
	FILE *f = NULL;
	size_t len = 0;
	enum sb_err rc = SB_ERR_CONFIG;

	*out = NULL;
	if ((f = fopen(path, "rb")) == NULL) {
		snprintf(err, errsize, "%s: cannot be opened", path);
		goto out;
	}
	if ((text = malloc(SB_INTEGRATIONS_FILE_MAX + 1)) == NULL) {
		rc = SB_ERR_NOMEM;
		goto out;
	}
	len = fread(text, 1, SB_INTEGRATIONS_FILE_MAX + 1, f);
	if (ferror(f) || len > SB_INTEGRATIONS_FILE_MAX) {
		snprintf(err, errsize, "%s: unreadable or over %d bytes", path,
		    SB_INTEGRATIONS_FILE_MAX);
		goto out;
	}
	rc = sb_integrations_parse(
	    text, len, path, providers, out, err, errsize);
out:
	free(text);
	if (f != NULL)
		fclose(f);
	return rc;
}

void
sb_integrations_free(struct sb_integrations *list)
{
	if (list == NULL)
		return;
	for (size_t i = 0; i < list->count; i++) {
		struct sb_integration *in = &list->items[i];

		for (size_t c = 0; c < in->capability_count; c++)
			for (size_t f = 0; f < in->capabilities[c].input_count;
			     f++) {
				regex_t *re =
				    in->capabilities[c].inputs[f].compiled;

				if (re != NULL)
					regfree(re);
				free(re);
			}
		free(in->capabilities);
	}
	cJSON_Delete(list->doc);
	free(list);
}

size_t
sb_integrations_count(const struct sb_integrations *list)
{
	return list != NULL ? list->count : 0;
}

const struct sb_integration *
sb_integrations_at(const struct sb_integrations *list, size_t i)
{
	return list != NULL && i < list->count ? &list->items[i] : NULL;
}

const struct sb_integration *
sb_integrations_find(const struct sb_integrations *list, const char *name)
{
	for (size_t i = 0; list != NULL && name != NULL && i < list->count; i++)
		if (list->items[i].name != NULL &&
		    strcmp(list->items[i].name, name) == 0)
			return &list->items[i];
	return NULL;
}

const struct sb_capability *
sb_integration_capability(
    const struct sb_integration *integration, const char *name)
{
	for (size_t i = 0; integration != NULL && name != NULL &&
	     i < integration->capability_count;
	     i++)
		if (integration->capabilities[i].name != NULL &&
		    strcmp(integration->capabilities[i].name, name) == 0)
			return &integration->capabilities[i];
	return NULL;
}
