# The sandbox's mock CRM (/crm/..., made by POST /_sandbox/crm): the client
# credentials token endpoint (form and Basic), the users API (CRUD, the
# contact rules, 409 and 404, the CRM's error bodies), expired tokens, the
# X-RateLimit budget with 429 and Retry-After, the fault switches on its
# paths, and the admin PATCH firing signed webhooks after its response:
# now, late, twice and out of order, checked at the inbox and by openssl.

CRM=$SBX/crm
CRM_INBOX=$SBX/crm/inbox

# crm_setup [BODY]: makes or resets the CRM; sets CRM_ID, CRM_SECRET and
# CRM_WEBHOOK_SECRET.
crm_setup() {
	http POST "$SBX/_sandbox/crm" -H "$SBX_AUTH" \
	    -H 'Content-Type: application/json' -d "${1:-{\}}"
	CRM_ID=$(printf '%s' "$BODY" | jq -r .client_id)
	CRM_SECRET=$(printf '%s' "$BODY" | jq -r .client_secret)
	CRM_WEBHOOK_SECRET=$(printf '%s' "$BODY" | jq -r .webhook_secret)
}

# crm_token: a fresh access token into CRM_TOKEN (form body).
crm_token() {
	http POST "$CRM/token" --data-urlencode grant_type=client_credentials \
	    --data-urlencode "client_id=$CRM_ID" \
	    --data-urlencode "client_secret=$CRM_SECRET"
	CRM_TOKEN=$(printf '%s' "$BODY" | jq -r .access_token)
}

# crm METHOD PATH [curl args...]: a call to the CRM with the token.
crm() {
	local method=$1 path=$2
	shift 2
	http "$method" "$CRM$path" -H "Authorization: Bearer $CRM_TOKEN" "$@"
}

# crm_json METHOD PATH JSON [curl args...]: the same with a JSON body.
crm_json() {
	local method=$1 path=$2 json=$3
	shift 3
	crm "$method" "$path" -H 'Content-Type: application/json' -d "$json" "$@"
}

# crm_admin PATH JSON [query]: the admin PATCH with the control token.
crm_admin() {
	http PATCH "$CRM/admin/users/$1${3:+?$3}" -H "$SBX_AUTH" \
	    -H 'Content-Type: application/json' -d "$2"
}

# deliveries: the deliveries log into BODY.
deliveries() { http GET "$SBX/_sandbox/crm/deliveries" -H "$SBX_AUTH"; }

# wait_deliveries N [SECONDS]: waits until N sends are logged.
wait_deliveries() {
	local i
	for i in $(seq 1 $((${2:-5} * 10))); do
		deliveries
		[ "$(printf '%s' "$BODY" | jq '.deliveries | length')" -ge "$1" ] &&
		    return 0
		sleep 0.1
	done
	return 1
}

