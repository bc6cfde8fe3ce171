/*
 * The hosting panel's store (see include/sb/hosting/hosting.h): every SQL
 * statement of the module in one table, reads that fill the structs of the
 * header, and the changes — create, cancel, webhook — each in one BEGIN
 * IMMEDIATE transaction together with the outbox events it reports, so an
 * event exists iff its change does.  The project flags come from EXISTS
 * sub-queries answered by the deployments (project_id, status) index, in
 * the same query as the project.
 */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "sb/hosting/events.h"
#include "sb/hosting/outbox.h"
#include "sb/hosting/hosting.h"
#include "sb/core/log.h"
#include "sb/store/secrets.h"

#define HOSTING_COMPONENT "hosting"

enum hosting_sql {
	SQL_PROJECT_GET,
	SQL_PROJECT_PAGE,
	SQL_PROJECT_COUNT,
	SQL_PROJECT_BRIEF,
	SQL_PROJECT_HAS_DONE,
	SQL_PROJECT_SET_URL,
	SQL_DEPLOY_GET,
	SQL_DEPLOY_PAGE,
	SQL_DEPLOY_PAGE_PROJECT,
	SQL_DEPLOY_COUNT,
	SQL_DEPLOY_COUNT_PROJECT,
	SQL_DEPLOY_INSERT,
	SQL_DEPLOY_CONTEXT,
	SQL_DEPLOY_UPDATE,
	SQL_USER_EXISTS,
	SQL_USER_STATS,
	SQL_SEED_USER,
	SQL_SEED_PROJECT,
	SQL__MAX
};

#define PROJECT_SELECT \
	"SELECT p.id, p.name, coalesce(p.url, ''), p.created_at," \
	" coalesce(u.id, p.user_id), coalesce(u.username, '')," \
	" coalesce(u.email, ''), EXISTS (SELECT 1 FROM deployments d" \
	" WHERE d.project_id = p.id AND d.status IN" \
	" ('pending', 'building', 'deploying')), EXISTS (SELECT 1" \
	" FROM deployments d WHERE d.project_id = p.id AND" \
	" d.status = 'done') FROM projects p" \
	" LEFT JOIN users u ON u.id = p.user_id"

#define DEPLOY_SELECT \
	"SELECT id, project_id, status, coalesce(deployed_in, -1)," \
	" created_at, updated_at FROM deployments"

static const char *const hosting_sql[SQL__MAX] = {
	[SQL_PROJECT_GET] = PROJECT_SELECT " WHERE p.id = ?1",
	[SQL_PROJECT_PAGE] = PROJECT_SELECT " ORDER BY p.id LIMIT ?1 OFFSET ?2",
	[SQL_PROJECT_COUNT] = "SELECT count(*) FROM projects",
	[SQL_PROJECT_BRIEF] = "SELECT name, user_id FROM projects"
	                      " WHERE id = ?1",
	[SQL_PROJECT_HAS_DONE] = "SELECT EXISTS (SELECT 1 FROM deployments"
	                         " WHERE project_id = ?1 AND status = 'done')",
	[SQL_PROJECT_SET_URL] = "UPDATE projects SET url = ?2 WHERE id = ?1",
	[SQL_DEPLOY_GET] = DEPLOY_SELECT " WHERE id = ?1",
	[SQL_DEPLOY_PAGE] =
	    DEPLOY_SELECT " ORDER BY id DESC LIMIT ?1 OFFSET ?2",
	[SQL_DEPLOY_PAGE_PROJECT] = DEPLOY_SELECT
	" WHERE project_id = ?3 ORDER BY id DESC LIMIT ?1 OFFSET ?2",
	[SQL_DEPLOY_COUNT] = "SELECT count(*) FROM deployments",
	[SQL_DEPLOY_COUNT_PROJECT] = "SELECT count(*) FROM deployments"
	                             " WHERE project_id = ?1",
	[SQL_DEPLOY_INSERT] = "INSERT INTO deployments (project_id, status,"
	                      " created_at, created_ms, updated_at)"
	                      " VALUES (?1, 'pending', ?2, ?3, ?2)",
	[SQL_DEPLOY_CONTEXT] =
	    "SELECT d.id, d.project_id, d.status, coalesce(d.deployed_in, -1),"
	    " d.created_at, d.updated_at, d.created_ms, p.name, p.user_id,"
	    " p.app_secret_digest FROM deployments d"
	    " JOIN projects p ON p.id = d.project_id WHERE d.id = ?1",
	[SQL_DEPLOY_UPDATE] = "UPDATE deployments SET status = ?2,"
	                      " deployed_in = ?3, updated_at = ?4"
	                      " WHERE id = ?1",
	[SQL_USER_EXISTS] = "SELECT id FROM users WHERE id = ?1",
	[SQL_USER_STATS] =
	    "SELECT count(*), coalesce(sum(d.status = 'done'), 0),"
	    " coalesce(min(d.created_ms), 0) FROM deployments d"
	    " JOIN projects p ON p.id = d.project_id WHERE p.user_id = ?1",
	[SQL_SEED_USER] = "INSERT INTO users (id, email, username, created_at)"
	                  " VALUES (?1, ?2, ?3, ?4) ON CONFLICT (id) DO UPDATE"
	                  " SET email = excluded.email,"
	                  " username = excluded.username,"
	                  " created_at = excluded.created_at",
	[SQL_SEED_PROJECT] =
	    "INSERT INTO projects (id, name, url, user_id, app_secret_digest,"
	    " created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
	    " ON CONFLICT (id) DO UPDATE SET name = excluded.name,"
	    " url = coalesce(projects.url, excluded.url),"
	    " user_id = excluded.user_id, app_secret_digest = "
	    "excluded.app_secret_digest,"
	    " created_at = excluded.created_at",
};

