# Helpers for the end-to-end tests, sourced by tests/e2e/run and by each
# test file.  Tests drive the real stack with curl and assert on statuses,
# bodies, headers and database state; each check prints one TAP line.

# check NAME COMMAND...: ok if the command succeeds.
check() {
	local name=$1
	shift
	if "$@"; then
		echo "ok - $name"
	else
		echo "not ok - $name"
		echo "#   status=${STATUS:-} body=$(printf '%s' "${BODY:-}" | head -c 300)"
	fi
}

# http METHOD URL [curl args...]: sets STATUS, BODY and HEADERS (a file).
HEADERS=$(mktemp)
http() {
	local method=$1 url=$2 out
	shift 2
	out=$(curl -sS -X "$method" -D "$HEADERS" -w '\n%{http_code}' \
	    --max-time 30 "$@" "$url" 2>&1)
	STATUS=${out##*$'\n'}
	BODY=${out%$'\n'*}
	[ "$BODY" = "$STATUS" ] && BODY=
	return 0
}

# header NAME: the value of a response header of the last http call.
header() {
	grep -i "^$1:" "$HEADERS" | head -n1 | cut -d: -f2- | tr -d '\r' |
	    sed 's/^ *//'
}

# jq_is FILTER EXPECTED: the last body's FILTER equals EXPECTED.
jq_is() {
	[ "$(printf '%s' "$BODY" | jq -r "$1" 2>/dev/null)" = "$2" ]
}

is() { [ "$1" = "$2" ]; }

# sql QUERY: runs QUERY on the main database.
sql() { sqlite3 -batch -noheader "$SB_VAR_DIR/switchboard.db" "$1"; }

GW=http://127.0.0.1:${SB_GATEWAY_PORT:-8080}
PJ=http://127.0.0.1:${SB_PROJECTS_PORT:-3000}
EV=http://127.0.0.1:${SB_EVENTS_PORT:-3001}
SBX=http://127.0.0.1:${SB_SANDBOX_PORT:-8081}
