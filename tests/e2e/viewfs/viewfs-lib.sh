# SPDX-License-Identifier: GPL-2.0-or-later
# Shared by the viewfs tests (sourced after ../lib.sh).
export VOS_SERVICE_PATH="$VOS_BUILD_ROOT/services/viewfs:$VOS_SERVICE_PATH"

# Kernel overlayfs in a user namespace is what viewfs stands on.
require_overlay() {
	grep -qw overlay /proc/filesystems || modprobe -q overlay 2>/dev/null
	grep -qw overlay /proc/filesystems || skip "the kernel has no overlayfs"
	step 10 unshare -Urm sh -c 'd=$(mktemp -d) && mkdir $d/l $d/u $d/w $d/m &&
		mount -t overlay x -o lowerdir=$d/l,upperdir=$d/u,workdir=$d/w,userxattr $d/m; r=$?; rm -rf $d; exit $r' \
		>/dev/null 2>&1 || skip "overlayfs cannot be mounted in a user namespace here"
}

# tree_sum DIR: names, types, modes, sizes and contents of everything in DIR.
tree_sum() {
	(cd "$1" && find . -printf '%p %y %m %s %l\n' | sort && find . -type f -exec md5sum {} + | sort) | md5sum | cut -d' ' -f1
}

# The views run with --native-cwd: the test's paths are absolute, and the
# layers must sit on a real filesystem, not on the working-directory layer.
vfs_run() {
	vos_run --native-cwd -- "$@"
}
