# Helpers of the connection-manager e2e files (40_, 41_, 42_): sandbox
# tokens, connections, calls, sandbox switches and counters.

CX_JSON='Content-Type: application/json'
cx_auth() { printf 'Authorization: Bearer %s' "$1"; }
cx_post() { # URL BODY [curl args]
	local url=$1 body=$2
	shift 2
	http POST "$url" -H "$CX_JSON" --data-binary "$body" "$@"
}
cx_reset() {
	curl -s -o /dev/null -X DELETE "$SBX/_sandbox/faults" -H "$SBX_AUTH"
	curl -s -o /dev/null -X DELETE "$SBX/_sandbox/stats" -H "$SBX_AUTH"
}
cx_hits() { curl -s "$SBX/_sandbox/stats" -H "$SBX_AUTH" | jq -r --arg p "$1" '.paths[$p] // 0'; }
cx_total() { curl -s "$SBX/_sandbox/stats" -H "$SBX_AUTH" | jq -r '.total'; }
# cx_grant [curl args]: a fresh sandbox pair into AT and RT.
cx_grant() {
	local out
	out=$(curl -s -X POST "$SBX/oauth/grant" "$@")
	AT=$(printf '%s' "$out" | jq -r .access_token)
	RT=$(printf '%s' "$out" | jq -r .refresh_token)
}
# cx_create BODY: POST /connections; CID and CTOK from the answer.
cx_create() {
	cx_post "$GW/connections" "$1"
	CID=$(printf '%s' "$BODY" | jq -r '.id // empty' 2>/dev/null)
	CTOK=$(printf '%s' "$BODY" | jq -r '.token // empty' 2>/dev/null)
}
# cx_call ID TOKEN JSON: POST /connections/ID/call.
cx_call() { cx_post "$GW/connections/$1/call" "$3" -H "$(cx_auth "$2")"; }
cx_del() { curl -s -o /dev/null -X DELETE -H "$(cx_auth "$2")" "$GW/connections/$1"; }
# cx_fault PATH KIND [COUNT] [ARG]: sets a sandbox switch (checked).
cx_fault() {
	local body="{\"path\":\"$1\",\"kind\":\"$2\",\"count\":${3:-1}" code
	[ -n "${4:-}" ] && body="$body,\"arg\":$4"
	code=$(curl -s -o /dev/null -w '%{http_code}' -X POST \
	    "$SBX/_sandbox/faults" -H "$SBX_AUTH" -H "$CX_JSON" -d "$body}")
	[ "$code" = 201 ] || echo "not ok - sandbox switch $2 on $1 set ($code)"
}