/* A deployment with what a change needs to know of its project. */
struct hosting_change {
	struct sb_deployment d;
	int64_t created_ms;
	char project_name[SB_HOSTING_NAME_MAX];
	int64_t owner_id;
	char secret[SB_HOSTING_SECRET_MAX];
};

/* The cached statement for which, or NULL (logged by sb_db_stmt). */
static sqlite3_stmt *
hosting_stmt(struct sb_db *db, enum hosting_sql which)
{
	return sb_db_stmt(db, hosting_sql[which]);
}

/* Copies text column i into buf (size bytes), cut if it is longer. */
static void
hosting_column(sqlite3_stmt *stmt, int i, char *buf, size_t size)
{
	const unsigned char *text = sqlite3_column_text(stmt, i);

	snprintf(buf, size, "%s", text != NULL ? (const char *)text : "");
}

/* Steps a statement yielding one integer into *value, and resets it. */
static enum sb_err
hosting_int(struct sb_db *db, sqlite3_stmt *stmt, int64_t *value)
{
	enum sb_err rc = SB_ERR_NOT_FOUND;
	int step = sqlite3_step(stmt);

	if (step == SQLITE_ROW) {
		*value = sqlite3_column_int64(stmt, 0);
		rc = SB_OK;
	} else if (step != SQLITE_DONE) {
		sb_log(SB_LOG_ERROR, HOSTING_COMPONENT, NULL, "read: %s",
		    sb_db_errmsg(db));
		rc = sb_db_rc(step);
	}
	sqlite3_reset(stmt);
	return rc;
}

static void
hosting_project_row(sqlite3_stmt *stmt, struct sb_project *p)
{
	p->id = sqlite3_column_int64(stmt, 0);
	hosting_column(stmt, 1, p->name, sizeof(p->name));
	hosting_column(stmt, 2, p->url, sizeof(p->url));
	hosting_column(stmt, 3, p->created_at, sizeof(p->created_at));
	p->owner.id = sqlite3_column_int64(stmt, 4);
	hosting_column(stmt, 5, p->owner.username, sizeof(p->owner.username));
	hosting_column(stmt, 6, p->owner.email, sizeof(p->owner.email));
	p->has_ongoing = sqlite3_column_int(stmt, 7) != 0;
	p->has_live = sqlite3_column_int(stmt, 8) != 0;
}

