#!/bin/sh
# Every man page in the directory $1 renders without a single groff
# warning (groff -ww).
status=0
for page in "$1"/*.[0-9]; do
	# A ".so manN/PAGE" redirect: its target must be one of ours.
	target=$(sed -n '1s/^\.so //p' "$page")
	if [ -n "$target" ]; then
		if [ -f "$1/${target##*/}" ]; then echo "ok: $page (.so $target)"; else echo "FAIL: $page: .so $target: no such page"; status=1; fi
		continue
	fi
	out=$(groff -ww -man -z "$page" 2>&1)
	if [ -n "$out" ]; then
		echo "FAIL: $page:"
		echo "$out"
		status=1
	else
		echo "ok: $page"
	fi
done
exit $status
