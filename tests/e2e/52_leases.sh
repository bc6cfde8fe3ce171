# Leases and their holders (docs/reliability.md): on a side stack whose
# requests have 4 s (nginx 5 s, margin 1 s), a proxy process killed in the
# middle of a token refresh and a projects process killed in the middle of
# an event delivery leave leases that the next process takes over at once;
# a live refresher is waited for only until the caller's deadline, with a
# message; and `sbctl deliver` resumes events left in backoff by an outage
# once the events service answers again, without --now.

. tests/e2e/connections.sh

ls_env=(SB_FASTCGI_TIMEOUT_S=5 SB_DEADLINE_MARGIN_MS=1000
	SB_HTTP_TIMEOUT_MS=3500 SB_HTTP_CONNECT_TIMEOUT_MS=500
	SB_HTTP_MAX_ATTEMPTS=1 SB_DB_BUSY_TIMEOUT_MS=1000
	SB_PROXY_PROCS=2 SB_PROJECTS_PROCS=2 SB_SANDBOX_PROCS=3)

ls_ms() { date +%s%3N; }
# ls_sql QUERY: on the side stack's database.
ls_sql() { sqlite3 -batch -noheader "$SIDE_VAR/switchboard.db" "$1"; }
# ls_sbctl COMMAND [VAR=value...]: sbctl in the side stack's environment;
# its report line in LS_OUT.
ls_sbctl() {
	local cmd=$1
	shift
	LS_OUT=$( (set -a; . "$SIDE_VAR/run/env"; set +a
	    [ $# -gt 0 ] && export "$@"
	    "$SB_BIN_DIR/sbctl" "$cmd") 2>>"$SIDE_VAR/log/e2e-sbctl.log")
}
# ls_wait_for QUERY: polls the side database (3 s at most) until QUERY
# yields something; LS_GOT holds it.
ls_wait_for() {
	for _ in $(seq 1 60); do
		LS_GOT=$(ls_sql "$1")
		[ -n "$LS_GOT" ] && return 0
		sleep 0.05
	done
	return 1
}
# ls_expired_connection: a sandbox connection whose token has expired;
# LS_ID and LS_TOK.
ls_expired_connection() {
	local grant
	grant=$(curl -s -X POST "$SIDE_SBX/oauth/grant")
	http POST "$SIDE_GW/connections" -H "$CX_JSON" -d "{\"provider\":
	    \"sandbox\", \"credentials\": $(printf '%s' "$grant" |
	    jq -c '. + {expires_at: 1000000000} | del(.expires_in)')}"
	LS_ID=$(printf '%s' "$BODY" | jq -r .id)
	LS_TOK=$(printf '%s' "$BODY" | jq -r .token)
}
ls_fault() {
	curl -s -o /dev/null -X POST "$SIDE_SBX/_sandbox/faults" -H "$SIDE_SBX_AUTH" -H "$CX_JSON" -d "$1"
}