static void
hosting_deployment_row(sqlite3_stmt *stmt, struct sb_deployment *d)
{
	const unsigned char *status = sqlite3_column_text(stmt, 2);

	d->id = sqlite3_column_int64(stmt, 0);
	d->project_id = sqlite3_column_int64(stmt, 1);
	d->status = SB_DEPLOY_PENDING;
	sb_hosting_status_parse((const char *)status, &d->status);
	d->deployed_in = sqlite3_column_int64(stmt, 3);
	hosting_column(stmt, 4, d->created_at, sizeof(d->created_at));
	hosting_column(stmt, 5, d->updated_at, sizeof(d->updated_at));
}

/*
 * Runs the one-row query which with ?1 bound to id and calls row() on the
 * row into out; SB_ERR_NOT_FOUND if there is none.
 */
static enum sb_err
hosting_get(struct sb_db *db, enum hosting_sql which, int64_t id,
    void (*row)(sqlite3_stmt *, void *, size_t), void *out)
{
	sqlite3_stmt *stmt;
	enum sb_err rc = SB_ERR_DB;
	int step;

	if ((stmt = hosting_stmt(db, which)) == NULL ||
	    sqlite3_bind_int64(stmt, 1, id) != SQLITE_OK)
		goto out;
	step = sqlite3_step(stmt);
	if (step == SQLITE_ROW)
		row(stmt, out, 0);
	rc = step == SQLITE_ROW   ? SB_OK
	    : step == SQLITE_DONE ? SB_ERR_NOT_FOUND
	                          : sb_db_rc(step);
out:
	if (stmt != NULL)
		sqlite3_reset(stmt);
	return rc;
}

/*
 * Reads page page of a listing: *total from the count query count_sql,
 * then the rows of the page query page_sql (?1 limit, ?2 offset), each
 * passed to row() with its slot i of the caller's array, *count of them.
 * A filter > 0 is bound to the count query's ?1 and the page query's ?3.
 * SB_ERR_INVALID for a page out of range.
 */
static enum sb_err
hosting_page(struct sb_db *db, enum hosting_sql count_sql,
    enum hosting_sql page_sql, int64_t filter, int64_t page,
    void (*row)(sqlite3_stmt *, void *, size_t), void *array, size_t *count,
    int64_t *total)
{
	sqlite3_stmt *stmt;
	enum sb_err rc;
	int step = SQLITE_DONE;

	*count = 0;
	if (page < 1 || page > SB_HOSTING_PAGE_MAX)
		return SB_ERR_INVALID;
	if ((stmt = hosting_stmt(db, count_sql)) == NULL ||
	    (filter > 0 && sqlite3_bind_int64(stmt, 1, filter) != SQLITE_OK))
		return SB_ERR_DB;
	if ((rc = hosting_int(db, stmt, total)) != SB_OK)
		return rc;
	rc = SB_ERR_DB;
	if ((stmt = hosting_stmt(db, page_sql)) == NULL ||
	    (sqlite3_bind_int64(stmt, 1, SB_HOSTING_PAGE_SIZE) |
	        sqlite3_bind_int64(
	            stmt, 2, (page - 1) * SB_HOSTING_PAGE_SIZE)) != SQLITE_OK ||
	    (filter > 0 && sqlite3_bind_int64(stmt, 3, filter) != SQLITE_OK))
		goto out;
	while (*count < SB_HOSTING_PAGE_SIZE &&
	    (step = sqlite3_step(stmt)) == SQLITE_ROW)
		row(stmt, array, (*count)++);
	rc = sb_db_rc(step);
out:
	if (stmt != NULL)
		sqlite3_reset(stmt);
	return rc;
}

static void
hosting_project_slot(sqlite3_stmt *stmt, void *array, size_t i)
{
	hosting_project_row(stmt, &((struct sb_project *)array)[i]);
}

static void
hosting_deployment_slot(sqlite3_stmt *stmt, void *array, size_t i)
{
	hosting_deployment_row(stmt, &((struct sb_deployment *)array)[i]);
}

/*
 * Fills *out with project id, its owner and flags; SB_ERR_NOT_FOUND if
 * there is none.
 */
enum sb_err
sb_hosting_project_get(struct sb_db *db, int64_t id, struct sb_project *out)
{
	return hosting_get(db, SQL_PROJECT_GET, id, hosting_project_slot, out);
}

/*
 * Fills out[0..*count) with page page of the projects and *total;
 * SB_ERR_INVALID for a page out of range.
 */
