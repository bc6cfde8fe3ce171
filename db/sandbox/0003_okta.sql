-- The sandbox's Okta orgs, one per tenant (/okta/{tenant}/...), made or
-- reset by POST /_sandbox/okta/{tenant}.  The API token is kept in the
-- clear like the sandbox's other play tokens: it opens nothing but the
-- sandbox.  The rate budget is a fixed window: window_used requests since
-- window_start, at most rate_limit per rate_window_s seconds.
CREATE TABLE okta_tenants (
	tenant TEXT PRIMARY KEY,
	api_token TEXT NOT NULL,
	client_id TEXT NOT NULL,
	rate_limit INTEGER NOT NULL CHECK (rate_limit > 0),
	rate_window_s INTEGER NOT NULL CHECK (rate_window_s > 0),
	window_start INTEGER NOT NULL,
	window_used INTEGER NOT NULL DEFAULT 0,
	created_at INTEGER NOT NULL
);

-- A tenant's users; listed in id order (the "after" cursor is an id).
CREATE TABLE okta_users (
	tenant TEXT NOT NULL REFERENCES okta_tenants (tenant)
	    ON DELETE CASCADE,
	id TEXT NOT NULL,
	status TEXT NOT NULL CHECK (status IN ('STAGED', 'PROVISIONED',
	    'ACTIVE', 'RECOVERY', 'PASSWORD_EXPIRED', 'LOCKED_OUT',
	    'SUSPENDED', 'DEPROVISIONED')),
	login TEXT NOT NULL,
	email TEXT NOT NULL,
	first_name TEXT NOT NULL,
	last_name TEXT NOT NULL,
	created TEXT NOT NULL,
	activated TEXT,
	status_changed TEXT,
	last_login TEXT,
	last_updated TEXT NOT NULL,
	PRIMARY KEY (tenant, id)
);

CREATE UNIQUE INDEX okta_users_login ON okta_users (tenant, login);
