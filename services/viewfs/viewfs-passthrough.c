/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hide and mode: what the kernel cannot do, a FUSE passthrough of SOURCE
 * (or of TARGET itself) that viewfs serves, built on the engine of
 * common/passthrough.h: hidden paths and names, presented and enforced
 * permission bits and owners.
 *
 * The passthrough works on the directory as the calling process sees it,
 * opened through the view. The supervisor cannot reach into the view's
 * FUSE mounts (the kernel keeps processes of other user namespaces out),
 * so a SOURCE on one of them is refused — except on a passthrough of
 * viewfs's own: there the new mount takes that passthrough's host
 * directory and its rules, so stacking hide and mode mounts works.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "viewfs.h"

#define FUSE_SUPER_MAGIC 0x65735546

static char *fd_path(int fd)
{
	char link[32], buf[PATH_MAX];
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	ssize_t n = readlink(link, buf, sizeof(buf) - 1);
	if (n <= 0 || buf[0] != '/')
		return NULL;
	buf[n] = '\0';
	return strdup(buf);
}

/* The device of `fd` without asking its FUSE server (which would refuse us). */
static int dev_of(int fd, dev_t *ret)
{
	struct statx stx;
	if (statx(fd, "", AT_EMPTY_PATH | AT_STATX_DONT_SYNC, 0, &stx) < 0)
		return -errno;
	*ret = makedev(stx.stx_dev_major, stx.stx_dev_minor);
	return 0;
}

/* The mount's target as an absolute path of the view. */
static char *target_path(struct viewfs *v, const struct vos_mount_request *req)
{
	int fd = v->host->open(v->host->core, req->pid, req->target, O_PATH);
	if (fd >= 0) {
		char *p = fd_path(fd);
		close(fd);
		if (p)
			return p;
	}
	if (req->target[0] == '/')
		return strdup(req->target);
	char link[64], cwd[PATH_MAX];
	snprintf(link, sizeof(link), "/proc/%d/cwd", (int)req->pid);
	ssize_t n = readlink(link, cwd, sizeof(cwd) - 1);
	if (n <= 0)
		return NULL;
	cwd[n] = '\0';
	char *out;
	return asprintf(&out, "%s/%s", n > 1 ? cwd : "", req->target) < 0 ? NULL : out;
}

/* `fd` is on a FUSE mount of the view: if it is one of our passthroughs,
 * replace it by the host object behind it and return that passthrough's
 * rules for it. */
static int resolve_own(struct viewfs *v, const struct vos_mount_request *req, const char *source, int *fd,
		       struct passthrough_rules *ret_rules)
{
	dev_t dev;
	int r = dev_of(*fd, &dev);
	if (r < 0)
		return r;
	char *path = fd_path(*fd);
	if (!path)
		return -ENOENT;
	r = -EXDEV;
	pthread_mutex_lock(&v->lock);
	for (struct viewfs_mount *m = v->passthroughs; m && r == -EXDEV; m = m->next) {
		size_t len = strlen(m->target);
		if (strncmp(path, m->target, len) != 0 || (path[len] != '/' && path[len] != '\0'))
			continue;
		int top = v->host->open(v->host->core, req->pid, m->target, O_PATH);
		dev_t top_dev;
		bool same = top >= 0 && dev_of(top, &top_dev) == 0 && top_dev == dev;
		if (top >= 0)
			close(top);
		if (!same)
			continue;
		int host_fd;
		const char *rel = path[len] == '/' ? path + len + 1 : "";
		r = passthrough_sub(m->pt, rel, &host_fd, ret_rules);
		if (r == 0) {
			close(*fd);
			*fd = host_fd;
		}
	}
	pthread_mutex_unlock(&v->lock);
	free(path);
	if (r == -EXDEV)
		VIEWFS_LOG(v, "viewfs: %s is on a FUSE mount of the view (umfuse, or the layer over a directory "
			      "where mount points were made): hide and mode cannot pass it through", source);
	else if (r < 0)
		VIEWFS_LOG(v, "viewfs: %s: %s", source, strerror(-r));
	return r;
}

