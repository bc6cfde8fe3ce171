# The CRM's changes coming back (docs/crm-sync.md): signed webhooks from
# the mock CRM's admin PATCH (now, twice, out of order) and signed by hand
# with openssl; unsigned, wrongly signed, too old, malformed, unknown,
# stale and replayed ones; two deliveries of one event at once applied
# once; a CRM-side change pulled by reconciliation (`sbctl sync`) and by
# POST .../sync, with the per-field conflict rule; and the users
# responder killed between its commit and its push, after which `sbctl
# sync` finishes the job.

. tests/e2e/users.sh

WH_SECRET=$(cat "$SB_VAR_DIR/secrets/crm-webhook.secret")

# wh_sign T BODY: the v1 signature of BODY at T, by openssl.
wh_sign() {
	printf '%s.%s' "$1" "$2" | openssl dgst -sha256 -hmac "$WH_SECRET" |
	    sed 's/^.*= //'
}
# wh_post BODY [T] [PATH]: a webhook signed at T (now) to PATH.
wh_post() {
	local t=${2:-$(date +%s)}
	http POST "$GW${3:-/webhooks/crm}" -H "$US_JSON" \
	    -H "X-CRM-Signature: t=$t,v1=$(wh_sign "$t" "$1")" -d "$1"
}
# wh_event ID CRM_ID FIELDS TIMESTAMP: a webhook body.
wh_event() {
	printf '{"event_id": "%s", "crm_id": "%s", "updated_fields": %s, "timestamp": "%s"}' \
	    "$1" "$2" "$3" "$4"
}
# wh_admin CRM_ID JSON [QUERY]: a change made in the CRM (fires webhooks).
wh_admin() {
	http PATCH "$SBX/crm/admin/users/$1${3:+?$3}" -H "$SBX_AUTH" \
	    -H "$US_JSON" -d "$2"
}
# wh_field ID FIELD VALUE: waits (3 s) until the local user's FIELD is VALUE.
wh_field() {
	for _ in $(seq 1 60); do
		http GET "$GW/users/$1"
		jq_is ".$2" "$3" && return 0
		sleep 0.05
	done
	return 1
}
iso_now() { date -u +%Y-%m-%dT%H:%M:%S.%3NZ; }

us_create "Katherine Johnson" "katherine@example.com" "+1 757 555 0100"
KJ=$US_ID
us_wait "$KJ" synced
KJ_CRM=$(printf '%s' "$BODY" | jq -r .crm_id)
check "webhooks: the user is synced first" test -n "$KJ_CRM"

# -- a change in the CRM arrives by its signed webhook --
wh_admin "$KJ_CRM" '{"phone": "+1 757 555 0111"}'
check "admin PATCH: fired an event" jq_is '.event_id | startswith("evt_")' true
check "webhook from the CRM: applied" wh_field "$KJ" phone "+1 757 555 0111"
us_log "$KJ"
check "webhook: logged as applied" \
    jq_is '[.entries[] | select(.kind == "webhook") | .outcome] | join(",")' applied
check "webhook: the overwritten value is kept in the sync log" \
    jq_is '[.entries[] | select(.kind == "conflict") | "\(.outcome):\(.detail.field):\(.detail.local)"] | join(",")' \
    "crm_won:phone:+1 757 555 0100"
http GET "$SBX/_sandbox/crm/deliveries" -H "$SBX_AUTH"
check "webhook: the CRM saw 200 applied" \
    jq_is '.deliveries[-1] | "\(.status) \(.response)"' '200 {"result":"applied"}'

