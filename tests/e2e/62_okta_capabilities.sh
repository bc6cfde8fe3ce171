# The Okta integration's capabilities (etc/integrations.json, run by the
# generic engine) for two customers, each a connection of provider okta
# to its own sandbox tenant: each token sees its own org only and never
# reaches the other's tenant (sandbox counters per tenant path); listing
# with paging and all=true up to its cap; get, suspend, unsuspend and the
# two-step delete with Okta's errors carried inside Switchboard's.

. tests/e2e/connections.sh

cx_reset
TA=caps-acme-$RANDOM TB=caps-globex-$RANDOM
# okta_customer TENANT [BODY]: makes (or resets) the tenant, then a
# connection to it; sets TOK and CONN_ID.
okta_customer() {
	local base key
	http POST "$SBX/_sandbox/okta/$1" -H "$SBX_AUTH" -H "$CX_JSON" \
	    -d "${2:-{\}}"
	TENANT_BODY=$BODY
	base=$(printf '%s' "$BODY" | jq -r .base_url)
	key=$(printf '%s' "$BODY" | jq -r .api_token)
	cx_create "$(jq -nc --arg b "$base" --arg k "$key" \
	    '{provider: "okta", credentials: {api_key: $k}, config: {base_url: $b}}')"
	TOK=$CTOK CONN_ID=$CID
}
# user_of TENANT STATUS: the id of one user of the tenant in that status.
user_of() {
	sqlite3 -batch -noheader "$SB_VAR_DIR/sandbox.db" \
	    "select id from okta_users where tenant = '$1' and status = '$2' limit 1"
}
# cap TOKEN METHOD CAPABILITY [curl args]: runs an Okta capability.
cap() {
	local tok=$1 method=$2 name=$3
	shift 3
	http "$method" "$GW/okta/$name" -H "$(cx_auth "$tok")" "$@"
}
hits_a() { cx_hits "/okta/$TA/api/v1/users"; }
hits_b() { cx_hits "/okta/$TB/api/v1/users"; }

okta_customer "$TA"
A=$TOK A_ID=$CONN_ID
check "customer A: an okta connection with the tenant's base_url" test -n "$A"
okta_customer "$TB"
B=$TOK B_ID=$CONN_ID
check "customer B: an okta connection with the tenant's base_url" test -n "$B"
cx_reset

# -- list_users, and two orgs kept apart --
cap "$A" GET list_users
check "list_users: 200" is "$STATUS" 200
check "list_users: a page of 200 users" jq_is '.users | length' 200
check "list_users: normalised users" jq_is \
    '.users[0] | keys | sort | join(",")' \
    'created,email,firstName,id,lastLogin,lastName,login,status'
check "list_users: login from the profile" jq_is \
    '[.users[] | .login | length > 0] | all' true
check "list_users: a next cursor" jq_is '.next | length > 0' true
check "list_users: no truncated without all" jq_is 'has("truncated")' false
a_ids=$(printf '%s' "$BODY" | jq -r '.users[].id' | sort)
check "list_users: A's org only: A's tenant called once" is "$(hits_a)" 1
check "list_users: A's token never reached B's tenant" is "$(hits_b)" 0
cap "$B" GET list_users
b_ids=$(printf '%s' "$BODY" | jq -r '.users[].id' | sort)
check "list_users: B's users are none of A's" \
    test -z "$(comm -12 <(echo "$a_ids") <(echo "$b_ids"))"
check "list_users: B's token reached B's tenant only" is "$(hits_a):$(hits_b)" 1:1
b_user=$(user_of "$TB" ACTIVE)
cap "$A" GET "get_user?user_id=$b_user"
check "get_user: B's user with A's token is 404" is "$STATUS" 404
check "get_user: asked at A's tenant" is "$(hits_b)" 1

