#!/bin/bash
# vosd under systemd's watchdog, without systemd: NOTIFY_SOCKET names a
# datagram socket this test owns (notify-recv.py), WATCHDOG_USEC=200000:
# READY=1 comes first, then WATCHDOG=1 every ~100 ms from the event loop.
# Without WATCHDOG_USEC (or for another WATCHDOG_PID) no pings. The
# installed units with WatchdogSec= pass systemd-analyze verify.
. "$(dirname "$0")/../lib.sh"
grep -q '^#define HAVE_LIBSYSTEMD 1' "$VOS_BUILD_ROOT/config.h" || skip "vosd built without libsystemd"
command -v python3 >/dev/null || skip "python3 is missing"
RECV="$(dirname "$0")/notify-recv.py"

# notified SECONDS [ENV...]: start a receiver and a vosd with ENV, collect
# what vosd sends for SECONDS, stop vosd; the messages are in notify.out.
notified() {
	local secs=$1
	shift
	rm -f notify.sock notify.ready vosd.sock
	start step 30 python3 "$RECV" "$TEST_DIR/notify.sock" "$secs" notify.ready >notify.out
	local recv=$LAST_PID
	for _ in $(seq 100); do [ -e notify.ready ] && break; sleep 0.05; done
	[ -e notify.ready ] || { fail "the receiver did not start"; return; }
	start env NOTIFY_SOCKET="$TEST_DIR/notify.sock" "$@" "$VOSD" --foreground --socket "$TEST_DIR/vosd.sock" \
		--config /dev/null 2>>vosd.log
	local vosd=$LAST_PID
	wait "$recv"
	kill -TERM "$vosd" 2>/dev/null
	wait "$vosd"
}

notified 1.2 WATCHDOG_USEC=200000
first=$(head -1 notify.out | cut -d' ' -f2-)
expect_eq "READY=1 first" "READY=1" "$first"
pings=$(grep -c ' WATCHDOG=1$' notify.out)
# 1.2 s at 100 ms minus the start-up: about 11.
[ "$pings" -ge 7 ] && [ "$pings" -le 14 ] && ok "$pings watchdog pings in 1.2 s" ||
	fail "expected about 11 watchdog pings in 1.2 s, got $pings: $(cat notify.out)"
# Half the interval apart: the median gap about 100 ms; the longest one
# short of 300 ms even on a loaded machine (the loop ping is not late by
# a whole interval).
gaps=$(grep ' WATCHDOG=1$' notify.out | awk 'NR > 1 { print $1 - prev } { prev = $1 }' | sort -n)
median=$(printf '%s\n' "$gaps" | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] + 0 }')
longest=$(printf '%s\n' "$gaps" | tail -1)
[ "$median" -ge 80 ] && [ "$median" -le 130 ] && ok "median gap between pings ${median} ms" ||
	fail "median gap between pings ${median} ms, expected about 100"
[ "${longest:-999}" -lt 300 ] && ok "longest gap ${longest} ms" || fail "a gap of ${longest} ms between pings"

# A watchdog meant for another process, or none: no pings.
notified 0.6 WATCHDOG_USEC=200000 WATCHDOG_PID=1
expect_eq "WATCHDOG_PID of another process: READY=1 only" "READY=1" "$(cut -d' ' -f2- notify.out)"
notified 0.6
expect_eq "no WATCHDOG_USEC: READY=1 only" "READY=1" "$(cut -d' ' -f2- notify.out)"

# Busy, it still pings: views launched and ended meanwhile.
if [ -r /dev/fuse ] && [ -w /dev/fuse ]; then
	rm -f notify.sock notify.ready
	start step 30 python3 "$RECV" "$TEST_DIR/notify.sock" 1.5 notify.ready >notify.out
	recv=$LAST_PID
	for _ in $(seq 100); do [ -e notify.ready ] && break; sleep 0.05; done
	start env NOTIFY_SOCKET="$TEST_DIR/notify.sock" WATCHDOG_USEC=200000 "$VOSD" --foreground \
		--socket "$TEST_DIR/busy.sock" --config /dev/null 2>>vosd.log
	vosd=$LAST_PID
	for _ in $(seq 100); do [ -S busy.sock ] && break; sleep 0.05; done
	for i in 1 2 3 4; do
		VOS_SOCKET=$TEST_DIR/busy.sock step 10 "$VOS" run --daemon -- true || fail "run $i through vosd"
	done
	wait "$recv"
	kill -TERM "$vosd"; wait "$vosd"
	pings=$(grep -c ' WATCHDOG=1$' notify.out)
	[ "$pings" -ge 8 ] && ok "$pings pings while serving views" || fail "only $pings pings while serving views"
fi

# The units, with WatchdogSec=, as installed (ExecStart= pointing at this build).
if command -v systemd-analyze >/dev/null; then
	mkdir units units/user rt
	src=$(dirname "$0")/../../../systemd
	sed "s|@sbindir@/vosd|$VOSD|" "$src/vosd.service.in" >units/vosd.service
	cp "$src/vosd.socket" units/
	sed "s|@sbindir@/vosd|$VOSD|" "$src/vosd-user.service.in" >units/user/vosd.service
	cp "$src/vosd-user.socket" units/user/vosd.socket
	expect_match "system unit has WatchdogSec" '^WatchdogSec=' "$(cat units/vosd.service)"
	expect_match "user unit has WatchdogSec" '^WatchdogSec=' "$(cat units/user/vosd.service)"
	out=$(cd units && step 30 systemd-analyze verify --man=no ./vosd.service ./vosd.socket 2>&1); st=$?
	expect_eq "systemd-analyze verify (system units): $out" 0 "$st"
	out=$(cd units/user && XDG_RUNTIME_DIR=$TEST_DIR/rt step 30 systemd-analyze --user verify --man=no ./vosd.service ./vosd.socket 2>&1); st=$?
	expect_eq "systemd-analyze --user verify (user units): $out" 0 "$st"
else
	echo "note: systemd-analyze missing, unit files not verified"
fi
finish
