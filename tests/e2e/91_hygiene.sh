# Operations hygiene (issue 8 §8): what cron leaves is the operator's
# alone, and a secrets folder others can read stops sbctl with a message
# that says how to fix it.

rm -f "$SB_VAR_DIR/log/sbctl.log" "$SB_VAR_DIR/run/cron-config.lock"
(umask 022 && scripts/cron config) >/dev/null 2>&1
check "scripts/cron ran sbctl" test -s "$SB_VAR_DIR/log/sbctl.log"
check "scripts/cron's log is 0600 under a lax umask" \
    is "$(stat -c %a "$SB_VAR_DIR/log/sbctl.log")" 600
check "scripts/cron's lock is 0600 under a lax umask" \
    is "$(stat -c %a "$SB_VAR_DIR/run/cron-config.lock")" 600

hy_var=$(mktemp -d /tmp/sb-e2e-hygiene.XXXXXX)
SB_VAR_DIR=$hy_var "$SB_BIN_DIR/sbctl" init >/dev/null 2>&1
check "sbctl init makes secrets/ 0700" is "$(stat -c %a "$hy_var/secrets")" 700
check "sbctl init makes the sandbox's control token 0600" \
    is "$(stat -c %a "$hy_var/secrets/sandbox.token")" 600
chmod 755 "$hy_var/secrets"
out=$(SB_VAR_DIR=$hy_var "$SB_BIN_DIR/sbctl" init 2>&1)
rc=$?
check "secrets/ readable by others: sbctl init refuses" test "$rc" -ne 0
check "secrets/ readable by others: the message says how to fix it" \
    grep -q "chmod 700 $hy_var/secrets" <<<"$out"
out=$(SB_VAR_DIR=$hy_var SB_MIGRATIONS_DIR=db/migrations "$SB_BIN_DIR/sbctl" refresh 2>&1)
rc=$?
check "secrets/ readable by others: sbctl refresh refuses" test "$rc" -ne 0
check "secrets/ readable by others: refresh names the mode" \
    grep -q "mode 0700 (it is 0755)" <<<"$out"
chmod 700 "$hy_var/secrets"
SB_VAR_DIR=$hy_var "$SB_BIN_DIR/sbctl" init >/dev/null 2>&1
check "secrets/ back to 0700: sbctl init runs again" is "$?" 0
rm -rf "$hy_var"
