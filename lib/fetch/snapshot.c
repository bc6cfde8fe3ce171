/*
 * GET /data's snapshots (see include/sb/fetch/snapshot.h): a cache of up
 * to SB_FETCH_SNAPSHOT_RESOURCES_MAX resources, dropped whole when the
 * data version moves, each resource loaded on first use by one statement.
 *
 * The load is one statement, so that it reads one state of the database:
 * a row per item (its id, -1, its answer text and its q haystack), and a
 * row per item and filterable field (its id, the field's place in the
 * fields array, json_type(), the JavaScript text, json_extract()),
 * ordered so that each item's row comes before its fields'.  The
 * expressions are the ones the SQL conditions of GET /data used when
 * they ran per request (json-server's semantics as they were measured
 * there); the field's JSON path is '$.' || name as it was.
 */
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "sb/core/deadline.h"
#include "sb/fetch/fetch.h"
#include "sb/fetch/snapshot.h"

#define SNAPSHOT_ITEMS_FIRST 64 /* items room of a load's first grow */
#define SNAPSHOT_TEXT_FIRST 4096 /* text bytes of a load's first grow */
/* virtual machine steps of a load between two looks at the deadline */
#define SNAPSHOT_PROGRESS_STEPS 1000

enum snapshot_sql {
	SNAPSHOT_SQL_VERSION,
	SNAPSHOT_SQL_ITEMS,
	SNAPSHOT_SQL__MAX
};

/* The JSON path of the field f of json_each(fields). */
#define SNAPSHOT_PATH "'$.' || f.value"

static const char *const snapshot_sql[SNAPSHOT_SQL__MAX] = {
	[SNAPSHOT_SQL_VERSION] =
	    "SELECT version FROM fetch_data_version WHERE id = 1",
	/* ?1 the resource, ?2 its fields (a JSON array) */
	[SNAPSHOT_SQL_ITEMS] =
	    "SELECT i.id, -1, json_set(i.body, '$._derived', json(i.derived)),"
	    " (SELECT group_concat(lower(CASE t.type WHEN 'true' THEN 'true'"
	    " ELSE CAST(t.atom AS TEXT) END), char(0))"
	    " FROM json_tree(i.body) AS t"
	    " WHERE t.type IN ('text', 'integer', 'real', 'true')"
	    " AND NOT (t.type = 'text' AND t.atom = '')"
	    " AND NOT (t.type IN ('integer', 'real') AND t.atom = 0)), NULL"
	    " FROM fetch_items i WHERE i.resource = ?1"
	    " AND i.deleted_at IS NULL"
	    " UNION ALL"
	    " SELECT i.id, f.key, json_type(i.body, " SNAPSHOT_PATH "),"
	    " CASE json_type(i.body, " SNAPSHOT_PATH ") WHEN 'true' THEN 'true'"
	    " WHEN 'false' THEN 'false' WHEN 'null' THEN NULL"
	    " WHEN 'object' THEN '[object Object]'"
	    " ELSE CAST(json_extract(i.body, " SNAPSHOT_PATH ") AS TEXT) END,"
	    " json_extract(i.body, " SNAPSHOT_PATH ")"
	    " FROM fetch_items i, json_each(?2) AS f WHERE i.resource = ?1"
	    " AND i.deleted_at IS NULL AND f.type = 'text'"
	    " ORDER BY 1, 2",
};

/* json_type()'s names, by enum sb_fetch_json (MISSING: none). */
static const char *const snapshot_types[] = {
	[SB_FETCH_JSON_NULL] = "null",
	[SB_FETCH_JSON_TRUE] = "true",
	[SB_FETCH_JSON_FALSE] = "false",
	[SB_FETCH_JSON_INTEGER] = "integer",
	[SB_FETCH_JSON_REAL] = "real",
	[SB_FETCH_JSON_TEXT] = "text",
	[SB_FETCH_JSON_ARRAY] = "array",
	[SB_FETCH_JSON_OBJECT] = "object",
};

/* One resource of the cache: its configuration and, once loaded, its
 * items. */
