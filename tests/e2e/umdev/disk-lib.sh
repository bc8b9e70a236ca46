# SPDX-License-Identifier: GPL-2.0-or-later
# Helpers for the umdev disk tests (sourced after ../lib.sh): hand-written
# MBR entries for images no partitioning tool would write, and the byte
# range of a partition of an image as sfdisk sees it from outside the view.

require_disk_tools() {
	local t
	for t in "$@"; do
		command -v "$t" >/dev/null 2>&1 || PATH="$PATH:/sbin:/usr/sbin" command -v "$t" >/dev/null 2>&1 ||
			skip "$t is not installed"
	done
	export PATH="$PATH:/sbin:/usr/sbin"
}

# le32 VALUE: four little-endian bytes.
le32() {
	local v=$1 i
	for i in 0 8 16 24; do
		printf "\\x$(printf %02x $(((v >> i) & 255)))"
	done
}

# mbr_entry IMAGE SECTOR SLOT BOOT TYPE START SECTORS: one entry of the
# partition table in SECTOR (0: the MBR, else an EBR), and the signature.
mbr_entry() {
	local img=$1 sector=$2 slot=$3 boot=$4 type=$5 start=$6 count=$7
	{
		printf "\\x$(printf %02x "$boot")\\x00\\x00\\x00\\x$(printf %02x "$type")\\x00\\x00\\x00"
		le32 "$start"
		le32 "$count"
	} | dd of="$img" bs=1 seek=$((sector * 512 + 446 + slot * 16)) conv=notrunc status=none
	printf '\x55\xaa' | dd of="$img" bs=1 seek=$((sector * 512 + 510)) conv=notrunc status=none
}

# part_range IMAGE N: "START SECTORS" of partition N, read with sfdisk -d.
part_range() {
	sfdisk -d "$1" 2>/dev/null | awk -v dev="$1$2" '
		$1 == dev {
			for (i = 2; i <= NF; i++) {
				gsub(",", "", $i)
				if ($i == "start=") s = $(i + 1)
				if ($i == "size=") n = $(i + 1)
			}
			gsub(",", "", s); gsub(",", "", n); print s, n
		}'
}

# vos_pid_in_view: inside a view, the pid of the `vos` process serving it
# (the nearest ancestor named vos). For shell snippets run in the view.
VOS_PID_SNIPPET='vos_pid() { p=$$; while [ "$p" -gt 1 ] && [ "$(cat /proc/$p/comm)" != vos ]; do p=$(awk "/^PPid:/{print \$2}" /proc/$p/status); done; echo $p; }'
# Through vosd (meson test --setup daemon) the supervisor is the test's
# private vosd, which serves its user's views itself.
if [ "${VOS_FORCE_DAEMON:-0}" = 1 ] && [ -n "${VOSD_PID:-}" ]; then
	VOS_PID_SNIPPET="vos_pid() { echo $VOSD_PID; }"
fi

# vos_disk_run ARGS...: vos_run for tests whose images live in the test
# directory (the working-directory layer; the service opens SOURCE through
# the core, as the calling process sees it).
vos_disk_run() {
	vos_run "$@"
}
