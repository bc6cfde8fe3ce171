-- The connection manager (brief 000): connections with sealed credentials,
-- the state of their token lifecycle, and mappings.
CREATE TABLE connections (
	id TEXT PRIMARY KEY,
	provider TEXT NOT NULL,
	-- keyed BLAKE2b of the connection token; the token itself is never kept
	token_digest TEXT NOT NULL,
	-- XChaCha20-Poly1305 blob bound to "connection:<id>:credentials"
	credentials BLOB NOT NULL,
	config TEXT NOT NULL DEFAULT '{}',
	metadata TEXT NOT NULL DEFAULT '{}',
	access_expires_at INTEGER,
	last_refresh_at INTEGER,
	last_refresh_status TEXT,
	last_refresh_error TEXT,
	refresh_failures INTEGER NOT NULL DEFAULT 0,
	needs_reauth INTEGER NOT NULL DEFAULT 0,
	refresh_lease_owner TEXT,
	refresh_lease_until INTEGER,
	created_at TEXT NOT NULL,
	updated_at TEXT NOT NULL
);

CREATE INDEX connections_expiry ON connections (access_expires_at);

CREATE TABLE mappings (
	id TEXT PRIMARY KEY,
	spec TEXT NOT NULL,
	root TEXT,
	created_at TEXT NOT NULL
);
