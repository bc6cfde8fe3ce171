# The connection manager's routes on the gateway (brief 000): providers,
# creating, reading, changing and deleting connections, the connection
# guard, calls and the proxy through the sandbox's OAuth2 provider, and
# mappings.  Sandbox switches and counters are cleared at the start and at
# the end; every connection made here is deleted again, so nothing is left
# for `sbctl refresh` in later files.

# The helpers the connection files share (cx_*).
. tests/e2e/connections.sh

cx_conns() { sql "select count(*) from connections"; }
cx_maps() { sql "select count(*) from mappings"; }
# cx_sandbox_body [EXTRA]: a sandbox connection body for AT and RT; EXTRA
# is jq merged into the credentials.
cx_sandbox_body() {
	local extra=${1:-'{}'}
	jq -nc --arg at "$AT" --arg rt "$RT" "{provider: \"sandbox\",
	    credentials: ({access_token: \$at, refresh_token: \$rt} + $extra)}"
}

cx_reset
TAG=e2e40-$RANDOM$RANDOM

# -- providers --
http GET "$GW/providers"
check "providers: 200" is "$STATUS" 200
check "providers: github, hubspot, okta, jsonplaceholder, sandbox, sandbox-crm" \
    jq_is '[.providers[].name] as $n | ["github","hubspot","okta",
      "jsonplaceholder","sandbox","sandbox-crm"] | all(. as $x | $n | index($x) != null)' true
check "providers: each names its auth scheme" \
    jq_is '[.providers[] | select(.name == "okta")][0].auth_scheme' api_key_header
http GET "$GW/providers/sandbox"
check "provider sandbox: 200 oauth2" jq_is .auth_scheme oauth2
check "provider sandbox: lists its credential fields" \
    jq_is '.credentials.refresh_token.required' true
http GET "$GW/providers/no-such-provider"
check "unknown provider: 404" is "$STATUS" 404
check "unknown provider: JSON error" jq_is .error.code not_found

# -- POST /connections --
cx_grant
before=$(cx_conns)
cx_create "$(jq -nc --arg at "$AT" --arg rt "$RT" --arg tag "$TAG" \
    '{provider: "sandbox", credentials: {access_token: $at, refresh_token: $rt,
      client_id: "e2e40-client", client_secret: "e2e40-client-secret-XYZ",
      expires_in: 3600}, config: {}, metadata: {tag: $tag, n: 1}}')"
check "create: 201" is "$STATUS" 201
check "create: id cn_..." test "${CID#cn_}" != "$CID" -a -n "$CID"
check "create: the token names the connection" test "${CTOK%%.*}" = "$CID"
check "create: provider" jq_is .provider sandbox
check "create: created_at" jq_is '.created_at | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T")' true
check "create: exactly id, token, provider, created_at" \
    jq_is 'keys | sort | join(",")' created_at,id,provider,token
check "create: no-store" is "$(header Cache-Control)" no-store
check "create: one row more" is "$(cx_conns)" $((before + 1))
check "create: the row is the connection's" \
    is "$(sql "select provider from connections where id = '$CID'")" sandbox
A_ID=$CID A_TOK=$CTOK A_AT=$AT A_RT=$RT

# Bad input: 400 naming the problem, nothing stored.
# bad NAME BODY FILTER: 400, FILTER true on the body, no row added.
bad() {
	local n
	n=$(cx_conns)
	cx_create "$2"
	check "create refused ($1): 400" is "$STATUS" 400
	check "create refused ($1): names the problem" jq_is "$3" true
	check "create refused ($1): nothing stored" is "$(cx_conns)" "$n"
}
bad "unknown provider" \
    '{"provider":"nope","credentials":{"access_token":"x"}}' \
    '.error.code == "unknown_provider" and (.error.message | test("provider"))'
bad "no provider" '{"credentials":{"access_token":"x"}}' \
    '.error.message | test("provider")'
bad "no credentials" '{"provider":"sandbox"}' \
    '.error.message | test("credentials")'
bad "credentials not an object" \
    '{"provider":"sandbox","credentials":"sat_x"}' \
    '.error.message | test("credentials")'
bad "missing refresh_token" \
    '{"provider":"sandbox","credentials":{"access_token":"sat_x"}}' \
    '.error.message | test("refresh_token")'
bad "unknown credential field" \
    '{"provider":"sandbox","credentials":{"access_token":"a","refresh_token":"b","token":"c"}}' \
    '.error.message | test("token")'
