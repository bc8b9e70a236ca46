#!/bin/bash
# The umfuse runner's poller (common/burst-poll.h): while a module serves
# a stream of requests (umfuseext2 -o single: one thread, where it acts),
# one poller process runs beside it, a child of the runner, in a session
# of its own, at nice 19; it is gone once the mount ends, and when the
# runner is killed; VOS_FUSE_POLL=0 starts none. And the data written
# meanwhile is intact.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"
. "$HERE/ext2-lib.sh"
[ -e "$VOS_BUILD_ROOT/services/umfuse/umfuse.so" ] || skip "umfuse service not built"
[ -e "$UMFUSEEXT2" ] || skip "umfuseext2.so not built"
command -v ps >/dev/null || skip "ps is not installed (procps)"
T=$TEST_DIR

mkimg a.img 32M ext4 || fail "mke2fs"
mkdir -p mnt
# In the view: a burst of requests in the background, and a look at the
# runner's children meanwhile ("pid ppid sid nice args" of each poller).
view_script='
	T='"$T"'
	pollers() { ps -eo pid=,ppid=,sid=,ni=,args= | awk "\$5 == \"/proc/self/exe\" && \$6 == \"poll\""; }
	um_add_service umfuse || exit 10
	mount -t umfuseext2 -o rw+,single $T/a.img $T/mnt || exit 11
	runner=$(ps -eo pid=,args= | awk "/vos-fuse-runner module/ && !/awk/ { print \$1 }" | head -1)
	echo "runner: $runner"
	( end=$((SECONDS + 3)); i=0
	  while [ $SECONDS -lt $end ]; do echo $i > $T/mnt/f$((i % 50)); stat $T/mnt/f$((i % 50)) >/dev/null; i=$((i + 1)); done ) &
	burst=$!
	sleep 1
	pollers | sed "s/^/during: /"
	wait $burst
	seq 1 1000 > $T/mnt/numbers
	if [ "$1" = kill ]; then
		kill -KILL $runner
		for i in $(seq 50); do kill -0 $runner 2>/dev/null || break; sleep 0.1; done
	else
		umount $T/mnt || exit 12
		for i in $(seq 50); do kill -0 $runner 2>/dev/null || break; sleep 0.1; done
	fi
	sleep 0.3
	pollers | sed "s/^/after: /"
	exit 0
'

out=$(vos_run -- bash -c "$view_script" bash umount 2>err1); st=$?
expect_eq "burst and umount ($(cat err1))" 0 "$st"
runner=$(sed -n 's/^runner: //p' <<<"$out")
[ -n "$runner" ] || fail "no runner found: $out"
during=$(grep "^during: " <<<"$out")
expect_eq "one poller during the burst ($out)" 1 "$(grep -c . <<<"$during")"
read -r _ pid ppid sid ni args <<<"$during"
expect_eq "the poller is the runner's child" "$runner" "$ppid"
expect_eq "the poller leads its own session" "$pid" "$sid"
expect_eq "the poller runs at nice 19" 19 "$ni"
expect_eq "no poller after umount" "" "$(grep "^after: " <<<"$out")"
expect_eq "data written during the burst" "$(seq 1 1000 | md5sum)" \
	"$(step 30 "$DEBUGFS" -R "cat /numbers" a.img 2>/dev/null | md5sum)"
fsck_clean "image after the burst" a.img

out=$(VOS_FUSE_POLL=0 vos_run -- bash -c "$view_script" bash umount 2>err2); st=$?
expect_eq "VOS_FUSE_POLL=0 run ($(cat err2))" 0 "$st"
expect_eq "VOS_FUSE_POLL=0: no poller" "" "$(grep "^during: " <<<"$out")"

out=$(vos_run -- bash -c "$view_script" bash kill 2>err3); st=$?
expect_eq "burst, then the runner killed ($(cat err3))" 0 "$st"
expect_eq "a poller ran before the kill" 1 "$(grep -c "^during: " <<<"$out")"
expect_eq "the poller dies with the runner" "" "$(grep "^after: " <<<"$out")"
ok "burst poller"
