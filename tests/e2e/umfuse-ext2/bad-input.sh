#!/bin/bash
# Bad input to umfuseext2 (as vos-ext2fs): missing arguments, a missing,
# non-image or directory source, unknown or malformed options, ro with rw,
# a read-only source with rw+, a missing mount point. Each is one line on
# stderr and a non-zero status, and nothing gets mounted.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"
. "$HERE/ext2-lib.sh"

mkimg good.img 16M ext4 || fail "mke2fs"
echo "not a filesystem" > text.img
head -c 1M /dev/zero > zero.img
mkdir -p mnt somedir ro

check() { # WHAT ARGS...
	local what=$1 out st
	shift
	out=$(ns_run 20 "\"\$EXT2FS\" $* 2>&1; st=\$?; grep -c ' $TEST_DIR/mnt ' /proc/self/mountinfo; exit \$st")
	st=$?
	expect_one_line_error "$what" "$(head -n -1 <<<"$out")" "$st"
	expect_eq "$what: nothing mounted" 0 "$(tail -1 <<<"$out")"
}
check "no arguments" ""
check "no mount point" "good.img"
check "missing image" "missing.img mnt"
check "directory as image" "somedir mnt"
check "text file as image" "text.img mnt"
check "zeroes as image" "zero.img mnt"
check "unknown option" "good.img mnt -o frobnicate"
check "malformed uid" "good.img mnt -o human,uid=abc"
check "ro and rw+" "good.img mnt -o ro,rw+"
check "missing mount point" "good.img nowhere -f"
expect_match "missing image: says so" "missing.img: No such file or directory" \
	"$(ns_run 10 "\"\$EXT2FS\" missing.img mnt" 2>&1)"
expect_match "text file: says it is not ext2/3/4" "not an ext2/ext3/ext4 filesystem" \
	"$(ns_run 10 "\"\$EXT2FS\" text.img mnt" 2>&1)"

# A read-only source (a read-only bind mount in the namespace) with rw+:
# refused; the same source read-only mounts.
cp good.img ro/
out=$(ns_run 20 "
	mount --bind ro ro && mount -o remount,ro,bind ro || exit 97
	\"\$EXT2FS\" ro/good.img mnt -f -o rw+ 2>&1; echo status=\$?
	e2mount ro/good.img mnt && ls mnt && e2umount mnt
" 2>&1)
expect_match "rw+ on a read-only source: refused" "^umfuseext2: ro/good.img: cannot open read-write" "$out"
expect_match "rw+ on a read-only source: status" "^status=1$" "$out"
expect_match "the read-only source mounts read-only" "^lost\+found$" "$out"
finish
