# Safety of calls through a connection: the caller gives only a path, and
# nothing that could leave the provider's base URL, split the request or
# smuggle a header is sent; the caller cannot set auth, cookies, Host or
# hop-by-hop headers; Set-Cookie stays behind; redirects are not followed;
# timeouts, oversized, malformed and unreachable upstreams give JSON 5xx;
# retries; credentials sealed at rest, and a tampered blob fails closed.

# The helpers the connection files share (cx_*).
. tests/e2e/connections.sh

is_json() { printf '%s' "$BODY" | jq -e 'type == "object"' >/dev/null 2>&1; }
blob_of() { sql "select hex(credentials) from connections where id = '$1'"; }

cx_reset
CS_SECRET=e2e41-client-secret-$RANDOM$RANDOM
cx_grant -d client_id=e2e41
S_AT=$AT S_RT=$RT
cx_create "$(jq -nc --arg at "$AT" --arg rt "$RT" --arg cs "$CS_SECRET" \
    '{provider: "sandbox", credentials: {access_token: $at, refresh_token: $rt,
      client_id: "e2e41", client_secret: $cs}}')"
check "safety: connection made" is "$STATUS" 201
S_ID=$CID S_TOK=$CTOK
cx_call "$S_ID" "$S_TOK" '{"path":"/me"}'
check "safety: a plain call works" is "$STATUS" 200

# -- paths on /call: 400, and nothing reaches the provider --
# refused_call LABEL JSON-STRING-OF-PATH [any]: 400 invalid_call naming
# the offset (with "any", any JSON error will do: a NUL may be refused as
# bad JSON before the path is looked at), and nothing sent.
refused_call() {
	local before
	before=$(cx_total)
	cx_call "$S_ID" "$S_TOK" "{\"path\":\"$2\"}"
	check "call path $1: 400" is "$STATUS" 400
	if [ "${3:-}" = any ]; then
		check "call path $1: a JSON error" jq_is '.error.code | length > 0' true
	else
		check "call path $1: invalid_call, with its place" \
		    jq_is '.error.code == "invalid_call" and (.error.message | test("offset [0-9]+"))' true
	fi
	check "call path $1: nothing sent" is "$(cx_total)" "$before"
}
refused_call "without a leading /" 'me'
refused_call "/a/../me" '/a/../me'
refused_call "/.." '/..'
refused_call "/./me" '/./me'
refused_call "/me/." '/me/.'
refused_call "//host" '//evil.example/x'
refused_call "/a//b" '/me//x'
refused_call "with a backslash" '/a\\..\\me'
refused_call "with @" '/a@evil.example'
refused_call "with #" '/me#frag'
refused_call "http:// prefix" 'http://evil.example/x'
refused_call "https: prefix" 'https:evil.example'
refused_call "javascript: prefix" 'javascript:alert(1)'
refused_call "CR LF" '/me\r\nX-Injected: 1'
refused_call "LF" '/me\n'
refused_call "CR" '/me\rx'
refused_call "tab" '/me\tx'
refused_call "%2e%2e" '/a/%2e%2e/me'
refused_call "%2E%2E at the start" '/%2E%2E/me'
refused_call ".%2e" '/a/.%2e/me'
refused_call "%252e%252e (double encoded)" '/a/%252e%252e/me'
refused_call "%25252e%25252e (triple encoded)" '/a/%25252e%25252e/me'
refused_call "%2f%2f" '/a%2f%2fevil.example'
refused_call "%5c" '/a%5c..%5cme'
refused_call "%23" '/me%23frag'
refused_call "%0d%0a" '/me%0d%0aX-Injected:%201'
refused_call "%0a" '/me%0a'
refused_call "%00" '/me%00'
refused_call "%2500 (double encoded NUL)" '/me%2500'
refused_call "a malformed escape" '/me%zz'
refused_call "/..;/" '/..;/me'
refused_call "NUL (JSON escape)" '/me\u0000/../../x' any
refused_call "NUL at the end (JSON escape)" '/echo\u0000' any
before=$(cx_total)
cx_call "$S_ID" "$S_TOK" $'{"path":"/me\r\nX-Injected: 1"}'
check "call path with raw CR LF bytes: 400" is "$STATUS" 400
check "call path with raw CR LF bytes: nothing sent" is "$(cx_total)" "$before"
cx_call "$S_ID" "$S_TOK" '{"path":""}'
check "call with an empty path: 400" is "$STATUS" 400
check "call with an empty path: nothing sent" is "$(cx_total)" "$before"

