# The data fetch (docs/data-fetch.md): POST /fetch jobs against the
# sandbox's JSONPlaceholder, the cooldown and minimum interval, the 304
# path, one shared job for concurrent requests, failures that change
# nothing, items edited and removed at the source, GET /data's query
# language with its headers, sbctl fetch, and a worker killed mid-job.
# The stack runs with a cooldown of 60 s and a minimum interval of 2 s.

JPP=/jsonplaceholder/posts
src_hits() { # requests the sandbox counted on the posts path
	curl -sS -H "$SBX_AUTH" "$SBX/_sandbox/stats" | jq -r ".paths[\"$JPP\"] // 0"
}
fault() { # KIND [ARG] [COUNT]: the only switch on the posts path
	curl -sS -o /dev/null -X DELETE -H "$SBX_AUTH" "$SBX/_sandbox/faults"
	curl -sS -o /dev/null -X POST -H "$SBX_AUTH" -H 'Content-Type: application/json' \
	    -d "{\"path\": \"$JPP\", \"kind\": \"$1\", \"arg\": ${2:-0}, \"count\": ${3:-1}}" \
	    "$SBX/_sandbox/faults"
}
force_fetch() { # waits out the minimum interval, then a forced fetch
	sleep 2.1
	http POST "$GW/fetch?wait=true" -d '{"force": true}'
}
snapshot() { sql "select group_concat(id || ':' || body || ':' || coalesce(deleted_at, ''), '|') from fetch_items"; }

curl -sS -o /dev/null -X POST -H "$SBX_AUTH" "$SBX/_sandbox/jsonplaceholder"
curl -sS -o /dev/null -X DELETE -H "$SBX_AUTH" "$SBX/_sandbox/faults"

http POST "$GW/fetch" -d '{"resource": "todos"}'
check "fetch: unknown resource is 400 naming the known ones" eval \
    '[ "$STATUS" = 400 ] && jq_is .error.code unknown_resource && [[ "$BODY" == *"comments, posts, users"* ]]'
http POST "$GW/fetch" -d '{"force": "yes"}'
check "fetch: a bad force is 400" is "$STATUS" 400

# Source down, slow, malformed, truncated: the right status, a failed job,
# nothing stored.
fault status 500 5
http POST "$GW/fetch?wait=true"
check "fetch down: 502 with the source's status" eval \
    '[ "$STATUS" = 502 ] && jq_is .error.source_status 500 && jq_is .job.status failed'
DOWN_JOB=$(printf '%s' "$BODY" | jq -r .job.id)
check "fetch down: nothing stored" is "$(sql 'select count(*) from fetch_items')" 0
http GET "$GW/jobs/$DOWN_JOB"
ISO_TIME='test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}[.][0-9]{3}Z$")'
check "fetch down: GET /jobs/{id} failed, error and next attempt" eval \
    'jq_is .status failed && jq_is .error_code source_error && jq_is ".next_attempt_at | $ISO_TIME" true'
check "fetch down: the job's times are ISO 8601 like created_at" eval \
    'jq_is ".created_at | $ISO_TIME" true && jq_is ".started_at | $ISO_TIME" true && jq_is ".finished_at | $ISO_TIME" true'
fault malformed 0 5
http POST "$GW/fetch?wait=true"
check "fetch malformed: 502 source_malformed" eval '[ "$STATUS" = 502 ] && jq_is .error.code source_malformed'
check "fetch malformed: the failed job was shared and retried" jq_is .job.id "$DOWN_JOB"
fault truncated 4096 5
http POST "$GW/fetch?wait=true"
check "fetch truncated: 502" eval '[ "$STATUS" = 502 ]'
fault slow 3000 5
http POST "$GW/fetch?wait=true"
check "fetch slow: 504 source_timeout" eval '[ "$STATUS" = 504 ] && jq_is .error.code source_timeout'
check "fetch failures: nothing stored" is "$(sql 'select count(*) from fetch_items')" 0
curl -sS -o /dev/null -X DELETE -H "$SBX_AUTH" "$SBX/_sandbox/faults"
sleep 3 # the slow answers end

http POST "$GW/fetch?wait=true"
check "fetch: 200 with counts" eval '[ "$STATUS" = 200 ] && jq_is "\"\(.fetched) \(.created) \(.updated) \(.deleted)\"" "100 100 0 0"'
check "fetch: the job succeeded" jq_is .status succeeded
check "fetch: 100 posts stored" is "$(sql "select count(*) from fetch_items where resource = 'posts'")" 100

