/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vosd's multi-view event loop (see daemon-loop.h). */
#include "daemon-loop.h"

#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/nsfs.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

#include "config.h"
#include "dispatch.h"
#include "launch-agent.h"
#include "notify.h"
#include "util.h"
#include "view.h"

#include "../libvos/daemon-proto.h"

#if HAVE_LIBSYSTEMD
#include <systemd/sd-daemon.h>
#endif

#define CONN_MAX 512           /* client connections served at once */
#define CONN_IDLE_TIMEOUT_S 30 /* a connection that owns no view must speak within this */
#define WORKERS_MAX 256
#define STOP_PASSES 50         /* vosctl stop: kill passes, STOP_PASS_MS apart */
#define STOP_PASS_MS 20

struct dview {
	struct daemon_loop *d;
	struct supervisor sup;  /* the view's log targets (its client's stderr) */
	struct vos_view *view;
	uid_t owner;
	char *command;
	time_t started;      /* CLOCK_MONOTONIC seconds */
	unsigned refs;       /* the list, and each thread using it */
	bool attached, ended;
	struct dview *next;
};

struct worker {
	uid_t uid;
	gid_t gid;
	pid_t pid;
	int channel;         /* -1 once it exited */
	unsigned index;      /* view ids index << DAEMON_ID_SHIFT | n */
};

struct daemon_loop {
	struct supervisor sup;
	struct daemon_config cfg;
	int ep, sfd;
	pthread_mutex_t lock;  /* views, next_id, n_conns, workers */
	struct dview *views;
	unsigned next_id;
	unsigned n_conns;
	time_t started;
	struct worker workers[WORKERS_MAX];
	unsigned n_workers;
	bool channel_closed;   /* worker: the root daemon is gone */
};

struct conn {
	struct daemon_loop *d;
	int fd;
	uid_t uid;
	gid_t gid;
	pid_t pid;
	struct dview *view;  /* the view this connection launched, or NULL */
};

static time_t now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

static void daemon_log(struct daemon_loop *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void daemon_log(struct daemon_loop *d, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	supervisor_vprint(&d->sup, stderr, fmt, ap);
	va_end(ap);
}

bool daemon_config_debug(const char *path)
{
	if (!path)
		return false;
	FILE *f = fopen(path, "re");
	if (!f)
		return false;
	char line[256];
	bool debug = false;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] == '#' || line[0] == '\0')
			continue;
		if (streq(line, "log-level=debug"))
			debug = true;
		else if (streq(line, "log-level=info"))
			debug = false;
	}
	fclose(f);
	return debug;
}

static void sd_notify_state(struct daemon_loop *d, const char *state)
{
#if HAVE_LIBSYSTEMD
	if (d->cfg.sd_notify)
		sd_notify(0, state);
#else
	(void)d;
	(void)state;
#endif
}

/* systemd's watchdog (WatchdogSec=, as $WATCHDOG_USEC): the interval at
 * which the loop pings, half the timeout; 0 when there is none. */
static long long watchdog_interval_ms(struct daemon_loop *d)
{
#if HAVE_LIBSYSTEMD
	uint64_t usec = 0;
	if (d->cfg.sd_notify && sd_watchdog_enabled(0, &usec) > 0 && usec > 0)
		return (long long)(usec / 2000 > 0 ? usec / 2000 : 1);
#else
	(void)d;
#endif
	return 0;
}

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* --- views ------------------------------------------------------------ */

/* Release what a dview holds besides its view. */
static void dview_free(struct dview *dv)
{
	if (dv->sup.out)
		fclose(dv->sup.out);
	pthread_mutex_destroy(&dv->sup.log_lock);
	free(dv->command);
	free(dv);
}

static void *free_thread(void *arg)
{
	struct dview *dv = arg;
	view_free(dv->view);
	dview_free(dv);
	return NULL;
}

/* Drop a reference; the last one frees the view on a thread of its own
 * (view_free waits for handlers and FUSE servers). Caller holds d->lock. */
static void dview_unref_locked(struct dview *dv)
{
	if (--dv->refs > 0)
		return;
	pthread_t t;
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&t, &attr, free_thread, dv) != 0)
		free_thread(dv);
	pthread_attr_destroy(&attr);
}

static void dview_unref(struct dview *dv)
{
	struct daemon_loop *d = dv->d;
	pthread_mutex_lock(&d->lock);
	dview_unref_locked(dv);
	pthread_mutex_unlock(&d->lock);
}

/* Take the view out of the list and the loop. Caller holds d->lock. */
static void dview_end_locked(struct dview *dv, const char *why)
{
	struct daemon_loop *d = dv->d;
	if (dv->ended)
		return;
	dv->ended = true;
	if (dv->attached)
		epoll_ctl(d->ep, EPOLL_CTL_DEL, dv->view->listener, NULL);
	for (struct dview **p = &d->views; *p; p = &(*p)->next)
		if (*p == dv) {
			*p = dv->next;
			break;
		}
	supervisor_debug(&d->sup, "view %u ended: %s", dv->view->id, why);
	dview_unref_locked(dv); /* the list's reference */
}

static bool visible(const struct conn *c, const struct dview *dv)
{
	return c->uid == 0 || dv->owner == c->uid;
}

/* The view `id` if `c` may see it, with a reference. */
static int dview_get(struct conn *c, uint32_t id, struct dview **ret)
{
	struct daemon_loop *d = c->d;
	int r = -ENOENT;
	pthread_mutex_lock(&d->lock);
	for (struct dview *dv = d->views; dv; dv = dv->next)
		if (dv->view->id == id) {
			if (!visible(c, dv)) {
				r = -EPERM;
				break;
			}
			dv->refs++;
			*ret = dv;
			r = 0;
			break;
		}
	pthread_mutex_unlock(&d->lock);
	return r;
}

