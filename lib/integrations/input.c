/*
 * A capability's input and its requests (see
 * include/sb/integrations/integrations.h): the caller's fields checked
 * against the table of the data file, every bad one named; path
 * templates and query parameters rendered from the checked values; and
 * the descriptions GET /capabilities answers.
 */
#include <ctype.h>
#include <inttypes.h>
#include <regex.h>
#include <stdio.h>
#include <string.h>

#include "integrations_internal.h"
#include "sb/integrations/integrations.h"

#define INPUT_NUMBER_MAX 32 /* bytes of an integer or boolean as text */

static const char *const type_names[SB_INPUT__MAX] = {
	[SB_INPUT_STRING] = "string",
	[SB_INPUT_INTEGER] = "integer",
	[SB_INPUT_BOOLEAN] = "boolean",
};

void
sb_integration_result_clear(struct sb_integration_result *res)
{
	if (res == NULL)
		return;
	cJSON_Delete(res->body);
	memset(res, 0, sizeof(*res));
}

/* Adds {"field", "message"} to bad and the message to res's text. */
static bool
input_bad(cJSON *bad, struct sb_integration_result *res, const char *field,
    const char *message)
{
	cJSON *o = cJSON_CreateObject();
	size_t used = strlen(res->message);

	if (o == NULL || !cJSON_AddItemToArray(bad, o)) {
		cJSON_Delete(o);
		return false;
	}
	snprintf(res->message + used, sizeof(res->message) - used, "%s%s: %s",
	    used > 0 ? "; " : "", field, message);
	return cJSON_AddStringToObject(o, "field", field) != NULL &&
	    cJSON_AddStringToObject(o, "message", message) != NULL;
}

/* True if the string has a control byte (below 0x20, or DEL). */
static bool
has_control(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	return false;
}

/*
 * Checks a string value against f; NULL if it is good, else why not
 * (written into why).
 */
static const char *
check_string(
    const struct sb_input_field *f, const char *s, char *why, size_t whysize)
{
	if ((int64_t)strlen(s) > f->max_length)
		snprintf(why, whysize, "must be at most %" PRId64 " bytes",
		    f->max_length);
	else if (has_control(s))
		snprintf(why, whysize, "must hold no control characters");
	else if (s[0] == '\0')
		snprintf(why, whysize, "must not be empty");
	else if (f->compiled != NULL &&
	    regexec(f->compiled, s, 0, NULL, 0) != 0)
		snprintf(why, whysize, "must match %s", f->pattern);
	else
		return NULL;
	return why;
}

/* An integer's bounds as text, for messages. */
static void
bounds_text(const struct sb_input_field *f, char *out, size_t outsize)
{
	if (f->has_min && f->has_max)
		snprintf(out, outsize,
		    "an integer from %" PRId64 " to %" PRId64, f->min, f->max);
	else if (f->has_min)
		snprintf(
		    out, outsize, "an integer of at least %" PRId64, f->min);
	else if (f->has_max)
		snprintf(
		    out, outsize, "an integer of at most %" PRId64, f->max);
	else
		snprintf(out, outsize, "an integer");
}

/*
 * Converts and checks one given value v for f.  On success returns the
 * typed value (new); otherwise NULL with why set (or empty when out of
 * memory).
 */
static cJSON *
check_value(const struct sb_input_field *f, const cJSON *v, bool from_query,
    char *why, size_t whysize)
{
	char bounds[96];
	int64_t n;

	why[0] = '\0';
	switch (f->type) {
	case SB_INPUT_STRING:
		if (!cJSON_IsString(v)) {
			snprintf(why, whysize, "must be a string");
			return NULL;
		}
		if (check_string(f, v->valuestring, why, whysize) != NULL)
			return NULL;
		return cJSON_CreateString(v->valuestring);
	case SB_INPUT_INTEGER:
		bounds_text(f, bounds, sizeof(bounds));
		if (from_query && cJSON_IsString(v) &&
		    sb_request_parse_int(v->valuestring,
		        f->has_min ? f->min : INT32_MIN,
		        f->has_max ? f->max : INT32_MAX, &n))
			return cJSON_CreateNumber((double)n);
		if (!from_query && sb_request_json_int(v, &n) &&
		    (!f->has_min || n >= f->min) &&
		    (!f->has_max || n <= f->max))
			return cJSON_CreateNumber((double)n);
		snprintf(why, whysize, "must be %s", bounds);
		return NULL;
	case SB_INPUT_BOOLEAN:
		if (!from_query && cJSON_IsBool(v))
			return cJSON_CreateBool(cJSON_IsTrue(v));
		if (from_query && cJSON_IsString(v) &&
		    (strcmp(v->valuestring, "true") == 0 ||
		        strcmp(v->valuestring, "false") == 0))
			return cJSON_CreateBool(
			    strcmp(v->valuestring, "true") == 0);
		snprintf(why, whysize, "must be true or false");
		return NULL;
	default:
		snprintf(why, whysize, "has an unknown type");
		return NULL;
	}
}

