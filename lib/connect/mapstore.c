/*
 * Stored mappings.  Ids are random ("mp_" and 20 hex digits): there are no
 * accounts, so an id is the capability to use or delete its mapping.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "sb/store/db.h"
#include "sb/core/log.h"
#include "sb/connect/mapstore.h"
#include "sb/core/id.h"

enum { Q_INSERT, Q_GET, Q_DELETE, Q__MAX };

static const char *const sql[Q__MAX] = {
	[Q_INSERT] = ("INSERT INTO mappings (id, spec, root, created_at) "
	              "VALUES (?1, ?2, ?3, ?4)"),
	[Q_GET] = "SELECT spec, root FROM mappings WHERE id = ?1",
	[Q_DELETE] = "DELETE FROM mappings WHERE id = ?1",
};

enum sb_err
sb_mapstore_create(struct sb_db *db, const cJSON *mapping, const char *root,
    char id[SB_MAPSTORE_ID_MAX])
{
	sqlite3_stmt *st = sb_db_stmt(db, sql[Q_INSERT]);
	char now[32], *text = cJSON_PrintUnformatted(mapping);
	enum sb_err rc = SB_ERR_NOMEM;
	int changes = 0;

	if (text == NULL)
		goto out;
	if ((rc = sb_id_new(SB_MAPSTORE_ID_PREFIX, id, SB_MAPSTORE_ID_MAX)) !=
	    SB_OK)
		goto out;
	sb_db_now_iso(now, sizeof(now));
	if (st != NULL) {
		sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, text, -1, SQLITE_STATIC);
		if (root != NULL)
			sqlite3_bind_text(st, 3, root, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, now, -1, SQLITE_STATIC);
	}
	rc = sb_db_write(db, st, &changes);
out:
	cJSON_free(text);
	return rc;
}

enum sb_err
sb_mapstore_get(struct sb_db *db, const char *id, cJSON **mapping, char **root)
{
	sqlite3_stmt *st = sb_db_stmt(db, sql[Q_GET]);
	const unsigned char *r;
	enum sb_err rc = SB_ERR_NOT_FOUND;
	int step;

	*mapping = NULL;
	*root = NULL;
	if (st == NULL)
		return SB_ERR_DB;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	if ((step = sqlite3_step(st)) == SQLITE_ROW) {
		*mapping =
		    cJSON_Parse((const char *)sqlite3_column_text(st, 0));
		r = sqlite3_column_text(st, 1);
		if (r != NULL)
			*root = strdup((const char *)r);
		rc = *mapping != NULL && (r == NULL || *root != NULL)
		    ? SB_OK
		    : SB_ERR_NOMEM;
	} else if (step != SQLITE_DONE) {
		rc = SB_ERR_DB;
	}
	sqlite3_reset(st);
	if (rc != SB_OK) {
		cJSON_Delete(*mapping);
		free(*root);
		*mapping = NULL;
		*root = NULL;
	}
	return rc;
}

enum sb_err
sb_mapstore_delete(struct sb_db *db, const char *id)
{
	sqlite3_stmt *st = sb_db_stmt(db, sql[Q_DELETE]);
	int changes = 0;
	enum sb_err rc;

	if (st != NULL)
		sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	if ((rc = sb_db_write(db, st, &changes)) != SB_OK)
		return rc;
	return changes > 0 ? SB_OK : SB_ERR_NOT_FOUND;
}
