#!/bin/bash
# A directory of 65,000 entries: created through the mount, then (fresh
# mounts, nothing cached by the kernel) listed, and every entry stat'ed by
# name; the same after e2fsck -D has turned it into an HTREE. Times are
# printed, not asserted; the listing, the lookups and e2fsck must be right.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"
. "$HERE/ext2-lib.sh"
N=${BIGDIR_ENTRIES:-65000}

mkimg big.img 256M ext4 -b 4096 -N $((N + 5000)) || fail "mke2fs"
cat > mk.py <<PY
import os, sys, time
M = sys.argv[1]
os.mkdir(f'{M}/big')
t = time.monotonic()
for i in range($N):
    os.close(os.open(f'{M}/big/f{i:05d}', os.O_CREAT | os.O_WRONLY, 0o644))
print(f'create {time.monotonic() - t:.2f}', flush=True)
# churn: the name cache must follow unlink, rename and create
for i in range(0, 100):
    os.unlink(f'{M}/big/f{i:05d}')
for i in range(100, 200):
    os.rename(f'{M}/big/f{i:05d}', f'{M}/big/r{i:05d}')
for i in range(0, 50):
    open(f'{M}/big/f{i:05d}', 'w').close()
PY
cat > walk.py <<PY
import os, sys, time
M = sys.argv[1]
t = time.monotonic()
names = os.listdir(f'{M}/big')
tl = time.monotonic() - t
t = time.monotonic()
ok = 0
for i in range($N):
    for n in (f'f{i:05d}', f'r{i:05d}'):
        try:
            os.lstat(f'{M}/big/{n}')
            ok += 1
        except FileNotFoundError:
            pass
ts = time.monotonic() - t
print(f'list {len(names)} {tl:.2f} stat {ok} {ts:.2f}', flush=True)
PY
out=$(ns_run 600 "
	e2mount big.img mnt -o rw+ || exit 10
	python3 mk.py mnt || exit 11
	e2umount mnt || exit 12
	e2mount big.img mnt || exit 13
	python3 walk.py mnt || exit 14
	start=\$(date +%s.%N); ls -l mnt/big > /dev/null; end=\$(date +%s.%N)
	echo \"lsl \$start \$end\"
	e2umount mnt || exit 15
" 2>&1)
st=$?
expect_eq "linear directory session ($out)" 0 "$st"
want=$((N - 100 + 50))
expect_match "all entries listed and found by name" "^list $want .* stat $want " "$out"
fsck_clean "linear directory" big.img
echo "linear $N: $(grep ^create <<<"$out"); $(grep ^list <<<"$out") s;" \
	"ls -l $(awk '/^lsl/ { printf "%.2f", $3 - $2 }' <<<"$out") s"

step 120 "$E2FSCK" -fyD big.img >/dev/null 2>&1
out=$(ns_run 300 "
	e2mount big.img mnt || exit 13
	python3 walk.py mnt || exit 14
	e2umount mnt || exit 15
	e2mount big.img mnt -o rw+ || exit 16
	for i in 1 2 3; do echo x > mnt/big/new\$i || exit 17; done
	rm mnt/big/f00500 || exit 18
	ls mnt/big | wc -l
	e2umount mnt || exit 19
" 2>&1)
st=$?
expect_eq "indexed directory session ($out)" 0 "$st"
expect_match "indexed: all entries listed and found by name" "^list $want .* stat $want " "$out"
expect_match "indexed: create and unlink" "^$((want + 3 - 1))$" "$out"
fsck_clean "indexed directory after changes" big.img
echo "htree $N: $(grep ^list <<<"$out") s"
finish
