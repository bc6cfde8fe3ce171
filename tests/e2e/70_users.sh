# The CRM user sync's users API (docs/crm-sync.md): create, read, list,
# update and delete with validation naming each bad field, 409 and
# Idempotency-Key; the happy path to synced; a CRM outage through all
# three attempts to failed with its user.sync_failed event and warning;
# recovery by PUT and by POST .../sync; the CRM's Retry-After honoured.

. tests/e2e/users.sh

# Earlier files (21_sandbox_crm) reset the sandbox's CRM with their own
# client: it is made again as the stack made it.
us_crm_make "$SBX" "$SB_VAR_DIR" "$GW"
check "users: the sandbox's CRM is the stack's" is "$STATUS" 201

# -- the stack made the CRM connection --
check "users: crm_connection is set in the stack's environment" \
    grep -q "^SB_CRM_CONNECTION='cn_" "$SB_VAR_DIR/run/env"
check "users: the webhook secret file is 0600" \
    is "$(stat -c %a "$SB_VAR_DIR/secrets/crm-webhook.secret")" 600

# -- create: 202, the user object itself, Location, UUID v7 --
us_create "Ada Lovelace" "ada@example.com" "+44 20 7946 0958"
check "POST /users: 202" is "$STATUS" 202
check "POST /users: the user object, pending" \
    jq_is '[.name, .email, .phone, .sync_status, .crm_id, .last_error] | map(tostring) | join("|")' \
    "Ada Lovelace|ada@example.com|+44 20 7946 0958|pending|null|null"
check "POST /users: a UUID v7 id" \
    test -n "$(printf '%s' "$US_ID" | grep -E '^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$')"
check "POST /users: Location" is "$(header Location)" "/users/$US_ID"
check "POST /users: created_at and updated_at" \
    jq_is '(.created_at | test("^[0-9-]{10}T[0-9:.]{12}Z$")) and (.updated_at == .created_at)' true
ADA=$US_ID

# -- the happy path: pushed right after the response --
check "sync: the user becomes synced" us_wait "$ADA" synced
check "sync: with its crm_id" jq_is '.crm_id | test("^CRM[0-9]+$")' true
ADA_CRM=$(printf '%s' "$BODY" | jq -r .crm_id)
us_crm_user "$ADA_CRM"
check "sync: the CRM has the user" jq_is '[.name, .email] | join("|")' \
    "Ada Lovelace|ada@example.com"
us_log "$ADA"
check "sync log: one push, ok, attempt 1 of 3" \
    jq_is '.entries[0] | [.kind, .outcome, .detail.attempt, .detail.max_attempts, .detail.operation] | map(tostring) | join("|")' \
    "push|ok|1|3|create"
check "sync log: no token or secret in it" \
    test -z "$(printf '%s' "$BODY" | grep -E 'crm_[A-Za-z0-9_-]{43}|Bearer')"

# -- validation: 400 naming each bad field, nothing stored --
n0=$(sql "SELECT count(*) FROM sync_users")
http POST "$GW/users" -H "$US_JSON" -d '{"name": "", "email": "grace@", "phone": "12", "role": "x"}'
check "POST /users bad: 400" is "$STATUS" 400
check "POST /users bad: invalid_user" jq_is .error.code invalid_user
check "POST /users bad: names each bad field" \
    jq_is '[.error.fields[].field] | sort | join(",")' "email,name,phone,role"
check "POST /users bad: Switchboard-Error" is "$(header Switchboard-Error)" invalid_user
http POST "$GW/users" -H "$US_JSON" -d '{"name": "Grace"}'
check "POST /users missing: email and phone named" \
    jq_is '[.error.fields[].field] | join(",")' "email,phone"
