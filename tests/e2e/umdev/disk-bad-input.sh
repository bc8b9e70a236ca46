#!/bin/bash
# Bad disks and bad options for umdevmbr and umdevramdisk: each mount
# fails with one line from the service naming the problem, the images are
# left as they were, the supervisor survives and a disk mounted before
# keeps working (as do new mounts).
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"
. "$HERE/disk-lib.sh"
require_fuse
require_disk_tools sfdisk md5sum

mkdir adir
mkfifo fifo
head -c 100 /dev/zero > tiny.img
# truncated: a valid table for 20 MiB on a 10 MiB file
truncate -s 20M truncated.img
echo ",,L" | step 10 sfdisk -q truncated.img
truncate -s 10M truncated.img
truncate -s 10M overlap.img
mbr_entry overlap.img 0 0 0 0x83 2048 4096
mbr_entry overlap.img 0 1 0 0x83 4000 4096
truncate -s 10M range.img
mbr_entry range.img 0 0 0x80 0x83 2048 40000
truncate -s 10M loop.img
mbr_entry loop.img 0 0 0 0x05 2048 10000
mbr_entry loop.img 2048 0 0 0x83 1 100
mbr_entry loop.img 2048 1 0 0x05 200 100   # next EBR at 2048+200
mbr_entry loop.img 2248 0 0 0x83 1 50
mbr_entry loop.img 2248 1 0 0x05 0 100     # ... back to the first
truncate -s 10M gpt.img
echo "label: gpt" | step 10 sfdisk -q gpt.img
printf 'XX' | dd of=gpt.img bs=1 seek=$((512 + 40)) conv=notrunc status=none
printf 'XX' | dd of=gpt.img bs=1 seek=$((10 * 1024 * 1024 - 512 + 40)) conv=notrunc status=none
# random bytes with a signature but no plausible boot flags: not an MBR
# (Linux reads it the same way), so an unpartitioned disk
head -c 10M /dev/urandom > random.img
printf '\x13' | dd of=random.img bs=1 seek=446 conv=notrunc status=none
printf '\x55\xaa' | dd of=random.img bs=1 seek=510 conv=notrunc status=none
truncate -s 10M good.img
echo ",,L" | step 10 sfdisk -q good.img
sums_before=$(md5sum ./*.img)

D=$TEST_DIR
touch keep # see mbr-io.sh: no overlay over the images' directory
# Each case: a marker line on stderr, then the mount with mount(8)'s own
# messages kept apart; stderr of vos then holds marker, service line, ...
out=$(vos_disk_run -- bash -c '
	cd '"$D"' || exit 9
	um_add_service umdev || exit 10
	mount -t umdevramdisk -o size=8M none '"$D"'/keep || exit 11
	head -c 1M /dev/urandom > keep.data
	dd if=keep.data of='"$D"'/keep bs=64k status=none
	bad() { # NAME MOUNT-ARGS...
		local name=$1; shift
		echo "== $name" >&2
		mount "$@" 2>>mount.err; echo "$name st=$?"
	}
	bad missing -t umdevmbr missing.img '"$D"'/n1
	bad directory -t umdevmbr adir '"$D"'/n2
	bad fifo -t umdevmbr fifo '"$D"'/n3
	bad tiny -t umdevmbr tiny.img '"$D"'/n4
	bad nosource -t umdevmbr none '"$D"'/n5
	bad option -t umdevmbr -o bogus good.img '"$D"'/n6
	bad truncated -t umdevmbr truncated.img '"$D"'/n7
	bad overlap -t umdevmbr overlap.img '"$D"'/n8
	bad range -t umdevmbr range.img '"$D"'/n9
	bad loop -t umdevmbr loop.img '"$D"'/n10
	bad gpt -t umdevmbr gpt.img '"$D"'/n11
	bad size0 -t umdevramdisk -o size=0 none '"$D"'/r1
	bad sizeabc -t umdevramdisk -o size=abc none '"$D"'/r2
	bad sizehuge -t umdevramdisk -o size=100T none '"$D"'/r3
	bad sizeoverflow -t umdevramdisk -o size=99999999999999999999999 none '"$D"'/r4
	bad sizeneg -t umdevramdisk -o size=-5M none '"$D"'/r5
	bad nosize -t umdevramdisk none '"$D"'/r6
	bad rdoption -t umdevramdisk -o size=1M,mbr,frob none '"$D"'/r7
	echo "== end" >&2
	cmp -s keep.data <(head -c 1M '"$D"'/keep) && echo keep-still-works
	mount -t umdevmbr random.img '"$D"'/rnd && echo random=$(blockdev --getsize64 '"$D"'/rnd1 2>/dev/null || cat '"$D"'/rnd1 | wc -c)
	mount -t umdevmbr good.img '"$D"'/good && echo good=$(cat '"$D"'/good1 | wc -c)
	um_ls_service
	ls -d n* r[0-9]* 2>/dev/null | wc -l
' 2>"$D/err"); st=$?
expect_eq "view status" 0 "$st"
err=$(cat "$D/err")

# case EXPECTED-REGEX: exactly one line between its marker and the next
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
check missing "^umdevmbr: missing.img: No such file or directory$"
check directory "^umdevmbr: .*adir: is a directory, not a disk image$"
check fifo "^umdevmbr: .*fifo: is neither a regular file nor a block device$"
check tiny "^umdevmbr: .*tiny.img: is smaller than one 512-byte sector"
check nosource "^umdevmbr: needs a disk image"
check option "^umdevmbr: unknown option 'bogus'"
check truncated "^umdevmbr: .*truncated.img: bad partition table: partition 1 .* ends beyond the end of the disk \(20480 sectors\): truncated image\?$"
check overlap "^umdevmbr: .*overlap.img: bad partition table: partitions 1 and 2 overlap$"
check range "^umdevmbr: .*range.img: bad partition table: partition 1 .* beyond the end of the disk"
check loop "^umdevmbr: .*loop.img: bad partition table: the extended partition's chain loops back to sector 2048$"
check gpt "^umdevmbr: .*gpt.img: bad partition table: GPT header at sector 1 has a bad checksum$"
check size0 "^umdevramdisk: size=0: a ramdisk needs at least one sector$"
check sizeabc "^umdevramdisk: size=abc: not a size"
check sizehuge "^umdevramdisk: size=100T is more than this machine's memory"
check sizeoverflow "^umdevramdisk: size=9+: too large$"
check sizeneg "^umdevramdisk: size=-5M: not a size"
check nosize "^umdevramdisk: needs a size"
check rdoption "^umdevramdisk: unknown option 'frob'"
expect_match "a disk mounted before still works" "^keep-still-works$" "$out"
expect_match "random first sector: an unpartitioned disk, empty partitions" "^random=0$" "$out"
expect_match "a good image mounts afterwards" "^good=9437184$" "$out"
expect_match "the service is still loaded" "^umdev: virtual devices$" "$out"
expect_match "failed mounts left no nodes" "^0$" "$out"
expect_eq "no images changed" "$sums_before" "$(md5sum ./*.img)"
finish
