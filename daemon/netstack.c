/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "netstack.h"

#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>

#include "fuse-serve.h"
#include "helper.h"
#include "notify.h"
#include "service-fault.h"
#include "stack-choice.h"
#include "supervisor.h"
#include "util.h"
#include "view.h"

#include "../libvos/control-proto.h"

#define NETSTACK_DEFAULT_PATH "/dev/net/default"
#define NETSTACK_NATIVE_PATH "/dev/net/native"
#define NETSTACK_END_TIMEOUT_MS 2000
#define MOUNTINFO_DEPTH_MAX 4096

struct netstack {
	struct vos_view *view;
	struct netstack_table *table;
	struct view_service *svc;
	const struct vos_netstack *desc;
	void *data;
	int netns;                   /* -1: a null stack */
	char *text;                  /* what reading the node gives: "TYPE\n" */
	dev_t dev;                   /* the node's st_dev: how paths find it */
	uint64_t mnt_id;             /* the node's mount id in the view */
	struct fuse_server *server;
	bool ended;
	struct netstack *prev_default; /* the default it covers, if any */
	struct netstack *next;
};

struct netstack_table {
	struct vos_view *view;
	pthread_mutex_t lock;
	struct netstack *stacks;
	struct netstack *default_stack; /* NULL: sockets are the kernel's */
	bool perm;                      /* the default can never change */
	struct netstack *perm_stack;
	struct stat view_net;           /* the view's own network namespace */
	struct stat own_net;            /* the supervisor's */
	struct stack_choices choices;   /* mstack'ed into the view's own namespace */
};

/* ---- identities ---- */

static bool same_ns(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

static int process_net(pid_t pid, struct stat *ret)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
	return stat(path, ret) < 0 ? -errno : 0;
}

/* The path `path` of process `pid` (relative to `dirfd` of that process:
 * AT_FDCWD or an fd number), reachable from the supervisor. */
static char *process_path(pid_t pid, int dirfd, const char *path)
{
	char *out;
	int r;
	if (path[0] == '/')
		r = asprintf(&out, "/proc/%d/root%s", (int)pid, path);
	else if (dirfd == AT_FDCWD)
		r = asprintf(&out, "/proc/%d/cwd%s%s", (int)pid, path[0] ? "/" : "", path);
	else
		r = asprintf(&out, "/proc/%d/fd/%d%s%s", (int)pid, dirfd, path[0] ? "/" : "", path);
	return r < 0 ? NULL : out;
}

/* st_dev, mount id and whether it is a mount's root, of an fd or path.
 * The request mask is empty: FUSE refuses every other attribute of a
 * view's mount to the supervisor, which is outside its user namespace
 * (st_dev, the mount id and the mount-root attribute come from the VFS). */
static int identity_at(int dirfd, const char *path, int flags, dev_t *ret_dev, uint64_t *ret_mnt_id,
		       bool *ret_root)
{
	struct statx stx;
	if (statx(dirfd, path, flags | AT_NO_AUTOMOUNT | AT_STATX_DONT_SYNC, 0, &stx) < 0)
		return -errno;
	if (ret_dev)
		*ret_dev = makedev(stx.stx_dev_major, stx.stx_dev_minor);
	if (ret_mnt_id)
		*ret_mnt_id = (stx.stx_mask & STATX_MNT_ID) ? stx.stx_mnt_id : 0; /* set by the VFS */
	if (ret_root)
		*ret_root = (stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) &&
			    (stx.stx_attributes & STATX_ATTR_MOUNT_ROOT);
	return 0;
}

/* The identity of `path` as process `pid` sees it (relative to its cwd,
 * or to its fd `dirfd`). The view helper resolves it: the supervisor
 * cannot walk through the view's FUSE directories (the working-directory
 * layer) itself. */
static int path_identity(struct vos_view *v, pid_t pid, int dirfd, const char *path, bool follow,
			 dev_t *ret_dev, uint64_t *ret_mnt_id, bool *ret_root)
{
	if (dirfd != AT_FDCWD && path[0] != '/') {
		_cleanup_free_ char *where = process_path(pid, dirfd, path);
		if (!where)
			return -ENOMEM;
		return identity_at(AT_FDCWD, where, follow ? 0 : AT_SYMLINK_NOFOLLOW, ret_dev, ret_mnt_id, ret_root);
	}
	if (!path[0])
		return -ENOENT;
	_cleanup_close_ int fd = view_open(v, pid, path, O_PATH | (follow ? 0 : O_NOFOLLOW));
	if (fd < 0)
		return fd;
	return identity_at(fd, "", AT_EMPTY_PATH, ret_dev, ret_mnt_id, ret_root);
}

