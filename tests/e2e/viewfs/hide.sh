#!/bin/bash
# viewfs hide: paths (hide=) and names everywhere (hidename=) vanish from
# the view: ls, find, stat, cat and open agree they do not exist, and
# creating them fails with EACCES; a second hide mount on the same tree
# keeps the first one's names hidden (stacking passthroughs), a cow mount
# stacks on a hide mount, SOURCE can differ from the mount point, and
# umount brings everything back; the bare form `-o hide none PATH` hides
# PATH itself (a file or a directory) until `umount PATH`. The host tree
# never changes.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"
. "$HERE/viewfs-lib.sh"
require_fuse
require_overlay

D=$TEST_DIR
mkdir -p home/.ssh home/docs/.git home/src/.git home/src/deep/.git layer other
echo key > home/.ssh/id; echo doc > home/docs/readme; echo code > home/src/main.c
echo g > home/src/deep/.git/HEAD; echo o > other/o
before=$(tree_sum home; tree_sum other)

out=$(vfs_run bash -c '
	D='"$D"'
	H=$D/home
	um_add_service viewfs || exit 10
	mount -t viewfs -o hide=.ssh:docs/readme none "$H" || exit 11
	echo "ls: $(ls -A "$H" | tr "\n" " ")"
	echo "docs: $(ls -A "$H/docs" | tr "\n" " ")"
	stat "$H/.ssh" >/dev/null 2>&1 && echo stat-ssh-found || echo stat-ssh-enoent
	cat "$H/.ssh/id" 2>/dev/null && echo cat-found || echo cat-enoent
	cat "$H/docs/readme" 2>/dev/null || echo readme-enoent
	[ -e "$H/.ssh" ] && echo test-e-found || echo test-e-absent
	echo "find: $(cd "$H" && find . | sort | tr "\n" " ")"
	touch "$H/.ssh" 2>&1 | grep -c "Permission denied"
	mkdir "$H/.ssh" 2>&1 | grep -c "Permission denied"
	mv "$H/src/main.c" "$H/docs/readme" 2>&1 | grep -c "Permission denied"
	echo visible > "$H/docs/new" && cat "$H/docs/new" && rm "$H/docs/new"
	echo "== stack hidename"
	mount -t viewfs -o hidename=.git none "$H" || exit 12
	echo "find: $(cd "$H" && find . | sort | tr "\n" " ")"
	stat "$H/src/deep/.git/HEAD" >/dev/null 2>&1 && echo git-found || echo git-enoent
	echo "== cow on hide"
	mount -t viewfs -o cow "$D/layer" "$H/src" || exit 13
	echo cowed > "$H/src/new.c"
	ls -A "$H/src" | tr "\n" " "; echo
	umount "$H/src" || exit 14
	umount "$H" || exit 15
	echo "after one umount: $(ls -A "$H" | tr "\n" " ")/ $(ls -A "$H/src/deep" | tr "\n" " ")"
	umount "$H" || exit 16
	echo "after both: $(ls -A "$H" | tr "\n" " ")"
	echo "== bare hide: the target itself"
	mount -t viewfs -o hide none "$H/.ssh" || exit 20
	mount -t viewfs -o hide none "$H/docs/readme" || exit 21
	echo "ls: $(ls -A "$H" | tr "\n" " ")/ $(ls -A "$H/docs" | tr "\n" " ")"
	stat "$H/.ssh" >/dev/null 2>&1 && echo stat-found || echo stat-enoent
	(exec 3<"$H/.ssh/id") 2>/dev/null && echo open-found || echo open-enoent
	(exec 3<"$H/docs/readme") 2>/dev/null && echo open-readme-found || echo open-readme-enoent
	echo "find: $(find "$H" -name .ssh -o -name readme | wc -l)"
	umount "$H/docs/readme" || exit 22
	echo "readme back: $(cat "$H/docs/readme")"
	umount "$H/.ssh" || exit 23
	echo "ssh back: $(cat "$H/.ssh/id")"
	echo "== source"
	mount -t viewfs -o hide=o "$D/home" "$D/other" || exit 17
	echo "other: $(ls -A "$D/other" | tr "\n" " ")"
	mount -t viewfs -o hide=src "$D/other" "$D/other" 2>/dev/null; echo stacked-source=$?
	echo "other: $(ls -A "$D/other" | tr "\n" " ")"
' 2>err)
st=$?
expect_eq "view exit status" 0 "$st"
[ "$st" = 0 ] || cat err >&2
expect_eq "hidden paths and names in the view" "ls: docs src 
docs: .git 
stat-ssh-enoent
cat-enoent
readme-enoent
test-e-absent
find: . ./docs ./docs/.git ./src ./src/.git ./src/deep ./src/deep/.git ./src/deep/.git/HEAD ./src/main.c 
1
1
1
visible
== stack hidename
find: . ./docs ./src ./src/deep ./src/main.c 
git-enoent
== cow on hide
deep main.c new.c 
after one umount: docs src / .git 
after both: .ssh docs src 
== bare hide: the target itself
ls: docs src / .git 
stat-enoent
open-enoent
open-readme-enoent
find: 0
readme back: doc
ssh back: key
== source
other: .ssh docs src 
stacked-source=0
other: .ssh docs " "$out"
expect_eq "the cow layer got the write" "cowed" "$(cat layer/new.c)"
rm -rf layer/new.c .layer.viewfs-work
expect_eq "host trees unchanged" "$before" "$(tree_sum home; tree_sum other)"
finish
