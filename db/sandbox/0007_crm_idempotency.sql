-- POST /crm/users with an Idempotency-Key header: the key, the SHA-256 of
-- the body it was first sent with and the user that request made.  The
-- same key with the same body answers that user again; with another body
-- it is refused.  A key lives CRM_IDEMPOTENCY_TTL_MS (24 hours, pruned on
-- the next POST) and dies with its user.
CREATE TABLE crm_idempotency (
	key TEXT PRIMARY KEY,
	body_hash TEXT NOT NULL,
	crm_id TEXT NOT NULL,
	created_ms INTEGER NOT NULL
);

CREATE INDEX crm_idempotency_created ON crm_idempotency (created_ms);
CREATE INDEX crm_idempotency_crm_id ON crm_idempotency (crm_id);

-- A new failure switch kind: "answer_lost", the work done and committed
-- and its answer replaced by an error, as when a server dies between its
-- commit and its answer.  SQLite cannot alter a CHECK, so the table is
-- made anew with the switches waiting.
CREATE TABLE sandbox_faults_new (
	id INTEGER PRIMARY KEY,
	path TEXT NOT NULL,
	kind TEXT NOT NULL CHECK (kind IN ('status', '429', 'slow',
	    'malformed', 'oversized', 'redirect', 'no_refresh_token',
	    'truncated', 'answer_lost')),
	remaining INTEGER NOT NULL DEFAULT 1 CHECK (remaining > 0),
	arg INTEGER NOT NULL DEFAULT 0
);

INSERT INTO sandbox_faults_new (id, path, kind, remaining, arg)
    SELECT id, path, kind, remaining, arg FROM sandbox_faults;
DROP TABLE sandbox_faults;
ALTER TABLE sandbox_faults_new RENAME TO sandbox_faults;
CREATE INDEX sandbox_faults_path ON sandbox_faults (path, id);