static const struct sb_input_field *
field_find(const struct sb_capability *cap, const char *name)
{
	for (size_t i = 0; i < cap->input_count; i++)
		if (strcmp(cap->inputs[i].name, name) == 0)
			return &cap->inputs[i];
	return NULL;
}

/* Checks the given fields one by one into typed; bad collects faults. */
static bool
input_given(const struct sb_capability *cap, const cJSON *given,
    bool from_query, cJSON *typed, cJSON *bad,
    struct sb_integration_result *res)
{
	char why[SB_INTEGRATION_ERROR_MAX / 4];
	const struct sb_input_field *f;
	const cJSON *v;
	cJSON *value;

	cJSON_ArrayForEach(v, given)
	{
		if ((f = field_find(cap, v->string)) == NULL) {
			if (!input_bad(bad, res, v->string,
			        "is not a field of "
			        "this capability"))
				return false;
			continue;
		}
		if (cJSON_GetObjectItemCaseSensitive(typed, f->name) != NULL) {
			if (!input_bad(bad, res, f->name, "is given twice"))
				return false;
			continue;
		}
		if (!from_query && cJSON_IsNull(v))
			continue;
		value = check_value(f, v, from_query, why, sizeof(why));
		if (value == NULL && why[0] == '\0')
			return false;
		if (value == NULL) {
			if (!input_bad(bad, res, f->name, why))
				return false;
			continue;
		}
		cJSON_AddItemToObject(typed, f->name, value);
	}
	return true;
}

/* True if given holds name with a value other than null. */
static bool
input_present(const cJSON *given, const char *name)
{
	const cJSON *v = cJSON_IsObject(given)
	    ? cJSON_GetObjectItemCaseSensitive(given, name)
	    : NULL;

	return v != NULL && !cJSON_IsNull(v);
}

enum sb_err
sb_capability_input(const struct sb_capability *cap, const cJSON *given,
    bool from_query, cJSON **out, struct sb_integration_result *res)
{
	cJSON *typed = cJSON_CreateObject(), *bad = cJSON_CreateArray();
	bool not_object = given != NULL && !cJSON_IsObject(given);
	enum sb_err rc = SB_ERR_NOMEM;

	*out = NULL;
	sb_integration_result_clear(res);
	if (typed == NULL || bad == NULL)
		goto out;
	if (not_object) {
		if (!input_bad(bad, res, "(body)", "must be a JSON object"))
			goto out;
	} else if (!input_given(cap, given, from_query, typed, bad, res)) {
		goto out;
	}
	for (size_t i = 0; !not_object && i < cap->input_count; i++)
		if (cap->inputs[i].required &&
		    !input_present(given, cap->inputs[i].name) &&
		    !input_bad(bad, res, cap->inputs[i].name, "is required"))
			goto out;
	if (cJSON_GetArraySize(bad) == 0) {
		*out = typed;
		typed = NULL;
		rc = SB_OK;
		goto out;
	}
	res->status = 400;
	res->code = "invalid_input";
	res->detail_name = "fields";
	res->body = bad;
	bad = NULL;
	rc = SB_ERR_INVALID;
out:
	cJSON_Delete(typed);
	cJSON_Delete(bad);
	return rc;
}

/*
 * The text of an input value: a string as it is, an integer in decimal,
 * a boolean as true or false; NULL for anything else.  num is the buffer
 * for numbers.
 */
static const char *
value_text(const cJSON *v, char *num, size_t numsize)
{
	if (cJSON_IsString(v))
		return v->valuestring;
	if (cJSON_IsBool(v))
		return cJSON_IsTrue(v) ? "true" : "false";
	if (cJSON_IsNumber(v)) {
		snprintf(num, numsize, "%" PRId64, (int64_t)v->valuedouble);
		return num;
	}
	return NULL;
}

