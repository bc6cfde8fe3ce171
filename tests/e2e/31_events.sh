# The hosting panel's events (brief 001): the aggregation service on the
# events port (POST /events once per id, one event or an array of them,
# GET /events with filters and pages), the outbox delivered in batches
# right after the responses, the activity
# feed, and delivery with the aggregation service stopped: the projects
# API stays fast, and `sbctl deliver` later brings every event exactly once.

A=(-H "Authorization: Bearer $SB_PROJECTS_TOKEN")
B=(-H "Authorization: Bearer $SB_EVENTS_TOKEN")
JSON=(-H 'Content-Type: application/json')
SBCTL=$SB_BIN_DIR/sbctl
S_EVENT='(type == "object") and (.id | type == "string") and (.name | type == "string") and (.payload | type == "object") and (.createdAt | type == "string") and (.seq | type == "number")'

# wait_event PROJECT NAME DEPLOYMENT: polls until that event is stored.
wait_event() {
	local i
	for i in $(seq 1 50); do
		[ "$(sql "SELECT count(*) FROM events WHERE project_id = $1 AND name = '$2' AND json_extract(payload, '\$.deploymentId') = $3")" -ge 1 ] && return 0
		sleep 0.1
	done
	return 1
}
# timed METHOD URL: like http, and sets TIME to curl's time_total.
timed() {
	local out
	out=$(curl -sS -o /dev/null -X "$1" -w '%{http_code} %{time_total}' \
	    --max-time 30 "${A[@]}" "$2")
	STATUS=${out% *}
	TIME=${out#* }
}
fast() { awk -v t="$TIME" 'BEGIN { exit !(t < 1.0) }'; }

# --- tokens ------------------------------------------------------------
http POST "$EV/events" "${JSON[@]}" "${A[@]}" -d '{"id": "x1", "name": "a", "payload": {}}'
check "POST /events refuses token A: 401" is "$STATUS" 401
http GET "$PJ/deployments" "${B[@]}"
check "the projects API refuses token B: 401" is "$STATUS" 401
http POST "$PJ/deployment/webhook" "${JSON[@]}" "${B[@]}" -d '{"id": 1, "status": "building"}'
check "the webhook refuses token B: 401" is "$STATUS" 401

# --- POST /events: once per id -----------------------------------------
eid=e2e-$RANDOM$RANDOM
http POST "$EV/events" "${JSON[@]}" "${B[@]}" \
    -d "{\"id\": \"$eid\", \"name\": \"e2e.test\", \"payload\": {\"projectId\": 18, \"n\": 1}}"
check "POST /events: 201" is "$STATUS" 201
check "the event comes back in full" jq_is "$S_EVENT and .id == \"$eid\" and .payload.n == 1" true
http POST "$EV/events" "${JSON[@]}" "${B[@]}" \
    -d "{\"id\": \"$eid\", \"name\": \"e2e.test\", \"payload\": {\"projectId\": 18, \"n\": 1}}"
check "the same id again: 200" is "$STATUS" 200
check "the same id again: the stored event" jq_is ".id == \"$eid\"" true
check "the same id is stored once" is "$(sql "SELECT count(*) FROM events WHERE id = '$eid'")" 1
for body in '{"name": "a", "payload": {}}' '{"id": "a b", "name": "a", "payload": {}}' \
    '{"id": "x", "name": "a", "payload": 3}' '{"id": "x", "name": "A!", "payload": {}}' \
    '{"id": "x", "name": "a", "payload": {}, "more": 1}' '{"id": "x"'; do
	http POST "$EV/events" "${JSON[@]}" "${B[@]}" -d "$body"
	check "POST /events $body: 400" is "$STATUS" 400
	check "events errors use {error: {code}}" jq_is '.error.code | type' string
done

# --- POST /events with an array: one transaction, a result per item -----
b1=e2e-b1-$RANDOM$RANDOM
b2=e2e-b2-$RANDOM$RANDOM
batch="[{\"id\": \"$b1\", \"name\": \"e2e.batch\", \"payload\": {\"projectId\": 18, \"n\": 1}},
 {\"id\": \"$eid\", \"name\": \"e2e.test\", \"payload\": {\"n\": 2}},
 {\"id\": \"$b1\", \"name\": \"e2e.batch\", \"payload\": {\"n\": 3}},
 {\"id\": \"a b\", \"name\": \"e2e.batch\", \"payload\": {}},
 {\"id\": \"$b2\", \"name\": \"e2e.batch\", \"payload\": {\"projectId\": 18}}]"
http POST "$EV/events" "${JSON[@]}" "${B[@]}" -d "$batch"
check "POST /events with an array: 200" is "$STATUS" 200
check "a result per item, in order: new 201, known or repeated 200, bad 400" \
    jq_is '[.[].status] | join(",")' "201,200,200,400,201"
check "the results name the items' ids" jq_is '[.[].id] | join(",")' "$b1,$eid,$b1,a b,$b2"
check "a refused item says why, in the events error shape" \
    jq_is '.[3].error.code + " " + (.[3].error.message | type)' "invalid_request string"
check "the array's new events are stored once each" \
    is "$(sql "SELECT count(*) FROM events WHERE id IN ('$b1', '$b2')")" 2
check "an id repeated in the array keeps its first version" \
    is "$(sql "SELECT json_extract(payload, '\$.n') FROM events WHERE id = '$b1'")" 1
check "a known id in an array keeps the stored version" \
    is "$(sql "SELECT json_extract(payload, '\$.n') FROM events WHERE id = '$eid'")" 1
http POST "$EV/events" "${JSON[@]}" "${B[@]}" -d "$batch"
check "the same array again: every stored item 200" jq_is '[.[].status] | join(",")' "200,200,200,400,200"
check "the same array again stores nothing" \
    is "$(sql "SELECT count(*) FROM events WHERE name = 'e2e.batch'")" 2
http POST "$EV/events" "${JSON[@]}" "${B[@]}" -d '[]'
check "POST /events []: 400" is "$STATUS $(printf '%s' "$BODY" | jq -r .error.code)" "400 invalid_request"
big=$(jq -cn --arg p "e2e-big-$RANDOM$RANDOM" '[range(101) | {id: "\($p)-\(.)", name: "e2e.big", payload: {}}]')
http POST "$EV/events" "${JSON[@]}" "${B[@]}" -d "$big"
check "POST /events with 101 events: 413" is "$STATUS $(printf '%s' "$BODY" | jq -r .error.code)" "413 too_large"
check "an oversized array stores nothing" is "$(sql "SELECT count(*) FROM events WHERE name = 'e2e.big'")" 0
full=$(jq -cn --arg p "e2e-full-$RANDOM$RANDOM" '[range(100) | {id: "\($p)-\(.)", name: "e2e.full", payload: {n: .}}]')
http POST "$EV/events" "${JSON[@]}" "${B[@]}" -d "$full"
check "POST /events with 100 events: 200, all 201" jq_is 'length == 100 and all(.[]; .status == 201)' true
check "100 events stored" is "$(sql "SELECT count(*) FROM events WHERE name = 'e2e.full'")" 100
http POST "$EV/events" "${JSON[@]}" "${B[@]}" -d '[3, {"id": "x"}]'
check "array items that are not events: 400 each, id null when none" \
    jq_is '[.[] | "\(.status) \(.id)"] | join(",")' "400 null,400 x"
http POST "$EV/events" "${JSON[@]}" "${A[@]}" -d "$batch"
check "POST /events with an array refuses token A: 401" is "$STATUS" 401
http POST "$EV/events" "${JSON[@]}" "${B[@]}" -d '[{"id": "x"'
check "a broken array: 400" is "$STATUS" 400

# --- outbox: delivered right after the response ------------------------
P=19
http POST "$PJ/projects/$P/deployment" "${A[@]}"
D=$(printf '%s' "$BODY" | jq -r .id)
check "deployment.created arrives after the response" wait_event $P deployment.created "$D"
http GET "$EV/events?projectId=$P&name=deployment.created" "${B[@]}"
check "GET /events filtered: 200" is "$STATUS" 200
check "the event has the analytics payload" jq_is ".[0].payload | .deploymentId == $D and .projectId == $P and .projectName == \"$(sql "SELECT name FROM projects WHERE id = $P")\" and .ownerId == 4 and .status == \"pending\" and .previousStatus == null and (.eventId | length) == 32 and .name == \"deployment.created\" and (.occurredAt | type) == \"string\" and (.deploymentCreatedAt | type) == \"string\" and has(\"deployedIn\")" true
check "the event id is the payload's eventId" jq_is '.[0].id == .[0].payload.eventId' true
S=$(jq -r ".[] | select(.id == $P) | .app_secret" db/seed/projects.json)
for st in building deploying done; do
	http POST "$PJ/deployment/webhook" "${JSON[@]}" -H "Authorization: Bearer $S" \
	    -d "{\"id\": $D, \"status\": \"$st\"}"
done
check "deployment.status_changed arrives" wait_event $P deployment.status_changed "$D"
check "project.url_assigned arrives" wait_event $P project.url_assigned "$D"
http GET "$EV/events?projectId=$P&name=deployment.status_changed" "${B[@]}"
check "three status changes, newest first" jq_is '[.[].payload.status] | join(",")' "done,deploying,building"
check "status changes name the previous status" jq_is '[.[].payload.previousStatus] | join(",")' "deploying,building,pending"
check "done carries deployedIn" jq_is '.[0].payload.deployedIn | type' number
http GET "$EV/events?projectId=$P&name=project.url_assigned" "${B[@]}"
check "url_assigned carries the project's URL" jq_is '.[0].payload.url' "$(sql "SELECT url FROM projects WHERE id = $P")"
check "no event left undelivered" is "$(sql "SELECT count(*) FROM jobs WHERE queue = 'events' AND state != 'done'")" 0

# --- GET /events: filters and pages --------------------------------------
http GET "$EV/events?projectId=$P" "${B[@]}"
check "events of project $P: 5" is "$(header X-Total-Count)" 5
check "events are newest first" jq_is '[.[].seq] | . == (sort | reverse)' true
check "events match the schema" jq_is "all(.[]; $S_EVENT)" true
http GET "$EV/events?projectId=$P&perPage=2&page=2" "${B[@]}"
ebase="/events?perPage=2&projectId=$P"
check "a page of 2 events" jq_is length 2
check "the events' Link header" is "$(header Link)" \
    "<$ebase&page=1>; rel=\"first\", <$ebase&page=3>; rel=\"next\", <$ebase&page=3>; rel=\"last\", <$ebase&page=1>; rel=\"previous\""
http GET "$EV/events?since=2999-01-01" "${B[@]}"
check "since in the future: none" is "$STATUS $BODY" "200 []"
http GET "$EV/events?since=2000-01-01T00:00:00Z&projectId=$P" "${B[@]}"
check "since in the past: all" is "$(header X-Total-Count)" 5
http GET "$EV/events?name=e2e.test" "${B[@]}"
check "filter by name" jq_is "all(.[]; .name == \"e2e.test\") and length >= 1" true
for q in since=yesterday projectId=0 page=0 perPage=101 name=%21; do
	http GET "$EV/events?$q" "${B[@]}"
	check "GET /events?$q: 400" is "$STATUS" 400
done

# --- activity feed (bonus) --------------------------------------------
http GET "$PJ/projects/$P/activity" "${A[@]}"
check "GET /projects/$P/activity: 200" is "$STATUS" 200
check "the feed is the project's events" jq_is "length == 5 and all(.[]; .payload.projectId == $P)" true
http GET "$PJ/projects/999999/activity" "${A[@]}"
check "activity of an unknown project: 404" jq_is .name NotFound

# --- the aggregation service stopped -----------------------------------
P=20
scripts/stack down events >/dev/null 2>&1
http GET "$EV/events" "${B[@]}"
check "events service down: 502" is "$STATUS" 502
slow=0
ids=()
for i in 1 2 3; do
	timed POST "$PJ/projects/$P/deployment"
	[ "$STATUS" = 201 ] && fast || slow=$((slow + 1))
done
check "deployments are created fast with the aggregator down" is "$slow" 0
http GET "$PJ/deployments?projectId=$P" "${A[@]}"
mapfile -t ids < <(printf '%s' "$BODY" | jq -r '.[].id')
for d in "${ids[@]:0:2}"; do
	timed POST "$PJ/deployments/$d/cancel"
	[ "$STATUS" = 200 ] && fast || slow=$((slow + 1))
done
check "cancels answer fast with the aggregator down" is "$slow" 0
http GET "$PJ/projects/$P/activity" "${A[@]}"
check "activity with the aggregator down: 502 {name}" jq_is .name BadGateway
pending_is() {
	local i
	for i in $(seq 1 30); do
		[ "$(sql "SELECT count(*) FROM jobs WHERE queue = 'events' AND state = 'pending' AND attempts >= 1")" = "$1" ] && return 0
		sleep 0.1
	done
	return 1
}
check "the events wait in the outbox after one attempt each" pending_is 5
check "nothing reached the aggregator" is "$(sql "SELECT count(*) FROM events WHERE project_id = $P")" 0
out=$("$SBCTL" deliver 2>/dev/null)
check "sbctl deliver leaves backed-off events alone" is "$out" "deliver: 0 event(s) delivered, 0 failed"

scripts/stack up events >/dev/null 2>&1
for _ in $(seq 1 50); do
	curl -fs -o /dev/null "$EV/health" && break
	sleep 0.1
done
out=$("$SBCTL" deliver --now 2>/dev/null)
check "sbctl deliver --now delivers the 5 events" is "$out" "deliver: 5 event(s) delivered, 0 failed"
http GET "$EV/events?projectId=$P&perPage=100" "${B[@]}"
check "5 events arrived" is "$(header X-Total-Count)" 5
check "3 deployment.created, once each" jq_is '[.[] | select(.name == "deployment.created") | .payload.deploymentId] | (length == 3 and (unique | length) == 3)' true
check "2 deployment.cancelled, once each" jq_is '[.[] | select(.name == "deployment.cancelled") | .payload.deploymentId] | (length == 2 and (unique | length) == 2)' true
check "the cancelled events name the right deployments" jq_is "[.[] | select(.name == \"deployment.cancelled\") | .payload.deploymentId] | sort == ([${ids[0]}, ${ids[1]}] | sort)" true
check "the outbox is empty" is "$(sql "SELECT count(*) FROM jobs WHERE queue = 'events' AND state != 'done'")" 0

check "delivered events leave no outbox job behind" \
    is "$(sql "SELECT count(*) FROM jobs WHERE queue = 'events' AND state != 'dead'")" 0

# At least once: a worker that died after its POST and before recording it
# leaves the job leased; once the lease runs out the event is sent again,
# and stored once.  The job is put back as the outbox wrote it.
sql "INSERT INTO jobs (queue, payload, state, attempts, max_attempts, run_at, lease_owner, lease_until, created_at, updated_at) SELECT 'events', json_object('id', id, 'name', name, 'payload', json(payload)), 'leased', 1, 8, 0, 'gone:1', 0, created_at, created_at FROM events WHERE project_id = $P ORDER BY seq DESC LIMIT 1"
out=$("$SBCTL" deliver 2>/dev/null)
check "a redelivered event is accepted" is "$out" "deliver: 1 event(s) delivered, 0 failed"
http GET "$EV/events?projectId=$P&perPage=100" "${B[@]}"
check "a redelivered event is stored once" is "$(header X-Total-Count)" 5
check "the redelivered job is gone" \
    is "$(sql "SELECT count(*) FROM jobs WHERE queue = 'events' AND state != 'dead'")" 0