if side_start "${ls_env[@]}"; then
	# -- a proxy process killed while it refreshes --
	ls_expired_connection
	check "leases: a connection with an expired token" test -n "$LS_TOK"
	curl -s -o /dev/null -X DELETE "$SIDE_SBX/_sandbox/stats" -H "$SIDE_SBX_AUTH"
	ls_fault '{"path": "/oauth/token", "kind": "slow", "count": 1, "arg": 3000}'
	curl -s -o /dev/null --max-time 10 "$SIDE_GW/proxy/me" \
	    -H "$(cx_auth "$LS_TOK")" &
	ls_bg=$!
	ls_wait_for "SELECT refresh_lease_owner FROM connections
	    WHERE id = '$LS_ID' AND refresh_lease_owner IS NOT NULL"
	ls_holder=$LS_GOT
	check "killed refresher: the lease names its holder <host>:<pid>" \
	    test -n "$ls_holder" -a -z "${ls_holder##*:[0-9]*}"
	kill -9 "${ls_holder##*:}" 2>/dev/null
	t0=$(ls_ms)
	http GET "$SIDE_GW/proxy/me" -H "$(cx_auth "$LS_TOK")"
	took=$(($(ls_ms) - t0))
	check "killed refresher: the next call takes the lease over and succeeds" \
	    is "$STATUS" 200
	check "killed refresher: at once ($took ms, not the lease's 77 s)" \
	    test "$took" -lt 2500
	http GET "$SIDE_GW/connections/$LS_ID" -H "$(cx_auth "$LS_TOK")"
	check "killed refresher: the refresh is recorded as ok" \
	    jq_is .last_refresh.result ok
	check "killed refresher: no re-authorisation needed" \
	    jq_is .needs_reauthorization false
	check "killed refresher: the lease is released" \
	    is "$(ls_sql "SELECT count(*) FROM connections WHERE id = '$LS_ID'
	        AND refresh_lease_owner IS NULL")" 1
	wait "$ls_bg" 2>/dev/null
	curl -s -o /dev/null -X DELETE "$SIDE_GW/connections/$LS_ID" \
	    -H "$(cx_auth "$LS_TOK")"

	# -- a live refresher slower than the caller's deadline: sbctl,
	# stopped (alive) while it holds the lease --
	ls_expired_connection
	ls_fault '{"path": "/oauth/token", "kind": "slow", "count": 1, "arg": 1000}'
	ls_sbctl refresh SB_FASTCGI_TIMEOUT_S=30 SB_HTTP_TIMEOUT_MS=20000 &
	ls_bg=$!
	ls_wait_for "SELECT refresh_lease_owner FROM connections
	    WHERE id = '$LS_ID' AND refresh_lease_owner IS NOT NULL"
	ls_holder=$LS_GOT
	kill -STOP "${ls_holder##*:}"
	t0=$(ls_ms)
	http GET "$SIDE_GW/proxy/me" -H "$(cx_auth "$LS_TOK")"
	took=$(($(ls_ms) - t0))
	check "live refresher: 503 busy" jq_is .error.code busy
	check "live refresher: the message says why" \
	    jq_is '.error.message | test("refreshing this connection")' true
	check "live refresher: Retry-After" is "$(header Retry-After)" 1
	check "live refresher: answered within the deadline ($took ms)" \
	    test "$took" -ge 3000 -a "$took" -lt 4500
	kill -CONT "${ls_holder##*:}"
	wait "$ls_bg"
	http GET "$SIDE_GW/connections/$LS_ID" -H "$(cx_auth "$LS_TOK")"
	check "live refresher: its refresh is recorded as ok" \
	    jq_is .last_refresh.result ok
	http GET "$SIDE_GW/proxy/me" -H "$(cx_auth "$LS_TOK")"
	check "live refresher: then calls use its token" is "$STATUS" 200

	# -- a projects process killed while it delivers events --
	ls_tokA=${SB_PROJECTS_TOKEN:-$(cat "$SIDE_VAR/secrets/projects.token")}
	ls_events=$(cat "$SIDE_VAR/run/events.pid")
	kill -STOP $ls_events
	http POST "$SIDE_PJ/projects/3/deployment" -H "Authorization: Bearer $ls_tokA"
	check "killed deliverer: the deployment is made" is "$STATUS" 201
	ls_wait_for "SELECT lease_owner FROM jobs WHERE state = 'leased' LIMIT 1"
	ls_holder=$LS_GOT
	check "killed deliverer: the events are leased by <host>:<pid>" \
	    test -n "$ls_holder" -a -z "${ls_holder##*:[0-9]*}"
	kill -9 "${ls_holder##*:}" 2>/dev/null
	kill -CONT $ls_events
	t0=$(ls_ms)
	for _ in $(seq 1 20); do
		curl -s -o /dev/null "$SIDE_PJ/projects" -H "Authorization: Bearer $ls_tokA"
		[ "$(ls_sql "SELECT count(*) FROM jobs WHERE queue = 'events'")" = 0 ] && break
		sleep 0.25
	done
	took=$(($(ls_ms) - t0))
	check "killed deliverer: its events are delivered by another process" \
	    is "$(ls_sql "SELECT count(*) FROM jobs WHERE queue = 'events'")" 0
	check "killed deliverer: at once ($took ms, not the 60 s lease)" \
	    test "$took" -lt 5000

	# -- sbctl deliver after an outage of the events service --
	SB_VAR_DIR=$SIDE_VAR scripts/stack down events
	http POST "$SIDE_PJ/projects/4/deployment" -H "Authorization: Bearer $ls_tokA"
	check "outage: the deployment is made" is "$STATUS" 201
	sleep 0.5
	check "outage: its event waits in backoff" \
	    is "$(ls_sql "SELECT count(*) FROM jobs WHERE queue = 'events'
	        AND state = 'pending' AND run_at > unixepoch()")" 1
	ls_sbctl deliver
	check "outage: sbctl deliver sends nothing while the service is down" \
	    is "$LS_OUT" "deliver: 0 event(s) delivered, 0 failed"
	(set -a; . "$SIDE_VAR/run/env"; set +a; scripts/stack up events)
	ls_sbctl deliver
	check "after the outage: sbctl deliver (no --now) delivers the event" \
	    is "$LS_OUT" "deliver: 1 event(s) delivered, 0 failed"
	check "after the outage: nothing is left in the outbox" \
	    is "$(ls_sql "SELECT count(*) FROM jobs WHERE queue = 'events'")" 0
else
	check "the leases stack starts" false
fi
side_stop "the leases stack stops without leftovers"