# -- signed by hand with openssl, on both paths --
body=$(wh_event evt-hand-1 "$KJ_CRM" '{"name": "Katherine G. Johnson"}' "$(iso_now)")
wh_post "$body"
check "hand-signed webhook: 200 applied" jq_is .result applied
check "hand-signed webhook: the name changed" wh_field "$KJ" name "Katherine G. Johnson"
wh_post "$body"
check "replayed webhook: 200 duplicate" jq_is .result duplicate
wh_post "$body" "" /webhook
check "replayed on /webhook: duplicate too" jq_is .result duplicate
sleep 0.01
body=$(wh_event evt-hand-2 "$KJ_CRM" '{"email": "kj@example.com"}' "$(iso_now)")
wh_post "$body" "" /webhook
check "POST /webhook (the brief's name): applied" jq_is .result applied
check "POST /webhook: the email changed" wh_field "$KJ" email kj@example.com

# -- the signature is checked first --
body=$(wh_event evt-bad-1 "$KJ_CRM" '{"name": "Mallory"}' "$(iso_now)")
http POST "$GW/webhooks/crm" -H "$US_JSON" -d "$body"
check "unsigned webhook: 401" is "$STATUS" 401
check "unsigned webhook: invalid_signature" jq_is .error.code invalid_signature
t=$(date +%s)
http POST "$GW/webhooks/crm" -H "$US_JSON" -d "$body" \
    -H "X-CRM-Signature: t=$t,v1=$(printf '%064d' 0)"
check "wrongly signed webhook: 401" is "$STATUS" 401
t=$(($(date +%s) - 301))
wh_post "$body" "$t"
check "webhook signed 301 s ago: 401" is "$STATUS" 401
http POST "$GW/webhooks/crm" -H "$US_JSON" -d "$body" \
    -H "X-CRM-Signature: t=$(date +%s),v1=$(wh_sign "$(date +%s)" "$body x")"
check "webhook whose body was altered: 401" is "$STATUS" 401
http POST "$GW/webhooks/crm" -H "$US_JSON" -d '{"junk": 1}'
check "an unsigned bad body is 401, not 400" is "$STATUS" 401
check "refused webhooks changed nothing" \
    is "$(sql "SELECT count(*) FROM sync_webhook_events WHERE event_id = 'evt-bad-1'")" 0

# -- then the body: 400 naming each bad field --
wh_post '{"event_id": "", "crm_id": 5, "updated_fields": {"email": "no", "role": "admin"}, "timestamp": "yesterday", "extra": true}'
check "bad webhook body: 400" is "$STATUS" 400
check "bad webhook body: invalid_webhook" jq_is .error.code invalid_webhook
check "bad webhook body: each bad field named" \
    jq_is '[.error.fields[].field] | sort | join(",")' \
    "crm_id,event_id,extra,timestamp,updated_fields.email,updated_fields.role"
wh_post 'not json'
check "webhook not JSON: 400" is "$STATUS" 400
wh_post "$(wh_event evt-ts "$KJ_CRM" '{"name": "X"}' '2024-05-01T12:00:00+02:00')"
check "webhook timestamp not UTC: 400 naming timestamp" \
    jq_is '[.error.fields[].field] | join(",")' timestamp

# -- then the user --
wh_post "$(wh_event evt-404 CRM999999 '{"name": "Nobody"}' "$(iso_now)")"
check "webhook for an unknown crm_id: 404" is "$STATUS" 404
check "webhook for an unknown crm_id: user_not_found" jq_is .error.code user_not_found

# -- stale: older than the user's last CRM change --
wh_post "$(wh_event evt-stale-1 "$KJ_CRM" '{"name": "Old Name"}' '2020-01-01T00:00:00Z')"
check "stale webhook: 200 stale" jq_is .result stale
http GET "$GW/users/$KJ"
check "stale webhook: ignored" jq_is .name "Katherine G. Johnson"
us_log "$KJ"
check "stale webhook: recorded in the sync log" \
    jq_is '[.entries[] | select(.kind == "webhook" and .outcome == "stale") | .detail.event_id] | join(",")' evt-stale-1
wh_post "$(wh_event evt-stale-1 "$KJ_CRM" '{"name": "Old Name"}' '2020-01-01T00:00:00Z')"
check "stale webhook replayed: duplicate" jq_is .result duplicate

