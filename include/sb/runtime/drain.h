/*
 * The after-response drain: a responder names the queues whose due jobs
 * it runs after its responses (struct sb_app's drain), and the serving
 * loop calls sb_drain_after_response() after every response, so that a
 * change's durable work (events to the aggregator, CRM pushes, fetches)
 * goes out at once without slowing the answer; cron (`sbctl`) picks up
 * whatever this misses.
 *
 * It adapts to load.  A drain runs the due jobs a batch at a time until
 * none is due, but stops (or does not start) while another request waits
 * on the listening socket and this process looked less than
 * SB_DRAIN_LINGER_MS ago, unless its last batch was full.  Under load each
 * process so runs about one batch per linger, of what came due meanwhile;
 * a backlog drains in full batches; when the load stops, the last response
 * drains what is left at once.
 */
#ifndef SB_DRAIN_H
#define SB_DRAIN_H

#include "sb/runtime/context.h"

#define SB_DRAIN_LINGER_MS 50 /* least time between busy looks */

/* Notes whether fd 0 is a listening socket; called once at start. */
void sb_drain_init(struct sb_ctx *ctx);

/* Runs the due jobs of ctx->app->drain's queues as described above. */
void sb_drain_after_response(struct sb_ctx *ctx);

#endif
