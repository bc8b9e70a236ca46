#!/bin/bash
# Hostile views: a process in a view tries to reach the host or another
# view. Each attempt and the result it must get:
#  - setns into the host's mount namespace through an fd inherited from
#    outside: EPERM (no CAP_SYS_ADMIN over a namespace the view's user
#    namespace does not own);
#  - ptrace, or write /proc/PID/mem of, any supervising process outside
#    the view (vos, or vosd's worker): EPERM / EACCES;
#  - hand an open virtual device (a FUSE file of the view) to a process
#    outside the view over a Unix socket: an open fd is a capability, so
#    the outside process reads and writes the device as the view could
#    (FUSE checks callers at lookup and open, not on read/write); once
#    the view has ended, it gets ENOTCONN from an embedded supervisor,
#    while vosd's worker serves the device until that fd is closed; never
#    a hang;
#  - a million trapped calls from 8 threads: another view of the same
#    supervisor (or of the same vosd) keeps mounting and doing I/O.
# Mounts made in a view and escapes through the permanent default stack
# (umount, new mount API, setns, unshare, nested vos run) are covered by
# core/view-isolation and umnet/perm.
. "$(dirname "$0")/../lib.sh"
require_fuse
require_tools() { for t in "$@"; do command -v "$t" >/dev/null || skip "$t is not installed"; done; }
require_tools python3 nsenter
FIXTURES="$VOS_BUILD_ROOT/tests/fixtures"

# 1. setns through an inherited namespace fd.
out=$(vos_run -- sh -c 'nsenter --mount=/proc/self/fd/5 true 2>&1; echo "setns status $?"' 5</proc/self/ns/mnt)
expect_match "setns into the host's mount namespace is refused" "Operation not permitted" "$out"
expect_match "setns: nsenter fails" "^setns status [1-9]" "$out"

# 2. ptrace and /proc/PID/mem of every ancestor outside the view's user
# namespace.
cat > "$TEST_DIR/ptrace.py" <<'PY'
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
mine = os.readlink("/proc/self/ns/user")
pid, tried = os.getppid(), 0
while pid > 1:
    try:
        theirs = os.readlink(f"/proc/{pid}/ns/user")
    except PermissionError:
        theirs = None  # not even its namespaces may be read: outside
    if theirs != mine:
        tried += 1
        r = libc.ptrace(16, pid, None, None)  # PTRACE_ATTACH
        print(f"ptrace {pid}: {'attached!' if r == 0 else os.strerror(ctypes.get_errno())}")
        if r == 0:
            libc.ptrace(17, pid, None, None)  # PTRACE_DETACH
        try:
            os.close(os.open(f"/proc/{pid}/mem", os.O_RDWR))
            print(f"mem {pid}: opened!")
        except OSError as e:
            print(f"mem {pid}: {e.strerror}")
    with open(f"/proc/{pid}/stat") as f:
        pid = int(f.read().rsplit(")", 1)[1].split()[1])
print(f"outside processes tried: {tried}")
PY
out=$(vos_run -- python3 "$TEST_DIR/ptrace.py" 2>&1)
echo "$out" | sed 's/^/  /'
expect_match "at least one supervising process was tried" "^outside processes tried: [1-9]" "$out"
if grep -q "attached!\|opened!" <<<"$out"; then
	fail "a view process attached to a process outside its view"
else
	ok "no ptrace attach and no /proc/PID/mem outside the view"
fi

# 3. A virtual device's fd handed to a process outside the view.
cat > "$TEST_DIR/receiver.py" <<'PY'
import array, os, socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(sys.argv[1]); s.listen(1)
open(sys.argv[1] + ".ready", "w").close()
c, _ = s.accept()
fds = array.array("i")
msg, anc, _, _ = c.recvmsg(16, socket.CMSG_SPACE(4))
for level, kind, data in anc:
    fds.frombytes(data[:4])
if not fds:
    print("receiver: no fd arrived"); sys.exit(1)
fd = fds[0]
def attempt(when):
    for what, op in (("read", lambda: os.pread(fd, 6, 0)), ("write", lambda: os.pwrite(fd, b"outside", 0))):
        try:
            r = op()
            print(f"receiver: {when}: {what}: {r.decode() if isinstance(r, bytes) else r}")
        except OSError as e:
            print(f"receiver: {when}: {what}: {e.strerror}")
