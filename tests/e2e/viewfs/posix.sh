#!/bin/bash
# POSIX rules through viewfs' own FUSE passthrough (a hidename= mount; the
# same engine serves hide=, mode=, uid=, gid=), as pjdfstest found them
# broken: a creation keeps the mode the view asked for (the view's umask,
# not the supervisor's), a symlink's own times can be set. As root, where
# a view has every uid: the supplementary groups of the caller count
# (chgrp to one of them), a directory without search permission stops a
# walk even through entries the kernel has cached, and a write by someone
# who may not chmod the file still clears its SUID bit.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"
. "$HERE/viewfs-lib.sh"
require_fuse

D=$TEST_DIR
mkdir -p t
chmod 0755 t
umask 022 # the supervisor's; the view sets its own

out=$(vfs_run bash -c '
	T='"$D"'/t
	um_add_service viewfs || exit 10
	mount -t viewfs -o hidename=.hidden-here none "$T" || exit 11
	umask 0
	touch "$T/file" && mkdir "$T/dir" && mkfifo "$T/fifo" || exit 12
	umask 027
	touch "$T/file027" || exit 13
	ln -s file "$T/link" || exit 14
	touch -h -d @1000000000 "$T/link" 2>&1 || echo link-touch-failed
	echo "link-mtime $(stat -c %Y "$T/link") target-mtime-changed $([ "$(stat -c %Y "$T/file")" = 1000000000 ] && echo yes || echo no)"
' 2>err)
st=$?
expect_eq "view exit status" 0 "$st"
[ "$st" = 0 ] || cat err >&2
expect_eq "a symlink's own times" "link-mtime 1000000000 target-mtime-changed no" "$out"
expect_eq "modes of creations with umask 0 and 027 in the view (vos runs with 022)" \
	"file 666|dir 777|fifo 666|file027 640" \
	"$(for f in file dir fifo file027; do printf '%s %s|' $f "$(stat -c %a "t/$f")"; done | sed 's/|$//')"
expect_eq "the host sees the symlink's time too" "1000000000" "$(stat -c %Y t/link)"

if [ "$(id -u)" -ne 0 ]; then
	echo "note: the checks with other uids need root (a view of root maps every uid)"
	finish
fi
command -v setpriv >/dev/null || skip "setpriv (util-linux) is not installed"

# 4000 owns t/mine; 4001 is only one of its supplementary groups.
touch t/mine t/suid
chown 4000:4000 t/mine
chmod 04777 t/suid
mkdir -m 0700 t/closed
echo secret > t/closed/f
chmod 0666 t/closed/f
out=$(vfs_run bash -c '
	T='"$D"'/t
	as4000() { setpriv --reuid 4000 --regid 4000 --groups 4000,4001 "$@"; }
	um_add_service viewfs || exit 10
	mount -t viewfs -o hidename=.hidden-here none "$T" || exit 11
	as4000 chgrp 4001 "$T/mine" && echo "chgrp-supplementary ok $(stat -c %g "$T/mine")"
	cat "$T/closed/f" >/dev/null # the kernel now has the entry
	as4000 cat "$T/closed/f" 2>/dev/null && echo closed-readable || echo closed-denied
	as4000 sh -c "echo x >> $T/suid" && echo "write ok, mode $(stat -c %a "$T/suid")"
' 2>err)
st=$?
expect_eq "view (root) exit status" 0 "$st"
[ "$st" = 0 ] || cat err >&2
expect_eq "supplementary groups, search permission, SUID cleared by a write" "chgrp-supplementary ok 4001
closed-denied
write ok, mode 777" "$out"
expect_eq "on the host" "4001 777" "$(stat -c %g t/mine) $(stat -c %a t/suid)"
finish
