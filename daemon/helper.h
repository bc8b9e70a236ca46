/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The view helper: a small process living in the view's user and mount
 * namespaces that does, on the supervisor's request, what the kernel only
 * allows from inside them (FUSE mounts must be made, and /dev/fuse opened,
 * by credentials of the view's user namespace).
 *
 * The request set is small and fixed; every request is one fixed-size
 * message, every reply one `struct helper_reply` with at most one fd.
 */
#pragma once

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

enum helper_op {
	HELPER_MOUNT_FUSE = 1, /* open /dev/fuse, mount it at target, return the fd; result: the mount id */
	HELPER_SPAWN = 2,      /* run a program in the view, return its pidfd */
	HELPER_MOUNT_KERNEL = 3, /* mount fstype ("binfmt_misc", "overlay", "bind") at target; result: its mount id */
	HELPER_UMOUNT = 4,     /* umount2(target, mount_flags) if target is the root of mount mount_id */
	HELPER_OPEN = 5,       /* open target with open_flags as pid sees it, return the fd */
	HELPER_SOCKET = 6,     /* socket(socket_*) in the network namespace sent with the request */
	HELPER_LAYER_DEVICES = 7, /* bind the covered directory's device nodes back over layer `target` */
};

#define HELPER_FSTYPE_MAX 64
#define HELPER_SOURCE_MAX 256
#define HELPER_ARGS_MAX 8192 /* HELPER_SPAWN: argv as NUL-separated strings */
#define HELPER_ARGC_MAX 64
#define HELPER_SPAWN_FDS_MAX 4
#define HELPER_OPTIONS_MAX 8192 /* HELPER_MOUNT_KERNEL: struct vos_fs_mount.kernel_options */

/* HELPER_MOUNT_FUSE flags */
#define HELPER_FUSE_DEFAULT_PERMISSIONS (1u << 0) /* the kernel checks modes */
#define HELPER_FUSE_CWD_LAYER (1u << 1)           /* this is the working-directory layer */
#define HELPER_FUSE_FLAGS_ALL (HELPER_FUSE_DEFAULT_PERMISSIONS | HELPER_FUSE_CWD_LAYER)

struct helper_request {
	uint32_t op;
	uint32_t root_mode;  /* S_IFDIR or S_IFREG: the FUSE root's type */
	int32_t pid;         /* the target is resolved against this process's root
			      * and cwd; 0: the helper's own */
	uint32_t fuse_flags; /* HELPER_FUSE_* */
	uint32_t open_flags; /* HELPER_OPEN: O_* (O_CREAT and O_TMPFILE refused) */
	uint32_t mount_flags; /* MS_RDONLY, MS_NOEXEC... (MS_NOSUID|MS_NODEV always added) */
	char target[PATH_MAX];
	char fstype[HELPER_FSTYPE_MAX]; /* mounted as fuse.<fstype> */
	char source[HELPER_SOURCE_MAX]; /* shown as the mount's source */
	/* HELPER_SPAWN: argc strings in args; the fds sent with the request
	 * become the program's fds 3, 4, ... */
	uint32_t argc;
	char args[HELPER_ARGS_MAX];
	/* HELPER_UMOUNT: the mount the target must be the root of, or the
	 * reply is -ESRCH and nothing is unmounted. */
	uint64_t mount_id;
	/* HELPER_MOUNT_KERNEL of "overlay" or "bind": its options, paths
	 * resolved against pid (see struct vos_fs_mount.kernel_options). A
	 * "bind" sent with one fd binds that fd's object instead of the path
	 * (which then only names it). */
	char kernel_options[HELPER_OPTIONS_MAX];
	/* HELPER_SOCKET: socket(2)'s arguments (SOCK_CLOEXEC is added). */
	int32_t socket_domain, socket_type, socket_protocol;
};

struct helper_reply {
	int32_t result; /* 0 or -errno */
};

/* Run the helper loop on `sock` until the supervisor closes it, then, with
 * `kill_view_on_eof`, SIGKILL every process left in the view, and let the
 * programs it spawned finish (helper-programs.h) before it exits. */
_Noreturn void helper_main(int sock, bool kill_view_on_eof);

/* Supervisor side, once it has closed the helper's socket: wait until the
 * helper has exited (its programs have written back), at most
 * `timeout_ms`. */
void helper_wait_end(pid_t helper_pid, int timeout_ms);

/* Supervisor side: send one request (with `n_fds` fds attached), wait for
 * its reply; on success and if the request returns an fd, *ret_fd gets it.
 * Returns the reply's result (0, or a mount id for HELPER_MOUNT_KERNEL and
 * HELPER_MOUNT_FUSE) or
 * -errno. */
int helper_call(int sock, const struct helper_request *req, const int *fds, size_t n_fds, int *ret_fd);
