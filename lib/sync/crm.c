/*
 * The one client of the CRM: every call goes through the CRM connection
 * (config crm_connection) and sb_call_perform(), which adds the bearer
 * token, renews the client-credentials token when it has expired and
 * once more on a 401, and keeps the call on the provider's host.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "sb/connect/call.h"
#include "sb/connect/connection.h"
#include "sync_internal.h"

enum sb_err
sync_crm_call(struct sb_ctx *ctx, const char *method, const char *path,
    const cJSON *body, const cJSON *headers, struct sb_http_response *resp,
    char *err, size_t errsize)
{
	struct sb_connection conn = { 0 };
	struct sb_call call = {
		.method = method, .path = path, .headers = headers
	};
	char *text = NULL;
	enum sb_err rc = SB_ERR_CONFIG;

	if (ctx->config.crm_connection[0] == '\0') {
		snprintf(err, errsize, "crm_connection is not configured");
		goto out;
	}
	rc = sb_connection_load(
	    SB_CONNECTION_STORE(ctx), ctx->config.crm_connection, &conn);
	if (rc != SB_OK) {
		snprintf(err, errsize, "the CRM connection cannot be used: %s",
		    sb_strerror(rc));
		goto out;
	}
	if (body != NULL) {
		if ((text = cJSON_PrintUnformatted(body)) == NULL) {
			rc = SB_ERR_NOMEM;
			goto out;
		}
		call.body = text;
		call.body_len = strlen(text);
		call.content_type = "application/json";
	}
	rc = sb_call_perform(ctx, &conn, &call, resp, err, errsize);
	if (rc != SB_OK && err[0] == '\0')
		snprintf(err, errsize, "CRM call failed: %s", sb_strerror(rc));
out:
	cJSON_free(text);
	sb_connection_clear(&conn);
	return rc;
}

int64_t
sync_retry_after_s(const struct sb_http_response *resp)
{
	long ms =
	    sb_http_retry_after_ms(resp, time(NULL), SYNC_RETRY_AFTER_MAX_MS);

	return ms > 0 ? (ms + 999) / 1000 : 0;
}

void
sync_crm_error(const struct sb_http_response *resp, char *err, size_t errsize)
{
	cJSON *answer = NULL;
	const cJSON *code, *message;

	if (resp->body != NULL)
		answer = cJSON_ParseWithLength(resp->body, resp->body_len);
	code = cJSON_GetObjectItemCaseSensitive(answer, "error");
	message = cJSON_GetObjectItemCaseSensitive(answer, "message");
	snprintf(err, errsize, "CRM answered %ld%s%s%s%s", resp->status,
	    cJSON_IsString(code) ? " " : "",
	    cJSON_IsString(code) ? code->valuestring : "",
	    cJSON_IsString(message) ? ": " : "",
	    cJSON_IsString(message) ? message->valuestring : "");
	cJSON_Delete(answer);
}