# -- paths on /proxy, sent as typed (--path-as-is): the same rules --
# refused_proxy RAW-PATH-AFTER-/proxy
refused_proxy() {
	local before
	before=$(cx_total)
	http GET "$GW/proxy$1" --path-as-is -H "$(cx_auth "$S_TOK")"
	check "proxy path $1: 400" is "$STATUS" 400
	check "proxy path $1: JSON error" jq_is '.error.code | length > 0' true
	check "proxy path $1: nothing sent" is "$(cx_total)" "$before"
}
refused_proxy '/x/../echo'
refused_proxy '/./echo'
refused_proxy '/x/./echo'
refused_proxy '//echo'
refused_proxy '/x//echo'
refused_proxy '/x/%2e%2e/echo'
refused_proxy '/x/%2E%2E/echo'
refused_proxy '/x/.%2e/echo'
refused_proxy '/x/%252e%252e/echo'
refused_proxy '/x%2f%2fecho'
refused_proxy '/a\b'
refused_proxy '/a%5cb'
refused_proxy '/a@evil.example'
refused_proxy '/echo%23frag'
refused_proxy '/echo%0d%0aX-Injected:%201'
refused_proxy '/echo%0a'
refused_proxy '/echo%00'
refused_proxy '/echo%2500'
refused_proxy '/http://evil.example/x'
refused_proxy '/http:%2f%2fevil.example/x'
refused_proxy '/..;/echo'
# A percent-encoded '@' is data (an Okta login in /api/v1/users/{login}),
# not user information: sent, as a path on the provider's own host.
before=$(cx_total)
cx_call "$S_ID" "$S_TOK" '{"path":"/a%40evil.example"}'
check "call path %40: sent to the provider" is "$(cx_total)" "$((before + 1))"
http GET "$GW/proxy/a%40evil.example" --path-as-is -H "$(cx_auth "$S_TOK")"
check "proxy path %40: sent to the provider" is "$(cx_total)" "$((before + 2))"
check "%40: both asked the provider's host for /api/a@evil.example" \
    is "$(cx_hits /api/a@evil.example)" 2
# Dot segments that climb out of /proxy itself are resolved by nginx before
# routing: whatever the answer, it is JSON and nothing reaches the provider.
for p in '/../api/echo' '/%2e%2e/api/echo' '/x/../../api/echo'; do
	before=$(cx_total)
	http GET "$GW/proxy$p" --path-as-is -H "$(cx_auth "$S_TOK")"
	check "proxy path $p: refused (4xx)" test "${STATUS:-0}" -ge 400 -a "${STATUS:-0}" -lt 500
	check "proxy path $p: nothing sent" is "$(cx_total)" "$before"
done
# What the README and docs/openapi.yaml say of them: 404 (nginx routes
# the normalised path), nginx's 400 above the root, 404 for no path.
http GET "$GW/proxy/%2e%2e/api/echo" --path-as-is -H "$(cx_auth "$S_TOK")"
check "proxy path /%2e%2e/api/echo: routed as /api/echo, 404 not_found" \
    is "$STATUS $(printf '%s' "$BODY" | jq -r .error.code)" "404 not_found"
http GET "$GW/proxy/..%2F..%2Fetc" --path-as-is -H "$(cx_auth "$S_TOK")"
check "proxy path /..%2F..%2Fetc: above the root, nginx's 400 bad_request" \
    is "$STATUS $(printf '%s' "$BODY" | jq -r .error.code)" "400 bad_request"
for p in /proxy/ /proxy; do
	http GET "$GW$p" -H "$(cx_auth "$S_TOK")"
	check "proxy with no path ($p): 404 not_found" \
	    is "$STATUS $(printf '%s' "$BODY" | jq -r .error.code)" "404 not_found"
done
http GET "$GW//proxy/echo" --path-as-is -H "$(cx_auth "$S_TOK")"
check "//proxy/echo: 400, the proxied path is missing" \
    jq_is '.error.code == "invalid_call" and (.error.message | test("missing"))' true
http GET "$GW/proxy/echo?a=%0d%0a&b=%23x" -H "$(cx_auth "$S_TOK")"
check "proxy: an encoded query stays encoded" jq_is .query 'a=%0d%0a&b=%23x'