enum sb_err
sb_hosting_project_page(struct sb_db *db, int64_t page,
    struct sb_project out[SB_HOSTING_PAGE_SIZE], size_t *count, int64_t *total)
{
	return hosting_page(db, SQL_PROJECT_COUNT, SQL_PROJECT_PAGE, 0, page,
	    hosting_project_slot, out, count, total);
}

/* Fills *out with deployment id; SB_ERR_NOT_FOUND if there is none. */
enum sb_err
sb_hosting_deployment_get(
    struct sb_db *db, int64_t id, struct sb_deployment *out)
{
	return hosting_get(
	    db, SQL_DEPLOY_GET, id, hosting_deployment_slot, out);
}

/*
 * Fills out[0..*count) with page page of the deployments (of project_id, or
 * all when 0), newest first, and *total.
 */
enum sb_err
sb_hosting_deployment_page(struct sb_db *db, int64_t project_id, int64_t page,
    struct sb_deployment out[SB_HOSTING_PAGE_SIZE], size_t *count,
    int64_t *total)
{
	return hosting_page(db,
	    project_id > 0 ? SQL_DEPLOY_COUNT_PROJECT : SQL_DEPLOY_COUNT,
	    project_id > 0 ? SQL_DEPLOY_PAGE_PROJECT : SQL_DEPLOY_PAGE,
	    project_id, page, hosting_deployment_slot, out, count, total);
}

/* The row of SQL_DEPLOY_CONTEXT into the struct hosting_change change. */
static void
hosting_change_slot(sqlite3_stmt *stmt, void *change, size_t i)
{
	struct hosting_change *c = change;

	(void)i;
	hosting_deployment_row(stmt, &c->d);
	c->created_ms = sqlite3_column_int64(stmt, 6);
	hosting_column(stmt, 7, c->project_name, sizeof(c->project_name));
	c->owner_id = sqlite3_column_int64(stmt, 8);
	hosting_column(stmt, 9, c->secret, sizeof(c->secret));
}

/* Loads deployment id with its project's name, owner and secret. */
static enum sb_err
hosting_change_load(struct sb_db *db, int64_t id, struct hosting_change *c)
{
	return hosting_get(db, SQL_DEPLOY_CONTEXT, id, hosting_change_slot, c);
}

/* Adds key = status's name, or null when status is out of range. */
static bool
hosting_add_status(cJSON *o, const char *key, int status)
{
	const char *name =
	    sb_hosting_status_name((enum sb_deploy_status)status);

	if (name == NULL)
		return cJSON_AddNullToObject(o, key) != NULL;
	return cJSON_AddStringToObject(o, key, name) != NULL;
}

/*
 * Writes event name about change c to the outbox; previous is the status
 * before the change (-1: none), url the project's new URL (NULL: none).
 */
static enum sb_err
hosting_event(struct sb_db *db, const char *name,
    const struct hosting_change *c, int previous, const char *url,
    int max_attempts, struct sb_hosting_outbox *outbox)
{
	enum sb_err rc = SB_ERR_NOMEM;
	cJSON *p;

	if (outbox->count == SB_HOSTING_EVENTS_MAX)
		return SB_ERR_TOO_LARGE;
	if ((p = cJSON_CreateObject()) == NULL)
		goto out;
	if (!cJSON_AddNumberToObject(p, "projectId", (double)c->d.project_id) ||
	    !cJSON_AddStringToObject(p, "projectName", c->project_name) ||
	    !cJSON_AddNumberToObject(p, "ownerId", (double)c->owner_id) ||
	    !cJSON_AddNumberToObject(p, "deploymentId", (double)c->d.id) ||
	    !hosting_add_status(p, "previousStatus", previous) ||
	    !hosting_add_status(p, "status", (int)c->d.status) ||
	    !(c->d.deployed_in >= 0 ? cJSON_AddNumberToObject(p, "deployedIn",
	                                  (double)c->d.deployed_in)
	                            : cJSON_AddNullToObject(p, "deployedIn")) ||
	    !cJSON_AddStringToObject(
	        p, "deploymentCreatedAt", c->d.created_at) ||
	    !cJSON_AddStringToObject(
	        p, "deploymentUpdatedAt", c->d.updated_at) ||
	    (url != NULL && !cJSON_AddStringToObject(p, "url", url)))
		goto out;
	rc = sb_outbox_add(
	    db, name, p, max_attempts, &outbox->job_ids[outbox->count]);
	if (rc == SB_OK)
		outbox->count++;
out:
	cJSON_Delete(p);
	return rc;
}