# Cooldown: no source request.
before=$(src_hits)
http POST "$GW/fetch"
check "fetch fresh: 200 fresh within the cooldown" eval '[ "$STATUS" = 200 ] && jq_is .status fresh && jq_is ".next_fetch_after | length" 20'
check "fetch fresh: the source was not asked" is "$(src_hits)" "$before"
http POST "$GW/fetch" -d '{"force": true}'
check "fetch force: refused inside the minimum interval (429, Retry-After)" eval \
    '[ "$STATUS" = 429 ] && jq_is .error.code too_soon && [ -n "$(header Retry-After)" ]'

# 304: the source unchanged costs a 304 and no rewrite.
snap=$(snapshot)
force_fetch
check "fetch 304: outcome not_modified, status 304" eval 'jq_is .outcome not_modified && jq_is .source_status 304'
check "fetch 304: nothing rewritten" is "$(snapshot)" "$snap"

# Items edited and removed at the source.
curl -sS -o /dev/null -X PATCH -H "$SBX_AUTH" -d '{"title": "  Edited title  "}' "$SBX/_sandbox/jsonplaceholder/posts/1"
curl -sS -o /dev/null -X DELETE -H "$SBX_AUTH" "$SBX/_sandbox/jsonplaceholder/posts/2"
force_fetch
check "fetch edits: 1 updated, 1 deleted, 98 unchanged" jq_is '"\(.fetched) \(.updated) \(.deleted) \(.unchanged)"' "99 1 1 98"
http GET "$GW/data/1"
check "data: the original title kept, _derived trimmed beside it" jq_is '"\(.title)|\(._derived.title)"' "  Edited title  |Edited title"
check "data: _derived.word_count" eval 'jq_is "._derived.word_count == (.body | [splits(\"\\\\s+\")] | map(select(length > 0)) | length)" true'
http GET "$GW/data/2"
check "data: a deleted item is gone (404)" is "$STATUS" 404
http GET "$GW/data"
check "data: 99 items" jq_is length 99

# Concurrent fetches: one job, one source request (two requests: the
# responder runs fetch_procs = 2 processes; a third would queue behind
# them and find the fetch done).
sleep 2.1
fault slow 1000
before=$(src_hits)
for i in 1 2; do
	curl -sS -o "$SB_VAR_DIR/conc$i" -X POST -d '{"force": true}' "$GW/fetch?wait=true" &
done
wait
ids=$(for i in 1 2; do jq -r .id "$SB_VAR_DIR/conc$i"; done | sort -u | wc -l)
check "fetch concurrent: one job shared" is "$ids" 1
check "fetch concurrent: both answered 200 succeeded" is \
    "$(cat "$SB_VAR_DIR"/conc[12] | jq -r .status | sort -u)" succeeded
check "fetch concurrent: one source request" is "$(( $(src_hits) - before ))" 1

# GET /data: json-server's query language.
curl -sS -o /dev/null -X POST -H "$SBX_AUTH" "$SBX/_sandbox/jsonplaceholder"
force_fetch
check "data: fetched again, 100" jq_is '"\(.created + .updated + .unchanged)"' 100
q() { http GET "$GW/data$1"; }
q '?userId=1';            check "data userId=1: 10" jq_is '[.[].userId] | unique | "\(length) \(.[0]) "' "1 1 "
q '?userId=1&userId=2';   check "data repeated key ORs: 20" jq_is length 20
q '?userId=abc';          check "data userId=abc: 200 []" eval '[ "$STATUS" = 200 ] && [ "$BODY" = "[]" ]'
q '?id_gte=95';           check "data id_gte=95: 6" jq_is length 6
q '?id_lte=3';            check "data id_lte=3: 3" jq_is length 3
q '?id_gte=3&id_lte=5';   check "data gte and lte: 3" jq_is '[.[].id] | join(",")' "3,4,5"
q '?userId_ne=1';         check "data userId_ne=1: 90" jq_is length 90
q '?userId_ne=1&userId_ne=2'; check "data repeated _ne ANDs: 80" jq_is length 80
q '?title_like=^sunt';    check "data title_like=^sunt: all start so" jq_is '[.[].title | test("^sunt"; "i")] | all' true
n_like=$(printf '%s' "$BODY" | jq length)
q '?title_like=^SUNT';    check "data _like ignores case" jq_is length "$n_like"
q '?title_like=(';        check "data _like: a bad pattern is 400" eval '[ "$STATUS" = 400 ] && jq_is .error.code invalid_query'
q "?title_like=$(printf 'a%.0s' $(seq 1 300))"; check "data _like: a long pattern is 400" is "$STATUS" 400
# A hostile _like is refused before glibc builds it ((a{1,1000}){1,1000}
# alone took seconds of CPU and gigabytes of memory), at once.
t0=$(date +%s%3N)
q '?title_like=(a%7B1,1000%7D)%7B1,1000%7D'
t1=$(date +%s%3N)
check "data _like (a{1,1000}){1,1000}: 400 invalid_query naming the bound" eval \
    '[ "$STATUS" = 400 ] && jq_is .error.code invalid_query && [[ "$BODY" == *"at most 32"* ]]'
