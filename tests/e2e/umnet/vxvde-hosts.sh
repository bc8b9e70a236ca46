#!/bin/bash
# Beyond one machine, on VDE's own distributed transport: two network
# namespaces made by this test stand in for two hosts, joined by a veth
# pair; in each, a view with a virtual stack on the same vxvde:// multicast
# group. The views ping each other and move a file over TCP. All traffic
# stays inside the two namespaces (and the views' own stacks). Root only:
# creating the "hosts" needs `ip netns`.
HERE=$(dirname "$(readlink -f "$0")")
. "$HERE/../lib.sh"
. "$HERE/umnet-lib.sh"
require_fuse
require_tun
require_tools ip ping nc sha256sum
[ "$(id -u)" = 0 ] || skip "making two network namespaces joined by veth (the two 'hosts') needs root"

hostA=vos-e2e-a-$$ hostB=vos-e2e-b-$$
cleanup_hosts() {
	ip netns del "$hostA" 2>/dev/null
	ip netns del "$hostB" 2>/dev/null
}
trap 'cleanup_hosts; cleanup' EXIT
ip netns add "$hostA" && ip netns add "$hostB" || { fail "cannot create the test's network namespaces"; finish; }
ip link add vxa netns "$hostA" type veth peer name vxb netns "$hostB" || { fail "cannot create the veth pair"; finish; }
for h in "$hostA:vxa:192.0.2.1" "$hostB:vxb:192.0.2.2"; do
	IFS=: read -r ns dev addr <<<"$h"
	ip -n "$ns" link set lo up
	ip -n "$ns" addr add "$addr/24" dev "$dev"
	ip -n "$ns" link set "$dev" up
	ip -n "$ns" route add 224.0.0.0/4 dev "$dev"
done

mkdir "$TEST_DIR/run" && cd "$TEST_DIR/run" || exit 99
head -c 4194304 /dev/urandom > "$TEST_DIR/payload"
want=$(sha256sum < "$TEST_DIR/payload" | cut -d' ' -f1)
URL="vxvde://239.255.42.99"

cat > "$TEST_DIR/b.sh" <<EOF2
set -e
um_add_service umnet
mount -t umnetvde -o vde=$URL none /dev/net/default
ip addr add 10.0.0.2/24 dev vde0
ip link set vde0 up
touch $TEST_DIR/b-ready
nc -l -N -w 30 10.0.0.2 5000 > $TEST_DIR/received
touch $TEST_DIR/b-done
EOF2
start ip netns exec "$hostB" "$VOS" run -- timeout 60 bash "$TEST_DIR/b.sh"

cat > "$TEST_DIR/a.sh" <<EOF2
set -e
um_add_service umnet
mount -t umnetvde -o vde=$URL none /dev/net/default
ip addr add 10.0.0.1/24 dev vde0
ip link set vde0 up
for i in \$(seq 100); do [ -e $TEST_DIR/b-ready ] && break; sleep 0.1; done
ping -c 3 -W 2 10.0.0.2
nc -N -w 30 10.0.0.2 5000 < $TEST_DIR/payload
for i in \$(seq 300); do [ -e $TEST_DIR/b-done ] && break; sleep 0.1; done
EOF2
out=$(step 90 ip netns exec "$hostA" "$VOS" run -- bash "$TEST_DIR/a.sh" 2>&1); st=$?
echo "$out" | sed 's/^/  A: /'
expect_eq "view A on host A" 0 "$st"
expect_match "ping across the veth 'hosts' over vxvde" "3 packets transmitted, 3 received" "$out"
expect_eq "4 MiB over TCP, same checksum" "$want" "$(sha256sum < "$TEST_DIR/received" 2>/dev/null | cut -d' ' -f1)"
finish
