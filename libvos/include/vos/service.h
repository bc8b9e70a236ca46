/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vos service API: what a service plugin (.so) exports and what the core
 * offers it.
 *
 * A service exports exactly one symbol, `vos_service_entry`, emitted by
 * VOS_SERVICE_DEFINE(). It points at a `struct vos_service` descriptor that
 * starts with the ABI major, minor and its own size. The loader refuses a
 * different major, copies min(size, known size) bytes into a zeroed
 * descriptor (so a plugin built against an older minor keeps working when the
 * structure grows at the end) and checks the mandatory members at load time.
 *
 * Sub-modules are selected by mount type: `mount -t umdevnull none null`
 * goes to the loaded service whose name is the longest prefix of the type
 * ("umdev"), and within it to the device or filesystem named by the rest
 * ("null").
 *
 * Errors are negative errno values everywhere; they travel unchanged to the
 * process in the view (the trapped syscall's result or the FUSE reply).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifndef FUSE_USE_VERSION
#define FUSE_USE_VERSION 312
#endif
#include <fuse_lowlevel.h>

#ifdef __cplusplus
extern "C" {
#endif

#define VOS_SERVICE_ABI_MAJOR 1
#define VOS_SERVICE_ABI_MINOR 3

/* One `key` or `key=value` item of an option list such as "size=100M,mbr". */
struct vos_option {
	const char *key;
	const char *value; /* NULL when the item had no '=' */
};

struct vos_options {
	size_t count;
	const struct vos_option *items;
};

/* The value of `key` (the last one wins), "" for a bare key, NULL if absent. */
static inline const char *vos_options_get(const struct vos_options *opts, const char *key)
{
	const char *found = NULL;
	for (size_t i = 0; opts && i < opts->count; i++) {
		const struct vos_option *o = &opts->items[i];
		const char *a = o->key, *b = key;
		while (*a && *a == *b)
			a++, b++;
		if (*a == *b)
			found = o->value ? o->value : "";
	}
	return found;
}

/* What the core offers a service. Passed to init(); valid until fini(). */
struct vos_service_host {
	uint32_t size; /* sizeof(struct vos_service_host) as the core knows it */
	void *core;    /* opaque, pass back as the first argument */
	/* One line to the supervisor's output (the terminal of an embedded
	 * `vos run`, or vosd's log), prefixed with nothing: services print
	 * their own name where the seed does. */
	void (*log)(void *core, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
	/* Run a program inside the view (its user and mount namespaces, as
	 * the view's root) with fds[i] as its fd 3+i (at most 4), standard
	 * input from /dev/null and the supervisor's standard output and error.
	 * argv[0] must be an absolute path; at most 64 arguments. The program
	 * is killed when the view ends or the supervisor dies. Returns a
	 * pidfd, readable once the program has exited, or -errno. */
	int (*spawn)(void *core, const char *const *argv, const int *fds, size_t n_fds);
	/* Open `path` (a mount's source, say) as process `pid` of the view sees
	 * it: its root, its cwd, the view's mounts. Use this, not open() on a
	 * /proc path: the kernel keeps processes outside the view out of the
	 * view's FUSE mounts. Returns an fd or -errno. */
	int (*open)(void *core, pid_t pid, const char *path, int flags);
	/* ABI 1.3 (read it only when `size` covers it): true when the view's
	 * execve and execveat reach exec_formats. They do where binfmt_misc
	 * has no instance per user namespace (Linux < 6.7), or when the view
	 * was started with VOS_TRAP_EXEC=1; otherwise the kernel runs every
	 * exec and exec formats never see one. */
	bool exec_trapped;
};

/* Whether `host` says the view traps exec (false from an older core). */
#define VOS_HOST_EXEC_TRAPPED(host)                                                                 \
	((host)->size >= offsetof(struct vos_service_host, exec_trapped) + sizeof(bool) &&          \
	 (host)->exec_trapped)

/* A mount request as the process in the view made it. */
struct vos_mount_request {
	const char *type;    /* full mount type, e.g. "umdevnull" */
	const char *subtype; /* the part after the service name, e.g. "null" */
	const char *source;  /* as given (may be "none"); NULL if none */
	const char *source_path; /* source as a /proc/PID/root|cwd path; prefer
				  * host->open(core, pid, source, flags) */
	const char *target;  /* as given */
	unsigned long flags; /* mount(2) MS_* flags */
	const struct vos_options *options; /* parsed mount data */
	pid_t pid;           /* the calling process (supervisor's pid namespace) */
};

/* ---- filesystems: mount -t <service><name> SOURCE DIR ---- */

/* What a filesystem mount returns: either an ordinary libfuse low-level
 * operations table, served by the core on the view's kernel FUSE
 * connection, or a `serve` function that serves the connection itself
 * (umfuse runs unmodified libfuse programs this way). */
struct vos_fs_mount {
	const struct fuse_lowlevel_ops *ops;
	size_t ops_size;   /* sizeof(*ops) as the service knows it */
	void *userdata;    /* fuse_req_userdata() in the operations */
	mode_t root_mode;  /* S_IFDIR (default when 0) or S_IFREG */
	/* Optional, instead of ops: called on a thread of its own with the
	 * mounted /dev/fuse fd, which it owns (libfuse accepts it as the
	 * mountpoint "/dev/fd/N"). Returns when the connection has ended. */
	void (*serve)(void *userdata, int fuse_fd);
	/* Optional, instead of ops and serve: no FUSE connection; mount this
	 * kernel filesystem at the target, in the view's user namespace (the
	 * core allows only "binfmt_misc", "overlay" and "bind", see
	 * kernel_options). The core records the mount and sees its end
	 * through the view's umount2. */
	const char *kernel_fstype;
	/* With kernel_fstype. "overlay": "lowerdir=P[:P...],upperdir=P,
	 * workdir=P" (upperdir and workdir optional, nothing else accepted;
	 * , : and backslash inside a path escaped with a backslash); "bind":
	 * the source path, verbatim. Paths are resolved as the calling process
	 * sees them (absolute, or relative to its cwd). NULL otherwise. */
	const char *kernel_options;
	/* Optional (ABI 1.3), with ops or serve: mount at this path instead of
	 * the request's target (absolute, as the calling process sees it).
	 * The mount stays known by the request's target: umount2() of that
	 * path unmounts it. viewfs hides a path this way, with a mount on its
	 * parent directory. NULL: the request's target. */
	const char *mount_target;
};

/* A filesystem named "*" receives every subtype not matched otherwise by
 * name (the empty subtype included), e.g. umfuse loading umfuseNAME.so
 * for `mount -t umfuseNAME`; req->subtype tells it which was asked for. */
struct vos_filesystem {
	const char *name;        /* sub-module name, or "*" (see above) */
	const char *description; /* one line */
	/* Mandatory. Prepare a mount; on success fill `ret_mount`. */
	int (*mount)(void *service, const struct vos_mount_request *req,
		     struct vos_fs_mount *ret_mount);
	/* Optional. The FUSE connection is gone; release `userdata`. */
	void (*unmount)(void *service, void *userdata);
};

/* ---- devices: mount -t <service><name> SOURCE NODE ---- */

/* A device appears in the view as one file served through kernel FUSE with
 * direct I/O, so every read() and write() of a program reaches these
 * operations unchanged. */
struct vos_device_ops {
	/* Optional. `flags` as the kernel passes them to FUSE (O_ACCMODE,
	 * O_LARGEFILE, ...). May set *ret_handle. */
	int (*open)(void *dev, int flags, uint64_t *ret_handle);
	/* Mandatory. Return bytes read (0 = end of device) or -errno. */
	ssize_t (*read)(void *dev, uint64_t handle, char *buf, size_t size, off_t offset);
	/* Mandatory. Return bytes written or -errno (-ENOSPC at the end). */
	ssize_t (*write)(void *dev, uint64_t handle, const char *buf, size_t size, off_t offset);
	/* Optional. */
	int (*release)(void *dev, uint64_t handle, int flags);
	/* Optional. Size in bytes shown by stat (0 when absent). */
	uint64_t (*size)(void *dev);
	/* Optional. An ioctl whose argument size is encoded in `cmd`: `in`
	 * holds its in_size input bytes, `out` takes out_size bytes. The
	 * block-device and tap ioctls whose encoding carries no size, or a
	 * smaller one than their argument (BLKSSZGET, BLKPBSZGET, BLKIOMIN,
	 * BLKROGET, BLKGETSIZE, HDIO_GETGEO, TUNSETIFF, TUNGETIFF), arrive
	 * too, trapped by the core, with handle 0 and buffers of the
	 * argument's real size (TUNSETIFF: in and out a struct ifreq). */
	int (*ioctl)(void *dev, uint64_t handle, unsigned int cmd, void *arg,
		     const void *in, size_t in_size, void *out, size_t out_size);
	/* Optional. Release `dev` once its node, and every partition node, is
	 * unmounted (or the view ends). */
	void (*destroy)(void *dev);
	/* Optional, for disks: how many partition nodes to create beside the
	 * main node, as TARGET1 ... TARGETn. Called once after create(). */
	unsigned (*partition_count)(void *dev);
	/* Mandatory with partition_count: the object the operations receive
	 * for partition `index` (1..n). Partition objects are not destroyed
	 * separately: destroy() of the disk releases them. */
	void *(*partition)(void *dev, unsigned index);
	/* Optional. fsync(2)/fdatasync(2) on the node: make written data
	 * durable (e.g. fsync the image file). */
	int (*fsync)(void *dev, uint64_t handle, int datasync);
	/* Optional (ABI 1.2), for devices whose I/O waits (a tap device): a
	 * file descriptor, owned by the device, that polls readable when
	 * read() of `handle` has something to return (or an error) and
	 * writable when write() can go on. With it, read() and write() must
	 * never block: they return -EAGAIN instead, and the core waits on
	 * this fd for a caller that may block (without holding a FUSE
	 * thread: one blocked reader never stalls a writer; a signal ends
	 * the wait with EINTR), answers O_NONBLOCK callers with EAGAIN, and
	 * answers poll(2), select(2) and epoll on the node from it. The core
	 * reads this member only from services built for ABI >= 1.2. */
	int (*poll_fd)(void *dev, uint64_t handle);
	/* Optional (ABI 1.3), for devices whose bytes live in a file (an
	 * image): where a read of `size` bytes at `offset` of `handle` finds
	 * them: *ret_fd (the device's own fd, left open) at *ret_offset,
	 * *ret_size bytes (fewer at the end of the device, 0 past it). The
	 * core then moves them to the reader with splice(2) instead of
	 * copying them through read(). Return 0, or -errno to make the core
	 * call read() instead. The core reads this member only from services
	 * built for ABI >= 1.3. */
	int (*read_source)(void *dev, uint64_t handle, size_t size, off_t offset, int *ret_fd,
			   off_t *ret_offset, size_t *ret_size);
};

struct vos_device {
	const char *name;        /* sub-module name */
	const char *description; /* one line */
	char kind;               /* 'c' (character) or 'b' (block) */
	uint32_t max_io;         /* largest single read/write passed down; 0 = core default */
	const struct vos_device_ops *ops;
	/* Mandatory. Create the device for one mount; *ret_dev is passed to
	 * every operation. */
	int (*create)(void *service, const struct vos_mount_request *req, void **ret_dev);
};

/* ---- network stacks: mount -t <service><name> SOURCE /dev/net/NAME ---- */

/* A stack is a Linux network namespace (or none at all: a null stack, in
 * which every socket fails). The core shows it as a node at the mount
 * target, makes it the view's default stack when that target is
 * /dev/net/default, and creates sockets in it for socket() (default stack)
 * and msocket(); mstack(1) enters it. */
struct vos_netstack_instance {
	int netns_fd; /* fd of the stack's network namespace, given to the
		       * core (which closes it); -1: a null stack */
	void *data;   /* passed back to destroy() */
};

struct vos_netstack {
	const char *name;        /* sub-module name, e.g. "null" for umnetnull */
	const char *description; /* one line */
	/* Mandatory. Create the stack for one mount (ABI 1.1). */
	int (*create)(void *service, const struct vos_mount_request *req,
		      struct vos_netstack_instance *ret_stack);
	/* Optional. The stack's node is gone (umount, end of the view). */
	void (*destroy)(void *service, void *data);
};

/* ---- executable formats (ABI 1.3) ---- */

/* For kernels whose binfmt_misc has no per-user-namespace instances (Linux
 * < 6.7), a service can claim executable formats itself: the core traps
 * every execve(2) and execveat(2) of the view, asks the service whether
 * the file is of one of its formats and, if so, makes the process exec
 * the interpreter instead, with binfmt_misc's argument convention:
 * interpreter, the file's path, then the original arguments (without the
 * original argv[0] unless VOS_EXEC_PRESERVE_ARGV0). See umbinfmt(7). */

#define VOS_EXEC_HEADER_SIZE 256 /* the kernel's BINPRM_BUF_SIZE */
#define VOS_EXEC_INTERPRETER_MAX 1920 /* binfmt_misc's longest registration */

#define VOS_EXEC_PRESERVE_ARGV0 0x1u /* binfmt_misc's P flag */

/* The file being executed. */
struct vos_exec_file {
	const char *path; /* as the kernel names it to the interpreter: execve's
			   * filename; "/dev/fd/N" or "/dev/fd/N/NAME" for
			   * execveat from a directory fd or AT_EMPTY_PATH */
	const unsigned char *header; /* its first VOS_EXEC_HEADER_SIZE bytes,
				      * zero-filled past the end of the file */
	pid_t pid;        /* the calling thread (supervisor's pid namespace) */
};

/* How to run it. */
struct vos_exec_handler {
	char interpreter[VOS_EXEC_INTERPRETER_MAX]; /* resolved as exec resolves
						     * a path, from the caller's cwd */
	unsigned flags;   /* VOS_EXEC_* */
};

struct vos_exec_formats {
	/* Mandatory. Should the core look at execs now (a format is
	 * registered)? Called for every exec of the view on the
	 * supervisor's event loop: it must not block (read an atomic). */
	bool (*active)(void *service);
	/* Mandatory. 1 and *ret filled when `file` is of an enabled format,
	 * 0 when it is not (the kernel then runs it as usual), or -errno,
	 * which the exec fails with. Any thread, concurrently. */
	int (*match)(void *service, const struct vos_exec_file *file, struct vos_exec_handler *ret);
	/* Optional. Could a file named `path` (as in struct vos_exec_file)
	 * be of an enabled format, whatever it holds? False lets the core
	 * leave the exec to the kernel without opening the file. Called on
	 * the event loop like active(): no blocking beyond a short lock. */
	bool (*may_match)(void *service, const char *path);
};

/* ---- the descriptor ---- */

struct vos_service {
	uint16_t abi_major;  /* VOS_SERVICE_ABI_MAJOR */
	uint16_t abi_minor;  /* VOS_SERVICE_ABI_MINOR */
	uint32_t size;       /* sizeof(struct vos_service) */
	const char *name;        /* e.g. "umdev"; also the mount type prefix */
	const char *description; /* shown by um_ls_service as "name: description" */
	/* Optional. Called once when the service is added to a view. */
	int (*init)(const struct vos_service_host *host, const struct vos_options *options,
		    void **ret_service);
	/* Optional. Called once when the service is removed. */
	void (*fini)(void *service);
	/* NULL-terminated tables; either may be NULL. */
	const struct vos_filesystem *const *filesystems;
	const struct vos_device *const *devices;
	/* ABI 1.1: NULL-terminated network stacks; may be NULL. */
	const struct vos_netstack *const *netstacks;
	/* ABI 1.3: executable formats; may be NULL. */
	const struct vos_exec_formats *exec_formats;
	/* New members are appended here in later minors. */
};

#define VOS_SERVICE_ENTRY_SYMBOL "vos_service_entry"

#define VOS_SERVICE_DEFINE(descriptor) \
	__attribute__((visibility("default"))) \
	const struct vos_service *const vos_service_entry = &(descriptor)

#ifdef __cplusplus
}
#endif
