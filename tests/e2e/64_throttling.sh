# Throttling and retries (docs/throttling-and-retries.md) against sandbox
# Okta tenants through the proxy (POST /connections/{id}/call): a 429
# waited out until the reset, a 429 returned with Retry-After when the
# reset is past the cap, a spent budget answered without calling Okta, a
# GET retried on a 5xx and a POST not, and a low budget paced so that Okta
# never has to say 429.  Every connection made here is deleted again.

. tests/e2e/connections.sh

# th_tenant NAME BODY: makes or resets a sandbox Okta tenant and an okta
# connection on it; TH_ID, TH_TOK, TH_BASE and TH_API are set.
th_tenant() {
	http POST "$SBX/_sandbox/okta/$1" -H "$SBX_AUTH" -H "$CX_JSON" -d "$2"
	TH_API=$(printf '%s' "$BODY" | jq -r .api_token)
	TH_BASE=$(printf '%s' "$BODY" | jq -r .base_url)
	cx_create "$(jq -nc --arg k "$TH_API" --arg b "$TH_BASE" \
	    '{provider: "okta", credentials: {api_key: $k}, config: {base_url: $b}}')"
	TH_ID=$CID TH_TOK=$CTOK
}
th_call() { cx_call "$TH_ID" "$TH_TOK" "$1"; }
th_ms() { date +%s%3N; }
th_users() { printf '/okta/%s/api/v1/users' "$1"; }
# th_direct: one request straight to the tenant, spending its budget.
th_direct() {
	curl -s -o /dev/null "$TH_BASE/api/v1/users?limit=1" \
	    -H "Authorization: SSWS $TH_API"
}
TAG=$RANDOM$RANDOM

# -- a 429 waited out: a window of 2 s spent by someone else --
cx_reset
th_tenant "th-wait-$TAG" '{"rate_limit": 2, "rate_window_s": 2}'
check "throttle: an okta connection on a sandbox tenant" is "$STATUS" 201
th_direct
th_direct
t0=$(th_ms)
th_call '{"path": "/api/v1/users", "query": {"limit": 1}}'
took=$(($(th_ms) - t0))
check "429 waited out: the answer is 200" is "$STATUS" 200
check "429 waited out: Okta's users" jq_is 'length' 1
hits=$(cx_hits "$(th_users "th-wait-$TAG")")
check "429 waited out: the 429 and one retry reached Okta (after the two that spent it; $hits)" \
    is "$hits" 4
# Okta's reset less its Date is a whole second or two here: the wait.
check "429 waited out: it took the wait, at least a second ($took ms)" \
    test "$took" -ge 1000 -a "$took" -lt 4500
check "429 waited out: the budget kept for the connection" \
    is "$(sql "select rate_limit from connection_budgets where connection_id = '$TH_ID'")" 2
cx_del "$TH_ID" "$TH_TOK"

# -- a 429 returned: the window (an hour) is past the cap --
cx_reset
th_tenant "th-long-$TAG" '{"rate_limit": 1, "rate_window_s": 3600}'
th_direct
t0=$(th_ms)
th_call '{"path": "/api/v1/users", "query": {"limit": 1}}'
took=$(($(th_ms) - t0))
ra=$(header Retry-After)
check "429 returned: Okta's 429" is "$STATUS" 429
check "429 returned: Okta's body E0000047" jq_is .errorCode E0000047
check "429 returned: not Switchboard's error" is "$(header Switchboard-Error)" ''
check "429 returned: Retry-After computed from the reset ($ra s)" \
    test -n "$ra" -a "${ra:-0}" -ge 3500 -a "${ra:-0}" -le 3601
check "429 returned: Okta's rate headers passed on" \
    is "$(header X-Rate-Limit-Remaining)" 0
check "429 returned: one request, not waited ($took ms)" \
    test "$(cx_hits "$(th_users "th-long-$TAG")")" = 2 -a "$took" -lt 1500
# The budget now says spent: the next call is not sent at all.
th_call '{"path": "/api/v1/users", "query": {"limit": 1}}'
ra=$(header Retry-After)
check "spent budget: 429" is "$STATUS" 429
check "spent budget: Switchboard's provider_rate_limited" \
    jq_is .error.code provider_rate_limited
