# nginx's own limits, on a second small stack with tight settings so the
# shared one is not slowed: the per-address rate limit (429) and the
# FastCGI read timeout (504), both answered as JSON.

if side_start SB_RATE_LIMIT=1 SB_RATE_BURST=1 SB_FASTCGI_TIMEOUT_S=1 \
    SB_DEADLINE_MARGIN_MS=200 SB_HTTP_TIMEOUT_MS=500 \
    SB_HTTP_CONNECT_TIMEOUT_MS=200 SB_DB_BUSY_TIMEOUT_MS=300; then
	limited=0
	for _ in 1 2 3 4 5 6; do
		http GET "$SIDE_GW/health"
		if [ "$STATUS" = 429 ]; then
			limited=1
			break
		fi
	done
	check "past the rate limit: 429" is "$limited" 1
	check "429 is JSON with a code" jq_is .error.code rate_limited
	for _ in 1 2 3 4 5 6; do curl -s -o /dev/null "$SIDE_GW/health"; done
	sleep 1.2
	check "rate-limited requests stay out of nginx's error log" \
	    is "$(grep -c 'limiting requests' "$SIDE_VAR/log/nginx-error.log")" 0
	check "rate-limited requests are in the access log" \
	    test "$(grep -c '" 429 ' "$SIDE_VAR/log/access.log")" -ge 1

	# A responder slower than fastcgi_timeout_s: nginx answers 504.
	curl -s -X POST "$SIDE_SBX/_sandbox/faults" -H "$SIDE_SBX_AUTH" \
	    -H 'Content-Type: application/json' \
	    -d '{"path": "/api/me", "kind": "slow", "arg": 2500}' >/dev/null
	http GET "$SIDE_SBX/api/me"
	check "a responder past the FastCGI timeout: 504" is "$STATUS" 504
	check "504 is JSON with a code" jq_is .error.code gateway_timeout
else
	check "the limits stack starts" false
fi
side_stop "the limits stack stops without leftovers"
