/*
 * The hosting panel's rules that need no database (see
 * include/sb/hosting/hosting.h): statuses and their transition table, pages and
 * Link headers, weekly statistics, random project URLs and the JSON
 * shapes of the API document.  Kept apart from the store so that the unit
 * tests can walk every table row without a database.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "sb/hosting/hosting.h"
#include "sb/core/log.h"
#include "sb/core/request.h"

#define HOSTING_WEEK_MS (7LL * 24 * 3600 * 1000)
#define HOSTING_URL_RANDOM_BYTES 4 /* 8 hex characters */

/* x >= 0 rounded to two decimals (without libm). */
#define HOSTING_ROUND2(x) ((double)(int64_t)((x)*100.0 + 0.5) / 100.0)

static const char *const status_names[SB_DEPLOY__MAX] = {
	[SB_DEPLOY_PENDING] = "pending",
	[SB_DEPLOY_BUILDING] = "building",
	[SB_DEPLOY_DEPLOYING] = "deploying",
	[SB_DEPLOY_DONE] = "done",
	[SB_DEPLOY_FAILED] = "failed",
	[SB_DEPLOY_CANCELLED] = "cancelled",
};

#define A SB_TRANSITION_APPLY
#define S SB_TRANSITION_SAME
#define F SB_TRANSITION_FORBIDDEN

/*
 * transitions[from][to].  A deployment moves forward only (steps may be
 * skipped: a build can fail or finish from any earlier stage), can be
 * cancelled from any state that is not final, and never leaves done,
 * failed or cancelled.  Asking for the current status is a no-op.
 */
static const enum sb_transition transitions[SB_DEPLOY__MAX][SB_DEPLOY__MAX] = {
	/*                      pend bld dep done fail canc */
	[SB_DEPLOY_PENDING] = { S, A, A, A, A, A },
	[SB_DEPLOY_BUILDING] = { F, S, A, A, A, A },
	[SB_DEPLOY_DEPLOYING] = { F, F, S, A, A, A },
	[SB_DEPLOY_DONE] = { F, F, F, S, F, F },
	[SB_DEPLOY_FAILED] = { F, F, F, F, S, F },
	[SB_DEPLOY_CANCELLED] = { F, F, F, F, F, S },
};

#undef A
#undef S
#undef F

/* The status's name, or NULL for a value out of range. */
const char *
sb_hosting_status_name(enum sb_deploy_status status)
{
	if ((unsigned)status >= SB_DEPLOY__MAX)
		return NULL;
	return status_names[status];
}

/* Sets *out to the status named name; false if it is none of the six. */
bool
sb_hosting_status_parse(const char *name, enum sb_deploy_status *out)
{
	for (int i = 0; name != NULL && i < SB_DEPLOY__MAX; i++) {
		if (strcmp(name, status_names[i]) == 0) {
			*out = (enum sb_deploy_status)i;
			return true;
		}
	}
	return false;
}

/* True for pending, building and deploying: the hasOngoingDeployment set. */
bool
sb_hosting_status_ongoing(enum sb_deploy_status status)
{
	return status == SB_DEPLOY_PENDING || status == SB_DEPLOY_BUILDING ||
	    status == SB_DEPLOY_DEPLOYING;
}

/* Looks the move up in transitions[]; out-of-range values are forbidden. */
enum sb_transition
sb_hosting_transition(enum sb_deploy_status from, enum sb_deploy_status to)
{
	if ((unsigned)from >= SB_DEPLOY__MAX || (unsigned)to >= SB_DEPLOY__MAX)
		return SB_TRANSITION_FORBIDDEN;
	return transitions[from][to];
}

/*
 * *page = the ?page= value (1 when absent); false unless
 * 1..SB_HOSTING_PAGE_MAX.
 */
bool
sb_hosting_page_parse(const char *text, int64_t *page)
{
	if (text == NULL) {
		*page = 1;
		return true;
	}
	return sb_request_parse_int(text, 1, SB_HOSTING_PAGE_MAX, page);
}

/* The last page for total items, per_page a page; 1 for an empty list. */
int64_t
sb_hosting_page_last(int64_t total, int64_t per_page)
{
	if (total <= 0 || per_page <= 0)
		return 1;
	return (total + per_page - 1) / per_page;
}

