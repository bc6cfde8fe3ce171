-- The data fetch (lib/fetch, the fetch responder): what it fetches, what
-- it stored, and how each fetch went.
--
-- fetch_resources is configuration, not code: one row per resource of the
-- source, its path under fetch_base_url, the fields GET /data filters on
-- (a JSON array; dotted names reach into objects), and the fields the
-- ingest derives from (trim_field gives _derived.<trim_field>, trimmed;
-- words_field gives _derived.word_count).  Another resource is another row.
CREATE TABLE fetch_resources (
	name TEXT PRIMARY KEY,
	path TEXT NOT NULL,
	fields TEXT NOT NULL CHECK (json_valid(fields)),
	trim_field TEXT,
	words_field TEXT,
	is_default INTEGER NOT NULL DEFAULT 0 CHECK (is_default IN (0, 1))
);

CREATE UNIQUE INDEX fetch_resources_default ON fetch_resources (is_default)
    WHERE is_default = 1;

INSERT INTO fetch_resources (name, path, fields, trim_field, words_field,
    is_default) VALUES
    ('posts', '/posts', '["id", "userId", "title", "body"]', 'title',
        'body', 1),
    ('comments', '/comments', '["id", "postId", "name", "email", "body"]',
        'name', 'body', 0),
    ('users', '/users', '["id", "name", "username", "email", "phone",
        "website", "address.street", "address.suite", "address.city",
        "address.zipcode", "company.name"]', 'name', NULL, 0);

-- The items stored: body is the item exactly as the source sent it (JSON
-- text), derived the fields computed at ingest (a JSON object, returned
-- as _derived).  An item the source no longer has keeps its row with
-- deleted_at set and leaves GET /data.  Times are unix seconds.
CREATE TABLE fetch_items (
	resource TEXT NOT NULL,
	id INTEGER NOT NULL,
	body TEXT NOT NULL,
	derived TEXT NOT NULL,
	fetched_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL,
	deleted_at INTEGER,
	PRIMARY KEY (resource, id)
) WITHOUT ROWID;

-- Per resource: the last successful fetch (the cooldown counts from it),
-- the ETag it answered (sent back as If-None-Match), and the job running
-- or waiting for it, which concurrent POST /fetch calls share.
CREATE TABLE fetch_state (
	resource TEXT PRIMARY KEY,
	etag TEXT,
	fetched_at INTEGER,
	active_job INTEGER
);

-- One row per fetch job (the job itself is in jobs, queue 'fetch'): its
-- resource, whether forced, and the outcome of its last attempt: the
-- counts, the source's HTTP status (0: no answer) and why it failed.
CREATE TABLE fetch_runs (
	job_id INTEGER PRIMARY KEY,
	resource TEXT NOT NULL,
	forced INTEGER NOT NULL DEFAULT 0,
	outcome TEXT CHECK (outcome IN ('fetched', 'not_modified', 'failed')),
	source_status INTEGER NOT NULL DEFAULT 0,
	error_code TEXT,
	fetched INTEGER NOT NULL DEFAULT 0,
	created INTEGER NOT NULL DEFAULT 0,
	updated INTEGER NOT NULL DEFAULT 0,
	unchanged INTEGER NOT NULL DEFAULT 0,
	deleted INTEGER NOT NULL DEFAULT 0,
	started_at INTEGER,
	finished_at INTEGER
);