struct snapshot_resource {
	bool used; /* the slot holds a resource */
	bool is_default;
	struct sb_fetch_resource config;
	bool loaded;
	struct sb_fetch_item *items;
	size_t count, room;
	struct sb_fetch_value *values; /* room * field_count */
	char *text;
	size_t text_len, text_room;
	uint32_t *scratch, *scratch2;
	size_t bytes; /* what the loaded items take */
	uint64_t used_at; /* the cache's clock at its last use */
	struct sb_fetch_view view;
};

struct sb_fetch_snapshot {
	bool versioned; /* version was read */
	int64_t version; /* what the resources were configured at */
	struct snapshot_resource resources[SB_FETCH_SNAPSHOT_RESOURCES_MAX];
	uint64_t clock;
	uint64_t loads;
};

enum sb_err
sb_fetch_snapshot_new(struct sb_fetch_snapshot **out)
{
	*out = calloc(1, sizeof(**out));
	return *out != NULL ? SB_OK : SB_ERR_NOMEM;
}

/* Frees r's items, keeping its configuration. */
static void
snapshot_unload(struct snapshot_resource *r)
{
	free(r->items);
	free(r->values);
	free(r->text);
	free(r->scratch);
	free(r->scratch2);
	r->items = NULL;
	r->values = NULL;
	r->text = NULL;
	r->scratch = r->scratch2 = NULL;
	r->count = r->room = r->text_len = r->text_room = r->bytes = 0;
	r->loaded = false;
}

/* Empties the slot r. */
static void
snapshot_forget(struct snapshot_resource *r)
{
	snapshot_unload(r);
	sb_fetch_resource_clear(&r->config);
	memset(r, 0, sizeof(*r));
}

void
sb_fetch_snapshot_free(struct sb_fetch_snapshot *s)
{
	if (s == NULL)
		return;
	for (size_t i = 0; i < SB_FETCH_SNAPSHOT_RESOURCES_MAX; i++)
		snapshot_forget(&s->resources[i]);
	free(s);
}

uint64_t
sb_fetch_snapshot_loads(const struct sb_fetch_snapshot *s)
{
	return s->loads;
}

/* The data version into *version. */
static enum sb_err
snapshot_version(struct sb_db *db, int64_t *version)
{
	sqlite3_stmt *st;
	int step;

	if ((st = sb_db_stmt(db, snapshot_sql[SNAPSHOT_SQL_VERSION])) == NULL)
		return SB_ERR_DB;
	if ((step = sqlite3_step(st)) == SQLITE_ROW)
		*version = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return step == SQLITE_ROW ? SB_OK : SB_ERR_DB;
}

/* SQLite's progress handler: non-zero (interrupt) once the deadline at
 * arg has passed. */
static int
snapshot_progress(void *arg)
{
	return sb_deadline_passed(*(const int64_t *)arg);
}

/* Bounds what db runs next by *deadline (NULL: removes the bound). */
static void
snapshot_deadline(struct sb_db *db, int64_t *deadline)
{
	if (deadline == NULL || *deadline == SB_DEADLINE_NONE)
		sqlite3_progress_handler(sb_db_handle(db), 0, NULL, NULL);
	else
		sqlite3_progress_handler(sb_db_handle(db),
		    SNAPSHOT_PROGRESS_STEPS, snapshot_progress, deadline);
}

/* Appends len bytes (and a NUL) to r's text; their offset in *at. */
static enum sb_err
snapshot_text(
    struct snapshot_resource *r, const void *bytes, size_t len, uint32_t *at)
{
	size_t room = r->text_room != 0 ? r->text_room : SNAPSHOT_TEXT_FIRST;
	char *grown;

	if (len >= SB_FETCH_SNAPSHOT_TEXT_MAX - r->text_len)
		return SB_ERR_TOO_LARGE;
	while (room - r->text_len <= len)
		room *= 2;
	if (room != r->text_room) {
		if ((grown = realloc(r->text, room)) == NULL)
			return SB_ERR_NOMEM;
		r->text = grown;
		r->text_room = room;
	}
	if (len > 0)
		memcpy(r->text + r->text_len, bytes, len);
	r->text[r->text_len + len] = '\0';
	*at = (uint32_t)r->text_len;
	r->text_len += len + 1;
	return SB_OK;
}