# -- paging --
cap "$A" GET 'list_users?limit=100'
p1=$(printf '%s' "$BODY" | jq -r .next)
check "paging: limit 100" jq_is '.users | length' 100
cap "$A" GET list_users --get --data-urlencode "limit=100" --data-urlencode "after=$p1"
p2=$(printf '%s' "$BODY" | jq -r .next)
ids2=$(printf '%s' "$BODY" | jq -r '.users[].id')
check "paging: the second page, 100 others" jq_is '.users | length' 100
cap "$A" GET list_users --get --data-urlencode "limit=100" --data-urlencode "after=$p2"
check "paging: the last page has the 25 left" jq_is '.users | length' 25
check "paging: and no next" jq_is .next null
check "paging: pages differ" test "$p1" != "$p2" -a -n "$ids2"
cx_reset
cap "$A" GET 'list_users?all=true'
check "all=true: every user (225 not deprovisioned)" jq_is '.users | length' 225
check "all=true: distinct users" jq_is '[.users[].id] | unique | length' 225
check "all=true: not truncated" jq_is .truncated false
check "all=true: next null" jq_is .next null
check "all=true: two upstream pages" is "$(hits_a)" 2
cx_reset
cap "$A" GET 'list_users?all=true&limit=5'
check "all=true past the cap: 200" is "$STATUS" 200
check "all=true past the cap: truncated" jq_is .truncated true
check "all=true past the cap: says where it stopped" jq_is .stopped cap
check "all=true past the cap: 20 pages of 5" jq_is '.users | length' 100
check "all=true past the cap: a cursor to go on" jq_is '.next | length > 0' true
check "all=true past the cap: 20 upstream calls" is "$(hits_a)" 20
cap "$A" GET list_users --get --data-urlencode 'filter=status eq "SUSPENDED"'
check "filter: passed on" jq_is '(.users | length) > 0 and all(.users[]; .status == "SUSPENDED")' true
cap "$A" GET list_users --get --data-urlencode 'q=ada'
check "q: passed on" jq_is '(.users | length) > 0 and all(.users[]; .firstName == "Ada")' true
cap "$A" GET list_users --get --data-urlencode 'filter=profile.firstName sw "Gra"'
check "Okta's 400: 400 invalid_request" is "$STATUS:$(printf '%s' "$BODY" | jq -r .error.code)" \
    400:invalid_request
check "Okta's 400: its errorCode carried" jq_is .error.upstream.errorCode E0000031
check "Okta's 400: its errorId carried" jq_is '.error.upstream.errorId | length > 0' true

# -- input checked before anything is sent --
cx_reset
cap "$A" GET 'list_users?limit=0'
check "limit 0: 400 naming limit" jq_is '.error.fields[0].field' limit
cap "$A" GET 'list_users?limit=201&after=a%01b&q=x'
check "limit 201 and a control byte: both named" jq_is \
    '[.error.fields[].field] | sort | join(",")' 'after,limit'
cap "$A" GET list_users --get --data-urlencode "search=$(head -c 513 /dev/zero | tr '\0' a)"
check "search over 512 bytes: 400" is "$STATUS" 400
cap "$A" GET 'list_users?all=maybe'
check "all=maybe: 400" jq_is '.error.fields[0].field' all
cap "$A" POST delete_user -H "$CX_JSON" -d '{"user_id": "x", "send_email": "yes"}'
check "send_email not a boolean: 400" jq_is '.error.fields[0].field' send_email
cap "$A" POST suspend_user -H "$CX_JSON" -d '{}'
check "suspend_user without user_id: 400" jq_is '.error.fields[0].field' user_id
cap "$A" POST suspend_user -H "$CX_JSON" -d '[1]'
check "a body that is not an object: 400" is "$STATUS" 400
check "nothing sent for bad input" is "$(cx_total)" 0

# -- get_user --
active=$(user_of "$TA" ACTIVE)
cap "$A" GET "get_user?user_id=$active"
check "get_user: 200 the user itself" jq_is .id "$active"
check "get_user: normalised" jq_is '.status + " " + (.login | tostring)' \
    "ACTIVE $(sqlite3 "$SB_VAR_DIR/sandbox.db" "select login from okta_users where id = '$active'")"
login=$(sqlite3 "$SB_VAR_DIR/sandbox.db" "select login from okta_users where id = '$active'")
cap "$A" GET get_user --get --data-urlencode "user_id=$login"
check "get_user by login (its '@' sent as %40): 200 the user" jq_is '"\(.id) \(.login)"' "$active $login"
check "get_user by login: Okta asked for /users/{login}" is \
    "$(cx_hits "/okta/$TA/api/v1/users/$login")" 1
cap "$A" GET 'get_user?user_id=00unosuchuser0000000'
check "get_user: unknown is 404" is "$STATUS" 404
check "get_user: not_found" jq_is .error.code not_found
check "get_user: Okta's error inside" jq_is \
    '.error.upstream | "\(.errorCode) \(.errorSummary | length > 0) \(.errorId | length > 0)"' \
    'E0000007 true true'

# -- suspend and unsuspend --
cap "$A" POST suspend_user -H "$CX_JSON" -d "{\"user_id\": \"$active\"}"
check "suspend_user: 200" is "$STATUS" 200
check "suspend_user: the new status" jq_is '"\(.user_id) \(.status)"' "$active SUSPENDED"
cap "$A" GET "get_user?user_id=$active"
check "suspend_user: Okta has it SUSPENDED" jq_is .status SUSPENDED
cap "$A" POST suspend_user -H "$CX_JSON" -d "{\"user_id\": \"$active\"}"
check "suspend of a non-ACTIVE user: 409" is "$STATUS" 409
check "suspend of a non-ACTIVE user: conflict" jq_is .error.code conflict
check "suspend of a non-ACTIVE user: Okta's reason" jq_is \
    '.error.message | contains("Cannot suspend a user that is not active")' true
