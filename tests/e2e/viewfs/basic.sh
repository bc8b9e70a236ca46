#!/bin/bash
# viewfs move and merge on trees the test creates, and two viewfs mounts
# stacked on one directory; the host trees are unchanged afterwards.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"
. "$HERE/viewfs-lib.sh"
require_fuse
require_overlay

D=$TEST_DIR
mkdir -p src/sub tgt/old mnt-file layer empty
echo src-a > src/a; echo src-shared > src/shared; echo deep > src/sub/deep
echo tgt-b > tgt/b; echo tgt-shared > tgt/shared; echo old > tgt/old/x
echo one > file1; echo two > file2
host_sum() { tree_sum src; tree_sum tgt; md5sum file1 file2; }
before=$(host_sum)

out=$(vfs_run bash -c '
	D='"$D"'
	um_add_service viewfs || exit 10
	echo "== move"
	mount -t viewfs "$D/src" "$D/tgt" || exit 11
	ls "$D/tgt" | tr "\n" " "; echo
	cat "$D/tgt/sub/deep"
	[ -e "$D/tgt/old" ] && echo old-visible || echo old-hidden
	echo written > "$D/tgt/through"   # a move is the source itself
	umount "$D/tgt" || exit 12
	ls "$D/tgt" | tr "\n" " "; echo
	rm "$D/src/through"
	echo "== move-file"
	mount -t viewfs "$D/file1" "$D/file2" || exit 13
	cat "$D/file2"
	umount "$D/file2" || exit 14
	cat "$D/file2"
	echo "== merge"
	mount -t viewfs -o merge "$D/src" "$D/tgt" || exit 15
	ls "$D/tgt" | tr "\n" " "; echo
	cat "$D/tgt/shared" "$D/tgt/b" "$D/tgt/old/x"
	ls -a "$D/tgt" | sort | uniq -d | tr "\n" " "; echo "(dups)"
	touch "$D/tgt/new" 2>/dev/null && echo merge-writable || echo merge-readonly
	umount "$D/tgt" || exit 16
	echo "== stack"
	mount -t viewfs -o cow "$D/layer" "$D/tgt" || exit 17
	echo in-layer > "$D/tgt/cowfile"
	mount -t viewfs -o merge "$D/src" "$D/tgt" || exit 18
	ls "$D/tgt" | tr "\n" " "; echo
	cat "$D/tgt/cowfile" "$D/tgt/shared"
	umount "$D/tgt" || exit 19
	ls "$D/tgt" | tr "\n" " "; echo
	umount "$D/tgt" || exit 20
	ls "$D/tgt" | tr "\n" " "; echo
' 2>err)
st=$?
expect_eq "view exit status" 0 "$st"
[ "$st" = 0 ] || cat err >&2
expect_eq "move, merge and stacking as seen in the view" "== move
a shared sub 
deep
old-hidden
b old shared 
== move-file
one
two
== merge
a b old shared sub 
src-shared
tgt-b
old
(dups)
merge-readonly
== stack
a b cowfile old shared sub 
in-layer
src-shared
b cowfile old shared 
b old shared " "$out"
expect_eq "host trees unchanged" "$before" "$(host_sum)"
expect_eq "the cow layer holds the view's write" "cowfile in-layer" "$(ls layer) $(cat layer/cowfile)"
finish
