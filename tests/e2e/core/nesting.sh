#!/bin/bash
# vos run inside a view joins that view: same supervisor, same services,
# -p adds to it; -x refuses. Nothing stacks a second listener.
. "$(dirname "$0")/../lib.sh"
require_fuse

out=$(vos_run -- sh -c '
	outer=$(vosctl view)
	um_add_service umdev
	vos run -- sh -c "um_ls_service; [ \$(vosctl view) = $outer ] && echo same-view"
	vos run -p umdev -- true && echo preload-already-loaded-ok
	vos run -- mount -t umdevtrivhd none '"$TEST_DIR"'/inner-made
	vos run -- sh -c "exit 7"; echo nested-status=$?
	vos run -x -- true 2>&1; echo x-status=$?
	vosctl mounts
')
expect_match "outer services in the nested run" "^umdev: virtual devices$" "$out"
expect_match "same view id" "^same-view$" "$out"
expect_match "-p of a loaded service" "^preload-already-loaded-ok$" "$out"
expect_match "nested exit status" "^nested-status=7$" "$out"
expect_match "-x refuses" "already inside view 1, and -x forbids joining it" "$out"
expect_match "-x status" "^x-status=1$" "$out"
expect_match "mount visible to the view" "umdevtrivhd none $TEST_DIR/inner-made" "$out"
finish
