/*
 * What the sandbox's Okta org (okta.c: tenants, the gate every tenant
 * request passes, Okta's error bodies) shares with its users API
 * (okta_users.c).  The org follows Okta's Management API closely enough
 * that a client written against Okta works against it unchanged.
 */
#ifndef SANDBOX_OKTA_H
#define SANDBOX_OKTA_H

#include <stdint.h>

#include "sb/store/secrets.h"
#include "sandbox.h"

#define OKTA_TENANT_MAX 63 /* a tenant is one DNS label */
#define OKTA_USER_ID_LEN 20 /* "00u" and 17 letters and digits */
#define OKTA_URL_MAX 2048 /* bytes of a Link header's URL */
#define OKTA_USERS_SEEDED 250 /* users of a new or reset tenant */
#define OKTA_KEY_ID_MAX 128 /* bytes of a registered key's id */

/* The tenant a request names, found and counted by okta_enter(). */
struct okta_tenant {
	const char *name; /* the path parameter, borrowed from the request */
	char client_id[SB_SECRETS_TOKEN_MAX];
	const char *base_url; /* "http://<host>/okta/<tenant>", arena */
};

/*
 * Okta's error answer: status with {"errorCode", "errorSummary",
 * "errorLink", "errorId", "errorCauses"}; cause (NULL for none) becomes
 * the one entry of errorCauses.  Never carries Switchboard-Error: the
 * sandbox plays Okta here, not Switchboard.
 */
void okta_error(struct sb_request *req, int status, const char *code,
    const char *summary, const char *cause);

/* "http://<Host>/okta/<tenant>" in req's arena (the Host nginx checked). */
const char *okta_base_url(struct sb_request *req, const char *tenant);

/* 404 E0000007 for the resource what (a user id, a path). */
void okta_not_found(struct sb_request *req, const char *what);

/*
 * Every tenant route's first step: finds the tenant of the path (404
 * E0000007 if none), counts the request against its rate budget (adding
 * the X-Rate-Limit-* headers; 429 E0000047 past the budget) and checks
 * the token: "SSWS <api token>" or "Bearer <access token>" issued to the
 * tenant's client (401 E0000011 otherwise).  True with *out set iff the
 * request goes on; otherwise the answer was sent.
 */
bool okta_enter(
    struct sb_ctx *ctx, struct sb_request *req, struct okta_tenant *out);

/*
 * Replaces the tenant's users with OKTA_USERS_SEEDED fresh ones in mixed
 * statuses, inside the caller's transaction.
 */
enum sb_err okta_users_seed(struct sb_ctx *ctx, const char *tenant);

#endif
