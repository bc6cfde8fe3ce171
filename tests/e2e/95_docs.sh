# The documents run as written: every ```sh block of README.md and
# docs/*.md is run against the test stack, so an example that stops
# working fails `make test`.
#
# The convention for code blocks in those documents:
#   ```sh       commands a reader pastes; run here, in order.
#   ```console  commands that cannot run against the test stack (`make
#               run` itself, Docker, a real provider's credentials); not
#               run.
#   ```text     output, headers, payload shapes; not run (also ```json,
#               ```http and any other language name).
# Every code block is fenced and names its language: an indented code
# block, a bare ``` fence, or ```bash / ```shell (which a reader cannot
# tell from ```sh) fails the document's layout check below.
#
# How the blocks run: the ```sh blocks of one document run in order in one
# bash (variables carry from block to block, as for a reader pasting
# them), from the repository root, with `set -e -o pipefail` and
# inherit_errexit, stdin closed, at most DOCS_TIMEOUT_S seconds per
# document.  `curl` is a function that adds --fail-with-body (so a 4xx or
# 5xx answer fails the block, with the body in the log), --show-error and
# --max-time 30; a reader's curl prints the same answers.  An example that
# shows an error answer on purpose prints its status itself (curl -w
# '%{http_code}'): that curl is not failed by a 4xx or 5xx.  Before running,
# the documented addresses are rewritten to the test stack's:
# 127.0.0.1:8080/3000/3001/8081 (and localhost:...) to the gateway,
# projects, events and sandbox ports, `var/secrets/` to a folder holding
# this stack's static tokens (the stack takes them from SB_*_TOKEN, not from
# its key files), and any other `var/` to SB_VAR_DIR.  Each block gives one
# TAP line naming file and line; after a failed block the rest of that
# document is reported as not run (it would depend on the failed one).
# Sandbox switches and counters are cleared before and after.

DOCS_TIMEOUT_S=${DOCS_TIMEOUT_S:-300}
docs_dir=$SB_VAR_DIR/docs
mkdir -p "$docs_dir/secrets"
printf '%s\n' "$SB_PROJECTS_TOKEN" >"$docs_dir/secrets/projects.token"
printf '%s\n' "$SB_EVENTS_TOKEN" >"$docs_dir/secrets/events.token"
cp "$SB_VAR_DIR/secrets/sandbox.token" "$docs_dir/secrets/sandbox.token"
# the CRM sync's secrets the stack made (docs/crm-sync.md reads them)
cp "$SB_VAR_DIR/secrets/crm-webhook.secret" \
    "$SB_VAR_DIR/secrets/crm-client.secret" "$docs_dir/secrets/"

docs_reset() {
	curl -s -o /dev/null -X DELETE "$SBX/_sandbox/faults" -H "$SBX_AUTH"
	curl -s -o /dev/null -X DELETE "$SBX/_sandbox/stats" -H "$SBX_AUTH"
}

# docs_extract FILE SCRIPT MANIFEST LAYOUT: writes the ```sh blocks of FILE
# into SCRIPT, each followed by a mark on fd 3, the starting line of each
# block into MANIFEST (one a line), and layout faults into LAYOUT.
docs_extract() {
	awk -v script="$2" -v manifest="$3" -v layout="$4" '
	function lead(s) { match(s, /^ */); return RLENGTH }
	BEGIN { fence = 0; blank = 1; n = 0 }
	!fence && /^ *```/ {
		indent = lead($0)
		info = substr($0, indent + 4)
		sub(/[ \t].*/, "", info)
		fence = 1; start = FNR; run = (info == "sh")
		if (info == "" || info ~ /^(bash|shell|zsh|shell-session|sh-session)$/)
			printf "%d: a ```%s block: say sh (run by the tests) or console/text (not run)\n", FNR, info > layout
		if (run) {
			n++
			print FNR + 1 > manifest
			printf "printf \"\\n### block %d\\n\"\n", n > script
		}
		blank = 0
		next
	}
	fence && /^ *```[ \t]*$/ {
		if (run)
			printf "echo %d >&3\n", n > script
		fence = 0; blank = 0
		next
	}
	fence {
		if (run) {
			line = $0
			k = lead(line)
			print substr(line, (k < indent ? k : indent) + 1) > script
		}
		next
	}
	blank && /^(    |\t)/ && !/^[ \t]*$/ {
		printf "%d: an indented code block: fence it (```sh runs, ```console and ```text do not)\n", FNR > layout
	}
	{ blank = ($0 ~ /^[ \t]*$/) }
	END {
		if (fence)
			printf "%d: the code block opened here is not closed\n", start > layout
	}' "$1"
}

