/*
 * The queue table: which function runs the jobs of which queue.  The
 * responders (one attempt right after a response) and sbctl (everything
 * due, from cron) walk the same table, so a job runs the same code either
 * way.
 */
#ifndef SB_QUEUES_H
#define SB_QUEUES_H

#include <stddef.h>

#include "sb/runtime/work.h"

#define SB_QUEUE_COUNT 3 /* rows of sb_queues */

extern const struct sb_work_queue sb_queues[SB_QUEUE_COUNT];

#endif
