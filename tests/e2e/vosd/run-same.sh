#!/bin/bash
# vos run through vosd gives the same output and exit status as the
# embedded supervisor; vosctl ps, mounts, status, --json, service commands
# with --view, and stop work against a private vosd.
. "$(dirname "$0")/../lib.sh"
require_fuse
start_vosd

# both WHAT ARGS...: run `vos run ARGS` embedded and through vosd; compare.
both() {
	local what=$1
	shift
	local oe od se sd
	oe=$(step 30 "$VOS" run --embedded "$@" 2>&1); se=$?
	od=$(step 30 "$VOS" run --daemon "$@" 2>&1); sd=$?
	expect_eq "$what: same output" "$oe" "$od"
	expect_eq "$what: same status" "$se" "$sd"
}
mkdir d
both "exit 3" -- sh -c 'echo hi; exit 3'
both "false" -- false
both "SIGKILL" -- sh -c 'kill -9 $$'
both "SIGTERM" -- sh -c 'kill -TERM $$'
both "missing command" -- /nonexistent/cmd
both "unknown service" -p nosuchservice -- true
both "orphan waited for" -- sh -c '(sleep 0.3; echo late) & exit 0'
both "umdev mount" -p umdev -- sh -c "mount -t umdevnull none $TEST_DIR/d/null && echo x > $TEST_DIR/d/null && um_ls_service && vosctl mounts"
both "view-control call" -- sh -c 'um_add_service umdev; um_add_service umdev; um_ls_service; vosctl view >/dev/null; echo $?'
both "cwd-relative mount point" -p umdev -- sh -c 'mount -t umdevnull none rel && ls rel && ls -d rel'
out=$(echo piped | step 30 "$VOS" run --daemon -- cat); expect_eq "stdin through vosd" "piped" "$out"

# --daemon with no vosd: one line, status 1; --embedded ignores vosd.
err=$(VOS_SOCKET=$TEST_DIR/nothing.sock step 10 "$VOS" run --daemon -- true 2>&1); st=$?
expect_one_line_error "--daemon without vosd" "$err" "$st"
expect_match "--daemon without vosd: message" "cannot reach vosd at $TEST_DIR/nothing.sock" "$err"

# A running view, seen through vosctl.
start step 30 "$VOS" run --daemon -p umdev -- sh -c "mount -t umdevnull none $TEST_DIR/d/n2; echo up > $TEST_DIR/up; sleep 20"
for _ in $(seq 100); do [ -e up ] && break; sleep 0.05; done
[ -e up ] || fail "the view never started"
ps_out=$(step 10 vosctl ps); expect_match "ps lists the view" "umdev +sh -c mount -t umdevnull" "$ps_out"
id=$(step 10 vosctl --json ps | grep -o '"id":[0-9]*' | head -1 | cut -d: -f2)
expect_match "ps --json has an id" '^[0-9]+$' "$id"
expect_match "ps --json" "\"owner\":$(id -u),\"user\":\"$(id -un)\",\"pid\":[0-9]+,\"command\":\"sh -c mount" "$(step 10 vosctl --json ps)"
expect_eq "mounts VIEW" "$id umdevnull none $TEST_DIR/d/n2" "$(step 10 vosctl mounts "$id")"
expect_eq "mounts --json" "[{\"view\":$id,\"type\":\"umdevnull\",\"source\":\"none\",\"target\":\"$TEST_DIR/d/n2\"}]" "$(step 10 vosctl --json mounts "$id")"
expect_match "status" "^views: 1$" "$(step 10 vosctl status)"
expect_match "status --json" '^\{"version":"[0-9.]+","pid":[0-9]+,"uptime":[0-9]+,"views":1,"workers":0,"rss_kib":[0-9]+\}$' "$(step 10 vosctl --json status)"
step 10 vosctl --view "$id" add-service stall; expect_eq "add-service --view" 0 $?
expect_eq "ls-service --view" "umdev: virtual devices
stall: test service that blocks forever" "$(step 10 vosctl --view "$id" ls-service)"
err=$(step 10 vosctl --view "$id" del-service umdev 2>&1); st=$?
expect_one_line_error "del-service of a busy service" "$err" "$st"
step 10 vosctl --view "$id" del-service stall; expect_eq "del-service --view" 0 $?
err=$(step 10 vosctl stop 999 2>&1); st=$?
expect_eq "stop of no view: exit 5" 5 "$st"
expect_match "stop of no view: message" "no view 999" "$err"
err=$(step 10 vosctl mounts 0x1 2>&1); expect_eq "bad view id: exit 2" 2 $?
t0=$(date +%s%N)
step 10 vosctl stop "$id"; expect_eq "stop" 0 $?
for _ in $(seq 40); do [ -z "$(step 10 vosctl --json ps | grep -o '"id"')" ] && break; sleep 0.05; done
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
expect_eq "no view after stop" "[]" "$(step 10 vosctl --json ps)"
[ "$ms" -lt 2000 ] && ok "stop took ${ms} ms" || fail "stop took ${ms} ms"
kill -0 "$VOSD_PID" 2>/dev/null && ok "vosd still running" || fail "vosd died: $(cat vosd.log)"

# vosctl without a daemon.
err=$(VOS_SOCKET=$TEST_DIR/nothing.sock step 10 vosctl ps 2>&1); st=$?
expect_eq "ps without vosd: exit 4" 4 "$st"
expect_one_line_error "ps without vosd" "$err" "$st"
finish
