# Integrations as data (docs/integrations.md): the capabilities listing,
# the errors every capability answers before anything is sent upstream
# (404, 405, 401, 400, each checked against the sandbox's counters), and
# the `sandbox` integration, defined in etc/integrations.json with no C of
# its own, run end to end.  The Okta capabilities are 62_okta_capabilities.sh.

. tests/e2e/connections.sh

cx_reset
# in_total: requests the sandbox counted so far (every path).
in_total() { cx_total; }

# -- the listing: no token needed --
http GET "$GW/capabilities"
check "capabilities: 200" is "$STATUS" 200
check "capabilities: okta and sandbox" jq_is \
    '[.integrations[].name] | index("okta") != null and index("sandbox") != null' true
check "capabilities: okta's capabilities named" jq_is \
    '.integrations[] | select(.name == "okta") | .capabilities | sort | join(",")' \
    'delete_user,get_user,list_users,suspend_user,unsuspend_user'
check "capabilities: each with its provider" jq_is \
    '.integrations[] | select(.name == "sandbox") | .provider' sandbox
http GET "$GW/capabilities/okta"
check "capabilities/okta: 200" is "$STATUS" 200
check "capabilities/okta: list_users is a GET read" jq_is \
    '.capabilities[] | select(.name == "list_users") | .kind + " " + .method' 'read GET'
check "capabilities/okta: suspend_user is a POST write" jq_is \
    '.capabilities[] | select(.name == "suspend_user") | .kind + " " + .method' 'write POST'
check "capabilities/okta: limit is an integer from 1 to 200" jq_is \
    '.capabilities[] | select(.name == "list_users") | .input[] | select(.name == "limit") | "\(.type) \(.min) \(.max)"' \
    'integer 1 200'
check "capabilities/okta: string inputs have a max_length" jq_is \
    '[.capabilities[].input[] | select(.type == "string") | has("max_length")] | all' true
check "capabilities/okta: user_id required" jq_is \
    '.capabilities[] | select(.name == "get_user") | .input[0] | "\(.name) \(.required)"' 'user_id true'
check "capabilities/okta: list_users says its page cap" jq_is \
    '.capabilities[] | select(.name == "list_users") | .pages_max > 0' true
check "capabilities/okta: each has a description" jq_is \
    '[.capabilities[] | .description | length > 0] | all' true
http GET "$GW/capabilities/nosuch"
check "capabilities/nosuch: 404" is "$STATUS" 404
check "capabilities/nosuch: names the known integrations" jq_is \
    '.error.message | contains("okta") and contains("sandbox")' true
check "capabilities/nosuch: Switchboard's error" is "$(header Switchboard-Error)" not_found

# -- a sandbox connection for the sandbox integration --
cx_grant
cx_create "$(jq -nc --arg at "$AT" --arg rt "$RT" \
    '{provider: "sandbox", credentials: {access_token: $at, refresh_token: $rt}}')"
SB_TOK=$CTOK SB_CID=$CID
check "sandbox connection made" test -n "$SB_TOK"
before=$(in_total)

# -- errors before anything is sent --
http GET "$GW/sandbox/nosuch" -H "$(cx_auth "$SB_TOK")"
check "unknown capability: 404" is "$STATUS" 404
check "unknown capability: names the capabilities" jq_is \
    '.error.message | contains("list_users") and contains("get_user")' true
http POST "$GW/sandbox/list_users" -H "$(cx_auth "$SB_TOK")" \
    -H "$CX_JSON" -d '{}'
check "POST on a read: 405" is "$STATUS" 405
check "POST on a read: Allow GET" is "$(header Allow)" GET
http GET "$GW/okta/suspend_user?user_id=x" -H "$(cx_auth "$SB_TOK")"
check "GET on a write: 405" is "$STATUS" 405
check "GET on a write: Allow POST" is "$(header Allow)" POST
http GET "$GW/sandbox/list_users"
check "no token: 401" is "$STATUS" 401
check "no token: WWW-Authenticate" is "$(header WWW-Authenticate)" Bearer
http GET "$GW/sandbox/list_users" -H "Authorization: Bearer cn_nosuch.secret"
check "a wrong token: 401" is "$STATUS" 401
bad_token_body=$BODY
http GET "$GW/okta/list_users" -H "$(cx_auth "$SB_TOK")"
check "a token of another provider: 401" is "$STATUS" 401
check "a token of another provider: the same body as a bad token" \
    is "$BODY" "$bad_token_body"
