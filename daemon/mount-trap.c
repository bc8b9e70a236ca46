/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The trapped mount family: a mount whose type names a loaded service is
 * served by that service on a kernel FUSE connection; everything else is
 * handed back to the kernel unchanged. */
#include "mount-trap.h"

#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "caller-path.h"
#include "fuse-device.h"
#include "fuse-serve.h"
#include "helper.h"
#include "ioctl-trap.h"
#include "netstack.h"
#include "notify.h"
#include "service-fault.h"
#include "supervisor.h"
#include "util.h"

#define MOUNT_TYPE_MAX 64
#define MOUNT_DATA_MAX 4096

/* Flags that make mount(2) ignore the type: never a service's business. */
#define MOUNT_TYPELESS_FLAGS (MS_BIND | MS_MOVE | MS_REMOUNT | MS_SHARED | MS_PRIVATE | MS_SLAVE | MS_UNBINDABLE)

static void mount_ended(void *ctx)
{
	struct view_mount *m = ctx;
	struct vos_view *v = m->view;
	/* The kernel sends nothing more on this connection: a device can go
	 * (memory of a ramdisk, fd of an image) once all its nodes have. */
	if (m->node)
		device_node_end(m->node);
	pthread_mutex_lock(&v->lock);
	m->ended = true;
	m->service->mounts--;
	pthread_cond_broadcast(&v->changed);
	pthread_mutex_unlock(&v->lock);
	supervisor_debug(v->sup, "view %u: %s on %s ended", v->id, m->type, m->target);
}

/* "/proc/PID/root/abs" or "/proc/PID/cwd/rel": the path as the calling
 * process sees it, reachable from the supervisor. */
static char *path_in_process(pid_t pid, const char *path)
{
	char *out;
	if (asprintf(&out, "/proc/%d/%s%s%s", pid, path[0] == '/' ? "root" : "cwd",
		     path[0] == '/' ? "" : "/", path) < 0)
		return NULL;
	return out;
}

static struct view_mount *view_mount_new(struct vos_view *v, struct view_service *svc,
					 const struct vos_mount_request *req, const char *target)
{
	struct view_mount *m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	m->view = v;
	m->service = svc;
	m->type = strdup(req->type);
	m->source = req->source ? strdup(req->source) : NULL;
	m->target = strdup(target);
	if (!m->type || !m->target || (req->source && !m->source)) {
		free(m->type), free(m->source), free(m->target), free(m);
		return NULL;
	}
	return m;
}

/* What the helper mounts and the core serves for one node. */
struct node_serving {
	const struct fuse_lowlevel_ops *ops;
	size_t ops_size;
	void *userdata;
	void (*serve)(void *userdata, int fuse_fd);
	mode_t root_mode;
};

static void kernel_detach(struct vos_view *v, pid_t pid, const char *target, uint64_t id);

/* How long a mount waits for its server to take the kernel's INIT. A
 * server that is merely slow gets its mount anyway after that. */
#define FUSE_INIT_WAIT_MS 5000

/* True once the server has read the INIT request that the kernel queued
 * on the connection at mount time (no other request can come before the
 * reply), false if it ended first. `watch` is a copy of the connection. */
static bool server_took_init(struct vos_view *v, struct view_mount *m, int watch)
{
	int step_ms = 1;
	for (int waited = 0; waited < FUSE_INIT_WAIT_MS; waited += step_ms, step_ms = step_ms < 32 ? step_ms * 2 : 32) {
		struct pollfd p = { .fd = watch, .events = POLLIN };
		bool pending = poll(&p, 1, 0) > 0 && (p.revents & POLLIN);
		struct timespec deadline = realtime_after_ms(step_ms);
		pthread_mutex_lock(&v->lock);
		if (pending && !m->ended)
			pthread_cond_timedwait(&v->changed, &v->lock, &deadline);
		bool ended = m->ended;
		pthread_mutex_unlock(&v->lock);
		if (ended)
			return false;
		if (!pending)
			return true;
	}
	return true;
}

/* Mount one FUSE node at `target` through the helper, start serving it,
 * and publish `m` in the view. On failure the caller still owns `m`. */
