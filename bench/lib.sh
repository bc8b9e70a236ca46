# SPDX-License-Identifier: GPL-2.0-or-later
#
# bench/lib.sh: helpers shared by bench/run, bench/fs and bench/scale.
# Source it after setting `prog` (the script's name, for messages).

die() { echo "$prog: $*" >&2; exit 1; }

# need TOOL PACKAGE: die with one line if TOOL is not in PATH.
need() {
	command -v "$1" >/dev/null 2>&1 || die "$1 not found (Debian package $2)"
}

# positive_int NAME VALUE: die unless VALUE is a positive whole number.
positive_int() {
	[[ $2 =~ ^[1-9][0-9]*$ ]] || die "$1 wants a positive whole number, got '$2'"
}

# find_vos SCRIPT_DIR [PATH]: print the absolute path of the vos binary:
# PATH when given, else ../build/cli/vos, else ../build-*/cli/vos next to
# the scripts, else vos in PATH. Dies when there is none.
find_vos() {
	local dir=$1 v=${2:-} b
	if [ -z "$v" ]; then
		for b in "$dir/../build/cli/vos" "$dir"/../build-*/cli/vos; do
			[ -x "$b" ] && { v=$b; break; }
		done
		[ -n "$v" ] || v=$(command -v vos 2>/dev/null) ||
			die "no vos binary: build it (meson setup build && ninja -C build) or pass --vos PATH"
	fi
	{ [ -f "$v" ] && [ -x "$v" ]; } || die "--vos: '$v' is not an executable file"
	echo "$(cd "$(dirname "$v")" && pwd)/$(basename "$v")"
}

# machine: one line naming the machine (cores, CPU, kernel).
machine() {
	local cpu
	cpu=$(grep -m1 '^model name' /proc/cpuinfo 2>/dev/null | sed 's/.*: //; s/  */ /g' || true)
	echo "$(nproc) cores${cpu:+ ($cpu)}, Linux $(uname -r)"
}

# now_us: microseconds since the epoch (bash's EPOCHREALTIME, no fork).
now_us() { local t=${EPOCHREALTIME/./}; echo "$t"; }

# wait_mounted DIR PID [TRIES]: wait until DIR is a mount point in this
# mount namespace (by /proc/self/mountinfo: no stat of the new root) while
# PID, the filesystem's process, lives. Fails if it exits or time runs out.
wait_mounted() {
	local dir=$1 pid=$2 tries=${3:-400} i
	for ((i = 0; i < tries; i++)); do
		awk -v d="$dir" '$5 == d { f = 1 } END { exit !f }' /proc/self/mountinfo && return 0
		kill -0 "$pid" 2>/dev/null || return 1
		sleep 0.025
	done
	return 1
}
