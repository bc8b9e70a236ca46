# SPDX-License-Identifier: GPL-2.0-or-later
# Sourced by the umbinfmt tests after lib.sh: UMBINFMT_MODE selects how
# umbinfmt serves binfmt_misc, and UMBINFMT_OPTS is what follows
# `um_add_service umbinfmt` in the views.
#   kernel (default): the kernel's binfmt_misc in the view's user namespace
#          (Linux >= 6.7); the plain `um_add_service umbinfmt` of the seed.
#   trap:  mode=trap, umbinfmt's own directory and exec interception by the
#          supervisor: what kernels before 6.7 get (x86_64 only).
UMBINFMT_MODE=${UMBINFMT_MODE:-kernel}
case $UMBINFMT_MODE in
kernel)
	"$VOS" features | grep -Eq '^binfmt_misc in user namespaces +yes' ||
		skip "binfmt_misc in user namespaces needs Linux >= 6.7 (vos features says no)"
	UMBINFMT_OPTS=
	;;
trap)
	[ "$(uname -m)" = x86_64 ] || skip "umbinfmt mode=trap (exec interception) is implemented on x86_64 only"
	UMBINFMT_OPTS=,mode=trap
	# Views trap exec only when asked (or on kernels before 6.7).
	export VOS_TRAP_EXEC=1
	;;
*)
	echo "UMBINFMT_MODE must be kernel or trap (got '$UMBINFMT_MODE')" >&2
	exit 99
	;;
esac
