#!/bin/bash
# viewfs mode=, uid=, gid=: presented permissions, for a file, a directory
# and (recursive) a whole subtree. They show in stat and are enforced for
# every process of the view, its root included: a file shown 0444 cannot
# be written, a directory shown without w takes no new names, chmod of a
# presented object fails; mode=+x makes a script runnable. The host
# inodes keep their own modes and owners.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"
. "$HERE/viewfs-lib.sh"
require_fuse
require_overlay

D=$TEST_DIR
mkdir -p t/dir/sub t/ro
echo data > t/file; chmod 644 t/file
printf '#!/bin/sh\necho script-ran\n' > t/script; chmod 644 t/script
echo inner > t/dir/inner; echo deep > t/dir/sub/deep
echo r > t/ro/f
before=$(tree_sum t)

out=$(vfs_run bash -c '
	T='"$D"'/t
	um_add_service viewfs || exit 10
	echo "== file"
	mount -t viewfs -o mode=0444 none "$T/file" || exit 11
	stat -c "%a %F" "$T/file"
	echo more >> "$T/file" 2>/dev/null && echo write-ok || echo write-denied
	cat "$T/file"
	chmod 644 "$T/file" 2>/dev/null && echo chmod-ok || echo chmod-denied
	umount "$T/file" || exit 12
	stat -c "%a" "$T/file"
	echo "== exec"
	"$T/script" 2>/dev/null || echo not-runnable
	mount -t viewfs -o mode=+x none "$T/script" || exit 13
	stat -c "%a" "$T/script"
	"$T/script"
	umount "$T/script" || exit 14
	echo "== dir"
	mount -t viewfs -o mode=0555 none "$T/dir" || exit 15
	stat -c "%a" "$T/dir" "$T/dir/inner"
	touch "$T/dir/new" 2>/dev/null && echo create-ok || echo create-denied
	rm "$T/dir/inner" 2>/dev/null && echo rm-ok || echo rm-denied
	echo changed >> "$T/dir/inner" && echo inner-writable
	echo "== recursive"
	mount -t viewfs -o mode=a-w,recursive none "$T/dir" || exit 16
	stat -c "%a %n" "$T/dir" "$T/dir/inner" "$T/dir/sub" "$T/dir/sub/deep" | sed "s|$T/||"
	echo x >> "$T/dir/sub/deep" 2>/dev/null && echo deep-write-ok || echo deep-write-denied
	mkdir "$T/dir/sub/new" 2>/dev/null && echo mkdir-ok || echo mkdir-denied
	umount "$T/dir" && umount "$T/dir" || exit 17
	echo "== owner"
	mount -t viewfs -o uid=65534,gid=65534,mode=0640 none "$T/ro" || exit 18
	stat -c "%u:%g %a" "$T/ro"
	ls "$T/ro" >/dev/null 2>&1 && echo ls-ok || echo ls-denied
	umount "$T/ro" || exit 19
	ls "$T/ro"
' 2>err)
st=$?
expect_eq "view exit status" 0 "$st"
[ "$st" = 0 ] || cat err >&2
expect_eq "presented and enforced modes" "== file
444 regular file
write-denied
data
chmod-denied
644
== exec
not-runnable
755
script-ran
== dir
555
644
create-denied
rm-denied
inner-writable
== recursive
555 dir
444 dir/inner
555 dir/sub
444 dir/sub/deep
deep-write-denied
mkdir-denied
== owner
65534:65534 640
ls-denied
f" "$out"
expect_eq "the one write allowed reached the host" "inner
changed" "$(cat t/dir/inner)"
echo inner > t/dir/inner
expect_eq "host tree unchanged (modes, owners, contents)" "$before" "$(tree_sum t)"
finish
