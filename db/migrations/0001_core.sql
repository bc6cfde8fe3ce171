-- Core schema: the jobs table behind lib/jobs.c (durable work and outbox).
-- schema_migrations is created by sb_db_migrate() itself.
-- Times: run_at and lease_until are unix seconds (compared with "now");
-- created_at and updated_at are ISO-8601 UTC text for people.

CREATE TABLE jobs (
	id INTEGER PRIMARY KEY,
	queue TEXT NOT NULL,
	payload TEXT NOT NULL,
	state TEXT NOT NULL
	    CHECK (state IN ('pending', 'leased', 'done', 'dead')),
	attempts INTEGER NOT NULL DEFAULT 0,
	max_attempts INTEGER NOT NULL,
	run_at INTEGER NOT NULL,
	lease_owner TEXT,
	lease_until INTEGER,
	last_error TEXT,
	created_at TEXT NOT NULL,
	updated_at TEXT NOT NULL
);

-- Leasing looks for due work by state and time.
CREATE INDEX jobs_state_run_at ON jobs (state, run_at);

-- Leasing and counting per queue.
CREATE INDEX jobs_queue ON jobs (queue);