# -- request headers --
# refused_header LABEL HEADERS-JSON
refused_header() {
	local before
	before=$(cx_total)
	cx_call "$S_ID" "$S_TOK" "{\"path\":\"/echo\",\"headers\":$2}"
	check "call header $1: 400" is "$STATUS" 400
	check "call header $1: invalid_call" jq_is .error.code invalid_call
	check "call header $1: nothing sent" is "$(cx_total)" "$before"
}
refused_header Authorization '{"Authorization":"Bearer sat_mine"}'
refused_header "authorization (lower case)" '{"authorization":"Bearer sat_mine"}'
refused_header Cookie '{"Cookie":"session=1"}'
refused_header Host '{"Host":"evil.example"}'
for h in Connection Keep-Alive Transfer-Encoding Upgrade TE Trailer \
    Proxy-Authorization Proxy-Connection Content-Length Expect; do
	refused_header "$h" "{\"$h\":\"x\"}"
done
refused_header "value with CR LF" '{"X-Ok":"a\r\nX-Injected: 1"}'
refused_header "value with LF" '{"X-Ok":"a\nX-Injected: 1"}'
refused_header "name with CR LF" '{"X-A\r\nX-Injected":"1"}'
refused_header "a value that is not a string" '{"X-Number":5}'
cx_call "$S_ID" "$S_TOK" '{"path":"/echo","headers":{"X-Allowed":"yes","Accept":"application/json"}}'
check "call: ordinary headers pass" jq_is '.headers["x-allowed"] + " " + .headers.accept' 'yes application/json'
check "call: the connection's auth, not the caller's" jq_is .headers.authorization "Bearer $S_AT"

http GET "$GW/proxy/echo" -H "$(cx_auth "$S_TOK")" -H 'Cookie: session=caller' \
    -H 'X-Forwarded-Host: evil.example'
check "proxy: 200" is "$STATUS" 200
check "proxy: the caller's Cookie is not passed" jq_is '.headers | has("cookie")' false
check "proxy: the connection token is not passed" jq_is .headers.authorization "Bearer $S_AT"
check "proxy: Host is the provider's" jq_is .headers.host "127.0.0.1:$SB_SANDBOX_PORT"

# -- response headers: Set-Cookie and hop-by-hop stay behind --
curl -s -o /dev/null -D "$HEADERS" -H "$(cx_auth "$S_AT")" "$SBX/api/echo"
check "the sandbox's echo sets a cookie (so the next checks mean something)" \
    is "$(header Set-Cookie)" sandbox=1
cx_call "$S_ID" "$S_TOK" '{"path":"/echo"}'
check "call: 200" is "$STATUS" 200
check "call: no Set-Cookie from the provider" is "$(header Set-Cookie)" ""
check "call: no Keep-Alive header" is "$(header Keep-Alive)" ""
http GET "$GW/proxy/echo" -H "$(cx_auth "$S_TOK")"
check "proxy: no Set-Cookie from the provider" is "$(header Set-Cookie)" ""
http DELETE "$GW/proxy/echo" -H "$(cx_auth "$S_TOK")"
check "proxy DELETE: no Set-Cookie from the provider" is "$(header Set-Cookie)" ""

# -- redirects are not followed --
cx_reset
cx_fault /api/me redirect
t0=$(date +%s%N)
cx_call "$S_ID" "$S_TOK" '{"path":"/me"}'
t1=$(date +%s%N)
check "redirect: the provider's 302 comes back, not followed" is "$STATUS" 302
check "redirect: its reason phrase is Found, not Unknown" \
    is "$(head -n1 "$HEADERS" | tr -d '\r')" "HTTP/1.1 302 Found"
check "redirect: the answer is JSON" is_json
check "redirect: the provider was asked once" is "$(cx_hits /api/me)" 1
check "redirect: nothing else was asked" is "$(cx_total)" 1
check "redirect: the answer came at once (no attempt on the Location host)" \
    test $(((t1 - t0) / 1000000)) -lt 1500
cx_fault /api/echo redirect
http GET "$GW/proxy/echo" -H "$(cx_auth "$S_TOK")"
check "proxy redirect: not followed, 302 Found" \
    is "$(head -n1 "$HEADERS" | tr -d '\r')" "HTTP/1.1 302 Found"
check "proxy redirect: the provider was asked once" is "$(cx_hits /api/echo)" 1