static int reply_view_error(int fd, int r, uint32_t id)
{
	char msg[128];
	if (r == -EPERM)
		snprintf(msg, sizeof(msg), "view %u belongs to another user", id);
	else
		snprintf(msg, sizeof(msg), "no view %u", id);
	return vosd_send_error(fd, -r, msg);
}

/* --- validating what the client sends -------------------------------- */

static int ns_type(int fd)
{
	int t = ioctl(fd, NS_GET_NSTYPE);
	return t < 0 ? -errno : t;
}

static bool same_file(int fd, const char *path)
{
	struct stat a, b;
	return fstat(fd, &a) == 0 && stat(path, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

static bool is_seqpacket(int fd)
{
	int type;
	socklen_t len = sizeof(type);
	return getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == 0 && type == SOCK_SEQPACKET;
}

static bool is_seccomp_listener(int fd)
{
	char path[64], target[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	ssize_t n = readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		return false;
	target[n] = '\0';
	return streq(target, "anon_inode:seccomp notify");
}

/* Does process `pid` live in the mount namespace `mntns` and belong to
 * `uid` (any uid when uid is 0)? */
static bool process_in_view(pid_t pid, int mntns, uid_t uid)
{
	char path[64];
	struct stat st;
	if (pid <= 0)
		return false;
	snprintf(path, sizeof(path), "/proc/%d", (int)pid);
	if (stat(path, &st) < 0 || (uid != 0 && st.st_uid != uid))
		return false;
	snprintf(path, sizeof(path), "/proc/%d/ns/mnt", (int)pid);
	return same_file(mntns, path);
}

/* --- requests ---------------------------------------------------------- */

static char *join_argv(const struct vosd_msg *m)
{
	size_t cap = 256, at = 0;
	char *s = calloc(1, cap);
	if (!s)
		return NULL;
	long i = -1;
	while (vosd_msg_next(m, VOSD_TAG_ARGV, &i) && at + 1 < cap)
		at += (size_t)snprintf(s + at, cap - at, "%s%s", at ? " " : "", m->fields[i].value);
	if (at >= cap)
		strcpy(s + cap - 4, "...");
	return s;
}

static int handle_prepare(struct conn *c, const struct vosd_msg *m, int *fds, size_t n_fds)
{
	struct daemon_loop *d = c->d;
	uint32_t helper_pid = 0;
	vosd_msg_u32(m, VOSD_TAG_HELPER_PID, &helper_pid);

	if (c->view)
		return vosd_send_error(c->fd, EBUSY, "this connection has already prepared a view");
	if (c->uid != geteuid() && !d->cfg.root_dispatcher)
		return vosd_send_error(c->fd, EPERM, "this vosd serves only its own user's views");
	int out_mode = fcntl(fds[2], F_GETFL);
	if (!is_seqpacket(fds[0]) || ns_type(fds[1]) != CLONE_NEWNS || out_mode < 0 || (out_mode & O_ACCMODE) == O_RDONLY ||
	    (n_fds == 4 && ns_type(fds[3]) != CLONE_NEWUSER))
		return vosd_send_error(c->fd, EBADF, "descriptors are not a helper socket, a mount namespace, a writable stderr and a user namespace");
	if (helper_pid > INT32_MAX || !process_in_view((pid_t)helper_pid, fds[1], c->uid))
		return vosd_send_error(c->fd, ESRCH, "the helper pid is not a process of the caller in the view's mount namespace");

	/* The view's own log target: its service messages go to the client's
	 * stderr, as with the embedded supervisor; debug lines to ours. */
	struct dview *dv = calloc(1, sizeof(*dv));
	FILE *out = dv ? fdopen(fds[2], "w") : NULL;
	if (!out) {
		free(dv);
		return vosd_send_error(c->fd, ENOMEM, "out of memory");
	}
	fds[2] = -1;
	supervisor_init(&dv->sup, d->sup.debug);
	dv->sup.out = out;

	struct vos_view *v;
	pthread_mutex_lock(&d->lock);
	unsigned id = d->cfg.id_base + ++d->next_id;
	pthread_mutex_unlock(&d->lock);
	if (view_new(&dv->sup, id, &v) < 0) {
		dview_free(dv);
		return vosd_send_error(c->fd, ENOMEM, "out of memory");
	}
	struct launched_view launched = {
		.pid = 0,
		.listener = -1,
		.helper = TAKE_FD(fds[0]),
		.helper_pid = (pid_t)helper_pid,
		.userns = n_fds == 4 ? TAKE_FD(fds[3]) : -1,
		.mntns = TAKE_FD(fds[1]),
	};
	view_attach_namespaces(v, &launched);
	uint32_t exec_trapped = 0;
	vosd_msg_u32(m, VOSD_TAG_EXEC_TRAPPED, &exec_trapped);
	v->host.exec_trapped = exec_trapped == 1;

	const char *search = vosd_msg_string(m, VOSD_TAG_SEARCH_PATH);
	long i = -1;
	while (vosd_msg_next(m, VOSD_TAG_PRELOAD, &i)) {
		_cleanup_free_ char *spec = strdup(m->fields[i].value);
		if (!spec) {
			view_free(v);
			dview_free(dv);
			return vosd_send_error(c->fd, ENOMEM, "out of memory");
		}
		char *options = strchr(spec, ',');
		if (options)
			*options++ = '\0';
		char error[512] = "";
		int r = view_add_service(v, spec, options, search, error, sizeof(error));
		if (r < 0) {
			view_free(v);
			dview_free(dv);
			return vosd_send_error(c->fd, -r, error[0] ? error : strerror(-r));
		}
	}

	char warning[PATH_MAX + 256] = "";
	const char *cwd = vosd_msg_string(m, VOSD_TAG_CWD);
	if (cwd) {
		struct stat st;
		int r = cwd[0] != '/' ? -EINVAL : stat(cwd, &st) < 0 ? -errno : !S_ISDIR(st.st_mode) ? -ENOTDIR
			: st.st_uid != geteuid() ? -EPERM : 0;
		if (r == 0)
			r = view_start_cwd_layer(v, cwd, v->userns >= 0);
		if (r < 0)
			snprintf(warning, sizeof(warning),
				 "warning: no working-directory layer over %s (%s): mount points created there will not be visible from it",
				 cwd, strerror(-r));
	}

	char *command = join_argv(m);
	if (!command) {
		view_free(v);
		dview_free(dv);
		return vosd_send_error(c->fd, ENOMEM, "out of memory");
	}
	dv->d = d;
	dv->view = v;
	dv->owner = c->uid;
	dv->command = command;
	dv->started = now_s();
	dv->refs = 2;
	pthread_mutex_lock(&d->lock);
	dv->next = d->views;
	d->views = dv;
	pthread_mutex_unlock(&d->lock);
	c->view = dv;
	/* The connection now legitimately waits as long as the command runs. */
	struct timeval none = { 0 };
	setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &none, sizeof(none));
	supervisor_debug(&d->sup, "view %u prepared for uid %u: %s", id, (unsigned)c->uid, command);

	struct vosd_builder b;
	vosd_builder_init(&b, VOSD_REPLY_OK);
	vosd_add_u32(&b, VOSD_TAG_VIEW_ID, id);
	if (warning[0])
		vosd_add_string(&b, VOSD_TAG_MESSAGE, warning);
	int r = vosd_send(c->fd, &b, NULL, 0);
	vosd_builder_free(&b);
	return r;
}

static int handle_attach(struct conn *c, const struct vosd_msg *m, int *fds)
{
	struct daemon_loop *d = c->d;
	uint32_t id = 0, pid = 0;
	vosd_msg_u32(m, VOSD_TAG_VIEW_ID, &id);
	vosd_msg_u32(m, VOSD_TAG_PID, &pid);
	struct dview *dv = c->view;
	if (!dv || dv->view->id != id)
		return vosd_send_error(c->fd, ENOENT, "attach-command: this connection prepared no such view");
	if (dv->attached)
		return vosd_send_error(c->fd, EBUSY, "attach-command: the view already has its command");
	if (!is_seccomp_listener(fds[0]))
		return vosd_send_error(c->fd, EBADF, "attach-command: the descriptor is not a seccomp listener");
	/* The command may have exited already (its zombie has no namespaces). */
	char ns_path[64];
	struct stat ns_st;
	snprintf(ns_path, sizeof(ns_path), "/proc/%u/ns/mnt", pid);
	/* It may also exit between the two looks: only a namespace that is
	 * still there after a failed check is a wrong one. */
	if (pid == 0 || pid > INT32_MAX ||
	    (stat(ns_path, &ns_st) == 0 && !process_in_view((pid_t)pid, dv->view->mntns, c->uid) &&
	     stat(ns_path, &ns_st) == 0))
		return vosd_send_error(c->fd, ESRCH, "attach-command: the pid is not a process of the caller in the view");

	struct launched_view launched = { .pid = (pid_t)pid, .listener = TAKE_FD(fds[0]) };
	view_attach_command(dv->view, &launched);
	int r = notify_set_sync_wakeup(dv->view->listener);
	supervisor_debug(&d->sup, "view %u: pid %d, sync wake-up %s", id, (int)pid, r == 0 ? "on" : "unavailable");

	pthread_mutex_lock(&d->lock);
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = dv };
	r = dv->ended ? -ESRCH : epoll_ctl(d->ep, EPOLL_CTL_ADD, dv->view->listener, &ev) < 0 ? -errno : 0;
	if (r == 0)
		dv->attached = true;
	pthread_mutex_unlock(&d->lock);
	if (r < 0)
		return vosd_send_error(c->fd, -r, "attach-command: cannot serve the listener");

	struct vosd_builder b;
	vosd_builder_init(&b, VOSD_REPLY_OK);
	vosd_add_u32(&b, VOSD_TAG_VIEW_ID, id);
	r = vosd_send(c->fd, &b, NULL, 0);
	vosd_builder_free(&b);
	return r;
}

static void serve_connection(struct daemon_loop *d, int fd, uid_t uid, gid_t gid, pid_t pid);

/* LAUNCH_VIEW: start a launch agent (launch-agent.h) that prepares the view
 * over a connection of its own, as `vos run` would, and answers the caller
 * on this connection, which it takes over. Returns 1 (this thread is done
 * with the connection) or -errno. */
static int handle_launch(struct conn *c, const struct vosd_msg *m, int *fds)
{
	struct daemon_loop *d = c->d;
	if (c->view)
		return vosd_send_error(c->fd, EBUSY, "this connection has already prepared a view");
	if (c->uid != geteuid())
		return vosd_send_error(c->fd, EPERM, "this vosd launches views only for its own user");
	if (!d->cfg.self_exe)
		return vosd_send_error(c->fd, ENOTSUP, "this vosd cannot start launch agents");
	struct stat st;
	if (fstat(fds[3], &st) < 0 || !S_ISDIR(st.st_mode))
		return vosd_send_error(c->fd, ENOTDIR, "the working-directory descriptor is not a directory");
	for (int i = 0; i < 3; i++) {
		int mode = fcntl(fds[i], F_GETFL);
		if (mode < 0 || (mode & O_PATH) || (i == 0 ? (mode & O_ACCMODE) == O_WRONLY : (mode & O_ACCMODE) == O_RDONLY))
			return vosd_send_error(c->fd, EBADF, "descriptors are not a readable stdin, a writable stdout and stderr, and a directory");
	}
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return vosd_send_error(c->fd, errno, "cannot create a socket for the launch agent");
	char error[256];
	pid_t pid;
	int r = launch_agent_spawn(d->cfg.self_exe, m, fds, sv[1], c->fd, &pid, error, sizeof(error));
	close(sv[1]);
	if (r < 0) {
		close(sv[0]);
		return vosd_send_error(c->fd, -r, error);
	}
	supervisor_debug(&d->sup, "uid %u pid %d: launch agent %d started", (unsigned)c->uid, (int)c->pid, (int)pid);
	serve_connection(d, sv[0], geteuid(), getegid(), pid);
	return 1;
}

static char *service_names(struct vos_view *v)
{
	size_t cap = 512, at = 0;
	char *s = calloc(1, cap);
	if (!s)
		return NULL;
	pthread_mutex_lock(&v->lock);
	for (struct view_service *sv = v->services; sv; sv = sv->next) {
		int n = snprintf(s + at, cap - at, "%s%s", at ? "," : "", sv->module->desc.name);
		if (n < 0 || (size_t)n >= cap - at)
			break;
		at += (size_t)n;
	}
	pthread_mutex_unlock(&v->lock);
	return s;
}

/* A snapshot of the views `c` may see, each with a reference. */
static size_t snapshot(struct conn *c, struct dview ***ret)
{
	struct daemon_loop *d = c->d;
	size_t n = 0;
	pthread_mutex_lock(&d->lock);
	for (struct dview *dv = d->views; dv; dv = dv->next)
		n += visible(c, dv);
	struct dview **all = calloc(n + 1, sizeof(*all));
	n = 0;
	if (all)
		for (struct dview *dv = d->views; dv; dv = dv->next)
			if (visible(c, dv)) {
				dv->refs++;
				all[n++] = dv;
			}
	pthread_mutex_unlock(&d->lock);
	*ret = all;
	return n;
}

static void release_all(struct dview **all, size_t n)
{
	for (size_t i = 0; i < n; i++)
		dview_unref(all[i]);
	free(all);
}

static int forward_to_workers(struct conn *c, const struct vosd_msg *req, struct vosd_builder *out);

static int handle_list_views(struct conn *c, const struct vosd_msg *m)
{
	struct dview **all;
	size_t n = snapshot(c, &all);
	struct vosd_builder b;
	vosd_builder_init(&b, VOSD_REPLY_OK);
	time_t now = now_s();
	for (size_t i = 0; i < n; i++) {
		struct vosd_builder rec;
		_cleanup_free_ char *names = service_names(all[i]->view);
		vosd_builder_init(&rec, VOSD_VIEW_RECORD);
		vosd_add_u32(&rec, VOSD_TAG_VIEW_ID, all[i]->view->id);
		vosd_add_u32(&rec, VOSD_TAG_OWNER, all[i]->owner);
		vosd_add_u32(&rec, VOSD_TAG_PID, (uint32_t)all[i]->view->pid);
		vosd_add_string(&rec, VOSD_TAG_COMMAND, all[i]->command);
		vosd_add_string(&rec, VOSD_TAG_SERVICES, names ? names : "");
		vosd_add_u64(&rec, VOSD_TAG_UPTIME, (uint64_t)(now - all[i]->started));
		vosd_add_nested(&b, VOSD_TAG_VIEW, &rec);
		vosd_builder_free(&rec);
	}
	release_all(all, n);
	forward_to_workers(c, m, &b);
	int r = vosd_send(c->fd, &b, NULL, 0);
	if (r == -EMSGSIZE || r == -ENOMEM)
		r = vosd_send_error(c->fd, -r, "too many views for one reply");
	vosd_builder_free(&b);
	return r;
}

static int handle_list_mounts(struct conn *c, const struct vosd_msg *m)
{
	uint32_t only = 0;
	bool one = vosd_msg_u32(m, VOSD_TAG_VIEW_ID, &only);
	struct dview **all;
	size_t n = snapshot(c, &all);
	struct vosd_builder b;
	vosd_builder_init(&b, VOSD_REPLY_OK);
	bool found = false;
	for (size_t i = 0; i < n; i++) {
		if (one && all[i]->view->id != only)
			continue;
		found = true;
		char text[VOSD_STRING_MAX];
		size_t len = view_list_mounts(all[i]->view, text, sizeof(text));
		if (len >= sizeof(text)) /* cut at a line */
			*(strrchr(text, '\n') ? strrchr(text, '\n') + 1 : text) = '\0';
		vosd_add_u32(&b, VOSD_TAG_VIEW_ID, all[i]->view->id);
		vosd_add_string(&b, VOSD_TAG_TEXT, text);
	}
	release_all(all, n);
	if (!found || !one)
		found |= forward_to_workers(c, m, &b) > 0;
	int r;
	if (one && !found) {
		struct dview *dv;
		int e = dview_get(c, only, &dv);
		if (e == 0)
			dview_unref(dv);
		r = reply_view_error(c->fd, e == 0 ? -ENOENT : e, only);
	} else {
		r = vosd_send(c->fd, &b, NULL, 0);
	}
	vosd_builder_free(&b);
	return r;
}

static int forward_one(struct conn *c, uint32_t id, const struct vosd_msg *m);

static int handle_service(struct conn *c, const struct vosd_msg *m)
{
	uint32_t id = 0;
	vosd_msg_u32(m, VOSD_TAG_VIEW_ID, &id);
	struct dview *dv;
	int r = dview_get(c, id, &dv);
	if (r < 0) {
		if (r == -ENOENT && forward_one(c, id, m) == 0)
			return 0;
		return reply_view_error(c->fd, r, id);
	}
	char error[512] = "";
	struct vosd_builder b;
	vosd_builder_init(&b, VOSD_REPLY_OK);
	if (m->type == VOSD_SERVICE_LIST) {
		char text[VOSD_STRING_MAX];
		size_t len = view_list_services(dv->view, text, sizeof(text));
		if (len >= sizeof(text))
			*(strrchr(text, '\n') ? strrchr(text, '\n') + 1 : text) = '\0';
		vosd_add_string(&b, VOSD_TAG_TEXT, text);
		r = 0;
	} else if (m->type == VOSD_SERVICE_ADD) {
		_cleanup_free_ char *spec = strdup(vosd_msg_string(m, VOSD_TAG_NAME));
		char *options = spec ? strchr(spec, ',') : NULL;
		if (options)
			*options++ = '\0';
		r = spec ? view_add_service(dv->view, spec, options, vosd_msg_string(m, VOSD_TAG_SEARCH_PATH),
					    error, sizeof(error))
			 : -ENOMEM;
	} else {
		r = view_del_service(dv->view, vosd_msg_string(m, VOSD_TAG_NAME), error, sizeof(error));
	}
	dview_unref(dv);
	if (r < 0)
		r = vosd_send_error(c->fd, -r, error[0] ? error : strerror(-r));
	else
		r = vosd_send(c->fd, &b, NULL, 0);
	vosd_builder_free(&b);
	return r;
}

/* Kill every process in the view's mount or user namespace (not us).
 * Returns how many were signalled. */
static unsigned kill_view_processes(struct vos_view *v)
{
	struct stat mnt, user;
	bool have_user = v->userns >= 0 && fstat(v->userns, &user) == 0;
	if (fstat(v->mntns, &mnt) < 0)
		return 0;
	DIR *dir = opendir("/proc");
	if (!dir)
		return 0;
	unsigned count = 0;
	struct dirent *e;
	while ((e = readdir(dir))) {
		char *end;
		long pid = strtol(e->d_name, &end, 10);
		if (*end || pid <= 1 || pid == getpid())
			continue;
		int pidfd = (int)syscall(SYS_pidfd_open, (pid_t)pid, 0);
		if (pidfd < 0)
			continue;
		char path[64];
		struct stat st;
		bool match = false;
		snprintf(path, sizeof(path), "/proc/%ld/ns/mnt", pid);
		if (stat(path, &st) == 0 && st.st_dev == mnt.st_dev && st.st_ino == mnt.st_ino)
			match = true;
		snprintf(path, sizeof(path), "/proc/%ld/ns/user", pid);
		if (have_user && stat(path, &st) == 0 && st.st_dev == user.st_dev && st.st_ino == user.st_ino)
			match = true;
		/* A zombie still shows its namespaces and takes signals: skip it. */
		char stat_line[512];
		snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
		FILE *f = match ? fopen(path, "re") : NULL;
		if (f) {
			const char *paren = fgets(stat_line, sizeof(stat_line), f) ? strrchr(stat_line, ')') : NULL;
			if (paren && (paren[2] == 'Z' || paren[2] == 'X'))
				match = false;
			fclose(f);
		}
		if (match && syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0) == 0)
			count++;
		close(pidfd);
	}
	closedir(dir);
	return count;
}