/* ---- the table ---- */

static struct netstack_table *table_get(struct vos_view *v, bool create)
{
	pthread_mutex_lock(&v->lock);
	struct netstack_table *t = v->netstacks;
	if (!t && create) {
		t = calloc(1, sizeof(*t));
		if (t) {
			pthread_mutex_init(&t->lock, NULL);
			stack_choices_init(&t->choices);
			t->view = v;
			/* The helper never leaves the view's network namespace. */
			if (process_net(v->helper_pid, &t->view_net) < 0 || stat("/proc/self/ns/net", &t->own_net) < 0) {
				free(t);
				t = NULL;
			} else {
				v->netstacks = t;
			}
		}
	}
	pthread_mutex_unlock(&v->lock);
	return t;
}

const struct vos_netstack *netstack_find(const struct view_service *svc, const char *subtype)
{
	const struct vos_netstack *const *list = svc->module->desc.netstacks;
	for (size_t i = 0; list && list[i]; i++)
		if (list[i]->name && list[i]->create && streq(list[i]->name, subtype))
			return list[i];
	return NULL;
}

/* ---- sockets ---- */

/* A socket in the stack whose namespace is `netns`, as a new fd of ours. */
static int stack_socket(struct vos_view *v, struct netstack_table *t, int netns, int domain, int type,
			int protocol)
{
	if (netns < 0)
		return -EAFNOSUPPORT; /* a null stack */
	struct stat st;
	if (fstat(netns, &st) < 0)
		return -errno;
	if (same_ns(&st, &t->own_net)) {
		int fd = socket(domain, type | SOCK_CLOEXEC, protocol);
		return fd < 0 ? -errno : fd;
	}
	/* A namespace of the view's user namespace: only the helper may enter it. */
	struct helper_request *req = calloc(1, sizeof(*req));
	if (!req)
		return -ENOMEM;
	req->op = HELPER_SOCKET;
	req->socket_domain = domain;
	req->socket_type = type;
	req->socket_protocol = protocol;
	int fd = -1;
	pthread_mutex_lock(&v->helper_lock);
	int r = v->helper >= 0 ? helper_call(v->helper, req, &netns, 1, &fd) : -ENOTCONN;
	pthread_mutex_unlock(&v->helper_lock);
	free(req);
	return r < 0 ? r : fd;
}

/* Hand `fd` (ours, closed here) to the caller as the trapped call's result. */
static void answer_fd(struct vos_view *v, const struct seccomp_notif *n, int fd, bool cloexec)
{
	if (fd < 0) {
		notify_respond(v->listener, n->id, fd);
		return;
	}
	int r = notify_addfd_send(v->listener, n->id, fd, cloexec);
	close(fd);
	if (r < 0 && r != -ENOENT)
		notify_respond(v->listener, n->id, r); /* e.g. EMFILE */
}

static void trap_socket(struct vos_view *v, const struct seccomp_notif *n)
{
	int domain = (int)n->data.args[0], type = (int)n->data.args[1], protocol = (int)n->data.args[2];
	struct netstack_table *t = domain == AF_UNIX ? NULL : table_get(v, false);
	if (!t) {
		notify_continue(v->listener, n->id);
		return;
	}
	pthread_mutex_lock(&t->lock);
	bool perm = t->perm, have_default = t->default_stack != NULL;
	int netns = have_default ? t->default_stack->netns : -1;
	pthread_mutex_unlock(&t->lock);

	if (!perm && !have_default) {
		notify_continue(v->listener, n->id);
		return;
	}
	struct stat caller_net, st;
	bool known = process_net(n->pid, &caller_net) == 0;
	if (!perm && (!known || !same_ns(&caller_net, &t->view_net))) {
		/* The process chose its own stack (mstack). */
		notify_continue(v->listener, n->id);
		return;
	}
	if (!perm && stack_choice_applies(&t->choices, n->pid)) {
		/* It chose the namespace it is in (mstack /dev/net/native). */
		notify_continue(v->listener, n->id);
		return;
	}
	if (netns >= 0 && known && fstat(netns, &st) == 0 && same_ns(&st, &caller_net)) {
		/* The default is where the caller already is: native speed. */
		notify_continue(v->listener, n->id);
		return;
	}
	if (!notify_id_valid(v->listener, n->id))
		return;
	int fd = stack_socket(v, t, netns, domain, type & ~SOCK_CLOEXEC, protocol);
	answer_fd(v, n, fd, type & SOCK_CLOEXEC);
}

