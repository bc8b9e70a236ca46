#!/bin/bash
# viewfs except=PATH with cow and merge: PATH (repeatable, at any depth)
# keeps the target's own content, bound back on top of the overlay, so
# writes under it reach the target directory itself while every other
# write lands in the layer; a plain umount of the target removes the
# overlay and its except binds together.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"
. "$HERE/viewfs-lib.sh"
require_fuse
require_overlay

D=$TEST_DIR
mkdir -p host/keep host/sub/deep layer src/keep
echo orig > host/keep/k; echo s > src/keep/fromsrc; echo s > src/srcfile

out=$(vfs_run bash -c '
	D='"$D"'
	um_add_service viewfs || exit 10
	mount -t viewfs -o cow,except=keep,except=sub/deep "$D/layer" "$D/host" || exit 11
	echo c > "$D/host/cowed"; echo k > "$D/host/keep/k2"; echo d > "$D/host/sub/deep/d2"; echo s > "$D/host/sub/s2"
	rm "$D/host/keep/k" || exit 12
	ls "$D/host" "$D/host/keep" "$D/host/sub" | tr "\n" " "; echo
	umount "$D/host" || exit 13
	echo "mounts left: $(grep -c " $D/host" /proc/self/mountinfo)"
	ls "$D/host" | tr "\n" " "; echo
	mount -t viewfs -o merge,except=keep "$D/src" "$D/host" || exit 14
	echo "merge: $(ls "$D/host" | tr "\n" " ")/ keep: $(ls "$D/host/keep" | tr "\n" " ")"
	umount "$D/host" || exit 15
	echo "mounts left: $(grep -c " $D/host" /proc/self/mountinfo)"
' 2>err)
st=$?
expect_eq "view exit status" 0 "$st"
[ "$st" = 0 ] || cat err >&2
expect_eq "except paths in the view" "$D/host: cowed keep sub  $D/host/keep: k2  $D/host/sub: deep s2 
mounts left: 0
keep sub 
merge: keep srcfile sub / keep: k2 
mounts left: 0" "$out"
expect_eq "writes under except paths reached the directory itself" "k2|d2" \
	"$(ls host/keep | tr '\n' ' ' | sed 's/ $//')|$(ls host/sub/deep)"
expect_eq "the rest went to the layer" "cowed sub s2" "$(ls layer | tr '\n' ' ')$(ls layer/sub)"
expect_eq "the source of merge is untouched" "fromsrc srcfile" "$(ls src/keep) $(ls src | grep -v keep)"
finish
