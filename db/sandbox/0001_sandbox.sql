-- The sandbox's own database: request counters per path (for the tests'
-- /_sandbox/stats) and the failure switches set through /_sandbox/faults.
CREATE TABLE sandbox_hits (
	path TEXT PRIMARY KEY,
	count INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE sandbox_faults (
	path TEXT PRIMARY KEY,
	kind TEXT NOT NULL,
	remaining INTEGER NOT NULL DEFAULT 1,
	arg INTEGER NOT NULL DEFAULT 0
);