http GET "$GW/sandbox/list_users?limit=101&colour=red" -H "$(cx_auth "$SB_TOK")"
check "bad input: 400" is "$STATUS" 400
check "bad input: invalid_input" jq_is .error.code invalid_input
check "bad input: each bad field named" jq_is \
    '[.error.fields[].field] | sort | join(",")' 'colour,limit'
check "bad input: the message names both" jq_is \
    '.error.message | contains("limit") and contains("colour")' true
http GET "$GW/sandbox/get_user" -H "$(cx_auth "$SB_TOK")"
check "missing required: 400 naming user_id" jq_is '.error.fields[0].field' user_id
http GET "$GW/sandbox/get_user?user_id=usr_1%0a" -H "$(cx_auth "$SB_TOK")"
check "a control byte: 400" is "$STATUS" 400
http GET "$GW/sandbox/get_user?user_id=../me" -H "$(cx_auth "$SB_TOK")"
check "a value off its pattern: 400" is "$STATUS" 400
check "nothing was sent upstream for any of these" is "$(in_total)" "$before"

# -- the sandbox integration, data only --
http GET "$GW/sandbox/list_users" -H "$(cx_auth "$SB_TOK")"
check "sandbox list_users: 200" is "$STATUS" 200
check "sandbox list_users: three users, normalised" jq_is \
    '[.users[] | .name] | join(",")' 'Ada,Grace,Alan'
check "sandbox list_users: mapped from nested fields" jq_is \
    '.users[0] | "\(.id) \(.email) \(.city)"' 'usr_1 ada@example.com London'
check "sandbox list_users: next is null (no paging)" jq_is .next null
http GET "$GW/sandbox/list_users?limit=2" -H "$(cx_auth "$SB_TOK")"
check "sandbox list_users: limit passed on" jq_is '.users | length' 2
check "sandbox list_users: one upstream call each" \
    is "$(cx_hits /api/users)" 2
http GET "$GW/sandbox/get_user?user_id=usr_2" -H "$(cx_auth "$SB_TOK")"
check "sandbox get_user: 200 the user itself" jq_is '"\(.id) \(.name) \(.surname)"' \
    'usr_2 Grace Hopper'
http GET "$GW/sandbox/get_user?user_id=usr_9" -H "$(cx_auth "$SB_TOK")"
check "sandbox get_user: unknown is 404" is "$STATUS" 404
check "sandbox get_user: not_found" jq_is .error.code not_found
check "sandbox get_user: Switchboard's error" is "$(header Switchboard-Error)" not_found

# -- what the provider answers badly --
cx_fault /api/users/usr_1 malformed 1
http GET "$GW/sandbox/get_user?user_id=usr_1" -H "$(cx_auth "$SB_TOK")"
check "a non-JSON answer: 502" is "$STATUS" 502
check "a non-JSON answer: upstream_malformed" jq_is .error.code upstream_malformed
cx_fault /api/users/usr_1 status 3 503
http GET "$GW/sandbox/get_user?user_id=usr_1" -H "$(cx_auth "$SB_TOK")"
check "an upstream 503: 502 upstream_error" jq_is .error.code upstream_error
cx_reset
cx_fault /api/users 429 3 30
http GET "$GW/sandbox/list_users" -H "$(cx_auth "$SB_TOK")"
check "an upstream 429: 429" is "$STATUS" 429
check "an upstream 429: rate_limited" jq_is .error.code rate_limited
check "an upstream 429: its Retry-After copied" is "$(header Retry-After)" 30
cx_reset
http GET "$GW/sandbox/list_users" -H "$(cx_auth "$SB_TOK")"
check "after the faults: 200 again" is "$STATUS" 200

cx_del "$SB_CID" "$SB_TOK"
cx_reset

# -- a file whose integration would shadow a gateway route: no start --
bad_file=$(mktemp)
jq '.integrations[0].name = "users"' etc/integrations.json >"$bad_file"
if side_start SB_INTEGRATIONS_FILE="$bad_file" >/dev/null; then
	check "a shadowing integration stops the start" false
	side_stop "the stack started with a shadowing integration stops"
else
	check "a shadowing integration stops the start, saying why" \
	    grep -q "integration 'users': the name would shadow the gateway's route /users/" \
	    "$SIDE_VAR/start.log"
	check "a shadowing integration: nothing left running" \
	    test -z "$(SB_VAR_DIR=$SIDE_VAR scripts/stack pids)"
	rm -rf "$SIDE_VAR"
fi
rm -f "$bad_file"
