# Okta's three auth schemes, chosen per connection by its credentials:
# SSWS (api_key), Bearer (access_token) and OAuth 2.0 client credentials
# with private_key_jwt (client_id, private_key, key_id).  The sandbox's
# token endpoint verifies client assertions fully (built here with the
# openssl CLI: a tampered, an expired, a replayed one ...), and a
# private_key_jwt connection asks it once for many calls.

. tests/e2e/connections.sh

OA_SCOPE='okta.users.read okta.users.manage'
OA_BEARER_TYPE='urn:ietf:params:oauth:client-assertion-type:jwt-bearer'
OA_DIR=$(mktemp -d)

# oa_tenant NAME [BODY]: makes the tenant; sets OA_BASE, OA_API, OA_CLIENT,
# OA_KID and OA_KEY (a file with the private key, if the sandbox made one).
oa_tenant() {
	http POST "$SBX/_sandbox/okta/$1" -H "$SBX_AUTH" -H "$CX_JSON" \
	    --data-binary "${2:-{\}}"
	OA_BASE=$(printf '%s' "$BODY" | jq -r .base_url)
	OA_API=$(printf '%s' "$BODY" | jq -r .api_token)
	OA_CLIENT=$(printf '%s' "$BODY" | jq -r .client_id)
	OA_KID=$(printf '%s' "$BODY" | jq -r .key_id)
	OA_KEY=$OA_DIR/$1.pem
	printf '%s' "$BODY" | jq -r '.private_key // empty' >"$OA_KEY"
}

b64url() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }

# jwt KEYFILE KID ISS AUD IAT EXP [JTI]: an RS256 client assertion.
jwt() {
	local h c s
	h=$(printf '{"alg":"RS256","typ":"JWT","kid":"%s"}' "$2" | b64url)
	c=$(jq -nc --arg iss "$3" --arg aud "$4" --argjson iat "$5" \
	    --argjson exp "$6" --arg jti "${7:-jti-$RANDOM$RANDOM$RANDOM}" \
	    '{iss: $iss, sub: $iss, aud: $aud, iat: $iat, exp: $exp, jti: $jti}' |
	    b64url)
	s=$(printf '%s.%s' "$h" "$c" | openssl dgst -sha256 -sign "$1" -binary |
	    b64url)
	printf '%s.%s.%s' "$h" "$c" "$s"
}

# token ASSERTION [curl args]: POST the tenant's token endpoint.
token() {
	local a=$1
	shift
	http POST "$OA_BASE/oauth2/v1/token" \
	    --data-urlencode grant_type=client_credentials \
	    --data-urlencode "scope=$OA_SCOPE" \
	    --data-urlencode "client_assertion_type=$OA_BEARER_TYPE" \
	    --data-urlencode "client_assertion=$a" "$@"
}

now=$(date +%s)

# -- the tenant's key pair --
oa_tenant authx
check "okta auth setup: 201" is "$STATUS" 201
check "okta auth setup: a key id" test -n "$OA_KID" -a "$OA_KID" != null
check "okta auth setup: a PEM private key" \
    grep -q -- '-----BEGIN PRIVATE KEY-----' "$OA_KEY"
check "okta auth setup: the private key is RSA" \
    sh -c "openssl pkey -in '$OA_KEY' -noout -text | grep -q 'Private-Key: (2048 bit'"
check "okta auth setup: the public key is registered" \
    is "$(sqlite3 "$SB_VAR_DIR/sandbox.db" "select key_id || ' ' || (public_key like '-----BEGIN PUBLIC KEY-----%') from okta_tenants where tenant = 'authx'")" "$OA_KID 1"
OA_AUD=$OA_BASE/oauth2/v1/token

# -- the token endpoint --
cx_reset
A=$(jwt "$OA_KEY" "$OA_KID" "$OA_CLIENT" "$OA_AUD" "$now" $((now + 120)))
token "$A"
check "token: a good assertion is 200" is "$STATUS" 200
check "token: Bearer" jq_is .token_type Bearer
check "token: an hour" jq_is .expires_in 3600
check "token: the scope asked" jq_is .scope "$OA_SCOPE"
OA_AT=$(printf '%s' "$BODY" | jq -r .access_token)
check "token: counted in the sandbox stats" \
    is "$(cx_hits /okta/authx/oauth2/v1/token)" 1