/* Makes room for one more item (and its values, zeroed: missing). */
static enum sb_err
snapshot_grow(struct snapshot_resource *r, size_t fields)
{
	size_t room = r->room != 0 ? r->room * 2 : SNAPSHOT_ITEMS_FIRST;
	struct sb_fetch_item *items;
	struct sb_fetch_value *values;

	if (r->count >= SB_FETCH_SNAPSHOT_ITEMS_MAX)
		return SB_ERR_TOO_LARGE;
	if (r->count < r->room)
		return SB_OK;
	if ((items = realloc(r->items, room * sizeof(*items))) == NULL)
		return SB_ERR_NOMEM;
	r->items = items;
	values = realloc(r->values, (room * fields + 1) * sizeof(*values));
	if (values == NULL)
		return SB_ERR_NOMEM;
	memset(values + r->room * fields, 0,
	    (room - r->room) * fields * sizeof(*values));
	r->values = values;
	r->room = room;
	return SB_OK;
}

/* The item row of st (id, -1, answer text, haystack) appended to r. */
static enum sb_err
snapshot_item(struct snapshot_resource *r, sqlite3_stmt *st, size_t fields)
{
	struct sb_fetch_item *item;
	const void *bytes;
	enum sb_err rc;

	if ((rc = snapshot_grow(r, fields)) != SB_OK)
		return rc;
	item = &r->items[r->count];
	item->id = sqlite3_column_int64(st, 0);
	bytes = sqlite3_column_text(st, 2);
	item->out_len = (uint32_t)sqlite3_column_bytes(st, 2);
	if (bytes == NULL ||
	    (rc = snapshot_text(r, bytes, item->out_len, &item->out)) != SB_OK)
		return bytes == NULL ? SB_ERR_DB : rc;
	bytes = sqlite3_column_text(st, 3);
	item->haystack_len = (uint32_t)sqlite3_column_bytes(st, 3);
	if ((rc = snapshot_text(
	         r, bytes, item->haystack_len, &item->haystack)) != SB_OK)
		return rc;
	r->count++;
	return SB_OK;
}

/* The enum sb_fetch_json of json_type()'s text (NULL: missing). */
static uint8_t
snapshot_type(const unsigned char *name)
{
	size_t n = sizeof(snapshot_types) / sizeof(snapshot_types[0]);

	for (size_t i = 1; name != NULL && i < n; i++)
		if (strcmp((const char *)name, snapshot_types[i]) == 0)
			return (uint8_t)i;
	return SB_FETCH_JSON_MISSING;
}

/* json_extract()'s value (column 4 of st) into v; its text shares the
 * JavaScript text's bytes when they are the same. */
static enum sb_err
snapshot_extract(
    struct snapshot_resource *r, sqlite3_stmt *st, struct sb_fetch_value *v)
{
	const void *bytes;

	switch (sqlite3_column_type(st, 4)) {
	case SQLITE_INTEGER:
		v->class = SB_FETCH_CLASS_INTEGER;
		v->number.integer = sqlite3_column_int64(st, 4);
		return SB_OK;
	case SQLITE_FLOAT:
		v->class = SB_FETCH_CLASS_REAL;
		v->number.real = sqlite3_column_double(st, 4);
		return SB_OK;
	case SQLITE_NULL:
		v->class = SB_FETCH_CLASS_NULL;
		return SB_OK;
	default:
		break;
	}
	v->class = SB_FETCH_CLASS_TEXT;
	bytes = sqlite3_column_text(st, 4);
	v->extract_len = (uint32_t)sqlite3_column_bytes(st, 4);
	if (v->has_text && v->extract_len == v->text_len &&
	    memcmp(r->text + v->text, bytes, v->text_len) == 0) {
		v->extract = v->text;
		return SB_OK;
	}
	return snapshot_text(r, bytes, v->extract_len, &v->extract);
}

/* A field row of st (id, place, type, text, extract) into r's last
 * item. */
