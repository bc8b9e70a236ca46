#!/bin/bash
# A software build inside a cow view over a read-only source tree: a small
# Makefile project (two C files and a header), made read-only with
# chmod -R a-w, is built with make inside a view that mounts a cow layer
# over it, and the program runs there. Outside, the source tree is exactly
# as before (names, modes, contents) and the build's outputs are in the
# layer; a second view on the same layer sees them and `make` finds
# nothing left to do.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"
. "$HERE/viewfs-lib.sh"
require_fuse
require_overlay
command -v make >/dev/null || skip "make is not installed"
command -v cc >/dev/null || skip "no C compiler (cc)"

D=$TEST_DIR
mkdir -p src layer
cat > src/greet.h <<'EOF'
const char *greet(int n);
EOF
cat > src/greet.c <<'EOF'
#include <stdio.h>
#include "greet.h"
const char *greet(int n)
{
	static char buf[64];
	snprintf(buf, sizeof(buf), "built in a cow view, %d objects", n);
	return buf;
}
EOF
cat > src/main.c <<'EOF'
#include <stdio.h>
#include "greet.h"
int main(void)
{
	puts(greet(2));
	return 0;
}
EOF
printf 'hello: main.o greet.o\n\t$(CC) -o $@ main.o greet.o\n%%.o: %%.c greet.h\n\t$(CC) -O1 -c -o $@ $<\n' > src/Makefile
chmod -R a-w src
before=$(tree_sum src)
sums_before=$(cd src && find . -type f -exec md5sum {} + | sort)

out=$(vfs_run bash -c '
	D='"$D"'
	um_add_service viewfs || exit 10
	mount -t viewfs -o cow "$D/layer" "$D/src" || exit 11
	cd "$D/src" || exit 12
	make -s >"$D/make.log" 2>&1 || { cat "$D/make.log" >&2; exit 13; }
	./hello || exit 14
	ls | tr "\n" " "; echo
' 2>err)
st=$?
expect_eq "build view exit status" 0 "$st"
[ "$st" = 0 ] || cat err >&2
expect_eq "make and the program in the cow view" "built in a cow view, 2 objects
Makefile greet.c greet.h greet.o hello main.c main.o " "$out"
expect_eq "the source tree is unchanged (names, modes, sizes, contents)" "$before" "$(tree_sum src)"
expect_eq "the source files' checksums are unchanged" "$sums_before" "$(cd src && find . -type f -exec md5sum {} + | sort)"
expect_eq "the build's outputs are in the layer, not in the tree" "greet.o hello main.o|none" \
	"$(cd layer && ls | tr '\n' ' ' | sed 's/ $//')|$(ls src/*.o src/hello 2>/dev/null || echo none)"
[ -x layer/hello ] && expect_eq "the layer's program runs outside too" "built in a cow view, 2 objects" "$(layer/hello)"

out=$(vfs_run bash -c '
	D='"$D"'
	um_add_service viewfs || exit 10
	mount -t viewfs -o cow "$D/layer" "$D/src" || exit 11
	cd "$D/src" && make || exit 12
' 2>err)
st=$?
expect_eq "second build view exit status" 0 "$st"
[ "$st" = 0 ] || cat err >&2
expect_eq "a second view on the layer: nothing left to make" "make: 'hello' is up to date." "$out"
chmod -R u+w src 2>/dev/null
finish
