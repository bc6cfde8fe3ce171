-- The fields of a user's first create in the CRM.  A create carries
-- Idempotency-Key: <the user's id>, and a CRM answers that key only for
-- the same body: a retry after a lost answer must send what the first
-- attempt sent, even if the user was changed locally since.  They are
-- written with the user (POST /users) and cleared once the CRM gave a
-- crm_id; NULL means the create sends the user's fields as they are.
ALTER TABLE sync_users ADD COLUMN create_name TEXT;
ALTER TABLE sync_users ADD COLUMN create_email TEXT;
ALTER TABLE sync_users ADD COLUMN create_phone TEXT;
