#!/bin/bash
# A bounded, deterministic fuzz of corrupt images, read-only: random bytes,
# truncated images, and images whose superblock, group descriptors, inode
# table, directory blocks or extent/data blocks were mutated, on an ext4
# (metadata_csum) and an ext2 (no checksums) base. Each image either mounts
# or is refused with one line and a non-zero status; a mounted one is
# walked (stat, read, readlink, xattrs): only "sensible" errnos, no hang,
# no crash of the filesystem process, and the image file never changes.
# FUZZ_CASES (default 12 per mutation kind) and FUZZ_SEED change the run.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"
. "$HERE/ext2-lib.sh"
CASES=${FUZZ_CASES:-12}
SEED=${FUZZ_SEED:-5}

mkdir -p tree/dir/sub
for i in $(seq 20); do echo "file $i" > tree/dir/f$i; done
seq 1 30000 > tree/numbers
ln -s f1 tree/dir/fast
ln -s "$(printf 'x%.0s' $(seq 100))" tree/dir/slow
mkfifo tree/fifo
mkimg base4.img 8M ext4 -b 1024 -d tree -O metadata_csum || fail "mke2fs ext4"
mkimg base2.img 8M ext2 -b 1024 -d tree || fail "mke2fs ext2"
"$DEBUGFS" -w -R "ea_set /numbers user.k valuevalue" base4.img >/dev/null 2>&1

# Where the metadata is, from debugfs/dumpe2fs, for targeted mutations.
regions() { # IMAGE -> "kind start length" lines (bytes)
	local img=$1 it dirs ext
	it=$("$DEBUGFS" -R "stats" "$img" 2>/dev/null | awk '/Inode table at/ { sub(/-.*/, "", $4); print $4; exit }')
	echo "super 1024 1024"
	echo "gdt 2048 1024"
	[ -n "$it" ] && echo "itable $((it * 1024)) 8192"
	for d in / /dir /dir/sub; do
		for b in $("$DEBUGFS" -R "blocks $d" "$img" 2>/dev/null); do echo "dirblock $((b * 1024)) 1024"; done
	done
	for b in $("$DEBUGFS" -R "blocks /numbers" "$img" 2>/dev/null | tr ' ' '\n' | head -3); do
		echo "data $((b * 1024)) 1024"
	done
	ext=$("$DEBUGFS" -R "ex /numbers" "$img" 2>/dev/null | awk '$1 ~ /^0\// && $2 ~ /^0\// { print $8; exit }')
	[ -n "$ext" ] && echo "extent $((ext * 1024)) 1024"
}
regions base4.img > regions4
regions base2.img > regions2

cat > mutate.py <<'PY'
import os, random, sys
seed, ncases = int(sys.argv[1]), int(sys.argv[2])
rnd = random.Random(seed)
out = []
def emit(name, data):
    with open(f'cases/{name}.img', 'wb') as f:
        f.write(data)
    out.append(name)
