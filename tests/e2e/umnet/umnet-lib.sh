# SPDX-License-Identifier: GPL-2.0-or-later
# Shared by the umnet tests: where the service is, what they need.
export VOS_SERVICE_PATH="$VOS_BUILD_ROOT/services/umnet:$VOS_SERVICE_PATH"
export PATH="$VOS_BUILD_ROOT/tests/fixtures:$PATH"

require_tun() {
	[ -r /dev/net/tun ] && [ -w /dev/net/tun ] || skip "/dev/net/tun is not readable and writable by $(id -un)"
}

require_tools() {
	local t
	for t in "$@"; do
		command -v "$t" >/dev/null 2>&1 || skip "$t is not installed (scripts/setup installs it)"
	done
}
