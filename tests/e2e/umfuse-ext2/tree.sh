#!/bin/bash
# Write a tree (a tarball of /usr/include) on ext4 (extents, 64bit, flex_bg,
# metadata_csum), ext3 and ext2 images, unmount: e2fsck -fn is clean, and a
# fresh read-only mount shows the same content (checksum list) and metadata.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"
. "$HERE/ext2-lib.sh"

[ -d /usr/include/linux ] || skip "/usr/include is not there to copy"
tar -C /usr -cf include.tar include 2>/dev/null || skip "cannot tar /usr/include"
tar -C /usr -cf linux.tar include/linux 2>/dev/null

# DIR -> checksums of the files, then "type mode nlink size target path" of
# everything (directory link counts and sizes depend on the filesystem).
sums() {
	(cd "$1" && find . -type f -print0 | sort -z | xargs -0 sha256sum &&
		find . -printf '%y %m %n %s %l %p\n' | grep -v ' \./lost+found' |
		sed 's/^d \([0-7]*\) [0-9]* [0-9]* /d \1 - - /' | sort)
}
declare -f sums > sums.sh

for fs in ext4 ext3 ext2; do
	img=$fs.img
	case $fs in
	ext4) mkimg "$img" 512M ext4 -b 4096 -O 64bit,metadata_csum,flex_bg,extent,huge_file
	      tarball=include.tar ;;
	*)    mkimg "$img" 128M "$fs"; tarball=linux.tar ;;
	esac || { fail "$fs: mke2fs"; continue; }
	rm -rf want && mkdir want && tar -C want -xf "$tarball"
	sums want > want.sums

	out=$(ns_run 120 "
		e2mount $img mnt -o rw+ || exit 10
		tar -C mnt -xf $tarball || exit 11
		sync mnt/include || exit 12
		e2umount mnt || exit 13
		e2mount $img mnt || exit 14
		. ./sums.sh && sums mnt > got.sums
		e2umount mnt || exit 15
	" 2>&1)
	st=$?
	expect_eq "$fs: write, unmount, remount read-only ($out)" 0 "$st"
	fsck_clean "$fs" "$img"
	if cmp -s want.sums got.sums; then
		ok "$fs: same files, checksums, modes, link counts, sizes, symlinks ($(grep -c . want.sums) lines)"
	else
		fail "$fs: content differs: $(diff want.sums got.sums | head -5)"
	fi
done
rm -rf want
grep -v '^$' "$E2LOG" | grep -q . && fail "messages from vos-ext2fs: $(head -3 "$E2LOG")"
finish
