-- private_key_jwt for the sandbox's Okta orgs.  Each tenant's OAuth client
-- has one registered public key (PEM SubjectPublicKeyInfo) with its key id;
-- POST /_sandbox/okta/{tenant} makes a key pair or registers a public key
-- the caller sends.  Every client assertion's jti is kept until the
-- assertion expires, so a replayed assertion is refused.
ALTER TABLE okta_tenants ADD COLUMN key_id TEXT;
ALTER TABLE okta_tenants ADD COLUMN public_key TEXT;

CREATE TABLE okta_assertions (
	tenant TEXT NOT NULL REFERENCES okta_tenants (tenant)
	    ON DELETE CASCADE,
	jti TEXT NOT NULL,
	expires_at INTEGER NOT NULL,
	PRIMARY KEY (tenant, jti)
);

CREATE INDEX okta_assertions_expiry ON okta_assertions (expires_at);
