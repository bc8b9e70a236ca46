#!/bin/bash
# The seed's umdev test-submodule session, typed into `vos run bash` in the
# current directory. The only liberty: `cat /dev/urandom > null` never ends
# by itself, so it is interrupted after a moment, as the seed's user did.
. "$(dirname "$0")/../lib.sh"
require_fuse

out=$(step 60 "$VOS" run bash 2>"$TEST_DIR/err" <<'SEED'
um_add_service umdev
mount -t umdevnull none null
ls -l null
timeout -s INT 0.3 cat /dev/urandom > null
mount -t umdevtrivhd none chardev
dd if=/dev/urandom of=chardev
cat chardev | md5sum
dd if=chardev of=chardev_content
md5sum chardev_content
SEED
); st=$?
err=$(cat "$TEST_DIR/err")
expect_eq "bash exit status (md5sum's)" 0 "$st"
expect_match "ls -l null shows the device" "^-rw------- 1 root root 0 Jan  1  1970 null$" "$out"
expect_match "null_open" "^null_open c 0 0 flag 8001$" "$err"
expect_match "null_write of 4096" "^null_write c 0 0 len 4096$" "$err"
expect_match "null_release" "^null_release c 0 0 flag" "$err"
expect_match "dd stops at the device's end" "^dd: writing to 'chardev': No space left on device$" "$err"
expect_match "129 records in" "^129\+0 records in$" "$err"
expect_match "65536 bytes" "^65536 bytes \(66 kB, 64 KiB\) copied" "$err"
sum1=$(sed -n '1s/ .*//p' <<<"$out" | grep -v null)
sums=$(grep -Eo '^[0-9a-f]{32}' <<<"$out" | sort -u | wc -l)
expect_eq "cat chardev | md5sum equals md5sum chardev_content" 1 "$sums"
[ -e null ] && fail "null exists on the host" || ok "no null on the host"
[ -e chardev ] && fail "chardev exists on the host" || ok "no chardev on the host"
[ "$(stat -c %s chardev_content 2>/dev/null)" = 65536 ] && ok "chardev_content written to the host directory" ||
	fail "chardev_content missing or wrong size on the host"
finish
