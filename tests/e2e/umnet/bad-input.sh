#!/bin/bash
# umnet's bad input: an unknown stack type, umnetvde without vde=, with a
# URL no plugin knows, with an unreachable switch, msocket and mstack on
# paths that are not stacks. Each is a clear error and a non-zero status,
# never a hang, and the view keeps working. A stack may be mounted on any
# path (not only under /dev/net): that is allowed.
HERE=$(dirname "$(readlink -f "$0")")
. "$HERE/../lib.sh"
. "$HERE/umnet-lib.sh"
require_fuse
require_tools python3 ip

NC="$HERE/netcalls.py"
LIBVOS="$VOS_BUILD_ROOT/libvos/libvos.so.0"
mkdir -p "$TEST_DIR/dir"
cat > "$TEST_DIR/script.sh" <<EOF
um_add_service umnet,frob 2>&1; echo "service option: \$?"
um_add_service umnet
mount -t umnetbogus none /dev/net/bogus 2>&1; echo "unknown type: \$?"
mount -t umnetnull -o frob none /dev/net/n1 2>&1; echo "null option: \$?"
mount -t umnetvde -o vde=vde://$TEST_DIR/no-switch,frob=1 none /dev/net/v0 2>&1; echo "vde option: \$?"
mount -t umnetvde none /dev/net/v1 2>&1; echo "no vde=: \$?"
mount -t umnetvde -o vde= none /dev/net/v2 2>&1; echo "empty vde=: \$?"
mount -t umnetvde -o vde=nosuchplugin://x none /dev/net/v3 2>&1; echo "bad URL: \$?"
mount -t umnetvde -o vde=vde://$TEST_DIR/no-switch none /dev/net/v4 2>&1; echo "no switch: \$?"
ls /dev/net
mount -t umnetnull none $TEST_DIR/dir/mystack; echo "stack outside /dev/net: \$?"
cat $TEST_DIR/dir/mystack
mstack $TEST_DIR/dir/mystack true 2>&1; echo "mstack null: \$?"
mstack /etc/passwd true 2>&1; echo "mstack not a stack: \$?"
mstack /nonexistent true 2>&1; echo "mstack missing: \$?"
mstack 2>&1; echo "mstack usage: \$?"
python3 $NC $LIBVOS msocket /etc/passwd
python3 $NC $LIBVOS msocket /nonexistent
python3 $NC $LIBVOS msocket $TEST_DIR/dir/mystack
python3 $NC $LIBVOS socket inet
EOF
out=$(step 60 "$VOS" run bash "$TEST_DIR/script.sh" 2>&1); st=$?
echo "$out" | sed 's/^/  | /'
expect_eq "bash exit status" 0 "$st"
expect_match "unknown service option refused" "^service option: [1-9]" "$out"
expect_match "unknown service option says why" "umnet: unknown service option 'frob'" "$out"
expect_match "unknown type refused" "^unknown type: [1-9]" "$out"
expect_match "unknown stack option refused" "^null option: [1-9]" "$out"
expect_match "unknown stack option says why" "umnetnull: unknown option 'frob' \\(known: perm\\)" "$out"
expect_match "unknown vde option refused" "^vde option: [1-9]" "$out"
expect_match "unknown vde option says why" "umnetvde: unknown option 'frob'" "$out"
expect_match "no vde= refused" "^no vde=: [1-9]" "$out"
expect_match "no vde= says why" "umnetvde: missing option vde=URL" "$out"
expect_match "empty vde= refused" "^empty vde=: [1-9]" "$out"
expect_match "bad URL refused" "^bad URL: [1-9]" "$out"
expect_match "bad URL says why" "umnetvde: cannot open VDE network nosuchplugin://x" "$out"
expect_match "unreachable switch refused" "^no switch: [1-9]" "$out"
expect_match "unreachable switch says why" "umnetvde: cannot open VDE network vde://.*no-switch" "$out"
grep -Eq "^(bogus|v[1-4])$" <<<"$out" && fail "a failed mount left a node" || ok "no node left by a failed mount"
expect_match "stack outside /dev/net" "^stack outside /dev/net: 0$" "$out"
expect_match "its node" "^umnetnull$" "$out"
expect_match "mstack on a null stack" "^mstack: .*/mystack: a null stack: it has no network to enter$" "$out"
expect_match "mstack null status" "^mstack null: 1$" "$out"
expect_match "mstack on a file" "^mstack: /etc/passwd: not a network stack" "$out"
expect_match "mstack on a file: status" "^mstack not a stack: 1$" "$out"
expect_match "mstack on a missing path" "^mstack: /nonexistent: No such file or directory$" "$out"
expect_match "mstack usage" "^usage: mstack STACK COMMAND" "$out"
expect_match "mstack usage status" "^mstack usage: 2$" "$out"
expect_match "msocket on a file: EINVAL" "^msocket: EINVAL$" "$out"
expect_match "msocket on a missing path: ENOENT" "^msocket: ENOENT$" "$out"
expect_match "msocket on a null stack: EAFNOSUPPORT" "^msocket: EAFNOSUPPORT$" "$out"
expect_match "the view's sockets still work" "^socket: ok$" "$out"
finish