/* Appends s percent-encoded to out at *used; false if it does not fit. */
static bool
append_encoded(char *out, size_t outsize, size_t *used, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		bool plain = isalnum(c) || strchr("-._~", c) != NULL;

		if (*used + (plain ? 1 : 3) >= outsize)
			return false;
		if (plain) {
			out[(*used)++] = (char)c;
			continue;
		}
		out[(*used)++] = '%';
		out[(*used)++] = hex[c >> 4];
		out[(*used)++] = hex[c & 15];
	}
	return true;
}

enum sb_err
sb_capability_render_path(
    const char *tmpl, const cJSON *input, char *out, size_t outsize)
{
	char name[SB_INTEGRATION_NAME_MAX + 1], num[INPUT_NUMBER_MAX];
	const char *p = tmpl, *close, *text;
	size_t used = 0;

	if (outsize == 0)
		return SB_ERR_TOO_LARGE;
	while (*p != '\0') {
		if (*p == '}')
			return SB_ERR_INVALID;
		if (*p != '{') {
			if (used + 1 >= outsize)
				return SB_ERR_TOO_LARGE;
			out[used++] = *p++;
			continue;
		}
		if ((close = strchr(p, '}')) == NULL ||
		    (size_t)(close - p - 1) > SB_INTEGRATION_NAME_MAX)
			return SB_ERR_INVALID;
		memcpy(name, p + 1, (size_t)(close - p - 1));
		name[close - p - 1] = '\0';
		text = value_text(cJSON_GetObjectItemCaseSensitive(input, name),
		    num, sizeof(num));
		if (text == NULL || text[0] == '\0')
			return SB_ERR_INVALID;
		if (!append_encoded(out, outsize, &used, text))
			return SB_ERR_TOO_LARGE;
		p = close + 1;
	}
	out[used] = '\0';
	return SB_OK;
}

/*
 * The value a template (a "{field}" or a literal) stands for in input:
 * the input's value (borrowed), or NULL when that field was not given;
 * for a literal, *literal is its text.
 */
static const cJSON *
template_value(const char *tmpl, const cJSON *input, const char **literal)
{
	char name[SB_INTEGRATION_NAME_MAX + 1];
	size_t n = strlen(tmpl);

	*literal = NULL;
	if (n < 2 || tmpl[0] != '{' || tmpl[n - 1] != '}' ||
	    n - 2 > SB_INTEGRATION_NAME_MAX) {
		*literal = tmpl;
		return NULL;
	}
	memcpy(name, tmpl + 1, n - 2);
	name[n - 2] = '\0';
	return cJSON_GetObjectItemCaseSensitive(input, name);
}

cJSON *
sb_capability_render_query(const struct sb_step *step, const cJSON *input)
{
	char num[INPUT_NUMBER_MAX];
	cJSON *q = cJSON_CreateObject();
	const cJSON *t, *v;
	const char *text;

	cJSON_ArrayForEach(t, step->query)
	{
		if (q == NULL)
			break;
		v = template_value(t->valuestring, input, &text);
		if (v != NULL)
			text = value_text(v, num, sizeof(num));
		if (text != NULL &&
		    cJSON_AddStringToObject(q, t->string, text) == NULL) {
			cJSON_Delete(q);
			q = NULL;
		}
	}
	return q;
}

bool
sb_capability_set_fields(
    const struct sb_capability *cap, const cJSON *input, cJSON *out)
{
	const cJSON *t, *v;
	const char *text;
	cJSON *copy;

	cJSON_ArrayForEach(t, cap->set)
	{
		v = template_value(t->valuestring, input, &text);
		if (v == NULL && text == NULL)
			continue;
		copy = v != NULL ? cJSON_Duplicate(v, true)
		                 : cJSON_CreateString(text);
		cJSON_DeleteItemFromObjectCaseSensitive(out, t->string);
		if (copy == NULL ||
		    !cJSON_AddItemToObject(out, t->string, copy)) {
			cJSON_Delete(copy);
			return false;
		}
	}
	return true;
}

