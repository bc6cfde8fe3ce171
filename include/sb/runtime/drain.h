/*
 * The after-response drain: a responder names the queues whose due jobs
 * it runs after its responses (struct sb_app's drain), and the serving
 * loop calls sb_drain_after_response() after every response, so that a
 * change's durable work (events to the aggregator, CRM pushes, fetches)
 * goes out at once without slowing the answer; cron (`sbctl`) picks up
 * whatever this misses.
 *
 * It gives way to requests.  A drain runs the due jobs a round (one batch
 * per queue) at a time until none is due, but stops (or does not start)
 * while another request waits on the listening socket or is in another
 * worker's hands, and this process looked less than SB_DRAIN_LINGER_MS
 * ago.  Under load each process so
 * runs one round per linger, and that round makes one upstream call per
 * queue: a queue that sends its batch as one call (events) sends it, a
 * queue whose jobs are calls of their own (CRM pushes) stops after the
 * job during which a request came (sb/runtime/work.h).  The answers keep
 * their pace and a backlog grows instead, drained in full rounds by the
 * response after which no request waits (or by cron).  A
 * round in which a job failed ends the drain until the next response, so
 * an outage of the other side costs one attempt per response, not one per
 * due job.  Each round has a request's budget of its own
 * (sb_config_request_budget_ms()) as its deadline: a backlog of any size
 * drains round by round, each shorter than a job's lease (job_lease_s
 * outlasts a request's budget: the configuration checks it).
 */
#ifndef SB_DRAIN_H
#define SB_DRAIN_H

#include "sb/runtime/context.h"

#define SB_DRAIN_LINGER_MS 50 /* least time between busy looks */

/* Notes whether fd 0 is a listening socket; called once at start. */
void sb_drain_init(struct sb_ctx *ctx);

/*
 * True if a connection waits to be accepted on the listening socket, or
 * another worker of the process holds a request it has not answered.
 */
bool sb_drain_request_waiting(const struct sb_drain_state *state);

/* Runs the due jobs of ctx->app->drain's queues as described above. */
void sb_drain_after_response(struct sb_ctx *ctx);

#endif