check "suspend of a non-ACTIVE user: Okta's causes carried" jq_is \
    '.error.upstream.errorCauses[0].errorSummary' 'Cannot suspend a user that is not active'
cap "$A" POST unsuspend_user -H "$CX_JSON" -d "{\"user_id\": \"$active\"}"
check "unsuspend_user: ACTIVE" jq_is '"\(.user_id) \(.status)"' "$active ACTIVE"
cap "$A" POST unsuspend_user -H "$CX_JSON" -d "{\"user_id\": \"$active\"}"
check "unsuspend of an ACTIVE user: 409" is "$STATUS" 409
cap "$A" POST suspend_user -H "$CX_JSON" -d '{"user_id": "00unosuchuser0000000"}'
check "suspend of an unknown user: 404" is "$STATUS" 404

# -- delete: deactivate, then delete --
cx_reset
cap "$A" POST delete_user -H "$CX_JSON" -d "{\"user_id\": \"$active\", \"send_email\": false}"
check "delete_user: 200" is "$STATUS" 200
check "delete_user: deleted" jq_is '"\(.user_id) \(.status)"' "$active deleted"
check "delete_user: two DELETEs for an active user" \
    is "$(cx_hits "/okta/$TA/api/v1/users/$active")" 2
cap "$A" GET "get_user?user_id=$active"
check "delete then get: 404" is "$STATUS" 404
cap "$A" POST delete_user -H "$CX_JSON" -d "{\"user_id\": \"$active\"}"
check "a repeated delete: 404" is "$STATUS" 404
check "a repeated delete: not_found" jq_is .error.code not_found
deprov=$(user_of "$TA" DEPROVISIONED)
cap "$A" POST delete_user -H "$CX_JSON" -d "{\"user_id\": \"$deprov\"}"
check "delete of a DEPROVISIONED user: deleted" jq_is .status deleted
cap "$A" GET "get_user?user_id=$deprov"
check "delete of a DEPROVISIONED user: gone" is "$STATUS" 404
cap "$A" POST delete_user -H "$CX_JSON" -d '{"user_id": "00unosuchuser0000000"}'
check "delete of an unknown user: 404" is "$STATUS" 404
check "no delete reached B's tenant" is "$(cx_hits "/okta/$TB/api/v1/users/$active")" 0

# -- Okta's bad answers --
cx_reset
cx_fault "/okta/$TA/api/v1/users" malformed 2
cap "$A" GET list_users
check "a non-JSON Okta answer: 502 upstream_malformed" \
    is "$STATUS:$(printf '%s' "$BODY" | jq -r .error.code)" 502:upstream_malformed
cx_reset
cx_fault "/okta/$TA/api/v1/users" 429 2 30
cap "$A" GET list_users
check "Okta's 429: 429 rate_limited" \
    is "$STATUS:$(printf '%s' "$BODY" | jq -r .error.code)" 429:rate_limited
check "Okta's 429: Retry-After copied" is "$(header Retry-After)" 30
cx_reset
cx_del "$B_ID" "$B"
okta_customer "$TB" '{"rate_limit": 1, "rate_window_s": 60}'
B=$TOK B_ID=$CONN_ID
cap "$B" GET 'list_users?limit=1'
check "budget: the first call passes" is "$STATUS" 200
before=$(hits_b)
cap "$B" GET 'list_users?limit=1'
check "budget seen spent: 429 provider_rate_limited" \
    is "$STATUS:$(printf '%s' "$BODY" | jq -r .error.code)" 429:provider_rate_limited
check "budget seen spent: Retry-After within the window" \
    in_range "$(header Retry-After)" 1 60
check "budget seen spent: nothing sent to Okta" is "$(hits_b)" "$before"
# A second customer connection to the same org has no budget seen yet:
# its call reaches Okta, which says 429 itself.
B1=$B B1_ID=$B_ID
cx_create "$(jq -nc --arg b "$(jq -r .base_url <<<"$TENANT_BODY")" \
    --arg k "$(jq -r .api_token <<<"$TENANT_BODY")" \
    '{provider: "okta", credentials: {api_key: $k}, config: {base_url: $b}}')"
B=$CTOK B_ID=$CID
cap "$B" GET 'list_users?limit=1'
check "Okta's own 429: 429 rate_limited" \
    is "$STATUS:$(printf '%s' "$BODY" | jq -r .error.code)" 429:rate_limited
check "Okta's own 429: E0000047 carried" jq_is .error.upstream.errorCode E0000047
check "Okta's own 429: Retry-After from its reset" \
    in_range "$(header Retry-After)" 1 60
cx_del "$B1_ID" "$B1"

cx_del "$A_ID" "$A"
cx_del "$B_ID" "$B"
cx_reset
