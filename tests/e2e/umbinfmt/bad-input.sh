#!/bin/bash
# umbinfmt bad input: every malformed registration string gets the kernel's
# own error and registers nothing; vos-binfmt-check names the broken rule;
# the mirror parser agrees with the running kernel on thousands of fuzzed
# strings; bad mount and service options get one line and a failure.
# UMBINFMT_MODE=kernel|trap (see mode.sh): in trap mode umbinfmt's own
# directory must give the kernel's errors, and the differential run
# compares it with the mirror parser through FUSE.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/mode.sh"
CHECK="$VOS_BUILD_ROOT/services/umbinfmt/vos-binfmt-check"
FUZZ="$VOS_BUILD_ROOT/tests/unit/test-binfmt-parse"

# name | string | the kernel's error (strerror)
cat > "$TEST_DIR/cases" <<'EOF'
missing fields|:foo:E::foo:|Invalid argument
missing interpreter delimiter|:foo:E::foo::/bin/cat|Invalid argument
too short|:a:E::b::|Invalid argument
bad type|:foo:X::foo::/bin/cat:|Invalid argument
empty name|::E::foo::/bin/cat:|Invalid argument
name with slash|:a/b:E::foo::/bin/cat:|Invalid argument
name dot-dot|:..:E::foo::/bin/cat:|Invalid argument
unknown flag|:foo:E::foo::/bin/cat:Z|Invalid argument
negative offset|:foo:M:-1:ab::/bin/cat:|Invalid argument
offset not a number|:foo:M:1x:ab::/bin/cat:|Invalid argument
offset out of range|:foo:M:255:ab::/bin/cat:|Invalid argument
magic longer than 256 bytes|MAGIC257|Invalid argument
mask length mismatch|:foo:M::abc:\xff\xff:/bin/cat:|Invalid argument
bad hex escape|:foo:M::\xg1::/bin/cat:|Invalid argument
one-digit hex escape|:foo:M::\x1::/bin/cat:|Invalid argument
empty magic|:foo:M:::\xff:/bin/cat:|Invalid argument
empty interpreter|:foo:E::foo:::|Invalid argument
reserved name|:status:E::foo::/bin/cat:|File exists
F with a missing interpreter|:foo:E::foo::/nonexistent/interp:F|No such file or directory
EOF
magic257=$(printf 'A%.0s' $(seq 257))
sed -i "s/MAGIC257/:foo:M::$magic257::\/bin\/cat:/" "$TEST_DIR/cases"

echo "ADD=umbinfmt$UMBINFMT_OPTS FUSE=$([ "$UMBINFMT_MODE" = trap ] && echo --fuse)" > "$TEST_DIR/in-view.sh"
cat >> "$TEST_DIR/in-view.sh" <<'EOF'
B=/proc/sys/fs/binfmt_misc
um_add_service $ADD 2>/dev/null || exit 10
mount -t umbinfmt none $B || exit 11
while IFS='|' read -r name string expected; do
	err=$( { echo "$string" > $B/register; } 2>&1 )
	echo "case [$name] status=$? error=[${err##*: }] listing=[$(ls $B | tr '\n' ' ')]"
done < "$1"
echo ':foo:E::foo::/bin/cat:' > $B/register && echo first-foo=ok
err=$( { echo ':foo:E::bar::/bin/cat:' > $B/register; } 2>&1 ); echo "duplicate status=$? error=[${err##*: }]"
# the kernel accepts an interpreter that is not absolute (it is resolved
# at exec time, from the exec's cwd)
echo ':rel:E::rel::cat:' > $B/register && echo "relative-interpreter=accepted: $(sed -n 2p $B/rel)"
err=$( { echo 2 > $B/status; } 2>&1 ); echo "bad status command=[${err##*: }]"
err=$( { echo 01 > $B/foo; } 2>&1 ); echo "bad entry command=[${err##*: }]"
echo -1 > $B/status
"$2" --kernel $B --count 4000 --seed 20260 $FUSE && echo differential=ok
umount $B
mount -t umbinfmt -o foo none $B; echo "mount-with-option=$?"
EOF
out=$(vos_run -- bash "$TEST_DIR/in-view.sh" "$TEST_DIR/cases" "$FUZZ" 2>"$TEST_DIR/err"); st=$?
err=$(cat "$TEST_DIR/err")
echo "$out"; echo "$err" >&2
expect_eq "view status" 0 "$st"
while IFS='|' read -r name string expected; do
	expect_match "$name: the kernel's error, nothing registered" \
		"^case \[$name\] status=1 error=\[$expected\] listing=\[register status \]$" "$out"
	if [ "$expected" = "Invalid argument" ]; then
		msg=$("$CHECK" "$string" 2>&1); cst=$?
		expect_one_line_error "vos-binfmt-check: $name" "$msg" "$cst"
		expect_match "vos-binfmt-check: $name: EINVAL with a reason" "invalid \(EINVAL\): .+" "$msg"
	fi
done < "$TEST_DIR/cases"
expect_match "duplicate name: File exists" "^duplicate status=1 error=\[File exists\]$" "$out"
expect_match "relative interpreter: as the kernel, accepted" "^relative-interpreter=accepted: interpreter cat$" "$out"
expect_match "bad status command" "^bad status command=\[Invalid argument\]$" "$out"
expect_match "bad entry command" "^bad entry command=\[Invalid argument\]$" "$out"
expect_match "mirror parser agrees with the kernel" "^4000 strings against the kernel: .* 0 mismatches$" "$out"
expect_match "differential run passed" "^differential=ok$" "$out"
expect_match "mount option refused" "^mount-with-option=(32|1)$" "$out"
expect_match "... with umbinfmt's line" "^umbinfmt: binfmt_misc takes no mount options \(got 'foo'\)$" "$err"
msg=$("$CHECK" ':foo:E::foo::/usr/bin/bar:'); cst=$?
expect_eq "vos-binfmt-check accepts the seed's string" 0 "$cst"
expect_match "... and shows the kernel's entry" "^extension \.foo$" "$msg"
msg=$("$CHECK" 2>&1); cst=$?
expect_one_line_error "vos-binfmt-check without arguments" "$msg" "$cst"
msg=$("$CHECK" --bogus x 2>&1 | head -1); expect_match "vos-binfmt-check bad option" "unrecognized option" "$msg"

# A service option umbinfmt does not know: one line, the view goes on.
out=$(vos_run -- sh -c 'um_add_service umbinfmt,bogus; echo "add=$?"' 2>&1)
expect_match "unknown service option refused" "^add=1$" "$out"
expect_match "... naming it" "umbinfmt: unknown option 'bogus'" "$out"
out=$(vos_run -- sh -c 'um_add_service umbinfmt,mode=fast; echo "add=$?"' 2>&1)
expect_match "unknown mode refused" "^add=1$" "$out"
expect_match "... naming it" "^umbinfmt: mode must be auto, kernel or trap \(got 'fast'\)$" "$out"
# mode=trap in a view that does not trap exec (VOS_TRAP_EXEC=0): refused.
out=$(VOS_TRAP_EXEC=0 vos_run -- sh -c 'um_add_service umbinfmt,mode=trap; echo "add=$?"' 2>&1)
expect_match "mode=trap without exec trapping refused" "^add=1$" "$out"
expect_match "... saying what to do" "^umbinfmt: mode=trap needs a view that traps exec: start it with VOS_TRAP_EXEC=1" "$out"
finish
