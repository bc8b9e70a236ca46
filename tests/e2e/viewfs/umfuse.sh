#!/bin/bash
# viewfs over a umfuse mount (libfuse's hello example, a kernel FUSE
# mount of the view): merge and cow take it as their lower directory, and
# hide or mode, which the supervisor cannot pass through, refuse it with
# one line.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"
. "$HERE/viewfs-lib.sh"
require_fuse
require_overlay

EX=/usr/share/doc/libfuse3-dev/examples
[ -f "$EX/hello.c" ] || skip "libfuse's examples are not installed ($EX, Debian package libfuse3-dev)"
command -v cc >/dev/null || skip "no C compiler"
D=$TEST_DIR
mkdir mods hello src layer
(cd mods && step 120 "$VOS_BUILD_ROOT/services/umfuse/vos-fuse-module" hello "$EX/hello.c" >/dev/null 2>&1) ||
	fail "cannot build umfusehello"
echo mine > src/mine
export VOS_SERVICE_PATH="$D/mods:$VOS_SERVICE_PATH"

out=$(STEP_TIMEOUT=60 vfs_run bash -c '
	D='"$D"'
	um_add_service umfuse || exit 10
	um_add_service viewfs || exit 11
	mount -t umfusehello none "$D/hello" || exit 12
	mount -t viewfs -o merge "$D/src" "$D/hello" || exit 13
	echo "merge: $(ls "$D/hello" | tr "\n" " ")$(cat "$D/hello/hello")"
	umount "$D/hello" || exit 14
	mount -t viewfs -o cow "$D/layer" "$D/hello" || exit 15
	echo written > "$D/hello/new"
	echo "cow: $(ls "$D/hello" | tr "\n" " ")"
	umount "$D/hello" || exit 16
	echo "== hide" >&2
	mount -t viewfs -o hide=hello none "$D/hello"; echo hide=$?
	echo "== end" >&2
	umount "$D/hello" || exit 17
' 2>err)
st=$?
expect_eq "view exit status" 0 "$st"
[ "$st" = 0 ] || cat err >&2
expect_eq "merge and cow over umfuse; hide refused" "merge: hello mine Hello World!
cow: hello new 
hide=32" "$out"
expect_eq "the cow write is in the layer" "written" "$(cat layer/new)"
msg=$(sed -n '/^== hide$/,/^== end$/p' err | grep '^viewfs')
expect_match "hide over umfuse: one line from viewfs" "^viewfs: .*FUSE mount of the view" "$msg"
expect_eq "one line" 1 "$(printf '%s\n' "$msg" | grep -c '')"
finish
