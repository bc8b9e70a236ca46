#!/bin/bash
# Data durability (issue 10): umfuseext2 and viewfs cow never lose fsync'ed
# data. In one view, an ext4 image mounted with umfuseext2 -o rw+ and a
# viewfs cow layer over a directory; a writer in each writes files of
# random content and fsyncs each, recording its md5 in a list outside the
# mounts only after fsync returned, then goes on writing without fsync.
# The supervisor (embedded, or vosd's worker) is killed with SIGKILL
# mid-write; once the view is gone:
#  - e2fsck -fn of the image is clean, or reports only what an unclean stop
#    may leave (orphan inodes, free block/inode counts), nothing else;
#  - every listed file of the image has its checksum (read with debugfs,
#    and again through umfuseext2 in a new view);
#  - every listed file of the cow layer has its checksum, in the layer and
#    through a new view mounting it.
# A second round runs the cow through fuse-overlayfs (-o cow,fuse: what
# unprivileged views over others' trees use), when it is installed.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"
. "$HERE/../umfuse-ext2/ext2-lib.sh"
. "$HERE/../viewfs/viewfs-lib.sh"
[ -e "$VOS_BUILD_ROOT/services/umfuse/umfuse.so" ] || skip "umfuse service not built"
[ -e "$UMFUSEEXT2" ] || skip "umfuseext2.so not built"
[ -e "$VOS_BUILD_ROOT/services/viewfs/viewfs.so" ] || skip "viewfs service not built"
require_overlay
export VOS_SERVICE_PATH="$VOS_BUILD_ROOT/services/umfuse:$VOS_SERVICE_PATH"
T=$TEST_DIR
N=12