static int handle_stop(struct conn *c, const struct vosd_msg *m)
{
	uint32_t id = 0;
	vosd_msg_u32(m, VOSD_TAG_VIEW_ID, &id);
	struct dview *dv;
	int r = dview_get(c, id, &dv);
	if (r < 0) {
		if (r == -ENOENT && forward_one(c, id, m) == 0)
			return 0;
		return reply_view_error(c->fd, r, id);
	}
	daemon_log(c->d, "view %u: stopped by uid %u", id, (unsigned)c->uid);
	/* Several passes: a process may fork while we scan. */
	for (int pass = 0; pass < STOP_PASSES && kill_view_processes(dv->view) > 0; pass++)
		usleep(STOP_PASS_MS * 1000);
	dview_unref(dv);
	struct vosd_builder b;
	vosd_builder_init(&b, VOSD_REPLY_OK);
	vosd_add_u32(&b, VOSD_TAG_VIEW_ID, id);
	r = vosd_send(c->fd, &b, NULL, 0);
	vosd_builder_free(&b);
	return r;
}

static uint64_t rss_kib(void)
{
	FILE *f = fopen("/proc/self/status", "re");
	char line[256];
	uint64_t kib = 0;
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %" SCNu64, &kib) == 1)
			break;
	fclose(f);
	return kib;
}

