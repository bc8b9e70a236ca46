#!/bin/bash
# kill -9 of vosd while a view it serves runs: a process blocked in a
# trapped mount(2) and one blocked in a FUSE read return with an error
# within a second, none stays in D state, and `vos run` still exits with
# its command's status.
. "$(dirname "$0")/../lib.sh"
require_fuse
start_vosd

mkdir -p dev
cd /
start "$VOS" run --daemon -- sh -c '
	um_add_service stall || exit 10
	mount -t stallread none '"$TEST_DIR"'/dev/r || exit 11
	(cat '"$TEST_DIR"'/dev/r; echo "read-returned=$?" > '"$TEST_DIR"'/read.done) &
	(mount -t stallwait none '"$TEST_DIR"'/dev/w 2>/dev/null; echo "mount-returned=$?" > '"$TEST_DIR"'/mount.done) &
	echo started > '"$TEST_DIR"'/ready
	wait
	exit 6
'
vos_pid=$LAST_PID
cd "$TEST_DIR"
for _ in $(seq 100); do
	[ -e ready ] && break
	sleep 0.1
done
[ -e ready ] || fail "the view never started its blocked processes"
sleep 0.5
[ ! -e read.done ] && ok "read is blocked" || fail "read returned early: $(cat read.done)"
[ ! -e mount.done ] && ok "mount is blocked" || fail "mount returned early: $(cat mount.done)"

kill -KILL "$VOSD_PID"
t0=$(date +%s%N)
for _ in $(seq 30); do
	[ -e read.done ] && [ -e mount.done ] && break
	sleep 0.05
done
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
[ -e read.done ] && ok "FUSE read returned after vosd death" || fail "FUSE read still blocked"
[ -e mount.done ] && ok "trapped mount returned after vosd death" || fail "trapped mount still blocked"
[ "$ms" -le 1500 ] && ok "within ${ms} ms" || fail "took ${ms} ms"
expect_match "read failed" "read-returned=[1-9]" "$(cat read.done 2>/dev/null)"
expect_match "mount failed" "mount-returned=[1-9]" "$(cat mount.done 2>/dev/null)"
dstate=$(ps -eo stat=,args= | grep -E '^D' | grep -c "$TEST_DIR")
expect_eq "no process in D state" 0 "$dstate"
# The client is still the view's reaper: it exits with the command's status.
for _ in $(seq 40); do kill -0 "$vos_pid" 2>/dev/null || break; sleep 0.05; done
kill -0 "$vos_pid" 2>/dev/null && fail "vos run still running" || { wait "$vos_pid"; expect_eq "vos run exit status" 6 $?; }
finish
