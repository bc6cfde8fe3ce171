/*
 * The responders' FastCGI loop: accept, read the request into the arena,
 * dispatch through the responder's routes, finish (nginx answers the
 * client), then the after-response work: the drain of the responder's
 * queues (sb/runtime/drain.h).
 */
#ifndef SB_SERVE_H
#define SB_SERVE_H

#include "sb/runtime/context.h"

#define SB_SERVE_ARENA_MAX (8u << 20) /* per-request arena cap */
#define SB_SERVE_THREADS_MAX 256 /* workers of one process */

/*
 * Runs the responder until its socket closes or it is signalled: one
 * worker, or app->threads(config) workers in threads of their own, each
 * with its own context (database handle, HTTP client), arena and FastCGI
 * request, taking turns at the listening socket.  Returns
 * the process exit status: non-zero (after a log line) if the context or
 * FastCGI could not be set up.  Everything it made is released before it
 * returns.
 */
int sb_serve_main(const struct sb_app *app, int argc, char **argv);

#endif
