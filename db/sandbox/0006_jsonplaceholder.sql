-- The sandbox's JSONPlaceholder (/jsonplaceholder/...): posts, users and
-- comments in JSONPlaceholder's shapes, each item's JSON text kept as it
-- is served.  The items are generated deterministically on first use and
-- by POST /_sandbox/jsonplaceholder (reset); jp_state.seeded says whether
-- that happened since the last reset.
CREATE TABLE jp_items (
	resource TEXT NOT NULL CHECK (resource IN ('posts', 'users',
	    'comments')),
	id INTEGER NOT NULL,
	body TEXT NOT NULL,
	PRIMARY KEY (resource, id)
) WITHOUT ROWID;

CREATE TABLE jp_state (
	id INTEGER PRIMARY KEY CHECK (id = 1),
	seeded INTEGER NOT NULL DEFAULT 0
);

INSERT INTO jp_state (id, seeded) VALUES (1, 0);

-- A new failure switch kind: "truncated", an answer that ends before the
-- length it announced.  SQLite cannot alter a CHECK, so the table is made
-- anew with the switches waiting.
CREATE TABLE sandbox_faults_new (
	id INTEGER PRIMARY KEY,
	path TEXT NOT NULL,
	kind TEXT NOT NULL CHECK (kind IN ('status', '429', 'slow',
	    'malformed', 'oversized', 'redirect', 'no_refresh_token',
	    'truncated')),
	remaining INTEGER NOT NULL DEFAULT 1 CHECK (remaining > 0),
	arg INTEGER NOT NULL DEFAULT 0
);

INSERT INTO sandbox_faults_new (id, path, kind, remaining, arg)
    SELECT id, path, kind, remaining, arg FROM sandbox_faults;
DROP TABLE sandbox_faults;
ALTER TABLE sandbox_faults_new RENAME TO sandbox_faults;
CREATE INDEX sandbox_faults_path ON sandbox_faults (path, id);
