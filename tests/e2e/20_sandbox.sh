# The sandbox (port 8081): its OAuth2 provider, protected API, echo,
# request counters and failure switches.  Other files share the sandbox, so
# switches and counters are cleared at the start and at the end.

sbx_reset() {
	http DELETE "$SBX/_sandbox/faults" -H "$SBX_AUTH"
	http DELETE "$SBX/_sandbox/stats" -H "$SBX_AUTH"
}

# sbx_fault PATH KIND [COUNT] [ARG]: sets a switch; STATUS/BODY as http.
sbx_fault() {
	local body="{\"path\":\"$1\",\"kind\":\"$2\",\"count\":${3:-1}"
	[ -n "${4:-}" ] && body="$body,\"arg\":$4"
	http POST "$SBX/_sandbox/faults" -H "$SBX_AUTH" -H 'Content-Type: application/json' \
	    -d "$body}"
}

# sbx_grant [BODY...]: a fresh pair into AT and RT.
sbx_grant() {
	http POST "$SBX/oauth/grant" "$@"
	AT=$(printf '%s' "$BODY" | jq -r .access_token)
	RT=$(printf '%s' "$BODY" | jq -r .refresh_token)
}

# sbx_refresh TOKEN: the refresh grant, form-encoded.
sbx_refresh() {
	http POST "$SBX/oauth/token" -d grant_type=refresh_token \
	    --data-urlencode "refresh_token=$1"
}

bearer() { printf 'Authorization: Bearer %s' "$1"; }

sbx_reset
check "sandbox: faults can be cleared" is "$STATUS" 204

# -- the consent stand-in and the protected API --
sbx_grant
check "grant: 201" is "$STATUS" 201
check "grant: access token has the sat_ prefix" is "${AT%%_*}" sat
check "grant: refresh token has the srt_ prefix" is "${RT%%_*}" srt
check "grant: token_type Bearer" jq_is .token_type Bearer
check "grant: default lifetime from the configuration" \
    jq_is .expires_in "${SB_SANDBOX_TOKEN_TTL_S:-300}"
check "grant: no-store" is "$(header Cache-Control)" no-store
at1=$AT
sbx_grant
check "grant: tokens are fresh each time" test "$AT" != "$at1"

http GET "$SBX/api/me" -H "$(bearer "$AT")"
check "me with the token: 200" is "$STATUS" 200
check "me: nested user" jq_is .address.geo.lat 51.5
check "me: emails array" jq_is '.emails | map(select(.primary)) | .[0].email' \
    ada@example.com
check "me: firstName" jq_is .firstName Ada
http GET "$SBX/api/me"
check "me without a token: 401" is "$STATUS" 401
check "me 401: invalid_token" jq_is .error.code invalid_token
check "me 401: WWW-Authenticate" is "$(header WWW-Authenticate)" \
    'Bearer error="invalid_token"'
http GET "$SBX/api/me" -H "$(bearer sat_wrong)"
check "me with a wrong token: 401" is "$STATUS" 401
http GET "$SBX/api/me" -H "$(bearer "$RT")"
check "me with a refresh token: 401" is "$STATUS" 401

http GET "$SBX/api/users" -H "$(bearer "$AT")"
check "users: 200" is "$STATUS" 200
check "users: three" jq_is length 3
check "users: different people" jq_is '[.[].emails[0].email] | unique | length' 3
http GET "$SBX/api/users?limit=2" -H "$(bearer "$AT")"
check "users: limit" jq_is length 2
http GET "$SBX/api/users?limit=x" -H "$(bearer "$AT")"
check "users: a bad limit: 400" is "$STATUS" 400
http GET "$SBX/api/users"
check "users without a token: 401" is "$STATUS" 401

