# Where the master key comes from (docs/security.md): a side stack whose
# key is a command's output (SB_MASTER_KEY_SOURCE=command) starts without
# a master.key, seals a connection's credentials and calls through it;
# restarted with the same key from SB_MASTER_KEY (the env source), the
# sealed credentials still open.  A command that fails keeps the stack
# from starting, with a message naming the source and nothing it printed.

kp_dir=$(mktemp -d /tmp/sb-e2e-key.XXXXXX)
kp_key=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
printf '%s\n' "$kp_key" >"$kp_dir/key"
chmod 600 "$kp_dir/key"
kp_cmd="echo ran >>'$kp_dir/runs'; echo 'fetching the key' >&2; cat '$kp_dir/key'"

# kp_call GW TOKEN ID: a call through the connection.
kp_call() {
	http POST "$1/connections/$3/call" -H "Authorization: Bearer $2" \
	    -H "Content-Type: application/json" -d '{"path": "/me"}'
}

if side_start SB_MASTER_KEY_SOURCE=command \
    SB_MASTER_KEY_COMMAND="$kp_cmd"; then
	check "key from a command: the stack starts" true
	check "key from a command: no master.key is made" \
	    test ! -e "$SIDE_VAR/secrets/master.key" -a \
	    -e "$SIDE_VAR/secrets/token.key"
	check "key from a command: the command ran for each process" \
	    test "$(wc -l <"$kp_dir/runs")" -ge 3
	grant=$(curl -s -X POST "$SIDE_SBX/oauth/grant" \
	    -H "Content-Type: application/json" -d '{"expires_in": 3600}')
	http POST "$SIDE_GW/connections" -H "Content-Type: application/json" \
	    -d "{\"provider\": \"sandbox\", \"credentials\": $grant}"
	check "key from a command: a connection is created" is "$STATUS" 201
	kp_id=$(printf '%s' "$BODY" | jq -r .id)
	kp_tok=$(printf '%s' "$BODY" | jq -r .token)
	kp_call "$SIDE_GW" "$kp_tok" "$kp_id"
	check "key from a command: a call through it is 200" is "$STATUS" 200
	check "key from a command: the responders logged the source" \
	    grep -q "from source command" "$SIDE_VAR/log/gateway.log"
	kp_ready=$(grep -c "ready (8 workers)" "$SIDE_VAR/log/proxy.log")
	check "key from a command: once per proxy process, not per worker" \
	    test "$kp_ready" -ge 1 -a "$(grep -c "from source command" \
	    "$SIDE_VAR/log/proxy.log")" -eq "$kp_ready"
	check "key from a command: its stderr reached the log" \
	    grep -q "master_key_command stderr: fetching the key" \
	    "$SIDE_VAR/log/gateway.log"
	check "key from a command: the key is in no log" \
	    test -z "$(grep -rl "$kp_key" "$SIDE_VAR/log" "$SIDE_VAR/start.log")"

	# The same key from the environment opens what the command's sealed.
	SB_VAR_DIR=$SIDE_VAR scripts/stack stop >/dev/null 2>&1
	if SIDE_AT=$SIDE_VAR side_start SB_MASTER_KEY="$kp_key"; then
		kp_call "$SIDE_GW" "$kp_tok" "$kp_id"
		check "same key from SB_MASTER_KEY: the sealed credentials open" \
		    is "$STATUS" 200
	else
		check "same key from SB_MASTER_KEY: the stack starts" false
	fi
	side_stop "key from a command: the side stack stops"
else
	check "key from a command: the stack starts" false
fi

# A failing command: no start, a message naming the source, not the output.
if side_start SB_MASTER_KEY_SOURCE=command \
    SB_MASTER_KEY_COMMAND="echo not-a-key-$kp_key; exit 3"; then
	check "failing key command: the stack refuses to start" false
else
	check "failing key command: the stack refuses to start" true
	check "failing key command: the message names the source" \
	    grep -q "master key source command: exited with status 3" \
	    "$SIDE_VAR/start.log"
	check "failing key command: nothing it printed is logged" \
	    test -z "$(grep -rl "$kp_key" "$SIDE_VAR/log" "$SIDE_VAR/start.log")"
fi
side_stop "failing key command: nothing is left running"
rm -rf "$kp_dir"
