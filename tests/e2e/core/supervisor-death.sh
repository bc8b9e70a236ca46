#!/bin/bash
# kill -9 of the supervisor never hangs the view: a process blocked in a
# trapped mount(2) and one blocked in a FUSE read both return with an error
# within a second, and none stays in D state.
. "$(dirname "$0")/../lib.sh"
require_fuse
# This kills the embedded supervisor (the vos process); vosd/death.sh
# kills vosd's worker.
[ "${VOS_FORCE_DAEMON:-0}" = 1 ] && skip "the daemon's supervisor death is tested by vosd/death"

mkdir -p dev
# Started from /, so the markers below are written natively: with the
# supervisor gone, its working-directory layer answers ENOTCONN like every
# other service mount.
cd /
start "$VOS" run -- sh -c '
	um_add_service stall || exit 10
	mount -t stallread none '"$TEST_DIR"'/dev/r || exit 11
	(cat '"$TEST_DIR"'/dev/r; echo "read-returned=$?" > '"$TEST_DIR"'/read.done) &
	(mount -t stallwait none '"$TEST_DIR"'/dev/w 2>/dev/null; echo "mount-returned=$?" > '"$TEST_DIR"'/mount.done) &
	echo started > '"$TEST_DIR"'/ready
	wait
'
vos_pid=$LAST_PID
cd "$TEST_DIR"

for _ in $(seq 100); do
	[ -e ready ] && break
	sleep 0.1
done
[ -e ready ] || fail "the view never started its blocked processes"
# Both must really be blocked now: the mount pending in the supervisor,
# the read pending on the FUSE connection.
sleep 0.5
[ ! -e read.done ] && ok "read is blocked" || fail "read returned early: $(cat read.done)"
[ ! -e mount.done ] && ok "mount is blocked" || fail "mount returned early: $(cat mount.done)"

kill -KILL "$vos_pid"
t0=$(date +%s%N)
for _ in $(seq 30); do
	[ -e read.done ] && [ -e mount.done ] && break
	sleep 0.05
done
t1=$(date +%s%N)
ms=$(( (t1 - t0) / 1000000 ))
[ -e read.done ] && ok "FUSE read returned after supervisor death" || fail "FUSE read still blocked"
[ -e mount.done ] && ok "trapped mount returned after supervisor death" || fail "trapped mount still blocked"
[ "$ms" -le 1500 ] && ok "within ${ms} ms" || fail "took ${ms} ms"
expect_match "read failed" "read-returned=[1-9]" "$(cat read.done 2>/dev/null)"
expect_match "mount failed" "mount-returned=[1-9]" "$(cat mount.done 2>/dev/null)"
dstate=$(ps -eo stat=,args= | grep -E '^D' | grep -c "$TEST_DIR")
expect_eq "no process in D state" 0 "$dstate"

# --on-supervisor-death=kill: every process of the view dies instead.
cd /
start "$VOS" run --on-supervisor-death=kill -- sh -c '
	sleep 100 & echo $! > '"$TEST_DIR"'/sleeper.pid
	(setsid sleep 100 & echo $! > '"$TEST_DIR"'/daemon.pid)
	wait'
vos_pid=$LAST_PID
cd "$TEST_DIR"
for _ in $(seq 100); do
	[ -s sleeper.pid ] && [ -s daemon.pid ] && break
	sleep 0.05
done
sleeper=$(cat sleeper.pid) daemon=$(cat daemon.pid)
STARTED_PIDS+=("$sleeper" "$daemon")
kill -KILL "$vos_pid"
# Alive: exists and is not a zombie waiting for its (new) parent to reap it.
alive() { [ -r "/proc/$1/stat" ] && [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" != Z ]; }
for _ in $(seq 20); do
	alive "$sleeper" || alive "$daemon" || break
	sleep 0.05
done
alive "$sleeper" && fail "a child of the command survived the supervisor" || ok "kill policy: the command's child died"
alive "$daemon" && fail "a setsid daemon of the view survived the supervisor" || ok "kill policy: a detached process died"
err=$(step 10 "$VOS" run --on-supervisor-death=maybe -- true 2>&1); st=$?
expect_one_line_error "bad --on-supervisor-death" "$err" "$st"
finish