/* Bare hide: TARGET (not followed if a symlink) as the view sees it, split
 * into its directory (*ret_parent, allocated) and its name (pointing into
 * the same allocation). */
static int hide_self_split(struct viewfs *v, const struct vos_mount_request *req, bool own_source,
			   char **ret_parent, const char **ret_name)
{
	if (own_source) {
		VIEWFS_LOG(v, "viewfs: hide (alone) hides the target itself: give SOURCE none "
			      "(mount -t viewfs -o hide none PATH)");
		return -EINVAL;
	}
	int fd = v->host->open(v->host->core, req->pid, req->target, O_PATH | O_NOFOLLOW);
	if (fd < 0) {
		VIEWFS_LOG(v, "viewfs: hide: %s: %s", req->target, strerror(-fd));
		return fd;
	}
	char *path = fd_path(fd);
	close(fd);
	if (!path)
		return -ENOMEM;
	char *slash = strrchr(path, '/');
	if (!slash || !slash[1]) {
		VIEWFS_LOG(v, "viewfs: hide: %s: the root cannot be hidden", req->target);
		free(path);
		return -EINVAL;
	}
	/* "/name": the parent is "/"; keep the name after it. */
	size_t plen = slash == path ? 1 : (size_t)(slash - path);
	char *out = malloc(strlen(path) + 2);
	if (!out) {
		free(path);
		return -ENOMEM;
	}
	memcpy(out, path, plen);
	out[plen] = '\0';
	strcpy(out + plen + 1, slash + 1);
	free(path);
	*ret_parent = out;
	*ret_name = out + plen + 1;
	return 0;
}

static int read_idmap(pid_t pid, const char *which, struct passthrough_idmap *map)
{
	char path[64], buf[4096];
	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, which);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -EIO;
	buf[n] = '\0';
	return passthrough_idmap_parse(buf, map);
}

