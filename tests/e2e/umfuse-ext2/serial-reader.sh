#!/bin/bash
# umfuseext2 promises vos-fuse-runner a serial reader and
# FUSE_HANDLE_KILLPRIV_V2 (vos-fuse-hints.h). Under concurrent load (four
# untars, a reader of a large file and a stat loop at once), every byte
# arrives and the image stays clean; no burst poller is started for it;
# and SUID/SGID follow the kernel's rules now that the kernel leaves them
# to the module: a write or truncate by the view's root keeps them, a
# chown clears SUID and the SGID of a group-executable file, and in human
# mode a write by another user clears both. Workers that libfuse ends
# give up the turn.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"
. "$HERE/ext2-lib.sh"
[ -e "$VOS_BUILD_ROOT/services/umfuse/umfuse.so" ] || skip "umfuse service not built"
[ -e "$UMFUSEEXT2" ] || skip "umfuseext2.so not built"
command -v ps >/dev/null || skip "ps is not installed (procps)"
[ -d /usr/include/linux ] || skip "/usr/include/linux is not there to copy"
T=$TEST_DIR

tar -C /usr -cf linux.tar include/linux
head -c $((24 * 1048576)) /dev/urandom > big
mkimg a.img 256M ext4 || fail "mke2fs"
mkdir -p m
out=$(STEP_TIMEOUT=120 vos_run -- bash -c '
	T='"$T"'
	pollers() { ps -eo args= | grep -c "^/proc/self/exe poll"; }
	um_add_service umfuse || exit 10
	mount -t umfuseext2 -o rw+ $T/a.img $T/m || exit 11
	cp $T/big $T/m/big || exit 12
	for i in 1 2 3 4; do mkdir $T/m/t$i && tar -C $T/m/t$i -xf $T/linux.tar & done
	( for i in 1 2 3; do md5sum < $T/m/big; done > $T/sums ) &
	( end=$((SECONDS + 2)); while [ $SECONDS -lt $end ]; do stat $T/m/t1 >/dev/null; done ) &
	sleep 0.5
	echo "pollers: $(pollers)"
	wait
	echo "big: $(sort -u $T/sums | wc -l) $(head -1 $T/sums)"
	python3 - $T/m <<"PY" || exit 13
import os, sys
m = sys.argv[1]
f = m + "/s"
def mode(): return oct(os.stat(f).st_mode & 0o7777)
open(f, "w").close()
os.chmod(f, 0o6755)
with open(f, "a") as fh: fh.write("x")
print("after-write", mode())
os.truncate(f, 0)
print("after-truncate", mode())
os.chown(f, 0, 0)
print("after-chown", mode())
os.chmod(f, 0o6745)
os.chown(f, 0, 0)
print("sgid-not-group-exec", mode())
PY
	umount $T/m || exit 14
	for i in $(seq 100); do um_del_service umfuse 2>/dev/null && break; sleep 0.1; done
' 2>err1); st=$?
expect_eq "concurrent load ($(cat err1))" 0 "$st"
expect_eq "no burst poller for a serial reader" "pollers: 0" "$(grep "^pollers: " <<<"$out")"
expect_eq "the large file read right three times" "big: 1 $(md5sum < big)" "$(grep "^big: " <<<"$out")"
expect_eq "write by root keeps SUID and SGID" "after-write 0o6755" "$(grep "^after-write" <<<"$out")"
expect_eq "truncate by root keeps them" "after-truncate 0o6755" "$(grep "^after-truncate" <<<"$out")"
expect_eq "chown clears SUID and SGID" "after-chown 0o755" "$(grep "^after-chown" <<<"$out")"
expect_eq "chown keeps SGID without group exec" "sgid-not-group-exec 0o2745" "$(grep "^sgid-not-group" <<<"$out")"
fsck_clean "image after the load" a.img
# every untarred tree is whole (debugfs lists . and .. too)
want=$(( $(tar -tf linux.tar | grep -cE '^include/linux/[^/]+/?$') + 2 ))
for i in 1 2 3 4; do
	expect_eq "tree t$i: entries of include/linux" "$want" \
		"$(step 60 "$DEBUGFS" -R "ls -p /t$i/include/linux" a.img 2>/dev/null | grep -c '^/')"
done
expect_eq "a file of tree t4 intact" "$(tar -xOf linux.tar include/linux/kernel.h | md5sum)" \
	"$(step 30 "$DEBUGFS" -R "cat /t4/include/linux/kernel.h" a.img 2>/dev/null | md5sum)"

# Threads that libfuse ends after their request (max_idle_threads=1 ends
# most) give up the turn as they go: two rounds of concurrent load end,
# nothing hangs, the image is clean.
mkimg b.img 256M ext4 || fail "mke2fs b"
out=$(STEP_TIMEOUT=120 vos_run -- bash -c '
	T='"$T"'
	um_add_service umfuse || exit 10
	mount -t umfuseext2 -o rw+,max_idle_threads=1 $T/b.img $T/m || exit 11
	cp $T/big $T/m/big || exit 12
	for r in 1 2; do
		for i in 1 2 3 4; do mkdir -p $T/m/t$r$i && tar -C $T/m/t$r$i -xf $T/linux.tar & done
		( md5sum < $T/m/big; md5sum < $T/m/big ) > $T/sums &
		wait
	done
	echo "big: $(sort -u $T/sums | wc -l) $(head -1 $T/sums)"
	umount $T/m || exit 14
	for i in $(seq 100); do um_del_service umfuse 2>/dev/null && break; sleep 0.1; done
' 2>err2); st=$?
expect_eq "load with workers ending ($(cat err2))" 0 "$st"
expect_eq "the large file read right" "big: 1 $(md5sum < big)" "$(grep "^big: " <<<"$out")"
fsck_clean "image after workers ended" b.img
finish
