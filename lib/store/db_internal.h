/*
 * What lib/store/db.c shares with the rest of lib/store (migrate.c) and
 * nobody else uses.
 */
#ifndef SB_STORE_DB_INTERNAL_H
#define SB_STORE_DB_INTERNAL_H

#include "sb/core/err.h"
#include "sb/store/db.h"

/*
 * Makes the layer's own tables if missing: schema_migrations (the
 * migrations applied) and store_probe (the row sb_db_probe() writes).
 */
enum sb_err sb_db_tables_create(struct sb_db *db);

#endif
