#!/bin/bash
# viewfs cow and mincow: every change lands in the layer, including writes
# to files that are read-only on the host; deletions are whiteouts that a
# later view mounting the same layer sees again; renew starts empty; the
# host tree never changes. Then the issue's session over /usr, root's
# tree: touch, rm and append succeed in the view, the host's /usr stays as
# it was, and a new view on the layer sees the changes again.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"
. "$HERE/viewfs-lib.sh"
require_fuse
require_overlay

D=$TEST_DIR
mkdir -p host/dir1/sub host/keep layer "lay,er:2"
echo ro > host/readonly && chmod 444 host/readonly
echo doomed > host/doomed
echo inside > host/dir1/sub/f
echo kept > host/keep/k
chmod 555 host/keep
before=$(tree_sum host)

out=$(vfs_run bash -c '
	D='"$D"'
	um_add_service viewfs || exit 10
	mount -t viewfs -o cow "$D/layer" "$D/host" || exit 11
	echo more >> "$D/host/readonly" || exit 12
	cat "$D/host/readonly"
	echo new > "$D/host/keep/newfile" || exit 13
	rm "$D/host/doomed" || exit 14
	[ -e "$D/host/doomed" ] && echo doomed-visible || echo doomed-gone
	ls "$D/host" | grep -c doomed
	mv "$D/host/dir1" "$D/host/dir2" || exit 15
	cat "$D/host/dir2/sub/f"
	[ -e "$D/host/dir1" ] && echo dir1-visible || echo dir1-gone
' 2>err)
st=$?
expect_eq "cow view exit status" 0 "$st"
[ "$st" = 0 ] || cat err >&2
expect_eq "writes, deletions and a directory rename in the cow view" "ro
more
doomed-gone
0
inside
dir1-gone" "$out"
expect_eq "host tree unchanged after the cow view" "$before" "$(tree_sum host)"
# a whiteout is a character device 0:0
expect_eq "the changes are in the layer" "ro more|new|c 0:0|c 0:0|inside" \
	"$(echo $(cat layer/readonly))|$(cat layer/keep/newfile)|$(stat -c '%A %t:%T' layer/doomed | cut -c1,11-)|$(stat -c '%A %t:%T' layer/dir1 | cut -c1,11-)|$(cat layer/dir2/sub/f)"

out=$(vfs_run bash -c '
	D='"$D"'
	um_add_service viewfs || exit 10
	mount -t viewfs -o mincow "$D/layer" "$D/host" || exit 11
	ls "$D/host" | tr "\n" " "; echo
	cat "$D/host/readonly"
	umount "$D/host" || exit 12
	ls "$D/host" | tr "\n" " "; echo
	mount -t viewfs -o cow "$D/layer" "$D/host" || exit 13
	ls "$D/host" | tr "\n" " "; echo
' 2>err)
st=$?
expect_eq "remount view exit status" 0 "$st"
[ "$st" = 0 ] || cat err >&2
expect_eq "a new view on the same layer sees the changes, deletions included" "dir2 keep readonly 
ro
more
dir1 doomed keep readonly 
dir2 keep readonly " "$out"

out=$(vfs_run bash -c '
	D='"$D"'
	um_add_service viewfs || exit 10
	mount -t viewfs -o cow,renew "$D/layer" "$D/host" || exit 11
	ls "$D/host" | tr "\n" " "; echo
	cat "$D/host/readonly"
	echo renewed > "$D/host/fresh"
	mount -t viewfs -o cow "$D/lay,er:2" "$D/host/keep" || exit 12
	echo odd > "$D/host/keep/odd"
	cat "$D/host/keep/k" "$D/host/keep/odd"
' 2>err)
st=$?
expect_eq "renew view exit status" 0 "$st"
[ "$st" = 0 ] || cat err >&2
expect_eq "renew starts from an empty layer; a layer named with , and :" "dir1 doomed keep readonly 
ro
kept
odd" "$out"
expect_eq "the renewed layer" "fresh" "$(echo $(ls layer))"
expect_eq "the layer with , and : in its name" "odd" "$(cat "lay,er:2/odd")"
expect_eq "host tree unchanged at the end" "$before" "$(tree_sum host)"

# The issue's session over a tree that root owns on the host: /usr. As
# root, overlayfs does it; an unprivileged view's root has no power over
# root's inodes, so viewfs serves the layer through fuse-overlayfs (and
# root can ask for that with the fuse option).
ro_file=
for f in /usr/share/dict/words /usr/share/common-licenses/GPL-3 /usr/share/common-licenses/GPL-2; do
	[ -f "$f" ] && [ ! -L "$f" ] && [ -r "$f" ] && ro_file=$f && break
done
variants="cow"
[ "$(id -u)" = 0 ] && variants="cow cow,fuse"
have_fuse_overlayfs=$(command -v fuse-overlayfs || true)
for opts in $variants; do
	if [ -z "$have_fuse_overlayfs" ] && { [ "$opts" = cow,fuse ] || [ "$(id -u)" != 0 ]; }; then
		echo "skip: -o $opts over /usr needs fuse-overlayfs (scripts/setup installs it)"
		continue
	fi
	[ -n "$ro_file" ] || { echo "skip: no root-owned regular file under /usr/share to append to"; break; }
	L=$D/usr-layer-${opts#*,}
	mkdir -p "$L"
	host_usr="$(stat -c '%i %s %Y' /usr/bin/cat "$ro_file" | tr '\n' ' ')$(md5sum < "$ro_file")"
	out=$(vfs_run bash -c '
		um_add_service viewfs || exit 10
		mount -t viewfs -o '"$opts"' "$1" /usr || exit 11
		touch /usr/bin/newfile || exit 12
		rm /usr/bin/cat || exit 13
		echo x >> "$2" || exit 14
		[ -e /usr/bin/cat ] && echo cat-visible || echo cat-gone
		ls /usr/bin | grep -cx cat
		tail -n 1 "$2"
	' sh "$L" "$ro_file" 2>err)
	st=$?
	expect_eq "/usr -o $opts: view exit status" 0 "$st"
	[ "$st" = 0 ] || cat err >&2
	expect_eq "/usr -o $opts: touch, rm and append to root's files in the view" "cat-gone
0
x" "$out"
	expect_eq "/usr -o $opts: the host's /usr is unchanged" \
		"$host_usr|absent" "$(stat -c '%i %s %Y' /usr/bin/cat "$ro_file" | tr '\n' ' ')$(md5sum < "$ro_file")|$([ -e /usr/bin/newfile ] && echo present || echo absent)"
	# the deletion: a whiteout device 0:0 (overlayfs, or fuse-overlayfs where
	# it may make one) or fuse-overlayfs's .wh.cat file
	wh=absent
	[ -c "$L/bin/cat" ] && [ "$(stat -c '%t:%T' "$L/bin/cat")" = 0:0 ] && wh=whiteout
	[ -e "$L/bin/.wh.cat" ] && wh=whiteout
	expect_eq "/usr -o $opts: the changes are in the layer" "file|whiteout|x" \
		"$([ -f "$L/bin/newfile" ] && echo file)|$wh|$(tail -n 1 "$L/${ro_file#/usr/}")"
	out=$(vfs_run bash -c '
		um_add_service viewfs || exit 10
		mount -t viewfs -o '"$opts"' "$1" /usr || exit 11
		[ -e /usr/bin/cat ] && echo cat-visible || echo cat-gone
		ls /usr/bin/newfile
		tail -n 1 "$2"
	' sh "$L" "$ro_file" 2>err)
	st=$?
	expect_eq "/usr -o $opts: remount exit status" 0 "$st"
	[ "$st" = 0 ] || cat err >&2
	expect_eq "/usr -o $opts: a new view on the layer sees the changes again" "cat-gone
/usr/bin/newfile
x" "$out"
done
chmod -R u+rwx "$D" 2>/dev/null
finish
