/*
 * The queue table (see include/sb/queues.h).  A new kind of durable work
 * adds one row here and nothing else.  Events go out in batches: one POST
 * of up to SB_EVENTS_BATCH_MAX of them per round; a delivered event's job
 * is deleted, since the events service holds the event from then on.
 */
#include "sb/events.h"
#include "sb/queues.h"

const struct sb_work_queue sb_queues[] = {
	{ SB_EVENTS_QUEUE, sb_events_deliver, sb_events_deliver_batch,
	    SB_EVENTS_BATCH_MAX, true },
};

const size_t sb_queue_count = sizeof(sb_queues) / sizeof(sb_queues[0]);
