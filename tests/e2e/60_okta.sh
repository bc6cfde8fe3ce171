# The sandbox's Okta orgs (/okta/{tenant}/..., made by
# POST /_sandbox/okta/{tenant}): users API with Link pagination, a subset
# of search/filter/q, lifecycle rules, the two-step DELETE, Okta's error
# bodies, SSWS and Bearer checks and the X-Rate-Limit-* budget.

# okta_tenant NAME [BODY]: makes or resets tenant NAME; sets OKTA_TOKEN,
# OKTA_CLIENT and OKTA_BASE.
okta_tenant() {
	http POST "$SBX/_sandbox/okta/$1" -H "$SBX_AUTH" \
	    -H 'Content-Type: application/json' -d "${2:-{\}}"
	OKTA_TOKEN=$(printf '%s' "$BODY" | jq -r .api_token)
	OKTA_CLIENT=$(printf '%s' "$BODY" | jq -r .client_id)
	OKTA_BASE=$(printf '%s' "$BODY" | jq -r .base_url)
}

# okta METHOD PATH [curl args...]: a call to the tenant with its API token.
okta() {
	local method=$1 path=$2
	shift 2
	http "$method" "$OKTA_BASE$path" -H "Authorization: SSWS $OKTA_TOKEN" "$@"
}

# okta_user STATUS: the id of a user of the tenant with that status.
okta_user() {
	sqlite3 -batch -noheader "$SB_VAR_DIR/sandbox.db" \
	    "select id from okta_users where tenant = '$OKTA_NAME' and status = '$1' limit 1"
}

# next_url: the URL of the last answer's Link rel="next", or nothing.
next_url() {
	grep -i '^link:' "$HEADERS" | grep 'rel="next"' |
	    sed -e 's/^[^<]*<//' -e 's/>.*//' | tr -d '\r'
}

http POST "$SBX/_sandbox/okta/acme"
check "okta setup: control token needed" is "$STATUS" 401
http POST "$SBX/_sandbox/okta/Not_A_Label" -H "$SBX_AUTH"
check "okta setup: a tenant is a DNS label" is "$STATUS" 400
okta_tenant acme '{"rate_limit": "zero"}'
check "okta setup: a bad rate_limit is 400" is "$STATUS" 400

OKTA_NAME=acme
okta_tenant acme
check "okta setup: 201" is "$STATUS" 201
check "okta setup: an API token" test -n "$OKTA_TOKEN" -a "$OKTA_TOKEN" != null
check "okta setup: a client id" test -n "$OKTA_CLIENT" -a "$OKTA_CLIENT" != null
check "okta setup: the base URL is the sandbox's /okta/acme" \
    is "$OKTA_BASE" "$SBX/okta/acme"
check "okta setup: 250 users" is "$(sqlite3 "$SB_VAR_DIR/sandbox.db" \
    "select count(*) from okta_users where tenant = 'acme'")" 250
check "okta setup: mixed statuses" is "$(sqlite3 "$SB_VAR_DIR/sandbox.db" \
    "select count(distinct status) from okta_users where tenant = 'acme'")" 6

# -- authentication --
http GET "$OKTA_BASE/api/v1/users"
check "okta: no token is 401" is "$STATUS" 401
check "okta 401: E0000011" jq_is .errorCode E0000011
check "okta 401: Okta's body" jq_is '.errorSummary' 'Invalid token provided'
check "okta 401: an errorId" jq_is '.errorId | length > 0' true
check "okta 401: not Switchboard's error" is "$(header Switchboard-Error)" ''
http GET "$OKTA_BASE/api/v1/users" -H "Authorization: SSWS wrong"
check "okta: a wrong SSWS token is 401" is "$STATUS" 401
http GET "$OKTA_BASE/api/v1/users" -H "Authorization: Bearer $OKTA_TOKEN"
check "okta: the API token as a Bearer is 401" is "$STATUS" 401
http POST "$SBX/oauth/grant" -H 'Content-Type: application/json' \
    -d "{\"client_id\": \"$OKTA_CLIENT\"}"
okta_at=$(printf '%s' "$BODY" | jq -r .access_token)
http GET "$OKTA_BASE/api/v1/users?limit=1" -H "Authorization: Bearer $okta_at"
check "okta: a Bearer token of the tenant's client is 200" is "$STATUS" 200
http POST "$SBX/oauth/grant" -H 'Content-Type: application/json' \
    -d '{"client_id": "someone-else"}'
http GET "$OKTA_BASE/api/v1/users?limit=1" \
    -H "Authorization: Bearer $(printf '%s' "$BODY" | jq -r .access_token)"
check "okta: another client's Bearer token is 401" is "$STATUS" 401
http GET "$SBX/okta/nosuch/api/v1/users" -H "Authorization: SSWS $OKTA_TOKEN"
check "okta: an unknown tenant is 404" is "$STATUS" 404
check "okta: unknown tenant E0000007" jq_is .errorCode E0000007

# -- listing and Link pagination --
okta GET /api/v1/users
check "okta list: 200" is "$STATUS" 200
check "okta list: 200 users on the first page" jq_is length 200
check "okta list: Okta's user shape" jq_is '.[0] | (.id | startswith("00u")) and (.profile.login | length > 0) and has("lastLogin")' true
check "okta list: no DEPROVISIONED user in a plain list" \
    jq_is 'map(select(.status == "DEPROVISIONED")) | length' 0
check "okta list: rate limit headers" test -n "$(header X-Rate-Limit-Limit)" \
    -a -n "$(header X-Rate-Limit-Remaining)" -a -n "$(header X-Rate-Limit-Reset)"
