#!/bin/bash
# Bad viewfs mounts (move/merge/cow, except=, hide and mode): each fails
# with one line from viewfs naming the problem and a non-zero status from
# mount(8); nothing on the host changes and the view keeps working.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"
. "$HERE/viewfs-lib.sh"
require_fuse
require_overlay

D=$TEST_DIR
mkdir -p host/sub layer rolayer src other vtgt
echo data > host/f
echo file > afile
before=$(tree_sum "$D")

cases="unknown-option two-modes no-source missing-source same cow-target-in-layer merge-layer-in-target
layer-is-file renew-without-cow subtype readonly-layer except-missing except-dotdot except-with-move
hide-bare-missing hide-bare-source hide-bare-root hide-bare-mixed fuse-without-cow cow-and-mincow
fuse-with-except fuse-target-view-mount move-and-cow hide-dotdot hide-with-cow hidename-slash hide-on-file hide-missing-source bad-mode-octal
bad-mode-symbolic bad-uid recursive-alone overlayonly-with-cow"
out=$(vfs_run bash -c '
	D='"$D"'
	um_add_service viewfs || exit 10
	mount --bind "$D/layer" "$D/rolayer" && mount -o remount,bind,ro "$D/rolayer" || exit 11
	mount --bind "$D/other" "$D/vtgt" || exit 12
	bad() { # NAME MOUNT-ARGS...
		local name=$1; shift
		echo "== $name" >&2
		mount "$@" 2>>"$D/mount.err"; echo "$name st=$?"
	}
	bad unknown-option -t viewfs -o cow,bogus "$D/layer" "$D/host"
	bad two-modes -t viewfs -o merge,cow "$D/layer" "$D/host"
	bad no-source -t viewfs -o cow none "$D/host"
	bad missing-source -t viewfs -o cow "$D/nonexistent" "$D/host"
	bad same -t viewfs -o merge "$D/host" "$D/host"
	bad cow-target-in-layer -t viewfs -o cow "$D/host" "$D/host/sub"
	bad merge-layer-in-target -t viewfs -o merge "$D/host/sub" "$D/host"
	bad layer-is-file -t viewfs -o cow "$D/afile" "$D/host"
	bad renew-without-cow -t viewfs -o merge,renew "$D/src" "$D/host"
	bad subtype -t viewfsx "$D/src" "$D/host"
	bad readonly-layer -t viewfs -o cow "$D/rolayer" "$D/host"
	bad except-missing -t viewfs -o cow,except=nothere "$D/layer" "$D/host"
	bad except-dotdot -t viewfs -o cow,except=../src "$D/layer" "$D/host"
	bad except-with-move -t viewfs -o except=sub "$D/src" "$D/host"
	bad hide-bare-missing -t viewfs -o hide none "$D/host/nothere"
	bad hide-bare-source -t viewfs -o hide "$D/src" "$D/host/sub"
	bad hide-bare-root -t viewfs -o hide none /
	bad hide-bare-mixed -t viewfs -o hide,hide=x none "$D/host/sub"
	bad fuse-without-cow -t viewfs -o merge,fuse "$D/src" "$D/host"
	bad cow-and-mincow -t viewfs -o cow,mincow "$D/layer" "$D/host"
	bad fuse-with-except -t viewfs -o cow,fuse,except=sub "$D/layer" "$D/host"
	bad fuse-target-view-mount -t viewfs -o cow,fuse "$D/layer" "$D/vtgt"
	# mount(8) takes -o move as its own --move: mount(2) as a program
	# would call it, with the options as data
	echo "== move-and-cow" >&2
	python3 -c "import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
r = libc.mount(sys.argv[1].encode(), sys.argv[2].encode(), b\"viewfs\", 0, b\"move,cow\")
sys.exit(0 if r == 0 else 32)" "$D/layer" "$D/host"; echo "move-and-cow st=$?"
	bad hide-dotdot -t viewfs -o hide=sub/../../src none "$D/host"
	bad hide-with-cow -t viewfs -o cow,hide=sub "$D/layer" "$D/host"
	bad hidename-slash -t viewfs -o hidename=a/b none "$D/host"
	bad hide-on-file -t viewfs -o hide=x none "$D/afile"
	bad hide-missing-source -t viewfs -o hide=x "$D/nonexistent" "$D/host"
	bad bad-mode-octal -t viewfs -o mode=0999 none "$D/host"
	bad bad-mode-symbolic -t viewfs -o mode=u+q none "$D/host"
	bad bad-uid -t viewfs -o uid=4294967295 none "$D/host"
	bad recursive-alone -t viewfs -o recursive none "$D/host"
	bad overlayonly-with-cow -t viewfs -o cow,overlayonly "$D/layer" "$D/host"
	echo "== end" >&2
	umount "$D/rolayer"
	mount -t viewfs -o cow "$D/layer" "$D/host" && echo alive > "$D/host/after" && cat "$D/host/after"
' 2>err)
st=$?
expect_eq "view exit status" 0 "$st"
for c in $cases; do
	expect_match "$c: mount fails" "^$c st=[1-9]" "$(printf '%s\n' "$out" | grep "^$c ")"
	msg=$(sed -n "/^== $c\$/,/^== /p" err | grep -v '^== ')
	expect_one_line_error "$c" "$msg" 1
	expect_match "$c: the line is viewfs's" "^viewfs: " "$msg"
done
expect_eq "the view still mounts after the errors" "alive" "$(printf '%s\n' "$out" | tail -n 1)"

# cow through FUSE with no fuse-overlayfs on the supervisor's PATH (an
# embedded supervisor: vosd has its own PATH)
if [ "${VOS_FORCE_DAEMON:-0}" != 1 ]; then
	out=$(cd / && step "$STEP_TIMEOUT" env PATH=/nonexistent "$VOS" run --native-cwd -- /bin/bash -c '
		'"$VOS_BUILD_ROOT"'/cli/um_add_service viewfs || exit 10
		PATH=/usr/bin:/bin mount -t viewfs -o cow,fuse "$1/layer" "$1/host" 2>/dev/null; echo "st=$?"' sh "$D" 2>"$D/err")
	expect_eq "cow,fuse without fuse-overlayfs: mount fails" "st=32" "$out"
	expect_one_line_error "cow,fuse without fuse-overlayfs" "$(cat err)" 1
	expect_match "cow,fuse without fuse-overlayfs: the line names it" "^viewfs: .*needs fuse-overlayfs" "$(cat err)"
fi
rm -f err mount.err layer/after
rm -rf .layer.viewfs-work
expect_eq "nothing changed on the host" "$before" "$(tree_sum "$D")"
finish
