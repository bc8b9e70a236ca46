#!/bin/bash
# A service that crashes takes down only its own mounts: a SIGSEGV or an
# abort() in a FUSE operation (a filesystem's read, a device's read), in
# the trapped mount callback or in init fails that call with EIO, the
# service's other mounts then fail with ENOTCONN, a line on the
# supervisor's output names the service and the signal, and umdev's
# ramdisk, the rest of the view and the supervisor carry on; the view
# exits with its command's status and leaves no process behind. A umfuse
# module that crashes ends only its own runner process and mount.
# (tests/fixtures/service-faulty.c and umfuse-crash.c crash on purpose.)

# Sanitized builds: the supervisor installs its fault handlers over the
# sanitizer's (which still report faults outside service calls); what a
# crashed call had allocated is lost on purpose (vos_service(3)), so leak
# checking at exit is off for this test.
if [ "${VOS_SANITIZED:-0}" = 1 ]; then
	export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
fi
. "$(dirname "$0")/../lib.sh"
require_fuse

T=$TEST_DIR
mkdir fs fs2 fs4 fs5 fs6 fs7 uf uf2
start "$VOS" run -o "$T/debug.log" -- sh -c '
	T='"$T"'
	# check NAME CMD...: run it with a timeout; report its status and
	# its first error line.
	check() {
		name=$1; shift
		e=$(timeout 10 "$@" 2>&1 >/dev/null); s=$?
		echo "$name: status=$s err=$(printf "%s\n" "$e" | head -n1)"
	}
	um_add_service umdev || exit 10
	um_add_service faulty || exit 11
	um_add_service umfuse || exit 12
	mount -t umdevramdisk -o size=1M none $T/disk || exit 13
	mount -t faultyfs none $T/fs || exit 14
	mount -t faultyfs none $T/fs2 || exit 15
	mount -t faultydev none $T/fdev || exit 16
	echo before | dd of=$T/disk conv=notrunc status=none
	echo "hello: $(cat $T/fs/hello)"

	# 1. SIGSEGV in a filesystem read: every mount of the service goes.
	check segv-read cat $T/fs/segv
	check same-mount-after cat $T/fs/hello
	check other-mount-after cat $T/fs2/hello
	check device-after cat $T/fdev
	check mount-after mount -t faultyfs none $T/fs3
	echo "disk: $(head -c 6 $T/disk)"
	echo after | dd of=$T/disk bs=1 seek=512 conv=notrunc status=none
	echo "disk-write: $(dd if=$T/disk bs=1 skip=512 count=5 status=none)"
	um_ls_service | sed "s/^/ls: /"
	echo "shell: $(echo still here)"
	um_del_service faulty; echo "del-after-segv=$?"

	# 2. SIGSEGV in a device read.
	um_add_service faulty || exit 17
	mount -t faultydev none $T/fdev2 || exit 18
	echo x > $T/fdev2; echo "dev-write=$?"
	check dev-read cat $T/fdev2
	um_del_service faulty; echo "del-after-dev=$?"

	# 3. abort() in a filesystem read.
	um_add_service faulty || exit 19
	mount -t faultyfs none $T/fs4 || exit 20
	check abort-read cat $T/fs4/abort
	um_del_service faulty; echo "del-after-abort=$?"

	# 4. SIGSEGV in the trapped mount callback; later mounts are refused.
	um_add_service faulty || exit 21
	check mount-crash mount -t faultyfs -o crash none $T/fs5
	check mount-refused mount -t faultyfs none $T/fs6
	um_del_service faulty; echo "del-after-mount=$?"

	# 5. SIGSEGV in init.
	check init-crash um_add_service faulty,crash

	# 6. A new instance of the same service works.
	um_add_service faulty || exit 22
	mount -t faultyfs none $T/fs7 || exit 23
	echo "fresh: $(cat $T/fs7/hello)"

	# 7. umfuse: the module runs in a runner process of its own.
	mount -t umfusecrash none $T/uf || exit 24
	mount -t umfusecrash none $T/uf2 || exit 25
	echo "umfuse: $(cat $T/uf/hello)"
	check umfuse-crash cat $T/uf/crash
	check umfuse-after cat $T/uf/hello
	echo "umfuse-other: $(cat $T/uf2/hello)"

	echo "disk-end: $(head -c 6 $T/disk)"
	# Every process of the view, for the check that none outlives it.
	mnt=$(readlink /proc/self/ns/mnt)
	for p in /proc/[0-9]*; do
		[ "$(readlink $p/ns/mnt 2>/dev/null)" = "$mnt" ] && echo "${p#/proc/}"
	done > $T/view.pids
	exit 7
' >"$T/out" 2>"$T/err"
vos_pid=$LAST_PID
for _ in $(seq 900); do
	kill -0 "$vos_pid" 2>/dev/null || break
	sleep 0.1
done
if kill -0 "$vos_pid" 2>/dev/null; then
	fail "the view did not end within 90 s"
	kill -KILL "$vos_pid"