static int handle_status(struct conn *c, const struct vosd_msg *m)
{
	struct daemon_loop *d = c->d;
	struct dview **all;
	size_t n = snapshot(c, &all);
	release_all(all, n);
	unsigned workers = 0;
	pthread_mutex_lock(&d->lock);
	for (unsigned i = 0; i < d->n_workers; i++)
		workers += d->workers[i].channel >= 0;
	pthread_mutex_unlock(&d->lock);

	struct vosd_builder b;
	vosd_builder_init(&b, VOSD_REPLY_OK);
	vosd_add_string(&b, VOSD_TAG_VERSION, VOS_VERSION);
	vosd_add_u64(&b, VOSD_TAG_UPTIME, (uint64_t)(now_s() - d->started));
	/* Views of the workers this caller may see are counted by them. */
	struct vosd_builder lv;
	vosd_builder_init(&lv, VOSD_REPLY_OK);
	struct vosd_msg list_req = { .type = VOSD_LIST_VIEWS };
	forward_to_workers(c, &list_req, &lv);
	struct vosd_msg parsed;
	char err[64];
	size_t more = 0;
	if (!lv.error && vosd_msg_parse(lv.buf, lv.len, 0, &parsed, err, sizeof(err)) == 0)
		for (long i = -1; vosd_msg_next(&parsed, VOSD_TAG_VIEW, &i);)
			more++;
	vosd_builder_free(&lv);
	vosd_add_u32(&b, VOSD_TAG_VIEWS, (uint32_t)(n + more));
	vosd_add_u64(&b, VOSD_TAG_RSS, rss_kib());
	vosd_add_u32(&b, VOSD_TAG_DAEMON_PID, (uint32_t)getpid());
	vosd_add_u32(&b, VOSD_TAG_WORKERS, workers);
	(void)m;
	int r = vosd_send(c->fd, &b, NULL, 0);
	vosd_builder_free(&b);
	return r;
}

