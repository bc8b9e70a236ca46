#!/bin/bash
# The umfuse runner's poller (common/burst-poll.h), for modules that serve
# from one thread without promising VOS_FUSE_HINT_SERIAL_READER: libfuse's
# hello.c, built as a module that runs single-threaded (-s). While it
# serves a stream of requests, one poller process runs beside it, a child
# of the runner, in a session of its own, at nice 19; it is gone once the
# mount ends, and when the runner is killed; VOS_FUSE_POLL=0 starts none.
. "$(dirname "$0")/../lib.sh"
require_fuse
command -v ps >/dev/null || skip "ps is not installed (procps)"
EX=/usr/share/doc/libfuse3-dev/examples
[ -f "$EX/hello.c" ] || skip "libfuse's examples are not installed ($EX, Debian package libfuse3-dev)"
command -v cc >/dev/null || skip "no C compiler"
TOOL="$VOS_BUILD_ROOT/services/umfuse/vos-fuse-module"
T=$TEST_DIR

# hello.c unchanged, its main called with -s added
cat > hello1.c <<EOC
#include <string.h>
#define main hello_main
#include "$EX/hello.c"
#undef main
int main(int argc, char *argv[])
{
	char *args[argc + 2];
	memcpy(args, argv, sizeof(char *) * (size_t)argc);
	args[argc] = "-s";
	args[argc + 1] = NULL;
	return hello_main(argc + 1, args);
}
EOC
mkdir mods mnt
step 120 bash -c "cd mods && '$TOOL' hello1 ../hello1.c >/dev/null" || fail "vos-fuse-module hello1"

# In the view: a burst of requests in the background, and a look at the
# runner's children meanwhile ("pid ppid sid nice args" of each poller);
# then whether those pollers outlived the mount or the runner.
view_script='
	T='"$T"'
	um_add_service umfuse || exit 10
	mount -t umfusehello1 none $T/mnt || exit 11
	# this test'"'"'s runner (the module path holds the test directory)
	# and its pollers: other tests'"'"' may run beside
	runner=$(ps -eo pid=,args= | awk -v mod="$T/mods/umfusehello1.so" "/vos-fuse-runner module/ && index(\$0, mod) && !/awk/ { print \$1 }" | head -1)
	echo "runner: $runner"
	pollers() { ps -eo pid=,ppid=,sid=,ni=,args= | awk -v r="$runner" "\$2 == r && \$5 == \"/proc/self/exe\" && \$6 == \"poll\""; }
	( end=$((SECONDS + 3)); n=0
	  while [ $SECONDS -lt $end ]; do
		[ "$(cat $T/mnt/hello)" = "Hello World!" ] || { echo "bad read"; break; }
		n=$((n + 1))
	  done; echo "reads: $n" ) &
	burst=$!
	sleep 1
	during=$(pollers)
	[ -n "$during" ] && echo "$during" | sed "s/^/during: /"
	wait $burst
	if [ "$1" = kill ]; then
		kill -KILL $runner
	else
		umount $T/mnt || exit 12
	fi
	for i in $(seq 50); do kill -0 $runner 2>/dev/null || break; sleep 0.1; done
	sleep 0.3
	for p in $(echo "$during" | awk "{ print \$1 }"); do
		# alive, not a zombie left for its new parent to reap
		ps -o stat= -p $p | grep -qv "^Z" && echo "after: $p"
	done
	exit 0
'
export VOS_SERVICE_PATH="$VOS_BUILD_ROOT/services/umfuse:$T/mods"

out=$(vos_run -- bash -c "$view_script" bash umount 2>err1); st=$?
expect_eq "burst and umount ($(cat err1))" 0 "$st"
runner=$(sed -n 's/^runner: //p' <<<"$out")
[ -n "$runner" ] || fail "no runner found: $out"
expect_match "every read during the burst right" "^reads: [1-9]" "$out"
during=$(grep "^during: " <<<"$out")
expect_eq "one poller, a child of the runner, during the burst ($out)" 1 "$(grep -c . <<<"$during")"
read -r _ pid ppid sid ni args <<<"$during"
expect_eq "the poller leads its own session" "$pid" "$sid"
expect_eq "the poller runs at nice 19" 19 "$ni"
expect_eq "no poller after umount" "" "$(grep "^after: " <<<"$out")"

out=$(VOS_FUSE_POLL=0 vos_run -- bash -c "$view_script" bash umount 2>err2); st=$?
expect_eq "VOS_FUSE_POLL=0 run ($(cat err2))" 0 "$st"
expect_eq "VOS_FUSE_POLL=0: no poller" "" "$(grep "^during: " <<<"$out")"

out=$(vos_run -- bash -c "$view_script" bash kill 2>err3); st=$?
expect_eq "burst, then the runner killed ($(cat err3))" 0 "$st"
expect_eq "a poller ran before the kill" 1 "$(grep -c "^during: " <<<"$out")"
expect_eq "the poller dies with the runner" "" "$(grep "^after: " <<<"$out")"
finish
