# Slow providers do not stall the gateway (docs/reliability.md): on a side
# stack with one proxy process of 4 workers and at most 2 calls in flight
# per connection, three times as many hanging calls as workers on one
# connection take 2 workers; the rest get 429 at once, and /health,
# connection CRUD and another connection's calls stay fast meanwhile.

cap_env=(SB_PROXY_PROCS=1 SB_PROXY_THREADS=4 SB_PROXY_CALLS_PER_CONNECTION=2
	SB_SANDBOX_PROCS=4 SB_HTTP_MAX_ATTEMPTS=1 SB_HTTP_TIMEOUT_MS=8000)

# cap_conn: a sandbox connection on the side stack; its token on stdout.
cap_conn() {
	local grant
	grant=$(curl -s -X POST "$SIDE_SBX/oauth/grant" \
	    -H 'Content-Type: application/json' -d '{"expires_in": 3600}')
	curl -s -X POST "$SIDE_GW/connections" \
	    -H 'Content-Type: application/json' \
	    -d "{\"provider\": \"sandbox\", \"credentials\": $grant}" |
	    jq -r .token
}

# cap_time METHOD URL [curl args]: the answer's status and seconds taken.
cap_time() {
	local method=$1 url=$2
	shift 2
	curl -s -o /dev/null -w '%{http_code} %{time_total}\n' -X "$method" \
	    --max-time 20 "$@" "$url"
}

# cap_fast "STATUS SECONDS" WANT: the status is WANT within a second.
cap_fast() {
	[ "${1%% *}" = "$2" ] && awk -v t="${1#* }" 'BEGIN { exit !(t < 1.0) }'
}

if side_start "${cap_env[@]}"; then
	slow_tok=$(cap_conn)
	other_tok=$(cap_conn)
	# The switch slows /api/me only: the slow connection calls it, the
	# other one calls /api/users.
	curl -s -o /dev/null -X POST "$SIDE_SBX/_sandbox/faults" -H "$SIDE_SBX_AUTH" \
	    -H 'Content-Type: application/json' \
	    -d '{"path": "/api/me", "kind": "slow", "count": 12, "arg": 6000}'
	cap_dir=$(mktemp -d)
	for i in $(seq 1 12); do
		cap_time GET "$SIDE_GW/proxy/me" \
		    -H "Authorization: Bearer $slow_tok" >"$cap_dir/$i" &
	done
	sleep 1
	check "hanging calls: /health stays fast" \
	    cap_fast "$(cap_time GET "$SIDE_GW/health")" 200
	check "hanging calls: a new connection is made at once" \
	    cap_fast "$(cap_time POST "$SIDE_GW/connections" \
	    -H 'Content-Type: application/json' \
	    -d '{"provider": "sandbox", "credentials": {"access_token": "x",
	    "refresh_token": "y"}}')" 201
	check "hanging calls: another connection's call stays fast" \
	    cap_fast "$(cap_time GET "$SIDE_GW/proxy/users" \
	    -H "Authorization: Bearer $other_tok")" 200
	http GET "$SIDE_GW/proxy/me" -H "Authorization: Bearer $slow_tok"
	check "past the cap: 429 too_many_calls" jq_is .error.code too_many_calls
	check "past the cap: Retry-After" is "$(header Retry-After)" 1
	wait
	refused=$(cat "$cap_dir"/* | grep -c '^429 ')
	served=$(cat "$cap_dir"/* | grep -c '^200 ')
	check "of 12 hanging calls, 2 went through ($served)" is "$served" 2
	check "and 10 were refused at once ($refused)" is "$refused" 10
	rm -rf "$cap_dir"
else
	check "the capacity stack starts" false
fi
side_stop "the capacity stack stops without leftovers"