http POST "$GW/users" -H "$US_JSON" -d '[1]'
check "POST /users not an object: 400" is "$STATUS" 400
http POST "$GW/users" -H "$US_JSON" -d '{"name": '
check "POST /users bad JSON: 400 invalid_json" jq_is .error.code invalid_json
long=$(printf 'a%.0s' $(seq 1 65))
http POST "$GW/users" -H "$US_JSON" -d "{\"name\": \"X\", \"email\": \"$long@example.com\", \"phone\": \"5551234567\"}"
check "POST /users: a local part over 64 (RFC 5321) is 400" \
    jq_is '[.error.fields[].field] | join(",")' email
check "POST /users bad: nothing stored" \
    is "$(sql "SELECT count(*) FROM sync_users")" "$n0"

# -- duplicate email: 409, without regard to case --
us_create "Ada Again" "ADA@example.com" "5551234567"
check "POST /users duplicate email: 409" is "$STATUS" 409
check "POST /users duplicate email: duplicate_email" jq_is .error.code duplicate_email

# -- Idempotency-Key: the first answer again, no second user, no 409 --
us_create "Grace Hopper" "grace@example.com" "(555) 123-4567" -H "Idempotency-Key: k-grace-1"
check "idempotency: first 202" is "$STATUS" 202
first=$BODY GRACE=$US_ID
us_create "Grace Hopper" "grace@example.com" "(555) 123-4567" -H "Idempotency-Key: k-grace-1"
check "idempotency: the retry is 202" is "$STATUS" 202
check "idempotency: with the first answer" is "$BODY" "$first"
check "idempotency: marked as replayed" is "$(header Idempotent-Replayed)" true
check "idempotency: one user" \
    is "$(sql "SELECT count(*) FROM sync_users WHERE email = 'grace@example.com'")" 1
us_create "Grace H" "grace2@example.com" "(555) 123-4567" -H "Idempotency-Key: k-grace-1"
check "idempotency: the key with another body is 422" is "$STATUS" 422
check "idempotency: idempotency_key_reused" jq_is .error.code idempotency_key_reused

# -- read and list --
http GET "$GW/users/$ADA"
check "GET /users/{id}: 200" is "$STATUS" 200
http GET "$GW/users/0190a1b2-0000-7000-8000-000000000000"
check "GET /users/{unknown}: 404 user_not_found" jq_is .error.code user_not_found
http GET "$GW/users/not-a-uuid"
check "GET /users/{junk}: 404" is "$STATUS" 404
us_wait "$GRACE" synced
http GET "$GW/users?sync_status=synced&limit=1"
check "GET /users: a page of 1" jq_is '.users | length' 1
check "GET /users: a next link" jq_is '.next | startswith("/users?limit=1&after=")' true
next=$(printf '%s' "$BODY" | jq -r .next)
http GET "$GW$next"
check "GET /users next page: the other synced user" jq_is '.users[0].id' "$GRACE"
http GET "$GW/users?sync_status=failed"
check "GET /users?sync_status=failed: none yet" jq_is '.users | length' 0
http GET "$GW/users?sync_status=bogus"
check "GET /users?sync_status=bogus: 400" is "$STATUS" 400
http GET "$GW/users?limit=0"
check "GET /users?limit=0: 400" is "$STATUS" 400

# -- PUT: validated like POST, 202, pushed to the CRM --
http PUT "$GW/users/$ADA" -H "$US_JSON" -d '{"name": "Ada King", "email": "ada@example.com"}'
check "PUT /users missing phone: 400 naming phone" \
    jq_is '[.error.fields[].field] | join(",")' phone
http PUT "$GW/users/$ADA" -H "$US_JSON" -d '{"name": "Ada King", "email": "grace@example.com", "phone": "5550001111"}'
check "PUT /users to another's email: 409" is "$STATUS" 409
http PUT "$GW/users/$ADA" -H "$US_JSON" -d '{"name": "Ada King", "email": "ada@example.com", "phone": "+44 20 7946 0958"}'
check "PUT /users: 202" is "$STATUS" 202
check "PUT /users: pending, the new name" jq_is '[.name, .sync_status] | join("|")' "Ada King|pending"
check "PUT /users: synced again" us_wait "$ADA" synced
us_crm_user "$ADA_CRM"
check "PUT /users: the CRM has the new name" jq_is .name "Ada King"