static int mount_node(struct vos_view *v, const struct vos_mount_request *req, const char *target,
		      const struct node_serving *serving, struct view_mount *m)
{
	struct helper_request hreq = {
		.op = HELPER_MOUNT_FUSE,
		.root_mode = serving->root_mode,
		.pid = req->pid,
		.mount_flags = (uint32_t)req->flags,
	};
	if (snprintf(hreq.target, sizeof(hreq.target), "%s", target) >= (int)sizeof(hreq.target))
		return -ENAMETOOLONG;
	snprintf(hreq.fstype, sizeof(hreq.fstype), "%s", req->type);
	snprintf(hreq.source, sizeof(hreq.source), "%s", req->source ? req->source : req->type);

	int r = view_prepare_mount_point(v, req->pid, target);
	if (r < 0)
		return r;
	int fuse_fd = -1;
	pthread_mutex_lock(&v->helper_lock);
	r = helper_call(v->helper, &hreq, NULL, 0, &fuse_fd);
	pthread_mutex_unlock(&v->helper_lock);
	if (r < 0)
		return r;
	uint64_t mount_id = (uint64_t)r;

	/* A service that serves the connection itself (a FUSE program) may
	 * refuse its arguments and end before it takes the kernel's INIT:
	 * keep the connection open until it has, so that such a mount fails
	 * here instead of staying behind, dead. */
	_cleanup_close_ int watch = serving->serve ? fcntl(fuse_fd, F_DUPFD_CLOEXEC, 3) : -1;
	pthread_mutex_lock(&v->lock);
	m->service->mounts++;
	pthread_mutex_unlock(&v->lock);
	if (serving->serve)
		r = fuse_server_start_custom(fuse_fd, serving->serve, serving->userdata, mount_ended, m,
					     &m->service->guard, &m->server);
	else
		r = fuse_server_start(fuse_fd, serving->ops, serving->ops_size, serving->userdata,
				      mount_ended, m, &m->service->guard, &m->server);
	if (r < 0) {
		/* The mount exists but nobody serves it: with its fd closed,
		 * every access fails with ENOTCONN. */
		pthread_mutex_lock(&v->lock);
		m->service->mounts--;
		pthread_mutex_unlock(&v->lock);
		return r;
	}
	if (watch >= 0 && !server_took_init(v, m, watch)) {
		close(TAKE_FD(watch)); /* the last copy: the connection aborts */
		kernel_detach(v, req->pid, target, mount_id);
		fuse_server_join(m->server, FUSE_INIT_WAIT_MS);
		m->server = NULL;
		supervisor_debug(v->sup, "view %u: %s on %s: its server ended before it started serving", v->id,
			       req->type, target);
		return -EINVAL; /* mount(8): "wrong fs type, bad option, ..." */
	}
	pthread_mutex_lock(&v->lock);
	m->next = v->mounts;
	v->mounts = m;
	pthread_mutex_unlock(&v->lock);
	supervisor_debug(v->sup, "view %u: mounted %s (%s) on %s", v->id, req->type,
			 req->source ? req->source : "none", target);
	return 0;
}

/* A device node's own fields, once mounted: who answers poll (services
 * built for ABI >= 1.2 only: older ones have a shorter ops table), and
 * its st_dev for the trapped ioctls (ioctl-trap.h). */
static void node_poll_setup(struct view_service *svc, const struct vos_device *dev,
			      struct device_node *node)
{
	node->poll_fd = svc->module->desc.abi_minor >= 2 ? dev->ops->poll_fd : NULL;
	node->read_source = svc->module->desc.abi_minor >= 3 ? dev->ops->read_source : NULL;
}

static void node_record_dev(struct vos_view *v, const struct vos_mount_request *req, const char *target,
				   struct view_mount *m)
{
	dev_t dev = 0;
	if (ioctl_trap_node_dev(v, req->pid, target, &dev) < 0)
		supervisor_debug(v->sup, "view %u: %s: device number unknown, its size-less ioctls fail", v->id, target);
	pthread_mutex_lock(&v->lock);
	m->dev = dev;
	pthread_mutex_unlock(&v->lock);
}

/* A disk's partitions, as calls into its service: none if it crashes. */
static unsigned partition_count(struct view_service *svc, const struct vos_device *dev, void *instance)
{
	unsigned n = 0;
	if (dev->ops->partition_count && dev->ops->partition)
		SERVICE_CALL(&svc->guard, "partition_count", n = 0, n = dev->ops->partition_count(instance));
	return n;
}

static void *partition_of(struct view_service *svc, const struct vos_device *dev, void *instance, unsigned i)
{
	void *part;
	SERVICE_CALL(&svc->guard, "partition", part = NULL, part = dev->ops->partition(instance, i));
	return part;
}

