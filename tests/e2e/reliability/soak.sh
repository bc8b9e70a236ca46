#!/bin/bash
# Soak (meson -Dlong_tests=true; VOS_SOAK_SECONDS, default 300, at most
# 600): several views at once for the whole time, each looping a mixed
# workload, every result checked at the end:
#  - umdev + umfuseext2: an image partitioned with sfdisk (umdevmbr),
#    mkfs.ext4 on the partition, mounted rw+; files written, some deleted,
#    synced; afterwards e2fsck -fn is clean and a new view finds every
#    surviving file with its checksum;
#  - viewfs cow over a read-only tree (plus an umdevramdisk with dd/md5):
#    appends, new files, deletions; afterwards a new view mounting the same
#    layer sees exactly that state, and the host tree is unchanged;
#  - umnet: two virtual stacks of one view on a VDE switch (10.0.0.1 and
#    10.0.0.2, the view's own namespaces), TCP transfers with checksums.
# Supervisor fds are sampled in each view at the start and at the end.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"
require_fuse
SECONDS_WANTED=${VOS_SOAK_SECONDS:-300}
[ "$SECONDS_WANTED" -le 600 ] 2>/dev/null || { echo "VOS_SOAK_SECONDS must be a number <= 600"; exit 1; }
export PATH="$PATH:/sbin:/usr/sbin"
for t in sfdisk mkfs.ext4 e2fsck md5sum vde_plug ip nc; do
	command -v "$t" >/dev/null || skip "$t is not installed"
done
[ -r /dev/net/tun ] && [ -w /dev/net/tun ] || skip "/dev/net/tun is not usable by $(id -un)"
B=$VOS_BUILD_ROOT
export VOS_SERVICE_PATH="$B/services/umdev:$B/services/umfuse:$B/services/umfuse/ext2:$B/services/viewfs:$B/services/umnet:$VOS_SERVICE_PATH"
D=$TEST_DIR
end=$(($(date +%s) + SECONDS_WANTED))
echo "soak: $SECONDS_WANTED s"

# ---- view 1: umdevmbr + umfuseext2 ----
truncate -s 256M disk.img
touch hd hd1 hd2 hd3 hd4
mkdir mnt
cat > ext.sh <<EOF2
set -u
um_add_service umdev && um_add_service umfuse || exit 10
mount -t umdevmbr $D/disk.img $D/hd || exit 11
echo 'start=2048, type=83' | sfdisk -q $D/hd || exit 12
mkfs.ext4 -q -F $D/hd1 || exit 13
mount -t umfuseext2 -o rw+ $D/hd1 $D/mnt || exit 14
echo "ext fds start \$(ls /proc/\$PPID/fd | wc -l)"
i=0
while [ \$(date +%s) -lt $end ]; do
	i=\$((i + 1))
	mkdir -p $D/mnt/d\$((i % 10))
	f=d\$((i % 10))/f\$i
	head -c \$(( (RANDOM % 256 + 1) * 1024 )) /dev/urandom > $D/mnt/\$f || { echo "write \$f failed"; exit 15; }
	echo "\$(md5sum < $D/mnt/\$f | cut -d' ' -f1) \$f" >> $D/ext.sums
	# holes (every 5th file goes soon) and a bound (at most 200 files)
	for gone in \$([ \$((i % 5)) = 0 ] && echo \$((i - 3))) \$([ \$i -gt 200 ] && echo \$((i - 200))); do
		old=d\$((gone % 10))/f\$gone
		[ -e $D/mnt/\$old ] || continue
		rm $D/mnt/\$old && grep -v " \$old\\\$" $D/ext.sums > $D/ext.sums.new && mv $D/ext.sums.new $D/ext.sums
	done
	[ \$((i % 20)) = 0 ] && sync
done
echo "ext fds end \$(ls /proc/\$PPID/fd | wc -l)"
echo "ext iterations \$i"
umount $D/mnt || exit 16
EOF2
start timeout $((SECONDS_WANTED + 120)) "$VOS" run -- bash ext.sh > ext.out 2>&1
ext_view=$LAST_PID