/* --- per-user workers (root daemon only) ------------------------------ */

static int worker_spawn_locked(struct daemon_loop *d, uid_t uid, gid_t gid, struct worker **ret)
{
	struct worker *w = NULL;
	for (unsigned i = 0; i < d->n_workers; i++)
		if (d->workers[i].uid == uid)
			w = &d->workers[i];
	if (w && w->channel >= 0) {
		*ret = w;
		return 0;
	}
	if (!w) {
		if (d->n_workers == WORKERS_MAX)
			return -EAGAIN;
		w = &d->workers[d->n_workers];
		*w = (struct worker){ .uid = uid, .channel = -1, .index = d->n_workers + 1 };
		d->n_workers++;
	}
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return -errno;
	char uid_s[16], gid_s[16], base_s[16];
	snprintf(uid_s, sizeof(uid_s), "%u", (unsigned)uid);
	snprintf(gid_s, sizeof(gid_s), "%u", (unsigned)gid);
	snprintf(base_s, sizeof(base_s), "%u", w->index << DAEMON_ID_SHIFT);
	char *argv[] = { "vosd", "--worker", uid_s, gid_s, base_s, NULL, NULL };
	if (d->sup.debug) {
		argv[1] = "--verbose";
		argv[2] = "--worker";
		argv[3] = uid_s;
		argv[4] = gid_s;
		argv[5] = base_s;
	}
	pid_t pid = fork();
	if (pid < 0) {
		int r = -errno;
		close(sv[0]);
		close(sv[1]);
		return r;
	}
	if (pid == 0) {
		/* Async-signal-safe only: we are a fork of a threaded process. */
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		if (dup2(sv[1], 3) < 0)
			_exit(127);
		close_range(4, ~0U, 0);
		execv(d->cfg.self_exe, argv);
		_exit(127);
	}
	close(sv[1]);
	w->pid = pid;
	w->gid = gid;
	w->channel = sv[0];
	daemon_log(d, "worker for uid %u started (pid %d)", (unsigned)uid, (int)pid);
	*ret = w;
	return 0;
}

