/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The trapped mount family: a mount whose type names a loaded service is
 * served by that service on a kernel FUSE connection; everything else is
 * handed back to the kernel unchanged. */
#include "mount-trap.h"

#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "fuse-device.h"
#include "fuse-serve.h"
#include "helper.h"
#include "notify.h"
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
	pthread_mutex_lock(&v->lock);
	m->ended = true;
	m->service->mounts--;
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

static int start_mount(struct vos_view *v, struct view_service *svc, const struct vos_mount_request *req,
		       const char *target)
{
	const struct service_module *mod = svc->module;
	const struct vos_device *dev = service_module_device(mod, req->subtype);
	const struct vos_filesystem *fs = dev ? NULL : service_module_filesystem(mod, req->subtype);
	if (!dev && !fs)
		return -ENODEV; /* mount(8): unknown filesystem type */

	struct view_mount *m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->view = v;
	m->service = svc;
	m->type = strdup(req->type);
	m->source = req->source ? strdup(req->source) : NULL;
	m->target = strdup(target);
	if (!m->type || !m->target || (req->source && !m->source)) {
		free(m->type), free(m->source), free(m->target), free(m);
		return -ENOMEM;
	}

	const struct fuse_lowlevel_ops *ops;
	size_t ops_size;
	void *userdata;
	mode_t root_mode;
	int r;
	if (dev) {
		void *instance;
		if ((r = dev->create(svc->data, req, &instance)) < 0)
			goto fail;
		m->node = calloc(1, sizeof(*m->node));
		if (!m->node) {
			if (dev->ops->destroy)
				dev->ops->destroy(instance);
			r = -ENOMEM;
			goto fail;
		}
		m->node->desc = dev;
		m->node->dev = instance;
		m->node->uid = 0;
		m->node->gid = 0;
		ops = &device_node_ops;
		ops_size = sizeof(device_node_ops);
		userdata = m->node;
		root_mode = S_IFREG;
	} else {
		struct vos_fs_mount fm = { 0 };
		if ((r = fs->mount(svc->data, req, &fm)) < 0)
			goto fail;
		m->fs = fs;
		m->fs_userdata = fm.userdata;
		ops = fm.ops;
		ops_size = fm.ops_size;
		userdata = fm.userdata;
		root_mode = fm.root_mode ? (fm.root_mode & S_IFMT) : S_IFDIR;
	}

	struct helper_request hreq = {
		.op = HELPER_MOUNT_FUSE,
		.root_mode = root_mode,
		.pid = req->pid,
		.mount_flags = (uint32_t)req->flags,
	};
	snprintf(hreq.target, sizeof(hreq.target), "%s", target);
	snprintf(hreq.fstype, sizeof(hreq.fstype), "%s", req->type);
	snprintf(hreq.source, sizeof(hreq.source), "%s", req->source ? req->source : req->type);

	int fuse_fd = -1;
	pthread_mutex_lock(&v->helper_lock);
	r = helper_call(v->helper, &hreq, &fuse_fd);
	pthread_mutex_unlock(&v->helper_lock);
	if (r < 0)
		goto fail;

	pthread_mutex_lock(&v->lock);
	svc->mounts++;
	pthread_mutex_unlock(&v->lock);
	r = fuse_server_start(fuse_fd, ops, ops_size, userdata, mount_ended, m, &m->server);
	if (r < 0) {
		/* The mount exists but nobody serves it: its accesses fail
		 * with ENOTCONN once the fd is closed, which start did. */
		pthread_mutex_lock(&v->lock);
		svc->mounts--;
		pthread_mutex_unlock(&v->lock);
		goto fail;
	}
	pthread_mutex_lock(&v->lock);
	m->next = v->mounts;
	v->mounts = m;
	pthread_mutex_unlock(&v->lock);
	supervisor_debug(v->sup, "view %u: mounted %s (%s) on %s", v->id, req->type,
			 req->source ? req->source : "none", target);
	return 0;

fail:
	if (m->node)
		device_node_free(m->node);
	else if (m->fs && m->fs->unmount)
		m->fs->unmount(svc->data, m->fs_userdata);
	free(m->type), free(m->source), free(m->target), free(m);
	return r;
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

void mount_trap(struct vos_view *v, const struct seccomp_notif *n)
{
	switch (n->data.nr) {
	case SYS_mount:
		trap_mount(v, n);
		break;
	case SYS_fsopen:
		trap_fsopen(v, n);
		break;
	default:
		/* umount2 and the rest of the new mount API: the kernel checks
		 * them; the end of a FUSE mount is seen on its connection. */
		notify_continue(v->listener, n->id);
		break;
	}
}