# -- delivered twice by the CRM: applied once --
wh_admin "$KJ_CRM" '{"name": "K. Johnson"}' delivery=twice
ev=$(printf '%s' "$BODY" | jq -r .event_id)
for _ in $(seq 1 60); do
	http GET "$SBX/_sandbox/crm/deliveries" -H "$SBX_AUTH"
	[ "$(printf '%s' "$BODY" | jq "[.deliveries[] | select(.event_id == \"$ev\")] | length")" = 2 ] && break
	sleep 0.05
done
check "twice: the CRM's two copies got applied and duplicate" \
    jq_is "[.deliveries[] | select(.event_id == \"$ev\") | .response | fromjson | .result] | sort | join(\",\")" \
    "applied,duplicate"
check "twice: one processed event" \
    is "$(sql "SELECT count(*) FROM sync_webhook_events WHERE event_id = '$ev'")" 1

# -- out of order: the older event arrives after the newer and is stale --
wh_admin "$KJ_CRM" '{"phone": "+1 757 555 0122"}' delivery=out_of_order
ev_old=$(printf '%s' "$BODY" | jq -r .event_id)
sleep 0.01
wh_admin "$KJ_CRM" '{"phone": "+1 757 555 0133"}'
ev_new=$(printf '%s' "$BODY" | jq -r .event_id)
for _ in $(seq 1 60); do
	http GET "$SBX/_sandbox/crm/deliveries" -H "$SBX_AUTH"
	[ "$(printf '%s' "$BODY" | jq "[.deliveries[] | select(.event_id == \"$ev_old\")] | length")" = 1 ] && break
	sleep 0.05
done
check "reordered: the newer event was applied" \
    jq_is "[.deliveries[] | select(.event_id == \"$ev_new\") | .response] | join(\"\")" '{"result":"applied"}'
check "reordered: the older one, arriving last, is stale" \
    jq_is "[.deliveries[] | select(.event_id == \"$ev_old\") | .response] | join(\"\")" '{"result":"stale"}'
http GET "$GW/users/$KJ"
check "reordered: the newer phone stays" jq_is .phone "+1 757 555 0133"

# -- two processes get the same event at once: applied once --
results=
for i in 1 2 3 4 5; do
	body=$(wh_event "evt-race-$i" "$KJ_CRM" "{\"name\": \"Race $i\"}" "$(iso_now)")
	t=$(date +%s)
	sig="X-CRM-Signature: t=$t,v1=$(wh_sign "$t" "$body")"
	curl -s -o "$SB_VAR_DIR/race-a" -X POST "$GW/webhooks/crm" -H "$US_JSON" -H "$sig" -d "$body" &
	curl -s -o "$SB_VAR_DIR/race-b" -X POST "$GW/webhooks/crm" -H "$US_JSON" -H "$sig" -d "$body" &
	wait
	results="$results $(cat "$SB_VAR_DIR/race-a" "$SB_VAR_DIR/race-b" | jq -r .result | sort | tr '\n' ',')"
	sleep 0.01
done
check "concurrent deliveries: each event applied once, the other duplicate" \
    is "$results" " applied,duplicate, applied,duplicate, applied,duplicate, applied,duplicate, applied,duplicate,"
check "concurrent deliveries: one row per event" \
    is "$(sql "SELECT count(*) FROM sync_webhook_events WHERE event_id LIKE 'evt-race-%'")" 5
check "concurrent deliveries: one sync log row per event" \
    is "$(sql "SELECT count(*) FROM sync_log WHERE kind = 'webhook' AND detail LIKE '%evt-race-%'")" 5

# -- a change in the CRM without a webhook, pulled by reconciliation --
crm_token=$(curl -s -X POST "$SBX/crm/token" -u "switchboard:$(cat "$SB_VAR_DIR/secrets/crm-client.secret")" \
    -d grant_type=client_credentials | jq -r .access_token)
crm_put() {
	http PUT "$SBX/crm/users/$1" -H "Authorization: Bearer $crm_token" -H "$US_JSON" -d "$2"
}
crm_put "$KJ_CRM" '{"name": "Katherine Coleman Johnson", "email": "kj@example.com", "phone": "+1 757 555 0144"}'
check "CRM-side change (its API, no webhook): 200" is "$STATUS" 200
us_sbctl sync
check "sbctl sync: not yet due (the reconcile period)" \
    is "$(printf '%s' "$US_OUT" | cut -d';' -f2)" " 0 user(s) reconciled, 0 failed"
us_sbctl sync --all
check "sbctl sync --all: reconciled" \
    test -n "$(printf '%s' "$US_OUT" | grep -E '; [1-9][0-9]* user\(s\) reconciled, 0 failed')"
http GET "$GW/users/$KJ"
check "reconciliation: the CRM's values applied" \
    jq_is '[.name, .phone] | join("|")' "Katherine Coleman Johnson|+1 757 555 0144"
us_log "$KJ"
check "reconciliation: logged, with the values it overwrote" \
    jq_is '[.entries[] | select(.kind == "conflict" and .detail.source == "reconcile") | "\(.detail.field):\(.detail.local)"] | sort | join(",")' \
    "name:Race 5,phone:+1 757 555 0133"
check "reconciliation: a reconcile entry" \
    jq_is '[.entries[] | select(.kind == "reconcile") | .outcome] | last' applied

# -- the conflict rule: a newer local change not yet in the CRM is kept --
crm_put "$KJ_CRM" '{"name": "CRM Name", "email": "kj@example.com", "phone": "+1 757 555 0155"}'
sleep 0.01
us_fault "{\"path\": \"/crm/users/$KJ_CRM\", \"kind\": \"status\", \"arg\": 503, \"count\": 20}"
http PUT "$GW/users/$KJ" -H "$US_JSON" -d '{"name": "Local Name", "email": "kj@example.com", "phone": "+1 757 555 0144"}'
us_wait_tried "$KJ"
us_faults_off
http POST "$GW/users/$KJ/sync"
check "POST .../sync of a synced user: 200 after reconciling" is "$STATUS" 200
check "conflict: the newer local name is kept, the CRM's phone applied" \
    jq_is '[.name, .phone] | join("|")' "Local Name|+1 757 555 0155"
us_log "$KJ"
check "conflict: the kept local value is logged against the CRM's" \
    jq_is '[.entries[] | select(.kind == "conflict") | select(.outcome == "local_kept") | "\(.detail.field):\(.detail.crm)"] | join(",")' \
    "name:CRM Name"
us_sbctl sync --now
check "conflict: the kept value then reaches the CRM" us_wait "$KJ" synced
us_crm_user "$KJ_CRM"
check "conflict: the CRM has the local name" jq_is .name "Local Name"

# -- the responder killed between commit and push; sbctl sync finishes --
# The push's first answer is a 401 (a token the CRM dropped), so the
# process renews its token against a slow token endpoint: it is killed
# there, its job leased, the user committed and not pushed.
us_fault '{"path": "/crm/users", "kind": "status", "arg": 401}'
us_fault '{"path": "/crm/token", "kind": "slow", "arg": 1200}'
us_create "Mary Jackson" "mary@example.com" "+1 757 555 0166"
MJ=$US_ID
holder=
for _ in $(seq 1 60); do
	holder=$(sql "SELECT lease_owner FROM jobs WHERE queue = 'crm_sync' AND state = 'leased' AND payload LIKE '%$MJ%'")
	[ -n "$holder" ] && break
	sleep 0.02
done
rest=${holder#*:}
pid=${rest%%:*}
check "killed pusher: its job is leased by a users process" \
    grep -qx " *$pid" <(ps -o pid= --ppid "$(head -n 1 "$SB_VAR_DIR/run/users.pid")")
[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
check "killed pusher: the user is committed and pending" \
    is "$(sql "SELECT sync_status || ',' || ifnull(crm_id, '') FROM sync_users WHERE id = '$MJ'")" "pending,"
us_sbctl sync
check "killed pusher: sbctl sync pushes it at once" \
    is "$(printf '%s' "$US_OUT" | cut -d';' -f1)" "sync: 1 push(es) done, 0 failed"
check "killed pusher: the user is synced" us_wait "$MJ" synced 1
us_log "$MJ"
check "killed pusher: one push, by the second lease" \
    jq_is '[.entries[] | select(.kind == "push") | "\(.outcome):\(.detail.attempt)"] | join(",")' "ok:2"
us_faults_off

# -- hardening: the header's shape, t's spelling, a future timestamp --
body=$(wh_event evt-shape-1 "$KJ_CRM" '{"name": "Shape"}' "$(iso_now)")
t=$(date +%s)
http POST "$GW/webhooks/crm" -H "$US_JSON" \
    -H "X-CRM-Signature: v1=$(wh_sign "$t" "$body"),t=$t" -d "$body"
check "webhook: a header not starting with t= is 401" is "$STATUS" 401
http POST "$GW/webhooks/crm" -H "$US_JSON" \
    -H "X-CRM-Signature: t=0$t,v1=$(wh_sign "$t" "$body")" -d "$body"
check "webhook: a t with a leading zero is 401" is "$STATUS" 401
body=$(wh_event evt-future-1 "$KJ_CRM" '{"name": "From The Future"}' \
    "$(date -u -d '+1 hour' +%Y-%m-%dT%H:%M:%S.000Z)")
wh_post "$body"
check "webhook: a timestamp an hour ahead is 400" is "$STATUS" 400
check "webhook: naming timestamp" jq_is '[.error.fields[].field] | join(",")' timestamp

# -- rotation: webhook_secret_previous is accepted while it is set --
CN_TOKEN=$(cat "$SB_VAR_DIR/secrets/crm-connection.token")
CN_ID=${CN_TOKEN%%.*}
CRM_CLIENT=$(cat "$SB_VAR_DIR/secrets/crm-client.secret")
# wh_creds SECRET [PREVIOUS]: PATCHes the CRM connection's credentials.
wh_creds() {
	http PATCH "$GW/connections/$CN_ID" -H "Authorization: Bearer $CN_TOKEN" \
	    -H "$US_JSON" -d "$(jq -n --arg c "$CRM_CLIENT" --arg s "$1" \
	    --arg p "${2:-}" '{credentials: ({client_id: "switchboard",
	    client_secret: $c, webhook_secret: $s} + (if $p == "" then {}
	    else {webhook_secret_previous: $p} end))}')"
}
wh_creds "short-secret"
check "rotation: a webhook_secret under 32 characters is 400" is "$STATUS" 400
OLD_SECRET=$WH_SECRET
NEW_SECRET=$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')
wh_creds "$NEW_SECRET" "$OLD_SECRET"
check "rotation: the new secret with the previous one: 200" is "$STATUS" 200
wh_post "$(wh_event evt-rot-old "$KJ_CRM" '{"name": "Signed Old"}' "$(iso_now)")"
check "rotation: signed with the previous secret, accepted" jq_is .result applied
WH_SECRET=$NEW_SECRET
wh_post "$(wh_event evt-rot-new "$KJ_CRM" '{"name": "Signed New"}' "$(iso_now)")"
check "rotation: signed with the new secret, accepted" jq_is .result applied
wh_creds "$NEW_SECRET"
WH_SECRET=$OLD_SECRET
wh_post "$(wh_event evt-rot-gone "$KJ_CRM" '{"name": "Signed Gone"}' "$(iso_now)")"
check "rotation: once the previous secret is dropped, 401" is "$STATUS" 401
wh_creds "$OLD_SECRET"
check "rotation: the stack's secret is back" is "$STATUS" 200
