/* SPDX-License-Identifier: GPL-2.0-or-later */
/* How vos-fuse-runner makes an unmodified FUSE program use the connection
 * vos mounted instead of mounting one itself. */
#include "fuse-runner.h"

#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>

/* Where libfuse looks for fusermount before it tries $PATH: libfuse 2 runs
 * FUSERMOUNT_DIR "/fusermount" (Debian: /bin/fusermount), libfuse 3
 * FUSERMOUNT_DIR "/fusermount3" (/usr/bin/fusermount3). */
static const char *const fusermount_paths[] = {
	"/bin/fusermount", "/usr/bin/fusermount", "/usr/local/bin/fusermount",
	"/bin/fusermount3", "/usr/bin/fusermount3", "/usr/local/bin/fusermount3",
};

int runner_private_mounts(const char *target, const char *fusermount_dir, const char **what)
{
	/* The program's namespace is a slave of the view's: an unmount in the
	 * view reaches the program's copy too, so the program never keeps
	 * another mount's FUSE connection alive after the view dropped it.
	 * This makes the view's mounts shared (their peer group has no other
	 * member; the host stays their master, and nothing reaches it). */
	*what = "making the view's mounts shared";
	if (mount(NULL, "/", NULL, MS_REC | MS_SHARED, NULL) < 0)
		return -errno;
	*what = "unshare(CLONE_NEWNS)";
	if (unshare(CLONE_NEWNS) < 0)
		return -errno;
	/* Nothing done here reaches the view. */
	*what = "making the program's mounts slaves of the view's";
	if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0)
		return -errno;
	/* The copy of the view's mount at the target would keep the FUSE
	 * connection alive after the view unmounts it: drop it here. Only
	 * the path is walked, the mount's root is not looked up, so this
	 * does not wait for the connection to be initialised. */
	*what = "detaching the target";
	if (umount2(target, MNT_DETACH) < 0)
		return -errno;

	for (size_t i = 0; i < sizeof(fusermount_paths) / sizeof(fusermount_paths[0]); i++) {
		char real[PATH_MAX], ours[PATH_MAX];
		struct stat st;
		if (!realpath(fusermount_paths[i], real) || stat(real, &st) < 0 || !S_ISREG(st.st_mode))
			continue;
		const char *base = strrchr(fusermount_paths[i], '/') + 1;
		if (snprintf(ours, sizeof(ours), "%s/%s", fusermount_dir, base) >= (int)sizeof(ours))
			return -ENAMETOOLONG;
		*what = "covering the system's fusermount";
		if (mount(ours, real, NULL, MS_BIND, NULL) < 0)
			return -errno;
	}
	return 0;
}

int runner_seccomp(bool fake_umount)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	if (!ctx)
		return -ENOMEM;
	static const char *const refused[] = {
		"mount", "fsopen", "fsconfig", "fsmount", "fspick", "move_mount", "open_tree", "mount_setattr",
	};
	int r = 0;
	for (size_t i = 0; r == 0 && i < sizeof(refused) / sizeof(refused[0]); i++) {
		int nr = seccomp_syscall_resolve_name(refused[i]);
		if (nr >= 0) /* negative: not a system call on this architecture */
			r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), nr, 0);
	}
	if (r == 0 && fake_umount) {
		r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(0), SCMP_SYS(umount2), 0);
		int nr = seccomp_syscall_resolve_name("umount");
		if (r == 0 && nr >= 0)
			r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(0), nr, 0);
	}
	if (r == 0)
		r = seccomp_load(ctx);
	seccomp_release(ctx);
	return r;
}
