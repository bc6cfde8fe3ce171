# nginx's own limits, on a second small stack with tight settings so the
# shared one is not slowed: the per-address rate limit (429) and the
# FastCGI read timeout (504), both answered as JSON.

limits_var=$(mktemp -d /tmp/sb-e2e-limits.XXXXXX)
limits_gw=$(free_port)
limits_sbx=$(free_port)
if env SB_VAR_DIR="$limits_var" SB_GATEWAY_PORT="$limits_gw" \
    SB_SANDBOX_PORT="$limits_sbx" SB_PROJECTS_PORT="$(free_port)" \
    SB_EVENTS_PORT="$(free_port)" SB_RATE_LIMIT=1 SB_RATE_BURST=1 \
    SB_FASTCGI_TIMEOUT_S=1 SB_GATEWAY_PROCS=1 SB_PROJECTS_PROCS=1 \
    SB_EVENTS_PROCS=1 SB_SANDBOX_PROCS=1 \
    scripts/stack start >"$limits_var/start.log" 2>&1; then
	limited=0
	for _ in 1 2 3 4 5 6; do
		http GET "http://127.0.0.1:$limits_gw/health"
		if [ "$STATUS" = 429 ]; then
			limited=1
			break
		fi
	done
	check "past the rate limit: 429" is "$limited" 1
	check "429 is JSON with a code" jq_is .error.code rate_limited

	# A responder slower than fastcgi_timeout_s: nginx answers 504.
	curl -s -X POST "http://127.0.0.1:$limits_sbx/_sandbox/faults" \
	    -H 'Content-Type: application/json' \
	    -d '{"path": "/api/me", "kind": "slow", "arg": 2500}' >/dev/null
	http GET "http://127.0.0.1:$limits_sbx/api/me"
	check "a responder past the FastCGI timeout: 504" is "$STATUS" 504
	check "504 is JSON with a code" jq_is .error.code gateway_timeout
else
	check "the limits stack starts" false
	sed 's/^/# /' "$limits_var/start.log" | tail -n 20
fi
limits_pids=$(SB_VAR_DIR=$limits_var scripts/stack pids)
SB_VAR_DIR=$limits_var scripts/stack stop >/dev/null 2>&1
limits_left=
for p in $limits_pids; do
	kill -0 "$p" 2>/dev/null && limits_left="$limits_left $p"
done
check "the limits stack stops without leftovers" test -z "$limits_left"
rm -rf "$limits_var"
