-- The CRM user sync (brief 002): the users API's users, their sync log,
-- the CRM webhooks already processed and the POST /users idempotency keys.
-- (The hosting panel's own "users" table is another thing: its seed users.)
-- Times: *_at are ISO-8601 UTC text with milliseconds; *_ms the same kind
-- of instant in unix milliseconds, for the conflict rule's comparisons.

CREATE TABLE sync_users (
	id TEXT PRIMARY KEY,                 -- UUID v7
	name TEXT NOT NULL,
	email TEXT NOT NULL,
	phone TEXT NOT NULL,
	sync_status TEXT NOT NULL DEFAULT 'pending'
	    CHECK (sync_status IN ('pending', 'synced', 'failed')),
	crm_id TEXT,
	last_error TEXT,
	deleted INTEGER NOT NULL DEFAULT 0,  -- DELETE taken, CRM not told yet
	job_id INTEGER,                      -- its sync job while one is open
	name_ms INTEGER NOT NULL,            -- last local change of each field
	email_ms INTEGER NOT NULL,
	phone_ms INTEGER NOT NULL,
	pushed_ms INTEGER NOT NULL DEFAULT 0, -- local changes up to here reached the CRM
	crm_ms INTEGER NOT NULL DEFAULT 0,   -- the CRM's last change applied or pushed
	reconciled_at INTEGER NOT NULL DEFAULT 0, -- unix seconds
	created_at TEXT NOT NULL,
	updated_at TEXT NOT NULL,
	updated_ms INTEGER NOT NULL
);

-- One user per email (without regard to case) among those not deleted.
CREATE UNIQUE INDEX sync_users_email ON sync_users (email COLLATE NOCASE)
    WHERE deleted = 0;
CREATE UNIQUE INDEX sync_users_crm_id ON sync_users (crm_id)
    WHERE crm_id IS NOT NULL;
-- GET /users?sync_status=...: pages in id (creation) order.
CREATE INDEX sync_users_status ON sync_users (sync_status, id);

-- Every attempt, error, webhook, reconciliation and conflict per user.
CREATE TABLE sync_log (
	id INTEGER PRIMARY KEY,
	user_id TEXT NOT NULL,
	kind TEXT NOT NULL,      -- push, webhook, reconcile, conflict, failed
	outcome TEXT NOT NULL,   -- ok, error, applied, stale, kept_local ...
	detail TEXT NOT NULL,    -- JSON object
	created_at TEXT NOT NULL
);
CREATE INDEX sync_log_user ON sync_log (user_id, id);

-- A webhook event is processed once: the primary key decides, also
-- between two processes handling the same event at once.
CREATE TABLE sync_webhook_events (
	event_id TEXT PRIMARY KEY,
	crm_id TEXT NOT NULL,
	result TEXT NOT NULL,
	received_at TEXT NOT NULL
);

-- POST /users with Idempotency-Key: the first answer, replayed.
CREATE TABLE sync_idempotency (
	key TEXT PRIMARY KEY,
	body_hash TEXT NOT NULL,          -- SHA-256 of the request body
	user_id TEXT NOT NULL,
	answer TEXT NOT NULL,             -- the first answer's body
	created_at TEXT NOT NULL
);