# -- timeouts: 504 JSON --
cx_reset
timeout_ms=${SB_HTTP_TIMEOUT_MS:-10000}
attempts=${SB_HTTP_MAX_ATTEMPTS:-3}
slow=$((timeout_ms + 700))
cx_fault /api/echo slow 1 "$slow"
cx_call "$S_ID" "$S_TOK" '{"method":"POST","path":"/echo","body":{"a":1}}'
check "timeout: 504" is "$STATUS" 504
check "timeout: upstream_timeout" jq_is .error.code upstream_timeout
check "timeout: a POST is not retried" is "$(cx_hits /api/echo)" 1
sleep $((slow / 1000 + 1))
if [ "$attempts" -le 3 ] && [ "$timeout_ms" -le 3000 ]; then
	cx_reset
	cx_fault /api/me slow "$attempts" "$slow"
	cx_call "$S_ID" "$S_TOK" '{"path":"/me"}'
	check "timeout on every attempt of a GET: 504 JSON" \
	    is "$STATUS $(printf '%s' "$BODY" | jq -r .error.code)" "504 upstream_timeout"
	check "timeout: a GET is tried $attempts times" is "$(cx_hits /api/me)" "$attempts"
	sleep $((slow / 1000 + 2))
fi
cx_reset
cx_fault /api/me slow 1 "$slow"
cx_call "$S_ID" "$S_TOK" '{"path":"/me"}'
check "timeout once, then an answer: the GET is retried and succeeds" \
    is "$STATUS $(printf '%s' "$BODY" | jq -r .firstName)" "200 Ada"
sleep $((slow / 1000 + 1))

# -- oversized, malformed, unreachable: 502 JSON --
cx_reset
cx_fault /api/me oversized
cx_call "$S_ID" "$S_TOK" '{"path":"/me"}'
check "oversized: 502" is "$STATUS" 502
check "oversized: upstream_too_large" jq_is .error.code upstream_too_large
check "oversized: a short answer" test "${#BODY}" -lt 1000
check "oversized: not retried" is "$(cx_hits /api/me)" 1

cx_post "$GW/mappings" '{"mapping":{"first_name":"firstName"}}'
MAP=$(printf '%s' "$BODY" | jq -r .id)
cx_fault /api/me malformed
cx_call "$S_ID" "$S_TOK" "{\"path\":\"/me\",\"mapping\":\"$MAP\"}"
check "malformed with a mapping: 502" is "$STATUS" 502
check "malformed with a mapping: JSON error" jq_is .error.code upstream_malformed
check "malformed with a mapping: the upstream status is named" \
    jq_is '.error.message | test("200")' true
cx_call "$S_ID" "$S_TOK" "{\"path\":\"/me\",\"mapping\":\"$MAP\"}"
check "then well formed: mapped" jq_is '. == {"first_name":"Ada"}' true
http DELETE "$GW/mappings/$MAP"

scripts/stack down sandbox >/dev/null 2>&1
cx_call "$S_ID" "$S_TOK" '{"path":"/me"}'
check "unreachable provider: 502" is "$STATUS" 502
check "unreachable provider: JSON" is_json
scripts/stack up sandbox >/dev/null 2>&1
for _ in $(seq 1 100); do
	curl -s -o /dev/null "$SBX/health" && break
	sleep 0.05
done
cx_call "$S_ID" "$S_TOK" '{"path":"/me"}'
check "provider back: calls work again" is "$STATUS" 200

# -- retries --
cx_reset
cx_fault /api/me status 1 503
cx_call "$S_ID" "$S_TOK" '{"path":"/me"}'
check "503 once: the call still succeeds" is "$STATUS" 200
check "503 once: the provider's answer" jq_is .firstName Ada
check "503 once: two hits" is "$(cx_hits /api/me)" 2
cx_reset
cx_fault /api/me 429 1 1
cx_call "$S_ID" "$S_TOK" '{"path":"/me"}'
check "429 with Retry-After: retried and succeeds" is "$STATUS" 200
check "429 with Retry-After: two hits" is "$(cx_hits /api/me)" 2
cx_reset
cx_fault /api/echo status 1 502
cx_call "$S_ID" "$S_TOK" '{"method":"POST","path":"/echo","body":{"once":true}}'
check "502 on a POST: not retried, the answer as it came" is "$STATUS" 502
check "502 on a POST: one hit" is "$(cx_hits /api/echo)" 1

# -- request body cap --
big=$(mktemp)
head -c $((2 << 20)) /dev/zero | tr '\0' a >"$big"
http POST "$GW/connections/$S_ID/call" -H "$(cx_auth "$S_TOK")" -H "$CX_JSON" \
    --data-binary @"$big"
check "a body over the cap: 413" is "$STATUS" 413
check "a body over the cap: JSON" is_json
rm -f "$big"

