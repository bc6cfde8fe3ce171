/*
 * The responders' FastCGI loop: accept, read the request into the arena,
 * dispatch through the responder's routes, finish (nginx answers the
 * client), then the after-response work: the tasks handlers deferred, and
 * the drain of the responder's queues (sb/runtime/drain.h).
 */
#ifndef SB_SERVE_H
#define SB_SERVE_H

#include "sb/runtime/context.h"

#define SB_SERVE_ARENA_MAX (8u << 20) /* per-request arena cap */

/*
 * Runs the responder until its socket closes or it is signalled.  Returns
 * the process exit status: non-zero (after a log line) if the context or
 * FastCGI could not be set up.  Everything it made is released before it
 * returns.
 */
int sb_serve_main(const struct sb_app *app, int argc, char **argv);

#endif