/* A device: the main node at target, and its partitions at target1... */
static int start_device(struct vos_view *v, struct view_service *svc, const struct vos_device *dev,
			const struct vos_mount_request *req, const char *target)
{
	void *instance = NULL;
	int r;
	SERVICE_CALL(&svc->guard, "mount", r = -EIO, r = dev->create(svc->data, req, &instance));
	if (r < 0)
		return r;

	struct view_mount *m = view_mount_new(v, svc, req, target);
	struct device_node *node = m ? device_node_new(dev, instance, NULL) : NULL;
	if (!node) {
		free(m);
		if (dev->ops->destroy)
			SERVICE_CALL(&svc->guard, "destroy", (void)0, dev->ops->destroy(instance));
		return -ENOMEM;
	}
	node->guard = &svc->guard;
	m->node = node;
	node_poll_setup(svc, dev, node);
	struct node_serving serving = {
		.ops = &device_node_ops, .ops_size = sizeof(device_node_ops),
		.userdata = node, .root_mode = S_IFREG,
	};
	if ((r = mount_node(v, req, target, &serving, m)) < 0) {
		view_mount_free(m);
		return r;
	}
	node_record_dev(v, req, target, m);

	unsigned parts = partition_count(svc, dev, instance);
	for (unsigned i = 1; i <= parts; i++) {
		char *part_target;
		if (asprintf(&part_target, "%s%u", target, i) < 0)
			return -ENOMEM;
		void *part = partition_of(svc, dev, instance, i);
		if (service_guard_crashed(&svc->guard)) {
			free(part_target);
			return -EIO; /* the disk's mount is cut already */
		}
		struct view_mount *pm = view_mount_new(v, svc, req, part_target);
		struct device_node *pnode = pm ? device_node_new(dev, part, node) : NULL;
		if (!pnode) {
			free(pm);
			free(part_target);
			return -ENOMEM;
		}
		pnode->guard = &svc->guard;
		pm->node = pnode;
		node_poll_setup(svc, dev, pnode);
		serving.userdata = pnode;
		r = mount_node(v, req, part_target, &serving, pm);
		if (r < 0) {
			free(part_target);
			view_mount_free(pm);
			return r; /* the disk and earlier partitions stay mounted */
		}
		node_record_dev(v, req, part_target, pm);
		free(part_target);
	}
	return 0;
}

/* viewfs's binds on top of its overlay, items of the overlay's options
 * that are taken out before it is mounted:
 *   except=PATH  PATH below the target keeps its original content;
 *   keep=NAME    the same, read-only: a directory only TARGET has, which
 *                a merge shows unchanged (services/viewfs/viewfs-merge.c).
 * Each original is opened through the helper before the overlay covers
 * it, and the helper binds that fd. Each bind is a kernel mount of its
 * own, recorded with type EXCEPT_TYPE, its path below the target as
 * `source` and the overlay in `fs_userdata`; umount of the overlay
 * removes them first. */
#define LAYER_BINDS_MAX 256
#define EXCEPT_TYPE "viewfs except="

struct except_list {
	size_t n;
	char *rel[LAYER_BINDS_MAX];
	bool read_only[LAYER_BINDS_MAX];
	int fd[LAYER_BINDS_MAX];
	struct view_mount *bound[LAYER_BINDS_MAX];
};

static void except_list_free(struct except_list *ex)
{
	for (size_t i = 0; i < ex->n; i++) {
		free(ex->rel[i]);
		if (ex->fd[i] >= 0)
			close(ex->fd[i]);
		view_mount_free(ex->bound[i]);
	}
	ex->n = 0;
}

/* Copy overlay `options` to `out` without its except= and keep= items,
 * collected (unescaped) into `ex`. */
static int except_split(const char *options, char *out, size_t size, struct except_list *ex)
{
	size_t n_out = 0;
	const char *p = options;
	while (*p) {
		const char *start = p;
		while (*p && *p != ',')
			p += (*p == '\\' && p[1]) ? 2 : 1;
		size_t len = (size_t)(p - start);
		/* keep= binds read-only, except= as the original is */
		bool keep = len > strlen("keep=") && strncmp(start, "keep=", strlen("keep=")) == 0;
		size_t key = keep ? strlen("keep=") :
			     len > strlen("except=") && strncmp(start, "except=", strlen("except=")) == 0 ? strlen("except=") : 0;
		if (key) {
			if (ex->n == LAYER_BINDS_MAX)
				return -EINVAL;
			char *rel = malloc(len);
			if (!rel)
				return -ENOMEM;
			size_t k = 0;
			for (const char *c = start + key; c < p; c++)
				rel[k++] = (*c == '\\' && c + 1 < p) ? *++c : *c;
			rel[k] = '\0';
			ex->fd[ex->n] = -1;
			ex->bound[ex->n] = NULL;
			ex->read_only[ex->n] = keep;
			ex->rel[ex->n++] = rel;
		} else {
			if (n_out + len + 2 > size)
				return -ENAMETOOLONG;
			if (n_out)
				out[n_out++] = ',';
			memcpy(out + n_out, start, len);
			n_out += len;
		}
		if (*p)
			p++;
	}
	out[n_out] = '\0';
	return 0;
}