/* The row of SQL_PROJECT_BRIEF into the struct hosting_change change. */
static void
hosting_brief_slot(sqlite3_stmt *stmt, void *change, size_t i)
{
	struct hosting_change *c = change;

	(void)i;
	hosting_column(stmt, 0, c->project_name, sizeof(c->project_name));
	c->owner_id = sqlite3_column_int64(stmt, 1);
}

/* Fills c for a new pending deployment of project_id (project read). */
static enum sb_err
hosting_project_brief(
    struct sb_db *db, int64_t project_id, struct hosting_change *c)
{
	enum sb_err rc;

	rc = hosting_get(
	    db, SQL_PROJECT_BRIEF, project_id, hosting_brief_slot, c);
	if (rc == SB_OK) {
		c->d.project_id = project_id;
		c->d.status = SB_DEPLOY_PENDING;
		c->d.deployed_in = -1;
	}
	return rc;
}

/* Inserts the pending deployment described by c and sets its id. */
static enum sb_err
hosting_insert(struct sb_db *db, struct hosting_change *c)
{
	sqlite3_stmt *stmt;
	enum sb_err rc;

	sb_db_now_iso(c->d.created_at, sizeof(c->d.created_at));
	memcpy(c->d.updated_at, c->d.created_at, sizeof(c->d.updated_at));
	c->created_ms = sb_hosting_now_ms();
	if ((stmt = hosting_stmt(db, SQL_DEPLOY_INSERT)) == NULL ||
	    (sqlite3_bind_int64(stmt, 1, c->d.project_id) |
	        sqlite3_bind_text(stmt, 2, c->d.created_at, -1, SQLITE_STATIC) |
	        sqlite3_bind_int64(stmt, 3, c->created_ms)) != SQLITE_OK)
		return SB_ERR_DB;
	if ((rc = sb_db_step_write(db, stmt, NULL)) != SB_OK)
		return rc;
	c->d.id = sqlite3_last_insert_rowid(sb_db_handle(db));
	return SB_OK;
}

/*
 * Creates the deployment and its event in one transaction; on SB_OK *out
 * and outbox are set, otherwise nothing was written and outbox is empty.
 */
enum sb_err
sb_hosting_deployment_create(struct sb_db *db, int64_t project_id,
    int max_attempts, struct sb_deployment *out,
    struct sb_hosting_outbox *outbox)
{
	struct hosting_change c;
	enum sb_err rc;

	memset(&c, 0, sizeof(c));
	memset(outbox, 0, sizeof(*outbox));
	if ((rc = sb_db_begin(db)) != SB_OK)
		return rc;
	if ((rc = hosting_project_brief(db, project_id, &c)) != SB_OK ||
	    (rc = hosting_insert(db, &c)) != SB_OK)
		goto out;
	if ((rc = hosting_event(db, SB_EVENT_DEPLOYMENT_CREATED, &c, -1, NULL,
	         max_attempts, outbox)) != SB_OK)
		goto out;
	rc = sb_db_commit(db);
out:
	if (rc != SB_OK) {
		sb_db_rollback(db);
		outbox->count = 0;
	} else {
		*out = c.d;
	}
	return rc;
}

/* Writes c's status, deployedIn and a fresh updated_at. */
static enum sb_err
hosting_update(struct sb_db *db, struct hosting_change *c)
{
	sqlite3_stmt *stmt;
	int bound;

	sb_db_now_iso(c->d.updated_at, sizeof(c->d.updated_at));
	if ((stmt = hosting_stmt(db, SQL_DEPLOY_UPDATE)) == NULL)
		return SB_ERR_DB;
	bound = sqlite3_bind_int64(stmt, 1, c->d.id) |
	    sqlite3_bind_text(stmt, 2, sb_hosting_status_name(c->d.status), -1,
	        SQLITE_STATIC) |
	    sqlite3_bind_text(stmt, 4, c->d.updated_at, -1, SQLITE_STATIC);
	if (c->d.deployed_in >= 0)
		bound |= sqlite3_bind_int64(stmt, 3, c->d.deployed_in);
	if (bound != SQLITE_OK)
		return SB_ERR_DB;
	return sb_db_step_write(db, stmt, NULL);
}