# ---- view 2: viewfs cow + umdevramdisk ----
# (--native-cwd: a layer must sit on a real filesystem, not on the
# working-directory layer, see viewfs(7))
mkdir -p lower layer
cp -r /usr/include/linux lower/ 2>/dev/null || { mkdir -p lower/linux; seq 1 10000 > lower/linux/numbers; }
chmod -R a-w lower
lower_before=$(cd lower && find . -type f -print0 | sort -z | xargs -0 md5sum | md5sum)
touch rd
cat > cow.sh <<EOF2
set -u
um_add_service viewfs && um_add_service umdev || exit 20
mount -t viewfs -o cow $D/layer $D/lower || exit 21
mount -t umdevramdisk -o size=64M none $D/rd || exit 22
echo "cow fds start \$(ls /proc/\$PPID/fd | wc -l)"
files=(\$(cd $D/lower && find . -type f | head -200))
i=0
while [ \$(date +%s) -lt $end ]; do
	i=\$((i + 1))
	f=\${files[\$((RANDOM % \${#files[@]}))]}
	case \$((i % 4)) in
	0) [ -e $D/lower/\$f ] && echo "line \$i" >> $D/lower/\$f ;;
	1) echo "new \$i" > $D/lower/new\$i ;;
	2) rm -f $D/lower/new\$((i - 5)) ;;
	3) head -c 1M /dev/urandom > $D/rd.data; at=\$((RANDOM % 1000))
	   dd if=$D/rd.data of=$D/rd bs=64k seek=\$at conv=notrunc status=none
	   dd if=$D/rd bs=64k skip=\$at count=16 status=none | cmp -s - $D/rd.data || echo "ramdisk mismatch" ;;
	esac
done
(cd $D/lower && find . -type f -print0 | sort -z | xargs -0 md5sum) > $D/cow.want
echo "cow fds end \$(ls /proc/\$PPID/fd | wc -l)"
echo "cow iterations \$i"
EOF2
start timeout $((SECONDS_WANTED + 120)) "$VOS" run --native-cwd -- bash cow.sh > cow.out 2>&1
cow_view=$LAST_PID

# ---- view 3: umnet over a VDE switch ----
mkdir run
start vde_plug null:// "switch://$D/sw"
for _ in $(seq 50); do [ -e "$D/sw/ctl" ] && break; sleep 0.1; done
cat > net.sh <<EOF2
set -u
um_add_service umnet || exit 30
mount -t umnetvde -o vde=vde://$D/sw none /dev/net/a || exit 31
mount -t umnetvde -o vde=vde://$D/sw none /dev/net/b || exit 32
mstack /dev/net/a ip addr add 10.0.0.1/24 dev vde0 && mstack /dev/net/a ip link set vde0 up || exit 33
mstack /dev/net/b ip addr add 10.0.0.2/24 dev vde0 && mstack /dev/net/b ip link set vde0 up || exit 34
echo "net fds start \$(ls /proc/\$PPID/fd | wc -l)"
i=0 good=0
while [ \$(date +%s) -lt $end ]; do
	i=\$((i + 1))
	head -c \$(( (RANDOM % 2048 + 1) * 1024 )) /dev/urandom > $D/net.data
	mstack /dev/net/b timeout 20 nc -l -N 10.0.0.2 5000 > $D/net.recv &
	l=\$!
	for t in \$(seq 50); do mstack /dev/net/a timeout 20 nc -N 10.0.0.2 5000 < $D/net.data 2>/dev/null && break; sleep 0.1; done
	wait \$l
	cmp -s $D/net.data $D/net.recv && good=\$((good + 1)) || echo "transfer \$i differs"
done
echo "net fds end \$(ls /proc/\$PPID/fd | wc -l)"
echo "net transfers \$good of \$i"
EOF2
cd run && start timeout $((SECONDS_WANTED + 120)) "$VOS" run -- bash "$D/net.sh" > "$D/net.out" 2>&1
net_view=$LAST_PID
cd "$D" || exit 99

wait "$ext_view"; expect_eq "ext view: status" 0 $?
wait "$cow_view"; expect_eq "cow view: status" 0 $?
step $((SECONDS_WANTED + 150)) tail --pid="$net_view" -f /dev/null
cat ext.out cow.out net.out | sed 's/^/  /'

# view 1, checked
expect_match "ext view: iterations" "^ext iterations [1-9]" "$(cat ext.out)"
grep -q "failed" ext.out && fail "ext view: $(grep failed ext.out)"
read -r start count < <(sfdisk -d disk.img | awk -F'[=,]' '/disk.img1/ {gsub(/ /,""); print $2, $4}')
dd if=disk.img of=part.img bs=512 skip="$start" count="$count" status=none
fsck=$(e2fsck -fn part.img 2>&1); st=$?
expect_eq "e2fsck -fn of the soaked partition is clean ($(tail -1 <<<"$fsck"))" 0 "$st"
sort -k2 ext.sums > ext.want
out=$(vos_run -- bash -c "
	um_add_service umfuse || exit 1
	mount -t umfuseext2 $D/part.img $D/mnt || exit 2
	cd $D/mnt && find . -type f -path './d*' | sed 's|^\./||' | sort | while read -r f; do echo \"\$(md5sum < \$f | cut -d' ' -f1) \$f\"; done
" 2>&1 | sort -k2)
expect_eq "every surviving file on the ext4 partition has its checksum ($(wc -l < ext.want) files)" "$(cat ext.want)" "$out"

# view 2, checked
expect_match "cow view: iterations" "^cow iterations [1-9]" "$(cat cow.out)"
grep -q "mismatch" cow.out && fail "cow view: $(grep -c mismatch cow.out) ramdisk mismatches"
got=$(vos_run --native-cwd -- bash -c "
	um_add_service viewfs || exit 1
	mount -t viewfs -o cow $D/layer $D/lower || exit 2
	cd $D/lower && find . -type f -print0 | sort -z | xargs -0 md5sum
" 2>&1)
expect_eq "a new view on the same cow layer sees the soaked state" "$(cat cow.want)" "$got"
expect_eq "the host tree under the cow mount is unchanged" "$lower_before" \
	"$(cd lower && find . -type f -print0 | sort -z | xargs -0 md5sum | md5sum)"

# view 3, checked
net=$(grep "^net transfers" net.out)
expect_match "umnet: every transfer arrived intact" "^net transfers ([1-9][0-9]*) of \\1$" "$net"

# fds: at most a few more at the end than at the start, in every view
for v in ext cow net; do
	a=$(awk -v v=$v '$1 == v && $3 == "start" {print $4}' $v.out)
	b=$(awk -v v=$v '$1 == v && $3 == "end" {print $4}' $v.out)
	if [ -n "$a" ] && [ -n "$b" ] && [ "$b" -le $((a + 8)) ]; then
		ok "$v view: supervisor fds $a at the start, $b at the end"
	else
		fail "$v view: supervisor fds grew: $a -> $b"
	fi
done
finish