fi
wait "$vos_pid"; st=$?
out=$(cat "$T/out")
err=$(cat "$T/err")
echo "--- view output"; cat "$T/out"; echo "--- view errors"; cat "$T/err"; echo "---"

expect_eq "the view exits with its command's status" 7 "$st"
expect_match "faultyfs serves before the crash" "^hello: hello from faulty$" "$out"

# The call that crashed fails with EIO, never a hang (status 124).
expect_match "segv in read: EIO" "^segv-read: status=1 err=.*Input/output error" "$out"
expect_match "abort in read: EIO" "^abort-read: status=1 err=.*Input/output error" "$out"
expect_match "segv in a device read: EIO" "^dev-read: status=1 err=.*Input/output error" "$out"
gone="Transport endpoint is not connected|Input/output error"
expect_match "the crashed mount fails after" "^same-mount-after: status=1 err=.*($gone)" "$out"
expect_match "the service's other mount fails" "^other-mount-after: status=1 err=.*($gone)" "$out"
expect_match "the service's device fails" "^device-after: status=1 err=.*($gone)" "$out"
expect_match "a crashed service takes no new mount" "^mount-after: status=(32|[1-9]) err=." "$out"
expect_match "segv in the mount callback fails the mount" "^mount-crash: status=(32|[1-9]) err=." "$out"
expect_match "then its mounts are refused" "^mount-refused: status=(32|[1-9]) err=." "$out"
expect_match "segv in init fails um_add_service" \
	"^init-crash: status=[1-9][0-9]* err=.*faulty: crashed \(SIGSEGV\) in its initialisation" "$out"

# Everything else carries on.
expect_match "umdev ramdisk after the crash" "^disk: before$" "$out"
expect_match "umdev ramdisk written after the crash" "^disk-write: after$" "$out"
expect_match "umdev ramdisk at the end" "^disk-end: before$" "$out"
expect_match "um_ls_service after the crash" "^ls: umdev: virtual devices$" "$out"
expect_match "the shell after the crash" "^shell: still here$" "$out"
for d in del-after-segv del-after-dev del-after-abort del-after-mount; do
	expect_match "um_del_service of the crashed service ($d)" "^$d=0$" "$out"
done
expect_match "a device of a new instance takes writes" "^dev-write=0$" "$out"
expect_match "a new instance serves" "^fresh: hello from faulty$" "$out"

# umfuse: the runner dies, its mount with it (the request in flight is
# aborted by the kernel: ECONNABORTED), the other runner serves on.
expect_match "umfuse serves before the crash" "^umfuse: hello from umfusecrash$" "$out"
expect_match "umfuse crash fails the read" \
	"^umfuse-crash: status=1 err=.*(Software caused connection abort|$gone)" "$out"
expect_match "umfuse mount after the crash" "^umfuse-after: status=1 err=.*($gone)" "$out"
expect_match "umfuse's other mount serves" "^umfuse-other: hello from umfusecrash$" "$out"

# The log names the service and the signal.
line="vos: service faulty crashed \((SIGSEGV|SIGABRT)\) in [a-z_]+; its mounts now fail with EIO/ENOTCONN"
expect_eq "one crash line per crash" 4 "$(grep -cE "^$line$" <<<"$err")"
expect_match "log: segv in read" "^vos: service faulty crashed \(SIGSEGV\) in read;" "$err"
expect_match "log: abort in read" "^vos: service faulty crashed \(SIGABRT\) in read;" "$err"
expect_match "log: segv in mount" "^vos: service faulty crashed \(SIGSEGV\) in mount;" "$err"
expect_match "log: umfuse module" "^umfuse: umfusecrash.so crashed \(SIGSEGV\); its mount now fails with ENOTCONN$" "$err"
if [ "${VOS_FORCE_DAEMON:-0}" != 1 ]; then
	expect_match "debug log names the crash" "view [0-9]+: service faulty crashed \(SIGSEGV\) in read" \
		"$(cat "$T/debug.log")"
fi

# No process of the view outlives it (the supervisor is checked above:
# vos returned the status; through vosd, vosd must still serve).
n_pids=$(wc -l <"$T/view.pids" 2>/dev/null || echo 0)
[ "$n_pids" -ge 2 ] && ok "the view listed its $n_pids processes" || fail "no process list from the view"
left=""
alive() { [ -r "/proc/$1/stat" ] && [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" != Z ]; }
for _ in $(seq 20); do
	left=""
	while read -r p; do
		alive "$p" && left="$left $p"
	done <"$T/view.pids"
	[ -z "$left" ] && break
	sleep 0.1
done
expect_eq "no process of the view is left" "" "$left"
if [ -n "${VOSD_PID:-}" ]; then
	kill -0 "$VOSD_PID" 2>/dev/null && ok "vosd survived" || fail "vosd died"
	expect_eq "vosd serves a new view" "ok" "$(vos_run -- sh -c 'echo ok')"
fi
finish
