#!/bin/bash
# UmFUSE human mode (-o human,uid=N,gid=N: permission checks as that user,
# as the kernel's ext4 would do them) versus the default omnipotent mode
# (no permission checks): a 0600 file of another uid, search permission on
# path prefixes, sticky directories, chown/chgrp/chmod/utimes by a
# non-owner, SUID/SGID cleared on write. As root, also human mode with the
# caller's own identity.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"
. "$HERE/ext2-lib.sh"

mkimg h.img 64M ext4 || fail "mke2fs"
echo "top secret" > secret.txt
echo "#!/bin/sh" > prog.txt
cat > setup.debugfs <<'DBG'
sif / uid 0
sif / gid 0
write secret.txt secret
sif secret uid 1234
sif secret gid 1234
sif secret mode 0100600
mkdir private
sif private uid 1234
sif private gid 0
sif private mode 040700
write secret.txt private/inside
sif private/inside mode 0100644
mkdir sticky
sif sticky uid 0
sif sticky gid 0
sif sticky mode 041777
write secret.txt sticky/theirs
sif sticky/theirs uid 0
sif sticky/theirs gid 0
write secret.txt sticky/mine
sif sticky/mine uid 1000
sif sticky/mine gid 1000
write prog.txt suid
sif suid uid 0
sif suid gid 0
sif suid mode 0106777
write secret.txt rootfile
sif rootfile uid 0
sif rootfile gid 0
sif rootfile mode 0100644
write secret.txt mine
sif mine uid 1000
sif mine gid 1000
sif mine mode 0100644
mkdir rootdir
sif rootdir uid 0
sif rootdir gid 0
sif rootdir mode 040755
DBG
step 30 "$DEBUGFS" -w -f setup.debugfs h.img >/dev/null 2>&1 || fail "debugfs setup"

cat > probe.py <<'PY'
import errno, os, sys
M = sys.argv[1]
def r(name, f, *a):
    try:
        f(*a)
        res = 'ok'
    except OSError as e:
        res = errno.errorcode.get(e.errno, str(e.errno))
    print(name, res, flush=True)
r('read-0600-other', lambda: open(f'{M}/secret').read())
r('stat-through-0700-dir', os.stat, f'{M}/private/inside')
r('list-0700-dir', os.listdir, f'{M}/private')
r('unlink-sticky-theirs', os.unlink, f'{M}/sticky/theirs')
r('unlink-sticky-mine', os.unlink, f'{M}/sticky/mine')
r('chmod-not-owner', os.chmod, f'{M}/rootfile', 0o600)
r('utime-not-owner', os.utime, f'{M}/rootfile', (1, 1))
r('chown-not-owner', os.chown, f'{M}/rootfile', 0, -1)
r('create-in-rootdir', lambda: open(f'{M}/rootdir/x', 'w'))
r('chown-give-away', os.chown, f'{M}/mine', 0, -1)
r('chgrp-not-member', os.chown, f'{M}/mine', -1, 0)
r('chgrp-own-group', os.chown, f'{M}/mine', -1, 1000)
with open(f'{M}/suid', 'a') as f:
    f.write('echo hi\n')
print('suid-after-write', oct(os.stat(f'{M}/suid').st_mode & 0o7777), flush=True)
PY

