#!/bin/bash
# The image is up to date soon after the last close of a written file,
# while the mount is still there (ext2fs-flusher.c: within 50 ms, several
# closes at once): outside the running view, a copy of the image taken a
# moment after the writes is clean for e2fsck -fn and holds the files.
# Then the same after rm, mkdir and a rename. Nothing was fsync'ed.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"
. "$HERE/ext2-lib.sh"
[ -e "$VOS_BUILD_ROOT/services/umfuse/umfuse.so" ] || skip "umfuse service not built"
[ -e "$UMFUSEEXT2" ] || skip "umfuseext2.so not built"
T=$TEST_DIR

mkimg a.img 64M ext4 || fail "mke2fs"
mkdir -p m
seq 1 20000 > numbers
# wait_for FILE: up to 30 s
wait_for() { for _ in $(seq 300); do [ -e "$1" ] && return 0; sleep 0.1; done; return 1; }

vos_run -- bash -c '
	T='"$T"'
	wait_for() { for _ in $(seq 300); do [ -e "$1" ] && return 0; sleep 0.1; done; return 1; }
	um_add_service umfuse || exit 10
	mount -t umfuseext2 -o rw+ $T/a.img $T/m || exit 11
	for i in $(seq 1 40); do cp $T/numbers $T/m/n$i || exit 12; done
	touch $T/written
	wait_for $T/checked1 || exit 13
	rm $T/m/n1 && mkdir $T/m/dir && mv $T/m/n2 $T/m/dir/moved && echo small > $T/m/dir/small || exit 14
	touch $T/changed
	wait_for $T/checked2 || exit 15
	umount $T/m
' >out 2>err &
view=$!
STARTED_PIDS+=("$view")

check() { # TAG
	cp --sparse=always a.img snap.img
	expect_eq "$1: e2fsck -fn of the image while mounted" 0 "$(step 60 "$E2FSCK" -fn snap.img >/dev/null 2>&1; echo $?)"
}
if wait_for written; then
	sleep 0.5
	check "after 40 closes"
	expect_eq "a file written" "$(md5sum < numbers)" "$(step 30 "$DEBUGFS" -R "cat /n40" snap.img 2>/dev/null | md5sum)"
else
	fail "the view did not write ($(cat err))"
fi
touch checked1
if wait_for changed; then
	sleep 0.5
	check "after rm, mkdir, rename"
	expect_eq "the renamed file" "$(md5sum < numbers)" "$(step 30 "$DEBUGFS" -R "cat /dir/moved" snap.img 2>/dev/null | md5sum)"
	expect_eq "the removed file is gone" "" "$(step 30 "$DEBUGFS" -R "ls /" snap.img 2>/dev/null | grep -ow n1)"
else
	fail "the view did not change the tree ($(cat err))"
fi
touch checked2
step 60 tail --pid="$view" -f /dev/null
wait "$view"; st=$?
expect_eq "view exit status ($(cat err))" 0 "$st"
fsck_clean "after umount" a.img
finish