http GET "$OA_BASE/api/v1/users?limit=1" -H "Authorization: Bearer $OA_AT"
check "token: the access token opens the users API" is "$STATUS" 200
token "$A"
check "token: a replayed assertion (same jti) is 401" is "$STATUS" 401
check "token: replay is invalid_client" jq_is .error invalid_client

T=$(jwt "$OA_KEY" "$OA_KID" "$OA_CLIENT" "$OA_AUD" "$now" $((now + 120)))
other=$(jq -nc --arg c "$OA_CLIENT" --arg a "$OA_AUD" --argjson n "$now" \
    '{iss: "0oa_attacker", sub: "0oa_attacker", aud: $a, iat: $n, exp: ($n + 120), jti: "x1"}' | b64url)
token "$(printf '%s' "$T" | cut -d. -f1).$other.$(printf '%s' "$T" | cut -d. -f3)"
check "token: a tampered assertion is 401" is "$STATUS" 401
check "token: tampered: invalid_client" jq_is .error invalid_client
check "token: tampered: the signature is named" \
    jq_is '.error_description | test("signature")' true
check "token: Okta's OAuth body, not Switchboard's" \
    is "$(header Switchboard-Error)" ''
token "$(jwt "$OA_KEY" "$OA_KID" "$OA_CLIENT" "$OA_AUD" $((now - 400)) $((now - 100)))"
check "token: an expired assertion is 401" is "$STATUS" 401
check "token: expired: said so" jq_is '.error_description | test("expired")' true
token "$(jwt "$OA_KEY" "$OA_KID" "$OA_CLIENT" "$OA_AUD" "$now" $((now + 600)))"
check "token: an assertion alive over 5 minutes is 401" is "$STATUS" 401
token "$(jwt "$OA_KEY" "$OA_KID" "$OA_CLIENT" "$SBX/okta/other/oauth2/v1/token" "$now" $((now + 60)))"
check "token: another audience is 401" is "$STATUS" 401
check "token: audience: said so" jq_is '.error_description | test("audience")' true
token "$(jwt "$OA_KEY" kid-unknown "$OA_CLIENT" "$OA_AUD" "$now" $((now + 60)))"
check "token: an unknown kid is 401" is "$STATUS" 401
token "$(jwt "$OA_KEY" "$OA_KID" 0oa_someone "$OA_AUD" "$now" $((now + 60)))"
check "token: another client as iss and sub is 401" is "$STATUS" 401
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$OA_DIR/stranger.pem" 2>/dev/null
token "$(jwt "$OA_DIR/stranger.pem" "$OA_KID" "$OA_CLIENT" "$OA_AUD" "$now" $((now + 60)))"
check "token: signed by another key is 401" is "$STATUS" 401
http POST "$OA_AUD" --data-urlencode grant_type=password \
    --data-urlencode "scope=$OA_SCOPE" \
    --data-urlencode "client_assertion_type=$OA_BEARER_TYPE" \
    --data-urlencode "client_assertion=$(jwt "$OA_KEY" "$OA_KID" "$OA_CLIENT" "$OA_AUD" "$now" $((now + 60)))"
check "token: another grant type is 400" is "$STATUS" 400
check "token: unsupported_grant_type" jq_is .error unsupported_grant_type
http POST "$OA_AUD" --data-urlencode grant_type=client_credentials \
    --data-urlencode "scope=$OA_SCOPE" \
    --data-urlencode "client_assertion_type=urn:x" \
    --data-urlencode "client_assertion=$(jwt "$OA_KEY" "$OA_KID" "$OA_CLIENT" "$OA_AUD" "$now" $((now + 60)))"
check "token: another assertion type is 400" is "$STATUS" 400
http POST "$OA_AUD" --data-urlencode grant_type=client_credentials \
    --data-urlencode "scope=okta.apps.manage" \
    --data-urlencode "client_assertion_type=$OA_BEARER_TYPE" \
    --data-urlencode "client_assertion=$(jwt "$OA_KEY" "$OA_KID" "$OA_CLIENT" "$OA_AUD" "$now" $((now + 60)))"
check "token: a scope not granted is 400 invalid_scope" jq_is .error invalid_scope
http POST "$OA_AUD" --data-urlencode grant_type=client_credentials
check "token: no assertion is 401 invalid_client" jq_is .error invalid_client
token "not.a.jwt"
check "token: garbage is 401" is "$STATUS" 401
check "token: every token request counted (stats)" \
    test "$(cx_hits /okta/authx/oauth2/v1/token)" -ge 14

