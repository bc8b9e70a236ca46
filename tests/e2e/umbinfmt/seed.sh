#!/bin/bash
# umbinfmt: the seed's session verbatim, then formats that really run: an
# E entry, an M entry with magic and mask for a custom header, the kernel's
# argv convention (with and without P), a format before #!, execs from a
# static program, 0/1/-1 on an entry and on status, umount and
# um_del_service, registrations gone with the view, two views independent,
# and the host's binfmt_misc untouched. UMBINFMT_MODE=kernel (the kernel's
# binfmt_misc, the seed's plain um_add_service) or trap (mode=trap: exec
# interception, what kernels before 6.7 get).
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/mode.sh"

host_before=$(ls -lA /proc/sys/fs/binfmt_misc 2>&1)

# An interpreter that shows what the kernel gave it.
cat > "$TEST_DIR/interp" <<'EOF'
#!/bin/sh
printf 'interp:'
for a in "$0" "$@"; do printf ' [%s]' "$a"; done
echo
EOF
chmod 0755 "$TEST_DIR/interp"
# (a NUL byte, so that a shell does not run it as a script when exec fails)
printf 'hello\0from x.foo\n' > "$TEST_DIR/x.foo"
chmod 0755 "$TEST_DIR/x.foo"
# A custom binary header "VOSX\x01\x02" (4 magic bytes, then a version byte
# the mask ignores) after two bytes of anything.
printf 'zzVOSX\001\002payload' > "$TEST_DIR/prog.bin"
printf 'zzVOSX\377\002payload' > "$TEST_DIR/prog2.bin"
printf 'zzVOSY\001\002payload' > "$TEST_DIR/wrong.bin"
chmod 0755 "$TEST_DIR"/*.bin
# A .foo file that is also a #! script: binfmt_misc comes before #!.
printf '#!/bin/false\nscript\n' > "$TEST_DIR/s.foo"
chmod 0755 "$TEST_DIR/s.foo"
# A static program that execs its arguments (PROG ARGS...), or with
# `at DIR keep|cloexec NAME ARGS...` execveat(2)s NAME relative to DIR
# opened with O_PATH (and O_CLOEXEC): if a static C toolchain is here.
cat > "$TEST_DIR/static-exec.c" <<'CEOF'
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
extern char **environ;
int main(int argc, char **argv)
{
	if (argc > 4 && strcmp(argv[1], "at") == 0) {
		int dir = open(argv[2], O_PATH | (strcmp(argv[3], "cloexec") == 0 ? O_CLOEXEC : 0));
		syscall(SYS_execveat, dir, argv[4], argv + 4, environ, 0);
		perror("execveat");
		return 127;
	}
	if (argc > 1)
		execv(argv[1], argv + 1);
	perror("execv");
	return 127;
}
CEOF
STATIC_EXEC=
if command -v cc >/dev/null && step 30 cc -static -o "$TEST_DIR/static-exec" "$TEST_DIR/static-exec.c" 2>/dev/null; then
	STATIC_EXEC=$TEST_DIR/static-exec
else
	echo "note: no static C toolchain (cc -static): execs from a static program and execveat are not checked"
fi

cat > "$TEST_DIR/seed-session.sh" <<EOF
B=/proc/sys/fs/binfmt_misc
T=$TEST_DIR
STATIC_EXEC=$STATIC_EXEC
um_add_service() { command um_add_service "\$1$UMBINFMT_OPTS"; }
EOF
cat >> "$TEST_DIR/seed-session.sh" <<'EOF'
echo '$ um_add_service umbinfmt'
um_add_service umbinfmt
echo '$ mount -t umbinfmt none /proc/sys/fs/binfmt_misc'
mount -t umbinfmt none /proc/sys/fs/binfmt_misc || exit 11
echo '$ ls -l /proc/sys/fs/binfmt_misc'
ls -l /proc/sys/fs/binfmt_misc
echo '$ echo :foo:E::foo::/usr/bin/bar: > /proc/sys/fs/binfmt_misc'
echo ':foo:E::foo::/usr/bin/bar:' > /proc/sys/fs/binfmt_misc
echo "seed-echo-status=$?"
echo "listing-after-seed-echo: $(ls $B | tr '\n' ' ')"
# The same string written where the kernel reads it.
echo ':foo:E::foo::/usr/bin/bar:' > $B/register; echo "register-status=$?"
cat $B/foo
echo -1 > $B/foo; echo "remove-status=$?"
[ -e $B/foo ] && echo foo-still-there || echo foo-removed

# E: a .foo file runs through the interpreter, by the shell, by env, by an
# execve from a program that is not a shell.
echo ":foo:E::foo::$T/interp:" > $B/register || exit 12
cd $T
./x.foo a b
env ./x.foo c
python3 -c 'import os; os.execv("'$T'/x.foo", ["argv0-given", "d"])'
./s.foo h
# many arguments (more than the stack below a shell has room for)
cp x.foo x.many
echo ":many:E::many::/bin/echo:" > $B/register
echo "many: $(./x.many $(seq 40000) | md5sum) $(/bin/echo ./x.many $(seq 40000) | md5sum)"
echo -1 > $B/many
# an interpreter of its own format: the kernel gives up after 5 levels
cp x.foo y.self
echo ":self:E::self::$T/y.self:" > $B/register && ./y.self 2>&1 | sed 's/.*: //'
echo -1 > $B/self
if [ -n "$STATIC_EXEC" ]; then
	$STATIC_EXEC ./x.foo from-static
	# execveat from a directory fd: the interpreter gets /dev/fd/N/NAME;
	# with a close-on-exec fd that name is gone after exec: ENOENT
	$STATIC_EXEC at $T keep x.foo g 2>&1 | sed 's|/dev/fd/[0-9]*/|/dev/fd/N/|'
	$STATIC_EXEC at $T cloexec x.foo g 2>&1
