#!/bin/bash
# umbinfmt, foreign architecture: qemu-aarch64-static registered in a view
# (magic and mask from qemu's qemu-binfmt-conf.sh) runs a static aarch64
# binary directly; before the registration, and on the host, the same file
# does not run. UMBINFMT_MODE=kernel|trap (see mode.sh).
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/mode.sh"
QEMU=/usr/bin/qemu-aarch64-static
[ -x "$QEMU" ] || skip "$QEMU missing (Debian package qemu-user-static)"
[ "$(uname -m)" != aarch64 ] || skip "this machine is aarch64: nothing foreign to run"

# A static aarch64 ELF, built here byte by byte: write(1, msg, 19); exit(0).
make_aarch64_hello() {
	{
	# ELF header: 64-bit, little endian, ET_EXEC, EM_AARCH64 (0xb7),
	# entry 0x400078, one program header at offset 64
	printf '\177ELF\2\1\1\0\0\0\0\0\0\0\0\0'
	printf '\2\0\267\0\1\0\0\0'
	printf '\170\0\100\0\0\0\0\0'
	printf '\100\0\0\0\0\0\0\0'
	printf '\0\0\0\0\0\0\0\0'
	printf '\0\0\0\0\100\0\70\0\1\0\0\0\0\0\0\0'
	# PT_LOAD, R+X, the whole 171-byte file at 0x400000
	printf '\1\0\0\0\5\0\0\0'
	printf '\0\0\0\0\0\0\0\0'
	printf '\0\0\100\0\0\0\0\0\0\0\100\0\0\0\0\0'
	printf '\253\0\0\0\0\0\0\0\253\0\0\0\0\0\0\0'
	printf '\0\020\0\0\0\0\0\0'
	printf '\040\0\200\322'   # mov x0, #1
	printf '\341\0\0\020'     # adr x1, msg
	printf '\142\002\200\322' # mov x2, #19
	printf '\010\010\200\322' # mov x8, #64 (write)
	printf '\001\0\0\324'     # svc #0
	printf '\0\0\200\322'     # mov x0, #0
	printf '\250\013\200\322' # mov x8, #93 (exit)
	printf '\001\0\0\324'     # svc #0
	printf 'hello from aarch64\n'
	} > "$1"
	chmod 0755 "$1"
}
make_aarch64_hello "$TEST_DIR/hello-aarch64"
expect_eq "the file is an aarch64 ELF of 171 bytes" 171 "$(stat -c %s "$TEST_DIR/hello-aarch64")"
direct=$(step 10 "$QEMU" "$TEST_DIR/hello-aarch64")
expect_eq "qemu runs it when asked directly" "hello from aarch64" "$direct"

host_before=$(ls -lA /proc/sys/fs/binfmt_misc 2>&1)
# If the host has registered qemu itself, the view inherits nothing once it
# mounts its own instance; the check below does not depend on the host.
cat > "$TEST_DIR/in-view.sh" <<EOF
B=/proc/sys/fs/binfmt_misc
H=$TEST_DIR/hello-aarch64
ADD=umbinfmt$UMBINFMT_OPTS
EOF
cat >> "$TEST_DIR/in-view.sh" <<'EOF'
um_add_service $ADD 2>/dev/null || exit 10
mount -t umbinfmt none $B || exit 11
$H 2>&1 | sed 's/.*: //'
echo ':qemu-aarch64:M::\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\xb7\x00:\xff\xff\xff\xff\xff\xff\xff\x00\xff\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff\xff:/usr/bin/qemu-aarch64-static:F' > $B/register || exit 12
cat $B/qemu-aarch64
echo "run: $($H)"
echo "status: $?"
echo "env: $(env $H)"
EOF
out=$(vos_run -- bash "$TEST_DIR/in-view.sh" 2>"$TEST_DIR/err"); st=$?
echo "$out"; cat "$TEST_DIR/err" >&2
expect_eq "view status" 0 "$st"
expect_match "not runnable before the registration" "^Exec format error$" "$out"
expect_match "entry as the kernel shows it" "^magic 7f454c460201010000000000000000000200b700$" "$out"
expect_match "F flag kept" "^flags: F$" "$out"
expect_match "runs directly through qemu" "^run: hello from aarch64$" "$out"
expect_match "exit status 0" "^status: 0$" "$out"
expect_match "runs through env" "^env: hello from aarch64$" "$out"
host_run=$(cd "$TEST_DIR" && ./hello-aarch64 2>&1; echo "status=$?")
if [ -z "$host_before" ] || ! grep -q qemu-aarch64 <<<"$host_before"; then
	expect_match "the host still cannot run it" "Exec format error" "$host_run"
fi
expect_eq "host binfmt_misc untouched" "$host_before" "$(ls -lA /proc/sys/fs/binfmt_misc 2>&1)"
finish
