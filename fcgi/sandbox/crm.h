/*
 * What the sandbox's mock CRM (crm.c: set-up, token endpoint, the gate of
 * its API, its error bodies) shares with its users API (crm_users.c) and
 * its webhooks (crm_webhooks.c).  The CRM plays a third-party service the
 * gateway syncs users to: its errors are its own {"error", "message"}
 * bodies, never the library's, and carry no Switchboard-Error.
 */
#ifndef SANDBOX_CRM_H
#define SANDBOX_CRM_H

#include <stdint.h>

#include "sb/core/contact.h"
#include "sandbox.h"

#define CRM_ID_MAX 24 /* "CRM" and a number */
#define CRM_ISO_MAX 32 /* "2024-01-01T00:00:00.000Z" */
#define CRM_SECRET_MAX 128 /* bytes of a client id or a secret */
#define CRM_URL_MAX 2048 /* bytes of webhook_url */

/* The fields of a CRM user, in the order its bodies show them. */
enum crm_field {
	CRM_FIELD_NAME,
	CRM_FIELD_EMAIL,
	CRM_FIELD_PHONE,
	CRM_FIELD__MAX
};

extern const char *const crm_field_names[CRM_FIELD__MAX];

/* A user body as read by crm_user_read(): NULL for a field not given. */
struct crm_user_input {
	const char *values[CRM_FIELD__MAX];
};

/* Unix time in milliseconds. */
int64_t crm_now_ms(void);

/* Unix milliseconds ms as "2024-01-01T00:00:00.000Z" ("" if it fails). */
void crm_iso_ms(int64_t ms, char out[CRM_ISO_MAX]);

/* The CRM's error: status with {"error": code, "message"}. */
void crm_error(
    struct sb_request *req, int status, const char *code, const char *message);

/* 404 not_found naming what. */
void crm_not_found(struct sb_request *req, const char *what);

/*
 * Every users API route's first step: the CRM must be set up (404
 * not_found otherwise); the request is counted against its rate budget
 * (X-RateLimit-Limit, -Remaining and -Reset on the answer; past it 429
 * rate_limited with Retry-After); the bearer token must be a live one of
 * the CRM's (401 invalid_token with WWW-Authenticate otherwise).  True iff
 * the request goes on; otherwise the answer was sent.
 */
bool crm_enter(struct sb_ctx *ctx, struct sb_request *req);

/*
 * Reads req's body, a JSON object of user fields, into in.  With all set
 * every field is required (POST, PUT); otherwise at least one (the admin
 * PATCH).  Members named in skip (NULL-terminated, may be NULL) are left
 * alone; any other unknown member is refused.  False after answering 400:
 * invalid_request for a body that is not a JSON object, validation_failed
 * with "fields": [{"field", "message"}] naming every bad field.
 */
bool crm_user_read(struct sb_request *req, bool all, const char *const *skip,
    struct crm_user_input *in);

/*
 * Sets the given fields of user crm_id and its updated_at to now, inside
 * the caller's transaction.  SB_OK, SB_ERR_NOT_FOUND, SB_ERR_CONFLICT
 * (another user has the email) or SB_ERR_DB.
 */
enum sb_err crm_user_update(struct sb_ctx *ctx, const char *crm_id,
    const struct crm_user_input *in, const char *now);

/*
 * The user crm_id as the API shows it: {"crm_id", "name", "email",
 * "phone", "created_at", "updated_at"}; *out NULL and SB_ERR_NOT_FOUND
 * when there is none.  On SB_OK the caller frees *out with cJSON_Delete().
 */
enum sb_err crm_user_load(struct sb_ctx *ctx, const char *crm_id, cJSON **out);

/* Answers the store failure rc of a user write: 404, 409 or 500. */
void crm_user_write_failed(
    struct sb_request *req, enum sb_err rc, const char *crm_id);

#endif