/*
 * Cancels an ongoing deployment with its event in one transaction;
 * SB_ERR_CONFLICT (nothing written, *out the current row) otherwise.
 */
enum sb_err
sb_hosting_deployment_cancel(struct sb_db *db, int64_t id, int max_attempts,
    struct sb_deployment *out, struct sb_hosting_outbox *outbox)
{
	struct hosting_change c;
	enum sb_deploy_status previous;
	enum sb_err rc;

	memset(&c, 0, sizeof(c));
	memset(outbox, 0, sizeof(*outbox));
	if ((rc = sb_db_begin(db)) != SB_OK)
		return rc;
	if ((rc = hosting_change_load(db, id, &c)) != SB_OK)
		goto out;
	rc = SB_ERR_CONFLICT;
	if (!sb_hosting_status_ongoing(c.d.status))
		goto out;
	previous = c.d.status;
	c.d.status = SB_DEPLOY_CANCELLED;
	if ((rc = hosting_update(db, &c)) != SB_OK ||
	    (rc = hosting_event(db, SB_EVENT_DEPLOYMENT_CANCELLED, &c,
	         (int)previous, NULL, max_attempts, outbox)) != SB_OK)
		goto out;
	rc = sb_db_commit(db);
out:
	if (rc != SB_OK) {
		sb_db_rollback(db);
		outbox->count = 0;
	}
	*out = c.d;
	return rc;
}

/*
 * On a deployment's move to done: its deployedIn, and for the project's
 * first live deployment a new URL into url (otherwise url is "").  Runs
 * before the status is written, so "first" means no other deployment of
 * the project is done.
 */
static enum sb_err
hosting_on_done(struct sb_db *db, struct hosting_change *c,
    const struct sb_hosting_webhook *hook, char *url, size_t url_size)
{
	sqlite3_stmt *stmt;
	int64_t has_done = 1;
	enum sb_err rc;

	url[0] = '\0';
	c->d.deployed_in = (sb_hosting_now_ms() - c->created_ms) / 1000;
	if (c->d.deployed_in < 0)
		c->d.deployed_in = 0;
	if ((stmt = hosting_stmt(db, SQL_PROJECT_HAS_DONE)) == NULL ||
	    sqlite3_bind_int64(stmt, 1, c->d.project_id) != SQLITE_OK)
		return SB_ERR_DB;
	if ((rc = hosting_int(db, stmt, &has_done)) != SB_OK || has_done)
		return rc;
	if ((rc = sb_hosting_url_new(
	         c->project_name, hook->url_domain, url, url_size)) != SB_OK)
		return rc;
	if ((stmt = hosting_stmt(db, SQL_PROJECT_SET_URL)) == NULL ||
	    (sqlite3_bind_int64(stmt, 1, c->d.project_id) |
	        sqlite3_bind_text(stmt, 2, url, -1, SQLITE_STATIC)) !=
	        SQLITE_OK)
		return SB_ERR_DB;
	return sb_db_step_write(db, stmt, NULL);
}

/*
 * The status change proper, inside the webhook's transaction: the status
 * event, then (on a first done) the URL event that follows from it.
 */
static enum sb_err
hosting_webhook_change(struct sb_db *db, struct hosting_change *c,
    const struct sb_hosting_webhook *hook, struct sb_hosting_outbox *outbox)
{
	enum sb_deploy_status previous = c->d.status;
	char url[SB_HOSTING_URL_MAX] = "";
	enum sb_err rc;

	c->d.status = hook->status;
	if (hook->status == SB_DEPLOY_DONE &&
	    (rc = hosting_on_done(db, c, hook, url, sizeof(url))) != SB_OK)
		return rc;
	if ((rc = hosting_update(db, c)) != SB_OK)
		return rc;
	rc = hosting_event(db,
	    hook->status == SB_DEPLOY_CANCELLED ? SB_EVENT_DEPLOYMENT_CANCELLED
	                                        : SB_EVENT_DEPLOYMENT_STATUS,
	    c, (int)previous, NULL, hook->max_attempts, outbox);
	if (rc == SB_OK && url[0] != '\0')
		rc = hosting_event(db, SB_EVENT_PROJECT_URL, c, -1, url,
		    hook->max_attempts, outbox);
	return rc;
}