/* Appends one "<url?page=N>; rel=\"rel\"" item; false if out is full. */
static bool
link_item(char *out, size_t size, size_t *off, const char *base,
    const char *sep, int64_t page, const char *rel)
{
	int n;

	n = snprintf(out + *off, size - *off, "%s<%s%spage=%lld>; rel=\"%s\"",
	    *off > 0 ? ", " : "", base, sep, (long long)page, rel);
	if (n < 0 || (size_t)n >= size - *off)
		return false;
	*off += (size_t)n;
	return true;
}

/*
 * Writes the Link value into out; SB_ERR_TOO_LARGE if it does not fit,
 * SB_ERR_INVALID for a page or last below 1.
 */
enum sb_err
sb_hosting_link(char *out, size_t size, const char *path, const char *query,
    int64_t page, int64_t last)
{
	char base[SB_HOSTING_LINK_MAX];
	const char *sep = "?";
	size_t off = 0;
	int n;

	if (out == NULL || size == 0 || page < 1 || last < 1)
		return SB_ERR_INVALID;
	out[0] = '\0';
	n = snprintf(base, sizeof(base), "%s%s%s", path,
	    query != NULL ? "?" : "", query != NULL ? query : "");
	if (n < 0 || (size_t)n >= sizeof(base))
		return SB_ERR_TOO_LARGE;
	if (query != NULL)
		sep = "&";
	if (!link_item(out, size, &off, base, sep, 1, "first") ||
	    (page < last &&
	        !link_item(out, size, &off, base, sep, page + 1, "next")) ||
	    !link_item(out, size, &off, base, sep, last, "last") ||
	    (page > 1 &&
	        !link_item(out, size, &off, base, sep, page - 1, "previous")))
		return SB_ERR_TOO_LARGE;
	return SB_OK;
}

/*
 * Fills out (caller storage) from the counts and the window; zeros when
 * there is no deployment.
 */
void
sb_hosting_stats_compute(int64_t deployments, int64_t successful,
    int64_t first_ms, int64_t now_ms, struct sb_hosting_stats *out)
{
	double weeks;

	memset(out, 0, sizeof(*out));
	if (deployments <= 0)
		return;
	weeks = (double)(now_ms - first_ms) / (double)HOSTING_WEEK_MS;
	if (weeks < 1.0)
		weeks = 1.0;
	out->deployments = deployments;
	out->successful = successful;
	out->weeks = HOSTING_ROUND2(weeks);
	out->weekly_deployments = HOSTING_ROUND2((double)deployments / weeks);
	out->weekly_successful = HOSTING_ROUND2((double)successful / weeks);
}

/*
 * Writes a new random project URL into out; SB_ERR_TOO_LARGE if it does not
 * fit.
 */
enum sb_err
sb_hosting_url_new(const char *name, const char *domain, char *out, size_t size)
{
	unsigned char random[HOSTING_URL_RANDOM_BYTES];
	char hex[HOSTING_URL_RANDOM_BYTES * 2 + 1], label[SB_HOSTING_NAME_MAX];
	size_t i, n = 0;
	int w;

	for (i = 0; name[i] != '\0' && n < sizeof(label) - 1; i++) {
		char c = name[i];

		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')))
			c = '-';
		label[n++] = c;
	}
	label[n] = '\0';
	randombytes_buf(random, sizeof(random));
	sodium_bin2hex(hex, sizeof(hex), random, sizeof(random));
	w = snprintf(out, size, "https://%s%s%s.%s", label, n > 0 ? "-" : "",
	    hex, domain);
	if (w < 0 || (size_t)w >= size)
		return SB_ERR_TOO_LARGE;
	return SB_OK;
}

/* The wall clock in unix milliseconds. */
int64_t
sb_hosting_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The owner object of a project; false when memory ran out. */
static bool
hosting_owner_json(cJSON *project, const struct sb_user *owner)
{
	cJSON *o;

	if ((o = cJSON_AddObjectToObject(project, "owner")) == NULL)
		return false;
	return cJSON_AddNumberToObject(o, "id", (double)owner->id) != NULL &&
	    cJSON_AddStringToObject(o, "username", owner->username) != NULL &&
	    cJSON_AddStringToObject(o, "email", owner->email) != NULL;
}

/*
 * A new Project object the caller frees with cJSON_Delete(); NULL when
 * memory ran out.
 */
