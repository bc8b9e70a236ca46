/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * umbinfmt: executable formats for one view.
 *
 * `mount -t umbinfmt none /proc/sys/fs/binfmt_misc` mounts the kernel's own
 * binfmt_misc there, created in the view's user namespace: since Linux 6.7
 * binfmt_misc keeps one instance per user namespace, and exec in the view
 * consults the view's instance. So registrations (`register`, `status`,
 * the entries, the flags P O C F) behave exactly as the kernel documents,
 * for every program in the view, static ones included, and exist only in
 * the view: they vanish with it and never reach the host's instance.
 *
 * The type is exactly "umbinfmt": this service's one filesystem has the
 * empty sub-module name.
 */
#include <errno.h>
#include <linux/mount.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <vos/service.h>

struct umbinfmt {
	const struct vos_service_host *host;
	int kernel_support; /* -1 not probed yet, else 0/1 */
};

/* Can a fresh user namespace create its own binfmt_misc superblock? That
 * is the Linux >= 6.7 feature umbinfmt stands on (binfmt_misc gained
 * FS_USERNS_MOUNT with its per-namespace instances). The probe runs in a
 * child created with CLONE_NEWUSER and CLONE_NEWNS (fsopen wants
 * CAP_SYS_ADMIN over the mount namespace too); it delivers no SIGCHLD, so the
 * supervisor's reaper (waitpid without __WCLONE) leaves it to us. */
static bool binfmt_in_userns(void)
{
	int pidfd = -1;
	struct clone_args args = {
		.flags = CLONE_NEWUSER | CLONE_NEWNS | CLONE_PIDFD,
		.pidfd = (uint64_t)(uintptr_t)&pidfd,
		.exit_signal = 0,
	};
	long pid = syscall(SYS_clone3, &args, sizeof(args));
	if (pid < 0)
		return false;
	if (pid == 0) {
		/* Only raw system calls here: the parent may have threads. */
		long fs = syscall(SYS_fsopen, "binfmt_misc", FSOPEN_CLOEXEC);
		if (fs < 0)
			syscall(SYS_exit, 1);
		syscall(SYS_exit, syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) == 0 ? 0 : 1);
	}
	siginfo_t info = { 0 };
	int r;
	while ((r = waitid(P_PIDFD, (id_t)pidfd, &info, WEXITED | __WALL)) < 0 && errno == EINTR)
		;
	close(pidfd);
	return r == 0 && info.si_code == CLD_EXITED && info.si_status == 0;
}

static int umbinfmt_mount(void *service, const struct vos_mount_request *req, struct vos_fs_mount *ret_mount)
{
	struct umbinfmt *u = service;
	if (req->options && req->options->count > 0) {
		u->host->log(u->host->core, "umbinfmt: binfmt_misc takes no mount options (got '%s')",
			     req->options->items[0].key);
		return -EINVAL;
	}
	if (u->kernel_support < 0)
		u->kernel_support = binfmt_in_userns();
	if (!u->kernel_support) {
		u->host->log(u->host->core, "umbinfmt: binfmt_misc in user namespaces needs Linux >= 6.7");
		return -EOPNOTSUPP;
	}
	*ret_mount = (struct vos_fs_mount){ .kernel_fstype = "binfmt_misc" };
	return 0;
}

static const struct vos_filesystem umbinfmt_fs = {
	.name = "", /* the mount type is "umbinfmt" itself */
	.description = "the kernel's binfmt_misc, one instance per view",
	.mount = umbinfmt_mount,
};

static const struct vos_filesystem *const umbinfmt_filesystems[] = {
	&umbinfmt_fs,
	NULL,
};

static int umbinfmt_init(const struct vos_service_host *host, const struct vos_options *options,
			 void **ret_service)
{
	if (options && options->count > 0) {
		host->log(host->core, "umbinfmt: unknown option '%s' (umbinfmt takes none)", options->items[0].key);
		return -EINVAL;
	}
	struct umbinfmt *u = calloc(1, sizeof(*u));
	if (!u)
		return -ENOMEM;
	u->host = host;
	u->kernel_support = -1;
	host->log(host->core, "umbinfmt init");
	*ret_service = u;
	return 0;
}

static void umbinfmt_fini(void *service)
{
	free(service);
}

static const struct vos_service umbinfmt_service = {
	.abi_major = VOS_SERVICE_ABI_MAJOR,
	.abi_minor = VOS_SERVICE_ABI_MINOR,
	.size = sizeof(struct vos_service),
	.name = "umbinfmt",
	.description = "executable formats (binfmt_misc) for this view",
	.init = umbinfmt_init,
	.fini = umbinfmt_fini,
	.filesystems = umbinfmt_filesystems,
};

VOS_SERVICE_DEFINE(umbinfmt_service);