os.makedirs('cases', exist_ok=True)
for base, regfile in (('base4', 'regions4'), ('base2', 'regions2')):
    img = open(f'{base}.img', 'rb').read()
    regions = {}
    for line in open(regfile):
        k, s, n = line.split()
        regions.setdefault(k, []).append((int(s), int(n)))
    for k, spans in regions.items():
        for i in range(ncases):
            b = bytearray(img)
            s, n = rnd.choice(spans)
            for _ in range(rnd.choice((1, 2, 4, 16, 64))):
                pos = s + rnd.randrange(n)
                if rnd.random() < 0.5:
                    b[pos] ^= 1 << rnd.randrange(8)
                else:
                    b[pos] = rnd.randrange(256)
            emit(f'{base}-{k}-{i}', bytes(b))
    for cut in (0, 100, 1024, 2048, 3000, 8192, 65536, len(img) // 2, len(img) - 1024):
        emit(f'{base}-trunc-{cut}', img[:cut])
for i in range(4):
    emit(f'random-{i}', rnd.randbytes(8 << 20))
    emit(f'random-sb-{i}', img[:1024] + rnd.randbytes(1024) + img[2048:])
print(len(out))
PY
n=$(python3 mutate.py "$SEED" "$CASES") || fail "generating cases"
echo "fuzz: $n corrupt images (seed $SEED)"
(cd cases && sha256sum *.img) > cases.sums

cat > drive.py <<'PY'
import errno, os, signal, subprocess, sys, time
EXT2FS = os.environ['EXT2FS']
BAD = {errno.ENOTCONN, errno.EFAULT, errno.ECONNABORTED, errno.ENOSYS, errno.EPROTO}
WALKER = r'''
import errno, os, sys
seen = set()
def note(e):
    seen.add(e.errno)
def walk(p, depth=0):
    if depth > 20:
        return
    try:
        names = os.listdir(p)
    except OSError as e:
        note(e); return
    for n in names[:500]:
        q = os.path.join(p, n)
        try:
            st = os.lstat(q)
        except OSError as e:
            note(e); continue
        try:
            os.listxattr(q, follow_symlinks=False)
            for a in os.listxattr(q, follow_symlinks=False):
                os.getxattr(q, a, follow_symlinks=False)
        except OSError as e:
            note(e)
        import stat as S
        try:
            if S.S_ISDIR(st.st_mode):
                walk(q, depth + 1)
            elif S.S_ISLNK(st.st_mode):
                os.readlink(q)
            elif S.S_ISREG(st.st_mode):
                with open(q, 'rb') as f:
                    f.read(1 << 20)
        except OSError as e:
            note(e)
try:
    os.statvfs(sys.argv[1])
except OSError as e:
    note(e)
walk(sys.argv[1])
print(' '.join(errno.errorcode.get(e, str(e)) for e in sorted(seen)))
'''
def is_mounted(path):
    path = os.path.abspath(path)
    with open('/proc/self/mountinfo') as f:
        return any(l.split()[4] == path for l in f)
fails = 0
stats = {'mounted': 0, 'refused': 0}
def fail(msg):
    global fails
    fails += 1
    print('FAIL:', msg, flush=True)
for name in sys.argv[1:]:
    img = f'cases/{name}.img'
    if not os.path.isdir('fmnt'):
        os.mkdir('fmnt')
    p = subprocess.Popen([EXT2FS, img, 'fmnt', '-f'], stderr=subprocess.PIPE, text=True)
    mounted = False
    for _ in range(200):
        if is_mounted('fmnt'):
            mounted = True
            break
        if p.poll() is not None:
            break
        time.sleep(0.02)
    if not mounted:
        try:
            err = p.communicate(timeout=10)[1]
        except subprocess.TimeoutExpired:
            p.kill(); fail(f'{name}: neither mounted nor exited'); continue
        lines = [l for l in err.splitlines() if l.strip()]
        if p.returncode == 0 or len(lines) != 1:
            fail(f'{name}: refused with status {p.returncode} and {len(lines)} lines: {err!r}')
        stats['refused'] += 1
        continue
    stats['mounted'] += 1
    try:
        w = subprocess.run([sys.executable, '-c', WALKER, 'fmnt'], capture_output=True, text=True, timeout=20)
        errs = w.stdout.split()
        bad = [e for e in errs if getattr(errno, e, None) in BAD]
        if w.returncode != 0 or bad:
            fail(f'{name}: walk status {w.returncode}, errnos {errs} {w.stderr[-200:]!r}')
    except subprocess.TimeoutExpired:
        fail(f'{name}: walking the mount hung')
    subprocess.run(['umount', '-l', 'fmnt'])
    try:
        p.wait(timeout=10)
        if p.returncode != 0:
            fail(f'{name}: filesystem process ended with {p.returncode}: {p.stderr.read()[-300:]!r}')
    except subprocess.TimeoutExpired:
        p.kill(); p.wait()
        fail(f'{name}: filesystem process did not exit after umount')
print(f"mounted {stats['mounted']} refused {stats['refused']} failures {fails}", flush=True)
sys.exit(1 if fails else 0)
PY
out=$(ns_run 900 "python3 drive.py $(cd cases && ls | sed 's/\.img$//' | tr '\n' ' ')" 2>&1)
st=$?
echo "$out" | grep -v '^FAIL' | tail -1
echo "$out" | grep '^FAIL' | head -20 >&2
expect_eq "every corrupt image mounted cleanly or was refused with one line" 0 "$st"
(cd cases && sha256sum -c --quiet ../cases.sums) && ok "no image changed by a read-only mount" ||
	fail "a read-only mount changed an image"
finish
