#!/bin/bash
# vos run passes the command's exit status through, 128+N for signals,
# 127/126 when the command cannot be run.
. "$(dirname "$0")/../lib.sh"

out=$(vos_run -- sh -c 'echo hi; exit 3'); st=$?
expect_eq "output" "hi" "$out"
expect_eq "exit status" 3 "$st"

vos_run -- true; expect_eq "true" 0 $?
vos_run -- false; expect_eq "false" 1 $?
vos_run -- sh -c 'kill -9 $$'; expect_eq "killed by SIGKILL" 137 $?
vos_run -- sh -c 'kill -TERM $$'; expect_eq "killed by SIGTERM" 143 $?

err=$(vos_run -- /nonexistent/cmd 2>&1); st=$?
expect_eq "missing command status" 127 "$st"
expect_one_line_error "missing command" "$err" "$st"

# Without "--", as umview takes it.
out=$(vos_run sh -c 'echo plain'); expect_eq "no -- separator" "plain" "$out"

# The view waits for the last process, not just the command.
out=$(vos_run -- sh -c '(sleep 0.3; echo late) & exit 0'); st=$?
expect_eq "orphan finishes before vos exits" "late" "$out"
expect_eq "status of the command, not the orphan" 0 "$st"

# Standard input reaches the command.
out=$(echo piped | vos_run -- cat); expect_eq "stdin" "piped" "$out"

# umview alias, with umview's no-op flags.
ln -s "$VOS" umview
out=$(step 30 ./umview -n --nokmulti --nokvm sh -c 'echo via-umview; exit 4'); st=$?
expect_eq "umview alias output" "via-umview" "$out"
expect_eq "umview alias status" 4 "$st"
finish
