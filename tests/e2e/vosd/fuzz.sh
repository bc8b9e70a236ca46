#!/bin/bash
# vosd under a bounded fuzz of its socket protocol (fuzz.py: random and
# mutated messages, truncated frames, oversize lengths and packets, wrong
# descriptor counts and kinds, from several connections at once, one of
# them silent): vosd never crashes, still serves a valid request and a
# view afterwards, and ends with the descriptors and threads it had.
# VOSD_FUZZ_SECONDS (default 12) and VOSD_FUZZ_SEED change the run.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"
command -v python3 >/dev/null || skip "python3 is not installed"
SECS=${VOSD_FUZZ_SECONDS:-12}
SEED=${VOSD_FUZZ_SEED:-$RANDOM}
start_vosd "$TEST_DIR/fuzz-vosd.sock"
sock=$TEST_DIR/fuzz-vosd.sock

count_fds() { ls /proc/"$VOSD_PID"/fd 2>/dev/null | wc -l; }
count_threads() { awk '/^Threads:/ { print $2 }' /proc/"$VOSD_PID"/status 2>/dev/null; }
# One request first, so that whatever vosd opens lazily is open.
step 10 python3 -c '
import socket, struct, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET); s.settimeout(5); s.connect(sys.argv[1])
s.send(struct.pack("<IHHII", 0x44534f56, 1, 9, 0, 0)); s.recv(65536)' "$sock" || fail "a first STATUS request"
sleep 0.3
fds_before=$(count_fds)
threads_before=$(count_threads)

# A client that connects and never speaks, for the whole run.
start python3 -c 'import socket,sys,time; s=socket.socket(socket.AF_UNIX,socket.SOCK_SEQPACKET); s.connect(sys.argv[1]); time.sleep(600)' "$sock"
silent=$LAST_PID

out=$(step $((SECS + 60)) python3 "$HERE/fuzz.py" "$sock" "$SEED" "$SECS" 6 2>&1); st=$?
echo "$out" | grep -v '^FAIL' | tail -2
[ "$st" -eq 0 ] && ok "every packet got a well-formed reply or a close (seed $SEED)" ||
	fail "fuzz (seed $SEED, status $st): $(echo "$out" | grep '^FAIL' | head -5)"
kill -0 "$VOSD_PID" 2>/dev/null && ok "vosd survived" || fail "vosd died: $(tail -5 "$TEST_DIR/vosd.log")"
expect_eq "vosd still serves views" "still-here" "$(VOS_SOCKET=$sock step 30 "$VOS" run --daemon -- echo still-here 2>&1)"

kill "$silent"; wait "$silent" 2>/dev/null
# Connections end asynchronously (a thread each): give them a moment.
for i in $(seq 50); do
	[ "$(count_fds)" = "$fds_before" ] && [ "$(count_threads)" = "$threads_before" ] && break
	sleep 0.1
done
expect_eq "no descriptor leaked (/proc/PID/fd)" "$fds_before" "$(count_fds)"
expect_eq "no connection thread left behind" "$threads_before" "$(count_threads)"
finish