# -- an outage of the CRM: three attempts, then failed and its event --
us_fault '{"path": "/crm/users", "kind": "status", "arg": 503, "count": 20}'
us_create "Alan Turing" "alan@example.com" "+44 161 496 0000"
ALAN=$US_ID
us_wait_tried "$ALAN"
http GET "$GW/users/$ALAN"
check "outage: attempt 1 failed, the user stays pending" jq_is .sync_status pending
check "outage: with the error" jq_is '.last_error | test("503")' true
check "outage: the job waits in backoff (30 s and up to half again)" \
    test "$(sql "SELECT run_at - strftime('%s','now') FROM jobs WHERE queue = 'crm_sync' AND state = 'pending'")" -ge 25
us_sbctl sync
check "outage: sbctl sync leaves the backed-off job alone" \
    is "$US_OUT" "sync: 0 push(es) done, 0 failed; 0 user(s) reconciled, 0 failed; 0 delete(s) reopened"
us_sbctl sync --now
check "outage: attempt 2 by sbctl sync --now fails" \
    is "$(printf '%s' "$US_OUT" | cut -d';' -f1)" "sync: 0 push(es) done, 1 failed"
us_sbctl sync --now
us_wait "$ALAN" failed 1
check "outage: after attempt 3 the user is failed" jq_is .sync_status failed
check "outage: with the last error" jq_is '.last_error | test("503")' true
us_log "$ALAN"
check "outage: the sync log holds the three attempts" \
    jq_is '[.entries[] | "\(.kind):\(.outcome):\(.detail.attempt)"] | join(",")' \
    "push:error:1,push:error:2,failed:gave_up:3"
check "outage: a warning is logged" \
    grep -q '"event":"user.sync_failed"' "$US_SBCTL_LOG"
EVTOK=${SB_EVENTS_TOKEN:-$(cat "$SB_VAR_DIR/secrets/events.token")}
http GET "$EV/events?name=user.sync_failed" -H "Authorization: Bearer $EVTOK"
check "outage: a user.sync_failed event reached the aggregation service" \
    jq_is "[.. | objects | select(.userId? == \"$ALAN\")] | length > 0" true
check "outage: the job is dead" \
    is "$(sql "SELECT count(*) FROM jobs WHERE queue = 'crm_sync' AND state = 'dead'")" 1
http GET "$GW/users?sync_status=failed"
check "GET /users?sync_status=failed: the failed user" jq_is '.users[0].id' "$ALAN"

# -- recovery by PUT --
us_faults_off
http PUT "$GW/users/$ALAN" -H "$US_JSON" -d '{"name": "Alan M. Turing", "email": "alan@example.com", "phone": "+44 161 496 0000"}'
check "recovery by PUT: 202 pending" jq_is .sync_status pending
check "recovery by PUT: synced" us_wait "$ALAN" synced
check "recovery by PUT: no error left" jq_is .last_error null

# -- recovery by POST /users/{id}/sync --
us_fault '{"path": "/crm/users", "kind": "status", "arg": 500, "count": 20}'
us_create "Edsger Dijkstra" "edsger@example.com" "+31 20 555 0100"
ED=$US_ID
us_sbctl sync --now
us_sbctl sync --now
check "recovery by sync: failed first" us_wait "$ED" failed 2
us_faults_off
http POST "$GW/users/$ED/sync"
check "recovery by sync: 202" is "$STATUS" 202
check "recovery by sync: synced" us_wait "$ED" synced

# -- the CRM's Retry-After is honoured --
us_fault '{"path": "/crm/users", "kind": "429", "arg": 90}'
us_create "Barbara Liskov" "barbara@example.com" "+1 617 555 0199"
BL=$US_ID
us_wait_tried "$BL"
us_log "$BL"
check "rate limit: the 429 is logged with its Retry-After" \
    jq_is '.entries[0].detail | "\(.status) \(.retry_after_s)"' "429 90"
