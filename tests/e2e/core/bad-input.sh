#!/bin/bash
# Every bad input gets one clear line and a non-zero exit.
. "$(dirname "$0")/../lib.sh"

check() { # WHAT EXPECTED_REGEX CMD...
	local what=$1 re=$2
	shift 2
	local err st
	err=$("$@" 2>&1 >/dev/null); st=$?
	expect_one_line_error "$what" "$err" "$st"
	expect_match "$what: message" "$re" "$err"
}

check "no command" "no command given" step 10 "$VOS" run
check "no command after --" "no command given" step 10 "$VOS" run --
check "unknown option" "vos run: unrecognized option '--bogus' \\(try 'vos run --help'\\)" step 10 "$VOS" run --bogus -- true
check "missing option argument" "vos run: option '-p' needs an argument" step 10 "$VOS" run -p
check "unknown vos command" "unknown command 'frobnicate'" step 10 "$VOS" frobnicate
check "unknown service" "nosuchservice: no such service" step 10 "$VOS" run -p nosuchservice -- true
check "malformed -p (seed's nameless -p)" "malformed service" step 10 "$VOS" run -p,vd0=/var/run/vde.ctl -- true
check "malformed -p option" "malformed service" step 10 "$VOS" run -p umdev,=x -- true
check "wrong ABI major" "built for service ABI 2" step 10 "$VOS" run -p badmajor -- true
check "not a service" "not a vos service" step 10 "$VOS" run -p nosymbol -- true
check "missing mandatory op" "lacks a name, create, read or write" step 10 "$VOS" run -p missingop -- true
check "unwritable log" "cannot open log file" step 10 "$VOS" run -o /nonexistent/dir/log -- true

printf 'garbage' > notelf.so
check "file that is not ELF" "not a loadable shared object" env VOS_SERVICE_PATH="$TEST_DIR" "$VOS" run -p notelf -- true

# Inside a view.
out=$(vos_run -- sh -c '
	um_add_service nosuchservice 2>&1; echo st=$?
	um_add_service umdev,frob 2>&1; echo st=$?
	um_add_service umdev; um_add_service umdev 2>&1; echo st=$?
	mount -t umdevnull -o frob none x 2>&1; echo st=$?
	mount -t umdevtrivhd -o size=1 none x 2>&1; echo st=$?
	mount -t umdevnosuch none x 2>&1; echo st=$?
	um_del_service nosuchservice 2>&1; echo st=$?
	um_add_service "../../etc" 2>&1; echo st=$?
' 2>&1)
expect_match "unknown service in view" "um_add_service: nosuchservice: no such service" "$out"
expect_match "unknown umdev service option" "umdev: unknown service option 'frob'" "$out"
expect_match "double load" "umdev: service already loaded" "$out"
expect_match "option to umdevnull" "umdevnull: unknown option 'frob' \\(it takes none\\)" "$out"
expect_match "option to umdevtrivhd" "umdevtrivhd: unknown option 'size' \\(it takes none\\)" "$out"
expect_match "unknown mount type" "unknown filesystem type 'umdevnosuch'" "$out"
expect_match "del of unloaded" "nosuchservice: service not loaded" "$out"
expect_match "bad service name" "not a valid service name" "$out"
[ "$(grep -c 'st=0' <<<"$out")" -eq 0 ] && ok "all failed with non-zero status" || fail "a bad input succeeded: $out"
[ -e x ] && fail "failed mount left x on the host" || ok "failed mount left nothing"
finish