static int except_path(const char *target, const char *rel, char *buf, size_t size)
{
	return snprintf(buf, size, "%s/%s", target, rel) >= (int)size ? -ENAMETOOLONG : 0;
}

/* Before the overlay: open every original TARGET/PATH through the helper. */
static int except_open(struct vos_view *v, pid_t pid, const char *target, struct except_list *ex)
{
	_cleanup_free_ struct helper_request *hreq = calloc(1, sizeof(*hreq));
	if (!hreq)
		return -ENOMEM;
	hreq->op = HELPER_OPEN;
	hreq->pid = pid;
	hreq->open_flags = O_PATH;
	for (size_t i = 0; i < ex->n; i++) {
		int r = except_path(target, ex->rel[i], hreq->target, sizeof(hreq->target));
		if (r < 0)
			return r;
		pthread_mutex_lock(&v->helper_lock);
		r = helper_call(v->helper, hreq, NULL, 0, &ex->fd[i]);
		pthread_mutex_unlock(&v->helper_lock);
		if (r < 0)
			return r;
	}
	return 0;
}

/* After the overlay `m`: bind each original back on top (not published yet). */
static int except_bind(struct vos_view *v, const struct vos_mount_request *req, const char *target,
		       struct except_list *ex, struct view_mount *m)
{
	_cleanup_free_ struct helper_request *hreq = calloc(1, sizeof(*hreq));
	if (!hreq)
		return -ENOMEM;
	hreq->op = HELPER_MOUNT_KERNEL;
	hreq->pid = req->pid;
	snprintf(hreq->fstype, sizeof(hreq->fstype), "bind");
	snprintf(hreq->source, sizeof(hreq->source), "%s", req->source ? req->source : req->type);
	for (size_t i = 0; i < ex->n; i++) {
		hreq->mount_flags = ex->read_only[i] ? MS_RDONLY : 0;
		int r = except_path(target, ex->rel[i], hreq->target, sizeof(hreq->target));
		if (r < 0)
			return r;
		snprintf(hreq->kernel_options, sizeof(hreq->kernel_options), "%s", hreq->target);
		struct view_mount *b = view_mount_new(v, m->service, req, hreq->target);
		char *type = strdup(EXCEPT_TYPE), *rel = strdup(ex->rel[i]);
		if (!b || !type || !rel) {
			view_mount_free(b), free(type), free(rel);
			return -ENOMEM;
		}
		free(b->type), free(b->source);
		b->type = type;
		b->source = rel;
		b->fs_userdata = m;
		b->kernel = true;
		pthread_mutex_lock(&v->helper_lock);
		r = helper_call(v->helper, hreq, &ex->fd[i], 1, NULL);
		pthread_mutex_unlock(&v->helper_lock);
		if (r < 0) {
			view_mount_free(b);
			return r;
		}
		b->kernel_mount_id = (uint64_t)r;
		ex->bound[i] = b;
	}
	return 0;
}

/* Undo a kernel mount just made (the caller's view of `target`), with
 * everything on it. */
static void kernel_detach(struct vos_view *v, pid_t pid, const char *target, uint64_t id)
{
	struct helper_request *hreq = calloc(1, sizeof(*hreq));
	if (!hreq)
		return;
	hreq->op = HELPER_UMOUNT;
	hreq->pid = pid;
	hreq->mount_flags = MNT_DETACH;
	hreq->mount_id = id;
	snprintf(hreq->target, sizeof(hreq->target), "%s", target);
	pthread_mutex_lock(&v->helper_lock);
	helper_call(v->helper, hreq, NULL, 0, NULL);
	pthread_mutex_unlock(&v->helper_lock);
	free(hreq);
}

/* A kernel filesystem that the helper mounts in the view's user namespace:
 * no FUSE connection tells us when it goes away, so the mount is recorded
 * with its mount id and ends through trap_umount2 (or with the view). On
 * failure the caller still owns `m`. */
