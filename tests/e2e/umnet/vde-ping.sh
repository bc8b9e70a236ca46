#!/bin/bash
# Two views, each with a virtual stack (umnetvde) plugged into the same VDE
# switch (vde_plug's switch module, its socket in the test's directory):
# 10.0.0.1/24 and 10.0.0.2/24 inside the views' own network namespaces
# ping each other and move 10 MiB over TCP with matching checksums. No
# traffic leaves those namespaces.
HERE=$(dirname "$(readlink -f "$0")")
. "$HERE/../lib.sh"
. "$HERE/umnet-lib.sh"
require_fuse
require_tun
require_tools vde_plug ip ping nc python3 sha256sum

# The views start in a directory of their own: the directory `vos run`
# starts in is served through the working-directory layer, and a Unix
# socket there (the switch's) cannot be connected through it.
mkdir "$TEST_DIR/run" && cd "$TEST_DIR/run" || exit 99
start vde_plug null:// "switch://$TEST_DIR/sw"
for _ in $(seq 50); do [ -e "$TEST_DIR/sw/ctl" ] && break; sleep 0.1; done
[ -e "$TEST_DIR/sw/ctl" ] || { fail "the VDE switch did not start"; finish; }

head -c 10485760 /dev/urandom > "$TEST_DIR/payload"
want=$(sha256sum < "$TEST_DIR/payload" | cut -d' ' -f1)

# View B: 10.0.0.2, receives the payload on port 5000.
cat > "$TEST_DIR/b.sh" <<EOF2
set -e
um_add_service umnet
mount -t umnetvde -o vde=vde://$TEST_DIR/sw none /dev/net/default
ip addr add 10.0.0.2/24 dev vde0
ip link set vde0 up
ip -br addr show vde0 > $TEST_DIR/b-addr
# mstack overrides the default stack, for the command and its children.
ip -br link > $TEST_DIR/b-default-links
mstack /dev/net/native sh -c 'ip -br link' > $TEST_DIR/b-native-links
touch $TEST_DIR/b-ready
nc -l -N -w 20 10.0.0.2 5000 > $TEST_DIR/received
touch $TEST_DIR/b-done
EOF2
start "$VOS" run -- timeout 50 bash "$TEST_DIR/b.sh"
b_pid=$LAST_PID

cat > "$TEST_DIR/a.sh" <<EOF2
set -e
um_add_service umnet
mount -t umnetvde -o vde=vde://$TEST_DIR/sw none /dev/net/vde0
mstack /dev/net/vde0 ip addr add 10.0.0.1/24 dev vde0
mstack /dev/net/vde0 ip link set vde0 up
mstack /dev/net/vde0 ip -br addr show vde0
mstack /dev/net/vde0 ip route
for i in \$(seq 100); do [ -e $TEST_DIR/b-ready ] && break; sleep 0.1; done
mstack /dev/net/vde0 ping -c 3 -W 2 10.0.0.2
mstack /dev/net/vde0 nc -N -w 20 10.0.0.2 5000 < $TEST_DIR/payload
# A's view (and its stack) must live until B has everything.
for i in \$(seq 300); do [ -e $TEST_DIR/b-done ] && break; sleep 0.1; done
echo "sent"
umount /dev/net/vde0
mstack /dev/net/vde0 true || echo "unmounted stack gone"
um_del_service umnet && echo "umnet deleted"
EOF2
out=$(step 60 "$VOS" run -- bash "$TEST_DIR/a.sh" 2>&1); st=$?
echo "$out" | sed 's/^/  A: /'
expect_eq "view A's script" 0 "$st"
expect_match "after umount the path is no stack" "^unmounted stack gone$" "$out"
expect_match "umnet can be removed once unmounted" "^umnet deleted$" "$out"
expect_match "A's vde0 has 10.0.0.1/24" "^vde0 +(UP|UNKNOWN) +10\.0\.0\.1/24" "$out"
expect_match "A's route to 10.0.0.0/24" "^10\.0\.0\.0/24 dev vde0" "$out"
expect_match "ping -c 3 10.0.0.2: 3 received" "3 packets transmitted, 3 received" "$out"
step 30 tail --pid="$b_pid" -f /dev/null
wait "$b_pid"; bst=$?
expect_eq "view B's script" 0 "$bst"
expect_eq "with vde0 as default, ip link shows the virtual stack" "lo vde0" \
	"$(awk '{print $1}' "$TEST_DIR/b-default-links" | tr '\n' ' ' | sed 's/ $//')"
expect_eq "mstack /dev/net/native beats the default stack" "$(ip -br link | awk '{print $1}')" \
	"$(awk '{print $1}' "$TEST_DIR/b-native-links")"
expect_match "B's vde0 has 10.0.0.2/24" "^vde0 +(UP|UNKNOWN) +10\.0\.0\.2/24" "$(cat "$TEST_DIR/b-addr" 2>/dev/null)"
echo "received $(stat -c %s "$TEST_DIR/received" 2>/dev/null) bytes"
got=$(sha256sum < "$TEST_DIR/received" 2>/dev/null | cut -d' ' -f1)
expect_eq "10 MiB over TCP between the views, same checksum" "$want" "$got"
ip -br addr | grep -q "10\.0\.0\." && fail "10.0.0.x appeared on the host" || ok "the host's interfaces are untouched"
finish
