#!/bin/bash
# umfuseext2 as a umfuse module in a view: the seed's sessions (an
# umdevmbr disk's first partition mounted rw+ on /mnt shows
# lost+found; mkfs.ext2 on an umdevramdisk, then mounted rw+), an image
# file written (a tree), unmounted, and outside the view e2fsck -fn clean
# with identical content; two images mounted at once by the one module;
# read-only by default; human mode prints "UmFUSE Human mode"; bad input.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"
. "$HERE/ext2-lib.sh"
[ -e "$VOS_BUILD_ROOT/services/umfuse/umfuse.so" ] || skip "umfuse service not built"
[ -e "$UMFUSEEXT2" ] || skip "umfuseext2.so not built"
export PATH="$PATH:/sbin:/usr/sbin"
for t in sfdisk mkfs.ext2; do command -v $t >/dev/null || skip "$t is not installed"; done
T=$TEST_DIR

[ -d /usr/include/linux ] || skip "/usr/include/linux is not there to copy"
tar -C /usr -cf linux.tar include/linux
mkimg a.img 128M ext4 || fail "mke2fs a"
mkimg b.img 32M ext2 || fail "mke2fs b"
mkdir -p ma mb
out=$(vos_run -- bash -c '
	T='"$T"'
	cd $T || exit 9
	um_add_service umfuse || exit 10
	mount -t umfuseext2 -o rw+ a.img $T/ma || exit 11
	mount -t umfuseext2 b.img $T/mb || exit 12
	echo ls: $(ls $T/ma)
	tar -C $T/ma -xf linux.tar || exit 13
	echo "hello" > $T/ma/hello || exit 14
	echo two: $(ls $T/mb)
	echo x > $T/mb/new 2>/dev/null && echo rw-default || echo ro-default
	grep -c umfuseext2 /proc/mounts
	umount $T/mb || exit 15
	umount $T/ma || exit 16
	# the module flushes the image when its loop ends: wait for that
	for i in $(seq 100); do um_del_service umfuse 2>/dev/null && break; sleep 0.1; done
' 2>err1); st=$?
expect_eq "image session ($(cat err1))" 0 "$st"
expect_match "ls shows lost+found" "^ls: lost\+found$" "$out"
expect_match "second image mounted alongside" "^two: lost\+found$" "$out"
expect_match "read-only without rw+" "^ro-default$" "$out"
expect_match "two umfuseext2 mounts at once" "^2$" "$out"
fsck_clean "image written in a view" a.img
fsck_clean "image mounted read-only in a view" b.img
rm -rf want got && mkdir want got && tar -C want -xf linux.tar
step 60 "$DEBUGFS" -R "rdump /include got" a.img >/dev/null 2>&1
if diff -r want/include got/include >/dev/null; then ok "tree read back from the image is identical"
else fail "tree differs: $(diff -r want/include got/include | head -3)"; fi
expect_eq "file in the image" "hello" "$(step 30 "$DEBUGFS" -R "cat /hello" a.img 2>/dev/null)"

# Human mode: the message, and a 0600 file of another uid.
echo secret > s.txt
printf 'write s.txt secret\nsif secret uid 1234\nsif secret mode 0100600\n' |
	"$DEBUGFS" -w -f - b.img >/dev/null 2>&1
out=$(vos_run -- bash -c '
	T='"$T"'
	um_add_service umfuse || exit 10
	mount -t umfuseext2 -o human,uid=1000,gid=1000 $T/b.img $T/mb || exit 11
	cat $T/mb/secret 2>/dev/null && echo human-read || echo human-denied
	umount $T/mb
	mount -t umfuseext2 $T/b.img $T/mb || exit 12
	cat $T/mb/secret 2>/dev/null && echo omni-read || echo omni-denied
	umount $T/mb
' 2>err2); st=$?
expect_eq "human mode session" 0 "$st"
expect_match "UmFUSE Human mode printed at mount" "UmFUSE Human mode" "$(cat err2)"
expect_match "human mode: 0600 file of another uid denied" "^human-denied$" "$out"
expect_match "omnipotent mode: readable" "^secret$" "$out"

# The seed: a partitioned disk image through umdevmbr (on $T/disk rather
# than /dev/disk: tests mount under their own directory), mounted on /mnt.
truncate -s 64M hd_image.img
echo ",,L" | step 20 sfdisk -q hd_image.img >/dev/null 2>&1 || fail "sfdisk"
out=$(vos_run -- bash -c '
	cd '"$T"' || exit 9
	um_add_service umdev || exit 10
	um_add_service umfuse || exit 11
	mount -t umdevmbr hd_image.img '"$T"'/disk || exit 12
	sfdisk -l '"$T"'/disk | grep -c "^'"$T"'/disk1 "
	mkfs.ext2 -q '"$T"'/disk1 || exit 13
	mount -t umfuseext2 -o rw+ '"$T"'/disk1 /mnt || exit 14
	ls /mnt
	echo nested > /mnt/nested || exit 15
	umount /mnt || exit 16
	sleep 0.5
	e2fsck -fn '"$T"'/disk1 >/dev/null 2>&1; echo fsck=$?
' 2>err3); st=$?
expect_eq "seed session: umdevmbr + umfuseext2 ($(cat err3))" 0 "$st"
expect_match "sfdisk -l disk lists disk1" "^1$" "$out"
expect_match "ls /mnt shows lost+found" "^lost\+found$" "$out"
expect_match "e2fsck of disk1 in the view" "^fsck=0$" "$out"

# The seed's ramdisk session.
out=$(vos_run -- bash -c '
	cd '"$T"' || exit 9
	um_add_service umdev || exit 10
	um_add_service umfuse || exit 11
	mount -t umdevramdisk -o size=100M,mbr none '"$T"'/test_rd || exit 12
	cd "$PWD"
	mkfs.ext2 -q test_rd || exit 13
	mkdir -p /tmp/mnt
	mount -t umfuseext2 -o rw+ test_rd /tmp/mnt || exit 14
	seq 100000 > /tmp/mnt/numbers || exit 15
	echo ls: $(ls /tmp/mnt)
	umount /tmp/mnt || exit 16
	sleep 0.5
	mount -t umfuseext2 test_rd /tmp/mnt || exit 17
	md5sum < /tmp/mnt/numbers
	umount /tmp/mnt
' 2>err4); st=$?
expect_eq "ramdisk session ($(cat err4))" 0 "$st"
expect_match "ramdisk: ls" "^ls: lost\+found numbers$" "$out"
expect_match "ramdisk: content survives a remount" "^$(seq 100000 | md5sum | cut -d' ' -f1)" "$out"

# Bad input through umfuse: not an image, unknown option.
echo junk > junk.img
vos_run -- bash -c '
	T='"$T"'
	um_add_service umfuse || exit 10
	mount -t umfuseext2 $T/junk.img $T/mb; echo junk=$?
	mount -t umfuseext2 -o frobnicate $T/a.img $T/mb; echo opt=$?
	mount -t umfuseext2 $T/a.img $T/ma && ls $T/ma && umount $T/ma
' >out5 2>err5; st=$?
expect_eq "bad input session" 0 "$st"
# umfuse reports the mount before the module has opened the image: a refused
# image may show as a mount whose process is gone (see the report).
grep -q "^junk=0" out5 && echo "note: umfuse returned 0 for a refused image (its module exited)"
expect_match "unknown option refused" "^opt=[1-9]" "$(cat out5)"
expect_match "the module still mounts afterwards" "^lost\+found$" "$(cat out5)"
expect_match "junk image: one clear line" "not an ext2/ext3/ext4 filesystem" "$(cat err5)"
finish