bad "credential not a string" \
    '{"provider":"sandbox","credentials":{"access_token":123,"refresh_token":"b"}}' \
    '.error.message | test("access_token")'
bad "empty credential" \
    '{"provider":"sandbox","credentials":{"access_token":"","refresh_token":"b"}}' \
    '.error.message | test("access_token")'
bad "malformed github token" \
    '{"provider":"github","credentials":{"access_token":"not a token!"}}' \
    '.error.message | test("access_token")'
bad "okta without api_key" \
    '{"provider":"okta","credentials":{},"config":{"subdomain":"acme"}}' \
    '.error.message | test("api_key")'
OKTA_KEY=00e2e40OktaApiKeyAbcdefghij
bad "okta subdomain evil.com/x" \
    "{\"provider\":\"okta\",\"credentials\":{\"api_key\":\"$OKTA_KEY\"},\"config\":{\"subdomain\":\"evil.com/x\"}}" \
    '.error.message | test("subdomain")'
bad "okta subdomain evil.com" \
    "{\"provider\":\"okta\",\"credentials\":{\"api_key\":\"$OKTA_KEY\"},\"config\":{\"subdomain\":\"evil.com\"}}" \
    '.error.message | test("subdomain")'
bad "okta base_url of another host" \
    "{\"provider\":\"okta\",\"credentials\":{\"api_key\":\"$OKTA_KEY\"},\"config\":{\"base_url\":\"https://evil.com\"}}" \
    '.error.message | test("host|base")'
bad "okta base_url okta.com.evil.com" \
    "{\"provider\":\"okta\",\"credentials\":{\"api_key\":\"$OKTA_KEY\"},\"config\":{\"base_url\":\"https://acme.okta.com.evil.com\"}}" \
    '.error.message | test("host|base")'
bad "okta base_url with user info" \
    "{\"provider\":\"okta\",\"credentials\":{\"api_key\":\"$OKTA_KEY\"},\"config\":{\"base_url\":\"https://acme.okta.com@evil.com\"}}" \
    '.error.message | test("host|base")'
bad "okta base_url on loopback" \
    "{\"provider\":\"okta\",\"credentials\":{\"api_key\":\"$OKTA_KEY\"},\"config\":{\"base_url\":\"http://127.0.0.1:$SB_GATEWAY_PORT\"}}" \
    '.error.message | test("host|base")'
bad "jsonplaceholder base_url of another host" \
    '{"provider":"jsonplaceholder","credentials":{},"config":{"base_url":"https://evil.example"}}' \
    '.error.message | test("host|base")'
bad "jsonplaceholder file: base_url" \
    '{"provider":"jsonplaceholder","credentials":{},"config":{"base_url":"file:///etc/passwd"}}' \
    '.error.message | test("host|base")'
# A base URL is scheme, host, port and a clean path prefix, nothing else:
# on the sandbox's allowed host, none of these may reach /_sandbox/.
for u in "/jsonplaceholder/%2e%2e/_sandbox|percent" "/jsonplaceholder/../_sandbox|'..'" \
    "/jsonplaceholder/./x|'..'" "/jsonplaceholder?x=|query" "/jsonplaceholder#x|fragment" \
    "//jsonplaceholder|empty path segment" "/jsonplaceholder/|trailing"; do
	bad "jsonplaceholder base_url ${u%%|*}" \
	    "{\"provider\":\"jsonplaceholder\",\"credentials\":{},\"config\":{\"base_url\":\"http://127.0.0.1:$SB_SANDBOX_PORT${u%%|*}\"}}" \
	    ".error.message | test(\"base_url\") and test(\"${u#*|}\")"
done
bad "jsonplaceholder base_url with user info on the allowed host" \
    "{\"provider\":\"jsonplaceholder\",\"credentials\":{},\"config\":{\"base_url\":\"http://u:p@127.0.0.1:$SB_SANDBOX_PORT/jsonplaceholder\"}}" \
    '.error.message | test("user information")'
bad "config the provider does not use" \
    "$(jq -nc --arg at "$AT" --arg rt "$RT" '{provider: "sandbox",
      credentials: {access_token: $at, refresh_token: $rt},
      config: {base_url: "http://evil.example"}}')" \
    '.error.message | test("base_url")'