int viewfs_passthrough_mount(struct viewfs *v, const struct vos_mount_request *req, const struct viewfs_args *a,
			     struct vos_fs_mount *ret_mount)
{
	bool own_source = req->source && req->source[0] && strcmp(req->source, "none") != 0;
	const char *source = own_source ? req->source : req->target;
	/* Bare hide: TARGET itself vanishes, through a passthrough of its
	 * directory mounted there (vos_fs_mount.mount_target); umount of
	 * TARGET brings it back. */
	char *parent = NULL;
	const char *self_name = NULL;
	if (a->hide_self) {
		int r = hide_self_split(v, req, own_source, &parent, &self_name);
		if (r < 0)
			return r;
		source = parent;
	}
	int fd = v->host->open(v->host->core, req->pid, source, O_PATH);
	if (fd < 0) {
		VIEWFS_LOG(v, "viewfs: %s: %s", source, strerror(-fd));
		free(parent);
		return fd;
	}
	struct passthrough_rules lower = { 0 };
	struct statfs sfs;
	int r = fstatfs(fd, &sfs) < 0 ? -errno : 0;
	if (r == 0 && sfs.f_type == FUSE_SUPER_MAGIC)
		r = resolve_own(v, req, source, &fd, &lower);
	struct stat st;
	if (r == 0 && fstat(fd, &st) < 0)
		r = -errno;
	if (r == 0 && !S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode)) {
		VIEWFS_LOG(v, "viewfs: %s: hide and mode take a directory or a regular file", source);
		r = -EINVAL;
	}
	if (r == 0 && !S_ISDIR(st.st_mode) && (a->n_hide || a->n_hidename)) {
		VIEWFS_LOG(v, "viewfs: %s: hide needs a directory (hide=NAME hides DIR/NAME)", source);
		r = -ENOTDIR;
	}

	/* The lower passthrough's rules first: ours win where both speak. */
	size_t n_rules = lower.n_rules + a->n_hide + 2, n_names = lower.n_hidden_names + a->n_hidename;
	struct passthrough_rule *rules = calloc(n_rules, sizeof(*rules));
	const char **names = calloc(n_names + 1, sizeof(*names));
	if (r == 0 && (!rules || !names))
		r = -ENOMEM;
	size_t nr = 0, nn = 0;
	if (r == 0) {
		for (size_t i = 0; i < lower.n_rules; i++)
			rules[nr++] = lower.rules[i];
		for (size_t i = 0; i < a->n_hide; i++)
			rules[nr++] = (struct passthrough_rule){ .path = a->hide[i], .hide = true };
		if (self_name)
			rules[nr++] = (struct passthrough_rule){ .path = self_name, .hide = true };
		if (a->attr.set_mode || a->attr.set_uid || a->attr.set_gid)
			rules[nr++] = (struct passthrough_rule){ .path = "", .attr = a->attr };
		for (size_t i = 0; i < lower.n_hidden_names; i++)
			names[nn++] = lower.hidden_names[i];
		for (size_t i = 0; i < a->n_hidename; i++)
			names[nn++] = a->hidename[i];
	}

	struct passthrough_config config = {
		.root_fd = fd,
		.ids = PASSTHROUGH_IDS_MAP,
		.act_as_caller = true,
		.hooks = { .rules = rules, .n_rules = nr, .hidden_names = names, .n_hidden_names = nn },
	};
	if (r == 0 && ((r = read_idmap(req->pid, "uid_map", &config.uid_map)) < 0 ||
		       (r = read_idmap(req->pid, "gid_map", &config.gid_map)) < 0))
		VIEWFS_LOG(v, "viewfs: cannot read the view's id maps: %s", strerror(-r));

	struct viewfs_mount *m = NULL;
	if (r == 0) {
		m = calloc(1, sizeof(*m));
		if (!m || !(m->target = parent ? strdup(parent) : target_path(v, req)))
			r = -ENOMEM;
	}
	if (r == 0) {
		fd = -1; /* passthrough_new takes it */
		if ((r = passthrough_new(&config, &m->pt)) < 0)
			VIEWFS_LOG(v, "viewfs: cannot pass %s through: %s", source, strerror(-r));
	}
	free(rules);
	free(names);
	free(parent); /* self_name pointed into it */
	bool stacked = lower.n_rules || lower.n_hidden_names;
	passthrough_rules_free(&lower);
	if (fd >= 0)
		close(fd);
	if (r < 0) {
		if (m)
			free(m->target);
		free(m);
		return r;
	}
	m->passthrough = true;
	m->service = v;
	if (a->debug)
		VIEWFS_LOG(v, "viewfs: passthrough of %s on %s (%s): %zu hidden paths, %zu hidden names, %s%s%s",
			   source, req->target, m->target, a->n_hide, a->n_hidename,
			   a->attr.set_mode || a->attr.set_uid || a->attr.set_gid ? "presented attributes" : "no attributes",
			   a->attr.recursive ? " (recursive)" : "", stacked ? ", over a viewfs passthrough" : "");
	pthread_mutex_lock(&v->lock);
	m->next = v->passthroughs;
	v->passthroughs = m;
	pthread_mutex_unlock(&v->lock);
	*ret_mount = (struct vos_fs_mount){
		.ops = &passthrough_ops,
		.ops_size = sizeof(passthrough_ops),
		.userdata = m->pt,
		.root_mode = S_ISDIR(st.st_mode) ? S_IFDIR : S_IFREG,
		.mount_target = a->hide_self ? m->target : NULL,
	};
	return 0;
}

bool viewfs_passthrough_unmount(struct viewfs *v, void *userdata)
{
	pthread_mutex_lock(&v->lock);
	struct viewfs_mount **p = &v->passthroughs;
	while (*p && (*p)->pt != userdata)
		p = &(*p)->next;
	struct viewfs_mount *m = *p;
	if (m)
		*p = m->next;
	pthread_mutex_unlock(&v->lock);
	if (!m)
		return false;
	passthrough_free(m->pt);
	free(m->target);
	free(m);
	return true;
}
