/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "view.h"

#include <stdarg.h>
#include <time.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <stdlib.h>

#include "cwd-layer.h"
#include "fuse-device.h"
#include "fuse-serve.h"
#include "helper.h"
#include "helper-programs.h"
#include "netstack.h"
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
	if (r == 0) {
		__atomic_store_n(&view->spawned, true, __ATOMIC_RELEASE);
		supervisor_debug(view->sup, "view %u: spawned %s", view->id, argv[0]);
	}
	return r < 0 ? r : pidfd;
}

static int host_open(void *core, pid_t pid, const char *path, int flags)
{
	if (!path || !path[0] || pid <= 0)
		return -EINVAL;
	return view_open(core, pid, path, flags);
}

int view_new(struct supervisor *sup, unsigned id, struct vos_view **ret)
{
	struct vos_view *v = calloc(1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	v->sup = sup;
	v->id = id;
	v->listener = v->helper = v->userns = v->mntns = -1;
	/* Error-checking: a service that crashes in a call made under the
	 * lock (unmount, destroy) finds it taken by its own thread in
	 * view_service_crashed. */
	pthread_mutexattr_t attr;
	pthread_mutexattr_init(&attr);
	pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_ERRORCHECK);
	pthread_mutex_init(&v->lock, &attr);
	pthread_mutexattr_destroy(&attr);
	pthread_mutex_init(&v->helper_lock, NULL);
	pthread_mutex_init(&v->layers_lock, NULL);
	pthread_cond_init(&v->changed, NULL);
	v->host.size = sizeof(v->host);
	v->host.core = v;
	v->host.log = host_log;
	v->host.spawn = host_spawn;
	v->host.open = host_open;
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

static int helper_request_fd(struct vos_view *v, struct helper_request *req, int *ret_fd)
{
	pthread_mutex_lock(&v->helper_lock);
	int r = v->helper >= 0 ? helper_call(v->helper, req, NULL, 0, ret_fd) : -ENOTCONN;
	pthread_mutex_unlock(&v->helper_lock);
	return r;
}

static int helper_open(struct vos_view *v, pid_t pid, const char *path, int flags, int *ret_fd)
{
	struct helper_request *req = calloc(1, sizeof(*req));
	if (!req)
		return -ENOMEM;
	req->op = HELPER_OPEN;
	req->pid = pid;
	req->open_flags = (uint32_t)flags;
	int r = -ENAMETOOLONG;
	if (snprintf(req->target, sizeof(req->target), "%s", path) < (int)sizeof(req->target))
		r = helper_request_fd(v, req, ret_fd);
	free(req);
	return r;
}

/* The device of an fd or path as seen from outside the view: FUSE answers
 * a statx asking for nothing with st_dev even to strangers. */
static int outside_dev(int dirfd, const char *path, dev_t *ret)
{
	struct statx stx;
	if (statx(dirfd, path, AT_EMPTY_PATH | AT_STATX_DONT_SYNC, 0, &stx) < 0)
		return -errno;
	*ret = makedev(stx.stx_dev_major, stx.stx_dev_minor);
	return 0;
}

struct view_layer *view_layer_of_dev(struct vos_view *v, dev_t dev)
{
	pthread_mutex_lock(&v->lock);
	struct view_layer *l = v->layers;
	while (l && l->dev != dev)
		l = l->next;
	pthread_mutex_unlock(&v->lock);
	return l;
}

int view_add_layer(struct vos_view *v, pid_t pid, const char *path)
{
	int dir_fd;
	int r = helper_open(v, pid, path, O_PATH | O_DIRECTORY, &dir_fd);
	if (r < 0)
		return r;
	struct stat st;
	struct statfs sfs;
	if (fstat(dir_fd, &st) < 0 || fstatfs(dir_fd, &sfs) < 0) {
		r = -errno;
		close(dir_fd);
		return r;
	}
	if (st.st_uid != geteuid()) {
		close(dir_fd);
		return -EPERM; /* another user's: its writes would fail through FUSE */
	}
	if (sfs.f_type == 0x65735546 /* FUSE_SUPER_MAGIC */) {
		close(dir_fd);
		return -EOPNOTSUPP; /* a view's FUSE mount: not ours to pass through */
	}

	struct view_layer *vl = calloc(1, sizeof(*vl));
	struct helper_request *req = calloc(1, sizeof(*req));
	if (!vl || !req || !(vl->path = strdup(path))) {
		free(vl), free(req);
		close(dir_fd);
		return -ENOMEM;
	}
	/* Before the first goto: the fail path frees it (clang refuses a
	 * jump past a cleanup variable's initialisation, gcc frees garbage). */
	_cleanup_free_ char *in_view = NULL;
	if ((r = cwd_layer_new(dir_fd, v->helper_pid, v->userns >= 0, &vl->layer)) < 0)
		goto fail;
	*req = (struct helper_request){
		.op = HELPER_MOUNT_FUSE,
		.root_mode = S_IFDIR,
		.pid = pid,
		/* Without a user namespace the view may hold several users: the
		 * kernel checks modes. Within one, the server's own credentials
		 * are the view's, and the host checks them. */
		.fuse_flags = HELPER_FUSE_CWD_LAYER | (v->userns >= 0 ? 0 : HELPER_FUSE_DEFAULT_PERMISSIONS),
	};
	snprintf(req->target, sizeof(req->target), "%s", path);
	snprintf(req->fstype, sizeof(req->fstype), "vos-layer");
	snprintf(req->source, sizeof(req->source), "%s", path);
	int fuse_fd = -1;
	if ((r = helper_request_fd(v, req, &fuse_fd)) < 0)
		goto fail;
	char where[64];
	snprintf(where, sizeof(where), "/proc/%d/root", v->helper_pid);
	if (asprintf(&in_view, "%s%s", where, path) < 0 || outside_dev(AT_FDCWD, in_view, &vl->dev) < 0) {
		/* Mounted but unidentifiable: serve it, it simply gets no bypass. */
		vl->dev = 0;
	}
	r = fuse_server_start(fuse_fd, &cwd_layer_ops, sizeof(cwd_layer_ops), vl->layer, NULL, NULL, NULL, &vl->server);
	if (r < 0)
		goto fail;
	pthread_mutex_lock(&v->lock);
	vl->next = v->layers;
	v->layers = vl;
	pthread_mutex_unlock(&v->lock);
	/* Now that the layer answers lookups: its device nodes (see helper.c). */
	req->op = HELPER_LAYER_DEVICES;
	int unused = -1;
	if (helper_request_fd(v, req, &unused) < 0)
		supervisor_debug(v->sup, "view %u: device nodes under %s not restored", v->id, path);
	free(req);
	supervisor_debug(v->sup, "view %u: passthrough layer over %s", v->id, path);
	return 0;
fail:
	cwd_layer_free(vl->layer);
	free(vl->path);
	free(vl);
	free(req);
	return r;
}

int view_prepare_mount_point(struct vos_view *v, pid_t pid, const char *target)
{
	int fd;
	int r = helper_open(v, pid, target, O_PATH, &fd);
	if (r == 0)
		close(fd);
	if (r != -ENOENT)
		return 0; /* there already, or an error the mount itself reports */

	char abs[PATH_MAX];
	if (target[0] == '/') {
		snprintf(abs, sizeof(abs), "%s", target);
	} else {
		char link[64], cwd[PATH_MAX];
		snprintf(link, sizeof(link), "/proc/%d/cwd", pid);
		ssize_t n = readlink(link, cwd, sizeof(cwd) - 1);
		if (n <= 0)
			return 0;
		cwd[n] = '\0';
		if (snprintf(abs, sizeof(abs), "%s/%s", n > 1 ? cwd : "", target) >= (int)sizeof(abs))
			return -ENAMETOOLONG;
	}
	char *slash = strrchr(abs, '/');
	if (slash == abs)
		return 0; /* a new entry in /: left to the helper's overlay */
	*slash = '\0';

	pthread_mutex_lock(&v->layers_lock);
	r = helper_open(v, pid, abs, O_PATH | O_DIRECTORY, &fd);
	if (r == 0) {
		dev_t dev;
		bool layered = outside_dev(fd, "", &dev) == 0 && view_layer_of_dev(v, dev);
		close(fd);
		if (!layered && (r = view_add_layer(v, pid, abs)) < 0)
			supervisor_debug(v->sup, "view %u: no layer over %s (%s): the helper's overlay makes the mount point",
					 v->id, abs, strerror(-r));
	}
	pthread_mutex_unlock(&v->layers_lock);
	return 0;
}

int view_start_cwd_layer(struct vos_view *v, const char *path, bool user_namespace)
{
	(void)user_namespace; /* the view knows */
	return view_add_layer(v, 0, path);
}

int view_open(struct vos_view *v, pid_t pid, const char *path, int flags)
{
	int fd;
	int r = helper_open(v, pid, path, flags, &fd);
	if (r < 0)
		return r;
	dev_t dev;
	struct view_layer *l = outside_dev(fd, "", &dev) == 0 ? view_layer_of_dev(v, dev) : NULL;
	if (!l)
		return fd;
	/* A host file behind a layer: the layer passes it through at the
	 * same path, so open that path natively. */
	char link[32], name[PATH_MAX];
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	ssize_t n = readlink(link, name, sizeof(name) - 1);
	size_t plen = strlen(l->path);
	if (n > 0 && (size_t)n > plen && strncmp(name, l->path, plen) == 0 && name[plen] == '/') {
		name[n] = '\0';
		int host = open(name, (flags & ~O_NOFOLLOW) | O_CLOEXEC | O_NOCTTY);
		if (host >= 0) {
			close(fd);
			return host;
		}
	}
	return fd;
}

static void view_service_free(struct view_service *s)
{
	if (!s)
		return;
	if (s->module->desc.fini)
		SERVICE_CALL(&s->guard, "fini", (void)0, s->module->desc.fini(s->data));
	option_list_free(s->options);
	/* A crashed service's code stays mapped: a thread of its own may
	 * still run it. */
	if (!service_guard_crashed(&s->guard))
		service_module_unload(s->module);
	free(s);
}

/* A call into `guard`'s service crashed (service-fault.h): say so, and cut
 * its FUSE connections, so that its mounts fail (EIO, then ENOTCONN)
 * instead of calling it again. Its kernel mounts (overlay, binfmt_misc)
 * and network stacks keep working: no service code serves them. The
 * crashed call may have been made holding the view's lock (view_del_service
 * releases ended mounts under it): then the list is ours already. */
static void view_service_crashed(void *ctx, struct service_guard *guard, const char *op, int signo)
{
	struct vos_view *v = ctx;
	const char *sig = service_fault_signal_name(signo);
	host_log(v, "vos: service %s crashed (%s) in %s; its mounts now fail with EIO/ENOTCONN", guard->name, sig, op);
	supervisor_debug(v->sup, "view %u: service %s crashed (%s) in %s: cutting its FUSE connections",
			 v->id, guard->name, sig, op);
	bool held = pthread_mutex_lock(&v->lock) == EDEADLK;
	for (struct view_mount *m = v->mounts; m; m = m->next)
		if (&m->service->guard == guard && !m->ended)
			fuse_server_abort(m->server);
	if (!held)
		pthread_mutex_unlock(&v->lock);
}

void view_reap_ended_servers(struct vos_view *v)
{
	struct fuse_server *ended[16];
	size_t n;
	do {
		n = 0;
		pthread_mutex_lock(&v->lock);
		for (struct view_mount *m = v->mounts; m && n < sizeof(ended) / sizeof(ended[0]); m = m->next)
			if (m->ended && m->server) {
				ended[n++] = m->server;
				m->server = NULL;
			}
		pthread_mutex_unlock(&v->lock);
		/* Their loops have returned (that is what `ended` says): each
		 * join waits at most for the thread's last instructions. */
		for (size_t i = 0; i < n; i++)
			fuse_server_join(ended[i], VIEW_SERVER_END_TIMEOUT_MS);
	} while (n > 0);
}

void view_mount_free(struct view_mount *m)
{
	if (!m)
		return;
	if (m->node)
		device_node_free(m->node);
	else if (m->fs && m->fs->unmount)
		SERVICE_CALL(&m->service->guard, "unmount", (void)0, m->fs->unmount(m->service->data, m->fs_userdata));
	free(m->type);
	free(m->source);
	free(m->target);
	free(m->alias);
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
	if (v->helper >= 0) {
		close(v->helper);
		/* Its FUSE programs write back now; they may use our servers. */
		if (__atomic_load_n(&v->spawned, __ATOMIC_ACQUIRE))
			helper_wait_end(v->helper_pid, HELPER_PROGRAMS_END_TIMEOUT_MS + 2000);
	}
	if (v->listener >= 0)
		close(v->listener);
	if (v->userns >= 0)
		close(v->userns);
	if (v->mntns >= 0)
		close(v->mntns);

	while (v->layers) {
		struct view_layer *l = v->layers;
		v->layers = l->next;
		if (fuse_server_join(l->server, VIEW_SERVER_END_TIMEOUT_MS) == 0)
			cwd_layer_free(l->layer);
		else
			supervisor_debug(v->sup, "view %u: layer over %s still busy at exit", v->id, l->path);
		free(l->path);
		free(l);
	}

	bool all_ended = true;
	for (struct view_mount *m = v->mounts; m; m = m->next)
		if (fuse_server_join(m->server, VIEW_SERVER_END_TIMEOUT_MS) < 0) {
			supervisor_debug(v->sup, "view %u: %s on %s still busy at exit", v->id, m->type, m->target);
			all_ended = false;
		} else {
			m->server = NULL;
		}
	netstack_table_free(v->netstacks);
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
	if ((r = service_fault_init()) < 0) {
		snprintf(error, error_size, "%s: cannot install the fault handlers: %s", name, strerror(-r));
		return r;
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
	s->guard.name = s->module->desc.name;
	if (s->module->desc.init) {
		SERVICE_CALL(&s->guard, "init", r = -EIO,
			     r = s->module->desc.init(&v->host, &s->options->view, &s->data));
		int signo = service_guard_crashed(&s->guard);
		if (signo) {
			snprintf(error, error_size, "%s: crashed (%s) in its initialisation", name,
				 service_fault_signal_name(signo));
			supervisor_debug(v->sup, "view %u: service %s crashed (%s) in init", v->id, name,
					 service_fault_signal_name(signo));
		}
		if (r < 0) {
			if (!signo)
				snprintf(error, error_size, "%s: initialisation failed: %s", name, strerror(-r));
			s->module->desc.fini = NULL; /* init failed: nothing to finish */
			view_service_free(s);
			goto out;
		}
	}
	s->guard.on_crash = view_service_crashed;
	s->guard.ctx = v;
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
	/* umount(2) returns before the FUSE connection has wound down: give
	 * connections that are ending a moment to tell us. */
	struct timespec deadline = realtime_after_ms(300);
	while (s && s->mounts > 0 && pthread_cond_timedwait(&v->changed, &v->lock, &deadline) == 0) {
		/* another thread may have removed it meanwhile */
		for (p = &v->services; *p && !streq((*p)->module->desc.name, name);)
			p = &(*p)->next;
		s = *p;
	}
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
