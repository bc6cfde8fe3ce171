# The input edges (issue 8 §7): bytes and numbers that must arrive as sent
# or be refused, never changed on the way.  Each case is a row of the
# "Input edges" table of docs/reliability.md.
. tests/e2e/connections.sh

# raw_get PORT TARGET [HEADER...]: a GET whose request target goes out
# byte for byte (curl would encode bytes 0x80-0xFF and cut a raw '#');
# HTTP/1.0, so the answer is not chunked.  Sets STATUS and BODY.
raw_get() {
	local port=$1 target=$2 h out
	shift 2
	exec 5<>"/dev/tcp/127.0.0.1/$port"
	{
		printf 'GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n' "$target"
		for h in "$@"; do printf '%s\r\n' "$h"; done
		printf '\r\n'
	} >&5
	out=$(cat <&5)
	exec 5<&-
	STATUS=$(printf '%s' "$out" | head -n1 | cut -d' ' -f2)
	BODY=${out#*$'\r\n\r\n'}
}

cx_reset
cx_grant
cx_create "{\"provider\":\"sandbox\",\"credentials\":{\"access_token\":\"$AT\",\"refresh_token\":\"$RT\"}}"
check "edges: a sandbox connection" is "$STATUS" 201
E_ID=$CID E_TOK=$CTOK

# -- /proxy queries: bytes 0x80-0xFF encoded, a raw '#' refused --
raw_get "$SB_GATEWAY_PORT" $'/proxy/echo?q=caf\xe9&x=1' "$(cx_auth "$E_TOK")"
check "proxy query with raw 0xE9: 200" is "$STATUS" 200
check "proxy query with raw 0xE9: sent percent-encoded" \
    is "$(jq -r .query <<<"$BODY")" "q=caf%E9&x=1"
hits=$(cx_hits /api/echo)
raw_get "$SB_GATEWAY_PORT" '/proxy/echo?q=a#b&x=1' "$(cx_auth "$E_TOK")"
check "proxy query with a raw '#': 400 invalid_call" \
    is "$STATUS $(jq -r .error.code <<<"$BODY")" "400 invalid_call"
check "proxy query with a raw '#': nothing sent" is "$(cx_hits /api/echo)" "$hits"
http GET "$GW/proxy/echo?q=a%23b" -H "$(cx_auth "$E_TOK")"
check "proxy query with an encoded '#': passed as sent" \
    is "$STATUS $(jq -r .query <<<"$BODY")" "200 q=a%23b"

# -- numbers: refused when they are no number, kept when they are --
cx_call "$E_ID" "$E_TOK" '{"path":"/echo","query":{"n":1e309}}'
check "call query 1e309: 400 invalid_call" \
    is "$STATUS $(jq -r .error.code <<<"$BODY")" "400 invalid_call"
check "call query 1e309: names the query and finite numbers" \
    jq_is '.error.message | test("query .n. .*finite")' true
cx_call "$E_ID" "$E_TOK" '{"path":"/echo","query":{"n":-1e400}}'
check "call query -1e400: 400" is "$STATUS" 400
big='{"n": 9007199254740993, "f": 0.1000000000000000055511151231257827, "e": 1e309}'
cx_call "$E_ID" "$E_TOK" "{\"method\":\"POST\",\"path\":\"/echo\",\"body\":$big}"
check "call body: sent byte for byte (no rounding past 2^53, no inf)" \
    is "$STATUS $(jq -r .body <<<"$BODY")" "200 $big"

# -- a provider body declared JSON that does not parse: 502 --
cx_fault /api/echo malformed
http GET "$GW/proxy/echo" -H "$(cx_auth "$E_TOK")"
check "proxy: malformed provider JSON: 502 upstream_malformed" \
    is "$STATUS $(jq -r .error.code <<<"$BODY")" "502 upstream_malformed"
check "proxy: malformed provider JSON: the upstream status is named" \
    jq_is '.error.message | test("200")' true

# -- JSON bodies: UTF-8, \u0000 at its offset, depth past the cap --
prefix='{"mapping":{"a":"caf'
cx_post "$GW/mappings" "$prefix"$'\xe9"}}'
check "mapping with invalid UTF-8: 400 invalid_json at its byte" \
    is "$STATUS $(jq -r '.error.code + " " + .error.message' <<<"$BODY")" \
    "400 invalid_json the body is not valid JSON (at byte ${#prefix})"
cx_post "$GW/mappings" "$prefix"$'\xc3\xa9"}}'
check "mapping with UTF-8 text: 201" is "$STATUS" 201
prefix='{"mapping":{"a":"x'
cx_post "$GW/mappings" "$prefix"'\u0000"}}'
check "\\u0000 reported at its own offset" \
    is "$STATUS $(jq -r .error.message <<<"$BODY")" \
    "400 the body is not valid JSON (at byte ${#prefix})"
deep=$(printf '%*s' 10000 '' | tr ' ' '[')$(printf '%*s' 10000 '' | tr ' ' ']')
cx_post "$GW/mappings" "$deep"
check "10000-deep JSON: 413 too_large, as the docs say" \
    is "$STATUS $(jq -r .error.code <<<"$BODY")" "413 too_large"
cx_post "$GW/mappings" "{\"mapping\":$(printf '%*s' 40 '' | tr ' ' '[')$(printf '%*s' 40 '' | tr ' ' ']')}"
check "40-deep JSON: 413 too_large" is "$STATUS" 413

# -- the events service: payloads byte for byte, dates that exist --
EB=(-H "Authorization: Bearer $SB_EVENTS_TOKEN" -H "$CX_JSON")
payload='{"projectId": 77001, "n": 9007199254740993,  "f": 1.10}'
http POST "$EV/events" "${EB[@]}" --data-binary \
    "{\"id\":\"edge-big-$RANDOM$RANDOM\",\"name\":\"edge.big\",\"payload\":$payload}"
check "event with a big integer: 201, answered as sent" \
    is "$STATUS $(grep -c -F "\"payload\":$payload" <<<"$BODY")" "201 1"
http GET "$EV/events?projectId=77001" "${EB[@]}"
check "event with a big integer: listed byte for byte" \
    is "$(grep -c -F "\"payload\":$payload" <<<"$BODY")" 1
http POST "$EV/events" "${EB[@]}" --data-binary \
    "[{\"id\":\"edge-b-$RANDOM$RANDOM\",\"name\":\"edge.big\",\"payload\":{\"projectId\":77002,\"n\":18446744073709551617}}]"
http GET "$EV/events?projectId=77002" "${EB[@]}"
check "a batch's payload: byte for byte" \
    is "$(grep -c -F '"payload":{"projectId":77002,"n":18446744073709551617}' <<<"$BODY")" 1
for d in 2026-13-45 2026-02-30 2026-00-01 2025-02-29 2026-01-01T24:00:00Z 2026-01-01T10:60:00Z; do
	http GET "$EV/events?since=$d" "${EB[@]}"
	check "since=$d (no such date or time): 400" is "$STATUS" 400
done
http GET "$EV/events?since=2024-02-29" "${EB[@]}"
check "since=2024-02-29 (a leap day): 200" is "$STATUS" 200

cx_del "$E_ID" "$E_TOK"
cx_reset