# -- a public key the caller registers --
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$OA_DIR/own.pem" 2>/dev/null
openssl pkey -in "$OA_DIR/own.pem" -pubout -out "$OA_DIR/own.pub" 2>/dev/null
oa_tenant authy "$(jq -nc --rawfile k "$OA_DIR/own.pub" '{public_key: $k, key_id: "own-1"}')"
check "own key: 201" is "$STATUS" 201
check "own key: its key id kept" is "$OA_KID" own-1
check "own key: no private key answered" jq_is '.private_key // "none"' none
token "$(jwt "$OA_DIR/own.pem" own-1 "$OA_CLIENT" "$OA_BASE/oauth2/v1/token" "$now" $((now + 60)))"
check "own key: its assertion is 200" is "$STATUS" 200
http POST "$SBX/_sandbox/okta/authz" -H "$SBX_AUTH" -H "$CX_JSON" \
    -d '{"public_key": "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"}'
check "own key: a bad public key is 400" is "$STATUS" 400

# -- three connections, one per scheme --
oa_tenant authx
cx_grant -H "$CX_JSON" -d "{\"client_id\": \"$OA_CLIENT\"}"
cfg="{\"base_url\": \"$OA_BASE\"}"
cx_create "{\"provider\":\"okta\",\"config\":$cfg,\"credentials\":{\"api_key\":\"$OA_API\"}}"
check "ssws connection: 201" is "$STATUS" 201
SSWS_ID=$CID SSWS_TOK=$CTOK
cx_create "{\"provider\":\"okta\",\"config\":$cfg,\"credentials\":{\"access_token\":\"$AT\"}}"
check "bearer connection: 201" is "$STATUS" 201
BEAR_ID=$CID BEAR_TOK=$CTOK
jwt_body=$(jq -nc --arg b "$OA_BASE" --arg c "$OA_CLIENT" --arg k "$OA_KID" \
    --rawfile p "$OA_KEY" \
    '{provider: "okta", config: {base_url: $b}, credentials: {client_id: $c, private_key: $p, key_id: $k}}')
cx_create "$jwt_body"
check "private_key_jwt connection: 201" is "$STATUS" 201
JWT_ID=$CID JWT_TOK=$CTOK

for c in "SSWS_ID SSWS_TOK api_key_header" "BEAR_ID BEAR_TOK bearer" \
    "JWT_ID JWT_TOK private_key_jwt"; do
	set -- $c
	http GET "$GW/connections/${!1}" -H "$(cx_auth "${!2}")"
	check "$3 connection: its scheme" jq_is .auth_scheme "$3"
	cx_call "${!1}" "${!2}" '{"path": "/api/v1/users", "query": {"limit": 2}}'
	check "$3 connection: GET /api/v1/users?limit=2 is 200" is "$STATUS" 200
	check "$3 connection: two users" jq_is 'length' 2
done
check "private_key_jwt connection: the key is sealed" \
    is "$(sql "select count(*) from connections where id = '$JWT_ID' and (instr(credentials, 'PRIVATE KEY') > 0 or instr(credentials, '$OA_CLIENT') > 0)")" 0

# -- swapped per connection: a PATCH of credentials changes the scheme --
http PATCH "$GW/connections/$SSWS_ID" -H "$(cx_auth "$SSWS_TOK")" -H "$CX_JSON" \
    --data-binary "$(printf '%s' "$jwt_body" | jq -c '{credentials}')"
check "swap: PATCH to private_key_jwt credentials is 200" is "$STATUS" 200
check "swap: the connection now uses private_key_jwt" \
    jq_is .auth_scheme private_key_jwt
cx_call "$SSWS_ID" "$SSWS_TOK" '{"path": "/api/v1/users", "query": {"limit": 1}}'
check "swap: its calls go through with the obtained token" is "$STATUS" 200
http PATCH "$GW/connections/$SSWS_ID" -H "$(cx_auth "$SSWS_TOK")" -H "$CX_JSON" \
    --data-binary "{\"credentials\": {\"api_key\": \"$OA_API\"}}"
check "swap: and back to SSWS" jq_is .auth_scheme api_key_header

