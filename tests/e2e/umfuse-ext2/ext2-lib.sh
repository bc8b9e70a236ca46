# SPDX-License-Identifier: GPL-2.0-or-later
# Shared by the umfuse-ext2 tests (sourced after ../lib.sh). Most tests run
# vos-ext2fs -- the same sources as the umfuse module umfuseext2.so, built
# as a kernel FUSE program -- in a private user+mount+pid namespace, so they
# need neither root nor the umfuse service, and the namespace's end kills
# every process of the test. umfuse.sh runs the module itself in a view.

EXT2FS="$VOS_BUILD_ROOT/services/umfuse/ext2/vos-ext2fs"
UMFUSEEXT2="$VOS_BUILD_ROOT/services/umfuse/ext2/umfuseext2.so"
[ -x "$EXT2FS" ] || skip "vos-ext2fs is not built (libext2fs headers missing at setup)"

e2_tool() {
	command -v "$1" 2>/dev/null || { [ -x "/sbin/$1" ] && echo "/sbin/$1"; } ||
		{ [ -x "/usr/sbin/$1" ] && echo "/usr/sbin/$1"; }
}
MKFS=$(e2_tool mke2fs)
E2FSCK=$(e2_tool e2fsck)
DEBUGFS=$(e2_tool debugfs)
[ -n "$MKFS" ] && [ -n "$E2FSCK" ] && [ -n "$DEBUGFS" ] || skip "e2fsprogs is not installed"
command -v unshare >/dev/null && command -v python3 >/dev/null || skip "unshare or python3 missing"
require_fuse
# Real root keeps the initial user namespace (the kernel refuses POSIX ACL
# xattrs on FUSE mounts made inside a user namespace); others get one.
if [ "$(id -u)" -eq 0 ]; then NS_FLAGS=-mp; else NS_FLAGS=-Urmp; fi
step 10 unshare $NS_FLAGS --fork true 2>/dev/null ||
	skip "user/mount/pid namespaces are not available to $(id -un)"
E2LOG="$TEST_DIR/ext2fs.log"
: > "$E2LOG"

# Functions for scripts running inside the namespace.
cat > "$TEST_DIR/ns-lib.sh" <<'NSLIB'
set -u
# e2mount IMAGE MOUNTPOINT [ARGS...]: start the filesystem, wait for the mount
e2mount() {
	local img=$1 mnt=$2 i
	shift 2
	mkdir -p "$mnt"
	"$EXT2FS" "$img" "$mnt" -f "$@" 2>>"$E2LOG" &
	E2PID=$!
	for i in $(seq 200); do
		# not mountpoint(1): it stats, and a corrupt root gives EIO
		grep -q " $(cd "$mnt" 2>/dev/null && pwd -P || echo "$PWD/$mnt") " /proc/self/mountinfo &&
			return 0
		kill -0 "$E2PID" 2>/dev/null || { wait "$E2PID"; return 1; }
		sleep 0.05
	done
	echo "e2mount: $mnt did not appear" >&2
	return 1
}
# e2umount MOUNTPOINT: unmount, wait for the filesystem to flush and exit;
# returns its exit status
e2umount() {
	umount "$1" || return 99
	wait "$E2PID"
}
NSLIB

# ns_run SECONDS SCRIPT: bash SCRIPT in the namespace, as its root
ns_run() {
	local secs=$1
	shift
	EXT2FS="$EXT2FS" E2LOG="$E2LOG" step "$secs" unshare $NS_FLAGS --propagation private \
		--fork --kill-child \
		bash -c ". '$TEST_DIR/ns-lib.sh'; cd '$TEST_DIR' || exit 98; $1"
}

# mkimg FILE SIZE TYPE [MKE2FS ARGS...]
mkimg() {
	local f=$1 size=$2 type=$3
	shift 3
	rm -f "$f"
	truncate -s "$size" "$f" && step 60 "$MKFS" -q -F -t "$type" "$@" "$f" >/dev/null
}

# fsck_clean WHAT IMAGE
fsck_clean() {
	local out st
	out=$(step 60 "$E2FSCK" -fn "$2" 2>&1)
	st=$?
	if [ "$st" -eq 0 ]; then ok "$1: e2fsck -fn clean"; else fail "$1: e2fsck -fn: $st: $out"; fi
}

# LeakSanitizer walks /proc/PID/task, which a private pid namespace with
# the parent's /proc does not show: leaks are checked by the other tests.
if [ -n "${VOS_SANITIZED:-}" ]; then
	export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
fi