static enum sb_err
snapshot_field(struct snapshot_resource *r, sqlite3_stmt *st, size_t fields)
{
	int64_t place = sqlite3_column_int64(st, 1);
	struct sb_fetch_value *v;
	const void *bytes;
	enum sb_err rc;

	if (r->count == 0 || place < 0 || (size_t)place >= fields ||
	    r->items[r->count - 1].id != sqlite3_column_int64(st, 0))
		return SB_ERR_DB;
	v = &r->values[(r->count - 1) * fields + (size_t)place];
	v->type = snapshot_type(sqlite3_column_text(st, 2));
	if ((bytes = sqlite3_column_text(st, 3)) != NULL) {
		v->has_text = true;
		v->text_len = (uint32_t)sqlite3_column_bytes(st, 3);
		if ((rc = snapshot_text(r, bytes, v->text_len, &v->text)) !=
		    SB_OK)
			return rc;
	}
	return snapshot_extract(r, st, v);
}

/* Steps the bound load statement st to its end into r. */
static enum sb_err
snapshot_rows(struct snapshot_resource *r, sqlite3_stmt *st, size_t fields)
{
	enum sb_err rc = SB_OK;
	int step;

	while (rc == SB_OK && (step = sqlite3_step(st)) == SQLITE_ROW)
		rc = sqlite3_column_int64(st, 1) < 0
		    ? snapshot_item(r, st, fields)
		    : snapshot_field(r, st, fields);
	if (rc != SB_OK)
		return rc;
	if (step == SQLITE_INTERRUPT)
		return SB_ERR_TIMEOUT;
	return step == SQLITE_DONE ? SB_OK : sb_db_rc(step);
}

/* The view of the loaded r, with the scratch sb_fetch_select() uses. */
static enum sb_err
snapshot_view(struct snapshot_resource *r, size_t fields)
{
	r->scratch = malloc((r->count + 1) * sizeof(*r->scratch));
	r->scratch2 = malloc((r->count + 1) * sizeof(*r->scratch2));
	if (r->scratch == NULL || r->scratch2 == NULL)
		return SB_ERR_NOMEM;
	r->bytes = r->room * sizeof(*r->items) +
	    (r->room * fields + 1) * sizeof(*r->values) + r->text_room +
	    2 * (r->count + 1) * sizeof(*r->scratch);
	r->view = (struct sb_fetch_view){ .name = r->config.name,
		.fields = r->config.fields,
		.field_count = (int)fields,
		.items = r->items,
		.count = r->count,
		.values = r->values,
		.text = r->text,
		.scratch = r->scratch,
		.scratch2 = r->scratch2 };
	r->loaded = true;
	return SB_OK;
}

/* Loads r's live items within deadline; on failure r holds none. */
static enum sb_err
snapshot_load(struct snapshot_resource *r, struct sb_db *db, int64_t deadline)
{
	size_t fields = (size_t)cJSON_GetArraySize(r->config.fields);
	char *names = cJSON_PrintUnformatted(r->config.fields);
	sqlite3_stmt *st = NULL;
	enum sb_err rc = SB_ERR_NOMEM;

	if (names == NULL)
		goto out;
	rc = SB_ERR_DB;
	if ((st = sb_db_stmt(db, snapshot_sql[SNAPSHOT_SQL_ITEMS])) == NULL)
		goto out;
	sqlite3_bind_text(st, 1, r->config.name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, names, -1, SQLITE_STATIC);
	snapshot_deadline(db, &deadline);
	rc = snapshot_rows(r, st, fields);
	snapshot_deadline(db, NULL);
	sqlite3_reset(st);
	if (rc == SB_OK)
		rc = snapshot_view(r, fields);
out:
	cJSON_free(names);
	if (rc != SB_OK)
		snapshot_unload(r);
	return rc;
}

/* The cached resource called name (NULL: the default one), or NULL. */
static struct snapshot_resource *
snapshot_find(struct sb_fetch_snapshot *s, const char *name)
{
	for (size_t i = 0; i < SB_FETCH_SNAPSHOT_RESOURCES_MAX; i++) {
		struct snapshot_resource *r = &s->resources[i];

		if (r->used &&
		    (name == NULL ? r->is_default
		                  : strcmp(r->config.name, name) == 0))
			return r;
	}
	return NULL;
}

