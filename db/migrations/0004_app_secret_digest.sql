-- App secrets are kept as keyed digests, never as given (docs/security.md).
-- The digests need the master key, which SQL does not have: the old
-- clear-text values are dropped here and `sbctl seed` (run by every start)
-- writes the digests.  Until then the webhook refuses every secret.
ALTER TABLE projects RENAME COLUMN app_secret TO app_secret_digest;
UPDATE projects SET app_secret_digest = '';
