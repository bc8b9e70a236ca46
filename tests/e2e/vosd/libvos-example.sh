#!/bin/bash
# libvos's launch API (vos_view_launch, vos_view_wait) through a private
# vosd: examples/launch-umdev launches views with services preloaded, its
# output captured through a pipe and the end seen from its poll loop; bad
# input gets one line and a non-zero status. Also: libvos exports only
# its vos_* API (and msocket).
. "$(dirname "$0")/../lib.sh"
require_fuse
start_vosd
EX="$VOS_BUILD_ROOT/examples/launch-umdev"

# The demonstration: umdev preloaded, umdevnull mounted at /dev/null2
# inside the view only, its listing and a read-back through the pipe.
out=$(step 30 "$EX" 2>err); st=$?
expect_eq "demo: exit status" 0 "$st"
expect_match "demo: ls -l of the device in the view" '^-rw-------.* /dev/null2$' "$out"
expect_match "demo: read back" '^read back 0 bytes$' "$out"
expect_match "demo: checked" '^ok$' "$out"
expect_match "demo: view id and pid" '^launch-umdev: view [0-9]+, command pid [0-9]+$' "$(cat err)"
expect_match "demo: the service's own messages on the caller's stderr" '^null_write' "$(cat err)"
[ -e /dev/null2 ] && fail "/dev/null2 leaked to the host" || ok "no /dev/null2 on the host"

# argv, environment, working directory, stdin, stdout and stderr.
mkdir sub
out=$(cd sub && echo piped | FOO=bar step 30 "$EX" -- sh -c 'cat; echo "FOO=$FOO"; pwd; echo to-stderr >&2; exit 3' 2>"$TEST_DIR/err"); st=$?
expect_eq "command: output" "piped
FOO=bar
$TEST_DIR/sub" "$(printf '%s\n' "$out" | head -3)"
expect_match "command: exit status line" '^view [0-9]+ exited with status 3$' "$out"
expect_eq "command: exit status" 3 "$st"
expect_match "command: stderr is the caller's" '^to-stderr$' "$(cat err)"
out=$(step 30 "$EX" -- sh -c 'kill -TERM $$' 2>/dev/null); st=$?
expect_eq "killed by SIGTERM: 128+15" 143 "$st"
out=$(step 30 "$EX" -- sh -c '(sleep 0.3; echo late) & echo early' 2>/dev/null); st=$?
expect_eq "an orphan of the view is waited for" "early
late" "$(printf '%s\n' "$out" | head -2)"
out=$(step 30 "$EX" -p umdev -p stall -- um_ls_service 2>/dev/null); st=$?
expect_match "two services preloaded, one with the fixture path" '^stall: test service' "$out"

# The view is a vosd view while it runs.
start step 30 "$EX" -- sh -c "echo up > $TEST_DIR/up; sleep 30" >/dev/null 2>&1
for _ in $(seq 100); do [ -e up ] && break; sleep 0.05; done
expect_match "vosctl ps lists the launched view" "sh -c echo up > $TEST_DIR/up; sleep 30" "$(step 10 vosctl ps)"
id=$(step 10 vosctl --json ps | grep -o '"id":[0-9]*' | head -1 | cut -d: -f2)
step 10 vosctl stop "$id"; expect_eq "vosctl stop of a launched view" 0 $?
wait "$LAST_PID"; expect_eq "the stopped view's status: 128+SIGKILL" 137 $?

