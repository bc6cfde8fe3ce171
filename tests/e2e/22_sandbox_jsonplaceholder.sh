# The sandbox's JSONPlaceholder (/jsonplaceholder/...): posts, users and
# comments in JSONPlaceholder's shapes and counts, deterministic, with a
# weak ETag and If-None-Match; the control paths that reset, edit, add and
# remove items; the truncated-answer fault switch.

JP=$SBX/jsonplaceholder

http POST "$SBX/_sandbox/jsonplaceholder"
check "jp reset: control token needed" is "$STATUS" 401
http POST "$SBX/_sandbox/jsonplaceholder" -H "$SBX_AUTH"
check "jp reset: 200 with the counts" jq_is '"\(.posts) \(.users) \(.comments)"' "100 10 500"

http GET "$JP/posts"
check "jp posts: 200" is "$STATUS" 200
check "jp posts: 100 of them" jq_is 'length' 100
check "jp posts: JSONPlaceholder's keys in order" jq_is '.[0] | keys_unsorted | join(",")' "userId,id,title,body"
check "jp posts: 10 users, 10 posts each" jq_is '[group_by(.userId)[] | length] | unique | "\(.)"' "[10]"
check "jp posts: user 10 wrote post 100" jq_is '.[99].userId' 10
POSTS1=$BODY
ETAG=$(header ETag)
check "jp posts: a weak ETag" eval '[[ "$ETAG" == W/\"* ]]'
http GET "$JP/posts" -H "If-None-Match: $ETAG"
check "jp posts: If-None-Match answers 304" is "$STATUS" 304
check "jp posts: 304 has no body" is "$BODY" ""
http GET "$JP/posts" -H 'If-None-Match: W/"other"'
check "jp posts: another ETag gets 200" is "$STATUS" 200
http POST "$SBX/_sandbox/jsonplaceholder" -H "$SBX_AUTH"
http GET "$JP/posts"
check "jp posts: the same text after a reset (deterministic)" is "$BODY" "$POSTS1"

http GET "$JP/users"
check "jp users: 10" jq_is 'length' 10
check "jp users: nested address.geo and company" jq_is '.[0] | "\(.name)|\(.username)|\(.address.geo | keys | join(","))|\(.company | keys | join(","))"' "Leanne Graham|Bret|lat,lng|bs,catchPhrase,name"
http GET "$JP/comments"
check "jp comments: 500" jq_is 'length' 500
check "jp comments: postId, id, name, email, body" jq_is '.[0] | keys_unsorted | join(",")' "postId,id,name,email,body"
http GET "$JP/comments?postId=7"
check "jp comments: ?postId=7 gives its 5" jq_is '[.[].postId] | unique | "\(length) \(.[0])"' "1 7"
http GET "$JP/posts/42"
check "jp post 42" jq_is '"\(.id) \(.userId)"' "42 5"
http GET "$JP/posts/101"
check "jp post 101: 404 {}" eval '[ "$STATUS" = 404 ] && [ "$BODY" = "{}" ]'
http GET "$JP/todos"
check "jp unknown resource: 404" is "$STATUS" 404

http PATCH "$SBX/_sandbox/jsonplaceholder/posts/1" -H "$SBX_AUTH" \
    -H 'Content-Type: application/json' -d '{"title": "  edited  ", "id": 99}'
check "jp patch: 200 the merged item, id kept" jq_is '"\(.id) \(.title) \(.userId)"' "1   edited   1"
http GET "$JP/posts" -H "If-None-Match: $ETAG"
check "jp patch: the ETag changed (200, not 304)" is "$STATUS" 200
http PATCH "$SBX/_sandbox/jsonplaceholder/posts/1" -H "$SBX_AUTH" -d 'nope'
check "jp patch: a body that is not an object is 400" is "$STATUS" 400
http DELETE "$SBX/_sandbox/jsonplaceholder/posts/2" -H "$SBX_AUTH"
check "jp delete: 204" is "$STATUS" 204
http DELETE "$SBX/_sandbox/jsonplaceholder/posts/2" -H "$SBX_AUTH"
check "jp delete again: 404" is "$STATUS" 404
http GET "$JP/posts"
check "jp delete: 99 posts left" jq_is 'length' 99
http POST "$SBX/_sandbox/jsonplaceholder/posts" -H "$SBX_AUTH" \
    -d '{"userId": 3, "title": "new", "body": "b"}'
check "jp add: 201 with the next id" jq_is '"\(.id) \(.title)"' "101 new"
http POST "$SBX/_sandbox/jsonplaceholder" -H "$SBX_AUTH"
http GET "$JP/posts"
check "jp reset: back to the generated posts" is "$BODY" "$POSTS1"

# The fault switches a fetch meets: a 5xx, a malformed body, a truncated
# answer (Content-Length promises more than comes).
http POST "$SBX/_sandbox/faults" -H "$SBX_AUTH" -H 'Content-Type: application/json' \
    -d '{"path": "/jsonplaceholder/posts", "kind": "truncated"}'
check "jp truncated switch: set" is "$STATUS" 201
out=$(curl -sS -o /dev/null -w '%{http_code}' --max-time 10 "$JP/posts" 2>&1)
check "jp truncated: the client sees the answer cut short" eval '[[ "$out" == *"transfer closed"* || "$out" == *"(18)"* ]]'
http GET "$JP/posts"
check "jp truncated: used once" is "$STATUS" 200
http POST "$SBX/_sandbox/faults" -H "$SBX_AUTH" -H 'Content-Type: application/json' \
    -d '{"path": "/jsonplaceholder/posts", "kind": "truncated", "arg": 1}'
check "jp truncated: arg below 64 is 400" is "$STATUS" 400
