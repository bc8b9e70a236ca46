/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "helper.h"
#include "helper-programs.h"

#include <dirent.h>
#include <fcntl.h>
#include <libgen.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <sys/socket.h>
#include <linux/mount.h>
#include <linux/openat2.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util.h"


/* The shadow tmpfs mounts made so far (their st_dev), so a directory gets
 * one only once. */
#define SHADOWS_MAX 256
static dev_t shadow_devs[SHADOWS_MAX];
static unsigned n_shadows;

/* The working-directory layer (daemon/cwd-layer.h), once mounted: entries
 * the helper creates in it exist in the view only. */
#define LAYERS_MAX 64
static dev_t layer_devs[LAYERS_MAX];
static int layer_under[LAYERS_MAX]; /* the directory each layer covers */
static unsigned n_layers;

/* Device nodes stop working under any mount made in a user namespace (it
 * is always nodev), and mounts below a covered directory disappear: bind
 * every character and block device, and every mount, of the covered
 * directory `under` back over its entry in `top`, so it keeps its own
 * mount (/dev's, say). Best effort: an entry that fails stays hidden. */
static void bind_back_devices(int under, int top)
{
	int dfd = openat(under, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
	if (!d) {
		if (dfd >= 0)
			close(dfd);
		return;
	}
	struct dirent *de;
	while ((de = readdir(d))) {
		bool device = de->d_type == DT_CHR || de->d_type == DT_BLK;
		struct statx stx;
		bool mounted = de->d_type == DT_DIR && !streq(de->d_name, ".") && !streq(de->d_name, "..") &&
			       statx(under, de->d_name, AT_SYMLINK_NOFOLLOW, STATX_TYPE, &stx) == 0 &&
			       (stx.stx_attributes & STATX_ATTR_MOUNT_ROOT);
		if (!device && !mounted)
			continue;
		int tree = (int)syscall(SYS_open_tree, under, de->d_name,
					OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE | AT_SYMLINK_NOFOLLOW);
		if (tree < 0)
			continue;
		syscall(SYS_move_mount, tree, "", top, de->d_name, MOVE_MOUNT_F_EMPTY_PATH);
		close(tree);
	}
	closedir(d);
}

/* The device of `fd` without asking a FUSE server (which may be us, or
 * not started yet): AT_STATX_DONT_SYNC. */
static int dev_of(int fd, dev_t *ret)
{
	struct statx stx;
	if (statx(fd, "", AT_EMPTY_PATH | AT_STATX_DONT_SYNC, STATX_TYPE, &stx) < 0)
		return -errno;
	*ret = makedev(stx.stx_dev_major, stx.stx_dev_minor);
	return 0;
}

static bool in_layer(int dir)
{
	dev_t dev;
	if (n_layers == 0 || dev_of(dir, &dev) < 0)
		return false;
	for (unsigned i = 0; i < n_layers; i++)
		if (layer_devs[i] == dev)
			return true;
	return false;
}

static bool is_our_shadow(int dir)
{
	struct stat st;
	if (fstat(dir, &st) < 0)
		return false;
	for (unsigned i = 0; i < n_shadows; i++)
		if (shadow_devs[i] == st.st_dev)
			return true;
	return false;
}

static int open_in_process(pid_t pid, const char *path, int flags)
{
	char base[64];
	if (pid == 0) /* the helper itself */
		snprintf(base, sizeof(base), "/proc/self/%s", path[0] == '/' ? "root" : "cwd");
	else
		snprintf(base, sizeof(base), "/proc/%d/%s", pid, path[0] == '/' ? "root" : "cwd");
	_cleanup_close_ int dirfd = open(base, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		return -errno;
	struct open_how how = {
		.flags = (uint64_t)flags | O_CLOEXEC,
		.resolve = path[0] == '/' ? RESOLVE_IN_ROOT : 0,
	};
	int fd = (int)syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
	return fd < 0 ? -errno : fd;
}

/* Make new entries possible in `dir` (an O_PATH fd) in the view only,
 * where no passthrough layer can go (a directory of another user, /dev,
 * inside a view's FUSE mount): cover it with a fresh tmpfs and bind every
 * existing entry back on top, as bubblewrap builds /dev. Existing files,
 * directories (with whatever is mounted below them) and device nodes stay
 * the host's, written in place; only entries created directly in `dir`
 * from now on live in the tmpfs. */
static int shadow_directory(int dir)
{
	struct stat st;
	if (fstat(dir, &st) < 0)
		return -errno;
	_cleanup_close_ int fs = (int)syscall(SYS_fsopen, "tmpfs", FSOPEN_CLOEXEC);
	if (fs < 0)
		return -errno;
	char mode[16];
	snprintf(mode, sizeof(mode), "%o", (unsigned)(st.st_mode & 07777));
	if (syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, "mode", mode, 0) < 0 ||
	    syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, "source", "vos-shadow", 0) < 0 ||
	    syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
		return -errno;
	_cleanup_close_ int mnt = (int)syscall(SYS_fsmount, fs, FSMOUNT_CLOEXEC, 0);
	if (mnt < 0)
		return -errno;

	/* The entries, read before the tmpfs hides them. */
	int dfd = openat(dir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
	if (!d) {
		int r = -errno;
		if (dfd >= 0)
			close(dfd);
		return r;
	}
	if (syscall(SYS_move_mount, mnt, "", dir, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0) {
		int r = -errno;
		closedir(d);
		return r;
	}
	/* `dir` still names the covered directory; the tmpfs is `mnt`. */
	struct dirent *de;
	while ((de = readdir(d))) {
		const char *name = de->d_name;
		if (streq(name, ".") || streq(name, ".."))
			continue;
		struct stat est;
		if (fstatat(dir, name, &est, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (S_ISLNK(est.st_mode)) {
			char link[PATH_MAX];
			ssize_t n = readlinkat(dir, name, link, sizeof(link) - 1);
			if (n >= 0) {
				link[n] = '\0';
				(void)!symlinkat(link, mnt, name);
			}
			continue;
		}
		if (S_ISDIR(est.st_mode) ? mkdirat(mnt, name, est.st_mode & 07777) < 0
					 : mknodat(mnt, name, S_IFREG | 0600, 0) < 0)
			continue;
		int tree = (int)syscall(SYS_open_tree, dir, name,
					OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE | AT_SYMLINK_NOFOLLOW);
		if (tree >= 0) {
			syscall(SYS_move_mount, tree, "", mnt, name, MOVE_MOUNT_F_EMPTY_PATH);
			close(tree);
		}
	}
	closedir(d);
	return 0;
}

/* Open the mount target, creating it inside the view when it is missing. */
static int open_target(pid_t pid, const char *target, mode_t root_mode)
{
	int fd = open_in_process(pid, target, O_PATH);
	if (fd != -ENOENT)
		return fd;

	/* A relative target is made absolute first: the directory the caller
	 * sits in may be the one about to be covered by an overlay, and only
	 * a walk from the root sees the overlay. */
	_cleanup_free_ char *absolute = NULL;
	if (target[0] != '/') {
		char link[64], cwd[PATH_MAX];
		if (pid == 0)
			snprintf(link, sizeof(link), "/proc/self/cwd");
		else
			snprintf(link, sizeof(link), "/proc/%d/cwd", pid);
		ssize_t n = readlink(link, cwd, sizeof(cwd) - 1);
		if (n < 0)
			return -errno;
		cwd[n] = '\0';
		if (cwd[0] != '/')
			return -ENOENT; /* the cwd is unreachable from the view's root */
		if (asprintf(&absolute, "%s/%s", n > 1 ? cwd : "", target) < 0)
			return -ENOMEM;
		target = absolute;
	}

	_cleanup_free_ char *copy1 = strdup(target), *copy2 = strdup(target);
	if (!copy1 || !copy2)
		return -ENOMEM;
	const char *parent = dirname(copy1);
	const char *name = basename(copy2);
	if (streq(name, "/") || streq(name, ".") || streq(name, ".."))
		return -ENOENT;

	_cleanup_close_ int dir = open_in_process(pid, parent, O_PATH | O_DIRECTORY);
	if (dir < 0)
		return dir; /* a missing parent stays an error, as for mount(8) */
	int r;
	if (in_layer(dir)) {
		/* The layer turns the helper's creations into view-only entries. */
		r = S_ISDIR(root_mode) ? mkdirat(dir, name, 0755) : mknodat(dir, name, S_IFREG | 0600, 0);
		if (r < 0 && errno != EEXIST)
			return -errno;
		fd = openat(dir, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		return fd < 0 ? -errno : fd;
	}
	if (!is_our_shadow(dir)) {
		if (n_shadows == SHADOWS_MAX)
			return -ENOSPC;
		if ((r = shadow_directory(dir)) < 0)
			return r;
	}

	/* Reopen the parent by path: it now resolves to the shadow. */
	_cleanup_close_ int merged = open_in_process(pid, parent, O_PATH | O_DIRECTORY);
	if (merged < 0)
		return merged;
	struct stat st;
	if (fstat(merged, &st) < 0)
		return -errno;
	if (!is_our_shadow(merged))
		shadow_devs[n_shadows++] = st.st_dev;
	if (S_ISDIR(root_mode))
		r = mkdirat(merged, name, 0755);
	else
		r = mknodat(merged, name, S_IFREG | 0600, 0);
	if (r < 0 && errno != EEXIST)
		return -errno;
	fd = openat(merged, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

/* The target of a kernel mount: a directory (made in the view if missing). */
static int open_target_dir(pid_t pid, const char *target)
{
	int fd = open_target(pid, target, S_IFDIR);
	if (fd < 0)
		return fd;
	struct stat st;
	int r = fstat(fd, &st) < 0 ? -errno : S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
	if (r < 0) {
		close(fd);
		return r;
	}
	return fd;
}

/* The mount id of a mount fd or of a path's mount, or -errno. */
static int64_t mount_id_of(int dirfd, const char *path, int flags, bool *ret_is_root)
{
	struct statx stx;
	if (statx(dirfd, path, flags | AT_NO_AUTOMOUNT, STATX_MNT_ID, &stx) < 0)
		return -errno;
	if (!(stx.stx_mask & STATX_MNT_ID))
		return -EOPNOTSUPP;
	if (ret_is_root)
		*ret_is_root = (stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) &&
			       (stx.stx_attributes & STATX_ATTR_MOUNT_ROOT);
	return (int64_t)stx.stx_mnt_id;
}

static int do_mount_fuse(const struct helper_request *req, int *ret_fd)
{
	_cleanup_close_ int target = open_target(req->pid, req->target, req->root_mode);
	if (target < 0)
		return target;

	struct stat st;
	if (fstat(target, &st) < 0)
		return -errno;
	if (S_ISDIR(req->root_mode) != S_ISDIR(st.st_mode))
		return S_ISDIR(req->root_mode) ? -ENOTDIR : -EISDIR;

	_cleanup_close_ int fuse = open("/dev/fuse", O_RDWR | O_CLOEXEC);
	if (fuse < 0)
		return -errno;

	char where[64], type[HELPER_FSTYPE_MAX + 8], options[256];
	snprintf(where, sizeof(where), "/proc/self/fd/%d", target);
	snprintf(type, sizeof(type), "fuse.%s", req->fstype);
	snprintf(options, sizeof(options),
		 "fd=%d,rootmode=%o,user_id=%u,group_id=%u,allow_other%s",
		 fuse, (unsigned)req->root_mode, (unsigned)getuid(), (unsigned)getgid(),
		 req->fuse_flags & HELPER_FUSE_DEFAULT_PERMISSIONS ? ",default_permissions" : "");
	unsigned long flags = MS_NOSUID | MS_NODEV | (req->mount_flags & (MS_RDONLY | MS_NOEXEC | MS_NOATIME));
	if (mount(req->source[0] ? req->source : req->fstype, where, type, flags, options) < 0)
		return -errno;
	/* The new mount's id, by which HELPER_UMOUNT can undo it. Cached
	 * attributes only: nobody serves the connection yet. */
	int64_t id;
	{
		_cleanup_close_ int top = open_in_process(req->pid, req->target, O_PATH);
		id = top < 0 ? top : mount_id_of(top, "", AT_EMPTY_PATH | AT_STATX_DONT_SYNC, NULL);
	}
	if (id < 0)
		return (int)id;
	if (id > INT32_MAX)
		return -EOVERFLOW;
	if (req->fuse_flags & HELPER_FUSE_CWD_LAYER) {
		/* Reopen by path: it resolves to the new mount now. */
		_cleanup_close_ int top = open_in_process(req->pid, req->target, O_PATH | O_DIRECTORY);
		if (top < 0)
			return top;
		if (n_layers == LAYERS_MAX)
			return -ENOSPC;
		int r = dev_of(top, &layer_devs[n_layers]);
		if (r < 0)
			return r;
		layer_under[n_layers] = fcntl(target, F_DUPFD_CLOEXEC, 3);
		n_layers++;
	}
	*ret_fd = TAKE_FD(fuse);
	return (int)id;
}

/* The next item of `*p` up to an unescaped `sep` (or the end), with the
 * backslash escapes removed, into `out`; `*p` moves past the separator. */
static int next_item(const char **p, char sep, char *out, size_t size)
{
	size_t n = 0;
	const char *s = *p;
	for (; *s && *s != sep; s++) {
		if (*s == '\\' && s[1])
			s++;
		if (n + 1 >= size)
			return -ENAMETOOLONG;
		out[n++] = *s;
	}
	out[n] = '\0';
	*p = *s ? s + 1 : s;
	return 0;
}

#define OVERLAY_LAYERS_MAX 16

/* Open every path of the overlay options in the calling process and turn
 * them into the kernel's options, naming the paths /proc/self/fd/N. */
struct overlay_layers {
	int fds[OVERLAY_LAYERS_MAX + 2];
	size_t n_fds;
	char lower[OVERLAY_LAYERS_MAX * 32], upper[32], work[32];
};

static void overlay_layers_close(struct overlay_layers *o)
{
	for (size_t i = 0; i < o->n_fds; i++)
		close(o->fds[i]);
	o->n_fds = 0;
}

static int overlay_open(pid_t pid, const char *path, struct overlay_layers *o, char *buf, size_t size)
{
	size_t len = strlen(buf);
	if (!path[0] || o->n_fds == sizeof(o->fds) / sizeof(o->fds[0]))
		return -EINVAL;
	int fd = open_in_process(pid, path, O_PATH | O_DIRECTORY);
	if (fd < 0)
		return fd;
	o->fds[o->n_fds++] = fd;
	snprintf(buf + len, size - len, "%s/proc/self/fd/%d", len ? ":" : "", fd);
	return 0;
}

static int overlay_parse(pid_t pid, const char *options, struct overlay_layers *o)
{
	_cleanup_free_ char *item = malloc(HELPER_OPTIONS_MAX), *path = malloc(PATH_MAX);
	if (!item || !path)
		return -ENOMEM;
	const char *p = options;
	while (*p) {
		/* Split on ',' keeping the escapes, which the paths still need. */
		size_t n = 0;
		for (; *p && *p != ','; p++) {
			if (*p == '\\' && p[1])
				item[n++] = *p++;
			item[n++] = *p;
		}
		item[n] = '\0';
		if (*p)
			p++;
		char *eq = strchr(item, '=');
		if (!eq)
			return -EINVAL;
		*eq = '\0';
		const char *value = eq + 1;
		int r;
		if (streq(item, "lowerdir")) {
			while (*value) {
				if ((r = next_item(&value, ':', path, PATH_MAX)) < 0)
					return r;
				if ((r = overlay_open(pid, path, o, o->lower, sizeof(o->lower))) < 0)
					return r;
			}
		} else if (streq(item, "upperdir") || streq(item, "workdir")) {
			char *out = streq(item, "upperdir") ? o->upper : o->work;
			if (out[0])
				return -EINVAL;
			if ((r = next_item(&value, '\0', path, PATH_MAX)) < 0 ||
			    (r = overlay_open(pid, path, o, out, sizeof(o->upper))) < 0)
				return r;
		} else {
			return -EINVAL;
		}
	}
	if (!o->lower[0] || !o->upper[0] != !o->work[0])
		return -EINVAL;
	return 0;
}

/* A detached overlay mount of `o`, metadata in user.* xattrs when the
 * kernel allows it (always in a user namespace), else trusted.*. */
static int overlay_fsmount(const struct overlay_layers *o, bool userxattr, unsigned attrs)
{
	_cleanup_close_ int fs = (int)syscall(SYS_fsopen, "overlay", FSOPEN_CLOEXEC);
	if (fs < 0)
		return -errno;
	if (syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, "source", "viewfs", 0) < 0 ||
	    syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, "lowerdir", o->lower, 0) < 0 ||
	    (o->upper[0] && syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, "upperdir", o->upper, 0) < 0) ||
	    (o->work[0] && syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, "workdir", o->work, 0) < 0) ||
	    (userxattr && syscall(SYS_fsconfig, fs, FSCONFIG_SET_FLAG, "userxattr", NULL, 0) < 0) ||
	    syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
		return -errno;
	int mnt = (int)syscall(SYS_fsmount, fs, FSMOUNT_CLOEXEC, attrs);
	return mnt < 0 ? -errno : mnt;
}

/* Attach detached mount `mnt` at `target`; returns its mount id. */
static int attach_mount(int mnt, int target)
{
	int64_t id = mount_id_of(mnt, "", AT_EMPTY_PATH, NULL);
	if (id < 0)
		return (int)id;
	if (id > INT32_MAX)
		return -EOVERFLOW;
	if (syscall(SYS_move_mount, mnt, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
		return -errno;
	return (int)id;
}

/* viewfs: an overlay whose layers are paths of the calling process. */
static int do_mount_overlay(const struct helper_request *req)
{
	struct overlay_layers o = { .n_fds = 0 };
	int r = overlay_parse(req->pid, req->kernel_options, &o);
	if (r < 0) {
		overlay_layers_close(&o);
		return r;
	}
	unsigned attrs = MOUNT_ATTR_NODEV | (req->mount_flags & MS_RDONLY ? MOUNT_ATTR_RDONLY : 0);
	_cleanup_close_ int mnt = overlay_fsmount(&o, true, attrs);
	if (mnt == -EINVAL)
		mnt = overlay_fsmount(&o, false, attrs);
	overlay_layers_close(&o);
	if (mnt < 0)
		return mnt;
	_cleanup_close_ int target = open_target_dir(req->pid, req->target);
	if (target < 0)
		return target;
	return attach_mount(mnt, target);
}

/* viewfs: a recursive bind mount of a path of the calling process, or of
 * `source_fd` (one the supervisor opened through us earlier: except=). */
static int do_mount_bind(const struct helper_request *req, int source_fd)
{
	_cleanup_close_ int source = source_fd < 0 ? open_in_process(req->pid, req->kernel_options, O_PATH)
						   : fcntl(source_fd, F_DUPFD_CLOEXEC, 3);
	if (source_fd >= 0 && source < 0)
		return -errno;
	if (source < 0)
		return source;
	struct stat st;
	if (fstat(source, &st) < 0)
		return -errno;
	_cleanup_close_ int mnt = (int)syscall(SYS_open_tree, source, "",
					       OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE | AT_EMPTY_PATH);
	if (mnt < 0)
		return -errno;
	if (req->mount_flags & MS_RDONLY) {
		struct mount_attr attr = { .attr_set = MOUNT_ATTR_RDONLY };
		if (syscall(SYS_mount_setattr, mnt, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof(attr)) < 0)
			return -errno;
	}
	mode_t type = S_ISDIR(st.st_mode) ? S_IFDIR : S_IFREG;
	_cleanup_close_ int target = open_target(req->pid, req->target, type);
	if (target < 0)
		return target;
	struct stat tst;
	if (fstat(target, &tst) < 0)
		return -errno;
	if (S_ISDIR(tst.st_mode) != S_ISDIR(st.st_mode))
		return S_ISDIR(st.st_mode) ? -ENOTDIR : -EISDIR;
	return attach_mount(mnt, target);
}

/* A kernel filesystem (binfmt_misc, overlay or bind, checked by request_valid) at the
 * target, created in our user namespace: binfmt_misc keys its instance by
 * the mounter's user namespace, so this is the view's own. The result is
 * the new mount's id, by which HELPER_UMOUNT recognises it later. */
static int do_mount_kernel(const struct helper_request *req, int source_fd)
{
	if (streq(req->fstype, "bind"))
		return do_mount_bind(req, source_fd);
	if (source_fd >= 0)
		return -EINVAL;
	if (streq(req->fstype, "overlay"))
		return do_mount_overlay(req);
	_cleanup_close_ int target = open_target_dir(req->pid, req->target);
	if (target < 0)
		return target;

	_cleanup_close_ int fs = (int)syscall(SYS_fsopen, req->fstype, FSOPEN_CLOEXEC);
	if (fs < 0)
		return -errno;
	if (req->source[0] && syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, "source", req->source, 0) < 0)
		return -errno;
	if (syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
		return -errno;
	_cleanup_close_ int mnt = (int)syscall(SYS_fsmount, fs, FSMOUNT_CLOEXEC,
					       MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
	if (mnt < 0)
		return -errno;
	return attach_mount(mnt, target);
}

/* umount2() for the process, but only of the mount we made: the target,
 * resolved as the process sees it, must be the root of mount `mount_id`;
 * otherwise -ESRCH and the caller lets the kernel handle the call. */
static int do_umount(const struct helper_request *req)
{
	char path[PATH_MAX + 64];
	int n = snprintf(path, sizeof(path), "/proc/%d/%s/%s", req->pid,
			 req->target[0] == '/' ? "root" : "cwd", req->target);
	if (n < 0 || (size_t)n >= sizeof(path))
		return -ESRCH;
	bool is_root = false;
	int64_t id = mount_id_of(AT_FDCWD, path, (req->mount_flags & UMOUNT_NOFOLLOW) ? AT_SYMLINK_NOFOLLOW : 0, &is_root);
	if (id < 0 || (uint64_t)id != req->mount_id || !is_root)
		return -ESRCH;
	return umount2(path, (int)req->mount_flags) < 0 ? -errno : 0;
}

/* Start argv[0] in the view (we are in its namespaces) with `fds` as its
 * fds 3.. and return a pidfd. At the view's end the helper waits for it
 * (helper-programs.h); it dies with the helper. */
static int do_spawn(const struct helper_request *req, const int *fds, size_t n_fds, int *ret_fd)
{
	char *argv[HELPER_ARGC_MAX + 1];
	const char *p = req->args;
	for (uint32_t i = 0; i < req->argc; i++) {
		argv[i] = (char *)p;
		p += strlen(p) + 1;
	}
	argv[req->argc] = NULL;

	/* The child waits until its pidfd exists: with SA_NOCLDWAIT a child
	 * that exits at once would be reaped, and its pid gone, before
	 * pidfd_open. */
	int go[2];
	if (pipe2(go, O_CLOEXEC) < 0)
		return -errno;
	pid_t pid = fork();
	if (pid < 0) {
		int r = -errno;
		close(go[0]);
		close(go[1]);
		return r;
	}
	if (pid == 0) {
		char c;
		close(go[1]);
		(void)!read(go[0], &c, 1);
		close(go[0]);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		signal(SIGCHLD, SIG_DFL);
		int devnull = open("/dev/null", O_RDONLY);
		if (devnull >= 0 && devnull != 0) {
			dup2(devnull, 0);
			close(devnull);
		}
		/* Move the fds out of the way, then into place at 3, 4, ... */
		int moved[HELPER_SPAWN_FDS_MAX];
		for (size_t i = 0; i < n_fds; i++)
			moved[i] = fcntl(fds[i], F_DUPFD, 100);
		for (size_t i = 0; i < n_fds; i++)
			dup2(moved[i], 3 + (int)i); /* dup2 clears close-on-exec */
		close_range(3 + (unsigned)n_fds, ~0U, 0);
		execv(argv[0], argv);
		fprintf(stderr, "vos: cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(go[0]);
	int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	close(go[1]); /* let it run */
	if (pidfd < 0) {
		int r = -errno;
		kill(pid, SIGKILL);
		return r;
	}
	helper_programs_add(pid, pidfd);
	*ret_fd = pidfd;
	return 0;
}

static bool spawn_request_valid(const struct helper_request *req)
{
	if (req->argc == 0 || req->argc > HELPER_ARGC_MAX)
		return false;
	const char *p = req->args, *end = req->args + sizeof(req->args);
	for (uint32_t i = 0; i < req->argc; i++) {
		const char *nul = memchr(p, '\0', (size_t)(end - p));
		if (!nul)
			return false;
		p = nul + 1;
	}
	return req->args[0] == '/'; /* an absolute program path */
}

/* After the layer's server runs (lookups in it need the server): its
 * device nodes, bound back from the covered directory. */
static int do_layer_devices(const struct helper_request *req)
{
	_cleanup_close_ int top = open_in_process(req->pid, req->target, O_PATH | O_DIRECTORY);
	if (top < 0)
		return top;
	dev_t dev;
	int r = dev_of(top, &dev);
	if (r < 0)
		return r;
	for (unsigned i = 0; i < n_layers; i++)
		if (layer_devs[i] == dev && layer_under[i] >= 0) {
			bind_back_devices(layer_under[i], top);
			return 0;
		}
	return -ENOENT;
}

/* Open a path as the calling process sees it; the supervisor cannot do
 * it itself through FUSE mounts of the view's user namespace. */
static int do_open(const struct helper_request *req, int *ret_fd)
{
	int flags = (int)req->open_flags;
	if (!(flags & O_PATH))
		flags |= O_NOCTTY; /* openat2 takes nothing but O_DIRECTORY/O_NOFOLLOW with O_PATH */
	int fd = open_in_process(req->pid, req->target, flags);
	if (fd < 0)
		return fd;
	*ret_fd = fd;
	return 0;
}

/* HELPER_SOCKET: a thread enters the stack's network namespace (a
 * namespace change is per thread, and the helper could not come back to
 * a namespace of the host's user namespace), makes the socket, ends. */
struct socket_job {
	const struct helper_request *req;
	int netns;
	int result;
};

static void *socket_thread(void *arg)
{
	struct socket_job *job = arg;
	if (setns(job->netns, CLONE_NEWNET) < 0) {
		job->result = -errno;
		return NULL;
	}
	int fd = socket(job->req->socket_domain, job->req->socket_type | SOCK_CLOEXEC, job->req->socket_protocol);
	job->result = fd < 0 ? -errno : fd;
	return NULL;
}

static int do_socket(const struct helper_request *req, int netns, int *ret_fd)
{
	struct socket_job job = { .req = req, .netns = netns, .result = -EIO };
	pthread_t thread;
	int r = pthread_create(&thread, NULL, socket_thread, &job);
	if (r != 0)
		return -r;
	pthread_join(thread, NULL);
	if (job.result < 0)
		return job.result;
	*ret_fd = job.result;
	return 0;
}

static bool request_valid(const struct helper_request *req)
{
	if (req->op == HELPER_SOCKET)
		return true; /* the kernel checks socket()'s arguments */
	if (req->op == HELPER_LAYER_DEVICES)
		return req->pid >= 0 && memchr(req->target, '\0', sizeof(req->target)) && req->target[0];
	if (req->op == HELPER_OPEN)
		return req->pid >= 0 && memchr(req->target, '\0', sizeof(req->target)) && req->target[0] &&
		       !(req->open_flags & (O_CREAT | O_TRUNC)) && (req->open_flags & O_TMPFILE) != O_TMPFILE;
	if (req->op == HELPER_SPAWN)
		return spawn_request_valid(req);
	if (req->op == HELPER_MOUNT_KERNEL)
		return req->pid > 0 && memchr(req->target, '\0', sizeof(req->target)) && req->target[0] &&
		       memchr(req->fstype, '\0', sizeof(req->fstype)) &&
		       (streq(req->fstype, "binfmt_misc") || streq(req->fstype, "overlay") ||
			streq(req->fstype, "bind")) &&
		       memchr(req->source, '\0', sizeof(req->source)) &&
		       memchr(req->kernel_options, '\0', sizeof(req->kernel_options)) &&
		       (streq(req->fstype, "binfmt_misc") || req->kernel_options[0]);
	if (req->op == HELPER_UMOUNT)
		return req->pid > 0 && memchr(req->target, '\0', sizeof(req->target)) && req->target[0];
	if (req->op != HELPER_MOUNT_FUSE)
		return false;
	if (req->root_mode != S_IFDIR && req->root_mode != S_IFREG)
		return false;
	if (req->pid < 0 || (req->fuse_flags & ~HELPER_FUSE_FLAGS_ALL))
		return false;
	return memchr(req->target, '\0', sizeof(req->target)) && req->target[0] &&
	       memchr(req->fstype, '\0', sizeof(req->fstype)) && req->fstype[0] &&
	       memchr(req->source, '\0', sizeof(req->source));
}

/* SIGKILL every process of the view: those in its user namespace (every
 * process of a view is; a process cannot leave it for a sibling), except
 * the programs the helper spawned (helper_programs_end). Twice, for the
 * ones forked meanwhile. */
static void kill_view_processes(void)
{
	struct stat own;
	if (stat("/proc/self/ns/user", &own) < 0)
		return;
	for (int round = 0; round < 2; round++) {
		DIR *d = opendir("/proc");
		if (!d)
			return;
		struct dirent *de;
		while ((de = readdir(d))) {
			char *end;
			long pid = strtol(de->d_name, &end, 10);
			if (*end || pid <= 1 || pid == getpid() || helper_programs_has((pid_t)pid))
				continue;
			char path[64];
			struct stat st;
			snprintf(path, sizeof(path), "/proc/%ld/ns/user", pid);
			if (stat(path, &st) == 0 && st.st_ino == own.st_ino && st.st_dev == own.st_dev)
				kill((pid_t)pid, SIGKILL);
		}
		closedir(d);
	}
}

_Noreturn void helper_main(int sock, bool kill_view_on_eof)
{
	/* Out of the terminal's process group: Ctrl-C is for the command. */
	setsid();
	signal(SIGPIPE, SIG_IGN);
	/* Spawned programs are reaped by the kernel; their pidfds tell the
	 * supervisor when they end. */
	struct sigaction sa = { .sa_handler = SIG_IGN, .sa_flags = SA_NOCLDWAIT };
	sigaction(SIGCHLD, &sa, NULL);

	static struct helper_request req;
	for (;;) {
		int in_fds[HELPER_SPAWN_FDS_MAX];
		ssize_t n = fd_recv(sock, &req, sizeof(req), in_fds, HELPER_SPAWN_FDS_MAX);
		if (n <= 0) {
			/* The supervisor is gone (or done with the view). */
			if (kill_view_on_eof)
				kill_view_processes();
			helper_programs_end(HELPER_PROGRAMS_END_TIMEOUT_MS);
			_exit(0);
		}
		size_t n_in = 0;
		while (n_in < HELPER_SPAWN_FDS_MAX && in_fds[n_in] >= 0)
			n_in++;
		struct helper_reply reply = { .result = -EINVAL };
		int fd = -1;
		if ((size_t)n == sizeof(req) && request_valid(&req)) {
			if (req.op == HELPER_SPAWN)
				reply.result = do_spawn(&req, in_fds, n_in, &fd);
			else if (n_in == 0 && req.op == HELPER_OPEN)
				reply.result = do_open(&req, &fd);
			else if (n_in == 0 && req.op == HELPER_LAYER_DEVICES)
				reply.result = do_layer_devices(&req);
			else if (n_in <= 1 && req.op == HELPER_MOUNT_KERNEL)
				reply.result = do_mount_kernel(&req, n_in ? in_fds[0] : -1);
			else if (n_in == 0 && req.op == HELPER_UMOUNT)
				reply.result = do_umount(&req);
			else if (req.op == HELPER_SOCKET)
				reply.result = n_in == 1 ? do_socket(&req, in_fds[0], &fd) : -EINVAL;
			else if (n_in == 0)
				reply.result = do_mount_fuse(&req, &fd);
		}
		for (size_t i = 0; i < n_in; i++)
			close(in_fds[i]);
		int r = fd_send(sock, &reply, sizeof(reply), &fd, fd >= 0 ? 1 : 0);
		if (fd >= 0)
			close(fd);
		if (r < 0)
			_exit(0);
	}
}

void helper_wait_end(pid_t helper_pid, int timeout_ms)
{
	int pidfd = (int)syscall(SYS_pidfd_open, helper_pid, 0);
	if (pidfd < 0)
		return; /* gone already */
	struct pollfd p = { .fd = pidfd, .events = POLLIN };
	while (poll(&p, 1, timeout_ms) < 0 && errno == EINTR)
		;
	close(pidfd);
}

int helper_call(int sock, const struct helper_request *req, const int *fds, size_t n_fds, int *ret_fd)
{
	int r = fd_send(sock, req, sizeof(*req), fds, n_fds);
	if (r < 0)
		return r == -EPIPE ? -ENOTCONN : r;
	struct helper_reply reply;
	int fd;
	ssize_t n = fd_recv(sock, &reply, sizeof(reply), &fd, 1);
	if (n < 0)
		return (int)n;
	if ((size_t)n != sizeof(reply)) {
		if (fd >= 0)
			close(fd);
		return -ENOTCONN;
	}
	if (reply.result < 0) {
		if (fd >= 0)
			close(fd);
		return reply.result;
	}
	if (ret_fd)
		*ret_fd = fd;
	else if (fd >= 0)
		close(fd);
	return reply.result;
}