static int worker_pass(struct daemon_loop *d, struct worker *w, int fd, uid_t uid, gid_t gid, pid_t pid)
{
	struct daemon_channel_msg msg = { .uid = uid, .gid = gid, .pid = pid };
	return fd_send(w->channel, &msg, sizeof(msg), &fd, 1);
	(void)d;
}

/* Root asks every worker (as root, over a fresh connection) and appends
 * their VIEW or VIEW_ID/TEXT fields to `out`. Returns how many fields. */
static int forward_to_workers(struct conn *c, const struct vosd_msg *req, struct vosd_builder *out)
{
	struct daemon_loop *d = c->d;
	if (!d->cfg.root_dispatcher || c->uid != 0)
		return 0;
	int added = 0;
	pthread_mutex_lock(&d->lock);
	unsigned n = d->n_workers;
	pthread_mutex_unlock(&d->lock);
	_cleanup_free_ char *buf = malloc(VOSD_MSG_MAX);
	struct vosd_msg *reply = malloc(sizeof(*reply));
	if (!buf || !reply) {
		free(reply);
		return 0;
	}
	for (unsigned i = 0; i < n; i++) {
		int sv[2];
		if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
			break;
		pthread_mutex_lock(&d->lock);
		int r = d->workers[i].channel >= 0 ? worker_pass(d, &d->workers[i], sv[1], 0, 0, getpid()) : -ESRCH;
		pthread_mutex_unlock(&d->lock);
		close(sv[1]);
		if (r < 0) {
			close(sv[0]);
			continue;
		}
		struct timeval tv = { .tv_sec = 5 };
		setsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		struct vosd_builder q;
		vosd_builder_init(&q, req->type);
		uint32_t id;
		if (vosd_msg_u32(req, VOSD_TAG_VIEW_ID, &id))
			vosd_add_u32(&q, VOSD_TAG_VIEW_ID, id);
		char error[256];
		r = vosd_call(sv[0], &q, NULL, 0, buf, reply, error, sizeof(error));
		vosd_builder_free(&q);
		close(sv[0]);
		if (r < 0)
			continue;
		for (size_t f = 0; f < reply->n_fields; f++) {
			uint16_t tag = reply->fields[f].tag;
			if (tag == VOSD_TAG_VIEW || tag == VOSD_TAG_TEXT || tag == VOSD_TAG_VIEW_ID) {
				char *copy = malloc(reply->fields[f].length + sizeof(struct vosd_header));
				if (!copy)
					continue;
				memcpy(copy + sizeof(struct vosd_header), reply->fields[f].value, reply->fields[f].length);
				struct vosd_builder nested = { .buf = copy, .len = reply->fields[f].length + sizeof(struct vosd_header) };
				if (tag == VOSD_TAG_VIEW)
					vosd_add_nested(out, tag, &nested);
				else if (tag == VOSD_TAG_TEXT)
					vosd_add_string(out, tag, reply->fields[f].value);
				else {
					uint32_t v;
					memcpy(&v, reply->fields[f].value, sizeof(v));
					vosd_add_u32(out, tag, v);
				}
				free(copy);
				added++;
			}
		}
	}
	free(reply);
	return added;
}

/* Root: a view-id request for a view of some worker. Returns 0 when the
 * worker's reply was relayed to the client. */
static int forward_one(struct conn *c, uint32_t id, const struct vosd_msg *m)
{
	struct daemon_loop *d = c->d;
	unsigned index = id >> DAEMON_ID_SHIFT;
	if (!d->cfg.root_dispatcher || c->uid != 0 || index == 0)
		return -ENOENT;
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return -errno;
	pthread_mutex_lock(&d->lock);
	int r = index <= d->n_workers && d->workers[index - 1].channel >= 0
			? worker_pass(d, &d->workers[index - 1], sv[1], 0, 0, getpid()) : -ENOENT;
	pthread_mutex_unlock(&d->lock);
	close(sv[1]);
	if (r < 0) {
		close(sv[0]);
		return r;
	}
	struct vosd_builder q;
	vosd_builder_init(&q, m->type);
	for (size_t f = 0; f < m->n_fields; f++) {
		if (m->fields[f].tag == VOSD_TAG_VIEW_ID)
			vosd_add_u32(&q, VOSD_TAG_VIEW_ID, id);
		else
			vosd_add_string(&q, m->fields[f].tag, m->fields[f].value);
	}
	/* Relay the worker's reply packet unchanged. */
	_cleanup_free_ char *buf = malloc(VOSD_MSG_MAX);
	int fds[VOSD_FDS_MAX];
	size_t n_fds;
	r = buf ? vosd_send(sv[0], &q, NULL, 0) : -ENOMEM;
	vosd_builder_free(&q);
	ssize_t n = r < 0 ? r : vosd_recv(sv[0], buf, fds, &n_fds);
	close(sv[0]);
	if (n <= 0)
		return -EIO;
	for (size_t i = 0; i < n_fds; i++)
		close(fds[i]);
	struct vosd_builder relay = { .buf = buf, .len = (size_t)n };
	return vosd_send(c->fd, &relay, NULL, 0);
}

