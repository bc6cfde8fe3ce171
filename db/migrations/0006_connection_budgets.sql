-- Each connection's last seen provider rate budget (lib/connect/budget.c,
-- docs/throttling-and-retries.md): the window's limit, what was left and
-- when the window resets, on our clock (the provider's reset measured
-- against its own Date).  Written only when it changes in a way that
-- matters, and never at the cost of a call: a failed write is logged.
CREATE TABLE connection_budgets (
	connection_id TEXT PRIMARY KEY
	    REFERENCES connections (id) ON DELETE CASCADE,
	rate_limit INTEGER NOT NULL, -- -1: the provider does not say
	remaining INTEGER NOT NULL,
	reset_at_ms INTEGER NOT NULL, -- epoch milliseconds, our clock
	updated_at_ms INTEGER NOT NULL
) WITHOUT ROWID;
