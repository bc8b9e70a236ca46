#!/bin/bash
# vosd and bad input: malformed, random, mutated, oversized messages and
# wrong descriptors each get an error; vosd survives and leaks no fds; a
# client that connects and never speaks blocks nobody.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"
command -v python3 >/dev/null || skip "python3 is not installed"
start_vosd
fds_before=$(ls /proc/"$VOSD_PID"/fd | wc -l)

# A silent client first: everything below must still be served.
start python3 -c 'import socket,sys,time; s=socket.socket(socket.AF_UNIX,socket.SOCK_SEQPACKET); s.connect(sys.argv[1]); time.sleep(60)' "$VOS_SOCKET"
silent=$LAST_PID
sleep 0.2

out=$(step 60 python3 "$HERE/garbage.py" "$VOS_SOCKET" "${VOSD_FUZZ_SEED:-$RANDOM}" 300 2>&1); st=$?
[ "$st" -eq 0 ] && ok "every bad message got an error" || fail "$out"
kill -0 "$VOSD_PID" 2>/dev/null && ok "vosd survived" || fail "vosd died: $(tail -3 vosd.log)"
expect_eq "vosd still serves views" "still-here" "$(step 30 "$VOS" run --daemon -- echo still-here)"

kill "$silent"; wait "$silent" 2>/dev/null
sleep 0.3
fds_after=$(ls /proc/"$VOSD_PID"/fd | wc -l)
expect_eq "no descriptor leaked" "$fds_before" "$fds_after"

# Bad command lines.
err=$(step 10 "$VOSD" --bogus 2>&1); st=$?
expect_one_line_error "vosd --bogus" "$err" "$st"
err=$(step 10 "$VOSD" --socket 2>&1); st=$?
expect_one_line_error "vosd --socket without path" "$err" "$st"
err=$(step 10 "$VOSD" --foreground --socket "$VOS_SOCKET" 2>&1); st=$?
expect_one_line_error "second vosd on a live socket" "$err" "$st"
expect_match "says it is in use" "already listening" "$err"
err=$(step 10 "$VOSD" --socket /nonexistent-dir/x/"$(printf 'a%.0s' $(seq 120))" 2>&1); st=$?
expect_one_line_error "socket path too long" "$err" "$st"
finish
