# What `scripts/stack start` tells a newcomer, and how it treats pid files:
# the first-call commands printed after the URLs work when pasted; no
# static token is printed when the output is not a terminal (the suite's
# start writes to a file, as the image writes to `docker logs`); and pid
# files whose processes are gone, or whose numbers now belong to another
# program, neither count as running nor block a start.

start_log=$SB_VAR_DIR/start.log
no_token_in() { ! grep -qF -e "$SB_PROJECTS_TOKEN" -e "$SB_EVENTS_TOKEN" "$1"; }
check "stack start: no static token in its output off a terminal" \
    no_token_in "$start_log"
check "stack start: it says where token A comes from" \
    grep -q 'token given in SB_PROJECTS_TOKEN' "$start_log"

# The three lines after the URLs, pasted into a shell with nothing set.
first_call=$(sed -n 's/^  \(grant=\|token=\|curl \)/\1/p' "$start_log")
check "stack start: three commands for a first call" \
    is "$(printf '%s\n' "$first_call" | grep -c .)" 3
out=$(env -i PATH="$PATH" bash -c "$first_call"'; printf "\n%s" "$token"' 2>&1)
BODY=${out%$'\n'*} first_token=${out##*$'\n'}
check "pasted, they call the sandbox's /me through a new connection" \
    jq_is .id usr_1
# The connection goes: the token lifecycle tests count every connection
# that sbctl refresh sees.
http DELETE "$GW/connections/${first_token%%.*}" \
    -H "Authorization: Bearer $first_token"
check "the first call's connection is deleted" is "$STATUS" 204

# Stale pid files: a live process that is no responder (a sleep standing
# in for whatever took the number) and a pid past pid_max, which is gone.
# Neither is listed, killed, or blocks a start.
stale_var=$(mktemp -d /tmp/sb-e2e-stale.XXXXXX)
mkdir -p "$stale_var/run"
sleep 300 &
stranger=$!
printf '%s\n' "$stranger" >"$stale_var/run/gateway.pid"
printf '%s\n' 4194305 >"$stale_var/run/nginx.pid"
check "stale pid files: nothing listed as running" \
    is "$(SB_VAR_DIR=$stale_var scripts/stack pids)" ""
SB_VAR_DIR=$stale_var scripts/stack stop >/dev/null 2>&1
check "stale pid files: stop leaves another program's process alive" \
    kill -0 "$stranger"
kill "$stranger" 2>/dev/null
wait "$stranger" 2>/dev/null
rm -rf "$stale_var"
curl -s -o /dev/null -X DELETE "$SBX/_sandbox/stats" -H "$SBX_AUTH"