check "rate limit: the next attempt waits at least the Retry-After" \
    test "$(sql "SELECT run_at - strftime('%s','now') FROM jobs WHERE queue = 'crm_sync' AND state = 'pending'")" -ge 88
us_sbctl sync
check "rate limit: sbctl sync does not push before it" \
    is "$(printf '%s' "$US_OUT" | cut -d';' -f1)" "sync: 0 push(es) done, 0 failed"
us_sbctl sync --now
check "rate limit: afterwards the user is synced" us_wait "$BL" synced

# -- the CRM made the user but its answer was lost: the retry, with the
# same Idempotency-Key (the local id), gets that user, not a 409 --
us_faults_off
us_fault '{"path": "/crm/users", "kind": "answer_lost", "arg": 500}'
us_create "Dorothy Vaughan" "dorothy@example.com" "+1 757 555 0177"
DV=$US_ID
us_wait_tried "$DV"
http GET "$GW/users/$DV"
check "answer lost: attempt 1 saw the 500, the user stays pending" \
    eval 'jq_is .sync_status pending && jq_is ".last_error | test(\"500\")" true'
check "answer lost: the CRM has the user all the same" \
    is "$(sqlite3 "$SB_VAR_DIR/sandbox.db" \
    "select count(*) from crm_users where email = 'dorothy@example.com'")" 1
us_sbctl sync --now
check "answer lost: the retry ends synced" us_wait "$DV" synced
check "answer lost: with the crm_id the CRM holds" \
    is "$(printf '%s' "$BODY" | jq -r .crm_id)" \
    "$(sqlite3 "$SB_VAR_DIR/sandbox.db" \
    "select crm_id from crm_users where email = 'dorothy@example.com'")"
check "answer lost: no second CRM user" \
    is "$(sqlite3 "$SB_VAR_DIR/sandbox.db" \
    "select count(*) from crm_users where email = 'dorothy@example.com'")" 1
us_log "$DV"
check "answer lost: the log shows the error, then ok" \
    jq_is '[.entries[] | "\(.kind):\(.outcome):\(.detail.attempt)"] | join(",")' \
    "push:error:1,push:ok:2"

# -- the same, but the user is changed before the retry: the retry sends
# the fields the key was first used with (the same request, so the CRM
# answers with its user, not 422), then the change follows as a PUT --
us_fault '{"path": "/crm/users", "kind": "answer_lost", "arg": 502}'
us_create "Mary Jackson" "mary@example.com" "+1 757 555 0178"
MJ=$US_ID
us_wait_tried "$MJ"
http PUT "$GW/users/$MJ" -H "$US_JSON" \
    -d '{"name": "Mary W. Jackson", "email": "mary.jackson@example.com", "phone": "+1 757 555 0178"}'
check "changed after a lost answer: PUT 202" is "$STATUS" 202
us_sbctl sync --now
check "changed after a lost answer: the retry ends synced" us_wait "$MJ" synced
MJ_CRM=$(printf '%s' "$BODY" | jq -r .crm_id)
check "changed after a lost answer: no error left" jq_is .last_error null
check "changed after a lost answer: one CRM user, the one the first attempt made" \
    is "$(sqlite3 "$SB_VAR_DIR/sandbox.db" \
    "select crm_id from crm_users where email like 'mary%@example.com'")" "$MJ_CRM"
us_crm_user "$MJ_CRM"
check "changed after a lost answer: the CRM has the change" \
    jq_is '"\(.name)|\(.email)"' "Mary W. Jackson|mary.jackson@example.com"
us_log "$MJ"
check "changed after a lost answer: error, the create again, then the update" \
    jq_is '[.entries[] | "\(.kind):\(.outcome):\(.detail.operation)"] | join(",")' \
    "push:error:create,push:ok:create,push:ok:update"

