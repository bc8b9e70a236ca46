#!/bin/bash
# The seed's umdevmbr session, verbatim inside a view: a zero-filled
# test.img, `mount -t umdevmbr test.img test_hd`, sfdisk makes one Linux
# partition, `sfdisk -l` lists test_hd1, test_hd1..4 exist, mkfs.ext3
# test_hd1 works; afterwards, outside the view, e2fsck finds the
# partition's byte range of test.img clean. Then four partitions (the
# seed's four lines), nodes that follow the table without a remount,
# mkfs.ext2 / mkfs.vfat / fdisk / blkid / e2fsck on the nodes.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"
. "$HERE/disk-lib.sh"
require_fuse
require_disk_tools sfdisk fdisk mkfs.ext3 mkfs.ext2 mkfs.vfat e2fsck blkid blockdev

dd if=/dev/zero of=test.img bs=1M count=20 status=none
out=$(vos_disk_run -- bash -c '
	cd '"$TEST_DIR"' || exit 9
	um_add_service umdev || exit 10
	mount -t umdevmbr test.img '"$TEST_DIR"'/test_hd || exit 11
	cd "$PWD"
	echo nodes $(ls -d test_hd*)
	echo ",,L" | sfdisk -q test_hd || exit 12
	sfdisk -l test_hd
	echo size1=$(blockdev --getsize64 test_hd1) size2=$(blockdev --getsize64 test_hd2)
	mkfs.ext3 -q test_hd1 || exit 13
	echo mkfs3=ok
	e2fsck -fn test_hd1 >/dev/null 2>&1; echo fsck-in-view=$?
	blkid -o value -s TYPE test_hd1
	# BLKSSZGET does not encode its size, so FUSE gives no buffer: it
	# must fail (tools fall back to 512), never "succeed" with garbage.
	ss=$(blockdev --getss test_hd 2>/dev/null) && echo getss=$ss || echo getss=unsupported
' 2>"$TEST_DIR/err"); st=$?
expect_eq "seed session status" 0 "$st"
[ "$st" -eq 0 ] || cat "$TEST_DIR/err" >&2
expect_match "nodes test_hd, test_hd1..4" "^nodes test_hd test_hd1 test_hd2 test_hd3 test_hd4$" "$out"
expect_match "sfdisk -l names the disk" "^Disk test_hd: 20 MiB, 20971520 bytes, 40960 sectors$" "$out"
expect_match "sfdisk -l lists test_hd1 as Linux" "^test_hd1 +2048 +40959 +38912 +19M +83 Linux$" "$out"
expect_match "partition node size follows the new table" "^size1=19922944 size2=0$" "$out"
expect_match "mkfs.ext3 test_hd1" "^mkfs3=ok$" "$out"
expect_match "e2fsck in the view" "^fsck-in-view=0$" "$out"
expect_match "blkid sees ext3" "^ext3$" "$out"
expect_match "BLKSSZGET is refused, not answered with garbage" "^getss=(unsupported|512)$" "$out"
[ -z "$(cat "$TEST_DIR/err")" ] && ok "no messages from the supervisor" || fail "supervisor said: $(cat "$TEST_DIR/err")"

# Outside the view: the partition's byte range of test.img.
read -r start count < <(part_range test.img 1)
expect_eq "partition 1 range in the image" "2048 38912" "$start $count"
step 30 dd if=test.img of=part1.img bs=512 skip="$start" count="$count" status=none
fsck_out=$(step 30 e2fsck -fn part1.img 2>&1); fst=$?
expect_eq "e2fsck -fn of the partition range, outside the view" 0 "$fst"
[ "$fst" -eq 0 ] || echo "$fsck_out" >&2
expect_match "it is the ext3 mkfs made" "has_journal" "$(step 10 dumpe2fs -h part1.img 2>/dev/null | grep -i features)"

# Four partitions: sfdisk -l lists test_hd1..4 as the seed does; the
# nodes follow a rewritten table at once; other filesystems and tools.
out=$(vos_disk_run -- bash -c '
	cd '"$TEST_DIR"' || exit 9
	um_add_service umdev || exit 10
	mount -t umdevmbr test.img '"$TEST_DIR"'/test_hd || exit 11
	cd "$PWD"
	echo before=$(blockdev --getsize64 test_hd1)
	printf ",4M,L\n,4M,L\n,4M,6\n,,L\n" | sfdisk -q test_hd || exit 12
	sfdisk -l test_hd | grep "^test_hd"
	for i in 1 2 3 4; do printf "%s " $(blockdev --getsize64 test_hd$i); done; echo
	mkfs.ext2 -q test_hd2 || exit 13
	mkfs.vfat test_hd3 >/dev/null || exit 14
	blkid -o value -s TYPE test_hd2 test_hd3 | tr "\n" " "; echo
	e2fsck -fn test_hd2 >/dev/null 2>&1; echo fsck2=$?
	fdisk -l test_hd | grep -c "^test_hd[1-4] "
	head -c 512 test_hd | tail -c 2 | od -An -tx1
' 2>"$TEST_DIR/err"); st=$?
expect_eq "four partitions status" 0 "$st"
[ "$st" -eq 0 ] || cat "$TEST_DIR/err" >&2
expect_match "old table seen at mount" "^before=19922944$" "$out"
for i in 1 2 4; do
	expect_match "sfdisk -l lists test_hd$i" "^test_hd$i .* 83 Linux$" "$out"
done
expect_match "sfdisk -l lists test_hd3" "^test_hd3 .* 6 FAT16$" "$out"
expect_match "nodes follow the rewritten table" "^4194304 4194304 4194304 7340032 $" "$out"
expect_match "mkfs.ext2 and mkfs.vfat on partitions" "^ext2 vfat $" "$out"
expect_match "e2fsck on test_hd2" "^fsck2=0$" "$out"
expect_match "fdisk -l lists four" "^4$" "$out"
expect_match "MBR signature written through test_hd" "^ 55 aa$" "$out"
finish
