#!/bin/sh
# The service of vos_service(3)'s EXAMPLES, as printed in the page, builds
# with the compiler and headers given and, when the vos executable is
# given and the kernel lets it run a view, serves the session the page
# shows.
#   example.sh PAGE VOS|- CC [CFLAGS...]
page=$1 vos=$2
shift 2
case $vos in
-|/*) ;;
*) vos=$(cd "$(dirname "$vos")" && pwd)/$(basename "$vos") ;;
esac
dir=$(mktemp -d "${TMPDIR:-/tmp}/vos-man-example.XXXXXX") || exit 99
trap 'rm -rf "$dir"' EXIT

# The first .EX/.EE block after .SH EXAMPLES, with roff's escapes undone.
awk '/^\.SH EXAMPLES/ { ex = 1 } ex && /^\.EE/ { exit } ex && on { print } ex && /^\.EX/ { on = 1 }' "$page" |
	sed -e 's/\\-/-/g' -e "s/\\\\(aq/'/g" -e 's/\\(dq/"/g' -e 's/\\e/\\/g' > "$dir/demo.c"
grep -q 'VOS_SERVICE_DEFINE' "$dir/demo.c" || { echo "FAIL: no service example in $page"; exit 1; }
if ! "$@" -std=c11 -Wall -Wextra -Werror -shared -fPIC -o "$dir/demo.so" "$dir/demo.c"; then
	echo "FAIL: the example of $page does not compile"
	exit 1
fi
echo "ok: the example of $page compiles"
nm -D --defined-only "$dir/demo.so" | grep -q ' vos_service_entry$' ||
	{ echo "FAIL: demo.so does not export vos_service_entry"; exit 1; }

[ "$vos" != - ] || exit 0
"$vos" features >/dev/null 2>&1 || { echo "skip: this kernel cannot run a view (vos features)"; exit 77; }
cd "$dir" || exit 99
out=$(PATH=$(dirname "$vos"):$PATH VOS_SERVICE_PATH=$dir timeout 30 "$vos" run --native-cwd -- sh -c '
	um_add_service demo || exit 10
	um_ls_service
	mount -t demotext -o text=hi none "$PWD/greeting" || exit 11
	cat "$PWD/greeting"
	echo x > "$PWD/greeting" 2>/dev/null && echo written
	mount -t demotext -o colour=red none "$PWD/other" 2>/dev/null && echo mounted-other
	umount "$PWD/greeting" && um_del_service demo || exit 12
	echo done' 2>&1)
st=$?
want='demo: a demonstration service
hi
demotext: unknown option '"'colour'"'
done'
if [ "$st" != 0 ] || [ "$out" != "$want" ]; then
	printf 'FAIL: the example session (status %s):\n%s\n' "$st" "$out"
	exit 1
fi
echo "ok: the example serves the page's session"
