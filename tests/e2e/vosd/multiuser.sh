#!/bin/bash
# Root vosd with per-user workers: two users each run a view through it;
# each sees only their own in `vosctl ps`, cannot stop the other's, root
# sees and may stop both; killing user A's worker leaves B's view working
# and A's next `vos run` gets a fresh worker.
. "$(dirname "$0")/../lib.sh"
require_fuse
[ "$(id -u)" = 0 ] || skip "needs root (per-user workers)"
# Two unprivileged users: .ci/run creates them and names them here.
read -r A B <<<"${VOS_TEST_USERS:-vostest vos-ci}"
id "$A" >/dev/null 2>&1 && id "$B" >/dev/null 2>&1 || skip "users $A and $B are needed"
command -v runuser >/dev/null || skip "runuser is not installed"
for u in $A $B; do
	runuser -u "$u" -- test -x "$VOS" || skip "$u cannot run $VOS (build tree not readable)"
done
start_vosd
mkdir -m 0777 shared marks

as() { # USER CMD...: run as USER in the shared dir with the test's environment
	local u=$1
	shift
	(cd shared && step 30 runuser -u "$u" -- env PATH="$PATH" VOS_SOCKET="$VOS_SOCKET" \
		VOS_SERVICE_PATH="$VOS_SERVICE_PATH" "$@")
}
# view_of USER: that user's views' ids as the user sees them
view_ids() { as "$1" vosctl --json ps | grep -o '"id":[0-9]*' | cut -d: -f2 | tr '\n' ' '; }

start as "$A" "$VOS" run --daemon -- sh -c "touch $TEST_DIR/shared/a.up; sleep 25"
start as "$B" "$VOS" run --daemon -p umdev -- sh -c "exec 2>$TEST_DIR/marks/b.err; touch $TEST_DIR/shared/b.up; while sleep 0.1; do [ -e $TEST_DIR/marks/b.go ] && { mount -t umdevnull none $TEST_DIR/shared/b.null && echo mounted > $TEST_DIR/marks/b.done; exit 0; }; done"
for _ in $(seq 100); do [ -e shared/a.up ] && [ -e shared/b.up ] && break; sleep 0.05; done
[ -e shared/a.up ] && [ -e shared/b.up ] || fail "the views did not start: $(cat vosd.log)"

a_ids=$(view_ids "$A"); b_ids=$(view_ids "$B")
expect_match "$A sees one view" '^[0-9]+ $' "$a_ids"
expect_match "$B sees one view" '^[0-9]+ $' "$b_ids"
[ "$a_ids" != "$b_ids" ] && ok "different views" || fail "same view ids: $a_ids"
a_id=${a_ids% }; b_id=${b_ids% }
expect_match "$A's ps shows only $A" "^$a_id +$A " "$(as "$A" vosctl ps | tail -n +2)"
root_ps=$(step 10 vosctl ps)
expect_match "root sees $A's view" "^$a_id +$A " "$root_ps"
expect_match "root sees $B's view" "^$b_id +$B " "$root_ps"
expect_match "root status counts both views and two workers" '"views":2,"workers":2' "$(step 10 vosctl --json status)"

err=$(as "$A" vosctl stop "$b_id" 2>&1); st=$?
expect_eq "$A cannot stop $B's view: exit 5" 5 "$st"
expect_one_line_error "$A stops $B's view" "$err" "$st"
err=$(as "$A" vosctl --view "$b_id" ls-service 2>&1); st=$?
expect_eq "$A cannot list $B's services" 5 "$st"
err=$(as "$A" vosctl mounts "$b_id" 2>&1); st=$?
expect_eq "$A cannot list $B's mounts" 5 "$st"

# Workers run with the user's credentials only.
for u in $A $B; do
	wpid=$(pgrep -u "$u" -f 'vosd --worker' | head -1)
	[ -n "$wpid" ] || { fail "no worker process for $u"; continue; }
	expect_eq "$u's worker has no capabilities" "0000000000000000" "$(awk '/^CapEff/ {print $2}' /proc/"$wpid"/status)"
	expect_eq "$u's worker runs as $u" "$(id -u "$u")" "$(awk '/^Uid/ {print $3}' /proc/"$wpid"/status)"
done

# Root may stop any view.
step 10 vosctl stop "$a_id"; expect_eq "root stops $A's view" 0 $?
for _ in $(seq 40); do [ -z "$(view_ids "$A")" ] && break; sleep 0.05; done
expect_eq "$A's view is gone" "" "$(view_ids "$A")"

# Kill A's worker: B's view keeps working, A gets a new worker.
awpid=$(pgrep -u "$A" -f 'vosd --worker' | head -1)
kill -KILL "$awpid"
touch marks/b.go
for _ in $(seq 100); do [ -e marks/b.done ] && break; sleep 0.05; done
[ -e marks/b.done ] && ok "$B's view still served after $A's worker died" || fail "$B's mount failed after $A's worker died: $(cat marks/b.err; tail -20 vosd.log)"
expect_eq "$A runs again (new worker)" "again" "$(as "$A" "$VOS" run --daemon -- echo again)"

kill -0 "$VOSD_PID" 2>/dev/null && ok "vosd survived" || fail "vosd died"
finish
