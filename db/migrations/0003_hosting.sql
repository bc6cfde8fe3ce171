-- The hosting panel (brief 001): users, projects and deployments of the
-- projects service, and the events of the aggregation service.
-- Times: *_at are ISO-8601 UTC text with milliseconds; created_ms is the
-- same instant in unix milliseconds, for deployedIn and the statistics.

CREATE TABLE users (
	id INTEGER PRIMARY KEY,
	email TEXT NOT NULL,
	username TEXT NOT NULL,
	created_at TEXT NOT NULL
);

CREATE TABLE projects (
	id INTEGER PRIMARY KEY,
	name TEXT NOT NULL,
	url TEXT,
	user_id INTEGER NOT NULL REFERENCES users (id),
	app_secret TEXT NOT NULL,
	created_at TEXT NOT NULL
);

-- A user's projects, for the statistics.
CREATE INDEX projects_user ON projects (user_id);

CREATE TABLE deployments (
	id INTEGER PRIMARY KEY,
	project_id INTEGER NOT NULL REFERENCES projects (id),
	status TEXT NOT NULL DEFAULT 'pending'
	    CHECK (status IN ('pending', 'building', 'deploying', 'done',
	        'failed', 'cancelled')),
	deployed_in INTEGER,
	created_at TEXT NOT NULL,
	created_ms INTEGER NOT NULL,
	updated_at TEXT NOT NULL
);

-- The hasOngoingDeployment / hasLiveDeployment flags: EXISTS look-ups by
-- project and status.
CREATE INDEX deployments_project_status ON deployments (project_id, status);

-- A project's deployments by id (?projectId= listing, newest first).
CREATE INDEX deployments_project ON deployments (project_id, id);

-- seq orders events (newest first); id is the sender's id, unique so a
-- redelivered event is stored once.
CREATE TABLE events (
	seq INTEGER PRIMARY KEY,
	id TEXT NOT NULL UNIQUE,
	name TEXT NOT NULL,
	project_id INTEGER,
	payload TEXT NOT NULL,
	created_at TEXT NOT NULL
);

-- The ?projectId= and ?name= filters, newest first.
CREATE INDEX events_project ON events (project_id, seq);
CREATE INDEX events_name ON events (name, seq);
