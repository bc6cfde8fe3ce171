# The token lifecycle of OAuth2 connections, against the sandbox's OAuth2
# provider: `sbctl refresh` (tokens expiring within 15 minutes, or stale),
# keeping the refresh token when the provider returns none, recording the
# outcome, refresh before a call with an expired token, refresh-and-retry
# once on a 401, single-flight refreshes across processes, and
# re-authorisation after repeated failures.  Each scenario deletes its
# connections, so `sbctl refresh` only ever finds the ones under test.

# The helpers the connection files share (cx_*).
. tests/e2e/connections.sh

# tl_create AT RT [EXTRA-JSON]: a sandbox connection; CID, CTOK.
tl_create() {
	local extra=${3:-'{}'}
	cx_post "$GW/connections" "$(jq -nc --arg at "$1" --arg rt "$2" \
	    "{provider: \"sandbox\", credentials: ({access_token: \$at,
	      refresh_token: \$rt} + $extra)}")"
	CID=$(printf '%s' "$BODY" | jq -r '.id // empty' 2>/dev/null)
	CTOK=$(printf '%s' "$BODY" | jq -r '.token // empty' 2>/dev/null)
}
# tl_sbctl [VAR=value...]: `sbctl refresh` in the stack's environment;
# its report line in SBCTL_OUT.
tl_sbctl() {
	SBCTL_OUT=$( (set -a; . "$SB_VAR_DIR/run/env"; set +a
	    [ $# -gt 0 ] && export "$@"
	    "$SB_BIN_DIR/sbctl" refresh) 2>>"$SB_VAR_DIR/log/e2e-sbctl.log")
}
# tl_get ID TOKEN: GET /connections/ID.
tl_get() { http GET "$GW/connections/$1" -H "$(cx_auth "$2")"; }
# The access token a call through ID presents to the provider.
tl_presented() {
	curl -s -X POST "$GW/connections/$1/call" -H "$(cx_auth "$2")" \
	    -H "$CX_JSON" -d '{"path":"/echo"}' | jq -r '.headers.authorization // empty'
}
sbx_valid() { sqlite3 -batch -noheader "$SB_VAR_DIR/sandbox.db" \
    "select valid from sandbox_tokens where token = '$1'"; }

cx_reset

# -- sbctl refresh: due within 15 minutes, or stale --
cx_grant -d expires_in=600
DUE_AT=$AT DUE_RT=$RT
tl_create "$AT" "$RT" '{expires_in: 600}'
check "refresh: a connection expiring in 10 minutes" is "$STATUS" 201
DUE_ID=$CID DUE_TOK=$CTOK
cx_grant -d expires_in=7200
LONG_AT=$AT LONG_RT=$RT
tl_create "$AT" "$RT" '{expires_in: 7200}'
LONG_ID=$CID LONG_TOK=$CTOK
cx_grant
NOEXP_AT=$AT
tl_create "$AT" "$RT"
NOEXP_ID=$CID NOEXP_TOK=$CTOK
cx_reset
tl_sbctl
check "sbctl refresh: one refreshed, none failed" \
    is "$SBCTL_OUT" "refresh: 1 connection(s) refreshed, 0 failed"
check "sbctl refresh: one request to the token endpoint" is "$(cx_hits /oauth/token)" 1
check "sbctl refresh: nothing else asked" is "$(cx_total)" 1
tl_get "$DUE_ID" "$DUE_TOK"
check "refreshed: last_refresh ok" jq_is .last_refresh.result ok
check "refreshed: last_refresh at" jq_is '.last_refresh.at | fromdateiso8601 >= now - 60' true
check "refreshed: no failures" jq_is .last_refresh.consecutive_failures 0
check "refreshed: the new expiry (about 10 minutes)" \
    jq_is "(.token_expires_at | fromdateiso8601) >= $(date +%s) + 500" true
check "refreshed: no credential in the answer" \
    test "${BODY#*"$DUE_RT"}" = "$BODY" -a "${BODY#*"$DUE_AT"}" = "$BODY"
NEW_DUE_AT=$(tl_presented "$DUE_ID" "$DUE_TOK")
check "refreshed: calls present a new access token" \
    test -n "$NEW_DUE_AT" -a "$NEW_DUE_AT" != "Bearer $DUE_AT"
check "refreshed: the new token is one the sandbox issued" \
    is "$(sbx_valid "${NEW_DUE_AT#Bearer }")" 1
check "refreshed: the old refresh token was rotated away" is "$(sbx_valid "$DUE_RT")" 0
dump=$(sqlite3 "$SB_VAR_DIR/switchboard.db" .dump)
check "refreshed: the new access token is not in the database in the clear" \
    test "${dump#*"${NEW_DUE_AT#Bearer }"}" = "$dump"
tl_get "$LONG_ID" "$LONG_TOK"
check "long-lived token: not refreshed" jq_is .last_refresh.result null
check "long-lived token: still presented" \
    is "$(tl_presented "$LONG_ID" "$LONG_TOK")" "Bearer $LONG_AT"
tl_get "$NOEXP_ID" "$NOEXP_TOK"
check "token without expiry, recently made: not refreshed" jq_is .last_refresh.result null
# A connection not refreshed for more than a day is stale: refreshed even
# though its token does not expire soon.
cx_del "$DUE_ID" "$DUE_TOK"
sql "update connections set created_at = '2020-01-01T00:00:00.000Z' where id = '$LONG_ID'"
cx_reset
tl_sbctl
check "stale connection: refreshed by sbctl" \
    is "$SBCTL_OUT" "refresh: 1 connection(s) refreshed, 0 failed"
tl_get "$LONG_ID" "$LONG_TOK"
check "stale connection: last_refresh ok" jq_is .last_refresh.result ok
check "stale connection: a new token" \
    test "$(tl_presented "$LONG_ID" "$LONG_TOK")" != "Bearer $LONG_AT"
tl_get "$NOEXP_ID" "$NOEXP_TOK"
check "fresh connection without expiry: still not refreshed" jq_is .last_refresh.result null
cx_reset
tl_sbctl
check "sbctl refresh: nothing due, nothing asked" \
    is "$SBCTL_OUT $(cx_hits /oauth/token)" "refresh: 0 connection(s) refreshed, 0 failed 0"
cx_del "$LONG_ID" "$LONG_TOK"
cx_del "$NOEXP_ID" "$NOEXP_TOK"

# -- a provider that returns no refresh token: the old one is kept --
cx_grant -d expires_in=600
NR_RT=$RT
tl_create "$AT" "$RT" '{expires_in: 600}'
NR_ID=$CID NR_TOK=$CTOK
cx_reset
cx_fault /oauth/token no_refresh_token
tl_sbctl
check "no refresh token in the answer: the refresh succeeds" \
    is "$SBCTL_OUT" "refresh: 1 connection(s) refreshed, 0 failed"
tl_get "$NR_ID" "$NR_TOK"
check "no refresh token in the answer: last_refresh ok" jq_is .last_refresh.result ok
check "no refresh token in the answer: the old one still stands at the provider" \
    is "$(sbx_valid "$NR_RT")" 1
tl_sbctl
check "the kept refresh token refreshes again" \
    is "$SBCTL_OUT" "refresh: 1 connection(s) refreshed, 0 failed"
check "the kept refresh token was the one used (now rotated)" is "$(sbx_valid "$NR_RT")" 0
check "two refreshes, two token requests" is "$(cx_hits /oauth/token)" 2
tl_get "$NR_ID" "$NR_TOK"
check "after the second refresh: ok" jq_is .last_refresh.result ok
cx_del "$NR_ID" "$NR_TOK"

# -- the provider's error is recorded; three failures need re-authorisation --
cx_grant -d expires_in=600
FAIL_AT=$AT
tl_create "$AT" srt_e2e42_not_a_real_refresh_token '{expires_in: 600}'
FAIL_ID=$CID FAIL_TOK=$CTOK
cx_reset
tl_sbctl
check "bad refresh token: sbctl counts a failure" \
    is "$SBCTL_OUT" "refresh: 0 connection(s) refreshed, 1 failed"
tl_get "$FAIL_ID" "$FAIL_TOK"
check "bad refresh token: last_refresh failed" jq_is .last_refresh.result failed
check "bad refresh token: the provider's error is recorded" \
    jq_is '.last_refresh.error | test("400") and test("invalid_grant")' true
check "bad refresh token: the error holds no token" \
    jq_is '.last_refresh.error | test("srt_|sat_") | not' true
check "bad refresh token: one failure" jq_is .last_refresh.consecutive_failures 1
check "bad refresh token: not yet re-authorisation" jq_is .needs_reauthorization false
cx_call "$FAIL_ID" "$FAIL_TOK" '{"path":"/me"}'
check "one failure: the still-valid access token keeps working" is "$STATUS" 200
tl_sbctl
tl_get "$FAIL_ID" "$FAIL_TOK"
check "two failures: counted" jq_is .last_refresh.consecutive_failures 2
check "two failures: not yet re-authorisation" jq_is .needs_reauthorization false
tl_sbctl
tl_get "$FAIL_ID" "$FAIL_TOK"
check "three failures: GET still answers" is "$STATUS" 200
check "three failures: needs_reauthorization" jq_is .needs_reauthorization true
check "three failures: counted" jq_is .last_refresh.consecutive_failures 3
check "three failures: three token requests" is "$(cx_hits /oauth/token)" 3
check "three failures: stored" \
    is "$(sql "select needs_reauth from connections where id = '$FAIL_ID'")" 1
before=$(cx_total)
cx_call "$FAIL_ID" "$FAIL_TOK" '{"path":"/me"}'
check "needs re-authorisation: call 409" is "$STATUS" 409
check "needs re-authorisation: reauthorization_required" \
    jq_is .error.code reauthorization_required
http GET "$GW/proxy/me" -H "$(cx_auth "$FAIL_TOK")"
check "needs re-authorisation: proxy 409" \
    is "$STATUS $(printf '%s' "$BODY" | jq -r .error.code)" "409 reauthorization_required"
check "needs re-authorisation: the provider sees no request" is "$(cx_total)" "$before"
tl_sbctl
check "needs re-authorisation: sbctl leaves it alone" \
    is "$SBCTL_OUT $(cx_total)" "refresh: 0 connection(s) refreshed, 0 failed $before"
cx_grant -d expires_in=3600
FIX_AT=$AT
http PATCH "$GW/connections/$FAIL_ID" -H "$(cx_auth "$FAIL_TOK")" -H "$CX_JSON" \
    -d "$(jq -nc --arg at "$AT" --arg rt "$RT" '{credentials: {access_token: $at, refresh_token: $rt, expires_in: 3600}}')"
check "new credentials: 200" is "$STATUS" 200
check "new credentials: re-authorisation cleared" jq_is .needs_reauthorization false
check "new credentials: failures cleared" jq_is .last_refresh.consecutive_failures 0
check "new credentials: cleared in the database" \
    is "$(sql "select needs_reauth || ',' || refresh_failures from connections where id = '$FAIL_ID'")" 0,0
cx_call "$FAIL_ID" "$FAIL_TOK" '{"path":"/echo"}'
check "new credentials: calls work again" is "$STATUS" 200
check "new credentials: with the new token" jq_is .headers.authorization "Bearer $FIX_AT"
cx_del "$FAIL_ID" "$FAIL_TOK"

# -- an unreachable token endpoint is recorded too --
cx_grant -d expires_in=600
tl_create "$AT" "$RT" '{expires_in: 600}'
UN_ID=$CID UN_TOK=$CTOK
closed=1
for p in 9 19 29 39; do
	(exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { closed=$p; break; }
done
tl_sbctl SB_SANDBOX_PORT=$closed SB_ALLOWED_HOSTS=127.0.0.1:$closed
check "unreachable token endpoint: a failure" \
    is "$SBCTL_OUT" "refresh: 0 connection(s) refreshed, 1 failed"
tl_get "$UN_ID" "$UN_TOK"
check "unreachable token endpoint: recorded" \
    jq_is '.last_refresh.result == "failed" and (.last_refresh.error | test("token endpoint"))' true
tl_sbctl
tl_get "$UN_ID" "$UN_TOK"
check "reachable again: the next refresh succeeds" jq_is .last_refresh.result ok
check "reachable again: failures cleared" jq_is .last_refresh.consecutive_failures 0
cx_del "$UN_ID" "$UN_TOK"

# -- a call with an expired token refreshes first --
cx_grant -d expires_in=1
EXP_AT=$AT
tl_create "$AT" "$RT" '{expires_in: 1}'
EXP_ID=$CID EXP_TOK=$CTOK
sleep 2
cx_reset
cx_call "$EXP_ID" "$EXP_TOK" '{"path":"/echo"}'
check "expired token: the call succeeds" is "$STATUS" 200
check "expired token: with a new token" \
    jq_is ".headers.authorization != \"Bearer $EXP_AT\" and (.headers.authorization | startswith(\"Bearer sat_\"))" true
check "expired token: one token request" is "$(cx_hits /oauth/token)" 1
check "expired token: refreshed before the call (no 401 round)" is "$(cx_hits /api/echo)" 1
tl_get "$EXP_ID" "$EXP_TOK"
check "expired token: the refresh is recorded" jq_is .last_refresh.result ok
cx_del "$EXP_ID" "$EXP_TOK"

# -- a 401 from the provider: refresh once, retry once --
cx_grant
tl_create sat_e2e42_bogus_access_token "$RT"
BOG_ID=$CID BOG_TOK=$CTOK
cx_reset
cx_call "$BOG_ID" "$BOG_TOK" '{"path":"/echo"}'
check "401 then refresh: the call succeeds" is "$STATUS" 200
check "401 then refresh: with the new token" \
    jq_is '.headers.authorization | startswith("Bearer sat_") and (test("bogus") | not)' true
check "401 then refresh: one token request" is "$(cx_hits /oauth/token)" 1
check "401 then refresh: two provider requests" is "$(cx_hits /api/echo)" 2
http GET "$GW/proxy/echo" -H "$(cx_auth "$BOG_TOK")"
check "401 then refresh: later calls use the new token at once" is "$(cx_hits /api/echo)" 3
cx_reset
cx_fault /api/echo status 2 401
cx_call "$BOG_ID" "$BOG_TOK" '{"path":"/echo"}'
check "401 twice: the provider's 401 comes back" is "$STATUS" 401
check "401 twice: refreshed once" is "$(cx_hits /oauth/token)" 1
check "401 twice: retried once" is "$(cx_hits /api/echo)" 2
cx_del "$BOG_ID" "$BOG_TOK"
cx_grant
tl_create sat_e2e42_bogus_access_token srt_e2e42_bogus_refresh_token
BB_ID=$CID BB_TOK=$CTOK
cx_reset
cx_call "$BB_ID" "$BB_TOK" '{"path":"/echo"}'
check "401 and a failing refresh: 5xx JSON" \
    jq_is '.error.code | length > 0' true
check "401 and a failing refresh: an upstream failure status" \
    test "$STATUS" = 502 -o "$STATUS" = 401
check "401 and a failing refresh: one token request, no retry" \
    is "$(cx_hits /oauth/token) $(cx_hits /api/echo)" "1 1"
tl_get "$BB_ID" "$BB_TOK"
check "401 and a failing refresh: recorded" jq_is .last_refresh.result failed
cx_del "$BB_ID" "$BB_TOK"

# -- single flight: one token request however many ask at once --
# The connection's token is expired; a refresh gives an hour, so nobody
# has a reason to refresh twice.  Everyone starts at once, in the
# background, and is waited for.
sf_round() { # LABEL WITH-SBCTL
	local label=$1 with=$2 past pids= i
	cx_grant -d expires_in=3600
	SF_AT=$AT
	past=$(($(date +%s) - 60))
	tl_create "$AT" "$RT" "{expires_at: $past}"
	SF_ID=$CID SF_TOK=$CTOK
	cx_reset
	# The first token request takes a while, so the others surely
	# arrive while it is under way.
	cx_fault /oauth/token slow 1 800
	rm -f "$SB_VAR_DIR"/sf.*
	if [ "$with" = 1 ]; then
		( (set -a; . "$SB_VAR_DIR/run/env"; set +a
		  "$SB_BIN_DIR/sbctl" refresh) >"$SB_VAR_DIR/sf.sbctl" \
		    2>>"$SB_VAR_DIR/log/e2e-sbctl.log" ) &
		pids="$pids $!"
	fi
	for i in 1 2 3; do
		[ "$with" = 1 ] && [ "$i" = 3 ] && break
		curl -s -o "$SB_VAR_DIR/sf.body.$i" -w '%{http_code}' --max-time 30 \
		    -X POST "$GW/connections/$SF_ID/call" -H "$(cx_auth "$SF_TOK")" \
		    -H "$CX_JSON" -d '{"path":"/echo"}' >"$SB_VAR_DIR/sf.code.$i" &
		pids="$pids $!"
	done
	[ "$with" = 1 ] || {
		curl -s -o "$SB_VAR_DIR/sf.body.p" -w '%{http_code}' --max-time 30 \
		    -H "$(cx_auth "$SF_TOK")" "$GW/proxy/echo" >"$SB_VAR_DIR/sf.code.p" &
		pids="$pids $!"
	}
	wait $pids
	check "single flight ($label): exactly one token request" \
	    is "$(cx_hits /oauth/token)" 1
	check "single flight ($label): every call succeeded" \
	    is "$(for f in "$SB_VAR_DIR"/sf.code.*; do cat "$f"; echo; done |
		sort -u | tr -d '\n')" 200
	check "single flight ($label): all presented one new token" \
	    is "$(cat "$SB_VAR_DIR"/sf.body.* | jq -r .headers.authorization | sort -u | wc -l)" 1
	check "single flight ($label): not the expired one" \
	    test "$(cat "$SB_VAR_DIR"/sf.body.* | jq -r .headers.authorization | head -n1)" != "Bearer $SF_AT"
	[ "$with" = 1 ] && check "single flight ($label): sbctl had no failure" \
	    grep -q ' 0 failed$' "$SB_VAR_DIR/sf.sbctl"
	tl_get "$SF_ID" "$SF_TOK"
	check "single flight ($label): refresh recorded once, ok" \
	    jq_is '.last_refresh.result == "ok" and .last_refresh.consecutive_failures == 0' true
	check "single flight ($label): no lease left behind" \
	    is "$(sql "select coalesce(refresh_lease_owner, '') from connections where id = '$SF_ID'")" ""
	rm -f "$SB_VAR_DIR"/sf.*
	cx_del "$SF_ID" "$SF_TOK"
}
sf_round "sbctl and two calls" 1
sf_round "three calls and a proxy" 0
sf_round "sbctl and two calls, again" 1

unset -f sf_round
cx_reset
