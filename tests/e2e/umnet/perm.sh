#!/bin/bash
# `mount -t umnetnull -o perm none /dev/net/default` disables networking in
# the view for good: sockets fail with EAFNOSUPPORT (AF_UNIX excepted), and
# every way around it is refused: umount (EBUSY, also of /dev/net and /dev,
# lazy or not), mounting or moving over it, setns, unshare -n, mstack,
# msocket on another stack, io_uring, a nested vos run. Other services keep
# working.
HERE=$(dirname "$(readlink -f "$0")")
. "$HERE/../lib.sh"
. "$HERE/umnet-lib.sh"
require_fuse
require_tools python3 ip nc ping unshare nsenter

NC="$HERE/netcalls.py"
LIBVOS="$VOS_BUILD_ROOT/libvos/libvos.so.0"
mkdir -p "$TEST_DIR/mnt" "$TEST_DIR/clone"

cat > "$TEST_DIR/script.sh" <<EOF
um_add_service umnet
mount -t umnetnative none /dev/net/native
python3 $NC $LIBVOS msocket /dev/net/native
mount -t umnetnull -o perm none /dev/net/default
echo "perm mount: \$?"
python3 $NC $LIBVOS socket inet
python3 $NC $LIBVOS socket inet6
python3 $NC $LIBVOS socket netlink
python3 $NC $LIBVOS socket unix
ping -c 1 -W 1 127.0.0.1 >/dev/null 2>&1; echo "ping: \$?"
nc -z -w 1 127.0.0.1 1 2>&1 | head -1; echo "nc: \${PIPESTATUS[0]}"
curl -sS -m 2 http://127.0.0.1:1/ 2>&1 | head -1; echo "curl: \${PIPESTATUS[0]}"
umount /dev/net/default 2>&1; echo "umount: \$?"
umount -l /dev/net/default 2>&1; echo "umount -l: \$?"
umount -l /dev/net 2>&1; echo "umount -l /dev/net: \$?"
umount -l /dev 2>&1; echo "umount -l /dev: \$?"
mount -t umnetnative none /dev/net/default 2>&1; echo "mount native over default: \$?"
mount -t tmpfs none /dev/net/default 2>&1; echo "mount tmpfs over default: \$?"
mount --move /dev/net $TEST_DIR/mnt 2>&1; echo "mount --move /dev/net: \$?"
python3 $NC $LIBVOS move_mount /dev/net/default $TEST_DIR/mnt
python3 $NC $LIBVOS move_mount /dev/net $TEST_DIR/mnt
python3 $NC $LIBVOS open_tree_move /dev/net/default $TEST_DIR/clone
python3 $NC $LIBVOS setns
unshare -n true 2>&1; echo "unshare -n: \$?"
nsenter --net=/proc/self/ns/net true 2>&1; echo "nsenter: \$?"
mstack /dev/net/native ip link 2>&1; echo "mstack: \$?"
python3 $NC $LIBVOS msocket /dev/net/native
python3 $NC $LIBVOS msocket NULL
python3 $NC $LIBVOS io_uring_setup
$VOS run -- python3 $NC $LIBVOS socket inet
$VOS run -x -- true 2>&1; echo "vos run -x: \$?"
um_del_service umnet 2>&1; echo "um_del_service: \$?"
mount -t umdevnull none $TEST_DIR/mnt/null && echo "umdev still works"
python3 $NC $LIBVOS socket inet
cat /dev/net/default
EOF
out=$(step 60 "$VOS" run -p umdev bash "$TEST_DIR/script.sh" 2>&1); st=$?
echo "$out" | sed 's/^/  | /'
expect_eq "bash exit status" 0 "$st"
expect_match "msocket on native before perm" "^msocket: ok AF_INET cloexec=True$" "$out"
expect_match "perm mount" "^perm mount: 0$" "$out"
n=$(grep -c "^socket: EAFNOSUPPORT$" <<<"$out")
expect_eq "inet, inet6, netlink and the last inet socket refused" 5 "$n"
expect_match "AF_UNIX still works" "^socket: ok$" "$out"
expect_match "ping fails" "^ping: [1-9]" "$out"
expect_match "nc fails" "^nc: [1-9]" "$out"
expect_match "curl fails" "^curl: [1-9]" "$out"
expect_match "curl says why" "curl: \\([0-9]+\\) .*([Ss]ocket|[Cc]onnect|[Aa]ddress family)" "$out"
expect_match "umount: EBUSY" "^umount: 32$" "$out"
expect_match "umount -l: EBUSY" "^umount -l: 32$" "$out"
expect_match "umount -l /dev/net: EBUSY" "^umount -l /dev/net: 32$" "$out"
expect_match "umount -l /dev: EBUSY" "^umount -l /dev: 32$" "$out"
expect_match "umount's message" "target is busy" "$out"
expect_match "mount native over default refused" "^mount native over default: [1-9]" "$out"
expect_match "mount tmpfs over default refused" "^mount tmpfs over default: [1-9]" "$out"
expect_match "mount --move /dev/net refused" "^mount --move /dev/net: [1-9]" "$out"
n=$(grep -c "^move_mount: EBUSY$" <<<"$out")
expect_eq "move_mount of the node and of /dev/net: EBUSY" 2 "$n"
expect_match "open_tree clone elsewhere (a copy) is harmless" "^open_tree_move: (ok|EPERM|EINVAL)$" "$out"
expect_match "setns refused" "^setns: EPERM$" "$out"
expect_match "unshare -n refused" "^unshare -n: [1-9]" "$out"
expect_match "nsenter refused" "^nsenter: [1-9]" "$out"
expect_match "mstack refused" "^mstack: /dev/net/native: the view's default stack is permanent" "$out"
expect_match "msocket on another stack: EPERM" "^msocket: EPERM$" "$out"
expect_match "msocket(NULL): EAFNOSUPPORT" "^msocket: EAFNOSUPPORT$" "$out"
expect_match "io_uring refused" "^io_uring_setup: EPERM$" "$out"
expect_match "vos run -x refused" "^vos run -x: [1-9]" "$out"
expect_match "um_del_service umnet: busy" "^um_del_service: [1-9]" "$out"
expect_match "other services keep working" "^umdev still works$" "$out"
expect_match "the node is still the null stack" "^umnetnull$" "$out"
finish