# -- the token endpoint --
old_at=$AT old_rt=$RT
sbx_refresh "$RT"
check "refresh: 200" is "$STATUS" 200
new_at=$(printf '%s' "$BODY" | jq -r .access_token)
new_rt=$(printf '%s' "$BODY" | jq -r .refresh_token)
check "refresh: a new access token" test "$new_at" != "$old_at"
check "refresh: rotates the refresh token" test "$new_rt" != "$old_rt" -a "${new_rt%%_*}" = srt
check "refresh: token_type Bearer" jq_is .token_type Bearer
sbx_refresh "$old_rt"
check "refresh: the old refresh token is refused" is "$STATUS" 400
check "refresh: invalid_grant" jq_is .error invalid_grant
check "refresh: RFC 6749 error shape" jq_is '.error_description | length > 0' true
http GET "$SBX/api/me" -H "$(bearer "$new_at")"
check "refresh: the new access token works" is "$STATUS" 200
http GET "$SBX/api/me" -H "$(bearer "$old_at")"
check "refresh: the old access token lives until it expires" is "$STATUS" 200
http POST "$SBX/oauth/token" -H 'Content-Type: application/json' \
    -d "{\"grant_type\":\"refresh_token\",\"refresh_token\":\"$new_rt\",\"client_id\":\"x\"}"
check "refresh: JSON body accepted" is "$STATUS" 200
sbx_refresh srt_nonsense
check "refresh: unknown token: invalid_grant" jq_is .error invalid_grant
http POST "$SBX/oauth/token" -d grant_type=refresh_token
check "refresh without a token: invalid_request" jq_is .error invalid_request
http POST "$SBX/oauth/token" -d grant_type=password -d username=a -d password=b
check "unknown grant: 400" is "$STATUS" 400
check "unknown grant: unsupported_grant_type" jq_is .error unsupported_grant_type
http POST "$SBX/oauth/token"
check "no grant_type: invalid_request" jq_is .error invalid_request

http POST "$SBX/oauth/token" -d grant_type=client_credentials \
    -d client_id=crm -d client_secret=s3cret
check "client_credentials: 200" is "$STATUS" 200
check "client_credentials: no refresh token" jq_is 'has("refresh_token")' false
cc_at=$(printf '%s' "$BODY" | jq -r .access_token)
http GET "$SBX/api/me" -H "$(bearer "$cc_at")"
check "client_credentials: the token works" is "$STATUS" 200
http POST "$SBX/oauth/token" -u crm:s3cret -d grant_type=client_credentials
check "client_credentials: HTTP Basic client auth" is "$STATUS" 200
http POST "$SBX/oauth/token" -d grant_type=client_credentials -d client_id=crm
check "client_credentials without a secret: invalid_request" \
    jq_is .error invalid_request

sbx_grant -d expires_in=1 -d client_id=short
check "grant: expires_in honoured" jq_is .expires_in 1
short_at=$AT short_rt=$RT
http GET "$SBX/api/me" -H "$(bearer "$short_at")"
check "short token works at first" is "$STATUS" 200
sleep 2
http GET "$SBX/api/me" -H "$(bearer "$short_at")"
check "expired token: 401" is "$STATUS" 401
sbx_refresh "$short_rt"
check "refresh keeps the granted lifetime" jq_is .expires_in 1
http POST "$SBX/oauth/grant" -d expires_in=0
check "grant: expires_in 0 refused" is "$STATUS" 400
http POST "$SBX/oauth/grant" -H 'Content-Type: application/json' \
    -d '{"expires_in":90000}'
check "grant: expires_in past a day refused" is "$STATUS" 400

# -- echo --
http PATCH "$SBX/api/echo?a=1&b=x%20y" -H "$(bearer "$new_at")" \
    -H 'X-Custom-Thing: hello' -H 'Content-Type: text/plain' \
    --data-binary 'raw body text'
check "echo: 200" is "$STATUS" 200
check "echo: method" jq_is .method PATCH
check "echo: path" jq_is .path /api/echo
check "echo: raw query" jq_is .query 'a=1&b=x%20y'
check "echo: decoded query" jq_is .args.b 'x y'
check "echo: headers lowercased" jq_is '.headers["x-custom-thing"]' hello
check "echo: the authorization it got" jq_is .headers.authorization "Bearer $new_at"
check "echo: body" jq_is .body 'raw body text'
check "echo: sets a cookie" is "$(header Set-Cookie)" sandbox=1
check "echo: X-Sandbox" is "$(header X-Sandbox)" echo
for m in GET POST PUT DELETE; do
	http "$m" "$SBX/api/echo" -H "$(bearer "$new_at")"
	check "echo answers $m" jq_is .method "$m"
