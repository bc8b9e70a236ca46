#!/bin/bash
# Processes that die, or exec, while their calls are trapped never confuse
# the supervisor: the notification of a dead process is simply stale (its
# id no longer valid), a pid the kernel reuses is a new process. In one
# view, for a few seconds:
#  - 150 trap-threads processes (4 threads of trapped view-control calls
#    each) are SIGKILLed at random moments in the middle of their calls;
#  - 100 python processes exec /bin/true from their main thread while a
#    second thread is in a loop of trapped socket() calls;
#  - 100 shells mount and unmount an umdevnull device and are killed
#    meanwhile.
# Afterwards the same view answers 8 x 1000 trapped calls correctly, mounts
# and does I/O, its supervisor has about as many fds as before (the last
# mount's server is joined at the next mount: a few fds), and it exits 0.
# Found here: the servers of unmounted FUSE mounts were joined only when
# their service was removed, so 100 mount/umount cycles left 230 fds.
. "$(dirname "$0")/../lib.sh"
require_fuse
command -v python3 >/dev/null || skip "python3 is not installed"
FIXTURES="$VOS_BUILD_ROOT/tests/fixtures"

cat > "$TEST_DIR/exec-race.py" <<'PY'
import os, socket, threading, time
def calls():
    while True:
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM).close()
threading.Thread(target=calls, daemon=True).start()
time.sleep(0.002 * (os.getpid() % 7))
os.execv("/bin/true", ["true"])
PY

out=$(step 240 "$VOS" run -- bash -c '
	sup_fds() { ls /proc/$1/fd | wc -l; }
	sup=$PPID
	before=$(sup_fds $sup)
	um_add_service umdev || exit 10
	i=0
	while [ $i -lt 150 ]; do
		'"$FIXTURES"'/trap-threads 4 100000 >/dev/null 2>&1 &
		p=$!
		sleep 0.0$((RANDOM % 3))
		kill -9 $p 2>/dev/null; wait $p 2>/dev/null
		i=$((i + 1))
	done
	echo "killed-in-calls 150"
	echo "fds after killed calls $(sup_fds $sup)"
	ok=0; i=0
	while [ $i -lt 100 ]; do
		python3 '"$TEST_DIR"'/exec-race.py && ok=$((ok + 1))
		i=$((i + 1))
	done
	echo "exec-during-calls $ok"
	echo "fds after execs $(sup_fds $sup)"
	i=0
	while [ $i -lt 100 ]; do
		( while :; do mount -t umdevnull none '"$TEST_DIR"'/n$i 2>/dev/null; umount '"$TEST_DIR"'/n$i 2>/dev/null; done ) &
		p=$!
		sleep 0.0$((RANDOM % 3))
		kill -9 $p 2>/dev/null; wait $p 2>/dev/null
		i=$((i + 1))
	done
	echo "killed-in-mounts 100"
	# a killed shell may leave its device mounted: unmount what is left
	i=0
	while [ $i -lt 100 ]; do umount '"$TEST_DIR"'/n$i 2>/dev/null; i=$((i + 1)); done
	'"$FIXTURES"'/trap-threads 8 1000
	mount -t umdevtrivhd none '"$TEST_DIR"'/disk && echo data > '"$TEST_DIR"'/disk && head -c 4 '"$TEST_DIR"'/disk && echo
	umount '"$TEST_DIR"'/disk
	sleep 0.5
	after=$(sup_fds $sup)
	echo "supervisor fds $before -> $after"
' 2>&1)
st=$?
echo "$out" | sed 's/^/  /'
expect_eq "the view exits 0" 0 "$st"
expect_match "processes killed in trapped calls" "^killed-in-calls 150$" "$out"
expect_match "exec while another thread is in trapped calls" "^exec-during-calls 100$" "$out"
expect_match "shells killed while mounting" "^killed-in-mounts 100$" "$out"
expect_match "afterwards 8 x 1000 trapped calls are answered" "^ok 8000$" "$out"
expect_match "afterwards a device mounts and does I/O" "^data$" "$out"
fds=$(sed -n 's/^supervisor fds \([0-9]*\) -> \([0-9]*\)$/\1 \2/p' <<<"$out")
read -r before after <<<"$fds"
if [ -n "$before" ] && [ -n "$after" ] && [ "$after" -le $((before + 8)) ]; then
	ok "supervisor fds: $before before, $after after"
else
	fail "supervisor fds grew: $fds"
fi
finish
