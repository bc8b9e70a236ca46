#!/bin/bash
# The working-directory layer passes everything through to the host
# directory: what the view writes there is on the host, at once.
. "$(dirname "$0")/../lib.sh"
require_fuse

echo original > existing
mkdir -p tree/a/b && echo deep > tree/a/b/file
out=$(vos_run -- sh -c '
	set -e
	cat existing
	cat tree/a/b/file
	echo new > created
	echo more >> existing
	mkdir dir && echo in-dir > dir/f
	mv created renamed
	ln renamed hardlink
	ln -s renamed symlink
	readlink symlink
	chmod 640 renamed
	stat -c %a renamed
	truncate -s 100000 sparse
	dd if=/dev/urandom of=big bs=64k count=64 status=none
	md5sum big | cut -d" " -f1
	i=0; while [ $i -lt 300 ]; do : > many.$i; i=$((i+1)); done
	ls | grep -c "^many\."
	rm many.*
	python3 -c "
import mmap, os
fd = os.open(\"mapped\", os.O_RDWR | os.O_CREAT, 0o644)
os.ftruncate(fd, 4096)
m = mmap.mmap(fd, 4096)
m[0:6] = b\"mapped\"
m.flush(); m.close(); os.close(fd)
"
	rmdir dir 2>/dev/null || echo rmdir-nonempty-refused
	touch -d "2001-02-03 04:05:06" renamed
	cd tree/a/b && pwd -P && cd - >/dev/null
	mkfifo fifo
	echo done
')
st=$?
expect_eq "status" 0 "$st"
expect_match "reads existing files" "^original$" "$out"
expect_match "reads deep files" "^deep$" "$out"
expect_eq "append reached the host" "original
more" "$(cat existing)"
expect_eq "rename reached the host" "new" "$(cat renamed 2>&1)"
[ ! -e created ] && ok "old name gone" || fail "created still exists"
expect_eq "hard link" "$(stat -c %i renamed)" "$(stat -c %i hardlink 2>/dev/null)"
expect_eq "symlink" "renamed" "$(readlink symlink)"
expect_eq "chmod" "640" "$(stat -c %a renamed)"
expect_eq "utimes" "2001-02-03 04:05:06" "$(date -d "@$(stat -c %Y renamed)" '+%Y-%m-%d %H:%M:%S')"
expect_eq "sparse size" "100000" "$(stat -c %s sparse)"
expect_match "big file checksum equals the host's" "^$(md5sum big | cut -d' ' -f1)$" "$out"
expect_match "readdir lists 300 files" "^300$" "$out"
[ -z "$(ls | grep '^many\.')" ] && ok "rm reached the host" || fail "many.* left"
expect_eq "mmap write reached the host" "mapped" "$(head -c 6 mapped)"
expect_match "rmdir of a non-empty directory refused" "rmdir-nonempty-refused" "$out"
expect_match "cd into subdirectories" "$TEST_DIR/tree/a/b$" "$out"
[ -p fifo ] && ok "fifo created on the host" || fail "no fifo"
expect_match "done" "^done$" "$out"

# Host changes show up in the view at once for new names.
out=$(vos_run -- sh -c 'sleep 0.2; cat later 2>/dev/null || echo missing' & sleep 0.05; echo host > later; wait)
expect_eq "a file created on the host during the view" "host" "$out"

# --native-cwd: no layer; mount points made here are invisible from here.
out=$(vos_run --native-cwd -- sh -c 'grep -c fuse.vos-layer /proc/self/mountinfo')
expect_eq "--native-cwd mounts no layer" "0" "$out"
out=$(vos_run -- sh -c 'grep -c fuse.vos-layer /proc/self/mountinfo')
expect_eq "the layer is there by default" "1" "$out"
grep -q fuse.vos-layer /proc/self/mountinfo && fail "layer visible on the host" || ok "layer not visible on the host"

# A service built in the directory the view starts in (served through the
# layer) loads: VOS_SERVICE_PATH=$PWD, as a service author works.
mkdir mods && cp "$VOS_BUILD_ROOT/tests/fixtures/stall.so" mods/
out=$(VOS_SERVICE_PATH=$TEST_DIR/mods vos_run -- sh -c 'um_add_service stall && um_ls_service' 2>&1)
expect_match "a service in the starting directory loads" "^stall" "$out"

# A mount point made beside device nodes (a layer or overlay over /dev/net)
# leaves them usable: mounts made in a user namespace are always nodev.
if [ -r /dev/net/tun ] && [ -w /dev/net/tun ]; then
	out=$(cd / && vos_run -- sh -c 'um_add_service umdev && mount -t umdevnull none /dev/net/vostest 2>/dev/null &&
		python3 -c "import os; os.close(os.open(\"/dev/net/tun\", os.O_RDWR)); print(\"tun ok\")"' 2>&1 | grep -v '^null_')
	expect_eq "/dev/net/tun still opens beside a new mount point" "tun ok" "$out"
	[ -e /dev/net/vostest ] && fail "/dev/net/vostest exists on the host" || ok "nothing added to the host's /dev/net"
else
	echo "note: /dev/net/tun not usable by $(id -un): device check skipped"
fi
finish
