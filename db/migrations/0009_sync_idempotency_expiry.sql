-- POST /users Idempotency-Key records expire: a key is replayed for
-- SB_USERS_IDEMPOTENCY_TTL_S (24 hours) after its first use, then pruned
-- by `sbctl tick` and `sbctl sync`.  The prune and the lookup's cut-off
-- read created_at (ISO 8601 UTC text, which sorts as time does).
CREATE INDEX sync_idempotency_created ON sync_idempotency (created_at);
