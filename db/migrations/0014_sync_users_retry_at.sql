-- A delete the CRM did not take through all its attempts (an outage) is
-- not dropped: retry_at (unix seconds) is when `sbctl sync` gives it
-- another sync job; NULL when none is due (the CRM refused it outright,
-- or the user is not deleted).  A deleted user is out of the API's reach,
-- so nothing else could start it again.  The index holds deleted users
-- only: those whose delete has not reached the CRM yet, and the few it
-- refused.
ALTER TABLE sync_users ADD COLUMN retry_at INTEGER;
CREATE INDEX sync_users_deleted ON sync_users (retry_at) WHERE deleted = 1;
