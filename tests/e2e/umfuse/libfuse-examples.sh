#!/bin/bash
# libfuse's own examples, compiled from the system's copy with
# vos-fuse-module into umfuse modules and mounted in a view: each must
# behave as it does as a kernel FUSE program. Two mounts of one module at
# once; every runner ends when its mount is unmounted.
. "$(dirname "$0")/../lib.sh"
require_fuse

EX=/usr/share/doc/libfuse3-dev/examples
[ -f "$EX/hello.c" ] || skip "libfuse's examples are not installed ($EX, Debian package libfuse3-dev)"
command -v cc >/dev/null || skip "no C compiler"
pkg-config --exists fuse3 || skip "pkg-config cannot find fuse3"
TOOL="$VOS_BUILD_ROOT/services/umfuse/vos-fuse-module"
T=$TEST_DIR

mkdir mods
for e in hello hello_ll null passthrough passthrough_fh passthrough_ll ioctl poll; do
	if msg=$(cd mods && step 120 "$TOOL" "$e" "$EX/$e.c" -lpthread 2>&1); then
		ok "vos-fuse-module $e"
	else
		fail "vos-fuse-module $e: $msg"
	fi
done
expect_match "the compile command is printed" "^cc -shared -fPIC -o ./umfusehello.so $EX/hello.c .*-lfuse3" \
	"$(cd mods && "$TOOL" hello "$EX/hello.c" 2>&1)"
step 60 cc -o ioctl_client "$EX/ioctl_client.c" -I"$EX" || fail "cannot build ioctl_client"
step 60 cc -o poll_client "$EX/poll_client.c" $(pkg-config --cflags fuse3) || fail "cannot build poll_client"

mkdir hello hello2 hello_ll pt pt2 ptfh ptll ioctl poll
touch nullfile
export VOS_SERVICE_PATH="$T/mods"
out=$(STEP_TIMEOUT=90 vos_run -- bash -c '
	T='"$T"'
	um_add_service umfuse || exit 10
	mount -t umfusehello none $T/hello || exit 11
	echo "hello: $(cat $T/hello/hello)"
	echo "hello ls: $(ls $T/hello)"
	mount -t umfusehello none $T/hello2 || exit 12
	echo "hello2: $(cat $T/hello2/hello) / hello: $(cat $T/hello/hello)"
	mount -t umfusehello_ll none $T/hello_ll || exit 13
	echo "hello_ll: $(cat $T/hello_ll/hello)"

	mount -t umfusenull none $T/nullfile || exit 14
	echo "null size: $(stat -c %s $T/nullfile)"
	echo "null read: $(head -c 65536 $T/nullfile | od -An -tx1 -v | tr -s " \n" "\n\n" | sort -u | tr -d "\n")"
	dd if=/dev/urandom of=$T/nullfile bs=4096 count=8 conv=notrunc status=none && echo "null write: ok"
	echo "null eof: $(dd if=$T/nullfile bs=4096 skip=1048576 count=1 status=none | wc -c)"

	mount -t umfusepassthrough none $T/pt || exit 15
	mount -t umfusepassthrough none $T/pt2 || exit 16
	mount -t umfusepassthrough_fh none $T/ptfh || exit 17
	mount -t umfusepassthrough_ll none $T/ptll || exit 18
	for d in pt pt2 ptfh ptll; do
		ls $T/$d/etc/hostname >/dev/null && echo "$d sees /etc/hostname"
		echo "written through $d" > $T/$d$T/via-$d.txt
	done
	echo "pt2 reads pt: $(cat $T/pt2$T/via-pt.txt)"

	mount -t umfuseioctl none $T/ioctl || exit 19
	echo "ioctl size: $($T/ioctl_client $T/ioctl/fioc)"
	$T/ioctl_client $T/ioctl/fioc 100 && echo "ioctl set: ok"
	echo "ioctl size: $($T/ioctl_client $T/ioctl/fioc)"
	sleep 1.2 # the attribute timeout (1 s) of a high-level libfuse program
	echo "ioctl stat: $(stat -c %s $T/ioctl/fioc)"

	mount -t umfusepoll none $T/poll || exit 20
	(cd $T/poll && timeout 20 $T/poll_client > $T/poll.out; echo "poll_client: $?")
	echo "poll lines: $(grep -c "^[0-9A-F_]" $T/poll.out)"

	vosctl mounts | grep -c " $T/" | sed "s/^/mounts: /"
	umount $T/hello $T/hello2 $T/hello_ll $T/nullfile $T/pt $T/pt2 $T/ptfh $T/ptll $T/ioctl $T/poll || exit 21
	# Each runner ends with its connection; then the service is idle.
	for i in $(seq 50); do um_del_service umfuse 2>/dev/null && { echo "service removed"; break; }; sleep 0.1; done
' 2>"$T/err"); st=$?
err=$(cat "$T/err")
expect_eq "status" 0 "$st"
expect_match "hello" "^hello: Hello World!$" "$out"
expect_match "hello lists its file" "^hello ls: hello$" "$out"
expect_match "two hello mounts at once" "^hello2: Hello World! / hello: Hello World!$" "$out"
expect_match "hello_ll" "^hello_ll: Hello World!$" "$out"
expect_match "null is 4 GiB" "^null size: 4294967296$" "$out"
expect_match "null reads zeros" "^null read: 00$" "$out"
expect_match "null accepts writes" "^null write: ok$" "$out"
expect_match "null ends at 4 GiB" "^null eof: 0$" "$out"
for d in pt pt2 ptfh ptll; do
	expect_match "$d shows the view's /" "^$d sees /etc/hostname$" "$out"
	expect_eq "$d writes to the real directory" "written through $d" "$(cat "$T/via-$d.txt" 2>&1)"
done
expect_match "two passthrough mounts share the files" "^pt2 reads pt: written through pt$" "$out"
expect_match "ioctl get" "^ioctl size: 0$" "$out"
expect_match "ioctl set" "^ioctl set: ok$" "$out"
expect_match "ioctl get after set" "^ioctl size: 100$" "$out"
expect_match "ioctl size seen by stat" "^ioctl stat: 100$" "$out"
expect_match "poll_client finishes" "^poll_client: 0$" "$out"
expect_match "poll_client saw 16 rounds" "^poll lines: 16$" "$out"
expect_match "ten mounts listed" "^mounts: 10$" "$out"
expect_match "every runner ended after umount" "^service removed$" "$out"
# libfuse 3.14's fuse_main() prints "Ignoring invalid max threads value"
# for every multi-threaded program, kernel FUSE or not.
if grep -v -e "^Ignoring invalid max threads value" -e "^vos run: warning: no working-directory layer" <<<"$err" | grep -q .; then
	fail "unexpected messages: $err"
else
	ok "no error messages"
fi
finish
