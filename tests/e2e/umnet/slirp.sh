#!/bin/bash
# A virtual stack on vdeplug's slirp plugin (libvdeplug-slirp): the view's
# own namespace gets a NATed path out, with slirp's host alias 10.0.2.2
# standing for the host's loopback. The test's only peer is a listener on
# 127.0.0.1: nothing leaves the machine.
HERE=$(dirname "$(readlink -f "$0")")
. "$HERE/../lib.sh"
. "$HERE/umnet-lib.sh"
require_fuse
require_tun
require_tools ip ping nc python3 md5sum
plugin_found=
for d in /usr/lib/*/vdeplug /usr/lib/vdeplug /usr/local/lib/*/vdeplug; do
	[ -e "$d/libvdeplug_slirp.so" ] && plugin_found=1
done
[ -n "$plugin_found" ] || skip "vdeplug's slirp plugin is not installed (Debian package libvdeplug-slirp)"

head -c 1048576 /dev/urandom > "$TEST_DIR/payload"
want=$(md5sum < "$TEST_DIR/payload" | cut -d' ' -f1)
# A listener on the host's loopback: it reads one connection to its end,
# then closes (slirp acknowledges data before the host has it, so the
# view's nc must wait for this close, not just for its own send).
cat > "$TEST_DIR/listen.py" <<'PY'
import socket, sys
s = socket.socket()
s.bind(("127.0.0.1", 0)); s.listen(1)
open(sys.argv[1] + ".port", "w").write(str(s.getsockname()[1]))
s.settimeout(30)
c, _ = s.accept()
with open(sys.argv[1], "wb") as out:
    while True:
        b = c.recv(65536)
        if not b: break
        out.write(b)
c.close()
PY
start timeout 40 python3 "$TEST_DIR/listen.py" "$TEST_DIR/received"
listener=$LAST_PID
for _ in $(seq 100); do [ -s "$TEST_DIR/received.port" ] && break; sleep 0.05; done
port=$(cat "$TEST_DIR/received.port")

out=$(vos_run -- bash -c "
	set -e
	um_add_service umnet
	mount -t umnetvde -o vde=slirp:// none /dev/net/default
	ip addr add 10.0.2.15/24 dev vde0
	ip link set vde0 up
	ip route add default via 10.0.2.2
	ip -br addr show vde0
	ping -c 1 -W 2 10.0.2.2
	nc -N -w 10 10.0.2.2 $port < $TEST_DIR/payload
	echo sent
" 2>&1)
st=$?
echo "$out" | sed 's/^/  /'
expect_eq "view with a slirp stack: status" 0 "$st"
expect_match "vde0 has its own address" "^vde0 +(UP|UNKNOWN) +10\.0\.2\.15/24" "$out"
expect_match "slirp answers ping on 10.0.2.2" "1 packets transmitted, 1 received" "$out"
step 20 tail --pid="$listener" -f /dev/null
expect_eq "1 MiB over TCP through slirp to the host's loopback, intact" "$want" "$(md5sum < "$TEST_DIR/received" | cut -d' ' -f1)"
finish