# -- the CRM refuses a create (its email is another CRM user's): failed,
# and a PUT with another email mends it (the refused fields are dropped) --
us_crm_add "Someone Else" "taken@example.com" "+1 555 010 0100"
check "refused create: the CRM made its own user first" is "$STATUS" 201
us_create "Taken Email" "taken@example.com" "+1 555 010 0101"
TE=$US_ID
check "refused create: failed at once (409 is no retry)" us_wait "$TE" failed
check "refused create: with the CRM's 409" jq_is '.last_error | test("409")' true
http PUT "$GW/users/$TE" -H "$US_JSON" \
    -d '{"name": "Taken Email", "email": "free@example.com", "phone": "+1 555 010 0101"}'
check "refused create: the PUT is 202" is "$STATUS" 202
check "refused create: then synced with the new email" us_wait "$TE" synced
us_crm_user "$(printf '%s' "$BODY" | jq -r .crm_id)"
check "refused create: the CRM has the new email" jq_is .email free@example.com

# -- a create that never reached the CRM, the user changed, and the email
# it was made with taken in the CRM meanwhile: the kept fields are refused,
# and the create goes again at once as the user is now --
us_fault '{"path": "/crm/users", "kind": "status", "arg": 503}'
us_create "Katherine Johnson" "kj1@example.com" "+1 757 555 0179"
KA=$US_ID
us_wait_tried "$KA"
http PUT "$GW/users/$KA" -H "$US_JSON" \
    -d '{"name": "Katherine Johnson", "email": "kj2@example.com", "phone": "+1 757 555 0179"}'
us_crm_add "Another Katherine" "kj1@example.com" "+1 757 555 0180"
us_sbctl sync --now
check "kept fields refused: the retry ends synced" us_wait "$KA" synced
KA_CRM=$(printf '%s' "$BODY" | jq -r .crm_id)
us_crm_user "$KA_CRM"
check "kept fields refused: the CRM has the user as it is now" \
    jq_is .email kj2@example.com
us_log "$KA"
check "kept fields refused: the error, then one create" \
    jq_is '[.entries[] | "\(.kind):\(.outcome):\(.detail.operation)"] | join(",")' \
    "push:error:create,push:ok:create"

# -- a user deleted after a create whose answer was lost: the create is
# sent again to learn its crm_id, and that CRM user deleted, not left --
us_fault '{"path": "/crm/users", "kind": "answer_lost", "arg": 502}'
us_create "Christine Darden" "christine@example.com" "+1 757 555 0181"
CD=$US_ID
check "deleted after a lost answer: attempt 1 recorded" us_wait_tried "$CD"
check "deleted after a lost answer: the CRM made the user" \
    is "$(sqlite3 "$SB_VAR_DIR/sandbox.db" \
    "select count(*) from crm_users where email = 'christine@example.com'")" 1
http DELETE "$GW/users/$CD"
check "deleted after a lost answer: DELETE 202" is "$STATUS" 202
us_sbctl sync --now
check "deleted after a lost answer: gone here" \
    is "$(sql "SELECT count(*) FROM sync_users WHERE id = '$CD'")" 0
check "deleted after a lost answer: and gone from the CRM" \
    is "$(sqlite3 "$SB_VAR_DIR/sandbox.db" \
    "select count(*) from crm_users where email = 'christine@example.com'")" 0
check "deleted after a lost answer: the delete named the learnt crm_id" \
    is "$(sql "SELECT json_extract(detail, '$.operation') || ':' || (json_extract(detail, '$.crm_id') IS NOT NULL) FROM sync_log WHERE user_id = '$CD' AND outcome = 'ok'")" \
    "delete:1"

# -- the same, but the CRM's key expired (24 h) before the delete's create
# went again: the CRM refuses it (409: the lost user holds the email), so
# the user is failed and kept with the error, not removed as if the CRM
# never had it, and not opened again --
us_fault '{"path": "/crm/users", "kind": "answer_lost", "arg": 502}'
us_create "Mary Winston" "winston@example.com" "+1 757 555 0182"
MW=$US_ID
check "key expired: attempt 1 recorded" us_wait_tried "$MW"
sqlite3 "$SB_VAR_DIR/sandbox.db" \
    "UPDATE crm_idempotency SET created_ms = created_ms - 90000000 WHERE key = '$MW'"
