#!/bin/bash
# Bad umfuse mounts: each fails (or, where a module rejects its options
# only once it runs, ends) with one clear line, and the service keeps
# working.
. "$(dirname "$0")/../lib.sh"
require_fuse

EX=/usr/share/doc/libfuse3-dev/examples
[ -f "$EX/hello.c" ] || skip "libfuse's examples are not installed ($EX, Debian package libfuse3-dev)"
command -v cc >/dev/null || skip "no C compiler"
TOOL="$VOS_BUILD_ROOT/services/umfuse/vos-fuse-module"
T=$TEST_DIR

mkdir mods m1 m2 m3 m4 m5 m6 m7 ok
(cd mods && step 120 "$TOOL" hello "$EX/hello.c" >/dev/null) || fail "cannot build the hello module"
echo 'int not_main(void) { return 0; }' > nomain.c
step 60 cc -shared -fPIC -o mods/umfusenomain.so nomain.c || fail "cannot build nomain"
echo "this is not an ELF file" > mods/umfusejunk.so
echo "#!/bin/sh" > notexec

# The tool itself.
msg=$("$TOOL" 2>&1); st=$?
expect_one_line_error "vos-fuse-module without arguments" "$msg" "$st"
msg=$("$TOOL" 'bad/name' "$EX/hello.c" 2>&1); st=$?
expect_one_line_error "vos-fuse-module with a bad name" "$msg" "$st"
msg=$("$TOOL" x "$T/missing.c" 2>&1); st=$?
expect_one_line_error "vos-fuse-module with a missing source" "$msg" "$st"

export VOS_SERVICE_PATH="$T/mods"
out=$(vos_run -- bash -c '
	T='"$T"'
	um_add_service umfuse || exit 10
	mount -t umfusenosuch none $T/m1 2>/dev/null; echo "unknown name: $?"
	mount -t umfusenomain none $T/m2 2>/dev/null; echo "no main: $?"
	mount -t umfusejunk none $T/m3 2>/dev/null; echo "not ELF: $?"
	mount -t umfuse -o prog=/nonexistent/fuse-program src $T/m4 2>/dev/null; echo "missing prog: $?"
	mount -t umfuse -o prog=$T/notexec src $T/m5 2>/dev/null; echo "prog not executable: $?"
	mount -t umfuse none $T/m6 2>/dev/null; echo "no prog: $?"
	mount -t umfusehello -o prog=/bin/true none $T/m6 2>/dev/null; echo "prog with a module: $?"
	mount -t umfuse.hidden none $T/m6 2>/dev/null; echo "bad module name: $?"
	# hello itself rejects the option once it runs: the mount waits for
	# it to take the connection, sees it end instead, and fails.
	mount -t umfusehello -o no_such_option none $T/m7; echo "unknown option: mount $?"
	ls -A $T/m7; echo "unknown option: ls $?"
	echo "unknown option: mounts left: $(grep -c " $T/m7 " /proc/self/mountinfo)"
	mount -t umfusehello none $T/ok || exit 11
	echo "still works: $(cat $T/ok/hello)"
	umount $T/ok
' 2>"$T/err"); st=$?
err=$(cat "$T/err"); [ -n "${UMFUSE_SHOW:-}" ] && printf "%s\n" "$err" "$out"
expect_eq "status" 0 "$st"
expect_match "unknown module refused" "^unknown name: 32$" "$out"
expect_match "unknown module message" "^umfuse: umfusenosuch: module umfusenosuch.so not found" "$err"
expect_match "no main refused" "^no main: 32$" "$out"
expect_match "no main message" "^umfuse: umfusenomain: $T/mods/umfusenomain.so: no main function: not a FUSE program" "$err"
expect_match "not ELF refused" "^not ELF: 32$" "$out"
expect_match "not ELF message" "^umfuse: umfusejunk: $T/mods/umfusejunk.so: not a loadable shared object" "$err"
expect_match "missing prog refused" "^missing prog: 32$" "$out"
expect_match "missing prog message" "^umfuse: prog=/nonexistent/fuse-program: no such program$" "$err"
expect_match "non-executable prog refused" "^prog not executable: 32$" "$out"
expect_match "non-executable prog message" "^umfuse: prog=$T/notexec: not executable" "$err"
expect_match "no prog refused" "^no prog: 32$" "$out"
expect_match "no prog message" "^umfuse: mount -t umfuse needs -o prog=PROGRAM" "$err"
expect_match "prog with a module refused" "^prog with a module: 32$" "$out"
expect_match "bad module name refused" "^bad module name: 32$" "$out"
expect_match "unknown option: the mount fails" "^unknown option: mount 32$" "$out"
expect_match "unknown option: hello says why" "^fuse: unknown option\(s\): .-o no_such_option'$" "$err"
expect_match "unknown option: the directory is as before" "^unknown option: ls 0$" "$out"
expect_match "unknown option: no mount is left behind" "^unknown option: mounts left: 0$" "$out"
expect_match "the service still works" "^still works: Hello World!$" "$out"
for what in nosuch nomain junk; do
	n=$(grep -c "umfuse$what" <<<"$err")
	expect_eq "one line for umfuse$what" 1 "$n"
done
finish