# docs_run FILE: one layout line and one TAP line per ```sh block of FILE.
docs_run() {
	local file=$1 work script manifest layout marks log body rc done=0 i=0
	local line failed=
	work=$(mktemp -d "$docs_dir/run.XXXXXX")
	script=$work/script.sh manifest=$work/manifest layout=$work/layout
	marks=$work/marks log=$work/log body=$work/body
	: >"$manifest"
	: >"$layout"
	: >"$body"
	docs_extract "$file" "$body" "$manifest" "$layout"
	check "docs: $file: every code block is fenced and says sh, console or text" \
	    test ! -s "$layout"
	awk '{ print "#   " $0 }' "$layout"
	[ -s "$manifest" ] || return 0
	{
		echo 'set -e -o pipefail'
		echo 'shopt -s inherit_errexit'
		cat <<'CURL'
curl() {
	case "$*" in
	*'%{http_code}'*) command curl --show-error --max-time 30 "$@" ;;
	*) command curl --fail-with-body --show-error --max-time 30 "$@" ;;
	esac
}
CURL
		sed -E \
		    -e "s/(127\\.0\\.0\\.1|localhost):8080\\b/\\1:$SB_GATEWAY_PORT/g" \
		    -e "s/(127\\.0\\.0\\.1|localhost):3000\\b/\\1:$SB_PROJECTS_PORT/g" \
		    -e "s/(127\\.0\\.0\\.1|localhost):3001\\b/\\1:$SB_EVENTS_PORT/g" \
		    -e "s/(127\\.0\\.0\\.1|localhost):8081\\b/\\1:$SB_SANDBOX_PORT/g" \
		    -e "s#(^|[^[:alnum:]_./-])var/secrets/#\\1$docs_dir/secrets/#g" \
		    -e "s#(^|[^[:alnum:]_./-])var/#\\1$SB_VAR_DIR/#g" "$body"
	} >"$script"
	: >"$marks"
	timeout "$DOCS_TIMEOUT_S" bash "$script" 3>"$marks" >"$log" 2>&1 \
	    </dev/null
	rc=$?
	done=$(wc -l <"$marks")
	while read -r line; do
		i=$((i + 1))
		if [ "$i" -le "$done" ]; then
			echo "ok - docs: $file:$line runs"
		elif [ -z "$failed" ]; then
			failed=$file:$line
			echo "not ok - docs: $file:$line fails (exit $rc)"
			sed -n "/^### block $i\$/,\$p" "$log" | tail -n 25 |
			    awk '{ print "#   " $0 }'
		else
			echo "not ok - docs: $file:$line not run ($failed failed)"
		fi
	done <"$manifest"
}

# The check itself can fail: a block whose curl gets a 404, a block after
# it, and an indented code block are all reported.
docs_reset
docs_selftest=$docs_dir/selftest.md
printf '%s\n' '# t' '' '```sh' 'x=1' '```' '' '```sh' \
    'curl -s http://127.0.0.1:8080/no/such/route' '```' '' '```sh' \
    'echo "$x"' '```' '' '    indented' >"$docs_selftest"
docs_self=$(docs_run "$docs_selftest")
check "docs: a block that succeeds is ok" \
    grep -q "^ok - docs: $docs_selftest:4 runs" <<<"$docs_self"
check "docs: a block whose curl gets a 404 fails" \
    grep -q "^not ok - docs: $docs_selftest:8 fails" <<<"$docs_self"
check "docs: the blocks after a failed one are not run" \
    grep -q "^not ok - docs: $docs_selftest:12 not run" <<<"$docs_self"
check "docs: an indented code block fails the layout check" \
    grep -q "^not ok - docs: $docs_selftest: every code block" <<<"$docs_self"

for docs_file in README.md docs/*.md; do
	docs_run "$docs_file"
done
docs_reset