/* --- connections ------------------------------------------------------- */

static int handle(struct conn *c, const struct vosd_msg *m, int *fds, size_t n_fds)
{
	switch (m->type) {
	case VOSD_PREPARE_VIEW:
		return handle_prepare(c, m, fds, n_fds);
	case VOSD_ATTACH_COMMAND:
		return handle_attach(c, m, fds);
	case VOSD_LIST_VIEWS:
		return handle_list_views(c, m);
	case VOSD_LIST_MOUNTS:
		return handle_list_mounts(c, m);
	case VOSD_SERVICE_ADD:
	case VOSD_SERVICE_DEL:
	case VOSD_SERVICE_LIST:
		return handle_service(c, m);
	case VOSD_STOP_VIEW:
		return handle_stop(c, m);
	case VOSD_STATUS:
		return handle_status(c, m);
	case VOSD_LAUNCH_VIEW:
		return handle_launch(c, m, fds);
	default:
		vosd_send_error(c->fd, EBADMSG, "not a request");
		return -EBADMSG;
	}
}

static void *conn_thread(void *arg)
{
	struct conn *c = arg;
	struct daemon_loop *d = c->d;
	char *buf = malloc(VOSD_MSG_MAX);
	struct vosd_msg *msg = malloc(sizeof(*msg));
	struct timeval idle = { .tv_sec = CONN_IDLE_TIMEOUT_S };
	setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &idle, sizeof(idle));

	while (buf && msg) {
		int fds[VOSD_FDS_MAX];
		size_t n_fds;
		ssize_t n = vosd_recv(c->fd, buf, fds, &n_fds);
		if (n == 0)
			break;
		if (n < 0) {
			if (n == -EMSGSIZE)
				vosd_send_error(c->fd, EMSGSIZE, "message longer than the maximum or with too many descriptors");
			break;
		}
		char error[256];
		int r = vosd_msg_parse(buf, (size_t)n, n_fds, msg, error, sizeof(error));
		if (r == 0 && msg->type > VOSD_TYPE_REQUEST_MAX) {
			r = -EBADMSG;
			snprintf(error, sizeof(error), "message type %u is not a request", msg->type);
		}
		if (r < 0) {
			supervisor_debug(&d->sup, "uid %u pid %d: bad message: %s", (unsigned)c->uid, (int)c->pid, error);
			vosd_send_error(c->fd, -r, error);
		} else {
			r = handle(c, msg, fds, n_fds);
		}
		for (size_t i = 0; i < n_fds; i++)
			if (fds[i] >= 0)
				close(fds[i]);
		if (r != 0) /* an error, or the connection was handed over */
			break;
	}
	free(buf);
	free(msg);
	if (c->view) {
		pthread_mutex_lock(&d->lock);
		if (!c->view->attached)
			dview_end_locked(c->view, "its client left before starting the command");
		dview_unref_locked(c->view);
		pthread_mutex_unlock(&d->lock);
	}
	close(c->fd);
	pthread_mutex_lock(&d->lock);
	d->n_conns--;
	pthread_mutex_unlock(&d->lock);
	free(c);
	return NULL;
}

static void serve_connection(struct daemon_loop *d, int fd, uid_t uid, gid_t gid, pid_t pid)
{
	pthread_mutex_lock(&d->lock);
	bool full = d->n_conns >= CONN_MAX;
	if (!full)
		d->n_conns++;
	pthread_mutex_unlock(&d->lock);
	if (full) {
		vosd_send_error(fd, EAGAIN, "vosd: too many connections");
		close(fd);
		return;
	}
	struct conn *c = calloc(1, sizeof(*c));
	pthread_t t;
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (c) {
		*c = (struct conn){ .d = d, .fd = fd, .uid = uid, .gid = gid, .pid = pid };
		if (pthread_create(&t, &attr, conn_thread, c) == 0) {
			pthread_attr_destroy(&attr);
			return;
		}
	}
	pthread_attr_destroy(&attr);
	free(c);
	vosd_send_error(fd, ENOMEM, "vosd: out of resources");
	close(fd);
	pthread_mutex_lock(&d->lock);
	d->n_conns--;
	pthread_mutex_unlock(&d->lock);
}

static void accept_one(struct daemon_loop *d)
{
	int fd = accept4(d->cfg.listen_fd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		return;
	struct ucred cred;
	socklen_t len = sizeof(cred);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
		close(fd);
		return;
	}
	if (d->cfg.root_dispatcher && cred.uid != 0) {
		pthread_mutex_lock(&d->lock);
		struct worker *w;
		int r = worker_spawn_locked(d, cred.uid, cred.gid, &w);
		if (r == 0 && (r = worker_pass(d, w, fd, cred.uid, cred.gid, cred.pid)) < 0) {
			/* It died meanwhile: once more with a new one. */
			close(w->channel);
			w->channel = -1;
			if ((r = worker_spawn_locked(d, cred.uid, cred.gid, &w)) == 0)
				r = worker_pass(d, w, fd, cred.uid, cred.gid, cred.pid);
		}
		pthread_mutex_unlock(&d->lock);
		if (r < 0) {
			daemon_log(d, "cannot start a worker for uid %u: %s", (unsigned)cred.uid, strerror(-r));
			vosd_send_error(fd, -r, "vosd: cannot start a worker for this user");
		}
		close(fd);
		return;
	}
	serve_connection(d, fd, cred.uid, cred.gid, cred.pid);
}

