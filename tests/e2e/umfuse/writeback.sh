#!/bin/bash
# A FUSE program writes back when its loop ends: the view's end must let
# it. umfuseext2 (rw+) on ext4, as in the seed: on an image file, and on
# the partition of an umdevmbr disk (served by the same supervisor); 300
# files written, then (a) the view ends without unmounting, (b) umount and
# the view ends at once. In every case, as soon as `vos run` has returned,
# e2fsck -fn is clean and debugfs lists every file.
# A program that takes its time (fuse2fs in a wrapper that sleeps 1 s
# once fuse2fs has ended, then leaves a mark) makes the wait visible: the
# mark must be there when `vos run` returns.
. "$(dirname "$0")/../lib.sh"
require_fuse
export PATH="$PATH:/sbin:/usr/sbin"
for t in mkfs.ext4 e2fsck debugfs; do command -v "$t" >/dev/null || skip "$t is not installed"; done
UMFUSEEXT2_DIR="$VOS_BUILD_ROOT/services/umfuse/ext2"
[ -e "$UMFUSEEXT2_DIR/umfuseext2.so" ] || skip "umfuseext2 is not built"
export VOS_SERVICE_PATH="$VOS_BUILD_ROOT/services/umfuse:$UMFUSEEXT2_DIR:$VOS_BUILD_ROOT/services/umdev:$VOS_SERVICE_PATH"

# The partition case: one partition from sector 2048; its image is cut
# out with dd for e2fsck and debugfs.
truncate -s 65M disk.img && echo 'start=2048, type=83' | sfdisk -q disk.img 2>/dev/null ||
	skip "sfdisk cannot partition an image here"
touch hd hd1 hd2 hd3 hd4
for how in no-umount umount umdev-no-umount umdev-umount; do
	if [ "${how#umdev-}" = "$how" ]; then
		rm -f img && truncate -s 64M img && mkfs.ext4 -q -F img || fail "mkfs"
		source=$TEST_DIR/img setup=true
	else
		source=$TEST_DIR/hd1
		setup="um_add_service umdev && mount -t umdevmbr $TEST_DIR/disk.img $TEST_DIR/hd && mkfs.ext4 -q -F $TEST_DIR/hd1"
	fi
	mkdir -p mnt
	out=$(vos_run --native-cwd -- bash -c "
		$setup || exit 9
		um_add_service umfuse || exit 10
		mount -t umfuseext2 -o rw+ $source $TEST_DIR/mnt || exit 11
		mkdir $TEST_DIR/mnt/d || exit 12
		for i in \$(seq 300); do echo \"file \$i\" > $TEST_DIR/mnt/d/f\$i || exit 13; done
		case $how in umount|umdev-umount) umount $TEST_DIR/mnt || exit 14 ;; esac
		echo written
	" 2>&1)
	st=$?
	expect_eq "$how: view status ($out)" 0 "$st"
	[ "${how#umdev-}" = "$how" ] || dd if=disk.img of=img bs=512 skip=2048 status=none
	fsck=$(e2fsck -fn img 2>&1); st=$?
	expect_eq "$how: e2fsck -fn clean right after vos run returned ($(tail -1 <<<"$fsck"))" 0 "$st"
	n=$(debugfs -R "ls -l /d" img 2>/dev/null | grep -c ' f[0-9]')
	expect_eq "$how: every file is in the image" 300 "$n"
	expect_eq "$how: a file's content" "file 300" "$(debugfs -R 'cat /d/f300' img 2>/dev/null)"
done

FUSE2FS=$(command -v fuse2fs) || FUSE2FS=
if [ -n "$FUSE2FS" ]; then
	cat > slowfs <<EOF2
#!/bin/sh
$FUSE2FS "\$@"
st=\$?
sleep 1
echo "fuse2fs ended: \$st" > $TEST_DIR/mark
EOF2
	chmod +x slowfs
	for how in no-umount umount; do
		rm -f mark img && truncate -s 32M img && mkfs.ext4 -q -F img || fail "mkfs"
		out=$(vos_run --native-cwd -- sh -c "
			um_add_service umfuse || exit 10
			mount -t umfuse -o prog=$TEST_DIR/slowfs,rw $TEST_DIR/img $TEST_DIR/mnt || exit 11
			echo data > $TEST_DIR/mnt/file || exit 12
			[ $how = umount ] && { umount $TEST_DIR/mnt || exit 13; }
			true
		" 2>&1)
		st=$?
		expect_eq "slow program, $how: view status ($out)" 0 "$st"
		expect_eq "slow program, $how: it ended on its own before vos run returned" "fuse2fs ended: 0" "$(cat mark 2>/dev/null)"
		expect_eq "slow program, $how: its file is in the image" "data" "$(debugfs -R 'cat /file' img 2>/dev/null)"
	done
else
	echo "note: fuse2fs is not installed: the slow-program cases are left out"
fi
finish