# -- sealed at rest --
okta_key=00e2e41OktaKeyAbcdef$RANDOM$RANDOM
cx_create "{\"provider\":\"okta\",\"credentials\":{\"api_key\":\"$okta_key\"},\"config\":{\"subdomain\":\"e2e41\"}}"
check "okta connection made" is "$STATUS" 201
O_ID=$CID O_TOK=$CTOK
dump=$(sqlite3 "$SB_VAR_DIR/switchboard.db" .dump)
check "dump: the connection is in it" test "${dump#*$S_ID}" != "$dump"
for secret in "$S_AT" "$S_RT" "$CS_SECRET" "$S_TOK" "${S_TOK#*.}" "$okta_key"; do
	check "dump: no ${secret:0:10}... in the clear" test "${dump#*"$secret"}" = "$dump"
done
check "the token digest is not the token" \
    test "$(sql "select token_digest from connections where id = '$S_ID'")" != "${S_TOK#*.}"
logs=$(cat "$SB_VAR_DIR"/log/gateway*.log 2>/dev/null)
for secret in "$S_AT" "$S_RT" "$CS_SECRET" "${S_TOK#*.}"; do
	check "gateway log: no ${secret:0:10}..." test "${logs#*"$secret"}" = "$logs"
done

# -- a tampered blob fails closed --
cx_reset
good=$(blob_of "$S_ID")
# tampered LABEL: the row's blob was changed; every use fails closed:
# calls and proxied calls are refused with 409 credentials_unreadable and
# GET says the credentials are unreadable (repairs: 54_broken_connections).
tampered() {
	check "tampered ($1): the blob did change" test "$(blob_of "$S_ID")" != "$good"
	cx_call "$S_ID" "$S_TOK" '{"path":"/echo"}'
	check "tampered ($1): call 409" is "$STATUS" 409
	check "tampered ($1): JSON error" jq_is .error.code credentials_unreadable
	check "tampered ($1): no plaintext" \
	    test "${BODY#*"$S_AT"}" = "$BODY" -a "${BODY#*"$S_RT"}" = "$BODY" -a "${BODY#*"$CS_SECRET"}" = "$BODY"
	http GET "$GW/proxy/echo" -H "$(cx_auth "$S_TOK")"
	check "tampered ($1): proxy 409" is "$STATUS" 409
	http GET "$GW/connections/$S_ID" -H "$(cx_auth "$S_TOK")"
	check "tampered ($1): get says the credentials are unreadable" \
	    is "$STATUS $(printf '%s' "$BODY" | jq -r .credentials_readable 2>/dev/null)" "200 false"
	check "tampered ($1): get holds no plaintext" \
	    test "${BODY#*"$S_AT"}" = "$BODY" -a "${BODY#*"$S_RT"}" = "$BODY"
	check "tampered ($1): no upstream request" is "$(cx_total)" 0
	sql "update connections set credentials = X'$good' where id = '$S_ID'"
}
sql "update connections set credentials = X'00' || substr(credentials, 2) where id = '$S_ID'"
tampered "first byte zeroed"
len=${#good}
mid=$((len / 2))
c=${good:$mid:1}
[ "$c" = 0 ] && f=1 || f=0
sql "update connections set credentials = X'${good:0:$mid}$f${good:$((mid + 1))}' where id = '$S_ID'"
tampered "one ciphertext byte flipped"
sql "update connections set credentials = X'${good:0:$((len - 2))}' where id = '$S_ID'"
tampered "truncated"
sql "update connections set credentials = (select credentials from connections where id = '$O_ID') where id = '$S_ID'"
tampered "another connection's blob"
cx_call "$S_ID" "$S_TOK" '{"path":"/echo"}'
check "restored blob: calls work again" is "$STATUS" 200

# -- the host is checked on every call, not only when the config is set --
cx_create "{\"provider\":\"jsonplaceholder\",\"credentials\":{},\"config\":{\"base_url\":\"http://127.0.0.1:$SB_SANDBOX_PORT/jsonplaceholder\"}}"
J_ID=$CID J_TOK=$CTOK
sql "update connections set config = '{\"base_url\":\"http://127.0.0.1:$SB_GATEWAY_PORT\"}' where id = '$J_ID'"
before=$(cx_total)
cx_call "$J_ID" "$J_TOK" '{"path":"/providers"}'
check "a config moved to another host in the database: refused" is "$STATUS" 400
check "a config moved to another host: not the gateway's answer" jq_is 'has("providers")' false
check "a config moved to another host: nothing sent" is "$(cx_total)" "$before"

cx_del "$S_ID" "$S_TOK"
cx_del "$O_ID" "$O_TOK"
cx_del "$J_ID" "$J_TOK"
check "41: every connection made here is gone" \
    is "$(sql "select count(*) from connections where id in ('$S_ID','$O_ID','$J_ID')")" 0
unset -f refused_call refused_proxy refused_header tampered
cx_reset
