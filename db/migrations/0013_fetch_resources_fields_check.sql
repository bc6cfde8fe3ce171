-- fetch_resources.fields must be a JSON array of field names: segments of
-- letters, digits, '_', '$' or '-', joined by single dots (a dot reaches
-- into an object).  GET /data reads each as the JSON path '$.' || name, and
-- a name that is no path (empty, '[', a quote) used to fail every query of
-- its resource with a database error.  Now such a row is refused when it
-- is written, with a message saying what a field name is.  The rule is
-- written three times: in both triggers (SQLite has no trigger for insert
-- and update at once) and in fetch_field_valid() of lib/fetch/fetch.c,
-- which refuses rows written before this migration.
CREATE TRIGGER fetch_resources_fields_insert BEFORE INSERT ON fetch_resources
WHEN json_valid(NEW.fields) AND (json_type(NEW.fields) <> 'array'
    OR EXISTS (SELECT 1 FROM json_each(NEW.fields) WHERE type <> 'text'
        OR value = '' OR value GLOB '*[^A-Za-z0-9_$.-]*'
        OR value GLOB '.*' OR value GLOB '*.' OR value GLOB '*..*'))
BEGIN
	SELECT RAISE(ABORT, 'fetch_resources.fields: a JSON array of field names, each letters, digits, _ $ - (dots reach into objects)');
END;

CREATE TRIGGER fetch_resources_fields_update
BEFORE UPDATE OF fields ON fetch_resources
WHEN json_valid(NEW.fields) AND (json_type(NEW.fields) <> 'array'
    OR EXISTS (SELECT 1 FROM json_each(NEW.fields) WHERE type <> 'text'
        OR value = '' OR value GLOB '*[^A-Za-z0-9_$.-]*'
        OR value GLOB '.*' OR value GLOB '*.' OR value GLOB '*..*'))
BEGIN
	SELECT RAISE(ABORT, 'fetch_resources.fields: a JSON array of field names, each letters, digits, _ $ - (dots reach into objects)');
END;
