#!/bin/bash
# The seed's umnet session, verbatim, inside `vos run bash`: the stacks
# appear as nodes, mstack /dev/net/native ip link is the host's ip link,
# a null default stack refuses sockets (umount gives them back), and
# `-o perm` makes it stay.
HERE=$(dirname "$(readlink -f "$0")")
. "$HERE/../lib.sh"
. "$HERE/umnet-lib.sh"
require_fuse
require_tools ip python3

host_links=$(ip link)
out=$(step 60 "$VOS" run bash 2>"$TEST_DIR/err" <<'SEED'
um_add_service umnet
mount -t umnetnull none /dev/net/null
mount -t umnetcurrent none /dev/net/current
mstack /dev/net/native ip link
echo "--- end of ip link"
ls /dev/net
cat /dev/net/null /dev/net/current
mount -t umnetnative none /dev/net/native
mstack /dev/net/native ip link > "$PWD/native-links"
mount -t umnetnative none /dev/net/default
python3 -c 'import socket; socket.socket(); print("native default: socket ok")'
umount /dev/net/default
mount -t umnetnull none /dev/net/default
python3 -c 'import socket; socket.socket()' 2>&1 | tail -1
python3 -c 'import socket; socket.socket(socket.AF_UNIX); print("null default: unix socket ok")'
umount /dev/net/default && echo "umount of a plain default: ok"
python3 -c 'import socket; socket.socket(); print("no default: socket ok")'
mount -t umnetnull -o perm none /dev/net/default
umount /dev/net/default
echo "umount status $?"
python3 -c 'import socket; socket.socket()' 2>&1 | tail -1
SEED
); st=$?
err=$(cat "$TEST_DIR/err")
expect_eq "bash exit status" 0 "$st"
# Without a -p umnet the stack mount fails, so um_add_service must have worked.
mstack_out=$(sed -n '1,/^--- end of ip link$/p' <<<"$out" | sed '$d')
expect_eq "mstack /dev/net/native ip link is ip link" "$host_links" "$mstack_out"
expect_match "the nodes" "^current$" "$out"
expect_match "null node" "^null$" "$out"
expect_match "cat null" "^umnetnull$" "$out"
expect_match "cat current" "^umnetcurrent$" "$out"
expect_eq "mstack on native mounted later" "$host_links" "$(cat native-links 2>/dev/null)"
expect_match "native default changes nothing" "^native default: socket ok$" "$out"
expect_match "null default refuses sockets" "Address family not supported by protocol" "$out"
expect_match "null default keeps AF_UNIX" "^null default: unix socket ok$" "$out"
expect_match "umount of a plain default" "^umount of a plain default: ok$" "$out"
expect_match "sockets are back" "^no default: socket ok$" "$out"
expect_match "umount -o perm default fails" "^umount status [1-9]" "$out"
expect_match "with EBUSY" "busy" "$err"
n=$(grep -c "Address family not supported" <<<"$out")
expect_eq "still refused after the failed umount" 2 "$n"
[ -e "$TEST_DIR/null" ] || [ -e /dev/net/null ] && fail "a node leaked to the host" || ok "no node on the host"
finish
