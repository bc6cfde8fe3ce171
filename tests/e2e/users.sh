# Helpers of the CRM sync's end-to-end files (70_users, 71_crm_webhooks),
# sourced by them.

US_JSON='Content-Type: application/json'
SBCTL=$SB_BIN_DIR/sbctl

# us_create NAME EMAIL PHONE [curl args...]: POST /users; US_ID gets the id.
us_create() {
	local name=$1 email=$2 phone=$3
	shift 3
	http POST "$GW/users" -H "$US_JSON" "$@" \
	    -d "{\"name\": \"$name\", \"email\": \"$email\", \"phone\": \"$phone\"}"
	US_ID=$(printf '%s' "$BODY" | jq -r .id 2>/dev/null)
}

# us_wait ID STATUS [SECONDS]: polls GET /users/ID (on US_GW, else the
# stack's gateway) until its sync_status is STATUS (5 s by default); the
# last answer stays in BODY.
us_wait() {
	local i
	for i in $(seq 1 $((${3:-5} * 20))); do
		http GET "${US_GW:-$GW}/users/$1"
		jq_is .sync_status "$2" && return 0
		sleep 0.05
	done
	return 1
}

# us_wait_sql QUERY VALUE: waits up to 3 s for QUERY to answer VALUE.
us_wait_sql() {
	local i
	for i in $(seq 1 60); do
		[ "$(sql "$1")" = "$2" ] && return 0
		sleep 0.05
	done
	return 1
}

# us_wait_tried ID: waits up to 3 s for user ID's sync job to have had an
# attempt that failed and was given back (pending again, in backoff), so
# that sbctl finds it free.
us_wait_tried() {
	us_wait_sql "SELECT j.state || ':' || (j.attempts >= 1) FROM jobs j \
	    JOIN sync_users u ON u.job_id = j.id WHERE u.id = '$1'" "pending:1"
}

# us_crm_make SANDBOX VAR GATEWAY: makes the sandbox's CRM again as the
# stack in VAR made it (client "switchboard", VAR's secrets), its
# webhooks to GATEWAY; STATUS gets the answer's.
us_crm_make() {
	http POST "$1/_sandbox/crm" \
	    -H "Authorization: Bearer $(cat "$2/secrets/sandbox.token")" \
	    -H "$US_JSON" -d "$(jq -n \
	    --arg c "$(cat "$2/secrets/crm-client.secret")" \
	    --arg s "$(cat "$2/secrets/crm-webhook.secret")" \
	    --arg u "$3/webhooks/crm" \
	    '{client_id: "switchboard", client_secret: $c, webhook_secret: $s, webhook_url: $u}')"
}

# us_log ID: the user's sync log into BODY.
us_log() { http GET "$GW/users/$1/sync-log"; }

# us_sbctl ARGS...: sbctl sync in the stack's environment; its report in
# US_OUT, its log lines appended to US_SBCTL_LOG.
US_SBCTL_LOG=$SB_VAR_DIR/log/e2e-sbctl-sync.log
us_sbctl() {
	US_OUT=$( (set -a; . "$SB_VAR_DIR/run/env"; set +a
	    "$SBCTL" "$@") 2>>"$US_SBCTL_LOG")
}

# us_fault JSON: a sandbox failure switch.
us_fault() {
	curl -s -o /dev/null -X POST "$SBX/_sandbox/faults" -H "$SBX_AUTH" \
	    -H "$US_JSON" -d "$1"
}
us_faults_off() {
	curl -s -o /dev/null -X DELETE "$SBX/_sandbox/faults" -H "$SBX_AUTH"
}

# us_crm_user CRM_ID: the CRM's own record of the user, into BODY (read
# with a token of the stack's CRM client).
us_crm_user() {
	http GET "$SBX/crm/users/$1" -H "Authorization: Bearer $(us_crm_token)"
}

# us_crm_token: a bearer token of the stack's CRM client, on stdout.
us_crm_token() {
	curl -s -X POST "$SBX/crm/token" -u "switchboard:$(cat \
	    "$SB_VAR_DIR/secrets/crm-client.secret")" \
	    -d grant_type=client_credentials | jq -r .access_token
}

# us_crm_add NAME EMAIL PHONE: makes a user in the CRM itself (not
# through the gateway); STATUS and BODY get the CRM's answer.
us_crm_add() {
	http POST "$SBX/crm/users" -H "Authorization: Bearer $(us_crm_token)" \
	    -H "$US_JSON" -d "$(jq -n --arg n "$1" --arg e "$2" --arg p "$3" \
	    '{name: $n, email: $e, phone: $p}')"
}
