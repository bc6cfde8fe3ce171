# The platform foundation: health on every port, nginx's JSON errors, the
# static tokens of the projects and events services, request ids, bad input.

for port in "$GW" "$PJ" "$EV" "$SBX"; do
	http GET "$port/health"
	check "health answers 200 on $port" is "$STATUS" 200
	check "health on $port read the schema" jq_is '.schema_version > 0' true
done

http GET "$PJ/projects"
check "projects without a token: 401" is "$STATUS" 401
check "projects 401 is JSON {name, message}" jq_is .name Unauthorized
check "projects 401 names the bearer scheme" is "$(header WWW-Authenticate)" Bearer
http GET "$PJ/projects" -H "Authorization: Bearer wrong"
check "projects with a wrong token: 401" is "$STATUS" 401
http GET "$PJ/projects" -H "Authorization: Bearer $SB_EVENTS_TOKEN"
check "projects refuse the events token" is "$STATUS" 401
http GET "$EV/events"
check "events without a token: 401" is "$STATUS" 401
check "events 401 is JSON {error: {code}}" jq_is .error.code unauthorized
http GET "$EV/events" -H "Authorization: Bearer wrong"
check "events with a wrong token: 401" is "$STATUS" 401
http GET "$EV/events" -H "Authorization: Bearer $SB_PROJECTS_TOKEN"
check "events refuse the projects token" is "$STATUS" 401

http GET "$GW/no/such/route"
check "unknown route: 404" is "$STATUS" 404
check "404 is JSON with a code" jq_is .error.code not_found
http GET "$PJ/no/such/route" -H "Authorization: Bearer $SB_PROJECTS_TOKEN"
check "unknown projects route with token A: 404 {name}" jq_is .name NotFound

http POST "$GW/health"
check "wrong method: 405" is "$STATUS" 405
check "405 names the allowed methods" is "$(header Allow)" GET
check "405 is JSON with a code" jq_is .error.code method_not_allowed

big=$(mktemp)
head -c $((2 * 1024 * 1024)) /dev/zero | tr '\0' 'a' >"$big"
http POST "$GW/health" -H 'Content-Type: application/json' --data-binary "@$big"
check "a body over the 1 MiB cap: 413" is "$STATUS" 413
check "413 is JSON with a code" jq_is .error.code too_large
rm -f "$big"

http GET "$GW/health?bad=%zz"
check "a malformed query: 400" is "$STATUS" 400
check "400 is JSON with a code" jq_is .error.code invalid_request

http GET "$GW/health"
rid1=$(header X-Request-Id)
http GET "$GW/no/such/route"
rid2=$(header X-Request-Id)
check "responses carry a request id" test "${#rid1}" -eq 32
check "request ids differ per request" test "$rid1" != "$rid2"
check "errors carry a request id too" test "${#rid2}" -eq 32
sleep 1.2 # the access log is flushed every second
check "the request id is in the access log" grep -q "rid=$rid1" "$SB_VAR_DIR/log/access.log"
check "the server version is not disclosed" is "$(header Server)" nginx
