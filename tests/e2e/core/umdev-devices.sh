#!/bin/bash
# umdev's test devices end to end: service management from inside the view,
# umdevnull's debug lines, umdevtrivhd's 64 KiB, and nothing left on the host.
. "$(dirname "$0")/../lib.sh"
require_fuse

mkdir dev
out=$(vos_run -- sh -c '
	um_add_service umdev || exit 10
	um_ls_service
	mount -t umdevnull none '"$TEST_DIR"'/dev/null || exit 11
	ls -l '"$TEST_DIR"'/dev/null | cut -c1-10
	dd if=/dev/zero bs=4096 count=3 of='"$TEST_DIR"'/dev/null status=none
	mount -t umdevtrivhd none '"$TEST_DIR"'/dev/chardev || exit 12
	dd if=/dev/urandom of='"$TEST_DIR"'/dev/chardev 2>&1 | grep -E "records|bytes|No space" | cut -d" " -f1-2,4-
	a=$(cat '"$TEST_DIR"'/dev/chardev | md5sum)
	dd if='"$TEST_DIR"'/dev/chardev of=/tmp/chardev_content.$$ status=none
	b=$(md5sum < /tmp/chardev_content.$$); rm -f /tmp/chardev_content.$$
	[ "$a" = "$b" ] && echo md5-same
	vosctl mounts
	um_del_service umdev; echo del-while-mounted=$?
	umount '"$TEST_DIR"'/dev/null '"$TEST_DIR"'/dev/chardev
	um_del_service umdev; echo del-after-umount=$?
	um_ls_service | wc -l
' 2>"$TEST_DIR/err"); st=$?
err=$(cat "$TEST_DIR/err")
expect_eq "status" 0 "$st"
expect_match "um_ls_service" "^umdev: virtual devices$" "$out"
expect_match "null node" "^-rw-------$" "$out"
expect_match "null_open line" "^null_open c 0 0 flag 8001$" "$err"
expect_eq "three 4 KiB writes" 3 "$(grep -c '^null_write c 0 0 len 4096$' <<<"$err")"
expect_match "null_release line" "^null_release c 0 0 flag" "$err"
expect_match "dd stops at 64 KiB: in" "^129\+0 records" "$out"
expect_match "dd stops at 64 KiB: out" "^128\+0 records" "$out"
expect_match "dd stops at 64 KiB: bytes" "^65536 bytes" "$out"
expect_match "no space error" "No space left on device" "$out"
expect_match "read back equals written" "^md5-same$" "$out"
expect_match "vosctl mounts" "^umdevtrivhd none $TEST_DIR/dev/chardev$" "$out"
expect_match "busy service refused" "del-while-mounted=1" "$out"
expect_match "busy message" "umdev: service busy: 2 mounts still active" "$err"
expect_match "removed after umount" "del-after-umount=0" "$out"
expect_match "nothing loaded at the end" "^0$" "$out"
[ -z "$(ls -A dev)" ] && ok "nothing named null or chardev on the host" || fail "host dir has: $(ls -A dev)"
finish
