/*
 * Stored mappings (POST /mappings): the mapping object and its optional
 * root, under a random id.  Every SQL statement of the module is in
 * lib/connect/mapstore.c; the mapping language itself is in
 * sb/connect/mapping.h.
 */
#ifndef SB_MAPSTORE_H
#define SB_MAPSTORE_H

#include <cJSON.h>

#include "sb/core/err.h"
#include "sb/store/db.h"

#define SB_MAPSTORE_ID_PREFIX "mp_"
#define SB_MAPSTORE_ID_MAX 32

/* Stores a checked mapping; on SB_OK id holds its new id. */
enum sb_err sb_mapstore_create(struct sb_db *db, const cJSON *mapping,
    const char *root, char id[SB_MAPSTORE_ID_MAX]);

/*
 * Loads mapping id.  On SB_OK *mapping (caller frees with cJSON_Delete) and
 * *root (malloc'ed or NULL; caller frees with free()) are set;
 * SB_ERR_NOT_FOUND if there is none.
 */
enum sb_err sb_mapstore_get(
    struct sb_db *db, const char *id, cJSON **mapping, char **root);

/* Deletes mapping id; SB_ERR_NOT_FOUND if there is none. */
enum sb_err sb_mapstore_delete(struct sb_db *db, const char *id);

#endif
