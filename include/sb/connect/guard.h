/*
 * The connection guard: every connection-scoped route calls it first.  It
 * reads "Authorization: Bearer <token>", checks the token against the
 * connection (keyed digest, constant-time compare), and answers the one
 * same 401 for a missing token, a wrong token, another connection's token
 * and an unknown connection, so nothing tells whether an id exists.
 */
#ifndef SB_GUARD_H
#define SB_GUARD_H

#include "sb/runtime/context.h"
#include "sb/connect/connection.h"

/*
 * Authenticates req for connection id (NULL: whichever the token names).
 * Returns true with conn filled (the caller clears it with
 * sb_connection_clear()); otherwise has sent the response (401, or what
 * sb_response_store_failed() answers if the store failed) and returns
 * false.
 */
bool sb_guard_connection(struct sb_ctx *ctx, struct sb_request *req,
    const char *id, struct sb_connection *conn);

/*
 * As sb_guard_connection(), and the connection must also be of provider
 * (NULL: any): a connection of another provider gets the same 401 as a
 * wrong token, so a token says nothing of what it is not for.
 */
bool sb_guard_connection_of(struct sb_ctx *ctx, struct sb_request *req,
    const char *id, const struct sb_provider *provider,
    struct sb_connection *conn);

#endif