check "spent budget: marked as Switchboard's" \
    is "$(header Switchboard-Error)" provider_rate_limited
check "spent budget: Retry-After ($ra s)" \
    test -n "$ra" -a "${ra:-0}" -ge 3500 -a "${ra:-0}" -le 3601
check "spent budget: nothing reached Okta" \
    is "$(cx_hits "$(th_users "th-long-$TAG")")" 2
cx_del "$TH_ID" "$TH_TOK"

# -- 5xx: a GET is retried, a POST never --
cx_reset
th_tenant "th-5xx-$TAG" '{}'
cx_fault "$(th_users "th-5xx-$TAG")" status 1 500
th_call '{"path": "/api/v1/users", "query": {"limit": 2}}'
check "GET 500 once: retried, 200" is "$STATUS" 200
check "GET 500 once: two requests" is "$(cx_hits "$(th_users "th-5xx-$TAG")")" 2
cx_reset
cx_fault "$(th_users "th-5xx-$TAG")" status 2 503
th_call '{"path": "/api/v1/users", "query": {"limit": 2}}'
check "GET 503 on every attempt: the provider's 503" is "$STATUS" 503
check "GET 503 on every attempt: SB_HTTP_MAX_ATTEMPTS requests" \
    is "$(cx_hits "$(th_users "th-5xx-$TAG")")" "${SB_HTTP_MAX_ATTEMPTS:-3}"
cx_reset
uid=$(sqlite3 -batch -noheader "$SB_VAR_DIR/sandbox.db" \
    "select id from okta_users where tenant = 'th-5xx-$TAG' and status = 'ACTIVE' limit 1")
suspend=/okta/th-5xx-$TAG/api/v1/users/$uid/lifecycle/suspend
cx_fault "$suspend" status 1 503
th_call "{\"method\": \"POST\", \"path\": \"/api/v1/users/$uid/lifecycle/suspend\"}"
check "POST 503: not retried, the answer as it came" is "$STATUS" 503
check "POST 503: one request" is "$(cx_hits "$suspend")" 1
check "POST 503: the user is still ACTIVE" is "$(sqlite3 -batch -noheader \
    "$SB_VAR_DIR/sandbox.db" "select status from okta_users where id = '$uid'")" ACTIVE
cx_reset
cx_fault "$suspend" status 1 502
th_call "{\"method\": \"PUT\", \"path\": \"/api/v1/users/$uid/lifecycle/suspend\"}"
check "PUT 502: not retried either" is "$(cx_hits "$suspend")" 1
cx_del "$TH_ID" "$TH_TOK"

# -- pacing: 14 calls in a row on a budget of 10 per 3 s --
cx_reset
th_tenant "th-pace-$TAG" '{"rate_limit": 10, "rate_window_s": 3}'
ok=0
t0=$(th_ms)
for _ in $(seq 1 14); do
	th_call '{"path": "/api/v1/users", "query": {"limit": 1}}'
	[ "$STATUS" = 200 ] && ok=$((ok + 1))
done
took=$(($(th_ms) - t0))
check "pacing: all 14 calls answered 200" is "$ok" 14
check "pacing: Okta never said 429 (14 requests, no retry)" \
    is "$(cx_hits "$(th_users "th-pace-$TAG")")" 14
check "pacing: the calls were slowed down past the window ($took ms)" \
    test "$took" -ge 1000
check "pacing: calls were paced while the budget was low (proxy log)" \
    test "$(cat "$SB_VAR_DIR"/log/proxy*.log 2>/dev/null | grep -c "connection $TH_ID: budget low, waiting")" -ge 1
check "pacing: the connection's budget kept" \
    is "$(sql "select count(*) from connection_budgets where connection_id = '$TH_ID'")" 1
cx_del "$TH_ID" "$TH_TOK"
check "throttle: a deleted connection's budget goes with it" \
    is "$(sql "select count(*) from connection_budgets where connection_id = '$TH_ID'")" 0
cx_reset