http DELETE "$GW/users/$MW"
us_sbctl sync --now
check "key expired: the user is failed and kept, no retry due" \
    is "$(sql "SELECT deleted || ',' || sync_status || ',' || coalesce(retry_at, 'none') || ',' || (last_error LIKE '%409%') FROM sync_users WHERE id = '$MW'")" \
    "1,failed,none,1"
check "key expired: the CRM still has the lost user" \
    is "$(sqlite3 "$SB_VAR_DIR/sandbox.db" \
    "select count(*) from crm_users where email = 'winston@example.com'")" 1
us_sbctl sync
check "key expired: not opened again" \
    is "$(printf '%s' "$US_OUT" | cut -d';' -f3)" " 0 delete(s) reopened"

# -- DELETE: 202, gone locally, deleted in the CRM --
http GET "$GW/users/$GRACE"
GRACE_CRM=$(printf '%s' "$BODY" | jq -r .crm_id)
http DELETE "$GW/users/$GRACE"
check "DELETE /users: 202" is "$STATUS" 202
http GET "$GW/users/$GRACE"
check "DELETE /users: then 404" is "$STATUS" 404
us_wait_sql "SELECT count(*) FROM sync_users WHERE id = '$GRACE'" 0
check "DELETE /users: propagated (the row is gone once the CRM has it)" \
    is "$(sql "SELECT count(*) FROM sync_users WHERE id = '$GRACE'")" 0
us_create "Grace Hopper" "grace@example.com" "(555) 123-4567"
check "DELETE /users: the email is free again" is "$STATUS" 202
us_crm_user "$GRACE_CRM"
check "DELETE /users: the CRM deleted it" is "$STATUS" 404

# -- a delete the CRM refuses through every attempt (an outage) is not
# dropped: a reconcile period later, sbctl sync gives it another job --
us_create "Dorothy Height" "height@example.com" "+1 202 555 0100"
DH=$US_ID
us_wait "$DH" synced
DH_CRM=$(printf '%s' "$BODY" | jq -r .crm_id)
us_fault "{\"path\": \"/crm/users/$DH_CRM\", \"kind\": \"status\", \"arg\": 503, \"count\": 3}"
http DELETE "$GW/users/$DH"
check "delete in an outage: 202" is "$STATUS" 202
check "delete in an outage: the first attempt failed" us_wait_tried "$DH"
us_sbctl sync --now
us_sbctl sync --now
check "delete in an outage: given up after its attempts" \
    is "$(sql "SELECT sync_status || ',' || deleted || ',' || coalesce(job_id, 'none') FROM sync_users WHERE id = '$DH'")" \
    "failed,1,none"
us_crm_user "$DH_CRM"
check "delete in an outage: the CRM still has the user" is "$STATUS" 200
us_sbctl sync
check "delete in an outage: not reopened within the period" \
    is "$(printf '%s' "$US_OUT" | cut -d';' -f3)" " 0 delete(s) reopened"
sql "UPDATE sync_users SET retry_at = retry_at - 3600 WHERE id = '$DH'"
us_sbctl sync
check "delete in an outage: a period later, reopened" \
    is "$(printf '%s' "$US_OUT" | cut -d';' -f3)" " 1 delete(s) reopened"
check "delete in an outage: and done (the row is gone)" \
    is "$(sql "SELECT count(*) FROM sync_users WHERE id = '$DH'")" 0
us_crm_user "$DH_CRM"
check "delete in an outage: the CRM deleted it" is "$STATUS" 404

