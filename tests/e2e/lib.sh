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
# in_range VALUE LOW HIGH: VALUE is a whole number within LOW..HIGH.
in_range() { [[ "$1" =~ ^[0-9]+$ ]] && [ "$1" -ge "$2" ] && [ "$1" -le "$3" ]; }

# sql QUERY: runs QUERY on the main database.
sql() { sqlite3 -batch -noheader "$SB_VAR_DIR/switchboard.db" "$1"; }

GW=http://127.0.0.1:${SB_GATEWAY_PORT:-8080}
PJ=http://127.0.0.1:${SB_PROJECTS_PORT:-3000}
EV=http://127.0.0.1:${SB_EVENTS_PORT:-3001}
SBX=http://127.0.0.1:${SB_SANDBOX_PORT:-8081}
# The sandbox's control paths (/_sandbox/...) need its control token.
SBX_AUTH="Authorization: Bearer $(cat "$SB_VAR_DIR/secrets/sandbox.token" 2>/dev/null)"

# side_start VAR=VALUE...: a second, private stack on free ports with the
# given settings and one process per responder, for tests that must not
# slow or break the shared one.  Sets SIDE_VAR (its var dir), SIDE_GW,
# SIDE_PJ, SIDE_EV and SIDE_SBX (its base URLs) and SIDE_SBX_AUTH (the
# header with its sandbox's control token).  A port taken meanwhile by
# another program is retried on others (up to three times).  Non-zero,
# with the start log printed as TAP comments, if it did not start.  With
# SIDE_IN set (a command prefix such as "nsenter -t PID -m --root --wd=DIR
# --": a mount namespace) the stack's commands, here and in side_stop, run
# under it; with SIDE_AT set, SIDE_VAR is that directory, not a new one.
side_start() {
	local gw pj ev sbx try
	SIDE_VAR=${SIDE_AT:-$(mktemp -d /tmp/sb-e2e-side.XXXXXX)}
	for try in 1 2 3; do
		gw=$(free_port) pj=$(free_port) ev=$(free_port)
		sbx=$(free_port)
		SIDE_GW=http://127.0.0.1:$gw SIDE_PJ=http://127.0.0.1:$pj
		SIDE_EV=http://127.0.0.1:$ev SIDE_SBX=http://127.0.0.1:$sbx
		if env SB_VAR_DIR="$SIDE_VAR" SB_GATEWAY_PORT="$gw" \
		    SB_PROJECTS_PORT="$pj" SB_EVENTS_PORT="$ev" \
		    SB_SANDBOX_PORT="$sbx" SB_GATEWAY_PROCS=1 SB_PROXY_PROCS=1 \
		    SB_INTEGRATIONS_PROCS=1 \
		    SB_PROJECTS_PROCS=1 SB_EVENTS_PROCS=1 SB_SANDBOX_PROCS=1 \
		    "$@" ${SIDE_IN:-} scripts/stack start \
		    >"$SIDE_VAR/start.log" 2>&1; then
			SIDE_SBX_AUTH="Authorization: Bearer $(cat \
			    "$SIDE_VAR/secrets/sandbox.token")"
			return 0
		fi
		grep -q 'Address already in use' "$SIDE_VAR/start.log" ||
		    break
		SB_VAR_DIR=$SIDE_VAR ${SIDE_IN:-} scripts/stack stop \
		    >/dev/null 2>&1
	done
	sed 's/^/# /' "$SIDE_VAR/start.log" | tail -n 20
	return 1
}

# side_stop NAME: stops the side stack, checks that nothing of it is left
# running (one check named NAME) and removes its var dir.
side_stop() {
	local pids p left=
	pids=$(SB_VAR_DIR=$SIDE_VAR ${SIDE_IN:-} scripts/stack pids)
	SB_VAR_DIR=$SIDE_VAR ${SIDE_IN:-} scripts/stack stop >/dev/null 2>&1
	for p in $pids; do
		kill -0 "$p" 2>/dev/null && left="$left $p"
	done
	check "$1" test -z "$left"
	rm -rf "$SIDE_VAR"
}