static int mount_kernel(struct vos_view *v, const struct vos_mount_request *req, const char *target,
			const char *fstype, const char *options, struct view_mount *m)
{
	bool layered = streq(fstype, "overlay") || streq(fstype, "bind"); /* viewfs */
	if (!streq(fstype, "binfmt_misc") && !layered)
		return -EINVAL; /* a service bug: the core mounts nothing else */
	if (layered != (options && options[0]))
		return -EINVAL; /* a service bug: layers without paths, or binfmt_misc with options */
	if (v->userns < 0 && !layered)
		return -EOPNOTSUPP; /* without a user namespace it would be the host's instance */
	_cleanup_free_ struct helper_request *hreq = calloc(1, sizeof(*hreq));
	if (!hreq)
		return -ENOMEM;
	hreq->op = HELPER_MOUNT_KERNEL;
	hreq->pid = req->pid;
	hreq->mount_flags = layered ? (uint32_t)(req->flags & MS_RDONLY) : 0;
	if (snprintf(hreq->target, sizeof(hreq->target), "%s", target) >= (int)sizeof(hreq->target))
		return -ENAMETOOLONG;
	_cleanup_(except_list_free) struct except_list ex = { .n = 0 };
	int r = 0;
	if (streq(fstype, "overlay"))
		r = except_split(options, hreq->kernel_options, sizeof(hreq->kernel_options), &ex);
	else if (layered && snprintf(hreq->kernel_options, sizeof(hreq->kernel_options), "%s", options) >=
				    (int)sizeof(hreq->kernel_options))
		r = -ENAMETOOLONG;
	if (r == 0 && ex.n)
		r = except_open(v, req->pid, target, &ex);
	if (r < 0)
		return r;
	snprintf(hreq->fstype, sizeof(hreq->fstype), "%s", fstype);
	snprintf(hreq->source, sizeof(hreq->source), "%s", req->source ? req->source : req->type);

	pthread_mutex_lock(&v->helper_lock);
	r = helper_call(v->helper, hreq, NULL, 0, NULL);
	pthread_mutex_unlock(&v->helper_lock);
	if (r < 0)
		return r;
	m->kernel = true;
	m->kernel_mount_id = (uint64_t)r;
	int e = ex.n ? except_bind(v, req, target, &ex, m) : 0;
	if (e < 0) {
		kernel_detach(v, req->pid, target, m->kernel_mount_id);
		return e;
	}

	pthread_mutex_lock(&v->lock);
	m->service->mounts++;
	m->next = v->mounts;
	v->mounts = m;
	for (size_t i = 0; i < ex.n; i++) {
		ex.bound[i]->service->mounts++;
		ex.bound[i]->next = v->mounts;
		v->mounts = ex.bound[i];
		ex.bound[i] = NULL;
	}
	pthread_mutex_unlock(&v->lock);
	supervisor_debug(v->sup, "view %u: mounted %s (kernel %s, mount id %d) on %s", v->id, req->type,
			 fstype, r, target);
	return 0;
}

/* `path` (a mount or umount2 target) made absolute against the caller's
 * cwd, without trailing slashes: how mount(8) names a mount's target. */
static char *alias_absolute(pid_t pid, const char *path)
{
	char *out;
	if (caller_path_absolute(pid, path, &out) < 0)
		return NULL;
	size_t len = strlen(out);
	while (len > 1 && out[len - 1] == '/')
		out[--len] = '\0';
	return out;
}

/* A mount known by an alias: its mount id, by which trap_umount2 makes
 * sure it unmounts that very mount. Unknown (0): umount2 of the alias
 * goes to the kernel. */
static void alias_record_id(struct vos_view *v, pid_t pid, const char *at, struct view_mount *m)
{
	_cleanup_free_ struct helper_request *hreq = calloc(1, sizeof(*hreq));
	if (!hreq || snprintf(hreq->target, sizeof(hreq->target), "%s", at) >= (int)sizeof(hreq->target))
		return;
	hreq->op = HELPER_OPEN;
	hreq->pid = pid;
	hreq->open_flags = O_PATH;
	_cleanup_close_ int fd = -1;
	pthread_mutex_lock(&v->helper_lock);
	int r = helper_call(v->helper, hreq, NULL, 0, &fd);
	pthread_mutex_unlock(&v->helper_lock);
	struct statx stx;
	/* No attributes asked: the kernel answers without the FUSE server,
	 * which would refuse a process outside the view. */
	if (r < 0 || statx(fd, "", AT_EMPTY_PATH | AT_STATX_DONT_SYNC, 0, &stx) < 0 ||
	    !(stx.stx_mask & STATX_MNT_ID))
		return;
	pthread_mutex_lock(&v->lock);
	m->kernel_mount_id = stx.stx_mnt_id;
	pthread_mutex_unlock(&v->lock);
}

