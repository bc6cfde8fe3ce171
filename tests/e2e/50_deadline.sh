# One deadline per request (docs/reliability.md): on a side stack whose
# nginx gives up after 4 s and whose requests have 3 s (the margin is 1 s),
# a hanging provider, a provider asking for a long Retry-After and a
# database locked by another process each end in Switchboard's own answer
# inside the deadline, and nothing is committed after it.  Timeouts that
# cannot fit together stop the stack from starting.

dl_env=(SB_FASTCGI_TIMEOUT_S=4 SB_DEADLINE_MARGIN_MS=1000
	SB_HTTP_TIMEOUT_MS=1500 SB_HTTP_CONNECT_TIMEOUT_MS=500
	SB_HTTP_MAX_ATTEMPTS=3 SB_HTTP_BACKOFF_BASE_MS=100
	SB_HTTP_BACKOFF_CAP_MS=1000 SB_DB_BUSY_TIMEOUT_MS=1000
	SB_SANDBOX_PROCS=4)

# dl_ms: milliseconds since the epoch.
dl_ms() { date +%s%3N; }

if side_start "${dl_env[@]}"; then
	dl_gw=$SIDE_GW dl_sbx=$SIDE_SBX
	grant=$(curl -s -X POST "$dl_sbx/oauth/grant" -H "Content-Type: application/json" \
	    -d '{"expires_in": 3600}')
	http POST "$dl_gw/connections" -H "Content-Type: application/json" -d "{\"provider\":
	    \"sandbox\", \"credentials\": $grant}"
	dl_tok=$(printf '%s' "$BODY" | jq -r .token)
	check "deadline: a sandbox connection" is "$STATUS" 201

	# A provider that hangs: attempts are cut to what is left, and the
	# answer is the gateway's own 504 before nginx's 4 s.
	curl -s -o /dev/null -X POST "$dl_sbx/_sandbox/faults" -H "$SIDE_SBX_AUTH" -H "Content-Type: application/json" \
	    -d '{"path": "/api/me", "kind": "slow", "count": 2, "arg": 5000}'
	t0=$(dl_ms)
	http GET "$dl_gw/proxy/me" -H "Authorization: Bearer $dl_tok"
	took=$(($(dl_ms) - t0))
	check "hanging provider: the gateway's 504 upstream_timeout" \
	    jq_is .error.code upstream_timeout
	check "hanging provider: answered within the deadline ($took ms)" \
	    test "$took" -lt 3600 -a "$took" -ge 2500
	curl -s -o /dev/null -X DELETE "$dl_sbx/_sandbox/faults" -H "$SIDE_SBX_AUTH"

	# A Retry-After beyond the backoff cap is passed back, not waited
	# out: one attempt, the provider's 429 and its Retry-After.
	curl -s -o /dev/null -X DELETE "$dl_sbx/_sandbox/stats" -H "$SIDE_SBX_AUTH"
	curl -s -o /dev/null -X POST "$dl_sbx/_sandbox/faults" -H "$SIDE_SBX_AUTH" -H "Content-Type: application/json" \
	    -d '{"path": "/api/me", "kind": "429", "count": 5, "arg": 3600}'
	t0=$(dl_ms)
	http GET "$dl_gw/proxy/me" -H "Authorization: Bearer $dl_tok"
	took=$(($(dl_ms) - t0))
	check "Retry-After 3600: the provider's 429 passed back" \
	    is "$STATUS" 429
	check "Retry-After 3600: its Retry-After passed back" \
	    is "$(header Retry-After)" 3600
	check "Retry-After 3600: one attempt only" \
	    is "$(curl -s "$dl_sbx/_sandbox/stats" -H "$SIDE_SBX_AUTH" | jq -r '.paths["/api/me"]')" 1
	check "Retry-After 3600: at once ($took ms)" test "$took" -lt 1000
	curl -s -o /dev/null -X DELETE "$dl_sbx/_sandbox/faults" -H "$SIDE_SBX_AUTH"

	# The database locked by another process for longer than the
	# deadline: 503 busy with Retry-After inside it, and after the lock
	# is gone no deployment and no event was committed.
	dl_db=$SIDE_VAR/switchboard.db
	dl_tokA=${SB_PROJECTS_TOKEN:-$(cat "$SIDE_VAR/secrets/projects.token")}
	before=$(sqlite3 "$dl_db" 'SELECT count(*) FROM deployments')
	jobs_before=$(sqlite3 "$dl_db" 'SELECT count(*) FROM jobs')
	(printf 'BEGIN EXCLUSIVE;\nUPDATE projects SET name = name;\n'
	    sleep 6
	    printf 'COMMIT;\n') | sqlite3 "$dl_db" &
	dl_lock=$!
	sleep 0.5
	t0=$(dl_ms)
	http POST "$SIDE_PJ/projects/2/deployment" \
	    -H "Authorization: Bearer $dl_tokA"
	took=$(($(dl_ms) - t0))
	check "locked database: 503" is "$STATUS" 503
	check "locked database: ServiceUnavailable" jq_is .name ServiceUnavailable
	check "locked database: Retry-After" is "$(header Retry-After)" 1
	check "locked database: answered within the deadline ($took ms)" \
	    test "$took" -lt 3600
	wait "$dl_lock"
	check "locked database: no deployment committed after the answer" \
	    is "$(sqlite3 "$dl_db" 'SELECT count(*) FROM deployments')" \
	    "$before"
	check "locked database: no event committed after the answer" \
	    is "$(sqlite3 "$dl_db" 'SELECT count(*) FROM jobs')" \
	    "$jobs_before"
	http POST "$SIDE_PJ/projects/2/deployment" \
	    -H "Authorization: Bearer $dl_tokA"
	check "after the lock: the deployment is made" is "$STATUS" 201
else
	check "the deadline stack starts" false
fi
side_stop "the deadline stack stops without leftovers"

# Timeouts that cannot fit together: the stack refuses to start, naming
# them.
dl_out=$(env SB_FASTCGI_TIMEOUT_S=4 SB_DEADLINE_MARGIN_MS=1000 \
    SB_HTTP_TIMEOUT_MS=5000 "$SB_BIN_DIR/sbctl" config 2>&1)
check "an attempt longer than a request: refused" \
    test $? -ne 0 -a -z "${dl_out##*http_timeout_ms*}"
dl_out=$(env SB_FASTCGI_TIMEOUT_S=2 SB_DEADLINE_MARGIN_MS=2000 \
    "$SB_BIN_DIR/sbctl" config 2>&1)
check "a margin as long as nginx's timeout: refused" \
    test $? -ne 0 -a -z "${dl_out##*deadline_margin_ms*}"
dl_var=$(mktemp -d /tmp/sb-e2e-dl.XXXXXX)
env SB_VAR_DIR="$dl_var" SB_FASTCGI_TIMEOUT_S=4 SB_DEADLINE_MARGIN_MS=1000 \
    SB_DB_BUSY_TIMEOUT_MS=5000 scripts/stack start >"$dl_var/out" 2>&1
dl_rc=$?
check "the stack refuses to start with a database wait past the deadline" \
    test "$dl_rc" -ne 0
check "... naming db_busy_timeout_ms" grep -q db_busy_timeout_ms "$dl_var/out"
check "... and leaves nothing running" \
    test -z "$(SB_VAR_DIR=$dl_var scripts/stack pids 2>/dev/null)"
rm -rf "$dl_var"