done
http GET "$SBX/api/echo"
check "echo without a token: 401" is "$STATUS" 401

# -- counters --
sbx_reset
http GET "$SBX/api/me" -H "$(bearer "$new_at")"
http GET "$SBX/api/me" -H "$(bearer "$new_at")"
http GET "$SBX/api/me"
http POST "$SBX/oauth/token" -d grant_type=client_credentials -d client_id=a \
    -d client_secret=b
http GET "$SBX/no/such/path"
http GET "$SBX/health"
http GET "$SBX/_sandbox/faults" -H "$SBX_AUTH"
http GET "$SBX/_sandbox/stats" -H "$SBX_AUTH"
check "stats: 200" is "$STATUS" 200
check "stats: /api/me counted (401s too)" jq_is '.paths["/api/me"]' 3
check "stats: /oauth/token counted" jq_is '.paths["/oauth/token"]' 1
check "stats: unknown paths counted" jq_is '.paths["/no/such/path"]' 1
check "stats: /health and /_sandbox not counted" \
    jq_is '.paths | has("/health") or has("/_sandbox/faults")' false
check "stats: total" jq_is .total 5
http DELETE "$SBX/_sandbox/stats" -H "$SBX_AUTH"
check "stats reset: 204" is "$STATUS" 204
http GET "$SBX/_sandbox/stats" -H "$SBX_AUTH"
check "stats reset: zero" jq_is '.total == 0 and (.paths | length) == 0' true

# -- the control paths need the sandbox's control token (issue 8 §7) --
http GET "$SBX/api/me"
for hdr in "X-No-Token: 1" "Authorization: Bearer wrong-token" "Authorization: Bearer $new_at" \
    "Authorization: Bearer ${SB_PROJECTS_TOKEN:-x}"; do
	http POST "$SBX/_sandbox/faults" -H "$hdr" -H 'Content-Type: application/json' \
	    -d '{"path": "/api/me", "kind": "status", "arg": 503}'
	check "control with '${hdr:0:22}': 401 unauthorized" \
	    is "$STATUS $(jq -r .error.code <<<"$BODY")" "401 unauthorized"
	http DELETE "$SBX/_sandbox/stats" -H "$hdr"
	check "stats reset without the token: 401" is "$STATUS" 401
done
http GET "$SBX/_sandbox/faults" -H "$SBX_AUTH"
check "no switch was set without the token" jq_is length 0
http GET "$SBX/_sandbox/stats" -H "$SBX_AUTH"
check "the counters were not reset without the token" jq_is '.total > 0' true
check "the token file is 0600" is "$(stat -c %a "$SB_VAR_DIR/secrets/sandbox.token")" 600

# -- failure switches: each seen once, then gone --
sbx_fault /api/me status 1 503
check "fault: set 201" is "$STATUS" 201
check "fault: echoes the switch" jq_is '.kind + " " + (.arg|tostring)' 'status 503'
http GET "$SBX/_sandbox/faults" -H "$SBX_AUTH"
check "faults: listed" jq_is '.[0].path' /api/me
http GET "$SBX/api/me" -H "$(bearer "$new_at")"
check "fault status: 503" is "$STATUS" 503
check "fault status: injected" jq_is .error.code injected
http GET "$SBX/api/me" -H "$(bearer "$new_at")"
check "fault status: gone after one" is "$STATUS" 200
http GET "$SBX/_sandbox/faults" -H "$SBX_AUTH"
check "faults: empty once used" jq_is length 0

sbx_fault /api/me status
http GET "$SBX/api/me" -H "$(bearer "$new_at")"
check "fault status: 500 by default" is "$STATUS" 500

sbx_fault /api/users 429 2 7
http GET "$SBX/api/users" -H "$(bearer "$new_at")"
check "fault 429: 429" is "$STATUS" 429
check "fault 429: Retry-After" is "$(header Retry-After)" 7
http GET "$SBX/api/users" -H "$(bearer "$new_at")"
check "fault 429: count 2 fails twice" is "$STATUS" 429
http GET "$SBX/api/users" -H "$(bearer "$new_at")"
check "fault 429: then gone" is "$STATUS" 200

