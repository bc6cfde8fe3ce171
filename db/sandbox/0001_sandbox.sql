-- The sandbox's own database: request counters per path (for the tests'
-- /_sandbox/stats) and the failure switches set through /_sandbox/faults.
-- Several switches may wait on one path; they are taken oldest first.
CREATE TABLE sandbox_hits (
	path TEXT PRIMARY KEY,
	count INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE sandbox_faults (
	id INTEGER PRIMARY KEY,
	path TEXT NOT NULL,
	kind TEXT NOT NULL CHECK (kind IN ('status', '429', 'slow',
	    'malformed', 'oversized', 'redirect', 'no_refresh_token')),
	remaining INTEGER NOT NULL DEFAULT 1 CHECK (remaining > 0),
	arg INTEGER NOT NULL DEFAULT 0
);

CREATE INDEX sandbox_faults_path ON sandbox_faults (path, id);
