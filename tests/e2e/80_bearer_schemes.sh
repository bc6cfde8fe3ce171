# Bearer schemes on every port that checks a token: the scheme is
# case-insensitive (RFC 7235), one or more spaces follow it, and the token
# itself is compared exactly.  The gateway's connection tokens and the
# projects webhook's app secrets are checked by the responders, the static
# tokens A and B by nginx, the sandbox's access tokens by the sandbox.

. tests/e2e/connections.sh

# swapcase TEXT: TEXT with upper and lower case swapped (another token).
swapcase() { printf '%s' "$1" | tr 'a-zA-Z' 'A-Za-z'; }

# schemes LABEL OK_STATUS TOKEN METHOD URL [curl args]: the accepted and
# refused forms of "Authorization: <scheme> <token>" on one route.
schemes() {
	local label=$1 ok=$2 token=$3 method=$4 url=$5 scheme
	shift 5
	for scheme in Bearer bearer BEARER bEaReR 'Bearer ' 'bearer  '; do
		http "$method" "$url" -H "Authorization: $scheme $token" "$@"
		check "$label: '$scheme <token>' accepted" is "$STATUS" "$ok"
	done
	http "$method" "$url" -H "Authorization: Bearer $(swapcase "$token")" "$@"
	check "$label: the token in another case refused" is "$STATUS" 401
	http "$method" "$url" -H "Authorization: Bearer ${token}x" "$@"
	check "$label: a wrong token refused" is "$STATUS" 401
	http "$method" "$url" -H "Authorization: Basic $token" "$@"
	check "$label: 'Basic <token>' refused" is "$STATUS" 401
	http "$method" "$url" -H "Authorization: Bearer" "$@"
	check "$label: the scheme alone refused" is "$STATUS" 401
	http "$method" "$url" -H "Authorization: Bearer$token" "$@"
	check "$label: no space after the scheme refused" is "$STATUS" 401
}

# The gateway: a connection token (lib/guard.c).
cx_reset
cx_grant
cx_create "$(jq -nc --arg at "$AT" --arg rt "$RT" \
    '{provider: "sandbox", credentials: {access_token: $at, refresh_token: $rt}}')"
check "bearer: a gateway connection made" is "$STATUS" 201
schemes "gateway" 200 "$CTOK" GET "$GW/connections/$CID"
cx_del "$CID" "$CTOK"

# The projects service: static token A (nginx).
schemes "projects" 200 "$SB_PROJECTS_TOKEN" GET "$PJ/projects"

# The events service: static token B (nginx).
schemes "events" 200 "$SB_EVENTS_TOKEN" GET "$EV/events"

# The projects webhook: a project's app secret (the responder).  Setting a
# pending deployment to pending is an accepted no-op.
bearer_project=
for p in 20 19 18 17; do
	http POST "$PJ/projects/$p/deployment" \
	    -H "Authorization: Bearer $SB_PROJECTS_TOKEN"
	if [ "$STATUS" = 201 ]; then
		bearer_project=$p
		break
	fi
done
check "bearer: a deployment to try the webhook with" test -n "$bearer_project"
bearer_dep=$(printf '%s' "$BODY" | jq -r .id)
bearer_secret=$(jq -r ".[] | select(.id == ${bearer_project:-0}) | .app_secret" \
    db/seed/projects.json)
schemes "webhook" 200 "$bearer_secret" POST "$PJ/deployment/webhook" \
    -H 'Content-Type: application/json' \
    -d "{\"id\": $bearer_dep, \"status\": \"pending\"}"
http POST "$PJ/deployments/$bearer_dep/cancel" \
    -H "Authorization: Bearer $SB_PROJECTS_TOKEN"

# The sandbox's protected API: its access tokens.
cx_grant
schemes "sandbox" 200 "$AT" GET "$SBX/api/me"
cx_reset
