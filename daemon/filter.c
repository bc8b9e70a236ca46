/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "filter.h"

#include <errno.h>

#include "../libvos/control-proto.h"
#include "ioctl-trap.h"

const char *const filter_trapped_syscalls[] = {
	"mount",
	"umount2",
	"fsopen",
	"fsmount",
	"fspick",
	"move_mount",
	"open_tree",
	"mount_setattr",
	"socket",         /* umnet: the default stack (netstack.c) */
	"setns",          /* umnet: refused while the default stack is permanent */
	"unshare",
	"io_uring_setup",
};
const size_t filter_trapped_syscalls_count = sizeof(filter_trapped_syscalls) / sizeof(filter_trapped_syscalls[0]);

int filter_build(scmp_filter_ctx *ret)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	if (!ctx)
		return -ENOMEM;

	/* libseccomp adds only the native ABI; anything else (ia32 via int
	 * 0x80, x32 syscall numbers) takes the bad-arch action. */
	int r = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
	if (r == 0)
		r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 1);
	/* libseccomp requests the listener itself when a rule notifies. */

	for (size_t i = 0; r == 0 && i < filter_trapped_syscalls_count; i++) {
		int nr = seccomp_syscall_resolve_name(filter_trapped_syscalls[i]);
		if (nr == __NR_SCMP_ERROR) {
			r = -ENOSYS;
			break;
		}
		r = seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, nr, 0);
	}
	if (r == 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, SCMP_SYS(prctl), 1,
				     SCMP_A0(SCMP_CMP_EQ, VOS_PRCTL_MAGIC));
	/* ioctl only for the device requests FUSE cannot carry, compared on
	 * the low 32 bits as the kernel reads `cmd`: every other ioctl runs
	 * natively. */
	for (size_t i = 0; r == 0 && i < ioctl_trap_requests_count; i++)
		r = seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, SCMP_SYS(ioctl), 1,
				     SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffu, ioctl_trap_requests[i]));
	if (r < 0) {
		seccomp_release(ctx);
		return r;
	}
	*ret = ctx;
	return 0;
}

int filter_load(scmp_filter_ctx ctx)
{
	int r = seccomp_load(ctx);
	if (r < 0)
		return r;
	return seccomp_notify_fd(ctx);
}
