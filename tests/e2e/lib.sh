# SPDX-License-Identifier: GPL-2.0-or-later
# Shared by every end-to-end test: a private temp dir, a timeout on every
# step, cleanup of every process a test starts (by pid), and helpers that
# say what went wrong. Exit 77 skips (say which kernel feature is missing).
set -u

: "${VOS_BUILD_ROOT:?run through meson test (VOS_BUILD_ROOT unset)}"
export PATH="$VOS_BUILD_ROOT/cli:$PATH"
export VOS_SERVICE_PATH="$VOS_BUILD_ROOT/tests/fixtures${VOS_SERVICE_PATH:+:$VOS_SERVICE_PATH}"
export LC_ALL=C
VOS="$VOS_BUILD_ROOT/cli/vos"
STEP_TIMEOUT=${STEP_TIMEOUT:-30}

TEST_NAME=$(basename "$0" .sh)
TEST_DIR=$(mktemp -d "/tmp/vos-e2e-$TEST_NAME.XXXXXX")
chmod 0755 "$TEST_DIR"
STARTED_PIDS=()
FAILURES=0

# Also the last word on the status: a test that ends without `finish`
# after a failed check still fails.
cleanup() {
	local status=$? pid
	for pid in "${STARTED_PIDS[@]}"; do
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	rm -rf "$TEST_DIR"
	if [ "$status" -eq 0 ] && [ "$FAILURES" -ne 0 ]; then
		echo "$FAILURES check(s) failed"
		exit 1
	fi
}
trap cleanup EXIT
cd "$TEST_DIR" || exit 99

# vosd. A test never uses the system's or the user's vosd: by default
# VOS_SOCKET names a socket that does not exist, so `vos run` serves its
# view embedded. With VOS_FORCE_DAEMON=1 (meson test --setup daemon) the
# test starts a private vosd in its temp dir and every `vos run` hands its
# view to it: the same tests then check the daemon path.
VOSD="$VOS_BUILD_ROOT/daemon/vosd"
export VOS_SOCKET="$TEST_DIR/no-vosd.sock"

# start_vosd [SOCKET [ARGS...]]: a private vosd (foreground, remembered for
# cleanup) on SOCKET (default $TEST_DIR/vosd.sock); sets VOSD_PID and
# exports VOS_SOCKET. Its log goes to $TEST_DIR/vosd.log.
start_vosd() {
	# The VOS_FORCE_DAEMON one is the test's default vosd.
	[ $# -eq 0 ] && [ -n "${VOSD_PID:-}" ] && return 0
	local sock=${1:-$TEST_DIR/vosd.sock}
	shift 2>/dev/null
	start "$VOSD" --foreground --socket "$sock" --config /dev/null "$@" 2>>"$TEST_DIR/vosd.log"
	VOSD_PID=$LAST_PID
	local i
	for i in $(seq 100); do
		[ -S "$sock" ] && break
		kill -0 "$VOSD_PID" 2>/dev/null || break
		sleep 0.05
	done
	[ -S "$sock" ] || { echo "FAIL: vosd did not start: $(cat "$TEST_DIR/vosd.log")" >&2; exit 1; }
	export VOS_SOCKET="$sock"
}

# step TIMEOUT CMD...: run with a timeout; prints nothing itself.
step() {
	local secs=$1
	shift
	timeout --kill-after=5 "$secs" "$@"
}

# vos_run ARGS...: `vos run ARGS...` with the step timeout.
vos_run() {
	step "$STEP_TIMEOUT" "$VOS" run "$@"
}

# start CMD...: run in the background, remembered for cleanup; sets LAST_PID.
start() {
	"$@" &
	LAST_PID=$!
	STARTED_PIDS+=("$LAST_PID")
}

fail() {
	echo "FAIL: $*" >&2
	FAILURES=$((FAILURES + 1))
}

ok() {
	echo "ok: $*"
}

# expect_eq WHAT EXPECTED ACTUAL
expect_eq() {
	if [ "$2" = "$3" ]; then
		ok "$1"
	else
		fail "$1: expected [$2], got [$3]"
	fi
}

# expect_match WHAT REGEX TEXT
expect_match() {
	if printf '%s\n' "$3" | grep -Eq -- "$2"; then
		ok "$1"
	else
		fail "$1: [$3] does not match /$2/"
	fi
}

# expect_one_line_error WHAT STDERR_TEXT STATUS
expect_one_line_error() {
	local lines
	lines=$(printf '%s' "$2" | grep -c '')
	if [ "$3" -ne 0 ] && [ "$lines" -eq 1 ]; then
		ok "$1: one-line error, status $3"
	else
		fail "$1: expected one error line and non-zero status, got status $3 and: $2"
	fi
}

skip() {
	echo "SKIP: $*"
	exit 77
}

finish() {
	if [ "$FAILURES" -ne 0 ]; then
		echo "$FAILURES check(s) failed"
		exit 1
	fi
	exit 0
}

require_fuse() {
	[ -r /dev/fuse ] && [ -w /dev/fuse ] || skip "/dev/fuse is not readable and writable by $(id -un)"
}

# Last, once start() exists: the private vosd of VOS_FORCE_DAEMON=1.
if [ "${VOS_FORCE_DAEMON:-0}" = 1 ]; then
	start_vosd
fi