static int start_filesystem(struct vos_view *v, struct view_service *svc, const struct vos_filesystem *fs,
			    const struct vos_mount_request *req, const char *target)
{
	struct vos_fs_mount fm = { 0 };
	int r;
	SERVICE_CALL(&svc->guard, "mount", r = -EIO, r = fs->mount(svc->data, req, &fm));
	if (r < 0)
		return r;
	/* ABI 1.3: a FUSE mount elsewhere, known by the target asked for. */
	const char *at = fm.mount_target && !fm.kernel_fstype ? fm.mount_target : target;
	struct view_mount *m = view_mount_new(v, svc, req, at);
	if (m && at != target && !(m->alias = alias_absolute(req->pid, target))) {
		view_mount_free(m);
		m = NULL;
	}
	if (!m) {
		if (fs->unmount)
			SERVICE_CALL(&svc->guard, "unmount", (void)0, fs->unmount(svc->data, fm.userdata));
		return -ENOMEM;
	}
	m->fs = fs;
	m->fs_userdata = fm.userdata;
	if (fm.kernel_fstype) {
		if ((r = mount_kernel(v, req, target, fm.kernel_fstype, fm.kernel_options, m)) < 0)
			view_mount_free(m);
		return r;
	}
	if (!fm.serve && !fm.ops) {
		view_mount_free(m);
		return -EINVAL; /* a service bug: nothing to serve the mount with */
	}
	struct node_serving serving = {
		.ops = fm.ops, .ops_size = fm.ops_size, .userdata = fm.userdata, .serve = fm.serve,
		.root_mode = fm.root_mode ? (fm.root_mode & S_IFMT) : S_IFDIR,
	};
	if ((r = mount_node(v, req, at, &serving, m)) < 0)
		view_mount_free(m);
	else if (m->alias)
		alias_record_id(v, req->pid, at, m);
	return r;
}

static int start_mount(struct vos_view *v, struct view_service *svc, const struct vos_mount_request *req,
		       const char *target)
{
	view_reap_ended_servers(v);
	const struct service_module *mod = svc->module;
	const struct vos_device *dev = service_module_device(mod, req->subtype);
	if (dev)
		return start_device(v, svc, dev, req, target);
	const struct vos_filesystem *fs = service_module_filesystem(mod, req->subtype);
	if (fs)
		return start_filesystem(v, svc, fs, req, target);
	const struct vos_netstack *stack = netstack_find(svc, req->subtype);
	if (stack)
		return netstack_mount(v, svc, stack, req, target);
	return -ENODEV; /* mount(8): unknown filesystem type */
}

/* mount(source, target, type, flags, data) */
static void trap_mount(struct vos_view *v, const struct seccomp_notif *n)
{
	unsigned long flags = n->data.args[3];
	if ((flags & MOUNT_TYPELESS_FLAGS) || n->data.args[2] == 0) {
		notify_continue(v->listener, n->id);
		return;
	}
	_cleanup_free_ char *type = tracee_read_string(n->pid, n->data.args[2], MOUNT_TYPE_MAX);
	if (!type) {
		/* Not ours to judge: the kernel reports bad pointers itself. */
		notify_continue(v->listener, n->id);
		return;
	}

	pthread_mutex_lock(&v->lock);
	struct view_service *svc = view_service_for_type(v, type);
	pthread_mutex_unlock(&v->lock);
	if (!svc) {
		notify_continue(v->listener, n->id);
		return;
	}

	int r;
	_cleanup_free_ char *source = NULL, *target = NULL, *data = NULL, *source_path = NULL;
	struct option_list *options = NULL;
	if (n->data.args[0] && !(source = tracee_read_string(n->pid, n->data.args[0], PATH_MAX))) {
		r = -errno;
		goto reply;
	}
	if (!(target = tracee_read_string(n->pid, n->data.args[1], PATH_MAX))) {
		r = -errno;
		goto reply;
	}
	if (n->data.args[4] && !(data = tracee_read_string(n->pid, n->data.args[4], MOUNT_DATA_MAX))) {
		r = errno == ENAMETOOLONG ? -EINVAL : -errno;
		goto reply;
	}
	if (!notify_id_valid(v->listener, n->id))
		return; /* the caller is gone; its pid may already be someone else's */
	if ((r = option_list_parse(data, &options)) < 0)
		goto reply;
	if (source && !streq(source, "none") && source[0] && !(source_path = path_in_process(n->pid, source))) {
		r = -ENOMEM;
		goto reply;
	}

	struct vos_mount_request req = {
		.type = type,
		.subtype = type + strlen(svc->module->desc.name),
		.source = source,
		.source_path = source_path,
		.target = target,
		.flags = flags,
		.options = &options->view,
		.pid = n->pid,
	};
	r = start_mount(v, svc, &req, target);
	if (r < 0)
		supervisor_debug(v->sup, "view %u: mount -t %s %s %s: %s", v->id, type,
				 source ? source : "none", target, strerror(-r));
reply:
	option_list_free(options);
	notify_respond(v->listener, n->id, r);
}

