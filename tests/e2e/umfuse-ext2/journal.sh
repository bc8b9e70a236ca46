#!/bin/bash
# A journal that needs recovery (transactions written with debugfs): a
# read-only mount replays it in memory, as the kernel would, honouring
# revoke records and ignoring an uncommitted transaction, and leaves the
# image file untouched; a read-write mount is refused with one line.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"
. "$HERE/ext2-lib.sh"

printf 'old content\n' > old.txt
(printf 'new content\n'; head -c 4084 /dev/zero) > new.blk
(printf 'uncommitted\n'; head -c 4084 /dev/zero) > nc.blk

mkjimg() { # IMAGE DEBUGFS-JOURNAL-COMMANDS (with @B@ for the data block)
	mkimg "$1" 64M ext4 -b 4096 || return 1
	"$DEBUGFS" -w -R "write old.txt f" "$1" >/dev/null 2>&1 || return 1
	local b
	b=$("$DEBUGFS" -R "bmap f 0" "$1" 2>/dev/null) || return 1
	printf 'jo\n%s\njc\n' "${2//@B@/$b}" | "$DEBUGFS" -w -f - "$1" >/dev/null 2>&1
	"$DEBUGFS" -R "logdump" "$1" 2>/dev/null | grep -q "commit block" || return 1
}

mkjimg plain.img "jw -b @B@ new.blk" || fail "journal image (plain)"
mkjimg revoked.img "$(printf 'jw -b @B@ new.blk\njw -r @B@')" || fail "journal image (revoke)"
mkjimg uncommitted.img "$(printf 'jw -b @B@ new.blk\njw -c -b @B@ nc.blk')" || fail "journal image (uncommitted)"
sha256sum plain.img revoked.img uncommitted.img > before.sums

for img in plain revoked uncommitted; do
	: > "$E2LOG"
	out=$(ns_run 60 "
		e2mount $img.img mnt || exit 10
		echo content \$(cat mnt/f)
		e2umount mnt || exit 11
	" 2>&1)
	st=$?
	expect_eq "$img: read-only mount with a journal to replay" 0 "$st"
	expect_match "$img: says it replayed in memory" "journal replayed in memory" "$(cat "$E2LOG")"
	case $img in
	plain) want="new content" ;;
	revoked) want="old content" ;;
	uncommitted) want="new content" ;;
	esac
	expect_eq "$img: content after replay" "content $want" "$(grep ^content <<<"$out")"
done
sha256sum -c --quiet before.sums && ok "images not modified by read-only mounts" ||
	fail "a read-only mount modified an image"

: > "$E2LOG"
ns_run 30 "e2mount plain.img mnt -o rw+" >/dev/null 2>&1
st=$?
expect_one_line_error "rw+ with a journal to recover" "$(cat "$E2LOG")" "$st"
expect_match "rw+ refusal explains" "journal needs recovery" "$(cat "$E2LOG")"
sha256sum -c --quiet before.sums && ok "refused rw mount did not modify the image" ||
	fail "a refused rw mount modified the image"
finish
