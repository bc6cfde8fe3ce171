-- One index on jobs instead of two.  Every write of a job (the outbox row
-- in a change's transaction, the lease, the completion) paid for a page of
-- each index in the WAL; jobs_queue served only the counts and the outbox
-- release, which (state, run_at) answers as well: the due look-ups name
-- the state, so they never used jobs_queue (lib/jobs.c keeps it out of
-- their plans), and the queue is a filter on the few rows of a state.
DROP INDEX jobs_queue;