/* fsopen(type, flags): the new mount API cannot carry a service's mount
 * through the kernel, so refuse it for service types with ENOSYS, which
 * makes libmount fall back to mount(2). */
static void trap_fsopen(struct vos_view *v, const struct seccomp_notif *n)
{
	_cleanup_free_ char *type = tracee_read_string(n->pid, n->data.args[0], MOUNT_TYPE_MAX);
	if (type) {
		pthread_mutex_lock(&v->lock);
		struct view_service *svc = view_service_for_type(v, type);
		pthread_mutex_unlock(&v->lock);
		if (svc && notify_id_valid(v->listener, n->id)) {
			notify_respond(v->listener, n->id, -ENOSYS);
			return;
		}
	}
	notify_continue(v->listener, n->id);
}

/* The overlay with mount id `id` is busy: unmount its except= binds
 * (TARGET/PATH as the caller names TARGET). Returns how many went. */
static int umount_excepts(struct vos_view *v, pid_t pid, const char *target, uint32_t flags, uint64_t id)
{
	struct {
		uint64_t id;
		char *rel;
		struct view_mount *m;
	} binds[LAYER_BINDS_MAX];
	size_t n = 0;
	pthread_mutex_lock(&v->lock);
	struct view_mount *overlay = v->mounts;
	while (overlay && !(overlay->kernel && !overlay->ended && overlay->kernel_mount_id == id))
		overlay = overlay->next;
	for (struct view_mount *m = v->mounts; overlay && m && n < LAYER_BINDS_MAX; m = m->next)
		if (m->kernel && !m->ended && m->fs_userdata == overlay && streq(m->type, EXCEPT_TYPE) &&
		    (binds[n].rel = strdup(m->source)))
			binds[n].id = m->kernel_mount_id, binds[n++].m = m;
	pthread_mutex_unlock(&v->lock);

	struct helper_request *hreq = calloc(1, sizeof(*hreq));
	int gone = 0;
	for (size_t i = 0; i < n; i++) {
		if (hreq && except_path(target, binds[i].rel, hreq->target, sizeof(hreq->target)) == 0) {
			hreq->op = HELPER_UMOUNT;
			hreq->pid = pid;
			hreq->mount_flags = flags;
			hreq->mount_id = binds[i].id;
			pthread_mutex_lock(&v->helper_lock);
			int r = helper_call(v->helper, hreq, NULL, 0, NULL);
			pthread_mutex_unlock(&v->helper_lock);
			if (r == 0) {
				pthread_mutex_lock(&v->lock);
				binds[i].m->ended = true;
				binds[i].m->service->mounts--;
				pthread_mutex_unlock(&v->lock);
				gone++;
			}
		}
		free(binds[i].rel);
	}
	free(hreq);
	return gone;
}

/* umount2(target, flags): a kernel filesystem the core mounted ends here.
 * The helper unmounts it, only if target is that very mount, and the
 * result goes back to the caller; every other umount2 is the kernel's. */
