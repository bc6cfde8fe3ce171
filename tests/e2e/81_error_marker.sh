# Switchboard's own errors carry "Switchboard-Error: <code>" (the
# responders' through lib/response.c, nginx's through its error pages), on
# every port and in both error shapes; a provider's answer passed through
# by the call and proxy routes never does, whatever its status.

. tests/e2e/connections.sh

marker() { header Switchboard-Error; }
# marked LABEL STATUS CODE: the last answer is Switchboard's STATUS, marked
# with CODE.
marked() {
	check "$1: $2" is "$STATUS" "$2"
	check "$1: Switchboard-Error: $3" is "$(marker)" "$3"
	check "$1: X-Request-Id too" test -n "$(header X-Request-Id)"
}

# -- the provider's answers pass through unmarked --
cx_reset
cx_grant
cx_create "$(jq -nc --arg at "$AT" --arg rt "$RT" \
    '{provider: "sandbox", credentials: {access_token: $at, refresh_token: $rt}}')"
check "marker: a connection made" is "$STATUS" 201
M_ID=$CID M_TOK=$CTOK

# The sandbox is built on the same library, so its injected 503 is marked
# where it is answered; the gateway must not pass the mark on.  (Two
# faults: the gateway retries a 503 on a GET once.)
cx_fault /api/me status 1 503
http GET "$SBX/api/me" -H "$(cx_auth "$AT")"
check "marker: the sandbox's own 503 is marked at the sandbox" \
    is "$STATUS $(marker)" "503 injected"
cx_reset
cx_fault /api/me status 2 503
http GET "$GW/proxy/me" -H "$(cx_auth "$M_TOK")"
check "marker: a provider's 503 through /proxy: 503" is "$STATUS" 503
check "marker: a provider's 503 through /proxy: the provider's body" \
    jq_is .error.code injected
check "marker: a provider's 503 through /proxy: no Switchboard-Error" \
    test -z "$(marker)"
cx_reset
cx_fault /api/me status 2 503
cx_call "$M_ID" "$M_TOK" '{"path":"/me"}'
check "marker: a provider's 503 through /call: 503" is "$STATUS" 503
check "marker: a provider's 503 through /call: no Switchboard-Error" \
    test -z "$(marker)"
# (Two: a 401 refreshes the token and retries once.)
cx_reset
cx_fault /api/echo status 2 401
http GET "$GW/proxy/echo" -H "$(cx_auth "$M_TOK")"
check "marker: a provider's 401 through /proxy: 401" is "$STATUS" 401
check "marker: a provider's 401 through /proxy: no Switchboard-Error" \
    test -z "$(marker)"
cx_reset
http GET "$GW/proxy/me" -H "$(cx_auth "$M_TOK")"
check "marker: a provider's 200: no Switchboard-Error" \
    is "$STATUS $(marker)" "200 "

# -- Switchboard's own errors are marked --
http GET "$GW/proxy/me" -H "Authorization: Bearer ${M_TOK}x"
marked "marker: gateway 401 on /proxy" 401 unauthorized
http GET "$GW/connections/$M_ID"
marked "marker: gateway 401 on a connection" 401 unauthorized
cx_call "$M_ID" "$M_TOK" '{"path":"/a/../me"}'
marked "marker: a refused call path" 400 invalid_call
http GET "$GW/no/such/route"
marked "marker: gateway 404 (the responder)" 404 not_found
http POST "$GW/health"
marked "marker: gateway 405" 405 method_not_allowed
big=$(mktemp)
head -c $((2 * 1024 * 1024)) /dev/zero | tr '\0' a >"$big"
http POST "$GW/mappings" -H "$CX_JSON" --data-binary "@$big"
marked "marker: gateway 413 (nginx)" 413 too_large
check "marker: gateway 413 (nginx): the same code in the body" \
    jq_is .error.code too_large
rm -f "$big"
long=$(head -c 20000 /dev/zero | tr '\0' a)
http GET "$GW/health?q=$long"
marked "marker: gateway 414 (nginx)" 414 uri_too_long
http GET "$GW/health" -H "X-Long: $long"
marked "marker: gateway oversized header (nginx)" 400 headers_too_large

# The projects service: {name, message} bodies, the code in the header.
http GET "$PJ/projects"
marked "marker: projects 401 (nginx)" 401 unauthorized
check "marker: projects 401 (nginx): still {name}" jq_is .name Unauthorized
http GET "$PJ/projects/999999" -H "Authorization: Bearer $SB_PROJECTS_TOKEN"
marked "marker: projects 404 (the responder)" 404 not_found
check "marker: projects 404 (the responder): still {name}" jq_is .name NotFound

# The events service.
http GET "$EV/events"
marked "marker: events 401 (nginx)" 401 unauthorized
http POST "$EV/events" -H "Authorization: Bearer $SB_EVENTS_TOKEN" \
    -H "$CX_JSON" -d '[]'
marked "marker: events 400 (the responder)" 400 invalid_request

# Answers that are not errors are not marked.
http GET "$GW/health"
check "marker: a 200 of the gateway: none" is "$STATUS $(marker)" "200 "
http GET "$PJ/projects" -H "Authorization: Bearer $SB_PROJECTS_TOKEN"
check "marker: a 200 of the projects service: none" is "$STATUS $(marker)" "200 "

cx_del "$M_ID" "$M_TOK"
cx_reset