static void channel_one(struct daemon_loop *d)
{
	struct daemon_channel_msg msg;
	int fd;
	ssize_t n = fd_recv(d->cfg.channel_fd, &msg, sizeof(msg), &fd, 1);
	if (n == 0 || (n < 0 && n != -EAGAIN && n != -EINTR)) {
		epoll_ctl(d->ep, EPOLL_CTL_DEL, d->cfg.channel_fd, NULL);
		d->channel_closed = true;
		supervisor_debug(&d->sup, "the root vosd is gone; serving the remaining views");
		return;
	}
	if (n != sizeof(msg) || fd < 0) {
		if (fd >= 0)
			close(fd);
		return;
	}
	serve_connection(d, fd, msg.uid, msg.gid, msg.pid);
}

static void reap_workers(struct daemon_loop *d)
{
	int st;
	pid_t pid;
	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		pthread_mutex_lock(&d->lock);
		for (unsigned i = 0; i < d->n_workers; i++)
			if (d->workers[i].pid == pid && d->workers[i].channel >= 0) {
				close(d->workers[i].channel);
				d->workers[i].channel = -1;
				daemon_log(d, "worker for uid %u (pid %d) exited", (unsigned)d->workers[i].uid, (int)pid);
			}
		pthread_mutex_unlock(&d->lock);
	}
}

int daemon_loop_new(const struct daemon_config *cfg, struct daemon_loop **ret)
{
	struct daemon_loop *d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->cfg = *cfg;
	supervisor_init(&d->sup, cfg->verbose || daemon_config_debug(cfg->config_path) ? stderr : NULL);
	pthread_mutex_init(&d->lock, NULL);
	d->started = now_s();
	*ret = d;
	return 0;
}

static void reload(struct daemon_loop *d)
{
	sd_notify_state(d, "RELOADING=1");
	bool debug = d->cfg.verbose || daemon_config_debug(d->cfg.config_path);
	d->sup.debug = debug ? stderr : NULL;
	pthread_mutex_lock(&d->lock);
	for (struct dview *dv = d->views; dv; dv = dv->next)
		dv->sup.debug = d->sup.debug;
	pthread_mutex_unlock(&d->lock);
	daemon_log(d, "configuration reloaded: log level %s", debug ? "debug" : "info");
	sd_notify_state(d, "READY=1");
}

int daemon_loop_run(struct daemon_loop *d)
{
	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	d->sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	d->ep = epoll_create1(EPOLL_CLOEXEC);
	if (d->sfd < 0 || d->ep < 0)
		return -errno;
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &d->sfd };
	if (epoll_ctl(d->ep, EPOLL_CTL_ADD, d->sfd, &ev) < 0)
		return -errno;
	if (d->cfg.listen_fd >= 0) {
		ev.data.ptr = &d->cfg.listen_fd;
		if (epoll_ctl(d->ep, EPOLL_CTL_ADD, d->cfg.listen_fd, &ev) < 0)
			return -errno;
	}
	if (d->cfg.channel_fd >= 0) {
		ev.data.ptr = &d->cfg.channel_fd;
		if (epoll_ctl(d->ep, EPOLL_CTL_ADD, d->cfg.channel_fd, &ev) < 0)
			return -errno;
	}
	sd_notify_state(d, "READY=1");
	/* The watchdog is pinged from this loop, so a loop that stops turning
	 * (a deadlock on d->lock, a handler stuck on the loop thread) gets
	 * vosd restarted. */
	long long watchdog = watchdog_interval_ms(d), next_ping = now_ms() + watchdog;
	if (watchdog)
		supervisor_debug(&d->sup, "systemd watchdog: pinging every %lld ms", watchdog);

	for (;;) {
		int timeout = d->channel_closed ? 1000 : -1;
		if (watchdog) {
			long long now = now_ms();
			if (now >= next_ping) {
				sd_notify_state(d, "WATCHDOG=1");
				next_ping = now + watchdog;
			}
			if (timeout < 0 || next_ping - now < timeout)
				timeout = (int)(next_ping - now);
		}
		if (d->channel_closed) {
			pthread_mutex_lock(&d->lock);
			bool empty = !d->views && d->n_conns == 0;
			pthread_mutex_unlock(&d->lock);
			if (empty)
				return 0;
		}
		struct epoll_event events[32];
		int n = epoll_wait(d->ep, events, ARRAY_SIZE(events), timeout);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		for (int i = 0; i < n; i++) {
			void *p = events[i].data.ptr;
			if (p == &d->cfg.listen_fd) {
				accept_one(d);
			} else if (p == &d->cfg.channel_fd) {
				channel_one(d);
			} else if (p == &d->sfd) {
				struct signalfd_siginfo si;
				while (read(d->sfd, &si, sizeof(si)) == sizeof(si)) {
					if (si.ssi_signo == SIGHUP) {
						reload(d);
					} else if (si.ssi_signo == SIGCHLD) {
						reap_workers(d);
					} else {
						daemon_log(d, "stopping on signal %u", si.ssi_signo);
						sd_notify_state(d, "STOPPING=1");
						return 0;
					}
				}
			} else {
				struct dview *dv = p;
				if (events[i].events & EPOLLIN) {
					struct seccomp_notif notif;
					if (notify_recv(dv->view->listener, &notif) == 0)
						dispatch_notification(dv->view, &notif);
				} else if (events[i].events & (EPOLLHUP | EPOLLERR)) {
					pthread_mutex_lock(&d->lock);
					dview_end_locked(dv, "no process uses its filter any more");
					pthread_mutex_unlock(&d->lock);
				}
			}
		}
	}
}
