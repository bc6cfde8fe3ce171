/*
 * The queue table (see include/sb/queues.h).  A new kind of durable work
 * adds one row here and nothing else.
 */
#include "sb/events.h"
#include "sb/queues.h"

const struct sb_work_queue sb_queues[] = {
	{ SB_EVENTS_QUEUE, sb_events_deliver },
};

const size_t sb_queue_count = sizeof(sb_queues) / sizeof(sb_queues[0]);