next=$(next_url)
check "okta list: a next link with after" test -n "$next" -a "${next#*after=}" != "$next"
first_ids=$(printf '%s' "$BODY" | jq -r '.[].id')
http GET "$next" -H "Authorization: SSWS $OKTA_TOKEN"
check "okta list: the second page has the other 25" jq_is length 25
check "okta list: no next link on the last page" test -z "$(next_url)"
check "okta list: pages do not overlap" test -z "$(comm -12 \
    <(printf '%s\n' $first_ids | sort) \
    <(printf '%s' "$BODY" | jq -r '.[].id' | sort))"
okta GET '/api/v1/users?limit=0'
check "okta list: limit 0 is 400" is "$STATUS" 400
check "okta list: limit 0 is E0000001" jq_is .errorCode E0000001
okta GET '/api/v1/users?limit=201'
check "okta list: limit 201 is 400" is "$STATUS" 400
okta GET '/api/v1/users?limit=3'
check "okta list: limit 3" jq_is length 3
check "okta list: limit kept in the next link" test -n "$(next_url | grep limit=3)"

# -- search, filter, q --
okta GET /api/v1/users --get --data-urlencode 'filter=status eq "SUSPENDED"'
check "okta filter: status eq SUSPENDED" jq_is 'length == 25 and all(.status == "SUSPENDED")' true
okta GET /api/v1/users --get --data-urlencode 'search=status eq "DEPROVISIONED"'
check "okta search: finds DEPROVISIONED users" jq_is 'length == 25 and all(.status == "DEPROVISIONED")' true
okta GET /api/v1/users --get --data-urlencode 'search=profile.firstName sw "Gra" and status eq "ACTIVE"'
check "okta search: sw and eq joined by and" jq_is 'length > 0 and all(.profile.firstName == "Grace" and .status == "ACTIVE")' true
okta GET /api/v1/users --get --data-urlencode 'filter=profile.firstName sw "Gra"'
check "okta filter: sw is not a filter operator (400)" is "$STATUS" 400
check "okta filter: E0000031" jq_is .errorCode E0000031
okta GET /api/v1/users --get --data-urlencode 'search=nosuch eq "x"'
check "okta search: an unknown field is 400" is "$STATUS" 400
okta GET /api/v1/users --get --data-urlencode 'q=ada'
check "okta q: prefix of names and email" jq_is 'length > 0 and all(.profile.firstName == "Ada")' true

# -- one user, lifecycle and DELETE --
active=$(okta_user ACTIVE)
okta GET "/api/v1/users/$active"
check "okta get: 200 the user" jq_is .id "$active"
login=$(printf '%s' "$BODY" | jq -r .profile.login)
okta GET "/api/v1/users/$login"
check "okta get: by login too" jq_is .id "$active"
okta GET /api/v1/users/00unosuchuser0000000
check "okta get: unknown is 404" is "$STATUS" 404
check "okta get: unknown is E0000007" jq_is .errorCode E0000007

okta POST "/api/v1/users/$active/lifecycle/suspend"
check "okta suspend: 200" is "$STATUS" 200
okta GET "/api/v1/users/$active"
check "okta suspend: now SUSPENDED" jq_is .status SUSPENDED
okta POST "/api/v1/users/$active/lifecycle/suspend"
check "okta suspend: a suspended user is 400" is "$STATUS" 400
check "okta suspend: E0000001 with Okta's reason" jq_is \
    '.errorCode + " " + .errorCauses[0].errorSummary' \
    'E0000001 Cannot suspend a user that is not active'
okta POST "/api/v1/users/$active/lifecycle/unsuspend"
check "okta unsuspend: 200" is "$STATUS" 200
okta GET "/api/v1/users/$active"
check "okta unsuspend: ACTIVE again" jq_is .status ACTIVE
okta POST "/api/v1/users/$active/lifecycle/unsuspend"
check "okta unsuspend: an active user is 400" is "$STATUS" 400
okta POST "/api/v1/users/00unosuchuser0000000/lifecycle/suspend"
check "okta suspend: unknown user is 404" is "$STATUS" 404
okta POST "/api/v1/users/$active/lifecycle/explode"
check "okta lifecycle: unknown action is 404" is "$STATUS" 404

okta DELETE "/api/v1/users/$active?sendEmail=maybe"
check "okta delete: a bad sendEmail is 400" is "$STATUS" 400
okta DELETE "/api/v1/users/$active?sendEmail=false"
check "okta delete: the first DELETE is 204" is "$STATUS" 204
okta GET "/api/v1/users/$active"
check "okta delete: the first DELETE deactivates" jq_is .status DEPROVISIONED
okta DELETE "/api/v1/users/$active"
check "okta delete: the second DELETE is 204" is "$STATUS" 204
okta GET "/api/v1/users/$active"
check "okta delete: then the user is gone" is "$STATUS" 404
okta DELETE "/api/v1/users/$active"
check "okta delete: a gone user is 404" is "$STATUS" 404

# -- the rate budget --
okta_tenant acme '{"rate_limit": 2, "rate_window_s": 60}'
okta GET '/api/v1/users?limit=1'
check "okta rate: remaining counts down" is "$(header X-Rate-Limit-Remaining)" 1
okta GET '/api/v1/users?limit=1'
okta GET '/api/v1/users?limit=1'
check "okta rate: past the budget 429" is "$STATUS" 429
check "okta rate: E0000047" jq_is .errorCode E0000047
check "okta rate: remaining 0" is "$(header X-Rate-Limit-Remaining)" 0
reset=$(header X-Rate-Limit-Reset)
check "okta rate: reset is the window's end" test "$reset" -gt "$(date +%s)" \
    -a "$reset" -le "$(($(date +%s) + 61))"
okta_tenant acme
okta GET '/api/v1/users?limit=1'
check "okta rate: a reset tenant has its budget again" is "$STATUS" 200