bad "metadata too large" \
    "$(jq -nc --arg at "$AT" --arg rt "$RT" --arg big "$(head -c 9000 /dev/zero | tr '\0' a)" \
      '{provider: "sandbox", credentials: {access_token: $at, refresh_token: $rt},
        metadata: {big: $big}}')" \
    '.error.message | test("metadata")'
n=$(cx_conns)
cx_post "$GW/connections" '{"provider":"sandbox","credentials":{'
check "create: malformed JSON: 400" is "$STATUS" 400
check "create: malformed JSON: invalid_json" jq_is .error.code invalid_json
check "create: malformed JSON: nothing stored" is "$(cx_conns)" "$n"

# Other providers' credential shapes are accepted.
cx_create "{\"provider\":\"okta\",\"credentials\":{\"api_key\":\"$OKTA_KEY\"},\"config\":{\"subdomain\":\"acme-$RANDOM\"}}"
check "create okta with a subdomain: 201" is "$STATUS" 201
OKTA_ID=$CID OKTA_TOK=$CTOK
cx_create '{"provider":"github","credentials":{"access_token":"ghp_e2e40aaaaaaaaaaaaaaaaaaaa"}}'
check "create github: 201" is "$STATUS" 201
cx_del "$CID" "$CTOK"
cx_create "{\"provider\":\"jsonplaceholder\",\"credentials\":{},\"config\":{\"base_url\":\"http://127.0.0.1:$SB_SANDBOX_PORT/jsonplaceholder\"}}"
check "create jsonplaceholder on an allowed host: 201" is "$STATUS" 201
cx_del "$CID" "$CTOK"

# An OAuth2 token response pasted whole (the sandbox's grant answer, with
# token_type): accepted at creation and in a PATCH, its expiry kept; a
# field foreign to it is still refused by name, and a provider of another
# scheme still refuses token_type (the unit tests check what is stored).
grant=$(curl -s -X POST "$SBX/oauth/grant" -d expires_in=600)
check "the sandbox grant is a token response with token_type" \
    test "$(printf '%s' "$grant" | jq -r .token_type)" = Bearer
cx_create "$(jq -nc --argjson g "$grant" '{provider: "sandbox", credentials: $g}')"
check "create from a raw token response: 201" is "$STATUS" 201
http GET "$GW/connections/$CID" -H "$(cx_auth "$CTOK")"
check "raw token response: expires_in became the expiry" \
    jq_is '.token_expires_at | fromdateiso8601 - now | . > 500 and . <= 600' true
cx_call "$CID" "$CTOK" '{"path": "/me"}'
check "raw token response: its access token calls the provider" is "$STATUS" 200
http PATCH "$GW/connections/$CID" -H "$(cx_auth "$CTOK")" -H "$CX_JSON" \
    --data-binary "{\"credentials\": $(curl -s -X POST "$SBX/oauth/grant")}"
check "PATCH with a raw token response: 200" is "$STATUS" 200
cx_call "$CID" "$CTOK" '{"path": "/me"}'
check "after the PATCH the new token calls the provider" is "$STATUS" 200
http PATCH "$GW/connections/$CID" -H "$(cx_auth "$CTOK")" -H "$CX_JSON" \
    --data-binary "$(jq -nc --argjson g "$grant" '{credentials: ($g + {foo: "x"})}')"
check "PATCH with a foreign field in a token response: 400 naming it" \
    jq_is '.error.message | test("field .foo. is not used by provider .sandbox.")' true
cx_del "$CID" "$CTOK"
bad "a token response with a foreign field" \
    "$(jq -nc --argjson g "$grant" '{provider: "sandbox", credentials: ($g + {foo: "x"})}')" \
    '.error.message | test("field .foo. is not used by provider .sandbox.")'
bad "token_type for a provider of another scheme" \
    '{"provider":"github","credentials":{"access_token":"ghp_e2e40aaaaaaaaaaaaaaaaaaaa","token_type":"bearer"}}' \
    '.error.message | test("field .token_type. is not used by provider .github.")'

# -- the guard: one 401 for every way of not holding the token --
cx_grant
B_AT=$AT B_RT=$RT
cx_create "$(cx_sandbox_body)"
B_ID=$CID B_TOK=$CTOK
check "second connection: 201" is "$STATUS" 201
UNKNOWN_ID=cn_00000000000000000000
A_BLOB=$(sql "select hex(credentials) from connections where id = '$A_ID'")
http GET "$GW/connections/$A_ID"
base="$STATUS $BODY"
check "guard: no token: 401" is "$STATUS" 401
check "guard: unauthorized" jq_is .error.code unauthorized
check "guard: WWW-Authenticate Bearer" is "$(header WWW-Authenticate)" Bearer
check "guard: the 401 names no connection" \
    test "${BODY#*$A_ID}" = "$BODY"
