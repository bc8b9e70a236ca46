#!/bin/bash
# A view is root in its own user namespace with a private mount namespace:
# mounts made inside never reach the host.
. "$(dirname "$0")/../lib.sh"

out=$(vos_run -- id -u); expect_eq "root inside the view" 0 "$out"

mkdir mnt
out=$(vos_run -- sh -c 'mount -t tmpfs none mnt && echo data > mnt/file && cat mnt/file'); st=$?
expect_eq "kernel mounts work in the view (passed through)" "data" "$out"
expect_eq "status" 0 "$st"
[ -e mnt/file ] && fail "tmpfs content leaked to the host" || ok "host directory untouched"
grep -q " $TEST_DIR/mnt " /proc/self/mountinfo && fail "mount visible on the host" || ok "mount not visible on the host"

# Outside a view the service tools say so.
err=$(step 10 um_ls_service 2>&1); st=$?
expect_one_line_error "um_ls_service outside a view" "$err" "$st"
expect_match "says why" "not inside a vos view" "$err"
out=$(vos_run -- vosctl view); expect_match "vosctl view inside gives the view's id (1 for an embedded view)" "^$([ "${VOS_FORCE_DAEMON:-0}" = 1 ] && echo "[1-9][0-9]*" || echo 1)$" "$out"
step 10 vosctl view >/dev/null 2>&1; expect_eq "vosctl outside: exit 3" 3 $?
finish