check "data _like (a{1,1000}){1,1000}: refused in under 1 s" eval '[ $((t1 - t0)) -lt 1000 ]'
q '?title_like=((a%7B8%7D)%7B8%7D)%7B8%7D'; check "data _like nested repeats past 256 pieces: 400" eval \
    '[ "$STATUS" = 400 ] && [[ "$BODY" == *"at most 256 pieces"* ]]'
q '?title_like=(%5E)*';   check "data _like (^)*: 400 (a repeated anchor)" eval \
    '[ "$STATUS" = 400 ] && [[ "$BODY" == *"repeat an anchor"* ]]'
q '?title_like=(a*)*b';   check "data _like (a*)*b: 400 (a loop on nothing)" eval \
    '[ "$STATUS" = 400 ] && [[ "$BODY" == *"match nothing"* ]]'
q '?title_like=a&body_like=b&title_like=c&body_like=d&title_like=e'
check "data five _like: 400, at most 4 a query" eval \
    '[ "$STATUS" = 400 ] && jq_is .error.code invalid_query && [[ "$BODY" == *"at most 4 _like"* ]]'
q '?title_like=%5Esunt&title_like=x%7B2%7D&body_like=(ab%7Cqu)%2Bi&body_like=e$'
check "data four _like within the limits: 200" eval '[ "$STATUS" = 200 ] && jq_is "length > 0" true'
# Paging past 64 bits: _page and _limit are clamped, the answer is
# json-server's (and UBSan, which the stack runs under, sees no overflow).
q '?_page=999999999999999999&_limit=999999999999'
check "data huge _page and _limit: 200 [] with X-Total-Count" eval \
    '[ "$STATUS" = 200 ] && [ "$BODY" = "[]" ] && [ "$(header X-Total-Count)" = 100 ]'
q '?_page=1&_limit=999999999999'; check "data huge _limit: page 1 holds every item" jq_is length 100
q '?q=MAGNAM';            check "data q: case-insensitive substring of any value" jq_is '[.[] | [.title, .body] | join(" ") | test("magnam")] | all' true
n_q=$(printf '%s' "$BODY" | jq length)
check "data q: finds some" eval '[ "$n_q" -gt 0 ] && [ "$n_q" -lt 100 ]'
q '?q=magnam&userId=3';   check "data q with a filter" jq_is '[.[].userId] | unique | join(",")' "3"
q '?userId=1&id_ne=1&title_like=a'; check "data three operators combined" jq_is '[.[] | select(.userId != 1 or .id == 1)] | length' 0
q '?color=red';           check "data unknown field: 400 naming the fields" eval \
    '[ "$STATUS" = 400 ] && jq_is .error.code unknown_field && [[ "$BODY" == *"id, userId, title, body"* ]]'
q '?_sort=title';         check "data _sort=title" jq_is '[.[].title] == ([.[].title] | sort)' true
q '?_sort=userId,id&_order=desc,asc'; check "data _sort two fields" jq_is '"\(.[0].userId) \(.[0].id) \(.[9].id)"' "10 91 100"
q '?_sort=id&_order=desc&_limit=3'; check "data _sort desc with _limit" jq_is '[.[].id] | join(",")' "100,99,98"
q '?_start=5&_end=8';     check "data _start/_end" jq_is '[.[].id] | join(",")' "6,7,8"
check "data _start/_end: X-Total-Count" is "$(header X-Total-Count)" 100
q '?_start=10&_limit=2';  check "data _start/_limit" jq_is '[.[].id] | join(",")' "11,12"

q '?_page=1'
check "data _page=1: 10 a page" jq_is '[.[].id] | join(",")' "1,2,3,4,5,6,7,8,9,10"
link=$(header Link)
check "data page 1: Link first, next, last (no prev)" eval \
    '[[ "$link" == *"_page=1>; rel=\"first\""* && "$link" == *"_page=2>; rel=\"next\""* && "$link" == *"_page=10>; rel=\"last\""* && "$link" != *prev* ]]'
q '?userId_ne=0&_page=3&_limit=20'
link=$(header Link)
check "data middle page: items 41-60" jq_is '"\(.[0].id) \(.[19].id)"' "41 60"
check "data middle page: first, prev, next, last" eval \
    '[[ "$link" == *"_page=1&_limit=20>; rel=\"first\", <"*"_page=2&_limit=20>; rel=\"prev\", <"*"_page=4&_limit=20>; rel=\"next\", <"*"_page=5&_limit=20>; rel=\"last\""* ]]'