sbx_fault /api/me slow 1 1500
t0=$(date +%s%N)
http GET "$SBX/api/me" -H "$(bearer "$new_at")"
t1=$(date +%s%N)
check "fault slow: answers normally" is "$STATUS" 200
check "fault slow: took at least 1.5 s" test $(((t1 - t0) / 1000000)) -ge 1500
t0=$(date +%s%N)
http GET "$SBX/api/me" -H "$(bearer "$new_at")"
t1=$(date +%s%N)
check "fault slow: then fast" test $(((t1 - t0) / 1000000)) -lt 1000

sbx_fault /api/me malformed
http GET "$SBX/api/me" -H "$(bearer "$new_at")"
check "fault malformed: 200" is "$STATUS" 200
check "fault malformed: JSON content type" is "$(header Content-Type)" application/json
check "fault malformed: the broken body" is "$BODY" '{"broken": [1, 2'
not_json() { ! printf '%s' "$BODY" | jq . >/dev/null 2>&1; }
check "fault malformed: not JSON" not_json

sbx_fault /api/me oversized
http GET "$SBX/api/me" -H "$(bearer "$new_at")"
check "fault oversized: 200" is "$STATUS" 200
check "fault oversized: 8 MiB by default" is "${#BODY}" $((8 << 20))
check "fault oversized: Content-Length" is "$(header Content-Length)" $((8 << 20))
sbx_fault /api/me oversized 1 1000
http GET "$SBX/api/me" -H "$(bearer "$new_at")"
check "fault oversized: arg bytes of valid JSON" \
    jq_is 'type + " " + (length|tostring)' 'string 998'

sbx_fault /api/me redirect
http GET "$SBX/api/me" -H "$(bearer "$new_at")"
check "fault redirect: 302" is "$STATUS" 302
check "fault redirect: Location" is "$(header Location)" http://evil.example/steal
http GET "$SBX/api/me" -H "$(bearer "$new_at")"
check "fault redirect: then gone" is "$STATUS" 200

sbx_grant
nr_rt=$RT
sbx_fault /oauth/token no_refresh_token
sbx_refresh "$nr_rt"
check "fault no_refresh_token: 200" is "$STATUS" 200
check "fault no_refresh_token: no refresh_token" jq_is 'has("refresh_token")' false
sbx_refresh "$nr_rt"
check "fault no_refresh_token: the old refresh token still works" is "$STATUS" 200
check "fault no_refresh_token: then rotation again" \
    jq_is '.refresh_token | startswith("srt_")' true

sbx_fault /api/me status 1 502
sbx_fault /api/me 429
http GET "$SBX/api/me" -H "$(bearer "$new_at")"
check "faults on one path: oldest first" is "$STATUS" 502
http GET "$SBX/api/me" -H "$(bearer "$new_at")"
check "faults on one path: then the next" is "$STATUS" 429

sbx_fault /api/me explode
check "fault: unknown kind: 400" is "$STATUS" 400
sbx_fault api/me status
check "fault: a path without / : 400" is "$STATUS" 400
sbx_fault /api/me status 1 99
check "fault: a status out of range: 400" is "$STATUS" 400
sbx_fault /api/me status 0
check "fault: count 0: 400" is "$STATUS" 400
sbx_fault /api/me status 5
http DELETE "$SBX/_sandbox/faults" -H "$SBX_AUTH"
http GET "$SBX/api/me" -H "$(bearer "$new_at")"
check "faults clear: switches off" is "$STATUS" 200

# Several processes share the switches: 6 requests, 3 failures exactly.
sbx_fault /api/users status 3 500
par_pids=
for i in 1 2 3 4 5 6; do
	curl -s -o /dev/null -w '%{http_code}' -H "$(bearer "$new_at")" \
	    "$SBX/api/users" >"$SB_VAR_DIR/sbx-par.$i" &
	par_pids="$par_pids $!"
done
wait $par_pids
fails=$(cat "$SB_VAR_DIR"/sbx-par.* | grep -o 500 | wc -l)
rm -f "$SB_VAR_DIR"/sbx-par.*
check "faults: taken exactly count times across processes" is "$fails" 3

sbx_reset