attempt("view running")
c.send(b"k")
for _ in range(200):
    if os.path.exists(sys.argv[1] + ".view-gone"): break
    time.sleep(0.05)
attempt("view gone")
PY
cat > "$TEST_DIR/sender.py" <<'PY'
import os, socket, sys, time
fd = os.open(sys.argv[2], os.O_RDWR)
os.pwrite(fd, b"inside", 0)
for _ in range(100):
    if os.path.exists(sys.argv[1] + ".ready"): break
    time.sleep(0.05)
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
s.sendmsg([b"x"], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, fd.to_bytes(4, sys.byteorder))])
c = s.recv(1)  # the receiver has used the fd
print("sender: sent, device still reads", os.pread(fd, 6, 0).decode())
PY
# The socket lives outside the directory the view starts in (that one is
# served through the working-directory layer).
sockdir=$(mktemp -d /tmp/vos-hostile-sock.XXXXXX)
chmod 0755 "$sockdir"
start sh -c 'exec timeout 30 python3 "$1" "$2" > "$3"' sh "$TEST_DIR/receiver.py" "$sockdir/s" "$TEST_DIR/receiver.out"
receiver=$LAST_PID
out=$(vos_run -- sh -c "um_add_service umdev && mount -t umdevtrivhd none $TEST_DIR/disk && python3 $TEST_DIR/sender.py $sockdir/s $TEST_DIR/disk" 2>&1)
echo "$out" | sed 's/^/  /'
touch "$sockdir/s.view-gone"
step 30 tail --pid="$receiver" -f /dev/null
wait "$receiver"
rm -rf "$sockdir"
rout=$(cat "$TEST_DIR/receiver.out")
echo "$rout" | sed 's/^/  /'
expect_match "outside, the passed fd reads what the view wrote" "^receiver: view running: read: inside$" "$rout"
expect_match "outside, the passed fd writes" "^receiver: view running: write: 7$" "$rout"
expect_match "the view sees what was written through the passed fd" "^sender: sent, device still reads outsid$" "$out"
if [ "${VOS_FORCE_DAEMON:-0}" = 1 ]; then
	# vosd's worker outlives the view and serves the device until the
	# last fd of it is closed, as for an open file that was unlinked.
	expect_match "after the view, through vosd, the passed fd still reads" "^receiver: view gone: read: outsid$" "$rout"
else
	expect_match "after the view, reading the passed fd: ENOTCONN" "^receiver: view gone: read: Transport endpoint is not connected$" "$rout"
	expect_match "after the view, writing it: ENOTCONN" "^receiver: view gone: write: Transport endpoint is not connected$" "$rout"
fi

# 4. A million trapped calls from 8 threads of one view. Meanwhile the
# same view (same supervisor) mounts and does I/O from another process,
# and so does a second view (through vosd: the same daemon and worker).
mounts_io() { # DEVICE: prints "data" when a mount, a write and a read worked
	echo "{ um_add_service umdev 2>/dev/null; true; } && mount -t umdevtrivhd none $1 && echo data > $1 && head -c 5 $1 && umount $1"
}
start "$VOS" run -- sh -c "
	$FIXTURES/trap-threads 8 125000 > $TEST_DIR/hammer.out 2>&1 &
	hammer=\$!
	for i in 1 2 3 4 5; do timeout 20 sh -c '$(mounts_io "$TEST_DIR/d1")' || echo 'same view failed'; done > $TEST_DIR/same.out
	wait \$hammer
"
hammer_view=$LAST_PID
sleep 0.5
for i in 1 2 3 4 5; do
	vos_run -- sh -c "$(mounts_io "$TEST_DIR/d2")" || echo "other view failed"
done > "$TEST_DIR/other.out" 2>&1
step 180 tail --pid="$hammer_view" -f /dev/null
wait "$hammer_view"
expect_eq "the hammered view: status" 0 $?
expect_eq "the same view kept mounting and doing I/O, 5 times" 5 "$(grep -c '^data$' "$TEST_DIR/same.out")"
expect_eq "another view kept working, 5 times" 5 "$(grep -c '^data$' "$TEST_DIR/other.out")"
expect_eq "a million trapped calls all answered" "ok 1000000" "$(cat "$TEST_DIR/hammer.out")"
finish
