#!/bin/bash
# An unmodified FUSE program (fuse2fs, libfuse 2) run with -o prog= on the
# view's FUSE connection: write on an ext4 image, unmount, and the image
# is clean and holds what was written.
. "$(dirname "$0")/../lib.sh"
require_fuse

FUSE2FS=$(command -v fuse2fs || ls /usr/bin/fuse2fs /usr/sbin/fuse2fs 2>/dev/null | head -1)
[ -n "$FUSE2FS" ] || skip "fuse2fs is not installed (Debian package fuse2fs)"
MKFS=$(command -v mkfs.ext4 || echo /sbin/mkfs.ext4)
E2FSCK=$(command -v e2fsck || echo /sbin/e2fsck)
DEBUGFS=$(command -v debugfs || echo /sbin/debugfs)
[ -x "$MKFS" ] && [ -x "$E2FSCK" ] && [ -x "$DEBUGFS" ] || skip "e2fsprogs is not installed"
T=$TEST_DIR

truncate -s 32M ext4.img other.img
step 30 "$MKFS" -q -F ext4.img || fail "mkfs.ext4"
step 30 "$MKFS" -q -F other.img || fail "mkfs.ext4"
mkdir mnt other
out=$(vos_run -- bash -c '
	T='"$T"'
	um_add_service umfuse || exit 10
	mount -t umfuse -o prog='"$FUSE2FS"' ext4.img $T/mnt || exit 11
	ls $T/mnt | sed "s/^/ls: /"
	echo "hello from vos" > $T/mnt/file.txt || exit 12
	mkdir $T/mnt/dir && seq 1 20000 > $T/mnt/dir/numbers || exit 13
	echo "read back: $(cat $T/mnt/file.txt)"
	grep " $T/mnt" /proc/mounts | cut -d" " -f3 | sed "s/^/type: /"
	# A second program, started after the first: unmounting the first
	# must end it although the second one started with a copy of its mount.
	mount -t umfuse -o prog=fuse2fs other.img $T/other || exit 15
	umount $T/mnt || exit 14
	for i in $(seq 50); do vosctl mounts | grep -q " $T/mnt$" || { echo "first ended while the second runs"; break; }; sleep 0.1; done
	ls $T/other | sed "s/^/other: /"
	umount $T/other || exit 16
	# fuse2fs writes the image back when its loop ends: wait for it.
	for i in $(seq 100); do um_del_service umfuse 2>/dev/null && { echo "program ended"; break; }; sleep 0.1; done
' 2>"$T/err"); st=$?
err=$(cat "$T/err")
expect_eq "status" 0 "$st"
expect_match "lost+found is there" "^ls: lost\+found$" "$out"
expect_match "file read back" "^read back: hello from vos$" "$out"
expect_match "mounted as a umfuse FUSE mount" "^type: fuse\.umfuse$" "$out"
expect_match "fuse2fs ended after umount" "^program ended$" "$out"
expect_match "prog= found in the caller's PATH" "^other: lost\+found$" "$out"
expect_match "an unmount ends its program while another runs" "^first ended while the second runs$" "$out"
for img in ext4.img other.img; do
	fsck=$(step 30 "$E2FSCK" -fn $img 2>&1); fst=$?
	expect_eq "e2fsck -fn $img is clean ($fsck)" 0 "$fst"
done
expect_eq "file in the image" "hello from vos" "$(step 30 "$DEBUGFS" -R "cat /file.txt" ext4.img 2>/dev/null)"
expect_eq "numbers in the image" "$(seq 1 20000 | md5sum)" "$(step 30 "$DEBUGFS" -R "cat /dir/numbers" ext4.img 2>/dev/null | md5sum)"
[ -z "$(ls -A mnt; ls -A other)" ] && ok "nothing written to the host mount points" || fail "host mount points have: $(ls -A mnt; ls -A other)"
if grep -v -e "^vos run: warning: no working-directory layer" <<<"$err" | grep -q .; then
	fail "unexpected messages: $err"
else
	ok "no error messages"
fi
finish
