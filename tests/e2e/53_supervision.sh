# Responders are supervised (docs/reliability.md): on a side stack, a
# process of each responder killed with kill -9 is replaced within seconds,
# `scripts/stack status` and `pids` tell the truth, and under a steady load
# only the request in flight is lost.

# sv_children NAME: the processes the responder's supervisor watches.
sv_children() {
	ps -o pid= --ppid "$(head -n 1 "$SIDE_VAR/run/$1.pid")" 2>/dev/null |
	    tr -d ' '
}

# sv_up: `scripts/stack status` says every responder has all its processes.
sv_up() { SB_VAR_DIR=$SIDE_VAR scripts/stack status >/dev/null 2>&1; }

# sv_back NAME OLD: within 5 s the responder has all its processes again
# and OLD is not among them.
sv_back() {
	local i
	for i in $(seq 1 50); do
		if sv_up && ! sv_children "$1" | grep -qx "$2"; then
			return 0
		fi
		sleep 0.1
	done
	return 1
}

if side_start SB_GATEWAY_PROCS=2 SB_PROXY_PROCS=2 SB_INTEGRATIONS_PROCS=2 \
    SB_PROJECTS_PROCS=2 SB_EVENTS_PROCS=2 SB_USERS_PROCS=2 \
    SB_SANDBOX_PROCS=2 SB_FETCH_PROCS=2; then
	check "supervision: status says everything is up" sv_up
	for r in gateway proxy integrations projects events users sandbox fetch; do
		victim=$(sv_children "$r" | head -n 1)
		kill -9 "$victim"
		check "supervision: $r killed with -9 comes back" \
		    sv_back "$r" "$victim"
		check "supervision: $r's dead process is not listed" \
		    test -z "$(SB_VAR_DIR=$SIDE_VAR scripts/stack pids |
		    grep -x "$victim")"
	done

	# A steady load of one request at a time on the gateway while one
	# of its processes is killed: at most the one in flight fails.
	sv_log=$(mktemp)
	(
		end=$(($(date +%s) + 3))
		while [ "$(date +%s)" -lt "$end" ]; do
			curl -s -o /dev/null -w '%{http_code}\n' --max-time 5 \
			    "$SIDE_GW/providers"
		done
	) >"$sv_log" &
	sv_load=$!
	sleep 1
	kill -9 "$(sv_children gateway | head -n 1)"
	wait "$sv_load"
	sv_total=$(wc -l <"$sv_log")
	sv_failed=$(grep -vcx 200 "$sv_log")
	check "supervision: under load, $sv_failed of $sv_total requests lost (at most 1)" \
	    test "$sv_failed" -le 1 -a "$sv_total" -gt 5
	check "supervision: everything is up after the load" sv_up
	rm -f "$sv_log"
else
	check "the supervision stack starts" false
fi
side_stop "the supervision stack stops without leftovers"
