/*
 * What the files of lib/sync share and nobody else uses: the one client
 * of the CRM (through its connection), and the walk over the users that
 * `sbctl sync` finds due.
 */
#ifndef SB_SYNC_INTERNAL_H
#define SB_SYNC_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <cJSON.h>

#include "sb/client/http.h"
#include "sb/runtime/context.h"
#include "sb/sync/users.h"

#define SYNC_COMPONENT "sync"
#define SYNC_RETRY_AFTER_MAX_MS (86400L * 1000) /* a day */

/*
 * Calls the CRM through the connection named by crm_connection: method
 * on path (under the provider's base URL) with body (JSON, or NULL) and
 * headers (an object of strings, or NULL).  On
 * SB_OK resp holds the CRM's answer, whatever its status; otherwise err
 * says why (no secret).  The caller clears resp in every case.
 */
enum sb_err sync_crm_call(struct sb_ctx *ctx, const char *method,
    const char *path, const cJSON *body, const cJSON *headers,
    struct sb_http_response *resp, char *err, size_t errsize);

/* The CRM's Retry-After in whole seconds (0: none). */
int64_t sync_retry_after_s(const struct sb_http_response *resp);

/* A short description of the CRM's error answer into err. */
void sync_crm_error(
    const struct sb_http_response *resp, char *err, size_t errsize);

/* What sync_each_due() does with one user's id. */
typedef enum sb_err (*sync_due_fn)(struct sb_ctx *ctx, const char *id);

/*
 * Runs fn on each user of kind due at at (sb_users_due()), at most
 * SB_SYNC_RECONCILE_BATCH: *done counts its SB_OK, *failed its errors but
 * SB_ERR_NOT_FOUND (nothing to do after all).  A user's error does not
 * stop the walk; the result is an error only when none could be looked
 * for.
 */
enum sb_err sync_each_due(struct sb_ctx *ctx, enum sb_users_due_kind kind,
    int64_t at, sync_due_fn fn, int *done, int *failed);

#endif