/* ---- the stack node ---- */

static void node_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)fi;
	struct netstack *s = fuse_req_userdata(req);
	if (ino != FUSE_ROOT_ID) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	struct stat st = {
		.st_ino = FUSE_ROOT_ID,
		.st_mode = S_IFREG | 0444,
		.st_nlink = 1,
		.st_size = (off_t)strlen(s->text),
		.st_blksize = 4096,
	};
	fuse_reply_attr(req, &st, 1.0);
}

static void node_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	if (ino != FUSE_ROOT_ID) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	if ((fi->flags & O_ACCMODE) != O_RDONLY) {
		fuse_reply_err(req, EACCES);
		return;
	}
	fi->direct_io = 1;
	fuse_reply_open(req, fi);
}

static void node_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi)
{
	(void)ino, (void)fi;
	struct netstack *s = fuse_req_userdata(req);
	size_t len = strlen(s->text);
	if (off < 0 || (size_t)off >= len) {
		fuse_reply_buf(req, NULL, 0);
		return;
	}
	size_t n = len - (size_t)off < size ? len - (size_t)off : size;
	fuse_reply_buf(req, s->text + off, n);
}

static const struct fuse_lowlevel_ops node_ops = {
	.getattr = node_getattr,
	.open = node_open,
	.read = node_read,
};

static void stack_ended(void *ctx)
{
	struct netstack *s = ctx;
	struct netstack_table *t = s->table;
	struct vos_view *v = s->view;
	pthread_mutex_lock(&t->lock);
	s->ended = true;
	if (t->default_stack == s) {
		struct netstack *d = s->prev_default;
		while (d && d->ended)
			d = d->prev_default;
		t->default_stack = d;
	}
	pthread_mutex_unlock(&t->lock);
	pthread_mutex_lock(&v->lock);
	s->svc->mounts--;
	pthread_mutex_unlock(&v->lock);
	if (s->desc->destroy)
		SERVICE_CALL(&s->svc->guard, "destroy", (void)0, s->desc->destroy(s->svc->data, s->data));
	s->data = NULL;
	supervisor_debug(v->sup, "view %u: stack %s ended", v->id, s->text);
}

static void stack_free(struct netstack *s)
{
	if (!s)
		return;
	if (s->netns >= 0)
		close(s->netns);
	free(s->text);
	free(s);
}

/* The live stack whose node `path` (of the caller) names, or NULL with
 * *ret_error: -ENOENT (no such file) or -EINVAL (not a stack). Caller
 * holds t->lock. */
static struct netstack *stack_at(struct netstack_table *t, pid_t pid, const char *path, int *ret_error)
{
	dev_t dev;
	int r = path_identity(t->view, pid, AT_FDCWD, path, true, &dev, NULL, NULL);
	if (r < 0) {
		*ret_error = r;
		return NULL;
	}
	for (struct netstack *s = t->stacks; s; s = s->next)
		if (!s->ended && s->dev == dev)
			return s;
	*ret_error = -EINVAL;
	return NULL;
}

