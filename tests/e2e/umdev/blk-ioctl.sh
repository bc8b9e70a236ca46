#!/bin/bash
# The block-device ioctls whose encoding carries no argument size
# (BLKSSZGET, BLKPBSZGET, BLKIOMIN, BLKROGET, BLKGETSIZE, HDIO_GETGEO): FUSE
# cannot return their data, so the view's filter traps ioctl for these
# request numbers and the supervisor answers them for the view's device
# nodes only. blockdev(8) and Python's fcntl.ioctl on a umdevmbr disk, its
# partition and a read-only ramdisk get the disk's values; a regular file
# (behind the working-directory layer and not) and an O_PATH fd get the
# kernel's own answers.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"
. "$HERE/disk-lib.sh"
require_fuse
require_disk_tools sfdisk blockdev python3
P="$HERE/blkioctl.py"
D=$TEST_DIR

truncate -s 20M test.img
echo "2048,10000,L" | step 10 sfdisk -q test.img
echo data > plain
touch keep # see mbr-io.sh: no overlay over the images' directory
out=$(vos_disk_run -- bash -c "
	cd $D || exit 9
	um_add_service umdev || exit 10
	mount -t umdevmbr test.img $D/hd || exit 11
	mount -t umdevramdisk -o size=3M,ro none $D/rd || exit 12
	echo blockdev-disk \$(blockdev --getss --getpbsz --getiomin --getro --getsize --getsize64 $D/hd)
	echo blockdev-part \$(blockdev --getss --getpbsz --getsize --getsize64 $D/hd1)
	blockdev --getss plain 2>&1 | sed 's/^/blockdev-plain /'
	python3 $P $D/hd $D/hd1 $D/rd plain /dev/null
	python3 $P --opath $D/hd
" 2>&1); st=$?
echo "$out" | sed 's/^/  /'
expect_eq "view status" 0 "$st"
expect_match "blockdev on the disk" "^blockdev-disk 512 512 512 0 40960 20971520$" "$out"
expect_match "blockdev on partition 1" "^blockdev-part 512 512 10000 5120000$" "$out"
expect_match "blockdev on a regular file: the kernel's ENOTTY" "^blockdev-plain .*BLKSSZGET: Inappropriate ioctl for device$" "$out"
expect_match "ioctls on the disk" "^$D/hd ssz=512 pbsz=512 iomin=512 ro=0 sectors=40960 bytes=20971520 geo=255/63/2/0$" "$out"
expect_match "ioctls on partition 1: its start in HDIO_GETGEO" "^$D/hd1 ssz=512 pbsz=512 iomin=512 ro=0 sectors=10000 bytes=5120000 geo=255/63/2/2048$" "$out"
expect_match "ioctls on a read-only ramdisk" "^$D/rd ssz=512 pbsz=512 iomin=512 ro=1 sectors=6144 bytes=3145728 geo=255/63/0/0$" "$out"
expect_match "a regular file behind the layer: the kernel's answers" "^plain ssz=ENOTTY pbsz=ENOTTY iomin=ENOTTY ro=ENOTTY sectors=ENOTTY bytes=ENOTTY geo=ENOTTY$" "$out"
expect_match "a character device of the host: the kernel's answers" "^/dev/null ssz=ENOTTY pbsz=ENOTTY iomin=ENOTTY ro=ENOTTY sectors=ENOTTY bytes=ENOTTY geo=ENOTTY$" "$out"
expect_match "an O_PATH fd on a device node: the kernel's EBADF" "^O_PATH: BLKSSZGET EBADF$" "$out"
finish
