-- The jobs index names the queue: (state, queue, run_at) instead of
-- (state, run_at).  A look-up of one queue's due jobs (after every
-- response, for each queue the responder drains) read every due job of
-- every queue and kept its own: behind a backlog of thousands of CRM
-- pushes the events queue's look-up read all of them, on every response.
-- Now it reads only its own queue's due rows, and a lease takes a queue's
-- oldest pending jobs in index order without sorting its whole backlog.
-- Still one index on jobs (see 0005).
DROP INDEX jobs_state_run_at;
CREATE INDEX jobs_state_queue_run_at ON jobs (state, queue, run_at);