fi
# P keeps argv[0]: interpreter, file, then the original argv
echo ":foop:E::foop::$T/interp:P" > $B/register || exit 13
cp x.foo x.foop
python3 -c 'import os; os.execv("'$T'/x.foop", ["argv0-given", "e"])'
# M with offset, magic and mask
echo ":vosx:M:2:VOSX\\x00:\\xff\\xff\\xff\\xff\\x00:$T/interp:" > $B/register || exit 14
cat $B/vosx
./prog.bin m1; ./prog2.bin m2
./wrong.bin 2>&1 | sed 's/.*: //'
# 0 disables an entry, 1 enables it again
echo 0 > $B/vosx; head -1 $B/vosx; ./prog.bin 2>&1 | sed 's/.*: //'
echo 1 > $B/vosx; head -1 $B/vosx; ./prog.bin m3
# status: 0 disables all, 1 enables, -1 removes every entry
echo 0 > $B/status; cat $B/status; ./x.foo 2>&1 | sed 's/.*: //'
echo 1 > $B/status; cat $B/status; ./x.foo f
echo -1 > $B/status; echo "after-clear: $(ls $B | tr '\n' ' ')"
./x.foo 2>&1 | sed 's/.*: //'
echo ":foo:E::foo::$T/interp:" > $B/register
vosctl mounts
um_del_service umbinfmt; echo "del-while-mounted=$?"
umount /proc/sys/fs/binfmt_misc; echo "umount=$?"
[ -e $B/register ] && echo still-mounted || echo unmounted
./x.foo 2>&1 | sed 's/.*: //'
um_del_service umbinfmt; echo "del-after-umount=$?"
EOF
out=$(vos_run -- bash "$TEST_DIR/seed-session.sh" 2>"$TEST_DIR/err"); st=$?
err=$(cat "$TEST_DIR/err")
echo "$out"; echo "$err" >&2
T=$TEST_DIR
expect_eq "view status" 0 "$st"
expect_match "um_add_service prints umbinfmt init" "^umbinfmt init$" "$err"
expect_eq "listing: exactly register and status" 3 "$(sed -n '/^\$ ls -l/,/^\$ echo/p' <<<"$out" | grep -vc '^\$')"
expect_match "register is --w------- root root" '^--w------- 1 root root 0 .* register$' "$out"
expect_match "status is -rw-r--r-- root root" '^-rw-r--r-- 1 root root 0 .* status$' "$out"
expect_match "the seed's echo to the directory fails as the kernel's" "binfmt_misc: Is a directory" "$err"
expect_match "... with a non-zero status" "^seed-echo-status=1$" "$out"
expect_match "... and registers nothing" "^listing-after-seed-echo: register status $" "$out"
expect_match "the seed's string to register" "^register-status=0$" "$out"
expect_eq "kernel's entry format" "enabled
interpreter /usr/bin/bar
flags: 
extension .foo" "$(sed -n '/^register-status=0$/,/^remove-status/p' <<<"$out" | sed '1d;$d')"
expect_match "-1 removes the entry" "^foo-removed$" "$out"
expect_match "E: via the shell, interpreter gets the file path" "^interp: \[$T/interp\] \[\./x\.foo\] \[a\] \[b\]$" "$out"
expect_match "E: via env" "^interp: \[$T/interp\] \[\./x\.foo\] \[c\]$" "$out"
expect_match "E: via execve, argv[0] dropped" "^interp: \[$T/interp\] \[$T/x\.foo\] \[d\]$" "$out"
expect_match "40000 arguments pass through" "^many: ([0-9a-f]{32})  - \1  -$" "$out"
expect_match "a format that is its own interpreter: ELOOP" "^Too many levels of symbolic links$" "$out"
expect_match "a format comes before #!" "^interp: \[$T/interp\] \[\./s\.foo\] \[h\]$" "$out"
if [ -n "$STATIC_EXEC" ]; then
	expect_match "E: exec from a static program" "^interp: \[$T/interp\] \[\./x\.foo\] \[from-static\]$" "$out"
	expect_match "E: execveat from a directory fd" "^interp: \[$T/interp\] \[/dev/fd/N/x\.foo\] \[g\]$" "$out"
	expect_match "E: execveat from a close-on-exec directory fd" "^execveat: No such file or directory$" "$out"