int netstack_mount(struct vos_view *v, struct view_service *svc, const struct vos_netstack *desc,
		   const struct vos_mount_request *req, const char *target)
{
	struct netstack_table *t = table_get(v, true);
	if (!t)
		return -ENOMEM;
	bool perm = vos_options_get(req->options, "perm") != NULL;

	int err;
	pthread_mutex_lock(&t->lock);
	bool covers_perm = t->perm && stack_at(t, req->pid, target, &err) == t->perm_stack;
	pthread_mutex_unlock(&t->lock);
	if (covers_perm)
		return -EBUSY; /* the permanent default stays */

	struct vos_netstack_instance inst = { .netns_fd = -1 };
	int r;
	SERVICE_CALL(&svc->guard, "mount", r = -EIO, r = desc->create(svc->data, req, &inst));
	if (r < 0)
		return r;
	struct netstack *s = calloc(1, sizeof(*s));
	if (!s || asprintf(&s->text, "%s\n", req->type) < 0) {
		free(s);
		if (inst.netns_fd >= 0)
			close(inst.netns_fd);
		if (desc->destroy)
			SERVICE_CALL(&svc->guard, "destroy", (void)0, desc->destroy(svc->data, inst.data));
		return -ENOMEM;
	}
	*s = (struct netstack){ .view = v, .table = t, .svc = svc, .desc = desc, .data = inst.data,
				.netns = inst.netns_fd, .text = s->text };

	struct helper_request *hreq = calloc(1, sizeof(*hreq));
	if (!hreq) {
		r = -ENOMEM;
		goto fail;
	}
	hreq->op = HELPER_MOUNT_FUSE;
	hreq->root_mode = S_IFREG;
	hreq->pid = req->pid;
	hreq->mount_flags = MS_RDONLY;
	if (snprintf(hreq->target, sizeof(hreq->target), "%s", target) >= (int)sizeof(hreq->target)) {
		free(hreq);
		r = -ENAMETOOLONG;
		goto fail;
	}
	snprintf(hreq->fstype, sizeof(hreq->fstype), "%s", req->type);
	snprintf(hreq->source, sizeof(hreq->source), "%s", req->source ? req->source : req->type);
	int fuse_fd = -1;
	pthread_mutex_lock(&v->helper_lock);
	r = helper_call(v->helper, hreq, NULL, 0, &fuse_fd);
	pthread_mutex_unlock(&v->helper_lock);
	free(hreq);
	if (r < 0)
		goto fail;

	pthread_mutex_lock(&v->lock);
	svc->mounts++;
	pthread_mutex_unlock(&v->lock);
	r = fuse_server_start(fuse_fd, &node_ops, sizeof(node_ops), s, stack_ended, s, NULL, &s->server);
	if (r < 0) {
		pthread_mutex_lock(&v->lock);
		svc->mounts--;
		pthread_mutex_unlock(&v->lock);
		goto fail; /* the node stays, unserved: ENOTCONN */
	}

	/* From here on the stack is live; it ends with its FUSE connection. */
	dev_t default_dev = 0;
	bool is_default = false;
	if (path_identity(v, req->pid, AT_FDCWD, target, false, &s->dev, &s->mnt_id, NULL) == 0 &&
	    path_identity(v, req->pid, AT_FDCWD, NETSTACK_DEFAULT_PATH, false, &default_dev, NULL, NULL) == 0)
		is_default = default_dev == s->dev;

	pthread_mutex_lock(&t->lock);
	s->next = t->stacks;
	t->stacks = s;
	if (is_default && !t->perm) {
		s->prev_default = t->default_stack;
		t->default_stack = s;
		if (perm) {
			t->perm = true;
			t->perm_stack = s;
		}
	}
	pthread_mutex_unlock(&t->lock);
	supervisor_debug(v->sup, "view %u: stack %s on %s%s%s", v->id, req->type, target,
			 is_default ? " (default)" : "", is_default && perm ? " (permanent)" : "");
	if (perm && !is_default)
		supervisor_debug(v->sup, "view %u: -o perm ignored: %s is not %s", v->id, target, NETSTACK_DEFAULT_PATH);
	return 0;
fail:
	if (desc->destroy)
		SERVICE_CALL(&svc->guard, "destroy", (void)0, desc->destroy(svc->data, s->data));
	stack_free(s);
	return r;
}

/* ---- the permanent default ---- */

/* Is mount `mnt_id` the permanent node's mount or one of its ancestors in
 * the mount tree process `pid` sees? */
