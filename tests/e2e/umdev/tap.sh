#!/bin/bash
# umdevtap: two views, each with a tap device (`mount -t umdevtap -o
# vde=URL none /dev/net/tap0`) plugged into the same VDE switch (vde_plug's
# switch module, its socket in the test's directory), exchange Ethernet
# frames: A writes a raw broadcast frame while a thread of A is blocked in
# read() on the node, B (TUNSETIFF IFF_TAP, with packet info) sleeps in
# select() until the frame comes (FUSE poll notification) and answers A's
# MAC. Then, in one view: TUNSETIFF, TUNGETIFF,
# TUNGETFEATURES; O_NONBLOCK; a read ended by a signal and one by SIGKILL;
# TUNSETIFF on a regular file gets the kernel's ENOTTY; bad mounts fail
# with one line and leave the service working. No frame leaves the switch.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"
require_fuse
# The tap's VDE port is opened in the supervisor, and libvdeplug dlopen()s
# its plugins with RTLD_DEEPBIND, which AddressSanitizer refuses.
[ -z "${VOS_SANITIZED:-}" ] || skip "libvdeplug (RTLD_DEEPBIND) cannot load in an AddressSanitizer build"
for t in vde_plug python3; do
	command -v "$t" >/dev/null 2>&1 || skip "$t is not installed"
done
P="$HERE/tapframe.py"
D=$TEST_DIR

# The views start in a directory of their own (see umnet/vde-ping.sh).
mkdir "$D/run" && cd "$D/run" || exit 99
start vde_plug null:// "switch://$D/sw"
for _ in $(seq 50); do [ -e "$D/sw/ctl" ] && break; sleep 0.1; done
[ -e "$D/sw/ctl" ] || { fail "the VDE switch did not start"; finish; }

start "$VOS" run -- timeout 25 bash -c "
	um_add_service umdev || exit 10
	mount -t umdevtap -o vde=vde://$D/sw none /dev/net/tap0 || exit 11
	python3 $P /dev/net/tap0 peer-b $D" > "$D/b.out" 2>&1
b_pid=$LAST_PID
out=$(vos_run -- bash -c "
	um_add_service umdev || exit 10
	mount -t umdevtap -o vde=vde://$D/sw none /dev/net/tap0 || exit 11
	python3 $P /dev/net/tap0 peer-a $D" 2>&1); st=$?
echo "$out" | sed 's/^/  A: /'
step 30 tail --pid="$b_pid" -f /dev/null
wait "$b_pid"; bst=$?
bout=$(cat "$D/b.out")
echo "$bout" | sed 's/^/  B: /'
expect_eq "view A" 0 "$st"
expect_eq "view B" 0 "$bst"
expect_match "B: TUNSETIFF names the interface after the node" "^B: TUNSETIFF IFF_TAP -> tap0$" "$bout"
expect_match "A: a write goes out while a read is blocked" "^A: wrote 26 bytes while a read was blocked$" "$out"
expect_match "B: poll on the node slept until A's frame came" "^B: select woke up for a frame after [0-9.]+ s$" "$bout"
expect_match "B: packet info before the frame" "^B: packet info flags 0 proto 0x88b5$" "$bout"
expect_match "B: A's broadcast frame" "^B: got from 020000000a0a to ffffffffffff: hello from A$" "$bout"
expect_match "A: B's answer, in the blocked read" "^A: got from 020000000b0b to 020000000a0a: hello from B$" "$out"

echo x > "$D/regular"
out=$(vos_run -- bash -c "
	um_add_service umdev || exit 10
	mount -t umdevtap -o vde=vde://$D/sw none /dev/net/tap0 || exit 11
	python3 $P /dev/net/tap0 ioctls
	python3 $P /dev/net/tap0 nonblock
	python3 $P /dev/net/tap0 interrupt
	timeout -s KILL 2 python3 $P /dev/net/tap0 block; echo \"killed reader st=\$?\"
	python3 $P $D/regular not-a-tap
	umount /dev/net/tap0 && echo umounted
	bad() { # NAME MOUNT-ARGS...
		local name=\$1; shift
		echo \"== \$name\" >&2
		mount \"\$@\" 2>>$D/mount.err; echo \"\$name st=\$?\"
	}
	bad nourl -t umdevtap none /dev/net/tap1
	bad emptyurl -t umdevtap -o vde= none /dev/net/tap1
	bad noswitch -t umdevtap -o vde=vde://$D/no-such-switch none /dev/net/tap1
	bad option -t umdevtap -o vde=vde://$D/sw,frob=1 none /dev/net/tap1
	echo '== end' >&2
	mount -t umdevtap -o vde=vde://$D/sw none /dev/net/tap0 && python3 $P /dev/net/tap0 nonblock | sed 's/^/again: /'
	um_ls_service
" 2>"$D/err"); st=$?
err=$(cat "$D/err")
echo "$err" | sed "s/^/  stderr: /"
echo "$out" | sed 's/^/  /'
expect_eq "view status" 0 "$st"
expect_match "TUNSETIFF refuses IFF_TUN" "^IFF_TUN: EINVAL$" "$out"
expect_match "TUNSETIFF IFF_TAP|IFF_NO_PI" "^TUNSETIFF IFF_TAP\|IFF_NO_PI -> tap0$" "$out"
expect_match "TUNGETIFF" "^TUNGETIFF -> tap0 flags 0x1002$" "$out"
expect_match "TUNGETFEATURES (FUSE's own ioctl path)" "^TUNGETFEATURES -> 0x1002$" "$out"
expect_match "O_NONBLOCK read of an idle tap: EAGAIN" "^nonblock: EAGAIN$" "$out"
expect_match "poll: an idle tap is not readable" "^poll idle: not readable$" "$out"
expect_match "a signal ends a blocked read" "^interrupt: SIGALRM ended the read after 1 s$" "$out"
expect_match "SIGKILL ends a blocked reader" "^killed reader st=137$" "$out"
expect_match "TUNSETIFF on a regular file: the kernel's answer" "^regular file: TUNSETIFF ENOTTY$" "$out"
expect_match "umount of an idle tap" "^umounted$" "$out"
case_lines() {
	awk -v c="== $1" '$0 == c { on = 1; next } /^== / { on = 0 } on' <<<"$err"
}
check() { # NAME REGEX
	local lines
	lines=$(case_lines "$1")
	expect_match "$1: mount fails" "^$1 st=[1-9]" "$out"
	expect_one_line_error "$1" "$lines" 1
	expect_match "$1: message" "$2" "$lines"
}
check nourl "^umdevtap: needs a VDE network: mount -t umdevtap -o vde=URL none NODE$"
check emptyurl "^umdevtap: needs a VDE network"
check noswitch "^umdevtap: vde=vde://.*/no-such-switch: cannot plug into the VDE network: "
check option "^umdevtap: unknown option 'frob' \(known: vde=URL\)$"
expect_match "a tap mounts again afterwards" "^again: nonblock: EAGAIN$" "$out"
expect_match "the service is still loaded" "^umdev: virtual devices$" "$out"
finish
