# The hosting panel (brief 001), projects service on the projects port:
# seed data, projects with their owner and flags, pages with Link and
# X-Total-Count, deployments, cancel, the webhook's authentication and
# state machine, deployedIn and the first live URL, the user statistics.
# Responses are checked against project-api.yaml's schemas with jq.

A=(-H "Authorization: Bearer $SB_PROJECTS_TOKEN")
JSON=(-H 'Content-Type: application/json')
SBCTL=$SB_BIN_DIR/sbctl

# The yaml's schemas (Project, Deployment, Error), plus our additions.
INT='(type == "number" and . == floor)'
S_PROJECT="(type == \"object\") and (.id | $INT) and (.name | type == \"string\")
 and (.hasLiveDeployment | type == \"boolean\")
 and (.hasPendingDeployment | type == \"boolean\")
 and (.hasOngoingDeployment == .hasPendingDeployment)
 and ((has(\"url\") | not) or (.url | type == \"string\"))
 and (.createdAt | type == \"string\") and (.owner.id | $INT)
 and (.owner.username | type == \"string\") and (.owner.email | type == \"string\")"
S_DEPLOYMENT="(type == \"object\") and (.id | $INT) and (.projectId | $INT)
 and (.status | IN(\"pending\", \"building\", \"deploying\", \"failed\", \"cancelled\", \"done\"))
 and (.createdAt | test(\"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}[.][0-9]{3}Z$\"))
 and ((has(\"deployedIn\") | not) or (.deployedIn | $INT))"
S_ERROR='(type == "object") and (.name | type == "string") and (.message | type == "string") and (keys == ["message", "name"])'
is_project() { jq_is "$S_PROJECT" true; }
is_projects() { jq_is "type == \"array\" and all(.[]; $S_PROJECT)" true; }
is_deployment() { jq_is "$S_DEPLOYMENT" true; }
is_deployments() { jq_is "type == \"array\" and all(.[]; $S_DEPLOYMENT)" true; }
is_error() { jq_is "$S_ERROR" true && jq_is .name "$1"; }

# secret ID: the app secret of project ID, from the seed file.
secret() { jq -r ".[] | select(.id == $1) | .app_secret" db/seed/projects.json; }
# hook SECRET ID STATUS: the deployment webhook.
hook() {
	http POST "$PJ/deployment/webhook" "${JSON[@]}" \
	    -H "Authorization: Bearer $1" -d "{\"id\": $2, \"status\": \"$3\"}"
}
# deploy PROJECT: creates a deployment, sets DEP to its id.
deploy() {
	http POST "$PJ/projects/$1/deployment" "${A[@]}"
	DEP=$(printf '%s' "$BODY" | jq -r .id)
}
flags() { # PROJECT: "ongoing pending live" of the project
	http GET "$PJ/projects/$1" "${A[@]}"
	printf '%s' "$BODY" | jq -r '"\(.hasOngoingDeployment) \(.hasPendingDeployment) \(.hasLiveDeployment)"'
}

# --- seed --------------------------------------------------------------
check "seed: 20 projects loaded" is "$(sql 'SELECT count(*) FROM projects')" 20
check "seed: 4 users loaded" is "$(sql 'SELECT count(*) FROM users')" 4
out=$("$SBCTL" seed 2>/dev/null) # its report; the log (stderr) may say more
check "seed again reports the rows" is "$out" "seed: 4 user(s), 20 project(s) loaded"
check "seed is idempotent" is "$(sql 'SELECT count(*) FROM projects')" 20
check "seed stores app secrets only as 64-hex digests" is \
    "$(sql "SELECT count(*) FROM projects WHERE length(app_secret_digest) = 64 AND app_secret_digest GLOB '[0-9a-f]*'")" 20
no_secret_in_dump() {
	! sqlite3 "$SB_VAR_DIR/switchboard.db" .dump | grep -qF "$(secret 7)"
}
check "no app secret is in a dump of the database" no_secret_in_dump

# --- projects ----------------------------------------------------------
http GET "$PJ/projects/1" "${A[@]}"
check "GET /projects/1: 200" is "$STATUS" 200
check "project matches the Project schema" is_project
check "project has its seed name" jq_is .name striking-wealth-64e07b9b92
check "project has its owner" jq_is '.owner | "\(.id) \(.username)"' "1 Cedrick_Abshire60"
check "project has no url yet (omitted)" jq_is 'has("url")' false
check "project never shows its app secret" jq_is '[.. | strings | select(. == "Jn2xToH72JUcsvqpiucgiDPu06STbiiL")] | length' 0
check "a new project has no deployments" jq_is '"\(.hasOngoingDeployment) \(.hasLiveDeployment)"' "false false"
http GET "$PJ/projects/999999" "${A[@]}"
check "unknown project: 404" is "$STATUS" 404
check "404 matches the Error schema" is_error NotFound
http GET "$PJ/projects/abc" "${A[@]}"
check "non-numeric project id: 404 NotFound" is_error NotFound

base="/projects"
http GET "$PJ/projects" "${A[@]}"
check "GET /projects: 200" is "$STATUS" 200
check "projects match the Project schema" is_projects
check "page 1 holds 8 projects" jq_is length 8
check "page 1 starts at project 1" jq_is '.[0].id' 1
check "X-Total-Count is 20" is "$(header X-Total-Count)" 20
check "Link on the first page" is "$(header Link)" \
    "<$base?page=1>; rel=\"first\", <$base?page=2>; rel=\"next\", <$base?page=3>; rel=\"last\""
http GET "$PJ/projects?page=2" "${A[@]}"
check "page 2 holds projects 9 to 16" jq_is '[.[].id] | "\(first) \(last) \(length)"' "9 16 8"
check "Link on a middle page" is "$(header Link)" \
    "<$base?page=1>; rel=\"first\", <$base?page=3>; rel=\"next\", <$base?page=3>; rel=\"last\", <$base?page=1>; rel=\"previous\""
http GET "$PJ/projects?page=3" "${A[@]}"
check "the last page holds the last 4" jq_is '[.[].id] | "\(first) \(last) \(length)"' "17 20 4"
check "Link on the last page" is "$(header Link)" \
    "<$base?page=1>; rel=\"first\", <$base?page=3>; rel=\"last\", <$base?page=2>; rel=\"previous\""
http GET "$PJ/projects?page=9" "${A[@]}"
check "a page past the last: 200 []" is "$STATUS $BODY" "200 []"
check "a page past the last still links" is "$(header Link)" \
    "<$base?page=1>; rel=\"first\", <$base?page=3>; rel=\"last\", <$base?page=8>; rel=\"previous\""
# Links are relative: the caller's Host never goes into them, and nginx
# answers a Host it is not configured for itself (issue 8 §7).
http GET "$PJ/projects?page=2" "${A[@]}" -H "Host: localhost:$SB_PROJECTS_PORT"
check "Host localhost:port: 200 and the same relative Link" is "$STATUS $(header Link)" \
    "200 <$base?page=1>; rel=\"first\", <$base?page=3>; rel=\"next\", <$base?page=3>; rel=\"last\", <$base?page=1>; rel=\"previous\""
for h in 'x>;rel="next",<http:' 'evil.example' "evil.example:$SB_PROJECTS_PORT"; do
	http GET "$PJ/projects?page=2" "${A[@]}" -H "Host: $h"
	check "Host '$h': nginx's 421 MisdirectedRequest, no Link" \
	    is "$STATUS $(jq -r .name <<<"$BODY") $(header Link)" "421 MisdirectedRequest "
done
for u in "$GW/health" "$EV/health" "$SBX/health"; do
	http GET "$u" -H 'Host: x>;rel="next",<http:'
	check "Host refused on ${u%/health}: 421 misdirected_request" \
	    is "$STATUS $(jq -r .error.code <<<"$BODY")" "421 misdirected_request"
done
http GET "$GW/health" -H "Host: localhost:$SB_GATEWAY_PORT"
check "Host localhost:port on the gateway: 200" is "$STATUS" 200
for bad in 0 -1 abc 1.5 ""; do
	http GET "$PJ/projects?page=$bad" "${A[@]}"
	check "page='$bad': 400 BadRequest" is_error BadRequest
done

# --- deployments -------------------------------------------------------
P=11 # a project of user 3 that no other test file uses
check "project $P starts with no flags" is "$(flags $P)" "false false false"
http POST "$PJ/projects/$P/deployment" "${A[@]}"
check "POST /projects/$P/deployment: 201" is "$STATUS" 201
check "the new deployment matches the Deployment schema" is_deployment
check "the new deployment is pending" jq_is .status pending
check "the new deployment has no deployedIn yet" jq_is 'has("deployedIn")' false
D1=$(printf '%s' "$BODY" | jq -r .id)
check "project $P: ongoing after the create" is "$(flags $P)" "true true false"
http POST "$PJ/projects/999999/deployment" "${A[@]}"
check "deployment of an unknown project: 404" is_error NotFound
http POST "$PJ/projects/$P/deployment"
check "deployment without token A: 401" is_error Unauthorized

http GET "$PJ/deployments/$D1" "${A[@]}"
check "GET /deployments/$D1: 200" is "$STATUS" 200
check "it matches the Deployment schema" is_deployment
check "it belongs to project $P" jq_is .projectId "$P"
http GET "$PJ/deployments/999999" "${A[@]}"
check "unknown deployment: 404" is_error NotFound

# Cancel: from pending; then never again.
http POST "$PJ/deployments/$D1/cancel" "${A[@]}"
check "cancel a pending deployment: 200" is "$STATUS" 200
check "cancelled deployment matches the schema" is_deployment
check "it is cancelled" jq_is .status cancelled
check "project $P: no flag after the cancel" is "$(flags $P)" "false false false"
http POST "$PJ/deployments/$D1/cancel" "${A[@]}"
check "cancel a cancelled deployment: 400" is_error BadRequest
check "it stays cancelled" is "$(sql "SELECT status FROM deployments WHERE id = $D1")" cancelled
http POST "$PJ/deployments/999999/cancel" "${A[@]}"
check "cancel an unknown deployment: 404" is_error NotFound
for from in building deploying; do
	deploy $P
	hook "$(secret $P)" "$DEP" building
	[ "$from" = deploying ] && hook "$(secret $P)" "$DEP" deploying
	http POST "$PJ/deployments/$DEP/cancel" "${A[@]}"
	check "cancel from $from: 200 cancelled" is "$STATUS $(printf '%s' "$BODY" | jq -r .status)" "200 cancelled"
done

# --- the webhook: authentication -------------------------------------
deploy $P
D2=$DEP
hook "$SB_PROJECTS_TOKEN" "$D2" building
check "webhook refuses token A: 401" is_error Unauthorized
hook "$(secret 12)" "$D2" building
check "webhook refuses another project's secret: 401" is_error Unauthorized
hook "wrong-secret" "$D2" building
check "webhook refuses a wrong secret: 401" is_error Unauthorized
http POST "$PJ/deployment/webhook" "${JSON[@]}" -d "{\"id\": $D2, \"status\": \"building\"}"
check "webhook without a secret: 401" is_error Unauthorized
hook "$(secret $P)" 999999 building
check "webhook for an unknown deployment: 401" is_error Unauthorized
check "a refused webhook changes nothing" is "$(sql "SELECT status FROM deployments WHERE id = $D2")" pending
hook "$(secret $P)" "$D2" paused
check "webhook with an unknown status: 400" is_error BadRequest
http POST "$PJ/deployment/webhook" "${JSON[@]}" -H "Authorization: Bearer $(secret $P)" \
    -d "{\"id\": $D2, \"status\": \"building\", \"extra\": 1}"
check "webhook with an unknown field: 400" is_error BadRequest
http POST "$PJ/deployment/webhook" "${JSON[@]}" -H "Authorization: Bearer $(secret $P)" -d "{\"status\": \"building\"}"
check "webhook without id: 400" is_error BadRequest
http POST "$PJ/deployment/webhook" "${JSON[@]}" -H "Authorization: Bearer $(secret $P)" -d "{\"id\": \"$D2\", \"status\": \"building\"}"
check "webhook with a string id: 400" is_error BadRequest

# --- the webhook: the state machine ---------------------------------
S=$(secret $P)
hook "$S" "$D2" pending
check "pending -> pending is a no-op 200" is "$STATUS $(printf '%s' "$BODY" | jq -r .status)" "200 pending"
hook "$S" "$D2" building
check "pending -> building: 200" is "$STATUS" 200
check "the webhook answers a Deployment" is_deployment
check "project $P: ongoing while building" is "$(flags $P)" "true true false"
hook "$S" "$D2" building
check "building -> building is a no-op 200" is "$STATUS" 200
hook "$S" "$D2" pending
check "building -> pending: 409" is_error Conflict
hook "$S" "$D2" deploying
check "building -> deploying: 200" is "$STATUS" 200
check "project $P: ongoing while deploying" is "$(flags $P)" "true true false"
hook "$S" "$D2" building
check "deploying -> building: 409" is_error Conflict
hook "$S" "$D2" pending
check "deploying -> pending: 409" is_error Conflict
check "project $P has no url before its first done" is "$(sql "SELECT coalesce(url, 'none') FROM projects WHERE id = $P")" none
sleep 1.1
hook "$S" "$D2" done
check "deploying -> done: 200" is "$STATUS" 200
check "done has deployedIn in whole seconds >= 1" jq_is '.deployedIn >= 1 and .deployedIn < 60' true
check "deployedIn is stored" is "$(sql "SELECT deployed_in >= 1 FROM deployments WHERE id = $D2")" 1
check "project $P: live, not ongoing after done" is "$(flags $P)" "false false true"
http GET "$PJ/projects/$P" "${A[@]}"
url1=$(printf '%s' "$BODY" | jq -r .url)
check "the first done gives the project a URL" test -n "$(printf '%s' "$url1" | grep -E '^https://[a-z0-9-]+-[0-9a-f]{8}\.switchboard\.app$')"
check "the URL starts with the project's name" test "${url1#https://$(sql "SELECT name FROM projects WHERE id = $P")-}" != "$url1"
for to in pending building deploying failed cancelled; do
	hook "$S" "$D2" $to
	check "done -> $to: 409" is_error Conflict
done
hook "$S" "$D2" done
check "done -> done is a no-op 200" is "$STATUS" 200
check "done stays done" is "$(sql "SELECT status FROM deployments WHERE id = $D2")" done

deploy $P
D3=$DEP
check "project $P: ongoing and live" is "$(flags $P)" "true true true"
hook "$S" "$D3" done
check "pending -> done (skipping steps): 200" is "$STATUS" 200
http GET "$PJ/projects/$P" "${A[@]}"
check "a second done keeps the project's URL" jq_is .url "$url1"

deploy $P
D4=$DEP
hook "$S" "$D4" failed
check "pending -> failed: 200" is "$STATUS" 200
for to in pending building deploying done cancelled; do
	hook "$S" "$D4" $to
	check "failed -> $to: 409" is_error Conflict
done
http POST "$PJ/deployments/$D4/cancel" "${A[@]}"
check "cancel a failed deployment: 400" is_error BadRequest
http POST "$PJ/deployments/$D3/cancel" "${A[@]}"
check "cancel a done deployment: 400" is_error BadRequest
check "project $P: live only" is "$(flags $P)" "false false true"

deploy $P
D5=$DEP
hook "$S" "$D5" cancelled
check "webhook pending -> cancelled: 200" is "$STATUS $(printf '%s' "$BODY" | jq -r .status)" "200 cancelled"
for to in pending building deploying done failed; do
	hook "$S" "$D5" $to
	check "cancelled -> $to: 409" is_error Conflict
done

# --- deployment lists ----------------------------------------------
n=$(sql "SELECT count(*) FROM deployments WHERE project_id = $P")
http GET "$PJ/deployments?projectId=$P" "${A[@]}"
check "GET /deployments?projectId=$P: 200" is "$STATUS" 200
check "deployments match the Deployment schema" is_deployments
check "X-Total-Count counts the project's deployments" is "$(header X-Total-Count)" "$n"
check "only project $P's deployments" jq_is "all(.[]; .projectId == $P)" true
check "newest first" jq_is '.[0].id > .[-1].id' true
dbase="/deployments?projectId=$P"
check "the deployments' Link keeps the filter" is "$(header Link)" \
    "<$dbase&page=1>; rel=\"first\", <$dbase&page=1>; rel=\"last\""
for _ in 1 2 3 4; do deploy $P; done
n=$(sql "SELECT count(*) FROM deployments WHERE project_id = $P")
http GET "$PJ/deployments?projectId=$P&page=2" "${A[@]}"
check "page 2 of project $P's $n deployments" jq_is length $((n - 8))
check "Link on the last page of deployments" is "$(header Link)" \
    "<$dbase&page=1>; rel=\"first\", <$dbase&page=2>; rel=\"last\", <$dbase&page=1>; rel=\"previous\""
http GET "$PJ/deployments" "${A[@]}"
check "GET /deployments: all projects" is "$(header X-Total-Count)" "$(sql 'SELECT count(*) FROM deployments')"
check "all deployments match the schema" is_deployments
http GET "$PJ/deployments?projectId=x" "${A[@]}"
check "a bad projectId: 400" is_error BadRequest

# --- statistics (bonus) -----------------------------------------------
http GET "$PJ/users/3/stats" "${A[@]}"
check "GET /users/3/stats: 200" is "$STATUS" 200
total=$(sql "SELECT count(*) FROM deployments d JOIN projects p ON p.id = d.project_id WHERE p.user_id = 3")
done_n=$(sql "SELECT count(*) FROM deployments d JOIN projects p ON p.id = d.project_id WHERE p.user_id = 3 AND d.status = 'done'")
check "stats count the user's deployments" jq_is .deployments "$total"
check "stats count the successful ones" jq_is .successfulDeployments "$done_n"
check "a window under a week counts as one week" jq_is .weeks 1
check "average weekly deployments" jq_is .averageWeeklyDeployments "$total"
check "average weekly successful deployments" jq_is .averageWeeklySuccessfulDeployments "$done_n"
http GET "$PJ/users/999/stats" "${A[@]}"
check "stats of an unknown user: 404" is_error NotFound

# --- methods and routes ----------------------------------------------
http DELETE "$PJ/projects/1" "${A[@]}"
check "DELETE /projects/1: 405 MethodNotAllowed" is_error MethodNotAllowed
http GET "$PJ/deployment/webhook"
check "GET on the webhook: 405" is "$STATUS" 405