static bool mount_holds_perm_node(pid_t pid, uint64_t node_mnt, uint64_t mnt_id)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/mountinfo", (int)pid);
	FILE *f = fopen(path, "re");
	if (!f)
		return true; /* cannot tell: refuse */
	size_t cap = 0, count = 0;
	uint64_t (*pairs)[2] = NULL;
	char *line = NULL;
	size_t len = 0;
	while (getline(&line, &len, f) > 0) {
		unsigned long long id, parent;
		if (sscanf(line, "%llu %llu", &id, &parent) != 2)
			continue;
		if (count == cap) {
			cap = cap ? cap * 2 : 256;
			void *p = realloc(pairs, cap * sizeof(*pairs));
			if (!p)
				break;
			pairs = p;
		}
		pairs[count][0] = id;
		pairs[count][1] = parent;
		count++;
	}
	free(line);
	fclose(f);
	bool found = false;
	uint64_t at = node_mnt;
	for (int depth = 0; depth < MOUNTINFO_DEPTH_MAX && !found; depth++) {
		if (at == mnt_id) {
			found = true;
			break;
		}
		size_t i = 0;
		while (i < count && pairs[i][0] != at)
			i++;
		if (i == count || pairs[i][1] == at)
			break;
		at = pairs[i][1];
	}
	free(pairs);
	return found;
}

/* Would an operation on the mount at (dirfd, path) of the caller take the
 * permanent default's node with it? */
static bool takes_perm_node(struct netstack_table *t, pid_t pid, int dirfd, const char *path, bool follow)
{
	uint64_t mnt_id;
	bool root;
	if (path_identity(t->view, pid, dirfd, path, follow, NULL, &mnt_id, &root) < 0 || !root)
		return false; /* not a mount: the kernel refuses it anyway */
	return mount_holds_perm_node(pid, t->perm_stack->mnt_id, mnt_id);
}

/* Is (dirfd, path) the permanent node itself (as a mount target)? */
static bool is_perm_node(struct netstack_table *t, pid_t pid, int dirfd, const char *path)
{
	dev_t dev;
	return path_identity(t->view, pid, dirfd, path, true, &dev, NULL, NULL) == 0 && dev == t->perm_stack->dev;
}

/* The mount family while the default is permanent: true if refused. */
static bool perm_refuses_mount_call(struct netstack_table *t, const struct seccomp_notif *n)
{
	const __u64 *a = n->data.args;
	_cleanup_free_ char *p1 = NULL, *p2 = NULL;
	switch (n->data.nr) {
	case SYS_umount2:
		if (!(p1 = tracee_read_string(n->pid, a[0], PATH_MAX)))
			return false;
		return takes_perm_node(t, n->pid, AT_FDCWD, p1, !(a[1] & UMOUNT_NOFOLLOW));
	case SYS_mount:
		if (!(p2 = tracee_read_string(n->pid, a[1], PATH_MAX)))
			return false;
		if (a[3] & MS_MOVE) {
			if (!a[0] || !(p1 = tracee_read_string(n->pid, a[0], PATH_MAX)))
				return false;
			if (takes_perm_node(t, n->pid, AT_FDCWD, p1, true))
				return true;
		}
		return is_perm_node(t, n->pid, AT_FDCWD, p2);
	case SYS_move_mount:
		/* move_mount(from_dfd, from_path, to_dfd, to_path, flags) */
		if ((p1 = tracee_read_string(n->pid, a[1], PATH_MAX)) &&
		    takes_perm_node(t, n->pid, (int)a[0], p1, (a[4] & MOVE_MOUNT_F_SYMLINKS) != 0))
			return true;
		if ((p2 = tracee_read_string(n->pid, a[3], PATH_MAX)) && is_perm_node(t, n->pid, (int)a[2], p2))
			return true;
		return false;
	default:
		return false;
	}
}

bool netstack_passthrough(struct vos_view *v)
{
	struct netstack_table *t = table_get(v, false);
	if (!t)
		return true;
	pthread_mutex_lock(&t->lock);
	bool idle = !t->perm && !t->default_stack;
	pthread_mutex_unlock(&t->lock);
	return idle;
}

