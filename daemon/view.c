/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "view.h"

#include <stdarg.h>
#include <sys/stat.h>
#include <stdlib.h>

#include "cwd-layer.h"
#include "fuse-device.h"
#include "fuse-serve.h"
#include "helper.h"
#include "supervisor.h"
#include "util.h"

/* How long a view's end waits for each FUSE connection to wind down. */
#define VIEW_SERVER_END_TIMEOUT_MS 2000

static void host_log(void *core, const char *fmt, ...)
{
	struct vos_view *view = core;
	va_list ap;
	va_start(ap, fmt);
	supervisor_vprint(view->sup, view->sup->out, fmt, ap);
	va_end(ap);
}

static int host_spawn(void *core, const char *const *argv, const int *fds, size_t n_fds)
{
	struct vos_view *view = core;
	if (!argv || !argv[0] || argv[0][0] != '/' || n_fds > HELPER_SPAWN_FDS_MAX)
		return -EINVAL;
	struct helper_request *req = calloc(1, sizeof(*req));
	if (!req)
		return -ENOMEM;
	req->op = HELPER_SPAWN;
	size_t at = 0;
	for (; argv[req->argc]; req->argc++) {
		size_t len = strlen(argv[req->argc]) + 1;
		if (req->argc == HELPER_ARGC_MAX || at + len > sizeof(req->args)) {
			free(req);
			return -E2BIG;
		}
		memcpy(req->args + at, argv[req->argc], len);
		at += len;
	}
	int pidfd = -1;
	pthread_mutex_lock(&view->helper_lock);
	int r = view->helper >= 0 ? helper_call(view->helper, req, fds, n_fds, &pidfd) : -ENOTCONN;
	pthread_mutex_unlock(&view->helper_lock);
	free(req);
	if (r == 0)
		supervisor_debug(view->sup, "view %u: spawned %s", view->id, argv[0]);
	return r < 0 ? r : pidfd;
}

