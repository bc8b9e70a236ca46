#!/bin/bash
# viewfs merge binds the directories only TARGET has, read-only, on top of
# its overlay (services/viewfs/viewfs-merge.c): the view of the tree is
# the same as through the overlay alone (-o merge,overlayonly), name for
# name and byte for byte; writes still fail with EROFS; umount takes the
# binds along; with except= there are none. The host trees are unchanged.
# (overlayonly without merge: bad-input.sh.)
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"
. "$HERE/viewfs-lib.sh"
require_fuse
require_overlay

D=$TEST_DIR
mkdir -p tgt/d1/deep tgt/d2 tgt/both/t tgt/keep src/both/s src/s1
echo t1 > tgt/d1/deep/f; echo t2 > tgt/d2/f; echo tb > tgt/both/t/f; echo tf > tgt/file
echo sb > src/both/s/f; echo s1 > src/s1/f; echo sf > src/file
ln -s d1 tgt/link
mkdir tgt/shadowed; echo hidden > tgt/shadowed/f; echo wins > src/shadowed
host_sum() { tree_sum src; tree_sum tgt; }
before=$(host_sum)

out=$(vfs_run bash -c '
	D='"$D"'
	mounts() { awk -v t="$D/tgt" "\$5 == t || index(\$5, t \"/\") == 1 { print \$5 }" /proc/self/mountinfo | sort; }
	um_add_service viewfs || exit 10
	mount -t viewfs -o merge,overlayonly "$D/src" "$D/tgt" || exit 11
	echo "overlayonly mounts: $(mounts | wc -l)"
	(cd "$D/tgt" && find . -printf "%p %y %s\n" | sort && find . -type f -exec md5sum {} + | sort) > "$D/via-overlay"
	umount "$D/tgt" || exit 12
	mount -t viewfs -o merge "$D/src" "$D/tgt" || exit 13
	echo "bound: $(mounts | sed "s|^$D/tgt||" | tr "\n" " ")"
	(cd "$D/tgt" && find . -printf "%p %y %s\n" | sort && find . -type f -exec md5sum {} + | sort) > "$D/via-binds"
	ls -a "$D/tgt" | sort | uniq -d | tr "\n" " "; echo "(dups)"
	touch "$D/tgt/d1/new" 2>&1 | grep -o "Read-only file system"
	touch "$D/tgt/new" 2>&1 | grep -o "Read-only file system"
	cat "$D/tgt/shadowed" "$D/tgt/link/deep/f"
	umount "$D/tgt" || exit 14
	echo "after umount: $(mounts | wc -l)"
	mount -t viewfs -o merge,except=d2 "$D/src" "$D/tgt" || exit 15
	echo "with except: $(mounts | sed "s|^$D/tgt||" | tr "\n" " ")"
	umount "$D/tgt" || exit 16
	echo "after umount: $(mounts | wc -l)"
' 2>err)
st=$?
expect_eq "view exit status ($(cat err))" 0 "$st"
expect_eq "overlayonly: the overlay alone" "overlayonly mounts: 1" "$(grep "^overlayonly" <<<"$out")"
expect_eq "TARGET-only directories bound" "bound:  /d1 /d2 /keep " "$(grep "^bound:" <<<"$out")"
expect_eq "the same tree either way" "$(md5sum < via-overlay)" "$(md5sum < via-binds)"
[ -s via-binds ] && grep -q "^./d1/deep/f f 3$" via-binds || fail "the listing is missing d1/deep/f: $(head -5 via-binds)"
expect_eq "each name once" "(dups)" "$(grep "(dups)" <<<"$out")"
expect_eq "writes below a bind and at the top fail" "Read-only file system
Read-only file system" "$(grep "^Read-only" <<<"$out")"
expect_eq "SOURCE wins; symlinks lead into binds" "wins
t1" "$(sed -n '/^wins$/,+1p' <<<"$out")"
expect_eq "umount takes the binds along" "after umount: 0
after umount: 0" "$(grep "^after umount" <<<"$out")"
expect_eq "with except=: the overlay and the except only" "with except:  /d2 " "$(grep "^with except" <<<"$out")"
expect_eq "host trees unchanged" "$before" "$(host_sum)"

finish
