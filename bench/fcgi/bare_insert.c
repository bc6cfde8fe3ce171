/*
 * The benchmark's floor for writes: a FastCGI responder that, through
 * libfcgi and SQLite alone, inserts one row per request into its own WAL
 * database ($SB_VAR_DIR/bench-insert.db) and answers a constant.  `make
 * bench` compares the deployment POST, with its outbox row, against it.
 */
#include <stdio.h>
#include <stdlib.h>

#include <fcgiapp.h>
#include <sqlite3.h>

static const char answer[] = "Status: 201 Created\r\n"
                             "Content-Type: application/json\r\n"
                             "Content-Length: 15\r\n\r\n"
                             "{\"status\":\"ok\"}";

static const char failed[] = "Status: 500 Internal Server Error\r\n"
                             "Content-Type: application/json\r\n"
                             "Content-Length: 18\r\n\r\n"
                             "{\"status\":\"error\"}";

/* Opens the database with the settings the library uses. */
static sqlite3 *
open_db(void)
{
	const char *var = getenv("SB_VAR_DIR");
	char path[4096];
	sqlite3 *db = NULL;

	snprintf(path, sizeof(path), "%s/bench-insert.db",
	    var != NULL ? var : "var");
	if (sqlite3_open(path, &db) != SQLITE_OK ||
	    sqlite3_busy_timeout(db, 5000) != SQLITE_OK ||
	    sqlite3_exec(db,
	        "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
	        "CREATE TABLE IF NOT EXISTS hits (id INTEGER PRIMARY KEY, "
	        "at INTEGER NOT NULL)",
	        NULL, NULL, NULL) != SQLITE_OK) {
		sqlite3_close(db);
		return NULL;
	}
	return db;
}

int
main(void)
{
	sqlite3_stmt *insert = NULL;
	FCGX_Request req;
	sqlite3 *db;
	int ok;

	if ((db = open_db()) == NULL ||
	    sqlite3_prepare_v2(db, "INSERT INTO hits (at) VALUES (?1)", -1,
	        &insert, NULL) != SQLITE_OK)
		return 1;
	if (FCGX_Init() != 0 || FCGX_InitRequest(&req, 0, 0) != 0)
		return 1;
	while (FCGX_Accept_r(&req) >= 0) {
		sqlite3_bind_int64(insert, 1, (sqlite3_int64)req.requestId);
		ok = sqlite3_step(insert) == SQLITE_DONE;
		sqlite3_reset(insert);
		if (ok)
			FCGX_PutStr(answer, (int)sizeof(answer) - 1, req.out);
		else
			FCGX_PutStr(failed, (int)sizeof(failed) - 1, req.out);
		FCGX_Finish_r(&req);
	}
	sqlite3_finalize(insert);
	sqlite3_close(db);
	return 0;
}
