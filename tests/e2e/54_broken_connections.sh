# Broken connections (docs/reliability.md): a connection whose sealed
# credentials no longer open (the blob altered, or moved from another row,
# as a lost master key looks) is still authenticated by its token's digest,
# reads with "credentials_readable": false, refuses calls with 409
# credentials_unreadable, and is repaired by a PATCH of new credentials or
# removed by DELETE; none of these is a 500.

. tests/e2e/connections.sh

# bc_create: a sandbox connection; BC_ID and BC_TOK.
bc_create() {
	cx_grant
	cx_create "{\"provider\": \"sandbox\", \"credentials\":
	    {\"access_token\": \"$AT\", \"refresh_token\": \"$RT\"}}"
	BC_ID=$CID BC_TOK=$CTOK
}
bc_get() { http GET "$GW/connections/$1" -H "$(cx_auth "$2")"; }

# Each way of breaking a blob, applied to a fresh connection.
bc_breaks=(
	"tampered|UPDATE connections SET credentials = randomblob(length(credentials)) WHERE id = '@ID@'"
	"from another row|UPDATE connections SET credentials = (SELECT credentials FROM connections WHERE id <> '@ID@' LIMIT 1) WHERE id = '@ID@'"
)
bc_create
BC_OTHER=$BC_ID BC_OTHER_TOK=$BC_TOK
for bc_break in "${bc_breaks[@]}"; do
	bc_name=${bc_break%%|*}
	bc_create
	bc_sql=${bc_break#*|}
	sql "${bc_sql//@ID@/$BC_ID}"
	bc_get "$BC_ID" "$BC_TOK"
	check "$bc_name credentials: GET is 200" is "$STATUS" 200
	check "$bc_name credentials: credentials_readable false" \
	    jq_is .credentials_readable false
	check "$bc_name credentials: needs_reauthorization true" \
	    jq_is .needs_reauthorization true
	bc_get "$BC_ID" "$BC_OTHER_TOK"
	check "$bc_name credentials: another token still gets 401" is "$STATUS" 401
	cx_call "$BC_ID" "$BC_TOK" '{"path": "/me"}'
	check "$bc_name credentials: a call is 409" is "$STATUS" 409
	check "$bc_name credentials: ... credentials_unreadable" \
	    jq_is .error.code credentials_unreadable
	check "$bc_name credentials: ... saying what to do" \
	    jq_is '.error.message | test("PATCH new credentials")' true
	http GET "$GW/proxy/me" -H "$(cx_auth "$BC_TOK")"
	check "$bc_name credentials: /proxy is 409 credentials_unreadable" \
	    jq_is .error.code credentials_unreadable
	cx_post "$GW/connections/$BC_ID" '{"config": {}}' -X PATCH \
	    -H "$(cx_auth "$BC_TOK")"
	check "$bc_name credentials: a PATCH of config alone is 409" \
	    is "$STATUS/$(printf '%s' "$BODY" | jq -r .error.code)" \
	    409/credentials_unreadable
	cx_grant
	cx_post "$GW/connections/$BC_ID" "{\"credentials\":
	    {\"access_token\": \"$AT\", \"refresh_token\": \"$RT\"}}" \
	    -X PATCH -H "$(cx_auth "$BC_TOK")"
	check "$bc_name credentials: a PATCH of new credentials repairs it" \
	    is "$STATUS" 200
	check "$bc_name credentials: ... readable again" \
	    jq_is .credentials_readable true
	cx_call "$BC_ID" "$BC_TOK" '{"path": "/me"}'
	check "$bc_name credentials: calls work again" is "$STATUS" 200
	bc_sql=${bc_break#*|}
	sql "${bc_sql//@ID@/$BC_ID}"
	http DELETE "$GW/connections/$BC_ID" -H "$(cx_auth "$BC_TOK")"
	check "$bc_name credentials: DELETE is 204" is "$STATUS" 204
	bc_get "$BC_ID" "$BC_TOK"
	check "$bc_name credentials: then it is gone (401)" is "$STATUS" 401
done
bc_get "$BC_OTHER" "$BC_OTHER_TOK"
check "broken credentials: the other connection is untouched" \
    jq_is .credentials_readable true
cx_del "$BC_OTHER" "$BC_OTHER_TOK"
