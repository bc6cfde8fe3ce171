# Storage errors (docs/reliability.md): a side stack whose var dir is a
# small tmpfs, in a private mount namespace of its own.  A full disk and a
# read-only database file each get 503 storage_unavailable with
# Retry-After on the write routes (both error styles), /health says 503
# with the reason, reads go on working, nothing is changed, and both
# recover by themselves once the disk has room or the file is writable.
#
# Mounting needs root; without it the checks are one TAP "# SKIP" line
# that says so.  As root a namespace or mount that cannot be made is a
# failure, not a skip (CI and fresh-debian run as root).

st_size=24m # the tmpfs: the stack starts in it with room to spare

# st_in CMD...: runs CMD in the side stack's mount namespace.
st_in() { nsenter -t "$st_ns" -m --root --wd="$PWD" -- "$@"; }

# st_namespace: starts st_ns, a process holding a private mount namespace.
# Inside a chroot / is no mount point and cannot be made private; there
# the namespace keeps the propagation it inherits, which must then not be
# shared with the host (fresh-debian's is private).  Non-zero, with
# st_why set, if no such namespace can be made.
st_namespace() {
	local prop=private i
	unshare --mount --propagation private true 2>/dev/null ||
	    prop=unchanged
	unshare --mount --propagation "$prop" sleep 300 &
	st_ns=$!
	for i in $(seq 1 40); do
		[ "$(readlink "/proc/$st_ns/ns/mnt" 2>/dev/null)" != \
		    "$(readlink /proc/self/ns/mnt)" ] && break
		kill -0 "$st_ns" 2>/dev/null || break
		sleep 0.05
	done
	if [ "$(readlink "/proc/$st_ns/ns/mnt" 2>/dev/null)" = \
	    "$(readlink /proc/self/ns/mnt)" ]; then
		st_why="unshare --mount failed"
		return 1
	fi
	if [ "$prop" = unchanged ] &&
	    st_in findmnt -n -o PROPAGATION --target /tmp | grep -q shared; then
		st_why="/ cannot be made private and /tmp's mount is shared"
		return 1
	fi
}

# st_write: POST /connections on the side gateway (no upstream needed).
st_write() {
	http POST "$SIDE_GW/connections" -H 'Content-Type: application/json' \
	    -d '{"provider": "github", "credentials": {"access_token": "ghp_storage0storage0storage0"}}'
}

# st_wait_write: tries st_write for up to 5 s until it answers 201.
st_wait_write() {
	local i
	for i in $(seq 1 25); do
		st_write
		[ "$STATUS" = 201 ] && return 0
		sleep 0.2
	done
	return 1
}

# st_unavailable WHAT: the last answer is 503 storage_unavailable with
# Retry-After, in the error style of the gateway.
st_unavailable() {
	check "$1: 503" is "$STATUS" 503
	check "$1: storage_unavailable" jq_is .error.code storage_unavailable
	check "$1: Retry-After" is "$(header Retry-After)" 10
}

# st_gateway: the side gateway's process (its supervisor's child).
st_gateway() {
	ps -o pid= --ppid "$(st_in head -n 1 "$SIDE_VAR/run/gateway.pid")" |
	    tr -d ' '
}

# st_count TABLE: rows of TABLE in the side stack's database.
st_count() {
	st_in sqlite3 -batch -noheader "$SIDE_VAR/switchboard.db" \
	    "SELECT count(*) FROM $1"
}