bool netstack_trap(struct vos_view *v, const struct seccomp_notif *n)
{
	int nr = n->data.nr;
	if (nr == SYS_socket) {
		trap_socket(v, n);
		return true;
	}
	struct netstack_table *t = table_get(v, false);
	bool perm = false;
	if (t) {
		pthread_mutex_lock(&t->lock);
		perm = t->perm;
		pthread_mutex_unlock(&t->lock);
	}
	int refuse = 0;
	switch (nr) {
	case SYS_setns:
		/* Entering another namespace could reach another stack. */
		refuse = perm ? -EPERM : 0;
		break;
	case SYS_unshare:
		refuse = perm && (n->data.args[0] & CLONE_NEWNET) ? -EPERM : 0;
		break;
	case SYS_io_uring_setup:
		/* io_uring makes sockets without socket(2) (IORING_OP_SOCKET). */
		refuse = perm ? -EPERM : 0;
		break;
	case SYS_umount2:
	case SYS_mount:
	case SYS_move_mount:
		if (!perm)
			return false;
		if (!perm_refuses_mount_call(t, n))
			return false;
		refuse = -EBUSY;
		break;
	default:
		return false;
	}
	if (refuse && notify_id_valid(v->listener, n->id)) {
		supervisor_debug(v->sup, "view %u: pid %d syscall %d refused: the default stack is permanent",
				 v->id, n->pid, nr);
		notify_respond(v->listener, n->id, refuse);
	} else if (!refuse) {
		notify_continue(v->listener, n->id);
	}
	return true;
}

/* ---- msocket and mstack ---- */

void netstack_control(struct vos_view *v, const struct seccomp_notif *n, uint32_t op, const char *path,
		      const char *arg)
{
	int r;
	struct netstack_table *t = table_get(v, true);
	if (!t) {
		notify_respond(v->listener, n->id, -ENOMEM);
		return;
	}
	if (!path || !path[0]) {
		notify_respond(v->listener, n->id, -EINVAL);
		return;
	}
	int domain = 0, type = 0, protocol = 0;
	if (op == VOS_CONTROL_MSOCKET) {
		char end;
		if (!arg || sscanf(arg, "%d %d %d%c", &domain, &type, &protocol, &end) != 3) {
			notify_respond(v->listener, n->id, -EINVAL);
			return;
		}
	}

	pthread_mutex_lock(&t->lock);
	struct netstack *s = stack_at(t, n->pid, path, &r);
	int netns = -1;
	_cleanup_close_ int native = -1;
	if (s) {
		netns = s->netns;
		if (t->perm && s != t->perm_stack)
			r = -EPERM; /* no path around the permanent default */
		else if (netns < 0)
			r = -EAFNOSUPPORT; /* a null stack */
		else
			r = 0;
	} else if (r == -ENOENT && streq(path, NETSTACK_NATIVE_PATH)) {
		/* As in the seed, the host's stack has this name even when
		 * nothing is mounted there. */
		native = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
		r = t->perm ? -EPERM : native < 0 ? -errno : 0;
		netns = native;
	}
	pthread_mutex_unlock(&t->lock);
	if (r < 0) {
		notify_respond(v->listener, n->id, r);
		return;
	}
	if (op == VOS_CONTROL_STACK_NETNS) {
		/* mstack stays where it is when the stack is its own namespace:
		 * remember the choice, or the default stack would take over. */
		struct stat caller_net, chosen;
		if (process_net(n->pid, &caller_net) == 0 && fstat(netns, &chosen) == 0 &&
		    same_ns(&caller_net, &chosen) && (r = stack_choice_record(&t->choices, n->pid)) < 0) {
			notify_respond(v->listener, n->id, r);
			return;
		}
		int fd = fcntl(netns, F_DUPFD_CLOEXEC, 3);
		answer_fd(v, n, fd < 0 ? -errno : fd, true);
		return;
	}
	if (domain == AF_UNIX) {
		int fd = socket(domain, (type & ~SOCK_CLOEXEC) | SOCK_CLOEXEC, protocol);
		answer_fd(v, n, fd < 0 ? -errno : fd, type & SOCK_CLOEXEC);
		return;
	}
	int fd = stack_socket(v, t, netns, domain, type & ~SOCK_CLOEXEC, protocol);
	answer_fd(v, n, fd, type & SOCK_CLOEXEC);
}

void netstack_table_free(struct netstack_table *t)
{
	if (!t)
		return;
	bool all_ended = true;
	for (struct netstack *s = t->stacks; s; s = s->next)
		if (fuse_server_join(s->server, NETSTACK_END_TIMEOUT_MS) < 0)
			all_ended = false;
		else
			s->server = NULL;
	if (!all_ended)
		return; /* a server still runs: leave it all to exit() */
	while (t->stacks) {
		struct netstack *s = t->stacks;
		t->stacks = s->next;
		stack_free(s);
	}
	stack_choices_done(&t->choices);
	pthread_mutex_destroy(&t->lock);
	free(t);
}