sess() { # OPTIONS
	ns_run 60 "
		e2mount h.img mnt $1 || exit 10
		python3 probe.py mnt
		e2umount mnt || exit 11
	"
}
cp h.img h0.img
: > "$E2LOG"
human=$(sess "-o rw+,human,uid=1000,gid=1000" 2>&1); st=$?
expect_eq "human mode session" 0 "$st"
expect_match "prints UmFUSE Human mode" "^UmFUSE Human mode$" "$(cat "$E2LOG")"
hl() { grep "^$1 " <<<"$human" | cut -d' ' -f2; }
expect_eq "human: 0600 file of uid 1234 is not readable" EACCES "$(hl read-0600-other)"
expect_eq "human: no search permission on a path prefix" EACCES "$(hl stat-through-0700-dir)"
expect_eq "human: 0700 directory of another user is not listable" EACCES "$(hl list-0700-dir)"
expect_eq "human: sticky directory protects another user's file" EPERM "$(hl unlink-sticky-theirs)"
expect_eq "human: chmod by a non-owner" EPERM "$(hl chmod-not-owner)"
expect_eq "human: setting times by a non-owner" EPERM "$(hl utime-not-owner)"
expect_eq "human: chown by a non-owner" EPERM "$(hl chown-not-owner)"
expect_eq "human: create in a directory without write permission" EACCES "$(hl create-in-rootdir)"
expect_eq "human: write by a non-owner clears SUID and SGID" 0o777 "$(hl suid-after-write)"
# In a user namespace only uid 0 is mapped: the kernel itself refuses
# operations on inodes owned by uid 1000 before they reach the filesystem.
if [ "$(id -u)" -eq 0 ]; then
	expect_eq "human: own file in a sticky directory can go" ok "$(hl unlink-sticky-mine)"
	expect_eq "human: giving a file away" EPERM "$(hl chown-give-away)"
	expect_eq "human: chgrp to a group one is not in" EPERM "$(hl chgrp-not-member)"
	expect_eq "human: chgrp to one's own group" ok "$(hl chgrp-own-group)"
else
	echo "note: owner-side chown/chgrp and sticky checks run only as root (unmapped uid 1000)"
fi
fsck_clean "after human mode" h.img

cp h0.img h.img
: > "$E2LOG"
omni=$(sess "-o rw+" 2>&1); st=$?
expect_eq "omnipotent session" 0 "$st"
grep -q "Human mode" "$E2LOG" && fail "omnipotent mode printed the human mode message"
ol() { grep "^$1 " <<<"$omni" | cut -d' ' -f2; }
expect_eq "omnipotent: 0600 file of uid 1234 is readable" ok "$(ol read-0600-other)"
expect_eq "omnipotent: path prefixes not checked" ok "$(ol stat-through-0700-dir)"
expect_eq "omnipotent: sticky directory not enforced" ok "$(ol unlink-sticky-theirs)"
expect_eq "omnipotent: chmod allowed" ok "$(ol chmod-not-owner)"
fsck_clean "after omnipotent mode" h.img

# Human mode with the caller's own identity needs other users on the mount
# (allow_other), which only real root can arrange here.
SYSPY=$(ls /usr/bin/python3 /bin/python3 2>/dev/null | head -1)
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null && [ -n "$SYSPY" ]; then
	cp h0.img h.img
	caller=$(ns_run 60 "
		e2mount h.img mnt -o rw+,human,allow_other || exit 10
		echo root \$(cat mnt/secret)
		setpriv --reuid 1000 --regid 1000 --clear-groups $SYSPY probe.py mnt
		e2umount mnt || exit 11
	" 2>&1); st=$?
	expect_eq "human mode as the caller" 0 "$st"
	cl() { grep "^$1 " <<<"$caller" | cut -d' ' -f2-; }
	expect_eq "human (caller): root reads the 0600 file" "top secret" "$(cl root)"
	expect_eq "human (caller): uid 1000 cannot" EACCES "$(cl read-0600-other)"
	expect_eq "human (caller): uid 1000 sticky rule" EPERM "$(cl unlink-sticky-theirs)"
	expect_eq "human (caller): SUID cleared" 0o777 "$(cl suid-after-write)"
	expect_eq "human (caller): giving a file away" EPERM "$(cl chown-give-away)"
	fsck_clean "after human mode as the caller" h.img
else
	echo "note: human mode with the caller's identity is checked only as root"
fi
[ "$FAILURES" -ne 0 ] && printf '%s\n' "$human" "$omni" "${caller:-}"
finish
