-- What GET /data answers from: each fetch process keeps a snapshot of the
-- stored items in memory (lib/fetch/snapshot.c) and reads this one row on
-- every request; the snapshot is loaded again when the version differs
-- from the one it was loaded at.  The triggers bump the version on every
-- change to an item or to a resource's configuration, whoever writes it
-- (a fetch, `sbctl`, an operator's own SQL), so no writer has to know
-- about the snapshots.  A fetch that changes nothing (a 304, every item
-- unchanged) writes no item and keeps the snapshots.
CREATE TABLE fetch_data_version (
	id INTEGER PRIMARY KEY CHECK (id = 1),
	version INTEGER NOT NULL
);

INSERT INTO fetch_data_version (id, version) VALUES (1, 0);

CREATE TRIGGER fetch_items_insert_version AFTER INSERT ON fetch_items
BEGIN
	UPDATE fetch_data_version SET version = version + 1;
END;

CREATE TRIGGER fetch_items_update_version AFTER UPDATE ON fetch_items
BEGIN
	UPDATE fetch_data_version SET version = version + 1;
END;

CREATE TRIGGER fetch_items_delete_version AFTER DELETE ON fetch_items
BEGIN
	UPDATE fetch_data_version SET version = version + 1;
END;

CREATE TRIGGER fetch_resources_insert_version AFTER INSERT ON fetch_resources
BEGIN
	UPDATE fetch_data_version SET version = version + 1;
END;

CREATE TRIGGER fetch_resources_update_version AFTER UPDATE ON fetch_resources
BEGIN
	UPDATE fetch_data_version SET version = version + 1;
END;

CREATE TRIGGER fetch_resources_delete_version AFTER DELETE ON fetch_resources
BEGIN
	UPDATE fetch_data_version SET version = version + 1;
END;
