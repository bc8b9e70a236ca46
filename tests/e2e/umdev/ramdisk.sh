#!/bin/bash
# umdevramdisk: the seed's session (size=100M,mbr, mkfs.ext2 on the whole
# disk), lazily allocated memory (measured and printed: the resident part
# of the disk's own mapping in the vos process, and vos's RSS), partitions
# with mbr, none without, K/M/G sizes, and the memory given back when the
# service lets the disk go.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"
. "$HERE/disk-lib.sh"
require_fuse
require_disk_tools sfdisk mkfs.ext2 e2fsck blockdev

# Resident KiB of vos's mapping(s) of a given size (the ramdisk), on request.
watch_smaps() {
	local phase pid size
	for phase in map1 map2 map3; do
		while [ ! -s "$TEST_DIR/want.$phase" ]; do sleep 0.05; done
		read -r pid size < "$TEST_DIR/want.$phase"
		awk -v want="$size" '/^Size:/ { s = $2 } /^Rss:/ { if (s == want) r += $2 } END { print r + 0 }' \
			"/proc/$pid/smaps" > "$TEST_DIR/got.$phase.tmp"
		mv "$TEST_DIR/got.$phase.tmp" "$TEST_DIR/got.$phase"
	done
}
start watch_smaps
# Existing mount points: a missing one makes the core cover this directory
# with an overlay, and the view's requests would not reach the watcher.
touch test_rd test_rd1 test_rd2 test_rd3 test_rd4 rdb rdb1 rdb2 rdb3 rdb4 small big k64

out=$(vos_disk_run -- bash -c '
	'"$VOS_PID_SNIPPET"'
	rss() { awk "/^VmRSS:/{print \$2}" /proc/$(vos_pid)/status; }
	# smaps of vos is not readable from inside the view (ptrace rules):
	# ask the test outside to read it, and wait for the answer.
	measure() { # PHASE SIZE-KIB
		echo "$(vos_pid) $2" > '"$TEST_DIR"'/want.$1
		for i in $(seq 100); do [ -e '"$TEST_DIR"'/got.$1 ] && return; sleep 0.1; done
	}
	cd '"$TEST_DIR"' || exit 9
	echo rss0=$(rss)
	um_add_service umdev || exit 10
	mount -t umdevramdisk -o size=100M,mbr none '"$TEST_DIR"'/test_rd || exit 11
	cd "$PWD"
	/sbin/mkfs.ext2 -q test_rd || exit 12
	measure map1 102400; echo rss1=$(rss)
	echo nodes $(ls -d test_rd*)
	echo size=$(blockdev --getsize64 test_rd)
	e2fsck -fn test_rd >/dev/null 2>&1; echo fsck=$?
	# partitions on a second ramdisk
	mount -t umdevramdisk -o size=64M,mbr none '"$TEST_DIR"'/rdb || exit 13
	printf ",32M,L\n,,L\n" | sfdisk -q rdb || exit 14
	echo rdb $(blockdev --getsize64 rdb) $(blockdev --getsize64 rdb1) $(blockdev --getsize64 rdb2) \
		$(sfdisk -d rdb | awk "/^rdb2 /{gsub(\",\", \"\", \$6); print \$6 * 512}")
	mkfs.ext2 -q rdb1 && e2fsck -fn rdb1 >/dev/null 2>&1; echo fsckb1=$?
	# no mbr: no partition nodes; sizes round up to a sector; suffixes
	mount -t umdevramdisk -o size=1000 none '"$TEST_DIR"'/small || exit 15
	mount -t umdevramdisk -o size=1G none '"$TEST_DIR"'/big || exit 16
	mount -t umdevramdisk -o size=64k none '"$TEST_DIR"'/k64 || exit 17
	echo plain $(ls -d small?* big?* k64?* 2>/dev/null | wc -l) $(blockdev --getsize64 small) $(blockdev --getsize64 big) $(blockdev --getsize64 k64)
	head -c 2000 /dev/urandom > data
	dd if=data of=small 2>&1 | grep -c "No space left"
	cmp -s small <(head -c 1024 data) && echo small-holds-first-1024
	# 48 MiB of random data, then let the disk go: the memory returns
	head -c 48M /dev/urandom | dd of=big bs=1M iflag=fullblock status=none
	measure map2 1048576; echo rss2=$(rss)
	umount test_rd test_rd1 test_rd2 test_rd3 test_rd4 rdb rdb1 rdb2 rdb3 rdb4 small big k64
	sleep 0.5
	um_del_service umdev || exit 18
	measure map3 1048576; echo rss3=$(rss)
' 2>"$TEST_DIR/err"); st=$?
expect_eq "status" 0 "$st"
[ "$st" -eq 0 ] || { echo "$out"; cat "$TEST_DIR/err"; } >&2
expect_match "nodes with mbr" "^nodes test_rd test_rd1 test_rd2 test_rd3 test_rd4$" "$out"
expect_match "100M" "^size=104857600$" "$out"
expect_match "e2fsck of the mkfs.ext2 ramdisk" "^fsck=0$" "$out"
expect_match "partitioned ramdisk (node 2 as sfdisk made it)" "^rdb 67108864 33554432 ([0-9]+) \\1$" "$out"
expect_match "mkfs/e2fsck on a ramdisk partition" "^fsckb1=0$" "$out"
expect_match "no partition nodes without mbr, sizes" "^plain 0 1024 1073741824 65536$" "$out"
expect_match "ENOSPC at the end" "^1$" "$out"
expect_match "data kept" "^small-holds-first-1024$" "$out"
val() { grep -o "\\b$1=[0-9]*" <<<"$out" | cut -d= -f2; }
rss0=$(val rss0) rss1=$(val rss1) rss2=$(val rss2) rss3=$(val rss3)
map1=$(cat got.map1 2>/dev/null) map2=$(cat got.map2 2>/dev/null) map3=$(cat got.map3 2>/dev/null)
echo "100M ramdisk after mkfs.ext2: ${map1} KiB resident in its mapping;" \
	"vos RSS ${rss0} KiB at start, ${rss1} KiB after mkfs (+$((rss1 - rss0)) KiB, core buffers included)"
echo "1G ramdisk with 48 MiB written: ${map2} KiB resident; after umount + um_del_service: ${map3} KiB (vos RSS ${rss2} -> ${rss3} KiB)"
[ -n "$map1" ] && [ "$map1" -lt $((8 * 1024)) ] && ok "100M ramdisk with mkfs.ext2 holds < 8 MiB" ||
	fail "100M ramdisk holds ${map1:-?} KiB after mkfs.ext2"
[ -n "$map2" ] && [ "$map2" -ge $((48 * 1024)) ] && [ "$map2" -lt $((50 * 1024)) ] &&
	ok "48 MiB written: 48 MiB resident" || fail "48 MiB written, ${map2:-?} KiB resident"
[ "$map3" = 0 ] && [ "$((rss2 - rss3))" -gt $((40 * 1024)) ] && ok "memory freed when the disk goes" ||
	fail "after release: mapping ${map3} KiB, RSS ${rss2} -> ${rss3} KiB"
finish
