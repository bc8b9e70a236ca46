/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * viewfs: reorganise the filesystem one view sees, mostly with the kernel's
 * own mounts made in the view (its user and mount namespaces), so data runs at
 * native speed and nothing on the host changes:
 *
 *   mount -t viewfs [-o move] SOURCE TARGET   bind mount of SOURCE at TARGET
 *   mount -t viewfs -o merge SOURCE TARGET    overlay lowerdir=SOURCE:TARGET
 *                                             (SOURCE wins, read-only), with
 *                                             TARGET-only directories bound
 *                                             read-only on top (viewfs-merge.c;
 *                                             not with overlayonly)
 *   mount -t viewfs -o cow[,renew] LAYER TARGET
 *   mount -t viewfs -o mincow[,renew] LAYER TARGET
 *                                             overlay lowerdir=TARGET,
 *                                             upperdir=LAYER: every change
 *                                             lands in LAYER
 *
 * In a view that does not map the host's root, over a TARGET owned by an
 * id the view does not map (root's /usr), overlayfs would refuse every
 * write: there cow is served by fuse-overlayfs, run outside the view
 * (viewfs-fuse-cow.c); `-o cow,fuse` asks for that anywhere.
 *
 * overlayfs needs a work directory on the layer's filesystem that is not
 * inside the layer: viewfs uses `.NAME.viewfs-work` beside the layer
 * directory NAME (created on first use, kept for the next mount).
 *
 *   mount -t viewfs -o merge|cow,except=PATH ...
 *                                             PATH (below TARGET) stays the
 *                                             original: bound back on top
 *                                             by the core (mount-trap.c)
 *
 * hide=, hidename=, mode=, uid=, gid=, and bare hide (`-o hide none PATH`:
 * PATH itself vanishes, a passthrough of its directory mounted there)
 * need what the kernel cannot do: a FUSE passthrough served by viewfs
 * itself (viewfs-passthrough.c).
 *
 * The service is named "viewfs" and its one filesystem is the catch-all
 * "*": only the empty subtype (`-t viewfs` itself) is accepted.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "viewfs.h"

#define LOG VIEWFS_LOG

/* A path as process `pid` sees it, reachable from here. */
static char *path_in(pid_t pid, const char *path)
{
	char *out;
	if (asprintf(&out, "/proc/%d/%s%s%s", pid, path[0] == '/' ? "root" : "cwd", path[0] == '/' ? "" : "/",
		     path) < 0)
		return NULL;
	return out;
}

/* Through the view (its FUSE mounts included, whose content the
 * supervisor itself may not see). */
static int open_in(struct viewfs *v, pid_t pid, const char *path, int flags)
{
	return v->host->open(v->host->core, pid, path, flags | O_CLOEXEC);
}

/* Is `fd` on a FUSE mount of the view? Then fstat() is refused to us. */
static bool on_fuse(int fd)
{
	struct statfs sfs;
	return fstatfs(fd, &sfs) == 0 && sfs.f_type == 0x65735546 /* FUSE_SUPER_MAGIC */;
}

/* The work directory beside the layer `source` (as the caller wrote it):
 * "DIR/.NAME.viewfs-work", created if missing. ret_path: as the caller sees it. */
static int layer_workdir(struct viewfs *v, pid_t pid, const char *source, char **ret_path)
{
	char *copy = strdup(source);
	if (!copy)
		return -ENOMEM;
	size_t len = strlen(copy);
	while (len > 1 && copy[len - 1] == '/')
		copy[--len] = '\0';
	char *slash = strrchr(copy, '/');
	const char *name = slash ? slash + 1 : copy;
	const char *dir = slash ? (slash == copy ? "/" : copy) : ".";
	if (slash)
		*slash = '\0';
	int r = 0;
	char *path = NULL;
	if (!name[0] || strcmp(name, ".") == 0 || strcmp(name, "..") == 0) {
		LOG(v, "viewfs: %s: name the layer directory itself (not '.', '..' or '/')", source);
		r = -EINVAL;
	} else if (asprintf(&path, "%s%s.%s.viewfs-work", dir, strcmp(dir, "/") == 0 ? "" : "/", name) < 0) {
		path = NULL;
		r = -ENOMEM;
	} else {
		char *p = path_in(pid, path);
		if (!p)
			r = -ENOMEM;
		else if (mkdir(p, 0700) < 0 && errno != EEXIST) {
			r = -errno;
			LOG(v, "viewfs: cannot create the work directory %s: %s", path, strerror(-r));
		}
		free(p);
	}
	free(copy);
	if (r < 0) {
		free(path);
		return r;
	}
	*ret_path = path;
	return 0;
}

/* Checks on SOURCE and TARGET, each failure one line. */
static int check_paths(struct viewfs *v, const struct vos_mount_request *req, const struct viewfs_args *a)
{
	const char *mode = viewfs_mode_name(a->mode);
	int src = open_in(v, req->pid, req->source, O_PATH);
	if (src < 0) {
		LOG(v, "viewfs: %s: %s", req->source, strerror(-src));
		return src;
	}
	int tgt = open_in(v, req->pid, req->target, O_PATH);
	int r = 0;
	struct stat ss, ts;
	if (tgt < 0) {
		if (a->mode == VIEWFS_MOVE && tgt == -ENOENT)
			goto out; /* the core creates the mount point in the view */
		r = tgt;
		LOG(v, "viewfs: %s: %s", req->target, strerror(-r));
		goto out;
	}
	/* On a FUSE mount of the view (umfuse, a viewfs passthrough) only the
	 * kernel can look: it reports type mismatches and overlapping layers. */
	if (on_fuse(src) || on_fuse(tgt))
		goto out;
	if (fstat(src, &ss) < 0) {
		r = -errno;
		goto out;
	}
	if (fstat(tgt, &ts) < 0) {
		r = -errno;
		goto out;
	}
	if (ss.st_dev == ts.st_dev && ss.st_ino == ts.st_ino) {
		LOG(v, "viewfs: %s: source and target are the same", req->target);
		r = -EINVAL;
		goto out;
	}
	if (a->mode == VIEWFS_MOVE) {
		if (S_ISDIR(ss.st_mode) != S_ISDIR(ts.st_mode)) {
			LOG(v, "viewfs: %s and %s: a directory and a file", req->source, req->target);
			r = S_ISDIR(ss.st_mode) ? -ENOTDIR : -EISDIR;
		}
		goto out;
	}
	bool layer = a->mode == VIEWFS_COW || a->mode == VIEWFS_MINCOW;
	if (!S_ISDIR(ss.st_mode) || !S_ISDIR(ts.st_mode)) {
		LOG(v, "viewfs: %s: %s must be a directory", S_ISDIR(ss.st_mode) ? req->target : req->source,
		    !S_ISDIR(ss.st_mode) && layer ? "the layer" : mode);
		r = -ENOTDIR;
		goto out;
	}
	bool inside;
	if ((r = viewfs_is_within(tgt, src, &inside)) < 0)
		goto out;
	if (inside) {
		LOG(v, "viewfs: %s is inside %s: %s would loop", req->source, req->target, mode);
		r = -ELOOP;
		goto out;
	}
	if ((r = viewfs_is_within(src, tgt, &inside)) < 0)
		goto out;
	if (inside) {
		LOG(v, "viewfs: %s is inside %s: %s would loop", req->target, req->source, mode);
		r = -ELOOP;
		goto out;
	}
	struct statvfs sv;
	if (layer && fstatvfs(src, &sv) == 0 && (sv.f_flag & ST_RDONLY)) {
		LOG(v, "viewfs: layer %s is on a read-only filesystem", req->source);
		r = -EINVAL; /* not EROFS: mount(8) would retry read-only and repeat the line */
	}
out:
	close(src);
	if (tgt >= 0)
		close(tgt);
	return r;
}

/* except=PATH: each must exist below TARGET (as the caller sees it). */
static int check_excepts(struct viewfs *v, const struct vos_mount_request *req, const struct viewfs_args *a)
{
	for (size_t i = 0; i < a->n_except; i++) {
		char *path;
		if (asprintf(&path, "%s/%s", req->target, a->except[i]) < 0)
			return -ENOMEM;
		int fd = v->host->open(v->host->core, req->pid, path, O_PATH);
		if (fd < 0)
			LOG(v, "viewfs: except=%s: %s: %s", a->except[i], path, strerror(-fd));
		else
			close(fd);
		free(path);
		if (fd < 0)
			return fd;
	}
	return 0;
}

static int renew_layer(struct viewfs *v, const struct vos_mount_request *req)
{
	int dir = open_in(v, req->pid, req->source, O_PATH | O_DIRECTORY);
	int r = dir < 0 ? dir : viewfs_empty_dir(dir);
	if (dir >= 0)
		close(dir);
	if (r < 0)
		LOG(v, "viewfs: renew: cannot empty the layer %s: %s", req->source, strerror(-r));
	return r;
}

/* merge: TARGET's own directories, bound read-only over the overlay by the
 * core (viewfs-merge.c). Without them (an unreadable tree, say) overlayfs
 * serves everything, as with overlayonly. */
static void add_merge_binds(struct viewfs *v, const struct vos_mount_request *req, const struct viewfs_args *a,
			    char *buf, size_t size)
{
	int source = open_in(v, req->pid, req->source, O_RDONLY | O_DIRECTORY);
	int target = source < 0 ? source : open_in(v, req->pid, req->target, O_RDONLY | O_DIRECTORY);
	size_t count = 0;
	int r = target < 0 ? target : viewfs_merge_binds(source, target, buf, size, VIEWFS_MERGE_BINDS_MAX, &count);
	if (a->debug)
		LOG(v, "viewfs: merge %s on %s: %zu directories bound%s%s", req->source, req->target, count,
		    r < 0 ? ": " : "", r < 0 ? strerror(-r) : "");
	if (source >= 0)
		close(source);
	if (target >= 0)
		close(target);
}

/* merge: lowerdir=SOURCE:TARGET; cow: lowerdir=TARGET,upperdir=SOURCE,workdir=WORK */
static int build_options(struct viewfs *v, const struct vos_mount_request *req, const struct viewfs_args *a,
			 struct viewfs_mount *m)
{
	char *buf = m->options;
	size_t size = sizeof(m->options);
	buf[0] = '\0';
	if (a->mode == VIEWFS_MERGE) {
		int r;
		if ((r = viewfs_append_raw(buf, size, "lowerdir=")) < 0 || (r = viewfs_escape_append(buf, size, req->source)) < 0 ||
		    (r = viewfs_append_raw(buf, size, ":")) < 0 || (r = viewfs_escape_append(buf, size, req->target)) < 0)
			return r;
		if (!a->overlay_only && !a->n_except)
			add_merge_binds(v, req, a, buf, size);
		return 0;
	}
	char *work = NULL;
	int r = layer_workdir(v, req->pid, req->source, &work);
	if (r < 0)
		return r;
	if ((r = viewfs_append_raw(buf, size, "lowerdir=")) >= 0 && (r = viewfs_escape_append(buf, size, req->target)) >= 0 &&
	    (r = viewfs_append_raw(buf, size, ",upperdir=")) >= 0 && (r = viewfs_escape_append(buf, size, req->source)) >= 0 &&
	    (r = viewfs_append_raw(buf, size, ",workdir=")) >= 0)
		r = viewfs_escape_append(buf, size, work);
	free(work);
	return r;
}

/* cow over a tree the view's root cannot change: fuse-overlayfs serves it
 * (viewfs-fuse-cow.c). -EAGAIN: overlayfs can do it. */
static int fuse_cow_mount(struct viewfs *v, const struct vos_mount_request *req, const struct viewfs_args *a,
			  struct vos_fs_mount *ret_mount)
{
	int target = open_in(v, req->pid, req->target, O_PATH | O_DIRECTORY);
	if (target < 0)
		return target;
	bool fuse = a->fuse;
	int r = 0;
	if (!fuse && !on_fuse(target))
		r = viewfs_cow_needs_fuse(v, req, target, &fuse);
	if (r < 0 || !fuse) {
		close(target);
		return r < 0 ? r : -EAGAIN;
	}
	int layer = -1;
	char *work = NULL;
	struct viewfs_fuse_cow *cow = NULL;
	if (a->n_except) {
		LOG(v, "viewfs: except= does not go with cow through fuse-overlayfs (%s)",
		    a->fuse ? "the fuse option" : "a tree owned by a user the view does not map");
		r = -EINVAL;
	}
	if (r == 0 && (layer = open_in(v, req->pid, req->source, O_PATH | O_DIRECTORY)) < 0)
		r = layer;
	if (r == 0 && a->renew)
		r = renew_layer(v, req);
	if (r == 0)
		r = layer_workdir(v, req->pid, req->source, &work);
	if (r == 0)
		r = viewfs_fuse_cow_prepare(v, req, layer, target, work, &cow);
	struct viewfs_mount *m = NULL;
	if (r == 0 && !(m = calloc(1, sizeof(*m))))
		r = -ENOMEM;
	if (r == 0 && a->debug)
		LOG(v, "viewfs: %s %s on %s: fuse-overlayfs", viewfs_mode_name(a->mode), req->source, req->target);
	close(target);
	if (layer >= 0)
		close(layer);
	free(work);
	if (r < 0) {
		viewfs_fuse_cow_free(cow);
		return r;
	}
	m->cow = cow;
	*ret_mount = (struct vos_fs_mount){
		.serve = viewfs_fuse_cow_serve,
		.userdata = m,
		.root_mode = S_IFDIR,
	};
	return 0;
}

static int viewfs_mount(void *service, const struct vos_mount_request *req, struct vos_fs_mount *ret_mount)
{
	struct viewfs *v = service;
	if (req->subtype[0]) {
		LOG(v, "viewfs: unknown type '%s' (the type is just 'viewfs')", req->type);
		return -ENODEV;
	}
	struct viewfs_args a;
	int r = viewfs_args_parse(v->host, req->options, &a);
	if (r < 0)
		return r;
	if (a.passthrough) {
		r = viewfs_passthrough_mount(v, req, &a, ret_mount);
		viewfs_args_free(&a);
		return r;
	}
	if (!req->source || !req->source[0] || strcmp(req->source, "none") == 0) {
		LOG(v, "viewfs: %s needs a SOURCE (mount -t viewfs -o %s SOURCE TARGET)", viewfs_mode_name(a.mode),
		    viewfs_mode_name(a.mode));
		viewfs_args_free(&a);
		return -EINVAL;
	}
	if ((r = check_paths(v, req, &a)) < 0 || (r = check_excepts(v, req, &a)) < 0) {
		viewfs_args_free(&a);
		return r;
	}

	if (a.mode == VIEWFS_COW || a.mode == VIEWFS_MINCOW) {
		r = fuse_cow_mount(v, req, &a, ret_mount);
		if (r != -EAGAIN) {
			viewfs_args_free(&a);
			return r;
		}
		r = 0;
	}

	struct viewfs_mount *m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	const char *fstype = "overlay";
	if (a.mode == VIEWFS_MOVE) {
		fstype = "bind";
		if (snprintf(m->options, sizeof(m->options), "%s", req->source) >= (int)sizeof(m->options))
			r = -ENAMETOOLONG;
	} else {
		if (a.renew)
			r = renew_layer(v, req);
		if (r >= 0)
			r = build_options(v, req, &a, m);
	}
	/* except=PATH: the core binds TARGET/PATH, as it was, back on top. */
	for (size_t i = 0; r >= 0 && i < a.n_except; i++)
		if ((r = viewfs_append_raw(m->options, sizeof(m->options), ",except=")) >= 0)
			r = viewfs_escape_append(m->options, sizeof(m->options), a.except[i]);
	viewfs_args_free(&a);
	if (r < 0) {
		if (r == -ENAMETOOLONG)
			LOG(v, "viewfs: paths too long");
		free(m);
		return r;
	}
	if (a.debug)
		LOG(v, "viewfs: %s %s on %s: %s %s", viewfs_mode_name(a.mode), req->source, req->target, fstype,
		    m->options);
	*ret_mount = (struct vos_fs_mount){
		.userdata = m,
		.kernel_fstype = fstype,
		.kernel_options = m->options,
	};
	return 0;
}

static void viewfs_unmount(void *service, void *userdata)
{
	if (viewfs_passthrough_unmount(service, userdata))
		return;
	struct viewfs_mount *m = userdata; /* a kernel mount's options, or fuse-overlayfs */
	viewfs_fuse_cow_free(m->cow);
	free(m);
}

static const struct vos_filesystem viewfs_fs = {
	.name = "*", /* every subtype reaches us; only "" is accepted */
	.description = "move, merge, cow (bind and overlay mounts); hide and mode (a passthrough)",
	.mount = viewfs_mount,
	.unmount = viewfs_unmount,
};

static const struct vos_filesystem *const viewfs_filesystems[] = {
	&viewfs_fs,
	NULL,
};

static int viewfs_init(const struct vos_service_host *host, const struct vos_options *options,
		       void **ret_service)
{
	if (options && options->count > 0) {
		host->log(host->core, "viewfs: unknown option '%s' (viewfs takes none when added)",
			  options->items[0].key);
		return -EINVAL;
	}
	struct viewfs *v = calloc(1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	v->host = host;
	pthread_mutex_init(&v->lock, NULL);
	*ret_service = v;
	return 0;
}

static void viewfs_fini(void *service)
{
	struct viewfs *v = service;
	pthread_mutex_destroy(&v->lock);
	free(v);
}

static const struct vos_service viewfs_service = {
	.abi_major = VOS_SERVICE_ABI_MAJOR,
	.abi_minor = VOS_SERVICE_ABI_MINOR,
	.size = sizeof(struct vos_service),
	.name = "viewfs",
	.description = "reorganise the view's filesystem: move, merge, copy-on-write, hide, permissions",
	.init = viewfs_init,
	.fini = viewfs_fini,
	.filesystems = viewfs_filesystems,
};

VOS_SERVICE_DEFINE(viewfs_service);
