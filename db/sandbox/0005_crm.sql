-- The sandbox's mock CRM (/crm/...), one per sandbox, made or reset by
-- POST /_sandbox/crm.  Its secrets (client secret, webhook secret) and
-- access tokens are kept in the clear like the sandbox's other play
-- secrets: they open nothing but the sandbox, and tests may read them.
--
-- The rate budget is a fixed window as the Okta tenants' is: window_used
-- requests since window_start, at most rate_limit per rate_window_s
-- seconds.  next_number numbers the users (crm_id "CRM" || number).
CREATE TABLE crm_config (
	id INTEGER PRIMARY KEY CHECK (id = 1),
	client_id TEXT NOT NULL,
	client_secret TEXT NOT NULL,
	webhook_secret TEXT NOT NULL,
	webhook_url TEXT NOT NULL DEFAULT '',
	token_ttl_s INTEGER NOT NULL CHECK (token_ttl_s > 0),
	rate_limit INTEGER NOT NULL CHECK (rate_limit > 0),
	rate_window_s INTEGER NOT NULL CHECK (rate_window_s > 0),
	window_start INTEGER NOT NULL,
	window_used INTEGER NOT NULL DEFAULT 0,
	next_number INTEGER NOT NULL,
	created_at INTEGER NOT NULL
);

-- Access tokens of the client credentials grant; valid while the unix
-- time in milliseconds is below expires_ms.
CREATE TABLE crm_tokens (
	token TEXT PRIMARY KEY,
	expires_ms INTEGER NOT NULL
);

-- The CRM's users.  Times are ISO 8601 UTC with milliseconds.
CREATE TABLE crm_users (
	crm_id TEXT PRIMARY KEY,
	name TEXT NOT NULL,
	email TEXT NOT NULL,
	phone TEXT NOT NULL,
	created_at TEXT NOT NULL,
	updated_at TEXT NOT NULL
);

CREATE UNIQUE INDEX crm_users_email ON crm_users (lower(email));

-- Webhook events fired by PATCH /crm/admin/users/{crm_id}, in the order
-- they were fired (id).  body is the raw JSON sent, fixed when the event
-- is made so that every copy is the same.  state: pending (sent once
-- due_ms, unix milliseconds, has come), held (out_of_order: sent after
-- the next event), sending, done.  copies is 2 for "twice".
CREATE TABLE crm_events (
	id INTEGER PRIMARY KEY,
	event_id TEXT NOT NULL UNIQUE,
	crm_id TEXT NOT NULL,
	delivery TEXT NOT NULL CHECK (delivery IN ('now', 'late', 'twice',
	    'out_of_order')),
	state TEXT NOT NULL CHECK (state IN ('pending', 'held', 'sending',
	    'done')),
	due_ms INTEGER NOT NULL,
	copies INTEGER NOT NULL DEFAULT 1 CHECK (copies IN (1, 2)),
	body TEXT NOT NULL
);

CREATE INDEX crm_events_due ON crm_events (state, due_ms);

-- Each send of an event to webhook_url and what the receiver answered
-- (status 0: no answer; error says why).
CREATE TABLE crm_deliveries (
	id INTEGER PRIMARY KEY,
	event_id TEXT NOT NULL,
	copy INTEGER NOT NULL,
	url TEXT NOT NULL,
	signature TEXT NOT NULL,
	body TEXT NOT NULL,
	status INTEGER NOT NULL,
	error TEXT NOT NULL DEFAULT '',
	response TEXT NOT NULL DEFAULT '',
	sent_at TEXT NOT NULL
);
