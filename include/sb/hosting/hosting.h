/*
 * The hosting panel (brief 001): projects, their owners and deployments.
 *
 * lib/hosting/hosting.c holds the rules that need no database: the deployment
 * state machine as a transition table, page numbers and the Link header of
 * the API document, the weekly statistics, the random project URL and the
 * JSON shapes.  lib/hosting/hosting_store.c holds every SQL statement of the
 * module in one table and the operations that change state; each change writes
 * its outbox event (lib/hosting/events.c) in the same transaction.
 *
 * Strings in the structs below are fixed buffers filled from the database;
 * nothing in them needs freeing.
 */
#ifndef SB_HOSTING_H
#define SB_HOSTING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cJSON.h>

#include "sb/store/db.h"
#include "sb/store/secrets.h"
#include "sb/core/err.h"

#define SB_HOSTING_PAGE_SIZE 8 /* projects and deployments per page */
#define SB_HOSTING_PAGE_MAX 1000000 /* highest ?page= accepted */
#define SB_HOSTING_NAME_MAX 128 /* project and user names, bytes */
#define SB_HOSTING_EMAIL_MAX 256
#define SB_HOSTING_URL_MAX 512
#define SB_HOSTING_SECRET_MAX 256
#define SB_HOSTING_TIME_MAX 32 /* ISO-8601 with milliseconds */
#define SB_HOSTING_LINK_MAX 2048 /* a Link header value */
#define SB_HOSTING_EVENTS_MAX 2 /* outbox events one change writes */
#define SB_HOSTING_SEED_FILE_MAX (4 << 20) /* bytes of a seed file */

/* Deployment statuses; the order is the order a deployment moves in. */
enum sb_deploy_status {
	SB_DEPLOY_PENDING,
	SB_DEPLOY_BUILDING,
	SB_DEPLOY_DEPLOYING,
	SB_DEPLOY_DONE,
	SB_DEPLOY_FAILED,
	SB_DEPLOY_CANCELLED,
	SB_DEPLOY__MAX
};

/* What a requested status change does (sb_hosting_transition). */
enum sb_transition {
	SB_TRANSITION_APPLY, /* the status changes */
	SB_TRANSITION_SAME, /* already in that status: a no-op */
	SB_TRANSITION_FORBIDDEN, /* backwards, or out of a final status */
	SB_TRANSITION__MAX
};

struct sb_user {
	int64_t id;
	char username[SB_HOSTING_NAME_MAX];
	char email[SB_HOSTING_EMAIL_MAX];
};

struct sb_project {
	int64_t id;
	char name[SB_HOSTING_NAME_MAX];
	char url[SB_HOSTING_URL_MAX]; /* "" while none is assigned */
	char created_at[SB_HOSTING_TIME_MAX];
	struct sb_user owner;
	bool has_ongoing; /* a deployment is pending, building or deploying */
	bool has_live; /* a deployment is done */
};

struct sb_deployment {
	int64_t id;
	int64_t project_id;
	enum sb_deploy_status status;
	int64_t deployed_in; /* seconds; -1 while not done */
	char created_at[SB_HOSTING_TIME_MAX];
	char updated_at[SB_HOSTING_TIME_MAX];
};

/* Averages over the weeks from a user's first deployment to now. */
struct sb_hosting_stats {
	int64_t deployments; /* all of the user's deployments */
	int64_t successful; /* those that are done */
	double weeks; /* length of the window, at least 1 if any */
	double weekly_deployments;
	double weekly_successful;
};

/* Outbox jobs a change wrote, to be attempted after the response. */
struct sb_hosting_outbox {
	int64_t job_ids[SB_HOSTING_EVENTS_MAX];
	size_t count;
};

/* The status's name ("pending"), or NULL for a value out of range. */
const char *sb_hosting_status_name(enum sb_deploy_status status);

/* Parses a status name; false if name is none of the six. */
bool sb_hosting_status_parse(const char *name, enum sb_deploy_status *out);

/* True for pending, building and deploying. */
bool sb_hosting_status_ongoing(enum sb_deploy_status status);

/* What moving from one status to another does, from one static table. */
enum sb_transition sb_hosting_transition(
    enum sb_deploy_status from, enum sb_deploy_status to);

/*
 * Parses the ?page= value: NULL means page 1; otherwise a decimal integer
 * in [1, SB_HOSTING_PAGE_MAX].  False on anything else.
 */
bool sb_hosting_page_parse(const char *text, int64_t *page);

/* The last page number for total items at per_page a page; 1 if empty. */
int64_t sb_hosting_page_last(int64_t total, int64_t per_page);

/*
 * Writes the Link header value of the API document into out (size bytes):
 * first, next (not on the last page), last and previous (not on page 1),
 * each "</path?[query&]page=N>; rel=...": a relative reference (RFC 8288
 * section 3.1; the client resolves it against the URL it asked), so that
 * nothing the caller sends, its Host header above all, goes into the
 * header.  query holds extra parameters already encoded ("projectId=3"),
 * or NULL.  Returns SB_ERR_TOO_LARGE if the value does not fit,
 * SB_ERR_INVALID for a page below 1.
 */
enum sb_err sb_hosting_link(char *out, size_t size, const char *path,
    const char *query, int64_t page, int64_t last);

/*
 * Fills out from counts and times (unix milliseconds): weeks is the time
 * from first_ms to now_ms in weeks, at least 1 when there is any
 * deployment; the averages are rounded to two decimals.  With no
 * deployment everything is zero.
 */
void sb_hosting_stats_compute(int64_t deployments, int64_t successful,
    int64_t first_ms, int64_t now_ms, struct sb_hosting_stats *out);