# st_faults: the disk full, then the read-only file, on the side stack.
st_faults() {
	st_tokA=${SB_PROJECTS_TOKEN:-}
	st_write
	check "storage: a connection before the fault" is "$STATUS" 201
	st_id=$(printf '%s' "$BODY" | jq -r .id)
	st_tok=$(printf '%s' "$BODY" | jq -r .token)
	http GET "$SIDE_GW/health"
	check "storage: /health 200 before the fault" is "$STATUS" 200
	check "storage: /health says writable" jq_is .store writable

	# The disk full: a file takes every block left.
	st_in dd if=/dev/zero of="$st_var/fill" bs=64k 2>/dev/null
	st_conns=$(st_count connections)
	st_deps=$(st_count deployments)
	st_write
	st_unavailable "disk full: POST /connections"
	check "disk full: the message says nothing was changed" \
	    jq_is '.error.message | test("nothing was changed")' true
	check "disk full: Switchboard-Error" \
	    is "$(header Switchboard-Error)" storage_unavailable
	http POST "$SIDE_GW/mappings" -H 'Content-Type: application/json' \
	    -d '{"mapping": {"a": "b"}}'
	st_unavailable "disk full: POST /mappings"
	http PATCH "$SIDE_GW/connections/$st_id" \
	    -H "Authorization: Bearer $st_tok" \
	    -H 'Content-Type: application/json' \
	    -d '{"credentials": {"access_token": "ghp_storage1storage1storage1"}}'
	st_unavailable "disk full: PATCH /connections/{id}"
	http POST "$SIDE_PJ/projects/1/deployment" \
	    -H "Authorization: Bearer $st_tokA"
	check "disk full: projects 503" is "$STATUS" 503
	check "disk full: projects ServiceUnavailable" \
	    jq_is .name ServiceUnavailable
	check "disk full: projects storage_unavailable" \
	    is "$(header Switchboard-Error)" storage_unavailable
	check "disk full: projects Retry-After" \
	    is "$(header Retry-After)" 10
	http GET "$SIDE_GW/health"
	check "disk full: /health 503" is "$STATUS" 503
	check "disk full: /health storage_unavailable" \
	    jq_is .error.code storage_unavailable
	check "disk full: /health names the reason" \
	    jq_is '.error.message | test("disk is full")' true
	http GET "$SIDE_PJ/health"
	check "disk full: projects /health 503 ServiceUnavailable" \
	    jq_is .name ServiceUnavailable
	http GET "$SIDE_GW/connections/$st_id" \
	    -H "Authorization: Bearer $st_tok"
	check "disk full: reads still work" is "$STATUS" 200
	check "disk full: no connection was added" \
	    is "$(st_count connections)" "$st_conns"
	check "disk full: no deployment was added" \
	    is "$(st_count deployments)" "$st_deps"

	# Room again: the next writes work, without a restart.
	st_in rm -f "$st_var/fill"
	check "room again: POST /connections 201" st_wait_write
	http POST "$SIDE_PJ/projects/1/deployment" \
	    -H "Authorization: Bearer $st_tokA"
	check "room again: a deployment 201" is "$STATUS" 201
	http GET "$SIDE_GW/health"
	check "room again: /health 200" is "$STATUS" 200

	# A read-only database: the gateway (re)starts while the file is
	# mounted read-only (Linux refuses to remount a file system
	# read-only under open writers), so SQLite opens it read-only,
	# the case that used to need a restart.
	st_db=$st_var/switchboard.db
	st_env=(SB_VAR_DIR="$st_var" SB_GATEWAY_PROCS=1
		SB_SANDBOX_PORT="${SIDE_SBX##*:}")
	st_in env "${st_env[@]}" scripts/stack down gateway
	st_in mount --bind "$st_db" "$st_db" &&
	    st_in mount -o remount,bind,ro "$st_db"
	check "read-only: the database file is mounted read-only" \
	    st_in test ! -w "$st_db"
	st_in env "${st_env[@]}" scripts/stack up gateway
	for _ in $(seq 1 50); do
		curl -s -o /dev/null "$SIDE_GW/health" && break
		sleep 0.1
	done
	st_conns=$(st_count connections)
	st_write
	st_unavailable "read-only: POST /connections"
	http DELETE "$SIDE_GW/connections/$st_id" \
	    -H "Authorization: Bearer $st_tok"
	st_unavailable "read-only: DELETE /connections/{id}"
	http GET "$SIDE_GW/health"
	check "read-only: /health 503" is "$STATUS" 503
	check "read-only: /health names the reason" \
	    jq_is '.error.message | test("read-only")' true
	http GET "$SIDE_GW/connections/$st_id" \
	    -H "Authorization: Bearer $st_tok"
	check "read-only: reads still work" is "$STATUS" 200
	check "read-only: nothing was changed" \
	    is "$(st_count connections)" "$st_conns"

	# Writable again: the same process reopens the file by itself.
	st_pids=$(st_gateway)
	st_in mount -o remount,bind,rw "$st_db"
	check "writable again: POST /connections 201" st_wait_write
	http GET "$SIDE_GW/health"
	check "writable again: /health 200" is "$STATUS" 200
	check "writable again: without a restart" \
	    test -n "$st_pids" -a "$(st_gateway)" = "$st_pids"
}

st_ns= st_why=
if [ "$(id -u)" != 0 ]; then
	echo "ok - storage errors on a tmpfs and a read-only mount # SKIP not root (mounting needs root; CI runs as root)"
elif ! command -v unshare >/dev/null || ! command -v nsenter >/dev/null ||
    ! command -v findmnt >/dev/null; then
	check "storage: unshare, nsenter and findmnt are installed" false
elif ! st_namespace; then
	check "storage: a private mount namespace ($st_why)" false
	[ -n "$st_ns" ] && kill "$st_ns" 2>/dev/null
else
	st_var=$(mktemp -d /tmp/sb-e2e-storage.XXXXXX)
	if st_in mount -t tmpfs -o "size=$st_size,mode=0700" tmpfs "$st_var"; then
		SIDE_IN="nsenter -t $st_ns -m --root --wd=$PWD --" SIDE_AT=$st_var
		if side_start; then
			st_faults
		else
			check "the storage stack starts" false
		fi
		side_stop "the storage stack stops without leftovers"
		unset SIDE_IN SIDE_AT
	else
		check "storage: a $st_size tmpfs is mounted" false
	fi
	kill "$st_ns" 2>/dev/null
	wait "$st_ns" 2>/dev/null
	rm -rf "$st_var"
fi
