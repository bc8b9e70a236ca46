/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "filter.h"

#include <errno.h>
#include <limits.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/utsname.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../libvos/control-proto.h"
#include "ioctl-trap.h"
#include "util.h"

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

bool filter_exec_wanted(void)
{
	const char *env = getenv("VOS_TRAP_EXEC");
	if (env && (streq(env, "0") || streq(env, "1")))
		return streq(env, "1");
	/* Where binfmt_misc has no instance per user namespace (Linux < 6.7),
	 * exec interception is umbinfmt's only way. */
	struct utsname u;
	unsigned major = 0, minor = 0;
	if (uname(&u) < 0 || sscanf(u.release, "%u.%u", &major, &minor) != 2)
		return true;
	return major < 6 || (major == 6 && minor < 7);
}

int filter_build(scmp_filter_ctx *ret, bool trap_exec)
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
	/* execve, and execveat unless FILTER_EXEC_UNTRAPPED is set in its
	 * flags, for the exec formats of services (exec-trap.c). */
	if (r == 0 && trap_exec)
		r = seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, SCMP_SYS(execve), 0);
	if (r == 0 && trap_exec)
		r = seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, SCMP_SYS(execveat), 1,
				     SCMP_A4(SCMP_CMP_MASKED_EQ, FILTER_EXEC_UNTRAPPED, 0));
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

int filter_compile(scmp_filter_ctx ctx, struct sock_fprog *ret)
{
	/* libseccomp writes the program to an fd; read it back whole. */
	int fd = memfd_create("vos-filter", MFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	int r = seccomp_export_bpf(ctx, fd);
	off_t len = r < 0 ? 0 : lseek(fd, 0, SEEK_END);
	if (r == 0 && (len <= 0 || len % (off_t)sizeof(struct sock_filter) != 0 ||
		       len / (off_t)sizeof(struct sock_filter) > USHRT_MAX))
		r = -EINVAL;
	struct sock_filter *prog = r == 0 ? malloc((size_t)len) : NULL;
	if (r == 0 && !prog)
		r = -ENOMEM;
	if (r == 0 && pread(fd, prog, (size_t)len, 0) != len)
		r = -EIO;
	close(fd);
	if (r < 0) {
		free(prog);
		return r;
	}
	ret->len = (unsigned short)(len / (off_t)sizeof(struct sock_filter));
	ret->filter = prog;
	return 0;
}

int filter_install(const struct sock_fprog *prog)
{
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -errno;
	long fd = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, prog);
	return fd < 0 ? -errno : (int)fd;
}