cJSON *
sb_hosting_project_json(const struct sb_project *p)
{
	cJSON *o;

	if ((o = cJSON_CreateObject()) == NULL)
		return NULL;
	if (cJSON_AddNumberToObject(o, "id", (double)p->id) == NULL ||
	    cJSON_AddStringToObject(o, "name", p->name) == NULL ||
	    (p->url[0] != '\0' &&
	        cJSON_AddStringToObject(o, "url", p->url) == NULL) ||
	    cJSON_AddStringToObject(o, "createdAt", p->created_at) == NULL ||
	    !hosting_owner_json(o, &p->owner) ||
	    cJSON_AddBoolToObject(o, "hasOngoingDeployment", p->has_ongoing) ==
	        NULL ||
	    cJSON_AddBoolToObject(o, "hasPendingDeployment", p->has_ongoing) ==
	        NULL ||
	    cJSON_AddBoolToObject(o, "hasLiveDeployment", p->has_live) ==
	        NULL) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

/*
 * A new Deployment object the caller frees with cJSON_Delete(); NULL when
 * memory ran out.
 */
cJSON *
sb_hosting_deployment_json(const struct sb_deployment *d)
{
	const char *status = sb_hosting_status_name(d->status);
	cJSON *o;

	if (status == NULL || (o = cJSON_CreateObject()) == NULL)
		return NULL;
	if (cJSON_AddNumberToObject(o, "id", (double)d->id) == NULL ||
	    cJSON_AddNumberToObject(o, "projectId", (double)d->project_id) ==
	        NULL ||
	    cJSON_AddStringToObject(o, "status", status) == NULL ||
	    (d->deployed_in >= 0 &&
	        cJSON_AddNumberToObject(
	            o, "deployedIn", (double)d->deployed_in) == NULL) ||
	    cJSON_AddStringToObject(o, "createdAt", d->created_at) == NULL ||
	    cJSON_AddStringToObject(o, "updatedAt", d->updated_at) == NULL) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

/*
 * A new statistics object the caller frees with cJSON_Delete(); NULL when
 * memory ran out.
 */
cJSON *
sb_hosting_stats_json(int64_t user_id, const struct sb_hosting_stats *s)
{
	cJSON *o;

	if ((o = cJSON_CreateObject()) == NULL)
		return NULL;
	if (cJSON_AddNumberToObject(o, "userId", (double)user_id) == NULL ||
	    cJSON_AddNumberToObject(o, "deployments", (double)s->deployments) ==
	        NULL ||
	    cJSON_AddNumberToObject(
	        o, "successfulDeployments", (double)s->successful) == NULL ||
	    cJSON_AddNumberToObject(o, "weeks", s->weeks) == NULL ||
	    cJSON_AddNumberToObject(
	        o, "averageWeeklyDeployments", s->weekly_deployments) == NULL ||
	    cJSON_AddNumberToObject(o, "averageWeeklySuccessfulDeployments",
	        s->weekly_successful) == NULL) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

/*
 * On SB_OK *out is the parsed array, freed by the caller with
 * cJSON_Delete(); otherwise *out is NULL and the reason is logged.
 */
enum sb_err
sb_hosting_seed_file(const char *dir, const char *name, cJSON **out)
{
	char path[1024], *text = NULL;
	enum sb_err rc = SB_ERR_IO;
	FILE *f = NULL;
	size_t n;

	*out = NULL;
	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >=
	        (int)sizeof(path) ||
	    (f = fopen(path, "rb")) == NULL ||
	    (text = malloc(SB_HOSTING_SEED_FILE_MAX + 1)) == NULL)
		goto out;
	n = fread(text, 1, SB_HOSTING_SEED_FILE_MAX + 1, f);
	rc = SB_ERR_TOO_LARGE;
	if (ferror(f) || n > SB_HOSTING_SEED_FILE_MAX)
		goto out;
	rc = SB_ERR_INVALID;
	if ((*out = cJSON_ParseWithLength(text, n)) == NULL ||
	    !cJSON_IsArray(*out))
		goto out;
	rc = SB_OK;
out:
	if (rc != SB_OK) {
		sb_log(SB_LOG_ERROR, "hosting", NULL, "seed %s: %s", name,
		    sb_strerror(rc));
		cJSON_Delete(*out);
		*out = NULL;
	}
	if (f != NULL)
		fclose(f);
	free(text);
	return rc;
}
