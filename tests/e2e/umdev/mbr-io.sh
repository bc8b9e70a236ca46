#!/bin/bash
# Data through partition nodes: 64 MiB in and out with identical md5sums;
# writes at a partition's end stop with ENOSPC and leave the next partition
# untouched; -o ro; logical partitions (test_hd5...) and GPT tables.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"
. "$HERE/disk-lib.sh"
require_fuse
require_disk_tools sfdisk blockdev md5sum

truncate -s 100M disk.img
# 1: 70 MiB, 2: 8 MiB, 3: extended with two logical partitions (5, 6).
printf 'label: dos\nstart=2048, size=70M, type=83\nsize=8M, type=83\n,,E\n,4M,L\n,,L\n' |
	step 10 sfdisk -q disk.img || fail "sfdisk on the host image"
head -c 64M /dev/urandom > data
want=$(md5sum < data | cut -d" " -f1)
read -r p2start p2count < <(part_range disk.img 2)

out=$(vos_disk_run -- bash -c '
	cd '"$TEST_DIR"' || exit 9
	um_add_service umdev || exit 10
	mount -t umdevmbr disk.img '"$TEST_DIR"'/hd || exit 11
	cd "$PWD"
	echo nodes $(ls hd*)
	echo sizes $(for i in 1 2 3 4 5 6; do blockdev --getsize64 hd$i; done)
	dd if=data of=hd1 bs=1M status=none || echo dd-in-failed
	echo in=$(head -c 64M hd1 | md5sum | cut -d" " -f1)
	dd if=hd1 of=back bs=4M count=16 status=none; echo back=$(md5sum < back | cut -d" " -f1)
	# unaligned reads, and one that runs off the partition end
	echo odd=$(dd if=hd1 bs=1000 skip=7 count=3 status=none | md5sum | cut -d" " -f1)
	echo odd-big=$(dd if=hd1 bs=1234567 skip=3 count=5 status=none | md5sum | cut -d" " -f1)
	echo tail-read=$(dd if=hd1 bs=3M skip=23 status=none | wc -c)
	# fill partition 2 with B, then run off the end of partition 1
	yes B | tr -d "\n" | head -c 8M | dd of=hd2 bs=1M iflag=fullblock status=none
	before=$(md5sum < hd2)
	dd if=/dev/zero of=hd1 bs=1M seek=68 2>&1 | grep -E "No space|copied"
	printf x | dd of=hd1 bs=1 seek=$((70 * 1024 * 1024)) 2>&1 | grep -c "No space left"
	after=$(md5sum < hd2); [ "$before" = "$after" ] && echo next-untouched
	echo p1-size-read=$(cat hd1 | wc -c)
	dd if=/dev/urandom of=hd5 bs=1M count=1 status=none && echo logical-write=ok
' 2>"$TEST_DIR/err"); st=$?
expect_eq "status" 0 "$st"
[ "$st" -eq 0 ] || cat "$TEST_DIR/err" >&2
expect_match "nodes include logical partitions" "^nodes hd hd1 hd2 hd3 hd4 hd5 hd6$" "$out"
expect_match "node sizes (extended shows 1 KiB, as Linux)" "^sizes 73400320 8388608 1024 0 4194304 [0-9]+$" "$out"
expect_match "64 MiB written" "^in=${want}$" "$out"
expect_match "64 MiB read back" "^back=${want}$" "$out"
expect_match "unaligned small reads" "^odd=$(dd if=data bs=1000 skip=7 count=3 status=none | md5sum | cut -d" " -f1)$" "$out"
expect_match "unaligned large reads" "^odd-big=$(dd if=data bs=1234567 skip=3 count=5 status=none | md5sum | cut -d" " -f1)$" "$out"
expect_match "a read across the partition's end stops there" "^tail-read=$((70 * 1048576 - 69 * 1048576))$" "$out"
expect_match "ENOSPC at the end of partition 1" "No space left on device" "$out"
expect_match "dd stops at exactly 70 MiB" "^2097152 bytes .* copied" "$out"
expect_match "a byte past the end: ENOSPC" "^1$" "$out"
expect_match "next partition untouched" "^next-untouched$" "$out"
expect_match "reads end at the partition's end" "^p1-size-read=73400320$" "$out"
expect_match "logical partition writable" "^logical-write=ok$" "$out"
# Outside: partition 2's range of the image is still all B.
got=$(dd if=disk.img bs=512 skip="$p2start" count="$p2count" status=none | tr -d B | wc -c)
expect_eq "partition 2 in the image only holds B" 0 "$got"
got=$(dd if=disk.img bs=1M skip=1 count=64 status=none | md5sum | cut -d" " -f1)
expect_eq "image holds the 64 MiB at partition 1" "$want" "$got"

# -o ro, and a GPT table written in the view. The nodes exist beforehand:
# a missing mount point makes the core cover the directory with an overlay,
# and the image opened for the next mount would then be a copy-up.
touch ro ro1 ro2 ro3 ro4 ro5 ro6 g g1 g2 g3 g4 g5 g6
out=$(vos_disk_run -- bash -c '
	cd '"$TEST_DIR"' || exit 9
	um_add_service umdev || exit 10
	mount -t umdevmbr -o ro disk.img '"$TEST_DIR"'/ro || exit 11
	cd "$PWD"
	echo ro-read=$(head -c 64M ro1 | md5sum | cut -d" " -f1)
	echo x 2>/dev/null > ro1 && echo ro-write=allowed || echo ro-write=refused
	dd if=/dev/zero of=ro1 conv=notrunc count=1 2>&1 | grep -c "Read-only file system"
	umount ro ro1 ro2 ro3 ro4 ro5 ro6
	mount -t umdevmbr disk.img '"$TEST_DIR"'/g || exit 12
	printf "label: gpt\n,10M\n,20M\n,,\n" | sfdisk -q g || exit 13
	sfdisk -l g | grep -c "^g[1-3] "
	echo gpt-sizes $(for i in 1 2 3 4 5; do blockdev --getsize64 g$i; done)
	yes G | head -c 10M | dd of=g1 bs=1M iflag=fullblock 2>&1 | grep -c "No space"
	true
' 2>"$TEST_DIR/err"); st=$?
expect_eq "ro/gpt status" 0 "$st"
[ "$st" -eq 0 ] || cat "$TEST_DIR/err" >&2
expect_match "read-only mount reads" "^ro-read=${want}$" "$out"
expect_match "read-only mount refuses writes" "^ro-write=refused$" "$out"
expect_match "EROFS" "^1$" "$out"
expect_match "sfdisk lists 3 GPT partitions" "^3$" "$out"
read -r _ g3count < <(part_range disk.img 3)
expect_match "GPT partition nodes follow the new table" "^gpt-sizes 10485760 20971520 $((g3count * 512)) 0 0$" "$out"
expect_match "exactly fills g1 without ENOSPC" "^0$" "$out"
# Outside: sfdisk agrees on the GPT written through the node.
expect_eq "host sfdisk reads the GPT" "label: gpt" "$(sfdisk -d disk.img 2>/dev/null | grep '^label:')"
finish