/*
 * Authenticates and applies the webhook in one transaction;
 * SB_ERR_UNAUTHORIZED or SB_ERR_CONFLICT leave everything as it was.
 */
enum sb_err
sb_hosting_webhook_apply(struct sb_db *db, const struct sb_secrets *secrets,
    const struct sb_hosting_webhook *hook, struct sb_deployment *out,
    struct sb_hosting_outbox *outbox)
{
	char given[SB_SECRETS_DIGEST_HEX];
	struct hosting_change c;
	enum sb_err rc;

	memset(&c, 0, sizeof(c));
	memset(outbox, 0, sizeof(*outbox));
	if ((rc = sb_db_begin(db)) != SB_OK)
		return rc;
	rc = hosting_change_load(db, hook->id, &c);
	/* The same digest and compare whether the deployment exists or not. */
	sb_secrets_token_digest(secrets, hook->secret, given);
	if (rc == SB_ERR_NOT_FOUND || strlen(c.secret) != sizeof(given) - 1)
		memset(c.secret, '0', sizeof(given));
	if (!sb_secrets_equal(given, c.secret, sizeof(given)) ||
	    rc == SB_ERR_NOT_FOUND)
		rc = SB_ERR_UNAUTHORIZED;
	if (rc != SB_OK)
		goto out;
	switch (sb_hosting_transition(c.d.status, hook->status)) {
	case SB_TRANSITION_SAME:
		goto out;
	case SB_TRANSITION_APPLY:
		rc = hosting_webhook_change(db, &c, hook, outbox);
		break;
	default:
		rc = SB_ERR_CONFLICT;
		break;
	}
	if (rc == SB_OK)
		rc = sb_db_commit(db);
out:
	if (rc != SB_OK || outbox->count == 0)
		sb_db_rollback(db);
	if (rc != SB_OK)
		outbox->count = 0;
	sodium_memzero(c.secret, sizeof(c.secret));
	*out = c.d;
	return rc;
}

/* SB_OK if user id exists, SB_ERR_NOT_FOUND if not. */
enum sb_err
sb_hosting_user_exists(struct sb_db *db, int64_t id)
{
	sqlite3_stmt *stmt;
	int64_t found;

	if ((stmt = hosting_stmt(db, SQL_USER_EXISTS)) == NULL ||
	    sqlite3_bind_int64(stmt, 1, id) != SQLITE_OK)
		return SB_ERR_DB;
	return hosting_int(db, stmt, &found);
}

/* Fills *out with the statistics of user id at now_ms (zeros on error). */
enum sb_err
sb_hosting_user_stats(
    struct sb_db *db, int64_t id, int64_t now_ms, struct sb_hosting_stats *out)
{
	int64_t total = 0, done = 0, first = 0;
	sqlite3_stmt *stmt;
	enum sb_err rc = SB_ERR_DB;
	int step;

	if ((stmt = hosting_stmt(db, SQL_USER_STATS)) == NULL ||
	    sqlite3_bind_int64(stmt, 1, id) != SQLITE_OK)
		goto out;
	step = sqlite3_step(stmt);
	if ((rc = sb_db_rc(step)) != SB_OK || step != SQLITE_ROW)
		goto out;
	total = sqlite3_column_int64(stmt, 0);
	done = sqlite3_column_int64(stmt, 1);
	first = sqlite3_column_int64(stmt, 2);
out:
	if (stmt != NULL)
		sqlite3_reset(stmt);
	sb_hosting_stats_compute(total, done, first, now_ms, out);
	return rc;
}

/* Binds obj[key], a string, at index (NULL allowed if nullable). */
static bool
hosting_seed_text(sqlite3_stmt *stmt, int index, const cJSON *obj,
    const char *key, bool nullable)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	if (nullable && (v == NULL || cJSON_IsNull(v)))
		return sqlite3_bind_null(stmt, index) == SQLITE_OK;
	return cJSON_IsString(v) && v->valuestring[0] != '\0' &&
	    sqlite3_bind_text(stmt, index, v->valuestring, -1, SQLITE_STATIC) ==
	    SQLITE_OK;
}