# writer.py DIR LIST N: N fsync'ed files, each listed (md5, name) once
# fsync returned; then unsynced writes until killed. No file is closed
# (a close flushes too): only fsync stands between the data and the kill.
cat > writer.py <<'EOF'
import hashlib, os, sys
d, listfile, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
keep = []
with open(listfile, "a") as lst:
    for i in range(n):
        data = os.urandom(4096 + (i * 37813) % 300000)
        name = "synced-%02d" % i
        fd = os.open(os.path.join(d, name), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.write(fd, data)
        os.fsync(fd)
        keep.append(fd)
        lst.write("%s  %s\n" % (hashlib.md5(data).hexdigest(), name))
        lst.flush()
        os.fsync(lst.fileno())
        # unsynced traffic between the synced files
        u = os.open(os.path.join(d, "unsynced-%02d" % i), os.O_WRONLY | os.O_CREAT, 0o644)
        os.write(u, os.urandom(65536))
        keep.append(u)
    open(listfile + ".done", "w").close()
    i = 0
    while True:
        u = os.open(os.path.join(d, "busy-%d" % (i % 8)), os.O_WRONLY | os.O_CREAT, 0o644)
        os.pwrite(u, os.urandom(131072), 0)
        keep.append(u)
        if len(keep) > 200:
            os.close(keep.pop(2 * n))
        i += 1
EOF

# fsck_after_crash IMAGE: e2fsck -fn's findings, each line either a pass
# header/summary or one an unclean stop may leave; prints the others.
fsck_unexpected() {
	step 60 "$E2FSCK" -fn "$1" 2>&1 | grep -vE \
		'^e2fsck [0-9.]+ \(|^Pass [1-5][a-z]?: |^Warning: skipping journal recovery|was not cleanly unmounted, check forced|^Free (blocks|inodes) count wrong( for group #[0-9]+)? \([0-9]+, counted=[0-9]+\)\.$|^Fix\? no$|^Clear\? no$|^$|[Oo]rphan|^.*: \*+ WARNING: Filesystem still has errors \*+$|^.*: [0-9]+/[0-9]+ files \(.*\), [0-9]+/[0-9]+ blocks$'
}

for variant in cow cow,fuse; do
	if [ "$variant" = cow,fuse ] && ! command -v fuse-overlayfs >/dev/null; then
		echo "skip: cow,fuse needs fuse-overlayfs"
		continue
	fi
	tag=${variant#*,}
	rm -rf m host layer .layer.viewfs-work lists && mkdir -p m host layer lists
	echo base > host/base
	mkimg img 64M ext4 || fail "mke2fs"
	cd /
	start "$VOS" run --native-cwd --on-supervisor-death=kill -- bash -c '
		T='"$T"'
		um_add_service umfuse || exit 10
		um_add_service viewfs || exit 11
		mount -t umfuseext2 -o rw+ $T/img $T/m || exit 12
		mount -t viewfs -o '"$variant"' $T/layer $T/host || exit 13
		python3 $T/writer.py $T/m $T/lists/ext2 '"$N"' & echo $! > $T/lists/w1.pid
		python3 $T/writer.py $T/host $T/lists/cow '"$N"' & echo $! > $T/lists/w2.pid
		wait' 2>"$T/view.err"
	vos_pid=$LAST_PID
	cd "$T"
	for _ in $(seq 300); do
		[ -e lists/ext2.done ] && [ -e lists/cow.done ] && break
		kill -0 "$vos_pid" 2>/dev/null || break
		sleep 0.1
	done
	if ! [ -e lists/ext2.done ] || ! [ -e lists/cow.done ]; then
		fail "$tag: the writers did not finish their fsync'ed files: $(cat view.err)"
		kill -KILL "$vos_pid" 2>/dev/null
		continue
	fi
	sleep 0.3 # unsynced writes in flight
	w1=$(cat lists/w1.pid) w2=$(cat lists/w2.pid)
	# The supervisor: `vos run` itself, or with vosd (meson test --setup
	# daemon) the worker that vosd forked for this user.
	sup=$vos_pid restart_vosd=
	if [ -n "${VOSD_PID:-}" ]; then
		sup=$(pgrep -P "$VOSD_PID" | head -n 1)
		# root's views are served by vosd itself: kill it, start another
		[ -n "$sup" ] || { sup=$VOSD_PID restart_vosd=1; }
	fi
	kill -KILL "$sup"
	if [ -n "$restart_vosd" ]; then
		wait "$VOSD_PID" 2>/dev/null
		rm -f "$VOS_SOCKET"
		VOSD_PID=
		start_vosd
	fi
	gone=0
	for _ in $(seq 100); do
		if ! kill -0 "$w1" 2>/dev/null && ! kill -0 "$w2" 2>/dev/null && ! pgrep -f "$T/layer" >/dev/null; then
			gone=1
			break
		fi
		sleep 0.05
	done
	expect_eq "$tag: the view died with its supervisor" 1 "$gone"
	wait "$vos_pid" 2>/dev/null

	expect_eq "$tag: $N fsync'ed files listed for each mount" "$N $N" "$(wc -l < lists/ext2) $(wc -l < lists/cow)"
	echo "$tag: e2fsck -fn after kill -9 exits $(step 60 "$E2FSCK" -fn img >/dev/null 2>&1; echo $?)"
	unexpected=$(fsck_unexpected img)
	expect_eq "$tag: e2fsck -fn after kill -9: clean, or only orphan/free-count fixes" "" "$unexpected"

	# The image's files, read by debugfs (no vos involved).
	rm -rf dump && mkdir dump
	awk -v d="$T/dump" '{ printf "dump /%s %s/%s\n", $2, d, $2 }' lists/ext2 > dump.cmds
	step 60 "$DEBUGFS" -f dump.cmds img >/dev/null 2>&1
	bad=$(cd dump && md5sum -c --quiet ../lists/ext2 2>&1)
	expect_eq "$tag: every fsync'ed file of the image has its checksum (debugfs)" "" "$bad"
	bad=$(cd layer && md5sum -c --quiet ../lists/cow 2>&1)
	expect_eq "$tag: every fsync'ed file of the cow layer has its checksum" "" "$bad"

	# And as a new view sees them: the image mounted again, the layer remounted.
	out=$(vos_run --native-cwd -- bash -c '
		T='"$T"'
		um_add_service umfuse || exit 10
		um_add_service viewfs || exit 11
		mount -t umfuseext2 $T/img $T/m || exit 12
		mount -t viewfs -o '"$variant"' $T/layer $T/host || exit 13
		(cd $T/m && md5sum -c --quiet $T/lists/ext2) || exit 14
		(cd $T/host && md5sum -c --quiet $T/lists/cow) || exit 15
		cat $T/host/base
	' 2>&1)
	expect_eq "$tag: a new view reads every fsync'ed file back" "base" "$out"
	expect_eq "$tag: the cow's lower directory is untouched" "base" "$(ls host)"
done
finish