# -- the cached access token: one token request for many calls --
cx_create "$jwt_body"
CACHE_ID=$CID CACHE_TOK=$CTOK
cx_reset
for i in 1 2 3 4 5; do
	cx_call "$CACHE_ID" "$CACHE_TOK" '{"path": "/api/v1/users", "query": {"limit": 1}}'
	[ "$STATUS" = 200 ] || break
done
check "cache: five calls are 200" is "$STATUS" 200
check "cache: five calls, one token request" \
    is "$(cx_hits /okta/authx/oauth2/v1/token)" 1
check "cache: five users requests" is "$(cx_hits /okta/authx/api/v1/users)" 5
http GET "$GW/connections/$CACHE_ID" -H "$(cx_auth "$CACHE_TOK")"
check "cache: the token's expiry is kept (about an hour)" \
    jq_is '.token_expires_at | fromdateiso8601 - now | . > 3000 and . <= 3600' true
cached=$(sqlite3 "$SB_VAR_DIR/sandbox.db" "select token from sandbox_tokens where client_id = '$OA_CLIENT' and grant_type = 'client_credentials' order by created_at desc limit 1")
check "cache: the access token is sealed, not stored in the clear" \
    is "$(sql "select count(*) from connections where instr(credentials, '$cached') > 0")" 0
check "cache: the access token never reaches the logs" \
    sh -c "! grep -rqF -- '$cached' '$SB_VAR_DIR/log'"
# Okta drops the token: a 401 renews it once, and the call goes through.
sqlite3 "$SB_VAR_DIR/sandbox.db" "update sandbox_tokens set valid = 0 where client_id = '$OA_CLIENT'"
cx_call "$CACHE_ID" "$CACHE_TOK" '{"path": "/api/v1/users", "query": {"limit": 1}}'
check "cache: a refused token is renewed and the call is 200" is "$STATUS" 200
check "cache: the renewal was one more token request" \
    is "$(cx_hits /okta/authx/oauth2/v1/token)" 2

# -- credentials choose the scheme: mixed, partial and bad ones are 400 --
cx_create "{\"provider\":\"okta\",\"config\":$cfg,\"credentials\":{\"api_key\":\"$OA_API\",\"access_token\":\"$AT\"}}"
check "mixed api_key + access_token: 400" is "$STATUS" 400
check "mixed: both fields named" \
    jq_is '.error.message | test("api_key") and test("access_token")' true
cx_create "{\"provider\":\"okta\",\"config\":$cfg,\"credentials\":{\"client_id\":\"$OA_CLIENT\",\"key_id\":\"$OA_KID\"}}"
check "private_key_jwt without private_key: 400" is "$STATUS" 400
check "missing private_key: named" jq_is '.error.message | test("private_key")' true
cx_create "{\"provider\":\"okta\",\"config\":$cfg,\"credentials\":{\"password\":\"x\"}}"
check "no scheme's credentials: 400" is "$STATUS" 400
check "no scheme: the schemes listed" \
    jq_is '.error.message | test("api_key") and test("private_key_jwt")' true
cx_create "$(printf '%s' "$jwt_body" | jq -c '.credentials.private_key = "-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n"')"
check "a private_key that is no RSA key: 400" is "$STATUS" 400
check "bad private_key: named, not quoted" \
    jq_is '.error.message | test("private_key") and (test("not a key") | not)' true
cx_create "$(printf '%s' "$jwt_body" | jq -c '.credentials.api_key = "'"$OA_API"'"')"
check "private_key_jwt mixed with api_key: 400" is "$STATUS" 400
check "no connection was stored by the refusals" \
    is "$(sql "select count(*) from connections where provider = 'okta'")" 4

# A private_key_jwt connection whose client the org does not know: the
# token endpoint refuses it and the call says so (no 500).
cx_create "$(printf '%s' "$jwt_body" | jq -c '.credentials.client_id = "0oa_unknown"')"
cx_call "$CID" "$CTOK" '{"path": "/api/v1/users", "query": {"limit": 1}}'
check "unknown client: the call is 502 token_refresh_failed" \
    is "$STATUS $(header Switchboard-Error)" "502 token_refresh_failed"
check "unknown client: the token endpoint's error named" \
    jq_is '.error.message | test("invalid_client")' true

rm -rf "$OA_DIR"