/* A free slot, or the least recently used one emptied. */
static struct snapshot_resource *
snapshot_slot(struct sb_fetch_snapshot *s)
{
	struct snapshot_resource *oldest = &s->resources[0];

	for (size_t i = 0; i < SB_FETCH_SNAPSHOT_RESOURCES_MAX; i++) {
		if (!s->resources[i].used)
			return &s->resources[i];
		if (s->resources[i].used_at < oldest->used_at)
			oldest = &s->resources[i];
	}
	snapshot_forget(oldest);
	return oldest;
}

/*
 * Reads the configuration of the resource called name (NULL: the default
 * one) into a slot of s, *out; for the default one already cached under
 * its name, marks that one.  Errors are sb_fetch_resource_load()'s.
 */
static enum sb_err
snapshot_configure(struct sb_fetch_snapshot *s, struct sb_db *db,
    const char *name, struct snapshot_resource **out, char *names,
    size_t names_size)
{
	struct sb_fetch_resource config;
	enum sb_err rc;

	if ((rc = sb_fetch_resource_load(
	         db, name, &config, names, names_size)) != SB_OK)
		return rc;
	if ((*out = snapshot_find(s, config.name)) != NULL) {
		sb_fetch_resource_clear(&config);
	} else {
		*out = snapshot_slot(s);
		(*out)->used = true;
		(*out)->config = config;
	}
	(*out)->is_default |= name == NULL;
	return SB_OK;
}

/* Drops the least recently used loaded resources but keep while what
 * the cache holds is past SB_FETCH_SNAPSHOT_KEEP_BYTES. */
static void
snapshot_trim(struct sb_fetch_snapshot *s, const struct snapshot_resource *keep)
{
	struct snapshot_resource *oldest;
	size_t total;

	for (;;) {
		total = 0;
		oldest = NULL;
		for (size_t i = 0; i < SB_FETCH_SNAPSHOT_RESOURCES_MAX; i++) {
			struct snapshot_resource *r = &s->resources[i];

			total += r->bytes;
			if (r->loaded && r != keep &&
			    (oldest == NULL || r->used_at < oldest->used_at))
				oldest = r;
		}
		if (total <= (size_t)SB_FETCH_SNAPSHOT_KEEP_BYTES ||
		    oldest == NULL)
			return;
		snapshot_unload(oldest);
	}
}

enum sb_err
sb_fetch_snapshot_get(struct sb_fetch_snapshot *s, struct sb_db *db,
    const char *name, int64_t deadline, const struct sb_fetch_view **out,
    char *names, size_t names_size)
{
	struct snapshot_resource *r;
	int64_t version;
	enum sb_err rc;

	*out = NULL;
	if ((rc = snapshot_version(db, &version)) != SB_OK)
		return rc;
	if (!s->versioned || version != s->version) {
		for (size_t i = 0; i < SB_FETCH_SNAPSHOT_RESOURCES_MAX; i++)
			snapshot_forget(&s->resources[i]);
		s->version = version;
		s->versioned = true;
	}
	if ((r = snapshot_find(s, name)) == NULL &&
	    (rc = snapshot_configure(s, db, name, &r, names, names_size)) !=
	        SB_OK)
		return rc;
	r->used_at = ++s->clock;
	if (!r->loaded) {
		if ((rc = snapshot_load(r, db, deadline)) != SB_OK)
			return rc;
		s->loads++;
		snapshot_trim(s, r);
	}
	*out = &r->view;
	return SB_OK;
}

const struct sb_fetch_item *
sb_fetch_snapshot_item(const struct sb_fetch_view *view, int64_t id)
{
	size_t low = 0, high = view->count, mid;

	while (low < high) {
		mid = low + (high - low) / 2;
		if (view->items[mid].id == id)
			return &view->items[mid];
		if (view->items[mid].id < id)
			low = mid + 1;
		else
			high = mid;
	}
	return NULL;
}