# same401 NAME METHOD URL [curl args]
same401() {
	local name=$1 method=$2 url=$3
	shift 3
	http "$method" "$url" "$@"
	check "guard: $name: the same 401" is "$STATUS $BODY" "$base"
}
for route in "GET $GW/connections/$A_ID" "PATCH $GW/connections/$A_ID" \
    "DELETE $GW/connections/$A_ID" "POST $GW/connections/$A_ID/call" \
    "GET $GW/proxy/me" "POST $GW/proxy/echo" "PUT $GW/proxy/echo" \
    "PATCH $GW/proxy/echo" "DELETE $GW/proxy/echo"; do
	set -- $route
	m=$1 u=$2
	hits=$(cx_total)
	d='{"path":"/me","credentials":{"access_token":"x","refresh_token":"y"}}'
	same401 "$m ${u#$GW} without a token" "$m" "$u" -H "$CX_JSON" -d "$d"
	same401 "$m ${u#$GW} with a wrong token" "$m" "$u" -H "$CX_JSON" -d "$d" \
	    -H "$(cx_auth "$A_ID.sbc_wrongwrongwrongwrongwrongwrongwrongwrong123")"
	same401 "$m ${u#$GW} with a garbage token" "$m" "$u" -H "$CX_JSON" -d "$d" \
	    -H "$(cx_auth garbage)"
	same401 "$m ${u#$GW} with the token as Basic" "$m" "$u" -H "$CX_JSON" -d "$d" \
	    -H "Authorization: Basic $A_TOK"
	same401 "$m ${u#$GW} with an unknown connection's token" "$m" "$u" \
	    -H "$CX_JSON" -d "$d" -H "$(cx_auth "$UNKNOWN_ID.${A_TOK#*.}")"
	case $u in
	*/connections/*)
		same401 "$m ${u#$GW} with another connection's token" "$m" "$u" \
		    -H "$CX_JSON" -d "$d" -H "$(cx_auth "$B_TOK")"
		same401 "$m unknown connection with a valid token" "$m" \
		    "${u/$A_ID/$UNKNOWN_ID}" -H "$CX_JSON" -d "$d" \
		    -H "$(cx_auth "$A_TOK")"
		same401 "$m non-id connection with a valid token" "$m" \
		    "${u/$A_ID/nope}" -H "$CX_JSON" -d "$d" \
		    -H "$(cx_auth "$A_TOK")"
		;;
	esac
	check "guard: $m ${u#$GW}: nothing reached the provider" is "$(cx_total)" "$hits"
done
check "guard: the connection is untouched" \
    is "$(sql "select count(*) from connections where id = '$A_ID'")" 1
http GET "$GW/connections/$A_ID" -H "$(cx_auth "$A_TOK")"
check "guard: the right token still works" is "$STATUS" 200
check "guard: refused PATCHes changed no credentials" \
    is "$(sql "select hex(credentials) from connections where id = '$A_ID'")" "$A_BLOB"

# -- GET /connections/{id} --
http GET "$GW/connections/$A_ID" -H "$(cx_auth "$A_TOK")"
check "get: 200" is "$STATUS" 200
check "get: id and provider" jq_is '.id + " " + .provider' "$A_ID sandbox"
check "get: metadata as given" jq_is ".metadata == {\"tag\": \"$TAG\", \"n\": 1}" true
check "get: config" jq_is '.config == {}' true
now=$(date +%s)
check "get: token expiry from expires_in (about an hour)" \
    jq_is "(.token_expires_at | fromdateiso8601) as \$t |
      \$t >= $now + 3500 and \$t <= $now + 3700" true
check "get: needs_reauthorization false" jq_is .needs_reauthorization false
check "get: no refresh yet" jq_is '.last_refresh.result == null and .last_refresh.at == null' true
for secret in "$A_AT" "$A_RT" e2e40-client-secret-XYZ "$A_TOK" "${A_TOK#*.}"; do
	check "get: no credential value in the body (${secret:0:8}...)" \
	    test "${BODY#*"$secret"}" = "$BODY"
done
check "get: no credentials member" jq_is 'has("credentials")' false

# -- calls --
cx_reset
cx_call "$A_ID" "$A_TOK" '{"method":"PUT","path":"/echo","query":{"q":"a b&c","n":[1,2],"t":true},"headers":{"X-Trace":"t-40"},"body":{"hello":"world"}}'
check "call: 200" is "$STATUS" 200
check "call: the provider's content type" is "$(header Content-Type)" application/json
check "call: method" jq_is .method PUT
check "call: path under the provider's base" jq_is .path /api/echo
check "call: query encoded" jq_is .query 'q=a%20b%26c&n=1&n=2&t=true'
check "call: query decoded as sent" jq_is .args.q 'a b&c'
check "call: auth injected as Bearer <access_token>" \
    jq_is .headers.authorization "Bearer $A_AT"
check "call: caller header passed" jq_is '.headers["x-trace"]' t-40
check "call: JSON body" jq_is .body '{"hello":"world"}'
check "call: JSON content type" jq_is '.headers["content-type"]' application/json
check "call: the sandbox saw one request" is "$(cx_hits /api/echo)" 1
cx_call "$A_ID" "$A_TOK" '{"method":"POST","path":"/echo","headers":{"Content-Type":"text/plain"},"body":"raw text body"}'
check "call: a string body is sent as is" jq_is .body 'raw text body'
check "call: with the caller's content type" jq_is '.headers["content-type"]' text/plain
cx_call "$A_ID" "$A_TOK" '{"path":"/echo"}'
check "call: GET by default" jq_is .method GET
for m in DELETE PATCH; do
	cx_call "$A_ID" "$A_TOK" "{\"method\":\"$m\",\"path\":\"/echo\"}"
	check "call: $m" jq_is .method "$m"
done
cx_call "$A_ID" "$A_TOK" '{"path":"/me"}'
check "call /me: 200" is "$STATUS" 200
direct=$(curl -s -H "$(cx_auth "$A_AT")" "$SBX/api/me")
check "call /me: the body as it came" is "$BODY" "$direct"
cx_call "$A_ID" "$A_TOK" '{"path":"/no/such/thing"}'
check "call: the provider's 404 comes back" is "$STATUS" 404
direct=$(curl -s -H "$(cx_auth "$A_AT")" "$SBX/api/no/such/thing")
check "call: the provider's 404 body as it came" is "$BODY" "$direct"
# A read is retried on a 5xx (docs/throttling-and-retries.md): a 500 on
# every attempt comes back as it came.
curl -s -o /dev/null -X POST "$SBX/_sandbox/faults" -H "$SBX_AUTH" -H "$CX_JSON" \
    -d "{\"path\":\"/api/me\",\"kind\":\"status\",\"count\":${SB_HTTP_MAX_ATTEMPTS:-3},\"arg\":500}"
cx_call "$A_ID" "$A_TOK" '{"path":"/me"}'
check "call: the provider's 500 comes back" is "$STATUS" 500
check "call: with the provider's body" jq_is .error.code injected
curl -s -o /dev/null -X POST "$SBX/_sandbox/faults" -H "$SBX_AUTH" -H "$CX_JSON" \
    -d '{"path":"/api/me","kind":"malformed"}'
cx_call "$A_ID" "$A_TOK" '{"path":"/me"}'
check "call: a body declared JSON that does not parse: 502 upstream_malformed" \
    is "$STATUS $(jq -r .error.code <<<"$BODY")" "502 upstream_malformed"
hits=$(cx_total)
cx_call "$A_ID" "$A_TOK" '{"method":"TRACE","path":"/me"}'
check "call: unknown method: 400" is "$STATUS" 400
cx_call "$A_ID" "$A_TOK" '{"method":"GET"}'
check "call: no path: 400" is "$STATUS" 400
check "call: no path: names it" jq_is '.error.message | test("path")' true
cx_call "$A_ID" "$A_TOK" '{"path":"/me","query":{"a":{"b":1}}}'
check "call: a nested query value: 400" is "$STATUS" 400
cx_call "$A_ID" "$A_TOK" '{"path":"/me","mapping":"mp_00000000000000000000"}'
check "call: unknown mapping: 400" is "$STATUS" 400
check "call: unknown mapping: unknown_mapping" jq_is .error.code unknown_mapping
check "call: refused calls reach nothing" is "$(cx_total)" "$hits"

# -- the proxy --
http GET "$GW/proxy/echo?a=1&b=x%20y" -H "$(cx_auth "$A_TOK")" -H 'Accept: application/json'
check "proxy GET: 200" is "$STATUS" 200
check "proxy GET: method" jq_is .method GET
check "proxy GET: path" jq_is .path /api/echo
check "proxy GET: query passed as sent" jq_is .query 'a=1&b=x%20y'
check "proxy GET: auth injected, the connection token not passed" \
    jq_is .headers.authorization "Bearer $A_AT"
check "proxy GET: Accept passed" jq_is .headers.accept application/json
http POST "$GW/proxy/echo?x=1" -H "$(cx_auth "$A_TOK")" -H 'Content-Type: text/plain' \
    --data-binary 'proxied body'
check "proxy POST: method" jq_is .method POST
check "proxy POST: body" jq_is .body 'proxied body'
check "proxy POST: content type" jq_is '.headers["content-type"]' text/plain
check "proxy POST: query" jq_is .query x=1
for m in PUT PATCH DELETE; do
	http "$m" "$GW/proxy/echo" -H "$(cx_auth "$A_TOK")" -H "$CX_JSON" \
	    --data-binary "{\"m\":\"$m\"}"
	check "proxy $m: method" jq_is .method "$m"
	check "proxy $m: body" jq_is .body "{\"m\":\"$m\"}"
done
http GET "$GW/proxy/me" -H "$(cx_auth "$A_TOK")"
check "proxy /me: the provider's answer" jq_is .firstName Ada
http GET "$GW/proxy/no/such/thing" -H "$(cx_auth "$A_TOK")"
check "proxy: the provider's 404 comes back" is "$STATUS" 404

# -- PATCH /connections/{id} --
cx_grant
NEW_AT=$AT NEW_RT=$RT
blob=$(sql "select hex(credentials) from connections where id = '$A_ID'")
http PATCH "$GW/connections/$A_ID" -H "$(cx_auth "$A_TOK")" -H "$CX_JSON" \
    -d '{"credentials":{"access_token":"sat_only"}}'
check "patch: incomplete credentials: 400" is "$STATUS" 400
check "patch: incomplete credentials: names the field" jq_is '.error.message | test("refresh_token")' true
check "patch: refused: the sealed credentials are unchanged" \
    is "$(sql "select hex(credentials) from connections where id = '$A_ID'")" "$blob"
http PATCH "$GW/connections/$A_ID" -H "$(cx_auth "$A_TOK")" -H "$CX_JSON" -d '{}'
check "patch: nothing to change: 400" is "$STATUS" 400
http PATCH "$GW/connections/$A_ID" -H "$(cx_auth "$A_TOK")" -H "$CX_JSON" \
    -d "$(jq -nc --arg at "$NEW_AT" --arg rt "$NEW_RT" '{credentials: {access_token: $at, refresh_token: $rt}}')"
check "patch credentials: 200" is "$STATUS" 200
check "patch credentials: the public view" jq_is .id "$A_ID"
check "patch credentials: no credential in the answer" \
    test "${BODY#*"$NEW_AT"}" = "$BODY" -a "${BODY#*"$NEW_RT"}" = "$BODY"
check "patch credentials: no expiry given, none shown" jq_is .token_expires_at null
check "patch credentials: metadata kept" jq_is .metadata.tag "$TAG"
check "patch credentials: sealed anew" \
    test "$(sql "select hex(credentials) from connections where id = '$A_ID'")" != "$blob"
cx_call "$A_ID" "$A_TOK" '{"path":"/echo"}'
check "patch credentials: calls use the new access token" \
    jq_is .headers.authorization "Bearer $NEW_AT"

http PATCH "$GW/connections/$OKTA_ID" -H "$(cx_auth "$OKTA_TOK")" -H "$CX_JSON" \
    -d '{"config":{"subdomain":"other-e2e40"}}'
check "patch config: 200" is "$STATUS" 200
check "patch config: replaced" jq_is .config.subdomain other-e2e40
http PATCH "$GW/connections/$OKTA_ID" -H "$(cx_auth "$OKTA_TOK")" -H "$CX_JSON" \
    -d '{"config":{"subdomain":"evil.com/x"}}'
check "patch config outside the provider's hosts: 400" is "$STATUS" 400
check "patch config outside the provider's hosts: names the field" \
    jq_is '.error.message | test("subdomain")' true
http PATCH "$GW/connections/$OKTA_ID" -H "$(cx_auth "$OKTA_TOK")" -H "$CX_JSON" \
    -d '{"config":{"base_url":"https://evil.com"}}'
check "patch config base_url of another host: 400" is "$STATUS" 400
check "patch config refused: config unchanged in the database" \
    is "$(sql "select json_extract(config, '\$.subdomain') || '|' || coalesce(json_extract(config, '\$.base_url'), '') from connections where id = '$OKTA_ID'")" 'other-e2e40|'
http GET "$GW/connections/$OKTA_ID" -H "$(cx_auth "$OKTA_TOK")"
check "patch config refused: GET shows the old config" jq_is '.config == {"subdomain": "other-e2e40"}' true
check "okta: the api key is not shown" test "${BODY#*$OKTA_KEY}" = "$BODY"

# -- mappings --
cx_reset
m0=$(cx_maps)
cx_post "$GW/mappings" '{"mapping":{"first_name":"firstName","email":"emails[0].email","city":"address.city","lat":"address.geo.lat","nickname":"profile.nickname"}}'
check "mapping: 201" is "$STATUS" 201
check "mapping: id" jq_is '.id | test("^mp_")' true
MAP=$(printf '%s' "$BODY" | jq -r .id)
check "mapping: stored" is "$(cx_maps)" $((m0 + 1))
http GET "$GW/mappings/$MAP"
check "mapping get: 200" is "$STATUS" 200
check "mapping get: the mapping" \
    jq_is '.mapping == {"first_name":"firstName","email":"emails[0].email","city":"address.city","lat":"address.geo.lat","nickname":"profile.nickname"}' true
check "mapping get: the id" jq_is .id "$MAP"
cx_call "$A_ID" "$A_TOK" "{\"path\":\"/me\",\"mapping\":\"$MAP\"}"
check "call /me mapped: 200" is "$STATUS" 200
check "call /me mapped: the mapped object, missing source null" \
    jq_is '. == {"first_name":"Ada","email":"ada@example.com","city":"London","lat":51.5,"nickname":null}' true
cx_call "$A_ID" "$A_TOK" "{\"path\":\"/users\",\"mapping\":\"$MAP\"}"
check "call /users mapped: 200" is "$STATUS" 200
want=$(curl -s -H "$(cx_auth "$NEW_AT")" "$SBX/api/users" | jq -cS '[.[] |
    {first_name: .firstName, email: .emails[0].email, city: .address.city,
     lat: .address.geo.lat, nickname: null}]')
check "call /users mapped: an array of mapped objects" \
    is "$(printf '%s' "$BODY" | jq -cS .)" "$want"
check "call /users mapped: three of them" jq_is length 3
http GET "$GW/proxy/me" -H "$(cx_auth "$A_TOK")"
check "proxy: no mapping, the raw answer" jq_is .firstName Ada
cx_call "$A_ID" "$A_TOK" "{\"path\":\"/no/such/thing\",\"mapping\":\"$MAP\"}"
check "call mapped, provider 404: the error as it came" \
    is "$STATUS $(printf '%s' "$BODY" | jq -r .error.code)" "404 $(curl -s -H "$(cx_auth "$NEW_AT")" "$SBX/api/no/such/thing" | jq -r .error.code)"

cx_post "$GW/mappings" '{"mapping":{"address":"email"},"root":"emails"}'
check "mapping with root: 201" is "$STATUS" 201
ROOTMAP=$(printf '%s' "$BODY" | jq -r .id)
http GET "$GW/mappings/$ROOTMAP"
check "mapping get: the root" jq_is .root emails
cx_call "$A_ID" "$A_TOK" "{\"path\":\"/me\",\"mapping\":\"$ROOTMAP\"}"
check "call mapped with root: the records under the root" \
    jq_is '. == [{"address":"ada@example.com"},{"address":"ada@work.example"}]' true
cx_post "$GW/mappings" '{"mapping":{"x":"a"},"root":"no.such.root"}'
NOROOT=$(printf '%s' "$BODY" | jq -r .id)
cx_call "$A_ID" "$A_TOK" "{\"path\":\"/me\",\"mapping\":\"$NOROOT\"}"
check "call mapped with a root leading nowhere: no records" jq_is '. == []' true

# badmap NAME BODY FILTER: 400 invalid, FILTER true, nothing stored.
badmap() {
	local n
	n=$(cx_maps)
	cx_post "$GW/mappings" "$2"
	check "mapping refused ($1): 400" is "$STATUS" 400
	check "mapping refused ($1): says why" jq_is "$3" true
	check "mapping refused ($1): nothing stored" is "$(cx_maps)" "$n"
}
badmap "unclosed index" '{"mapping":{"first_name":"firstName","email":"emails[0.email"}}' \
    '.error.code == "invalid_mapping" and (.error.message | test("email") and test("position 9"))'
badmap "trailing dot" '{"mapping":{"a":"address."}}' \
    '.error.message | test("position 9")'
badmap "bad root" '{"mapping":{"a":"b"},"root":"a..b"}' \
    '.error.message | test("root") and test("position 3")'
badmap "source not a string" '{"mapping":{"a":5}}' '.error.message | test("a")'
badmap "no fields" '{"mapping":{}}' '.error.message | test("field")'
badmap "mapping not an object" '{"mapping":"firstName"}' '.error.message | test("mapping")'
badmap "no mapping" '{"root":"x"}' '.error.message | test("mapping")'

http DELETE "$GW/mappings/$MAP"
check "mapping delete: 204" is "$STATUS" 204
check "mapping delete: empty body" is "$BODY" ""
check "mapping delete: row gone" is "$(sql "select count(*) from mappings where id = '$MAP'")" 0
http GET "$GW/mappings/$MAP"
check "mapping get after delete: 404" is "$STATUS" 404
check "mapping get after delete: JSON" jq_is .error.code not_found
http DELETE "$GW/mappings/$MAP"
check "mapping delete again: 404" is "$STATUS" 404
hits=$(cx_total)
cx_call "$A_ID" "$A_TOK" "{\"path\":\"/me\",\"mapping\":\"$MAP\"}"
check "call with a deleted mapping: 400 unknown_mapping" \
    is "$STATUS $(printf '%s' "$BODY" | jq -r .error.code)" "400 unknown_mapping"
check "call with a deleted mapping: nothing sent" is "$(cx_total)" "$hits"
http DELETE "$GW/mappings/$ROOTMAP"
http DELETE "$GW/mappings/$NOROOT"

# -- DELETE /connections/{id} --
n=$(cx_conns)
http DELETE "$GW/connections/$A_ID" -H "$(cx_auth "$B_TOK")"
check "delete with another connection's token: 401" is "$STATUS $BODY" "$base"
check "delete with another connection's token: nothing deleted" is "$(cx_conns)" "$n"
http DELETE "$GW/connections/$A_ID" -H "$(cx_auth "$A_TOK")"
check "delete: 204" is "$STATUS" 204
check "delete: empty body" is "$BODY" ""
check "delete: one row less" is "$(cx_conns)" $((n - 1))
check "delete: the row and its sealed credentials are gone" \
    is "$(sql "select count(*) from connections where id = '$A_ID'")" 0
check "delete: the id is nowhere in the database" \
    is "$(sqlite3 "$SB_VAR_DIR/switchboard.db" .dump | grep -c "$A_ID")" 0
same401 "GET after delete" GET "$GW/connections/$A_ID" -H "$(cx_auth "$A_TOK")"
same401 "PATCH after delete" PATCH "$GW/connections/$A_ID" -H "$(cx_auth "$A_TOK")" \
    -H "$CX_JSON" -d '{"config":{}}'
same401 "call after delete" POST "$GW/connections/$A_ID/call" -H "$(cx_auth "$A_TOK")" \
    -H "$CX_JSON" -d '{"path":"/me"}'
same401 "proxy after delete" GET "$GW/proxy/me" -H "$(cx_auth "$A_TOK")"
same401 "DELETE after delete" DELETE "$GW/connections/$A_ID" -H "$(cx_auth "$A_TOK")"
http GET "$GW/connections/$B_ID" -H "$(cx_auth "$B_TOK")"
check "delete: other connections live on" is "$STATUS" 200

cx_del "$B_ID" "$B_TOK"
cx_del "$OKTA_ID" "$OKTA_TOK"
check "40: every connection made here is gone" \
    is "$(sql "select count(*) from connections where id in ('$A_ID','$B_ID','$OKTA_ID')")" 0
unset -f bad badmap same401
cx_reset
