/*
 * The queue table (see include/sb/queues.h).  A new kind of durable work
 * adds one row here and nothing else.  Events go out in batches: one POST
 * of up to SB_EVENTS_BATCH_MAX of them per round; a delivered event's job
 * is deleted, since the events service holds the event from then on.
 * CRM pushes are leased SB_SYNC_PUSH_BATCH_MAX at a time and go one user
 * after another; the first that fails ends the round (sb/sync/sync.h).
 */
#include "sb/fetch/fetch.h"
#include "sb/hosting/events.h"
#include "sb/hosting/outbox.h"
#include "sb/queues.h"
#include "sb/sync/sync.h"

const struct sb_work_queue sb_queues[SB_QUEUE_COUNT] = {
	{ .queue = SB_EVENTS_QUEUE,
	    .run = sb_outbox_deliver,
	    .run_batch = sb_outbox_deliver_batch,
	    .batch_max = SB_EVENTS_BATCH_MAX,
	    .remove_done = true },
	{ .queue = SB_FETCH_QUEUE, .run = sb_fetch_run },
	{ .queue = SB_SYNC_QUEUE,
	    .run = sb_sync_push,
	    .batch_max = SB_SYNC_PUSH_BATCH_MAX },
};

_Static_assert(sizeof(sb_queues) / sizeof(sb_queues[0]) == SB_QUEUE_COUNT,
    "SB_QUEUE_COUNT is the number of rows of sb_queues");