/*
 * Writes "https://<name>-<8 random hex>.<domain>" into out, with name
 * reduced to lowercase letters, digits and '-'.  SB_ERR_TOO_LARGE if it
 * does not fit.
 */
enum sb_err sb_hosting_url_new(
    const char *name, const char *domain, char *out, size_t size);

/* Current time in unix milliseconds. */
int64_t sb_hosting_now_ms(void);

/*
 * The API document's shapes.  Each returns a new object the caller frees
 * with cJSON_Delete(), or NULL when memory ran out.  Fields that are null
 * (a project's url, deployedIn before done) are left out, as the schemas
 * declare them optional and not nullable.
 */
cJSON *sb_hosting_project_json(const struct sb_project *project);
cJSON *sb_hosting_deployment_json(const struct sb_deployment *deployment);
cJSON *sb_hosting_stats_json(int64_t user_id, const struct sb_hosting_stats *s);

/*
 * Store (lib/hosting/hosting_store.c).  Unless said otherwise each returns
 * SB_OK, SB_ERR_NOT_FOUND when the row named does not exist, or SB_ERR_DB /
 * SB_ERR_BUSY.
 */

/* One project with its owner and flags, in one query. */
enum sb_err sb_hosting_project_get(
    struct sb_db *db, int64_t id, struct sb_project *out);

/*
 * Page page (from 1) of the projects by id: up to SB_HOSTING_PAGE_SIZE
 * rows into out, their number into *count and the number of projects
 * into *total.
 */
enum sb_err sb_hosting_project_page(struct sb_db *db, int64_t page,
    struct sb_project out[SB_HOSTING_PAGE_SIZE], size_t *count, int64_t *total);

/* One deployment. */
enum sb_err sb_hosting_deployment_get(
    struct sb_db *db, int64_t id, struct sb_deployment *out);

/*
 * Page page of the deployments, newest first, of project project_id (or of
 * all projects when project_id is 0); as sb_hosting_project_page().
 */
enum sb_err sb_hosting_deployment_page(struct sb_db *db, int64_t project_id,
    int64_t page, struct sb_deployment out[SB_HOSTING_PAGE_SIZE], size_t *count,
    int64_t *total);

/*
 * Creates a pending deployment of project_id and its "deployment.created"
 * event in one transaction.  On SB_OK *out is the new row and outbox names
 * the job to attempt after the response.  max_attempts is the event job's.
 */
enum sb_err sb_hosting_deployment_create(struct sb_db *db, int64_t project_id,
    int max_attempts, struct sb_deployment *out,
    struct sb_hosting_outbox *outbox);

/*
 * Cancels deployment id if it is ongoing, with its "deployment.cancelled"
 * event, in one transaction.  SB_ERR_CONFLICT (nothing changed) if it is
 * done, failed or cancelled already.  On SB_OK *out is the updated row.
 */
enum sb_err sb_hosting_deployment_cancel(struct sb_db *db, int64_t id,
    int max_attempts, struct sb_deployment *out,
    struct sb_hosting_outbox *outbox);

/* How the webhook's change is to be made. */
struct sb_hosting_webhook {
	int64_t id; /* the deployment */
	enum sb_deploy_status status; /* the status asked for */
	const char *secret; /* the bearer token presented */
	const char *url_domain; /* for a first live URL */
	int max_attempts; /* of the event jobs */
};

/*
 * Applies the webhook's status change in one transaction: reads the
 * deployment with its project's app-secret digest, compares the keyed
 * digest of hook->secret with it in constant time (the same work when the
 * deployment does not exist), checks the transition, updates, fills deployedIn
 * and the project's first URL on done, and writes the events.  Returns
 * SB_ERR_UNAUTHORIZED when the deployment does not exist or the secret is
 * not its project's, SB_ERR_CONFLICT for a forbidden transition (nothing
 * changes in either case), SB_OK otherwise with *out the row (unchanged
 * when the status was already the one asked for).
 */
enum sb_err sb_hosting_webhook_apply(struct sb_db *db,
    const struct sb_secrets *secrets, const struct sb_hosting_webhook *hook,
    struct sb_deployment *out, struct sb_hosting_outbox *outbox);

/* True if user id exists; SB_ERR_NOT_FOUND otherwise. */
enum sb_err sb_hosting_user_exists(struct sb_db *db, int64_t id);

/* The statistics of user id (see struct sb_hosting_stats) at now_ms. */
enum sb_err sb_hosting_user_stats(
    struct sb_db *db, int64_t id, int64_t now_ms, struct sb_hosting_stats *out);

/*
 * Reads dir/name (at most SB_HOSTING_SEED_FILE_MAX bytes) and parses it as
 * a JSON array.  On SB_OK *out is set and the caller frees it with
 * cJSON_Delete(); otherwise *out is NULL and the result is SB_ERR_IO
 * (unreadable), SB_ERR_TOO_LARGE or SB_ERR_INVALID (not a JSON array).
 */
enum sb_err sb_hosting_seed_file(
    const char *dir, const char *name, cJSON **out);

/*
 * Loads dir/users.json and dir/projects.json (the brief's seed files) in
 * one transaction, inserting rows by id and updating those that exist (a
 * project's assigned url is kept).  App secrets are stored as keyed
 * digests made with secrets, never as given.  On SB_OK *users and *projects
 * hold the numbers of rows read.  SB_ERR_IO if a file cannot be read,
 * SB_ERR_INVALID if one is not an array of well-formed rows; nothing is
 * written then.
 */
enum sb_err sb_hosting_seed(struct sb_db *db, const struct sb_secrets *secrets,
    const char *dir, int *users, int *projects);

#endif
