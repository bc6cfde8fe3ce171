-- The sandbox's OAuth2 provider.  Tokens are stored in the clear: they
-- are the sandbox's own play tokens, worth nothing outside it, and tests
-- may read them here.  Switchboard's real tokens are never stored so.
--
-- An access token is valid through the second expires_at (unix seconds:
-- issue time plus expires_in, whole seconds, so it never dies early).  A
-- refresh token has no expiry; it is valid while valid = 1, and a rotating
-- refresh sets it to 0.  ttl_s is the lifetime given to the access tokens a
-- refresh token obtains, so a short-lived grant stays short-lived.
CREATE TABLE sandbox_tokens (
	token TEXT PRIMARY KEY,
	kind TEXT NOT NULL CHECK (kind IN ('access', 'refresh')),
	client_id TEXT NOT NULL DEFAULT '',
	grant_type TEXT NOT NULL,
	expires_at INTEGER,
	ttl_s INTEGER NOT NULL,
	valid INTEGER NOT NULL DEFAULT 1 CHECK (valid IN (0, 1)),
	created_at INTEGER NOT NULL
);

CREATE INDEX sandbox_tokens_expiry ON sandbox_tokens (kind, expires_at);
