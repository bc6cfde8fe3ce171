/*
 * How a failed call through a connection is answered (see
 * include/sb/connect/call.h): one table for every route that calls a
 * provider (the proxy's calls, the integrations' capabilities).
 */
#include <stddef.h>

#include "sb/connect/call.h"

/*
 * Each failure's status and code; the message stands in when the call
 * said nothing itself, so that no message is ever empty.
 */
static const struct sb_call_failure failures[] = {
	{ SB_ERR_INVALID, 400, "invalid_call", "the call is not allowed" },
	{ SB_ERR_CRYPTO, 409, "credentials_unreadable",
	    SB_CONNECTION_UNREADABLE_MESSAGE },
	{ SB_ERR_CONFLICT, 409, "reauthorization_required",
	    "the connection needs to be re-authorised" },
	{ SB_ERR_UNAUTHORIZED, 502, "token_refresh_failed",
	    "the token could not be refreshed" },
	{ SB_ERR_TIMEOUT, 504, "upstream_timeout",
	    "the provider did not answer in time" },
	{ SB_ERR_TOO_LARGE, 502, "upstream_too_large",
	    "the provider's answer is too large" },
	{ SB_ERR_UPSTREAM, 502, "upstream_unreachable",
	    "the provider could not be reached" },
	{ SB_ERR_BUSY, 503, "busy", "the gateway is busy; try again" },
};

const struct sb_call_failure *
sb_call_failure(enum sb_err rc)
{
	for (size_t i = 0; i < sizeof(failures) / sizeof(failures[0]); i++)
		if (failures[i].rc == rc)
			return &failures[i];
	return NULL;
}