fi
expect_match "P: argv[0] preserved" "^interp: \[$T/interp\] \[$T/x\.foop\] \[argv0-given\] \[e\]$" "$out"
expect_match "M: entry shows offset, magic, mask" "^offset 2$" "$out"
expect_match "M: magic" "^magic 564f535800$" "$out"
expect_match "M: mask" "^mask ffffffff00$" "$out"
expect_match "M: header matches" "^interp: \[$T/interp\] \[\./prog\.bin\] \[m1\]$" "$out"
expect_match "M: mask ignores the fifth byte" "^interp: \[$T/interp\] \[\./prog2\.bin\] \[m2\]$" "$out"
expect_match "M: a different header is not ours" "^Exec format error$" "$out"
expect_match "0 disables the entry" "^disabled$" "$out"
expect_match "1 enables it again" "^interp: \[$T/interp\] \[\./prog\.bin\] \[m3\]$" "$out"
expect_match "status 1 re-enables all" "^interp: \[$T/interp\] \[\./x\.foo\] \[f\]$" "$out"
expect_match "status -1 removes every entry" "^after-clear: register status $" "$out"
expect_match "vosctl mounts lists it" "^umbinfmt none /proc/sys/fs/binfmt_misc$" "$out"
expect_match "um_del_service refused while mounted" "^del-while-mounted=1$" "$out"
expect_match "... with the core's message" "umbinfmt: service busy: 1 mount still active" "$err"
expect_match "umount works" "^umount=0$" "$out"
expect_match "unmounted" "^unmounted$" "$out"
expect_match "um_del_service after umount" "^del-after-umount=0$" "$out"
expect_match "no .foo after umount (registrations gone)" "^Exec format error$" "$(sed -n '/^unmounted$/,$p' <<<"$out")"