/* Binds obj[key], a whole number >= 1, at index. */
static bool
hosting_seed_id(
    sqlite3_stmt *stmt, int index, const cJSON *obj, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	return cJSON_IsNumber(v) && v->valuedouble >= 1 &&
	    v->valuedouble < 9007199254740992.0 &&
	    v->valuedouble == (double)(int64_t)v->valuedouble &&
	    sqlite3_bind_int64(stmt, index, (int64_t)v->valuedouble) ==
	    SQLITE_OK;
}

/* Upserts every row of users (which) or projects into the database. */
/* Binds the keyed digest of obj's string key (the secret is not kept). */
static bool
hosting_seed_digest(sqlite3_stmt *stmt, int index, const cJSON *obj,
    const char *key, const struct sb_secrets *secrets)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	char digest[SB_SECRETS_DIGEST_HEX];

	if (!cJSON_IsString(v) || v->valuestring[0] == '\0')
		return false;
	sb_secrets_token_digest(secrets, v->valuestring, digest);
	return sqlite3_bind_text(stmt, index, digest, -1, SQLITE_TRANSIENT) ==
	    SQLITE_OK;
}

static enum sb_err
hosting_seed_rows(struct sb_db *db, const struct sb_secrets *secrets,
    const cJSON *rows, bool users, int *count)
{
	const cJSON *row;
	sqlite3_stmt *stmt;
	enum sb_err rc;
	bool ok;

	*count = 0;
	cJSON_ArrayForEach(row, rows)
	{
		stmt =
		    hosting_stmt(db, users ? SQL_SEED_USER : SQL_SEED_PROJECT);
		if (stmt == NULL)
			return SB_ERR_DB;
		ok = hosting_seed_id(stmt, 1, row, "id") &&
		    (users ? hosting_seed_text(stmt, 2, row, "email", false) &&
		                hosting_seed_text(
		                    stmt, 3, row, "username", false) &&
		                hosting_seed_text(
		                    stmt, 4, row, "created_at", false)
		           : hosting_seed_text(stmt, 2, row, "name", false) &&
		                hosting_seed_text(stmt, 3, row, "url", true) &&
		                hosting_seed_id(stmt, 4, row, "user_id") &&
		                hosting_seed_digest(
		                    stmt, 5, row, "app_secret", secrets) &&
		                hosting_seed_text(
		                    stmt, 6, row, "created_at", false));
		if (!ok) {
			sb_log(SB_LOG_ERROR, HOSTING_COMPONENT, NULL,
			    "seed: %s row %d is malformed",
			    users ? "user" : "project", *count + 1);
			return SB_ERR_INVALID;
		}
		if ((rc = sb_db_step_write(db, stmt, NULL)) != SB_OK)
			return rc;
		(*count)++;
	}
	return SB_OK;
}

/*
 * Upserts both seed files in one transaction; on failure nothing is written
 * and the counts are 0.
 */
enum sb_err
sb_hosting_seed(struct sb_db *db, const struct sb_secrets *secrets,
    const char *dir, int *users, int *projects)
{
	cJSON *user_rows = NULL, *project_rows = NULL;
	enum sb_err rc;

	*users = *projects = 0;
	if ((rc = sb_hosting_seed_file(dir, "users.json", &user_rows)) !=
	        SB_OK ||
	    (rc = sb_hosting_seed_file(dir, "projects.json", &project_rows)) !=
	        SB_OK)
		goto out;
	if ((rc = sb_db_begin(db)) != SB_OK)
		goto out;
	if ((rc = hosting_seed_rows(db, secrets, user_rows, true, users)) !=
	        SB_OK ||
	    (rc = hosting_seed_rows(
	         db, secrets, project_rows, false, projects)) != SB_OK)
		goto out;
	rc = sb_db_commit(db);
out:
	if (rc != SB_OK) {
		sb_db_rollback(db);
		*users = *projects = 0;
	}
	cJSON_Delete(user_rows);
	cJSON_Delete(project_rows);
	return rc;
}
