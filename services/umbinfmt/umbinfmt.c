/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * umbinfmt: executable formats for one view.
 *
 * `mount -t umbinfmt none /proc/sys/fs/binfmt_misc` mounts a binfmt_misc
 * there that exists only in the view, in one of two modes (service option
 * mode=auto|kernel|trap, default auto):
 *
 * kernel: the kernel's own binfmt_misc, created in the view's user
 * namespace: since Linux 6.7 binfmt_misc keeps one instance per user
 * namespace, and exec in the view consults the view's instance. So
 * registrations (`register`, `status`, the entries, the flags P O C F)
 * behave exactly as the kernel documents, for every program in the view,
 * static ones included, and exist only in the view: they vanish with it
 * and never reach the host's instance.
 *
 * trap: for older kernels. umbinfmt serves the directory itself
 * (binfmt-fs.c, with the kernel's parser mirrored in binfmt-parse.c and
 * its rules in binfmt-table.c), and the core traps the view's execve and
 * execveat and, for a file of a registered format, makes the process exec
 * the interpreter instead (daemon/exec-trap.c).
 *
 * auto: kernel where the kernel can (probed once), trap otherwise.
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

#include <stdio.h>
#include <string.h>

#include <vos/service.h>

#include "binfmt-fs.h"
#include "binfmt-table.h"

enum umbinfmt_mode { MODE_AUTO, MODE_KERNEL, MODE_TRAP };

struct umbinfmt {
	const struct vos_service_host *host;
	enum umbinfmt_mode mode;  /* AUTO until the first mount decides */
	int kernel_support;       /* -1 not probed yet, else 0/1 */
	struct binfmt_table table; /* trap mode's registrations */
	struct binfmt_fs fs;
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
	if (u->mode != MODE_TRAP && u->kernel_support < 0)
		u->kernel_support = binfmt_in_userns();
	if (u->mode == MODE_AUTO) {
		u->mode = u->kernel_support ? MODE_KERNEL : MODE_TRAP;
		if (u->mode == MODE_TRAP)
			u->host->log(u->host->core, "umbinfmt: no binfmt_misc in user namespaces (Linux < 6.7): "
				     "serving it by exec interception (mode=trap)");
	}
	if (u->mode == MODE_TRAP) {
		if (!VOS_HOST_EXEC_TRAPPED(u->host)) {
			u->host->log(u->host->core, "umbinfmt: this view does not trap exec: start it with "
				     "VOS_TRAP_EXEC=1 for mode=trap");
			return -EOPNOTSUPP;
		}
		*ret_mount = (struct vos_fs_mount){ .serve = binfmt_fs_serve, .userdata = &u->fs };
		return 0;
	}
	if (!u->kernel_support) {
		u->host->log(u->host->core, "umbinfmt: binfmt_misc in user namespaces needs Linux >= 6.7 (mode=kernel)");
		return -EOPNOTSUPP;
	}
	*ret_mount = (struct vos_fs_mount){ .kernel_fstype = "binfmt_misc" };
	return 0;
}

static bool umbinfmt_exec_active(void *service)
{
	struct umbinfmt *u = service;
	return atomic_load(&u->table.active);
}

static int umbinfmt_exec_match(void *service, const struct vos_exec_file *file, struct vos_exec_handler *ret)
{
	struct umbinfmt *u = service;
	unsigned flags = 0;
	int r = binfmt_table_match(&u->table, file->path, file->header, ret->interpreter,
				   sizeof(ret->interpreter), &flags);
	if (r > 0)
		ret->flags = (flags & BINFMT_FLAG_PRESERVE_ARGV0) ? VOS_EXEC_PRESERVE_ARGV0 : 0;
	return r;
}

static bool umbinfmt_exec_may_match(void *service, const char *path)
{
	struct umbinfmt *u = service;
	return binfmt_table_may_match(&u->table, path);
}

static const struct vos_exec_formats umbinfmt_exec_formats = {
	.active = umbinfmt_exec_active,
	.match = umbinfmt_exec_match,
	.may_match = umbinfmt_exec_may_match,
};

static const struct vos_filesystem umbinfmt_fs = {
	.name = "", /* the mount type is "umbinfmt" itself */
	.description = "binfmt_misc, one instance per view",
	.mount = umbinfmt_mount,
};

static const struct vos_filesystem *const umbinfmt_filesystems[] = {
	&umbinfmt_fs,
	NULL,
};

static int umbinfmt_init(const struct vos_service_host *host, const struct vos_options *options,
			 void **ret_service)
{
	enum umbinfmt_mode mode = MODE_AUTO;
	for (size_t i = 0; options && i < options->count; i++) {
		const struct vos_option *o = &options->items[i];
		if (strcmp(o->key, "mode") != 0) {
			host->log(host->core, "umbinfmt: unknown option '%s' (umbinfmt takes only mode=auto|kernel|trap)", o->key);
			return -EINVAL;
		}
		const char *v = o->value ? o->value : "";
		if (strcmp(v, "auto") == 0)
			mode = MODE_AUTO;
		else if (strcmp(v, "kernel") == 0)
			mode = MODE_KERNEL;
		else if (strcmp(v, "trap") == 0)
			mode = MODE_TRAP;
		else {
			host->log(host->core, "umbinfmt: mode must be auto, kernel or trap (got '%s')", v);
			return -EINVAL;
		}
	}
#ifndef __x86_64__
	if (mode == MODE_TRAP) {
		host->log(host->core, "umbinfmt: mode=trap (exec interception) is only implemented on x86_64");
		return -EOPNOTSUPP;
	}
#endif
	if (mode == MODE_TRAP && !VOS_HOST_EXEC_TRAPPED(host)) {
		host->log(host->core, "umbinfmt: mode=trap needs a view that traps exec: start it with VOS_TRAP_EXEC=1 "
			  "(on Linux >= 6.7, mode=kernel needs nothing)");
		return -EOPNOTSUPP;
	}
	struct umbinfmt *u = calloc(1, sizeof(*u));
	if (!u)
		return -ENOMEM;
	u->host = host;
	u->mode = mode;
	u->kernel_support = -1;
	binfmt_table_init(&u->table);
	u->fs = (struct binfmt_fs){ .table = &u->table, .host = host };
	host->log(host->core, "umbinfmt init");
	*ret_service = u;
	return 0;
}

static void umbinfmt_fini(void *service)
{
	struct umbinfmt *u = service;
	binfmt_table_destroy(&u->table);
	free(u);
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
	.exec_formats = &umbinfmt_exec_formats,
};

VOS_SERVICE_DEFINE(umbinfmt_service);