# Two views at once: A's registration is A's alone; B starts empty; the
# host sees neither.
cat > "$TEST_DIR/view-a.sh" <<EOF
T=$TEST_DIR
B=/proc/sys/fs/binfmt_misc
um_add_service umbinfmt$UMBINFMT_OPTS 2>/dev/null
mount -t umbinfmt none \$B || exit 21
echo ":foo:E::foo::\$T/interp:" > \$B/register || exit 22
touch \$T/a-ready
for i in \$(seq 100); do [ -e \$T/b-done ] && break; sleep 0.1; done
echo "a-listing: \$(ls \$B | tr '\n' ' ')"
cd \$T && ./x.foo from-a
EOF
cat > "$TEST_DIR/view-b.sh" <<EOF
T=$TEST_DIR
B=/proc/sys/fs/binfmt_misc
um_add_service umbinfmt$UMBINFMT_OPTS 2>/dev/null
mount -t umbinfmt none \$B || exit 31
echo "b-listing: \$(ls \$B | tr '\n' ' ')"
cd \$T && ./x.foo 2>&1 | sed 's/.*: //'
echo ":bar:E::bar::\$T/interp:" > \$B/register || exit 32
echo "b-listing2: \$(ls \$B | tr '\n' ' ')"
EOF
start "$VOS" run -- bash "$TEST_DIR/view-a.sh" >"$TEST_DIR/a.out" 2>"$TEST_DIR/a.err"
a_pid=$LAST_PID
for i in $(seq 100); do [ -e "$TEST_DIR/a-ready" ] && break; sleep 0.1; done
[ -e "$TEST_DIR/a-ready" ] || fail "view A did not get ready: $(cat "$TEST_DIR/a.err")"
b_out=$(vos_run -- bash "$TEST_DIR/view-b.sh" 2>&1); b_st=$?
host_exec=$(cd "$TEST_DIR" && ./x.foo host 2>&1; echo "status=$?")
host_during=$(ls -lA /proc/sys/fs/binfmt_misc 2>&1)
touch "$TEST_DIR/b-done"
step 15 tail --pid="$a_pid" -f /dev/null
wait "$a_pid"; a_st=$?
a_out=$(cat "$TEST_DIR/a.out")
echo "$b_out"; echo "$a_out"
expect_eq "view B status" 0 "$b_st"
expect_eq "view A status" 0 "$a_st"
expect_match "B starts with nothing registered" "^b-listing: register status $" "$b_out"
expect_match "A's .foo is not B's" "Exec format error" "$b_out"
expect_match "B registers its own" "^b-listing2: bar register status $" "$b_out"
expect_match "A keeps its entry, without B's" "^a-listing: foo register status $" "$a_out"
expect_match "A's .foo runs in A" "^interp: \[$T/interp\] \[\./x\.foo\] \[from-a\]$" "$a_out"
expect_match "the host does not run .foo while A has it" "Exec format error" "$host_exec"
expect_eq "host binfmt_misc unchanged while views run" "$host_before" "$host_during"

# Registrations vanish with the view: a new view starts empty.
c_out=$(vos_run -- bash -c 'um_add_service umbinfmt'"$UMBINFMT_OPTS"' 2>/dev/null; mount -t umbinfmt none /proc/sys/fs/binfmt_misc && ls /proc/sys/fs/binfmt_misc | tr "\n" " "')
expect_eq "a new view starts empty" "register status " "$c_out"
expect_eq "host binfmt_misc unchanged at the end" "$host_before" "$(ls -lA /proc/sys/fs/binfmt_misc 2>&1)"
finish