#define KERNEL_MOUNTS_MAX 16
static void trap_umount2(struct vos_view *v, const struct seccomp_notif *n)
{
	uint64_t ids[KERNEL_MOUNTS_MAX];
	size_t n_ids = 0;
	bool aliases = false;
	pthread_mutex_lock(&v->lock);
	for (struct view_mount *m = v->mounts; m; m = m->next) {
		/* not the binds on an overlay: there may be hundreds, and
		 * they go with it (umount_excepts) */
		if (m->kernel && !m->ended && n_ids < KERNEL_MOUNTS_MAX && !streq(m->type, EXCEPT_TYPE))
			ids[n_ids++] = m->kernel_mount_id;
		aliases = aliases || (m->alias && !m->ended);
	}
	pthread_mutex_unlock(&v->lock);
	_cleanup_free_ char *target = n_ids || aliases ? tracee_read_string(n->pid, n->data.args[0], PATH_MAX) : NULL;
	if (!target || !target[0]) {
		notify_continue(v->listener, n->id);
		return;
	}
	if (!notify_id_valid(v->listener, n->id))
		return;

	struct helper_request *hreq = calloc(1, sizeof(*hreq));
	if (!hreq) {
		notify_respond(v->listener, n->id, -ENOMEM);
		return;
	}
	hreq->op = HELPER_UMOUNT;
	hreq->pid = (int32_t)n->pid;
	hreq->mount_flags = (uint32_t)n->data.args[1];
	snprintf(hreq->target, sizeof(hreq->target), "%s", target);
	int r = -ESRCH;
	/* A mount known by an alias (vos_fs_mount.mount_target): unmount
	 * where it really is; its FUSE connection tells when it is gone. */
	_cleanup_free_ char *alias = aliases ? alias_absolute(n->pid, target) : NULL;
	pthread_mutex_lock(&v->lock);
	for (struct view_mount *m = v->mounts; alias && m; m = m->next)
		if (m->alias && !m->ended && m->kernel_mount_id && (streq(m->alias, target) || streq(m->alias, alias))) {
			snprintf(hreq->target, sizeof(hreq->target), "%s", m->target);
			hreq->mount_id = m->kernel_mount_id;
			break;
		}
	pthread_mutex_unlock(&v->lock);
	if (hreq->mount_id) {
		pthread_mutex_lock(&v->helper_lock);
		r = helper_call(v->helper, hreq, NULL, 0, NULL);
		pthread_mutex_unlock(&v->helper_lock);
		snprintf(hreq->target, sizeof(hreq->target), "%s", target);
	}
	for (size_t i = 0; i < n_ids && r == -ESRCH; i++) {
		hreq->mount_id = ids[i];
		pthread_mutex_lock(&v->helper_lock);
		r = helper_call(v->helper, hreq, NULL, 0, NULL);
		pthread_mutex_unlock(&v->helper_lock);
		if (r == -EBUSY && umount_excepts(v, n->pid, target, (uint32_t)n->data.args[1], ids[i]) > 0) {
			pthread_mutex_lock(&v->helper_lock);
			r = helper_call(v->helper, hreq, NULL, 0, NULL);
			pthread_mutex_unlock(&v->helper_lock);
		}
		if (r == 0) {
			pthread_mutex_lock(&v->lock);
			struct view_mount *ended = NULL;
			for (struct view_mount *m = v->mounts; m; m = m->next)
				if (m->kernel && !m->ended && m->kernel_mount_id == ids[i]) {
					m->ended = true;
					m->service->mounts--;
					ended = m;
					supervisor_debug(v->sup, "view %u: %s on %s ended", v->id, m->type, m->target);
					break;
				}
			/* A lazy umount took its except= binds along. */
			for (struct view_mount *m = v->mounts; ended && m; m = m->next)
				if (m->kernel && !m->ended && m->fs_userdata == ended && streq(m->type, EXCEPT_TYPE)) {
					m->ended = true;
					m->service->mounts--;
				}
			pthread_mutex_unlock(&v->lock);
		}
	}
	free(hreq);
	if (r == -ESRCH)
		notify_continue(v->listener, n->id); /* not one of ours */
	else
		notify_respond(v->listener, n->id, r);
}

bool mount_trap_fast(struct vos_view *v, const struct seccomp_notif *n)
{
	switch (n->data.nr) {
	case SYS_mount: {
		unsigned long flags = n->data.args[3];
		if ((flags & MOUNT_TYPELESS_FLAGS) || n->data.args[2] == 0)
			break;
		/* A type no loaded service claims is the kernel's. The string
		 * is read twice when it is a service's: cheap next to a mount. */
		_cleanup_free_ char *type = tracee_read_string(n->pid, n->data.args[2], MOUNT_TYPE_MAX);
		if (!type)
			break;
		pthread_mutex_lock(&v->lock);
		bool ours = view_service_for_type(v, type) != NULL;
		pthread_mutex_unlock(&v->lock);
		if (ours)
			return false;
		break;
	}
	case SYS_fsopen:
		return false; /* rare; trap_fsopen decides */
	case SYS_umount2: {
		pthread_mutex_lock(&v->lock);
		bool kernel_mounts = false;
		for (struct view_mount *m = v->mounts; m && !kernel_mounts; m = m->next)
			kernel_mounts = (m->kernel || m->alias) && !m->ended;
		pthread_mutex_unlock(&v->lock);
		if (kernel_mounts)
			return false;
		break;
	}
	default:
		break;
	}
	notify_continue(v->listener, n->id);
	return true;
}

void mount_trap(struct vos_view *v, const struct seccomp_notif *n)
{
	switch (n->data.nr) {
	case SYS_mount:
		trap_mount(v, n);
		break;
	case SYS_fsopen:
		trap_fsopen(v, n);
		break;
	case SYS_umount2:
		trap_umount2(v, n);
		break;
	default:
		/* umount2 and the rest of the new mount API: the kernel checks
		 * them; the end of a FUSE mount is seen on its connection. */
		notify_continue(v->listener, n->id);
		break;
	}
}