# signature_ok INDEX: delivery INDEX's v1 is openssl's HMAC-SHA256 of
# "<t>.<body>" keyed by the webhook secret.
signature_ok() {
	local d sig t v1 body mac
	d=$(printf '%s' "$BODY" | jq -c ".deliveries[$1]")
	sig=$(printf '%s' "$d" | jq -r .signature)
	body=$(printf '%s' "$d" | jq -r .body)
	t=${sig#t=}
	t=${t%%,*}
	v1=${sig#*,v1=}
	mac=$(printf '%s.%s' "$t" "$body" |
	    openssl dgst -sha256 -hmac "$CRM_WEBHOOK_SECRET" | sed 's/^.*= //')
	[ -n "$v1" ] && [ "$mac" = "$v1" ]
}

# -- set-up --
http POST "$SBX/_sandbox/crm"
check "crm setup: control token needed" is "$STATUS" 401
crm_setup '{"token_ttl_s": 0}'
check "crm setup: a bad token_ttl_s is 400" is "$STATUS" 400
crm_setup '{"webhook_url": "ftp://x"}'
check "crm setup: a webhook_url is http(s)" is "$STATUS" 400
crm_setup
check "crm setup: 201" is "$STATUS" 201
check "crm setup: a client id and secret are generated" \
    test -n "$CRM_ID" -a "$CRM_ID" != null -a -n "$CRM_SECRET" -a "$CRM_SECRET" != null
check "crm setup: a webhook secret is generated" \
    test -n "$CRM_WEBHOOK_SECRET" -a "$CRM_WEBHOOK_SECRET" != null
check "crm setup: token_url" jq_is .token_url "$CRM/token"
crm_setup "{\"client_id\": \"switchboard\", \"client_secret\": \"s3cret\",
    \"webhook_secret\": \"whsec_e2e\", \"webhook_url\": \"$CRM_INBOX\"}"
check "crm setup: given settings are kept" \
    jq_is '[.client_id, .client_secret, .webhook_secret, .webhook_url, .rate_limit] | join(" ")' \
    "switchboard s3cret whsec_e2e $CRM_INBOX 100"

# -- token --
http POST "$CRM/token" -d grant_type=client_credentials \
    -d client_id=switchboard -d client_secret=wrong
check "crm token: a wrong secret is 401" is "$STATUS" 401
check "crm token 401: invalid_client" jq_is .error invalid_client
http POST "$CRM/token" -d grant_type=client_credentials \
    -d client_id=other -d client_secret=s3cret
check "crm token: a wrong client id is 401" is "$STATUS" 401
http POST "$CRM/token" -d grant_type=password -d client_id=switchboard \
    -d client_secret=s3cret
check "crm token: another grant is 400 unsupported_grant_type" \
    is "$STATUS/$(printf '%s' "$BODY" | jq -r .error)" 400/unsupported_grant_type
http POST "$CRM/token" -d grant_type=client_credentials -u switchboard:s3cret
check "crm token: HTTP Basic works" is "$STATUS" 200
check "crm token: Bearer with expires_in" \
    jq_is '[.token_type, .expires_in, (.access_token | length > 20)] | join(" ")' \
    "Bearer 3600 true"
crm_token
check "crm token: a form body works" is "$STATUS" 200
check "crm token: not cached" is "$(header Cache-Control)" no-store

# -- users --
crm GET /users/CRM100
check "crm: no such user is 404" is "$STATUS" 404
check "crm 404: not_found" jq_is .error not_found
http GET "$CRM/users/CRM100"
check "crm: no token is 401" is "$STATUS" 401
check "crm 401: invalid_token" jq_is .error invalid_token
check "crm 401: WWW-Authenticate" \
    is "$(header WWW-Authenticate)" 'Bearer error="invalid_token"'
http GET "$CRM/users/CRM100" -H 'Authorization: Bearer crm_nope'
check "crm: an unknown token is 401" is "$STATUS" 401

crm_json POST /users '{"name": "Ada Lovelace", "email": "ada@example.com", "phone": "+44 20 7946 0958"}'
check "crm create: 201" is "$STATUS" 201
check "crm create: crm_id CRM100" jq_is .crm_id CRM100
check "crm create: the user" jq_is '[.name, .email, .phone] | join("|")' \
    "Ada Lovelace|ada@example.com|+44 20 7946 0958"
check "crm create: updated_at is ISO 8601 UTC with milliseconds" \
    test -n "$(printf '%s' "$BODY" | jq -r .updated_at |
        grep -E '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z$')"
check "crm create: Location" is "$(header Location)" /crm/users/CRM100
crm_json POST /users '{"name": "Grace", "email": "ADA@example.com", "phone": "5551234567"}'
check "crm create: a taken email is 409" is "$STATUS" 409
check "crm 409: duplicate_email" jq_is .error duplicate_email
crm_json POST /users '{"name": "", "email": "nope", "phone": "12", "age": 3}'
check "crm create: invalid data is 400" is "$STATUS" 400
check "crm 400: validation_failed naming every bad field" \
    jq_is '[.error, (.fields | map(.field) | sort | join(","))] | join(" ")' \
    "validation_failed age,email,name,phone"
crm_json POST /users '{"name": "Grace Hopper"}'
check "crm create: missing fields are named" \
    jq_is '.fields | map(.field) | sort | join(",")' "email,phone"
crm_json POST /users 'not json'
check "crm create: a body that is not JSON is 400 invalid_request" \
    is "$STATUS/$(printf '%s' "$BODY" | jq -r .error)" 400/invalid_request
check "crm: nothing invalid was stored" is "$(sqlite3 "$SB_VAR_DIR/sandbox.db" \
    'select count(*) from crm_users')" 1

crm GET /users/CRM100
check "crm get: 200" is "$STATUS/$(printf '%s' "$BODY" | jq -r .email)" 200/ada@example.com
created=$(printf '%s' "$BODY" | jq -r .updated_at)
sleep 0.01
crm_json PUT /users/CRM100 '{"name": "Ada King", "email": "ada@example.org", "phone": "+44 20 7946 0000"}'
check "crm put: 200 with the new fields" \
    jq_is '[.name, .email] | join("|")' "Ada King|ada@example.org"
check "crm put: updated_at moves" test "$(printf '%s' "$BODY" | jq -r .updated_at)" \> "$created"
crm_json PUT /users/CRM999 '{"name": "X", "email": "x@example.com", "phone": "5551234567"}'
check "crm put: unknown is 404" is "$STATUS" 404
crm_json PUT /users/CRM100 '{"name": "Ada"}'
check "crm put: needs every field" is "$STATUS" 400
crm_json POST /users '{"name": "Grace Hopper", "email": "grace@example.com", "phone": "(555) 123-4567"}'
check "crm create: the next is CRM101" jq_is .crm_id CRM101
crm_json PUT /users/CRM101 '{"name": "Grace", "email": "ada@example.org", "phone": "5551234567"}'
check "crm put: another's email is 409" is "$STATUS" 409
crm DELETE /users/CRM101
check "crm delete: 204" is "$STATUS" 204
crm DELETE /users/CRM101
check "crm delete: again is 404" is "$STATUS" 404
crm GET /users/CRM101
check "crm get: a deleted user is 404" is "$STATUS" 404

# -- fault switches and stats apply to the CRM's paths --
http DELETE "$SBX/_sandbox/stats" -H "$SBX_AUTH"
http POST "$SBX/_sandbox/faults" -H "$SBX_AUTH" -H 'Content-Type: application/json' \
    -d '{"path": "/crm/users/CRM100", "kind": "status", "arg": 503}'
crm GET /users/CRM100
check "crm: a fault switch answers for the CRM" is "$STATUS" 503
crm GET /users/CRM100
check "crm: and is used up" is "$STATUS" 200
http GET "$SBX/_sandbox/stats" -H "$SBX_AUTH"
check "crm: requests are counted in the stats" \
    jq_is '.paths["/crm/users/CRM100"]' 2

# -- expired token --
crm_setup '{"client_id": "switchboard", "client_secret": "s3cret", "token_ttl_s": 1}'
crm_token
check "crm token: ttl 1" jq_is .expires_in 1
crm_json POST /users '{"name": "Ada", "email": "ada@example.com", "phone": "5551234567"}'
check "crm: a live token works" is "$STATUS" 201
sleep 1.2
crm GET /users/CRM100
check "crm: an expired token is 401" is "$STATUS" 401
check "crm: expired says invalid_token" \
    is "$(header WWW-Authenticate)" 'Bearer error="invalid_token"'
crm_token
crm GET /users/CRM100
check "crm: a renewed token works" is "$STATUS" 200

# -- rate limit --
crm_setup '{"client_id": "switchboard", "client_secret": "s3cret", "rate_limit": 3, "rate_window_s": 30}'
crm_token
crm GET /users/CRM100
check "crm rate: X-RateLimit-Remaining counts down" \
    is "$(header X-RateLimit-Remaining)/$(header X-RateLimit-Limit)" 2/3
check "crm rate: X-RateLimit-Reset is the window's end" \
    test "$(header X-RateLimit-Reset)" -gt "$(date +%s)"
crm GET /users/CRM100
crm GET /users/CRM100
crm GET /users/CRM100
check "crm rate: past the budget is 429" is "$STATUS" 429
check "crm 429: rate_limited" jq_is .error rate_limited
retry=$(header Retry-After)
check "crm 429: Retry-After in seconds" test "${retry:-0}" -ge 1 -a "${retry:-99}" -le 30
check "crm 429: X-RateLimit-Remaining 0" is "$(header X-RateLimit-Remaining)" 0

# -- admin PATCH and webhooks --
crm_setup "{\"client_id\": \"switchboard\", \"client_secret\": \"s3cret\",
    \"webhook_secret\": \"whsec_e2e\", \"webhook_url\": \"$CRM_INBOX\"}"
crm_token
crm_json POST /users '{"name": "Ada Lovelace", "email": "ada@example.com", "phone": "5551234567"}'
http PATCH "$CRM/admin/users/CRM100" -H "Authorization: Bearer $CRM_TOKEN" \
    -H 'Content-Type: application/json' -d '{"name": "Ada"}'
check "crm admin: needs the control token" is "$STATUS" 401
crm_admin CRM999 '{"name": "Ada"}'
check "crm admin: unknown user is 404" is "$STATUS" 404
crm_admin CRM100 '{"email": "bad"}'
check "crm admin: invalid data is 400" is "$STATUS" 400
crm_admin CRM100 '{"name": "Ada"}' delivery=sideways
check "crm admin: an unknown delivery is 400" is "$STATUS" 400

crm_admin CRM100 '{"name": "Ada King", "phone": "5551234567"}'
check "crm admin: 200" is "$STATUS" 200
event1=$(printf '%s' "$BODY" | jq -r .event_id)
check "crm admin: the user changed" jq_is .user.name "Ada King"
check "crm admin: an event id" test "${event1#evt_}" != "$event1"
check "crm webhook: delivered" wait_deliveries 1
check "crm webhook: the inbox took it (signature valid)" jq_is '.deliveries[0].status' 200
check "crm webhook: body" jq_is '.deliveries[0].body | fromjson |
    [.event_id, .crm_id, (.updated_fields | keys | join(",")), .updated_fields.name] | join(" ")' \
    "$event1 CRM100 name Ada King"
check "crm webhook: timestamp ISO 8601 UTC" \
    jq_is '.deliveries[0].body | fromjson | .timestamp | test("^[0-9-]{10}T[0-9:]{8}\\.[0-9]{3}Z$")' true
check "crm webhook: signature verifies with openssl" signature_ok 0
crm GET /users/CRM100
check "crm webhook: the CRM's updated_at is the event's timestamp" \
    is "$(printf '%s' "$BODY" | jq -r .updated_at)" \
    "$(sqlite3 "$SB_VAR_DIR/sandbox.db" "select json_extract(body, '$.timestamp') from crm_events where event_id = '$event1'")"

crm_admin CRM100 '{"name": "Ada King"}'
check "crm admin: no change fires nothing" jq_is .event_id null

http POST "$CRM_INBOX" -H 'X-CRM-Signature: t=1,v1=00' -d '{}'
check "crm inbox: a bad signature is 401" is "$STATUS" 401
http POST "$CRM_INBOX" -d '{}'
check "crm inbox: no signature is 401" is "$STATUS" 401

# twice: the same event, the same body, two sends
crm_admin CRM100 '{"name": "Ada Twice", "delivery": "twice"}'
event2=$(printf '%s' "$BODY" | jq -r .event_id)
check "crm twice: sent twice" wait_deliveries 3
check "crm twice: the same event twice" \
    jq_is "[.deliveries[1:3][] | (.body | fromjson | .event_id)] | join(\" \")" "$event2 $event2"
check "crm twice: copies 1 and 2" jq_is '[.deliveries[1:3][].copy] | join(",")' "1,2"

# late: the answer comes first, the event delay_ms later
crm_admin CRM100 '{"name": "Ada Late"}' 'delivery=late&delay_ms=1500'
event3=$(printf '%s' "$BODY" | jq -r .event_id)
deliveries
check "crm late: not sent at once" jq_is '.deliveries | length' 3
check "crm late: waiting" jq_is '.waiting[0].event_id' "$event3"
check "crm late: sent after the delay" wait_deliveries 4 6
check "crm late: the late event" jq_is '.deliveries[3].body | fromjson | .event_id' "$event3"

# out of order: held until the next event has gone
crm_admin CRM100 '{"phone": "+1 555 000 1111"}' delivery=out_of_order
event4=$(printf '%s' "$BODY" | jq -r .event_id)
sleep 0.5
deliveries
check "crm out_of_order: held" jq_is '.waiting | map(.state) | join(",")' held
crm_admin CRM100 '{"phone": "+1 555 000 2222"}'
event5=$(printf '%s' "$BODY" | jq -r .event_id)
check "crm out_of_order: both sent" wait_deliveries 6
check "crm out_of_order: the later event first" \
    jq_is "[.deliveries[4:6][] | (.body | fromjson | .event_id)] | join(\" \")" "$event5 $event4"
check "crm out_of_order: every signature verifies" \
    eval 'signature_ok 1 && signature_ok 2 && signature_ok 3 && signature_ok 4 && signature_ok 5'

# a receiver's failure is recorded
crm_setup "{\"client_id\": \"switchboard\", \"client_secret\": \"s3cret\",
    \"webhook_secret\": \"whsec_e2e\", \"webhook_url\": \"$CRM_INBOX?status=500\"}"
crm_token
crm_json POST /users '{"name": "Ada", "email": "ada@example.com", "phone": "5551234567"}'
crm_admin CRM100 '{"name": "Ada Fails"}'
check "crm webhook: a failing receiver is recorded" wait_deliveries 1
check "crm webhook: with its status" jq_is '.deliveries[0].status' 500

# -- Idempotency-Key on POST /crm/users --
crm_setup
crm_token
ada='{"name": "Ada", "email": "ada@example.com", "phone": "5551234567"}'
crm_json POST /users "$ada" -H 'Idempotency-Key: e2e-key-1'
check "crm idempotency: first 201" is "$STATUS" 201
first_id=$(printf '%s' "$BODY" | jq -r .crm_id)
crm_json POST /users "$ada" -H 'Idempotency-Key: e2e-key-1'
check "crm idempotency: the same key and body, 201 again" is "$STATUS" 201
check "crm idempotency: the same crm_id" jq_is .crm_id "$first_id"
check "crm idempotency: marked as replayed" is "$(header Idempotent-Replayed)" true
crm_json POST /users '{"name": "Ada B", "email": "ada@example.com", "phone": "5551234567"}' \
    -H 'Idempotency-Key: e2e-key-1'
check "crm idempotency: the key with another body is 422" is "$STATUS" 422
check "crm idempotency: idempotency_key_reused" jq_is .error idempotency_key_reused
crm_json POST /users "$ada"
check "crm idempotency: without the key the email is taken (409)" is "$STATUS" 409
crm_json POST /users "$ada" -H "Idempotency-Key: $(printf 'k%.0s' $(seq 1 256))"
check "crm idempotency: a key over 255 bytes is 400" is "$STATUS" 400
crm DELETE "/users/$first_id"
crm_json POST /users "$ada" -H 'Idempotency-Key: e2e-key-1'
check "crm idempotency: the key dies with its user (a new user)" \
    eval '[ "$STATUS" = 201 ] && ! jq_is .crm_id "$first_id"'

# -- answer_lost: the user is made, the answer is an error --
curl -s -o /dev/null -X POST "$SBX/_sandbox/faults" -H "$SBX_AUTH" \
    -H 'Content-Type: application/json' \
    -d '{"path": "/crm/users", "kind": "answer_lost", "arg": 502}'
grace='{"name": "Grace", "email": "grace@example.com", "phone": "5551234567"}'
crm_json POST /users "$grace" -H 'Idempotency-Key: e2e-key-2'
check "crm answer_lost: the answer is the switch's status" is "$STATUS" 502
crm_json POST /users "$grace" -H 'Idempotency-Key: e2e-key-2'
check "crm answer_lost: the retry with the key gets the user made" \
    eval '[ "$STATUS" = 201 ] && [ "$(header Idempotent-Replayed)" = true ]'
grace_id=$(printf '%s' "$BODY" | jq -r .crm_id)
crm GET "/users/$grace_id"
check "crm answer_lost: the user was committed" jq_is .email grace@example.com

# -- keep_users: a set-up with the same client id keeps the users --
crm_setup "{\"client_id\": \"$CRM_ID\", \"client_secret\": \"$CRM_SECRET\",
    \"webhook_secret\": \"whsec_kept_0123456789abcdefghijklmnop\", \"keep_users\": true}"
check "crm keep_users: 200, kept" eval '[ "$STATUS" = 200 ] && jq_is .users_kept true'
check "crm keep_users: the new webhook secret" \
    jq_is .webhook_secret whsec_kept_0123456789abcdefghijklmnop
crm GET "/users/$grace_id"
check "crm keep_users: the token and the user are still there" is "$STATUS" 200
crm_json POST /users "$grace" -H 'Idempotency-Key: e2e-key-2'
check "crm keep_users: the keys too" jq_is .crm_id "$grace_id"
crm_setup '{"client_id": "another", "keep_users": true}'
check "crm keep_users: another client id resets (201)" \
    eval '[ "$STATUS" = 201 ] && jq_is .users_kept false'
crm_token
crm GET "/users/$grace_id"
check "crm keep_users: after a reset the user is gone" is "$STATUS" 404
http POST "$SBX/_sandbox/crm" -H "$SBX_AUTH" -H 'Content-Type: application/json' \
    -d '{"keep_users": "yes"}'
check "crm keep_users: not a boolean is 400" is "$STATUS" 400