int view_new(struct supervisor *sup, unsigned id, struct vos_view **ret)
{
	struct vos_view *v = calloc(1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	v->sup = sup;
	v->id = id;
	v->listener = v->helper = v->userns = v->mntns = -1;
	pthread_mutex_init(&v->lock, NULL);
	pthread_mutex_init(&v->helper_lock, NULL);
	pthread_cond_init(&v->changed, NULL);
	v->host.size = sizeof(v->host);
	v->host.core = v;
	v->host.log = host_log;
	v->host.spawn = host_spawn;
	*ret = v;
	return 0;
}

void view_attach_namespaces(struct vos_view *v, const struct launched_view *launched)
{
	v->helper = launched->helper;
	v->helper_pid = launched->helper_pid;
	v->userns = launched->userns;
	v->mntns = launched->mntns;
}

void view_attach_command(struct vos_view *v, const struct launched_view *launched)
{
	v->pid = launched->pid;
	v->listener = launched->listener;
}

int view_start_cwd_layer(struct vos_view *v, const char *path, bool user_namespace)
{
	struct cwd_layer *layer;
	int r = cwd_layer_new(path, v->helper_pid, user_namespace, &layer);
	if (r < 0)
		return r;
	struct helper_request *req = calloc(1, sizeof(*req));
	if (!req) {
		cwd_layer_free(layer);
		return -ENOMEM;
	}
	*req = (struct helper_request){
		.op = HELPER_MOUNT_FUSE,
		.root_mode = S_IFDIR,
		.pid = 0,
		/* Without a user namespace the view may hold several users: the
		 * kernel checks modes. Within one, the server's own credentials
		 * are the view's, and the host checks them. */
		.fuse_flags = HELPER_FUSE_CWD_LAYER | (user_namespace ? 0 : HELPER_FUSE_DEFAULT_PERMISSIONS),
	};
	snprintf(req->target, sizeof(req->target), "%s", path);
	snprintf(req->fstype, sizeof(req->fstype), "vos-cwd");
	snprintf(req->source, sizeof(req->source), "%s", path);
	int fuse_fd = -1;
	pthread_mutex_lock(&v->helper_lock);
	r = helper_call(v->helper, req, NULL, 0, &fuse_fd);
	pthread_mutex_unlock(&v->helper_lock);
	free(req);
	if (r == 0)
		r = fuse_server_start(fuse_fd, &cwd_layer_ops, sizeof(cwd_layer_ops), layer, NULL, NULL, &v->cwd_server);
	if (r < 0) {
		cwd_layer_free(layer);
		return r;
	}
	v->cwd_layer = layer;
	supervisor_debug(v->sup, "view %u: working-directory layer over %s", v->id, path);
	return 0;
}

static void view_service_free(struct view_service *s)
{
	if (!s)
		return;
	if (s->module->desc.fini)
		s->module->desc.fini(s->data);
	option_list_free(s->options);
	service_module_unload(s->module);
	free(s);
}

void view_mount_free(struct view_mount *m)
{
	if (!m)
		return;
	if (m->node)
		device_node_free(m->node);
	else if (m->fs && m->fs->unmount)
		m->fs->unmount(m->service->data, m->fs_userdata);
	free(m->type);
	free(m->source);
	free(m->target);
	free(m);
}

void view_free(struct vos_view *v)
{
	if (!v)
		return;

	/* Wait for notification handlers still running. */
	pthread_mutex_lock(&v->lock);
	while (v->in_flight > 0)
		pthread_cond_wait(&v->changed, &v->lock);
	pthread_mutex_unlock(&v->lock);

	/* The helper is the last process in the view's namespaces: when it
	 * exits, the mount namespace and every FUSE mount in it go away, and
	 * each server's loop ends. */
	if (v->helper >= 0)
		close(v->helper);
	if (v->listener >= 0)
		close(v->listener);
	if (v->userns >= 0)
		close(v->userns);
	if (v->mntns >= 0)
		close(v->mntns);

	if (v->cwd_server) {
		if (fuse_server_join(v->cwd_server, VIEW_SERVER_END_TIMEOUT_MS) == 0)
			cwd_layer_free(v->cwd_layer);
		else
			supervisor_debug(v->sup, "view %u: working-directory layer still busy at exit", v->id);
	}

	bool all_ended = true;
	for (struct view_mount *m = v->mounts; m; m = m->next)
		if (fuse_server_join(m->server, VIEW_SERVER_END_TIMEOUT_MS) < 0) {
			supervisor_debug(v->sup, "view %u: %s on %s still busy at exit", v->id, m->type, m->target);
			all_ended = false;
		} else {
			m->server = NULL;
		}
	if (!all_ended)
		return; /* a server still uses its service: leave both to exit() */

	while (v->mounts) {
		struct view_mount *m = v->mounts;
		v->mounts = m->next;
		view_mount_free(m);
	}
	while (v->services) {
		struct view_service *s = v->services;
		v->services = s->next;
		view_service_free(s);
	}
	pthread_mutex_destroy(&v->lock);
	pthread_mutex_destroy(&v->helper_lock);
	pthread_cond_destroy(&v->changed);
	free(v);
}

static struct view_service *find_service(struct vos_view *v, const char *name)
{
	for (struct view_service *s = v->services; s; s = s->next)
		if (streq(s->module->desc.name, name))
			return s;
	return NULL;
}

struct view_service *view_service_for_type(struct vos_view *v, const char *type)
{
	struct view_service *best = NULL;
	size_t best_len = 0;
	for (struct view_service *s = v->services; s; s = s->next) {
		size_t len = strlen(s->module->desc.name);
		if (len > best_len && strncmp(type, s->module->desc.name, len) == 0) {
			best = s;
			best_len = len;
		}
	}
	return best;
}

int view_add_service(struct vos_view *v, const char *name, const char *options,
		     const char *search_path, char *error, size_t error_size)
{
	_cleanup_free_ char *path = NULL;
	struct option_list *opts = NULL;
	struct service_module *module = NULL;
	int r;

	if (!service_name_valid(name)) {
		snprintf(error, error_size, "'%s' is not a valid service name (lowercase letters, digits, '_')", name);
		return -EINVAL;
	}
	if ((r = option_list_parse(options, &opts)) < 0) {
		snprintf(error, error_size, "%s: malformed options '%s' (expected key or key=value, comma-separated)", name, options);
		return r;
	}

	pthread_mutex_lock(&v->lock);
	if (find_service(v, name)) {
		snprintf(error, error_size, "%s: service already loaded", name);
		r = -EEXIST;
		goto out;
	}
	if ((r = service_module_find(name, search_path, &path)) < 0) {
		snprintf(error, error_size, "%s: no such service (no %s.so in VOS_SERVICE_PATH, LD_LIBRARY_PATH or the module directory)", name, name);
		goto out;
	}
	if ((r = service_module_load(path, name, &module, error, error_size)) < 0)
		goto out;

	struct view_service *s = calloc(1, sizeof(*s));
	if (!s) {
		r = -ENOMEM;
		snprintf(error, error_size, "out of memory");
		goto out;
	}
	s->module = TAKE_PTR(module);
	s->options = TAKE_PTR(opts);
	if (s->module->desc.init) {
		r = s->module->desc.init(&v->host, &s->options->view, &s->data);
		if (r < 0) {
			snprintf(error, error_size, "%s: initialisation failed: %s", name, strerror(-r));
			s->module->desc.fini = NULL; /* init failed: nothing to finish */
			view_service_free(s);
			goto out;
		}
	}
	struct view_service **tail = &v->services;
	while (*tail)
		tail = &(*tail)->next;
	*tail = s;
	supervisor_debug(v->sup, "view %u: service %s loaded from %s", v->id, name, s->module->path);
	r = 0;
out:
	pthread_mutex_unlock(&v->lock);
	option_list_free(opts);
	service_module_unload(module);
	return r;
}

int view_del_service(struct vos_view *v, const char *name, char *error, size_t error_size)
{
	pthread_mutex_lock(&v->lock);
	struct view_service **p = &v->services;
	while (*p && !streq((*p)->module->desc.name, name))
		p = &(*p)->next;
	struct view_service *s = *p;
	int r = 0;
	if (!s) {
		snprintf(error, error_size, "%s: service not loaded", name);
		r = -ENOENT;
	} else if (s->mounts > 0) {
		snprintf(error, error_size, "%s: service busy: %u mount%s still active (umount them first)",
			 name, s->mounts, s->mounts == 1 ? "" : "s");
		r = -EBUSY;
	} else {
		*p = s->next;
		/* Ended mounts of this service keep a pointer to it: drop them. */
		for (struct view_mount **mp = &v->mounts; *mp;) {
			struct view_mount *m = *mp;
			if (m->service == s && m->ended) {
				*mp = m->next;
				fuse_server_join(m->server, VIEW_SERVER_END_TIMEOUT_MS);
				view_mount_free(m);
			} else {
				mp = &m->next;
			}
		}
		supervisor_debug(v->sup, "view %u: service %s removed", v->id, name);
	}
	pthread_mutex_unlock(&v->lock);
	if (s && r == 0)
		view_service_free(s);
	return r;
}

static size_t append(char *buf, size_t size, size_t at, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(at < size ? buf + at : NULL, at < size ? size - at : 0, fmt, ap);
	va_end(ap);
	return at + (n > 0 ? (size_t)n : 0);
}

size_t view_list_services(struct vos_view *v, char *buf, size_t size)
{
	size_t len = 0;
	if (size)
		buf[0] = '\0';
	pthread_mutex_lock(&v->lock);
	for (struct view_service *s = v->services; s; s = s->next)
		len = append(buf, size, len, "%s: %s\n", s->module->desc.name, s->module->desc.description);
	pthread_mutex_unlock(&v->lock);
	return len;
}

size_t view_list_mounts(struct vos_view *v, char *buf, size_t size)
{
	size_t len = 0;
	if (size)
		buf[0] = '\0';
	pthread_mutex_lock(&v->lock);
	for (struct view_mount *m = v->mounts; m; m = m->next)
		if (!m->ended)
			len = append(buf, size, len, "%s %s %s\n", m->type, m->source ? m->source : "none", m->target);
	pthread_mutex_unlock(&v->lock);
	return len;
}