/* One input field's description: type, required and limits. */
static cJSON *
describe_field(const struct sb_input_field *f)
{
	cJSON *o = cJSON_CreateObject();
	bool ok = o != NULL &&
	    cJSON_AddStringToObject(o, "name", f->name) != NULL &&
	    cJSON_AddStringToObject(o, "type", type_names[f->type]) != NULL &&
	    cJSON_AddBoolToObject(o, "required", f->required) != NULL;

	if (ok && f->description != NULL)
		ok = cJSON_AddStringToObject(
		         o, "description", f->description) != NULL;
	if (ok && f->has_min)
		ok = cJSON_AddNumberToObject(o, "min", (double)f->min) != NULL;
	if (ok && f->has_max)
		ok = cJSON_AddNumberToObject(o, "max", (double)f->max) != NULL;
	if (ok && f->type == SB_INPUT_STRING)
		ok = cJSON_AddNumberToObject(
		         o, "max_length", (double)f->max_length) != NULL;
	if (ok && f->pattern != NULL)
		ok = cJSON_AddStringToObject(o, "pattern", f->pattern) != NULL;
	if (!ok) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

static cJSON *
describe_capability(const struct sb_capability *cap)
{
	cJSON *o = cJSON_CreateObject(), *inputs, *f;

	if (o == NULL ||
	    cJSON_AddStringToObject(o, "name", cap->name) == NULL ||
	    cJSON_AddStringToObject(o, "kind", cap->write ? "write" : "read") ==
	        NULL ||
	    cJSON_AddStringToObject(o, "method", cap->write ? "POST" : "GET") ==
	        NULL ||
	    cJSON_AddStringToObject(o, "description", cap->description) ==
	        NULL ||
	    (inputs = cJSON_AddArrayToObject(o, "input")) == NULL)
		goto fail;
	for (size_t i = 0; i < cap->input_count; i++)
		if ((f = describe_field(&cap->inputs[i])) == NULL ||
		    !cJSON_AddItemToArray(inputs, f)) {
			cJSON_Delete(f);
			goto fail;
		}
	if (cap->paging.on && cap->paging.all != NULL &&
	    cJSON_AddNumberToObject(
	        o, "pages_max", SB_INTEGRATIONS_PAGES_MAX) == NULL)
		goto fail;
	return o;
fail:
	cJSON_Delete(o);
	return NULL;
}

cJSON *
sb_integration_describe(const struct sb_integration *in)
{
	cJSON *o = cJSON_CreateObject(), *caps, *c;

	if (o == NULL || cJSON_AddStringToObject(o, "name", in->name) == NULL ||
	    cJSON_AddStringToObject(o, "title", in->title) == NULL ||
	    cJSON_AddStringToObject(o, "provider", in->provider->name) ==
	        NULL ||
	    (caps = cJSON_AddArrayToObject(o, "capabilities")) == NULL)
		goto fail;
	for (size_t i = 0; i < in->capability_count; i++)
		if ((c = describe_capability(&in->capabilities[i])) == NULL ||
		    !cJSON_AddItemToArray(caps, c)) {
			cJSON_Delete(c);
			goto fail;
		}
	return o;
fail:
	cJSON_Delete(o);
	return NULL;
}

cJSON *
sb_integrations_describe(const struct sb_integrations *list)
{
	cJSON *o = cJSON_CreateObject(), *arr, *item, *names;
	const struct sb_integration *in;

	if (o == NULL ||
	    (arr = cJSON_AddArrayToObject(o, "integrations")) == NULL)
		goto fail;
	for (size_t i = 0; (in = sb_integrations_at(list, i)) != NULL; i++) {
		if ((item = cJSON_CreateObject()) == NULL ||
		    !cJSON_AddItemToArray(arr, item) ||
		    cJSON_AddStringToObject(item, "name", in->name) == NULL ||
		    cJSON_AddStringToObject(item, "title", in->title) == NULL ||
		    cJSON_AddStringToObject(
		        item, "provider", in->provider->name) == NULL ||
		    (names = cJSON_AddArrayToObject(item, "capabilities")) ==
		        NULL)
			goto fail;
		for (size_t c = 0; c < in->capability_count; c++)
			if (!cJSON_AddItemToArray(names,
			        cJSON_CreateString(in->capabilities[c].name)))
				goto fail;
	}
	return o;
fail:
	cJSON_Delete(o);
	return NULL;
}
