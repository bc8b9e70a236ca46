/* SPDX-License-Identifier: GPL-2.0-or-later */
/* `vos features`: the modern equivalent of umview's autodetected kernel
 * extensions. Every line is a real probe of the running kernel. */
#include "vos-features.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <seccomp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../daemon/util.h"

#ifndef SECCOMP_IOCTL_NOTIF_SET_FLAGS
#define SECCOMP_IOCTL_NOTIF_SET_FLAGS SECCOMP_IOW(4, __u64)
#endif

enum feature {
	FEATURE_NOTIFY,
	FEATURE_ADDFD,
	FEATURE_SYNC_WAKE_UP,
	FEATURE_USERNS,
	FEATURE_FUSE_USERNS,
	FEATURE_OVERLAY_USERNS,
	FEATURE_BINFMT_USERNS,
	FEATURE_DEV_FUSE,
	FEATURE_DEV_TUN,
	FEATURE_COUNT,
};

static const struct {
	const char *name;
	const char *use;
	bool required;
} feature_info[FEATURE_COUNT] = {
	[FEATURE_NOTIFY] = { "seccomp user notification", "traps the mount family and view-control calls", true },
	[FEATURE_ADDFD] = { "user notification ADDFD", "injects sockets and fds into view processes", false },
	[FEATURE_SYNC_WAKE_UP] = { "user notification SYNC_WAKE_UP", "halves the cost of a trapped call (Linux >= 6.6)", false },
	[FEATURE_USERNS] = { "unprivileged user namespaces", "views without root", false },
	[FEATURE_FUSE_USERNS] = { "FUSE in user namespaces", "service mounts without root", false },
	[FEATURE_OVERLAY_USERNS] = { "overlayfs in user namespaces", "viewfs cow and merge", false },
	[FEATURE_BINFMT_USERNS] = { "binfmt_misc in user namespaces", "umbinfmt without exec interception (Linux >= 6.7)", false },
	[FEATURE_DEV_FUSE] = { "/dev/fuse readable and writable", "every service mount", true },
	[FEATURE_DEV_TUN] = { "/dev/net/tun readable and writable", "umnet virtual stacks and umdevtap", false },
};

/* Can this user namespace create a superblock of `fstype` with these
 * options? NULL-terminated key/value pairs. */
static bool fs_in_userns(const char *fstype, const char *const *kv)
{
	_cleanup_close_ int fd = (int)syscall(SYS_fsopen, fstype, FSOPEN_CLOEXEC);
	if (fd < 0)
		return false;
	for (; kv && kv[0]; kv += 2)
		if (syscall(SYS_fsconfig, fd, FSCONFIG_SET_STRING, kv[0], kv[1], 0) < 0)
			return false;
	return syscall(SYS_fsconfig, fd, FSCONFIG_CMD_CREATE, NULL, NULL, 0) == 0;
}

static bool fuse_in_userns(void)
{
	_cleanup_close_ int dev = open("/dev/fuse", O_RDWR | O_CLOEXEC);
	if (dev < 0)
		return false;
	char fd[16];
	snprintf(fd, sizeof(fd), "%d", dev);
	const char *const kv[] = { "fd", fd, "rootmode", "40000", "user_id", "0", "group_id", "0", NULL };
	return fs_in_userns("fuse", kv);
}

/* Probes that need a user namespace or a listener run in a child, so the
 * caller's process is left as it was. */
static uint32_t probe_in_child(void)
{
	int pipefd[2];
	if (pipe(pipefd) < 0)
		return 0;
	pid_t pid = fork();
	if (pid == 0) {
		uint32_t bits = 0;
		close(pipefd[0]);

		scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
		if (ctx && seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 1) == 0 &&
		    seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, SCMP_SYS(mount_setattr), 0) == 0 &&
		    seccomp_load(ctx) == 0) {
			int listener = seccomp_notify_fd(ctx);
			bits |= 1u << FEATURE_NOTIFY;
			struct seccomp_notif_addfd addfd = { .id = 1, .srcfd = 0 };
			if (ioctl(listener, SECCOMP_IOCTL_NOTIF_ADDFD, &addfd) < 0 && errno == ENOENT)
				bits |= 1u << FEATURE_ADDFD;
			if (ioctl(listener, SECCOMP_IOCTL_NOTIF_SET_FLAGS, 1UL) == 0)
				bits |= 1u << FEATURE_SYNC_WAKE_UP;
		}
		uid_t uid = getuid();
		gid_t gid = getgid();
		if (unshare(CLONE_NEWUSER | CLONE_NEWNS) == 0) {
			char map[32];
			bits |= 1u << FEATURE_USERNS;
			write_file("/proc/self/setgroups", "deny");
			snprintf(map, sizeof(map), "0 %u 1", (unsigned)uid);
			write_file("/proc/self/uid_map", map);
			snprintf(map, sizeof(map), "0 %u 1", (unsigned)gid);
			write_file("/proc/self/gid_map", map);
			if (fuse_in_userns())
				bits |= 1u << FEATURE_FUSE_USERNS;
			static const char *const overlay[] = { "lowerdir", "/usr:/etc", NULL };
			if (fs_in_userns("overlay", overlay))
				bits |= 1u << FEATURE_OVERLAY_USERNS;
			if (fs_in_userns("binfmt_misc", NULL))
				bits |= 1u << FEATURE_BINFMT_USERNS;
		}
		(void)!write(pipefd[1], &bits, sizeof(bits));
		_exit(0);
	}
	close(pipefd[1]);
	uint32_t bits = 0;
	if (pid < 0 || read(pipefd[0], &bits, sizeof(bits)) != sizeof(bits))
		bits = 0;
	close(pipefd[0]);
	if (pid > 0)
		waitpid(pid, NULL, 0);
	return bits;
}

int features_print(FILE *to)
{
	uint32_t bits = probe_in_child();
	if (access("/dev/fuse", R_OK | W_OK) == 0)
		bits |= 1u << FEATURE_DEV_FUSE;
	if (access("/dev/net/tun", R_OK | W_OK) == 0)
		bits |= 1u << FEATURE_DEV_TUN;

	struct utsname u;
	if (uname(&u) == 0)
		fprintf(to, "kernel: %s %s\n", u.release, u.machine);
	bool ok = true;
	for (int f = 0; f < FEATURE_COUNT; f++) {
		bool have = bits & (1u << f);
		fprintf(to, "%-36s %-3s  %s\n", feature_info[f].name, have ? "yes" : "no", feature_info[f].use);
		if (!have && feature_info[f].required)
			ok = false;
	}
	return ok ? 0 : 1;
}