check "data middle page: X-Total-Count 100" is "$(header X-Total-Count)" 100
q '?_page=10'
link=$(header Link)
check "data last page: first, prev, last (no next)" eval \
    '[[ "$link" == *first* && "$link" == *"_page=9>; rel=\"prev\""* && "$link" == *last* && "$link" != *next* ]]'
q '?_page=11'
check "data past the end: [] and no Link" eval '[ "$BODY" = "[]" ] && [ -z "$(header Link)" ]'
check "data past the end: X-Total-Count still 100" is "$(header X-Total-Count)" 100
q '/posts/5';             check "data /posts/5" jq_is .id 5
q '/posts?userId=2';      check "data /posts?userId=2" jq_is length 10
q '/todos';               check "data unknown resource: 400" is "$STATUS" 400
q '/999';                 check "data unknown id: 404" is "$STATUS" 404

# GET /data answers from each fetch process's snapshot of the items: a
# fetch that changes a post is seen by the very next GET on every process
# (the stack runs two; both hold a snapshot from the queries above and
# these), since the change bumps the data version they read per request.
for i in 1 2 3 4 5 6; do curl -sS -o /dev/null "$GW/data?id=3"; done
curl -sS -o /dev/null -X PATCH -H "$SBX_AUTH" -d '{"title": "Seen at once"}' "$SBX/_sandbox/jsonplaceholder/posts/3"
force_fetch
check "data snapshot: the fetch updated post 3" jq_is '"\(.updated) \(.unchanged)"' "1 99"
seen=0
for i in 1 2 3 4 5 6 7 8 9 10; do
	http GET "$GW/data?id=3"
	jq_is '.[0].title' "Seen at once" && seen=$((seen + 1))
done
check "data snapshot: every GET after the fetch sees the change (10 of 10)" is "$seen" 10
q '/3'; check "data snapshot: GET /data/3 sees it too" jq_is .title "Seen at once"
q '?q=seen%20at%20ONCE'; check "data snapshot: q finds the new title" jq_is '[.[].id] | join(",")' "3"

# GET /jobs lists them, newest first.
http GET "$GW/jobs"
check "jobs: newest first, statuses shown" eval 'jq_is ".[0].id > .[1].id" true && jq_is "[.[].status] | index(\"succeeded\") != null" true'

# sbctl from cron: scripts/cron loads the stack's environment (its
# fetch_base_url is the sandbox's).
sbctl_fetch() { scripts/cron fetch; tail -n 1 "$SB_VAR_DIR/log/sbctl.log"; }

# The scheduled fetch: sbctl fetch respects the cooldown, and fetches once
# the interval passed.
out=$(sbctl_fetch)
check "sbctl fetch: nothing due within the cooldown (posts)" eval '[[ "$out" == *"fetch: "* ]]'
check "sbctl fetch: the never-fetched resources were fetched" \
    is "$(sql "select count(*) from fetch_items where resource = 'users'")" 10
before=$(src_hits)
sql "update fetch_state set fetched_at = fetched_at - 3600 where resource = 'posts'"
out=$(sbctl_fetch)
check "sbctl fetch: posts fetched once due" is "$(( $(src_hits) - before ))" 1

# Retries: a job failing every attempt is dead after the last one.
sql "update fetch_state set fetched_at = fetched_at - 3600 where resource = 'posts'"
fault status 503 100
http POST "$GW/fetch?wait=true"
dead_job=$(printf '%s' "$BODY" | jq -r .job.id)
for i in 1 2 3 4 5 6; do
	sql "update jobs set run_at = 0 where id = $dead_job and state = 'pending'"
	sbctl_fetch >/dev/null
done
http GET "$GW/jobs/$dead_job"
check "fetch retries: dead after max_attempts" eval 'jq_is .status dead && jq_is ".attempts == .max_attempts" true'
curl -sS -o /dev/null -X DELETE -H "$SBX_AUTH" "$SBX/_sandbox/faults"

# A worker killed mid-job: the job's lease outlives the process; once it
# runs out the job runs again, once.
sql "update fetch_state set fetched_at = fetched_at - 3600 where resource = 'posts'"
fault slow 1200
sbctl_fetch >/dev/null &
worker=$!
sleep 0.5
pkid=$(pgrep -P "$worker" -x sbctl || true)
[ -n "$pkid" ] && kill -KILL "$pkid"
wait "$worker" 2>/dev/null
kjob=$(sql "select id from jobs where queue = 'fetch' order by id desc limit 1")
check "fetch killed: the job is left leased" is "$(sql "select state from jobs where id = $kjob")" leased
sleep 1
sql "update jobs set lease_until = 0 where id = $kjob"
sbctl_fetch >/dev/null
check "fetch killed: picked up once the lease ran out, done" is "$(sql "select state from jobs where id = $kjob")" done