# Bad input: one line, non-zero status.
err=$(step 30 "$EX" -- /nonexistent/cmd 2>&1); st=$?
expect_eq "missing command: exit 127" 127 "$st"
expect_eq "missing command: message" "launch-umdev: /nonexistent/cmd: No such file or directory" "$err"
err=$(step 30 "$EX" -- /etc/passwd 2>&1); st=$?
expect_eq "not executable: exit 126" 126 "$st"
expect_one_line_error "not executable" "$err" "$st"
err=$(step 30 "$EX" -p nosuchservice -- true 2>&1); st=$?
expect_one_line_error "unknown service" "$err" "$st"
expect_match "unknown service: named" "^launch-umdev: cannot launch: nosuchservice: no such service" "$err"
err=$(step 30 "$EX" -p ../../etc/x -- true 2>&1); st=$?
expect_one_line_error "bad service name" "$err" "$st"
err=$(step 30 "$EX" -- 2>&1); st=$?
expect_one_line_error "empty argv" "$err" "$st"
expect_eq "empty argv: EINVAL" "launch-umdev: cannot launch: no command to launch: Invalid argument" "$err"
err=$(step 30 "$EX" -- "" 2>&1); st=$?
expect_eq "empty command name: EINVAL" "launch-umdev: cannot launch: no command to launch: Invalid argument" "$err"
err=$(step 30 "$EX" --socket "$TEST_DIR/nothing.sock" 2>&1); st=$?
expect_one_line_error "no vosd" "$err" "$st"
# The same bad input as raw LAUNCH_VIEW requests (vosd's own checks).
if command -v python3 >/dev/null; then
	step 60 python3 "$(dirname "$0")/launch-proto.py" "$VOS_SOCKET"; expect_eq "bad LAUNCH_VIEW requests" 0 $?
fi
kill -0 "$VOSD_PID" 2>/dev/null && ok "vosd still running" || fail "vosd died: $(cat vosd.log)"

# As root: another user's launch goes to their per-user worker, and the
# command runs with that user's uid on the host.
user=${VOS_TEST_USERS:-vostest}; user=${user%% *}
if [ "$(id -u)" = 0 ] && id "$user" >/dev/null 2>&1 && command -v runuser >/dev/null &&
	runuser -u "$user" -- test -x "$EX"; then
	mkdir -m 0777 shared
	out=$(cd shared && step 30 runuser -u "$user" -- env PATH="$PATH" VOS_SOCKET="$VOS_SOCKET" \
		"$EX" -- cat /proc/self/uid_map 2>/dev/null); st=$?
	expect_eq "$user through root's vosd: status" 0 "$st"
	expect_match "$user through root's vosd: a worker's view id" '^view [0-9]{7,} exited with status 0$' "$out"
	expect_match "$user through root's vosd: runs as $user" "^ +0 +$(id -u "$user") +1$" "$out"
	expect_match "the worker for $user" "worker for uid $(id -u "$user") started" "$(cat vosd.log)"
else
	echo "note: not root or no user $user: per-user worker launch not checked"
fi

# The example builds as a program outside the tree would: <vos/vos.h> and
# pkg-config's libvos (here its uninstalled variant).
if command -v pkg-config >/dev/null && command -v cc >/dev/null; then
	src=$(cd "$(dirname "$0")/../../.." && pwd)
	flags=$(PKG_CONFIG_PATH=$VOS_BUILD_ROOT/meson-uninstalled pkg-config --cflags --libs libvos-uninstalled); st=$?
	expect_eq "pkg-config libvos" 0 "$st"
	step 60 cc -std=gnu17 -Wall -Werror -o own-build "$src/examples/launch-umdev.c" $flags
	expect_eq "cc launch-umdev.c \$(pkg-config --cflags --libs libvos)" 0 $?
	out=$(LD_LIBRARY_PATH=$VOS_BUILD_ROOT/libvos step 30 ./own-build 2>/dev/null); st=$?
	expect_eq "the example built outside meson: status" 0 "$st"
	expect_match "the example built outside meson: output" '^ok$' "$out"
fi

# The library's exports: the vos_* API (and msocket, VOS_0.2), versioned.
if command -v nm >/dev/null; then
	syms=$(nm -D --defined-only "$VOS_BUILD_ROOT/libvos/libvos.so")
	expect_eq "only vos_* and msocket exported" "" "$(printf '%s\n' "$syms" | grep -Ev ' (vos_[a-z_]+|msocket)@@VOS_0\.[123]$| A VOS_0\.[123]$')"
	expect_match "vos_view_launch in VOS_0.3" ' T vos_view_launch@@VOS_0\.3$' "$syms"
	expect_match "vos_view_wait in VOS_0.3" ' T vos_view_wait@@VOS_0\.3$' "$syms"
fi
finish