# -- a restart keeps the data: the sandbox's CRM keeps its users and the
# CRM connection is kept (side stack, stopped and started on its var dir) --
if side_start; then
	http POST "$SIDE_GW/users" -H "$US_JSON" \
	    -d '{"name": "Restart Kept", "email": "kept@example.com", "phone": "5550102030"}'
	RK=$(printf '%s' "$BODY" | jq -r .id)
	US_GW=$SIDE_GW us_wait "$RK" synced
	check "restart: synced before" jq_is .sync_status synced
	RK_CRM=$(printf '%s' "$BODY" | jq -r .crm_id)
	conn_before=$(cat "$SIDE_VAR/secrets/crm-connection.token")
	SB_VAR_DIR=$SIDE_VAR scripts/stack stop >/dev/null 2>&1
	SIDE_AT=$SIDE_VAR side_start
	check "restart: the CRM connection is kept" \
	    is "$(cat "$SIDE_VAR/secrets/crm-connection.token")" "$conn_before"
	http GET "$SIDE_GW/users/$RK"
	check "restart: the user is still synced, same crm_id" \
	    jq_is '[.sync_status, .crm_id] | join("|")' "synced|$RK_CRM"
	check "restart: the sandbox's CRM kept the user" \
	    is "$(sqlite3 "$SIDE_VAR/sandbox.db" \
	    "select email from crm_users where crm_id = '$RK_CRM'")" kept@example.com
	http POST "$SIDE_GW/users/$RK/sync"
	check "restart: POST /users/{id}/sync finds it at the CRM (200)" \
	    is "$STATUS" 200
	http GET "$SIDE_GW/users/$RK/sync-log"
	check "restart: the reconciliation read it" \
	    jq_is '[.entries[] | select(.kind == "reconcile")][-1].outcome | test("unchanged|applied")' true
	http GET "$SIDE_GW/users/$RK"
	check "restart: still synced after it" jq_is .sync_status synced

	# -- the CRM reissues an id (it was reset, its numbering too): the
	# CRM is the source of truth; the user that held the id lets go of
	# it and is failed with a note, the new one is synced --
	side_sql() { sqlite3 -batch -noheader "$SIDE_VAR/switchboard.db" "$1"; }
	us_crm_make "$SIDE_SBX" "$SIDE_VAR" "$SIDE_GW"
	check "reissue: the side stack's CRM is made again" is "$STATUS" 201
	http POST "$SIDE_GW/users" -H "$US_JSON" \
	    -d '{"name": "New Comer", "email": "newcomer@example.com", "phone": "+1 555 010 0101"}'
	NC=$(printf '%s' "$BODY" | jq -r .id)
	US_GW=$SIDE_GW us_wait "$NC" synced
	check "reissue: the new user is synced" jq_is .sync_status synced
	check "reissue: with the id the kept user had" jq_is .crm_id "$RK_CRM"
	http GET "$SIDE_GW/users/$RK"
	check "reissue: the kept user let go of it and is failed" \
	    jq_is '[.sync_status, (.crm_id | tostring)] | join("|")' "failed|null"
	check "reissue: its last_error says why and what to do" \
	    jq_is ".last_error | test(\"gave its id $RK_CRM to another user.*POST /users/$RK/sync\")" true
	http GET "$SIDE_GW/users/$RK/sync-log"
	check "reissue: its sync log keeps the conflict" \
	    jq_is "[.entries[] | select(.kind == \"conflict\")][-1] | \"\\(.outcome)|\\(.detail.crm_id)|\\(.detail.given_to)\"" \
	    "crm_id_reissued|$RK_CRM|$NC"
	check "reissue: one local user holds the id" \
	    is "$(side_sql "SELECT id FROM sync_users WHERE crm_id = '$RK_CRM'")" "$NC"
	http POST "$SIDE_GW/users/$RK/sync"
	check "reissue: POST /users/{id}/sync pushes it again (202)" is "$STATUS" 202
	US_GW=$SIDE_GW us_wait "$RK" synced
	check "reissue: then it is synced as a new CRM user" \
	    jq_is "[.sync_status, (.crm_id != \"$RK_CRM\")] | map(tostring) | join(\"|\")" "synced|true"
	side_stop "restart: the side stack stopped"
else
	check "restart: the side stack started" false
fi
