/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The passthrough engine (see passthrough.h): one O_PATH fd per known host
 * inode, operations through /proc/self/fd/N, plus view-only entries,
 * hidden names and presented attributes. */
#include "passthrough.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#define PT_TIMEOUT 1.0     /* seconds the kernel may cache entries and attributes */
#define PT_HASH_SIZE 4096
#define OVERFLOW_ID 65534  /* how ids unmapped in the view appear */
#define PT_DEPTH_MAX 4096  /* parent walks stop here (a loop through bind mounts) */
#define OPEN_FLAG_EXEC 040 /* __FMODE_EXEC in the flags FUSE passes: an execve() */

static inline bool streq(const char *a, const char *b)
{
	return strcmp(a, b) == 0;
}

/* ---- rules: a tree of path components ---- */

struct rule_node {
	char *name;
	struct rule_node *child, *sibling;
	bool hide;
	struct passthrough_attr own;   /* shown for this path */
	struct passthrough_attr below; /* shown for every path below (recursive) */
};

static bool attr_any(const struct passthrough_attr *a)
{
	return a->set_mode || a->set_uid || a->set_gid;
}

/* Fields of `from` that `into` lacks (fill) or all of them (override). */
static void attr_merge(struct passthrough_attr *into, const struct passthrough_attr *from, bool override)
{
	if (from->set_mode && (override || !into->set_mode)) {
		into->set_mode = true;
		into->mode_clear = from->mode_clear;
		into->mode_set = from->mode_set;
	}
	if (from->set_uid && (override || !into->set_uid))
		into->set_uid = true, into->uid = from->uid;
	if (from->set_gid && (override || !into->set_gid))
		into->set_gid = true, into->gid = from->gid;
}

static void rule_tree_free(struct rule_node *n)
{
	while (n) {
		struct rule_node *next = n->sibling;
		rule_tree_free(n->child);
		free(n->name);
		free(n);
		n = next;
	}
}

static struct rule_node *rule_child(const struct rule_node *n, const char *name)
{
	if (!n)
		return NULL;
	for (struct rule_node *c = n->child; c; c = c->sibling)
		if (streq(c->name, name))
			return c;
	return NULL;
}

static int rule_add(struct rule_node *root, const struct passthrough_rule *rule)
{
	char *copy = strdup(rule->path ? rule->path : "");
	if (!copy)
		return -ENOMEM;
	struct rule_node *n = root;
	int r = 0;
	char *save = NULL;
	for (char *c = strtok_r(copy, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
		if (streq(c, "."))
			continue;
		if (streq(c, "..")) {
			r = -EINVAL;
			break;
		}
		struct rule_node *next = rule_child(n, c);
		if (!next) {
			if (!(next = calloc(1, sizeof(*next))) || !(next->name = strdup(c))) {
				free(next);
				r = -ENOMEM;
				break;
			}
			next->sibling = n->child;
			n->child = next;
		}
		n = next;
	}
	free(copy);
	if (r < 0)
		return r;
	if (rule->hide) {
		if (n == root)
			return -EINVAL; /* the root cannot disappear from its own mount */
		n->hide = true;
	}
	attr_merge(&n->own, &rule->attr, true);
	if (rule->attr.recursive)
		attr_merge(&n->below, &rule->attr, true);
	return 0;
}

/* ---- the engine's state ---- */

struct pt_inode {
	struct pt_inode *next;      /* hash chain (host inodes only) */
	int fd;                     /* O_PATH fd of the host object; -1 when view-only */
	dev_t dev;                  /* host identity; view-only entries: dev 0 */
	ino_t ino;
	uint64_t nlookup;           /* kernel references */
	bool view_only;
	bool linked;                /* view-only: still listed in its directory */
	mode_t mode;                /* view-only: type and permissions */
	struct timespec time;       /* view-only: creation time */
	/* With rules only: where the inode was last looked up. */
	const struct rule_node *rule; /* the rule node of its path, or NULL */
	struct pt_inode *parent;    /* counted in parent->children */
	uint64_t children;
};

/* A name that exists only in the view: `name` in the directory whose host
 * (or view-only) identity is parent_dev/parent_ino. */
struct view_entry {
	struct view_entry *next;
	dev_t parent_dev;
	ino_t parent_ino;
	char *name;
	struct pt_inode *inode;
};

struct passthrough {
	pthread_mutex_t lock;
	struct pt_inode root;
	struct pt_inode *table[PT_HASH_SIZE];
	struct view_entry *entries;
	ino_t next_view_ino;
	pid_t view_only_pid;
	enum passthrough_ids ids;
	struct passthrough_idmap uid_map, gid_map;
	bool act_as_caller;
	/* The caller's ids decide and the view has several users: the kernel
	 * (no default_permissions) checks no search permission on a walk
	 * through cached entries, so every walk asks us (entry timeout 0). */
	bool walks_checked;
	uid_t uid; /* the server's own */
	gid_t gid;
	struct rule_node *rules;    /* NULL without rules */
	char **hidden_names;
	size_t n_hidden_names;
};

/* One snapshot of a directory listing, taken at offset 0. */
struct dir_entry {
	char *name;
	ino_t ino;
	unsigned char type;
};

struct dir_handle {
	int fd; /* O_RDONLY|O_DIRECTORY, or -1 for a view-only directory */
	struct dir_entry *entries;
	size_t count;
};

static struct passthrough *pt_of(fuse_req_t req)
{
	return fuse_req_userdata(req);
}

static struct pt_inode *inode_of(fuse_req_t req, fuse_ino_t ino)
{
	if (ino == FUSE_ROOT_ID)
		return &pt_of(req)->root;
	return (struct pt_inode *)(uintptr_t)ino;
}

static fuse_ino_t nodeid_of(struct passthrough *pt, struct pt_inode *inode)
{
	return inode == &pt->root ? FUSE_ROOT_ID : (fuse_ino_t)(uintptr_t)inode;
}

static void proc_path(char buf[static 32], int fd)
{
	snprintf(buf, 32, "/proc/self/fd/%d", fd);
}

static size_t hash_of(dev_t dev, ino_t ino)
{
	return (size_t)((ino * 0x9E3779B97F4A7C15ull) ^ dev) % PT_HASH_SIZE;
}

static bool from_view_only_creator(fuse_req_t req)
{
	pid_t pid = pt_of(req)->view_only_pid;
	return pid > 0 && fuse_req_ctx(req)->pid == pid;
}

/* ---- ids between the host and the view ---- */

static uint32_t idmap_apply(const struct passthrough_idmap *m, uint32_t id, bool to_inside, bool *ok)
{
	for (size_t i = 0; i < m->count; i++) {
		uint32_t from = to_inside ? m->extent[i].outside : m->extent[i].inside;
		uint32_t to = to_inside ? m->extent[i].inside : m->extent[i].outside;
		if (id >= from && id - from < m->extent[i].length) {
			*ok = true;
			return to + (id - from);
		}
	}
	*ok = false;
	return OVERFLOW_ID;
}

int passthrough_idmap_parse(const char *text, struct passthrough_idmap *map)
{
	map->count = 0;
	const char *p = text;
	while (*p) {
		unsigned long inside, outside, length;
		int used = 0;
		if (sscanf(p, " %lu %lu %lu%n", &inside, &outside, &length, &used) != 3)
			break;
		if (map->count == PASSTHROUGH_IDMAP_MAX)
			return -E2BIG;
		map->extent[map->count].inside = (uint32_t)inside;
		map->extent[map->count].outside = (uint32_t)outside;
		map->extent[map->count].length = (uint32_t)length;
		map->count++;
		p += used;
		while (*p == '\n' || *p == ' ')
			p++;
	}
	return map->count ? 0 : -EINVAL;
}

/* The layer's ids: in a user namespace the view maps one uid and one gid,
 * ours, to 0. The kernel refuses any write to an inode whose owner or
 * group is not mapped (HAS_UNMAPPED_ID), and a FUSE server can only report
 * ids of the view's namespace. So other users' files show as owned by
 * 65534 and stay read-only, as they mostly are natively; groups all show
 * as the view's group 0, so that our own files in a directory of a shared
 * group stay writable. Permissions are checked by the host when we act:
 * the server has exactly the credentials of the view's processes. */
static void to_view(const struct passthrough *pt, struct stat *st)
{
	bool ok;
	switch (pt->ids) {
	case PASSTHROUGH_IDS_NATIVE:
		break;
	case PASSTHROUGH_IDS_LAYER:
		st->st_uid = st->st_uid == pt->uid ? 0 : OVERFLOW_ID;
		st->st_gid = 0;
		break;
	case PASSTHROUGH_IDS_MAP:
		st->st_uid = idmap_apply(&pt->uid_map, st->st_uid, true, &ok);
		st->st_gid = idmap_apply(&pt->gid_map, st->st_gid, true, &ok);
		break;
	}
}

/* A view id as the host numbers it; -EINVAL when the view has no such id. */
static int host_id(const struct passthrough *pt, uint32_t view_id, bool is_uid, uint32_t *ret)
{
	bool ok = true;
	switch (pt->ids) {
	case PASSTHROUGH_IDS_NATIVE:
		*ret = view_id;
		return 0;
	case PASSTHROUGH_IDS_LAYER:
		if (view_id != 0)
			return -EINVAL; /* the view maps no other id */
		*ret = is_uid ? pt->uid : pt->gid;
		return 0;
	case PASSTHROUGH_IDS_MAP:
		*ret = idmap_apply(is_uid ? &pt->uid_map : &pt->gid_map, view_id, false, &ok);
		return ok ? 0 : -EINVAL;
	}
	return -EINVAL;
}

/* Requests of a process of the view run with its ids when act_as_caller
 * is set: fs uid and gid and, where the server may set them, the
 * supplementary groups (fs ids and groups are per thread for the raw
 * system calls; glibc's setgroups() would change every thread). */
#define CREDS_GROUPS_MAX 64
struct creds_saved {
	bool switched;
	int ngroups; /* the thread's own groups, restored on leave; -1: unchanged */
	gid_t groups[CREDS_GROUPS_MAX];
};

/* Whether setgroups works for this thread: 0 unknown, 1 yes, -1 refused
 * (an unprivileged server: then the host checks its own groups). */
static __thread int creds_groups_state;

static void creds_groups_enter(fuse_req_t req, struct creds_saved *saved)
{
	saved->ngroups = -1;
	if (creds_groups_state < 0)
		return;
	gid_t groups[CREDS_GROUPS_MAX];
	int n = fuse_req_getgroups(req, CREDS_GROUPS_MAX, groups); /* host numbers */
	if (n < 0)
		n = 0; /* the caller is gone: none, rather than the server's */
	if (n > CREDS_GROUPS_MAX)
		n = CREDS_GROUPS_MAX;
	int own = (int)syscall(SYS_getgroups, CREDS_GROUPS_MAX, saved->groups);
	if (own < 0)
		return;
	if (syscall(SYS_setgroups, (size_t)n, groups) < 0) {
		if (errno == EPERM)
			creds_groups_state = -1;
		return;
	}
	creds_groups_state = 1;
	saved->ngroups = own;
}

static int creds_enter(fuse_req_t req, struct creds_saved *saved)
{
	struct passthrough *pt = pt_of(req);
	saved->switched = false;
	saved->ngroups = -1;
	if (!pt->act_as_caller)
		return 0;
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	uint32_t uid, gid;
	if (host_id(pt, ctx->uid, true, &uid) < 0 || host_id(pt, ctx->gid, false, &gid) < 0)
		return -EACCES;
	creds_groups_enter(req, saved);
	syscall(SYS_setfsgid, gid);
	syscall(SYS_setfsuid, uid);
	saved->switched = true;
	return 0;
}

static void creds_leave(const struct creds_saved *saved)
{
	if (!saved->switched)
		return;
	syscall(SYS_setfsuid, geteuid());
	syscall(SYS_setfsgid, getegid());
	if (saved->ngroups >= 0)
		syscall(SYS_setgroups, (size_t)saved->ngroups, saved->groups);
}

/* Creations carry the mode the kernel sent, already masked with the
 * caller's umask: the server's own umask must not mask it again. The umask
 * belongs to the fs_struct the threads of a process share, so a request
 * thread takes one of its own (unshare(CLONE_FS)) with umask 0, once. */
static void thread_umask_clear(void)
{
	static __thread bool done;
	if (done)
		return;
	done = true;
	if (unshare(CLONE_FS) == 0)
		umask(0);
}

/* ---- the inode table ---- */

static void inode_release_locked(struct passthrough *pt, struct pt_inode *inode);

/* Point `inode` at its parent `parent` (the one it was just looked up in),
 * with rules only, unless that would make a loop. */
static void inode_place_locked(struct passthrough *pt, struct pt_inode *inode, struct pt_inode *parent,
			       const char *name)
{
	if (!pt->rules || inode == &pt->root || streq(name, ".") || streq(name, ".."))
		return;
	inode->rule = parent->rule ? rule_child(parent->rule, name) : NULL;
	if (inode->parent == parent)
		return;
	int depth = 0;
	for (struct pt_inode *p = parent; p; p = p->parent)
		if (p == inode || ++depth > PT_DEPTH_MAX)
			return;
	parent->children++;
	struct pt_inode *old = inode->parent;
	inode->parent = parent;
	if (old) {
		old->children--;
		inode_release_locked(pt, old);
	}
}

/* Find the inode of `st` or adopt `fd` for a new one; one more kernel
 * reference either way. Consumes fd. */
static struct pt_inode *inode_ref(struct passthrough *pt, int fd, const struct stat *st, struct pt_inode *parent,
				  const char *name)
{
	pthread_mutex_lock(&pt->lock);
	if (st->st_dev == pt->root.dev && st->st_ino == pt->root.ino) {
		pt->root.nlookup++;
		pthread_mutex_unlock(&pt->lock);
		close(fd);
		return &pt->root;
	}
	size_t h = hash_of(st->st_dev, st->st_ino);
	struct pt_inode *inode;
	for (inode = pt->table[h]; inode; inode = inode->next)
		if (inode->dev == st->st_dev && inode->ino == st->st_ino)
			break;
	if (inode) {
		inode->nlookup++;
		close(fd);
	} else if ((inode = calloc(1, sizeof(*inode)))) {
		inode->fd = fd;
		inode->dev = st->st_dev;
		inode->ino = st->st_ino;
		inode->nlookup = 1;
		inode->next = pt->table[h];
		pt->table[h] = inode;
	} else {
		close(fd);
	}
	if (inode && parent)
		inode_place_locked(pt, inode, parent, name);
	pthread_mutex_unlock(&pt->lock);
	return inode;
}

/* Free `inode` once neither the kernel nor a child refers to it; then its
 * parent may go too. */
static void inode_release_locked(struct passthrough *pt, struct pt_inode *inode)
{
	while (inode && inode != &pt->root && inode->nlookup == 0 && inode->children == 0) {
		if (inode->view_only) {
			if (!inode->linked)
				free(inode);
			return;
		}
		struct pt_inode **p = &pt->table[hash_of(inode->dev, inode->ino)];
		while (*p && *p != inode)
			p = &(*p)->next;
		if (*p)
			*p = inode->next;
		struct pt_inode *parent = inode->parent;
		close(inode->fd);
		free(inode);
		if (parent)
			parent->children--;
		inode = parent;
	}
}

static void inode_unref_locked(struct passthrough *pt, struct pt_inode *inode, uint64_t n)
{
	if (inode == &pt->root)
		return;
	inode->nlookup = inode->nlookup > n ? inode->nlookup - n : 0;
	inode_release_locked(pt, inode);
}

static struct view_entry *view_entry_find(struct passthrough *pt, const struct pt_inode *parent, const char *name)
{
	for (struct view_entry *e = pt->entries; e; e = e->next)
		if (e->parent_dev == parent->dev && e->parent_ino == parent->ino && streq(e->name, name))
			return e;
	return NULL;
}

/* ---- hidden names and presented attributes ---- */

static bool is_hidden_locked(const struct passthrough *pt, const struct pt_inode *parent, const char *name)
{
	if (streq(name, ".") || streq(name, ".."))
		return false;
	for (size_t i = 0; i < pt->n_hidden_names; i++)
		if (streq(pt->hidden_names[i], name))
			return true;
	const struct rule_node *r = rule_child(parent->rule, name);
	return r && r->hide;
}

static bool is_hidden(struct passthrough *pt, const struct pt_inode *parent, const char *name)
{
	if (!pt->rules && !pt->n_hidden_names)
		return false;
	pthread_mutex_lock(&pt->lock);
	bool hidden = is_hidden_locked(pt, parent, name);
	pthread_mutex_unlock(&pt->lock);
	return hidden;
}

/* Does `name` in `parent` carry a rule (on it or below it)? */
static bool has_rule(struct passthrough *pt, const struct pt_inode *parent, const char *name)
{
	if (!pt->rules)
		return false;
	pthread_mutex_lock(&pt->lock);
	bool found = rule_child(parent->rule, name) != NULL;
	pthread_mutex_unlock(&pt->lock);
	return found;
}

/* The attributes presented for `inode`: its own rule, then the recursive
 * rules of its ancestors, nearest first, field by field. */
static bool presented_attr(struct passthrough *pt, const struct pt_inode *inode, struct passthrough_attr *ret)
{
	*ret = (struct passthrough_attr){ 0 };
	if (!pt->rules || inode->view_only)
		return false;
	pthread_mutex_lock(&pt->lock);
	if (inode->rule)
		attr_merge(ret, &inode->rule->own, false);
	int depth = 0;
	for (const struct pt_inode *p = inode->parent; p && depth < PT_DEPTH_MAX; p = p->parent, depth++)
		if (p->rule)
			attr_merge(ret, &p->rule->below, false);
	pthread_mutex_unlock(&pt->lock);
	return attr_any(ret);
}

static void apply_attr(struct stat *st, const struct passthrough_attr *a)
{
	if (a->set_mode)
		st->st_mode = (st->st_mode & S_IFMT) | (((st->st_mode & ~a->mode_clear) | a->mode_set) & 07777);
	if (a->set_uid)
		st->st_uid = a->uid;
	if (a->set_gid)
		st->st_gid = a->gid;
}

static void view_only_stat(const struct pt_inode *inode, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = inode->ino;
	st->st_mode = inode->mode;
	st->st_nlink = S_ISDIR(inode->mode) ? 2 : 1;
	st->st_blksize = 4096;
	st->st_atim = st->st_mtim = st->st_ctim = inode->time;
}

static int inode_stat(struct passthrough *pt, const struct pt_inode *inode, struct stat *st)
{
	if (inode->view_only) {
		view_only_stat(inode, st);
		return 0;
	}
	if (fstatat(inode->fd, "", st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	to_view(pt, st);
	struct passthrough_attr a;
	if (presented_attr(pt, inode, &a))
		apply_attr(st, &a);
	return 0;
}

static bool caller_in_group(fuse_req_t req, gid_t gid)
{
	struct passthrough *pt = pt_of(req);
	if (fuse_req_ctx(req)->gid == gid)
		return true;
	gid_t groups[64];
	int n = fuse_req_getgroups(req, 64, groups);
	for (int i = 0; i < n && i < 64; i++) {
		/* /proc shows the host's numbers: the view's are wanted. */
		struct stat st = { .st_uid = 0, .st_gid = groups[i] };
		to_view(pt, &st);
		if (st.st_gid == gid)
			return true;
	}
	return false;
}

/* Presented attributes are enforced here, for everybody: `mask` (R_OK,
 * W_OK, X_OK) against the caller's class. 0 for objects without them. */
static int presented_check(fuse_req_t req, struct pt_inode *inode, int mask)
{
	struct passthrough *pt = pt_of(req);
	struct passthrough_attr a;
	if (!presented_attr(pt, inode, &a))
		return 0;
	struct stat st;
	int r = inode_stat(pt, inode, &st);
	if (r < 0)
		return r;
	mode_t bits = st.st_mode;
	if (fuse_req_ctx(req)->uid == st.st_uid)
		bits >>= 6;
	else if (caller_in_group(req, st.st_gid))
		bits >>= 3;
	return (mask & ~(int)bits & 7) ? -EACCES : 0;
}

static bool has_presented(struct passthrough *pt, const struct pt_inode *inode)
{
	struct passthrough_attr a;
	return presented_attr(pt, inode, &a);
}

/* ---- replies ---- */

static void reply_entry_timeout(fuse_req_t req, struct pt_inode *inode, double entry_timeout)
{
	struct passthrough *pt = pt_of(req);
	struct fuse_entry_param e = {
		.ino = nodeid_of(pt, inode),
		.attr_timeout = PT_TIMEOUT,
		.entry_timeout = entry_timeout,
	};
	int r = inode_stat(pt, inode, &e.attr);
	if (r < 0) {
		pthread_mutex_lock(&pt->lock);
		inode_unref_locked(pt, inode, 1);
		pthread_mutex_unlock(&pt->lock);
		fuse_reply_err(req, -r);
		return;
	}
	fuse_reply_entry(req, &e);
}

/* How long the kernel may reuse an entry without asking us. */
static double entry_timeout_of(const struct passthrough *pt, bool policed)
{
	return policed || pt->walks_checked ? 0.0 : PT_TIMEOUT;
}

static void reply_entry(fuse_req_t req, struct pt_inode *inode)
{
	reply_entry_timeout(req, inode, entry_timeout_of(pt_of(req), false));
}

/* Look `name` up in `parent` and take a reference on the result. */
static int lookup_ref(fuse_req_t req, struct pt_inode *parent, const char *name, struct pt_inode **ret)
{
	struct passthrough *pt = pt_of(req);
	pthread_mutex_lock(&pt->lock);
	struct view_entry *e = view_entry_find(pt, parent, name);
	if (e)
		e->inode->nlookup++;
	pthread_mutex_unlock(&pt->lock);
	if (e) {
		*ret = e->inode;
		return 0;
	}
	if (parent->view_only || is_hidden(pt, parent, name))
		return -ENOENT;

	int fd = openat(parent->fd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	struct stat st;
	if (fstatat(fd, "", &st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0) {
		int r = -errno;
		close(fd);
		return r;
	}
	struct pt_inode *inode = inode_ref(pt, fd, &st, parent, name);
	if (!inode)
		return -ENOMEM;
	*ret = inode;
	return 0;
}

/* ---- view-only entries (mount points made by the helper) ---- */

static int view_entry_create(fuse_req_t req, struct pt_inode *parent, const char *name, mode_t mode,
			     struct pt_inode **ret)
{
	struct passthrough *pt = pt_of(req);
	if (!S_ISREG(mode) && !S_ISDIR(mode))
		return -EPERM;
	struct view_entry *e = calloc(1, sizeof(*e));
	struct pt_inode *inode = calloc(1, sizeof(*inode));
	char *copy = strdup(name);
	if (!e || !inode || !copy) {
		free(e), free(inode), free(copy);
		return -ENOMEM;
	}
	inode->fd = -1;
	inode->view_only = true;
	inode->linked = true;
	inode->mode = mode;
	inode->nlookup = 1;
	clock_gettime(CLOCK_REALTIME, &inode->time);
	e->name = copy;
	e->inode = inode;

	pthread_mutex_lock(&pt->lock);
	bool exists = view_entry_find(pt, parent, name) != NULL;
	if (!exists && !parent->view_only) {
		struct stat st;
		exists = fstatat(parent->fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0;
	}
	if (exists) {
		pthread_mutex_unlock(&pt->lock);
		free(e), free(inode), free(copy);
		return -EEXIST;
	}
	inode->dev = 0;
	inode->ino = ++pt->next_view_ino;
	e->parent_dev = parent->dev;
	e->parent_ino = parent->ino;
	e->next = pt->entries;
	pt->entries = e;
	pthread_mutex_unlock(&pt->lock);
	*ret = inode;
	return 0;
}

/* Remove a view-only entry; -ENOENT if `name` is not one. */
static int view_entry_remove(struct passthrough *pt, struct pt_inode *parent, const char *name, bool dir)
{
	pthread_mutex_lock(&pt->lock);
	struct view_entry **p = &pt->entries;
	while (*p && !((*p)->parent_dev == parent->dev && (*p)->parent_ino == parent->ino && streq((*p)->name, name)))
		p = &(*p)->next;
	struct view_entry *e = *p;
	int r = 0;
	if (!e)
		r = -ENOENT;
	else if (dir != S_ISDIR(e->inode->mode))
		r = dir ? -ENOTDIR : -EISDIR;
	else if (dir) {
		/* a view-only directory holds only view-only entries */
		for (struct view_entry *c = pt->entries; c; c = c->next)
			if (c->parent_dev == 0 && c->parent_ino == e->inode->ino)
				r = -ENOTEMPTY;
	}
	if (r == 0) {
		*p = e->next;
		e->inode->linked = false;
		if (e->inode->nlookup == 0)
			free(e->inode);
		free(e->name);
		free(e);
	}
	pthread_mutex_unlock(&pt->lock);
	return r;
}

/* Before a creation of `name` in `parent`: hidden names are taken, and a
 * directory with presented attributes must allow writing. */
static int may_create(fuse_req_t req, struct pt_inode *parent, const char *name)
{
	struct passthrough *pt = pt_of(req);
	if (is_hidden(pt, parent, name))
		return -EACCES;
	return presented_check(req, parent, W_OK | X_OK);
}

/* ---- operations ---- */

static void pt_init(void *userdata, struct fuse_conn_info *conn)
{
	(void)userdata;
	/* Every write reaches the host at once: no writeback cache. */
	conn->want &= ~FUSE_CAP_WRITEBACK_CACHE;
	if (conn->capable & FUSE_CAP_EXPORT_SUPPORT)
		conn->want |= FUSE_CAP_EXPORT_SUPPORT;
}

static void pt_lookup(fuse_req_t req, fuse_ino_t parent_ino, const char *name)
{
	struct pt_inode *parent = inode_of(req, parent_ino), *inode;
	/* In a directory with presented attributes, every walk asks us. */
	bool policed = has_presented(pt_of(req), parent);
	int r = policed ? presented_check(req, parent, X_OK) : 0;
	if (r == 0)
		r = lookup_ref(req, parent, name, &inode);
	if (r < 0)
		fuse_reply_err(req, -r);
	else
		reply_entry_timeout(req, inode, entry_timeout_of(pt_of(req), policed));
}

static void pt_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	struct passthrough *pt = pt_of(req);
	pthread_mutex_lock(&pt->lock);
	inode_unref_locked(pt, inode_of(req, ino), nlookup);
	pthread_mutex_unlock(&pt->lock);
	fuse_reply_none(req);
}

static void pt_forget_multi(fuse_req_t req, size_t count, struct fuse_forget_data *forgets)
{
	struct passthrough *pt = pt_of(req);
	pthread_mutex_lock(&pt->lock);
	for (size_t i = 0; i < count; i++)
		inode_unref_locked(pt, inode_of(req, forgets[i].ino), forgets[i].nlookup);
	pthread_mutex_unlock(&pt->lock);
	fuse_reply_none(req);
}

static void pt_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)fi;
	struct stat st;
	int r = inode_stat(pt_of(req), inode_of(req, ino), &st);
	if (r < 0)
		fuse_reply_err(req, -r);
	else
		fuse_reply_attr(req, &st, PT_TIMEOUT);
}

/* setattr on an object with presented attributes: they stay fixed. */
static int presented_setattr_check(fuse_req_t req, struct pt_inode *inode, const struct stat *attr, int to_set)
{
	struct passthrough *pt = pt_of(req);
	if (!has_presented(pt, inode))
		return 0;
	if (to_set & (FUSE_SET_ATTR_MODE | FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID))
		return -EPERM;
	if (to_set & FUSE_SET_ATTR_SIZE) {
		int r = presented_check(req, inode, W_OK);
		if (r < 0)
			return r;
	}
	if (to_set & (FUSE_SET_ATTR_ATIME | FUSE_SET_ATTR_MTIME)) {
		struct stat st;
		int r = inode_stat(pt, inode, &st);
		if (r < 0)
			return r;
		if (fuse_req_ctx(req)->uid != st.st_uid)
			return presented_check(req, inode, W_OK);
	}
	(void)attr;
	return 0;
}

/* Is `new` the mode `old` with some of SUID and SGID cleared, nothing else? */
static bool only_drops_setid(mode_t old, mode_t new)
{
	old &= 07777;
	new &= 07777;
	return new != old && (new & ~old) == 0 && ((old ^ new) & ~(mode_t)(S_ISUID | S_ISGID)) == 0;
}

static int apply_setattr(fuse_req_t req, struct pt_inode *inode, const struct stat *attr, int to_set,
			 const struct fuse_file_info *fi)
{
	struct passthrough *pt = pt_of(req);
	char path[32];
	if (inode->view_only) {
		if (to_set & FUSE_SET_ATTR_MODE)
			inode->mode = (inode->mode & S_IFMT) | (attr->st_mode & 07777);
		return 0;
	}
	int r = presented_setattr_check(req, inode, attr, to_set);
	if (r < 0)
		return r;
	proc_path(path, inode->fd);
	struct stat st;
	if (fstatat(inode->fd, "", &st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	bool is_link = S_ISLNK(st.st_mode);

	if (to_set & FUSE_SET_ATTR_MODE) {
		if (is_link)
			return -EOPNOTSUPP;
		if ((fi ? fchmod((int)fi->fh, attr->st_mode) : chmod(path, attr->st_mode)) < 0) {
			r = -errno;
			if (r != -EPERM || !only_drops_setid(st.st_mode, attr->st_mode))
				return r;
			/* The kernel kills SUID/SGID after a write by someone who
			 * may not chmod the file (libfuse never agrees to
			 * FUSE_HANDLE_KILLPRIV): only dropping them is harmless,
			 * done with the server's ids. */
			uid_t fsuid = (uid_t)syscall(SYS_setfsuid, geteuid());
			r = (fi ? fchmod((int)fi->fh, attr->st_mode) : chmod(path, attr->st_mode)) < 0 ? -errno : 0;
			syscall(SYS_setfsuid, fsuid);
			if (r < 0)
				return r;
		}
	}
	if (to_set & (FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID)) {
		uint32_t uid = (uint32_t)-1, gid = (uint32_t)-1;
		r = 0;
		if (to_set & FUSE_SET_ATTR_UID)
			r = host_id(pt, attr->st_uid, true, &uid);
		if (r == 0 && (to_set & FUSE_SET_ATTR_GID))
			r = host_id(pt, attr->st_gid, false, &gid);
		if (r < 0)
			return r;
		if (fchownat(inode->fd, "", uid, gid, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0)
			return -errno;
	}
	if (to_set & FUSE_SET_ATTR_SIZE) {
		if ((fi ? ftruncate((int)fi->fh, attr->st_size) : truncate(path, attr->st_size)) < 0)
			return -errno;
	}
	if (to_set & (FUSE_SET_ATTR_ATIME | FUSE_SET_ATTR_MTIME)) {
		struct timespec ts[2] = { { .tv_nsec = UTIME_OMIT }, { .tv_nsec = UTIME_OMIT } };
		if (to_set & FUSE_SET_ATTR_ATIME_NOW)
			ts[0].tv_nsec = UTIME_NOW;
		else if (to_set & FUSE_SET_ATTR_ATIME)
			ts[0] = attr->st_atim;
		if (to_set & FUSE_SET_ATTR_MTIME_NOW)
			ts[1].tv_nsec = UTIME_NOW;
		else if (to_set & FUSE_SET_ATTR_MTIME)
			ts[1] = attr->st_mtim;
		/* a symlink's own times (utimensat AT_SYMLINK_NOFOLLOW): by its O_PATH fd */
		if ((fi ? futimens((int)fi->fh, ts)
			: is_link ? utimensat(inode->fd, "", ts, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW)
				  : utimensat(AT_FDCWD, path, ts, 0)) < 0)
			return -errno;
	}
	return 0;
}

static void pt_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set, struct fuse_file_info *fi)
{
	struct pt_inode *inode = inode_of(req, ino);
	int r = apply_setattr(req, inode, attr, to_set, fi);
	if (r < 0) {
		fuse_reply_err(req, -r);
		return;
	}
	pt_getattr(req, ino, fi);
}

/* access(2): without default_permissions the kernel asks us; presented
 * attributes first, then the host, for the server's credentials (the
 * view's, or the caller's with act_as_caller). */
static void pt_access(fuse_req_t req, fuse_ino_t ino, int mask)
{
	struct pt_inode *inode = inode_of(req, ino);
	if (inode->view_only) {
		fuse_reply_err(req, (mask & W_OK) || ((mask & X_OK) && !S_ISDIR(inode->mode)) ? EACCES : 0);
		return;
	}
	int host_mask = mask;
	if (has_presented(pt_of(req), inode)) {
		int r = presented_check(req, inode, mask);
		if (r < 0) {
			fuse_reply_err(req, -r);
			return;
		}
		struct stat st;
		if (fstatat(inode->fd, "", &st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) == 0 && !S_ISDIR(st.st_mode))
			host_mask &= ~X_OK; /* execution reads the file through us */
	}
	char path[32];
	proc_path(path, inode->fd);
	fuse_reply_err(req, faccessat(AT_FDCWD, path, host_mask, AT_EACCESS) < 0 ? errno : 0);
}

static void pt_readlink(fuse_req_t req, fuse_ino_t ino)
{
	struct pt_inode *inode = inode_of(req, ino);
	char buf[PATH_MAX + 1];
	if (inode->view_only) {
		fuse_reply_err(req, EINVAL);
		return;
	}
	ssize_t n = readlinkat(inode->fd, "", buf, sizeof(buf));
	if (n < 0)
		fuse_reply_err(req, errno);
	else if ((size_t)n == sizeof(buf))
		fuse_reply_err(req, ENAMETOOLONG);
	else {
		buf[n] = '\0';
		fuse_reply_readlink(req, buf);
	}
}

/* After a creation in `parent`, answer with the new entry. */
static void reply_created(fuse_req_t req, struct pt_inode *parent, const char *name, int result)
{
	if (result < 0) {
		fuse_reply_err(req, -result);
		return;
	}
	struct pt_inode *inode;
	int r = lookup_ref(req, parent, name, &inode);
	if (r < 0)
		fuse_reply_err(req, -r);
	else
		reply_entry(req, inode);
}

static void make_node(fuse_req_t req, fuse_ino_t parent_ino, const char *name, mode_t mode, dev_t rdev,
		      const char *link)
{
	struct pt_inode *parent = inode_of(req, parent_ino);
	if (from_view_only_creator(req) && !link) {
		struct pt_inode *inode;
		int r = view_entry_create(req, parent, name, mode, &inode);
		if (r < 0)
			fuse_reply_err(req, -r);
		else
			reply_entry(req, inode);
		return;
	}
	if (parent->view_only) {
		fuse_reply_err(req, EPERM);
		return;
	}
	int r = may_create(req, parent, name);
	if (r < 0) {
		fuse_reply_err(req, -r);
		return;
	}
	thread_umask_clear();
	if (link)
		r = symlinkat(link, parent->fd, name);
	else if (S_ISDIR(mode))
		r = mkdirat(parent->fd, name, mode);
	else
		r = mknodat(parent->fd, name, mode, rdev);
	r = r < 0 ? -errno : 0;
	reply_created(req, parent, name, r);
}

static void pt_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, dev_t rdev)
{
	make_node(req, parent, name, mode, rdev, NULL);
}

static void pt_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode)
{
	make_node(req, parent, name, S_IFDIR | mode, 0, NULL);
}

static void pt_symlink(fuse_req_t req, const char *link, fuse_ino_t parent, const char *name)
{
	make_node(req, parent, name, S_IFLNK, 0, link);
}

static void pt_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent, const char *newname)
{
	struct pt_inode *inode = inode_of(req, ino), *parent = inode_of(req, newparent);
	if (inode->view_only || parent->view_only) {
		fuse_reply_err(req, EXDEV);
		return;
	}
	int r = may_create(req, parent, newname);
	if (r < 0) {
		fuse_reply_err(req, -r);
		return;
	}
	char path[32];
	proc_path(path, inode->fd);
	r = linkat(AT_FDCWD, path, parent->fd, newname, AT_SYMLINK_FOLLOW) < 0 ? -errno : 0;
	reply_created(req, parent, newname, r);
}

static void remove_entry(fuse_req_t req, fuse_ino_t parent_ino, const char *name, bool dir)
{
	struct pt_inode *parent = inode_of(req, parent_ino);
	struct passthrough *pt = pt_of(req);
	int r = view_entry_remove(pt, parent, name, dir);
	if (r == -ENOENT && !parent->view_only) {
		if (is_hidden(pt, parent, name))
			r = -ENOENT;
		else if ((r = presented_check(req, parent, W_OK | X_OK)) == 0)
			r = unlinkat(parent->fd, name, dir ? AT_REMOVEDIR : 0) < 0 ? -errno : 0;
	}
	fuse_reply_err(req, -r);
}

static void pt_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	remove_entry(req, parent, name, false);
}

static void pt_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	remove_entry(req, parent, name, true);
}

static void pt_rename(fuse_req_t req, fuse_ino_t parent_ino, const char *name, fuse_ino_t newparent_ino,
		      const char *newname, unsigned int flags)
{
	struct passthrough *pt = pt_of(req);
	struct pt_inode *parent = inode_of(req, parent_ino), *newparent = inode_of(req, newparent_ino);
	pthread_mutex_lock(&pt->lock);
	bool view_only = parent->view_only || newparent->view_only || view_entry_find(pt, parent, name) ||
			 view_entry_find(pt, newparent, newname);
	pthread_mutex_unlock(&pt->lock);
	if (view_only) {
		fuse_reply_err(req, EXDEV); /* view-only entries never become host files */
		return;
	}
	int r = 0;
	if (is_hidden(pt, parent, name))
		r = -ENOENT;
	else if (is_hidden(pt, newparent, newname))
		r = -EACCES;
	else if (has_rule(pt, parent, name) || has_rule(pt, newparent, newname))
		r = -EBUSY; /* a path with a rule stays where it is, like a mount point */
	else if ((r = presented_check(req, parent, W_OK | X_OK)) == 0)
		r = presented_check(req, newparent, W_OK | X_OK);
	if (r == 0 && syscall(SYS_renameat2, parent->fd, name, newparent->fd, newname, flags) < 0)
		r = -errno;
	if (r == 0 && pt->rules) {
		/* The moved object's place: presented attributes of its new parents. */
		int fd = openat(newparent->fd, newname, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		struct stat st;
		if (fd >= 0 && fstatat(fd, "", &st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) == 0) {
			pthread_mutex_lock(&pt->lock);
			struct pt_inode *moved = pt->table[hash_of(st.st_dev, st.st_ino)];
			while (moved && !(moved->dev == st.st_dev && moved->ino == st.st_ino))
				moved = moved->next;
			if (moved)
				inode_place_locked(pt, moved, newparent, newname);
			pthread_mutex_unlock(&pt->lock);
		}
		if (fd >= 0)
			close(fd);
	}
	fuse_reply_err(req, -r);
}

static int open_flags(int flags)
{
	/* O_NOFOLLOW would refuse the /proc/self/fd magic link itself. */
	return (flags & ~(O_CREAT | O_EXCL | O_NOCTTY | O_NOFOLLOW | OPEN_FLAG_EXEC)) | O_CLOEXEC;
}

static int open_mask(int flags)
{
	if (flags & OPEN_FLAG_EXEC)
		return X_OK;
	int acc = flags & O_ACCMODE;
	int mask = acc == O_RDONLY ? R_OK : acc == O_WRONLY ? W_OK : R_OK | W_OK;
	return (flags & O_TRUNC) ? mask | W_OK : mask;
}

static void pt_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct pt_inode *inode = inode_of(req, ino);
	if (inode->view_only) {
		/* An empty placeholder until something is mounted on it. */
		if ((fi->flags & O_ACCMODE) != O_RDONLY) {
			fuse_reply_err(req, EACCES);
			return;
		}
		fi->fh = (uint64_t)-1;
		fuse_reply_open(req, fi);
		return;
	}
	int r = presented_check(req, inode, open_mask(fi->flags));
	if (r < 0) {
		fuse_reply_err(req, -r);
		return;
	}
	char path[32];
	proc_path(path, inode->fd);
	int fd = open(path, open_flags(fi->flags));
	if (fd < 0) {
		fuse_reply_err(req, errno);
		return;
	}
	fi->fh = (uint64_t)fd;
	fuse_reply_open(req, fi);
}

static void pt_create(fuse_req_t req, fuse_ino_t parent_ino, const char *name, mode_t mode, struct fuse_file_info *fi)
{
	struct pt_inode *parent = inode_of(req, parent_ino);
	if (from_view_only_creator(req)) {
		/* Mount points are made with mknod/mkdir; refuse the rest. */
		fuse_reply_err(req, EPERM);
		return;
	}
	if (parent->view_only) {
		fuse_reply_err(req, EPERM);
		return;
	}
	int r = may_create(req, parent, name);
	if (r < 0) {
		fuse_reply_err(req, -r);
		return;
	}
	thread_umask_clear();
	int fd = openat(parent->fd, name, open_flags(fi->flags) | O_CREAT | (fi->flags & O_EXCL), mode);
	if (fd < 0) {
		fuse_reply_err(req, errno);
		return;
	}
	struct pt_inode *inode;
	r = lookup_ref(req, parent, name, &inode);
	if (r < 0) {
		close(fd);
		fuse_reply_err(req, -r);
		return;
	}
	struct passthrough *pt = pt_of(req);
	struct fuse_entry_param e = {
		.ino = nodeid_of(pt, inode),
		.attr_timeout = PT_TIMEOUT,
		.entry_timeout = entry_timeout_of(pt, false),
	};
	if ((r = inode_stat(pt, inode, &e.attr)) < 0) {
		close(fd);
		pthread_mutex_lock(&pt->lock);
		inode_unref_locked(pt, inode, 1);
		pthread_mutex_unlock(&pt->lock);
		fuse_reply_err(req, -r);
		return;
	}
	fi->fh = (uint64_t)fd;
	if (fuse_reply_create(req, &e, fi) != 0)
		close(fd);
}

static void pt_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi)
{
	(void)ino;
	if (fi->fh == (uint64_t)-1) {
		fuse_reply_buf(req, NULL, 0);
		return;
	}
	struct fuse_bufvec buf = FUSE_BUFVEC_INIT(size);
	buf.buf[0].flags = FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK;
	buf.buf[0].fd = (int)fi->fh;
	buf.buf[0].pos = off;
	fuse_reply_data(req, &buf, FUSE_BUF_SPLICE_MOVE);
}

static void pt_write_buf(fuse_req_t req, fuse_ino_t ino, struct fuse_bufvec *in, off_t off, struct fuse_file_info *fi)
{
	(void)ino;
	if (fi->fh == (uint64_t)-1) {
		fuse_reply_err(req, EBADF);
		return;
	}
	struct fuse_bufvec out = FUSE_BUFVEC_INIT(fuse_buf_size(in));
	out.buf[0].flags = FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK;
	out.buf[0].fd = (int)fi->fh;
	out.buf[0].pos = off;
	ssize_t n = fuse_buf_copy(&out, in, 0);
	if (n < 0)
		fuse_reply_err(req, (int)-n);
	else
		fuse_reply_write(req, (size_t)n);
}

static void pt_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)ino;
	if (fi->fh == (uint64_t)-1) {
		fuse_reply_err(req, 0);
		return;
	}
	/* Report close-time errors (NFS, quotas) as close(2) would. */
	int dup_fd = dup((int)fi->fh);
	int r = dup_fd < 0 || close(dup_fd) < 0 ? errno : 0;
	fuse_reply_err(req, r);
}

static void pt_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)ino;
	if (fi->fh != (uint64_t)-1)
		close((int)fi->fh);
	fuse_reply_err(req, 0);
}

static void pt_fsync(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi)
{
	(void)ino;
	int fd = (int)fi->fh;
	int r = fi->fh == (uint64_t)-1 ? 0 : (datasync ? fdatasync(fd) : fsync(fd)) < 0 ? errno : 0;
	fuse_reply_err(req, r);
}

static void dir_handle_clear(struct dir_handle *d)
{
	for (size_t i = 0; i < d->count; i++)
		free(d->entries[i].name);
	free(d->entries);
	d->entries = NULL;
	d->count = 0;
}

static int dir_add(struct dir_handle *d, size_t *cap, const char *name, ino_t ino, unsigned char type)
{
	if (d->count == *cap) {
		size_t ncap = *cap ? *cap * 2 : 64;
		struct dir_entry *n = realloc(d->entries, ncap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		d->entries = n;
		*cap = ncap;
	}
	char *copy = strdup(name);
	if (!copy)
		return -ENOMEM;
	d->entries[d->count++] = (struct dir_entry){ copy, ino, type };
	return 0;
}

/* Snapshot the host listing (hidden names left out) plus the view-only
 * entries of this directory. */
static int dir_load(struct passthrough *pt, struct pt_inode *inode, struct dir_handle *d)
{
	size_t cap = 0;
	int r = 0;
	dir_handle_clear(d);
	if (d->fd >= 0) {
		int fd = dup(d->fd);
		DIR *dp = fd >= 0 ? fdopendir(fd) : NULL;
		if (!dp) {
			if (fd >= 0)
				close(fd);
			return -errno;
		}
		rewinddir(dp);
		struct dirent *de;
		errno = 0;
		while (r == 0 && (de = readdir(dp))) {
			pthread_mutex_lock(&pt->lock);
			bool skip = view_entry_find(pt, inode, de->d_name) != NULL || is_hidden_locked(pt, inode, de->d_name);
			pthread_mutex_unlock(&pt->lock);
			if (!skip)
				r = dir_add(d, &cap, de->d_name, de->d_ino, de->d_type);
		}
		closedir(dp);
	} else {
		if ((r = dir_add(d, &cap, ".", inode->ino, DT_DIR)) == 0)
			r = dir_add(d, &cap, "..", 0, DT_DIR);
	}
	pthread_mutex_lock(&pt->lock);
	for (struct view_entry *e = pt->entries; r == 0 && e; e = e->next)
		if (e->parent_dev == inode->dev && e->parent_ino == inode->ino)
			r = dir_add(d, &cap, e->name, e->inode->ino, S_ISDIR(e->inode->mode) ? DT_DIR : DT_REG);
	pthread_mutex_unlock(&pt->lock);
	return r;
}

static void pt_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct pt_inode *inode = inode_of(req, ino);
	int r = inode->view_only ? 0 : presented_check(req, inode, R_OK);
	if (r < 0) {
		fuse_reply_err(req, -r);
		return;
	}
	struct dir_handle *d = calloc(1, sizeof(*d));
	if (!d) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	d->fd = -1;
	if (!inode->view_only) {
		char path[32];
		proc_path(path, inode->fd);
		d->fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (d->fd < 0) {
			int err = errno;
			free(d);
			fuse_reply_err(req, err);
			return;
		}
	}
	fi->fh = (uint64_t)(uintptr_t)d;
	if (fuse_reply_open(req, fi) != 0) {
		if (d->fd >= 0)
			close(d->fd);
		free(d);
	}
}

static void pt_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi)
{
	struct dir_handle *d = (struct dir_handle *)(uintptr_t)fi->fh;
	if (off == 0 || !d->entries) {
		int r = dir_load(pt_of(req), inode_of(req, ino), d);
		if (r < 0) {
			fuse_reply_err(req, -r);
			return;
		}
	}
	char *buf = malloc(size);
	if (!buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	size_t pos = 0;
	for (size_t i = (size_t)off; i < d->count; i++) {
		struct stat st = { .st_ino = d->entries[i].ino, .st_mode = (mode_t)d->entries[i].type << 12 };
		size_t need = fuse_add_direntry(req, buf + pos, size - pos, d->entries[i].name, &st, (off_t)(i + 1));
		if (need > size - pos)
			break;
		pos += need;
	}
	fuse_reply_buf(req, buf, pos);
	free(buf);
}

static void pt_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)ino;
	struct dir_handle *d = (struct dir_handle *)(uintptr_t)fi->fh;
	dir_handle_clear(d);
	if (d->fd >= 0)
		close(d->fd);
	free(d);
	fuse_reply_err(req, 0);
}

static void pt_fsyncdir(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi)
{
	(void)ino;
	struct dir_handle *d = (struct dir_handle *)(uintptr_t)fi->fh;
	int r = d->fd < 0 ? 0 : (datasync ? fdatasync(d->fd) : fsync(d->fd)) < 0 ? errno : 0;
	fuse_reply_err(req, r);
}

static void pt_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct pt_inode *inode = inode_of(req, ino);
	struct statvfs sv;
	char path[32];
	proc_path(path, inode->view_only ? pt_of(req)->root.fd : inode->fd);
	if (statvfs(path, &sv) < 0)
		fuse_reply_err(req, errno);
	else
		fuse_reply_statfs(req, &sv);
}

/* Extended attributes, on regular files and directories (the O_PATH
 * magic link would follow a symlink). */
static int xattr_path(fuse_req_t req, fuse_ino_t ino, char path[static 32])
{
	struct pt_inode *inode = inode_of(req, ino);
	if (inode->view_only)
		return -ENOTSUP;
	struct stat st;
	if (fstatat(inode->fd, "", &st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	if (S_ISLNK(st.st_mode))
		return -ENOTSUP;
	proc_path(path, inode->fd);
	return 0;
}

static void reply_xattr_result(fuse_req_t req, ssize_t n, size_t size, const char *buf)
{
	if (n < 0)
		fuse_reply_err(req, errno);
	else if (size == 0)
		fuse_reply_xattr(req, (size_t)n);
	else
		fuse_reply_buf(req, buf, (size_t)n);
}

static void pt_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name, size_t size)
{
	char path[32];
	int r = xattr_path(req, ino, path);
	if (r < 0) {
		fuse_reply_err(req, -r);
		return;
	}
	char *buf = size ? malloc(size) : NULL;
	if (size && !buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	ssize_t n = getxattr(path, name, buf, size);
	reply_xattr_result(req, n, size, buf);
	free(buf);
}

static void pt_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
	char path[32];
	int r = xattr_path(req, ino, path);
	if (r < 0) {
		fuse_reply_err(req, -r);
		return;
	}
	char *buf = size ? malloc(size) : NULL;
	if (size && !buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	ssize_t n = listxattr(path, buf, size);
	reply_xattr_result(req, n, size, buf);
	free(buf);
}

static void pt_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name, const char *value, size_t size, int flags)
{
	char path[32];
	int r = xattr_path(req, ino, path);
	if (r == 0)
		r = presented_check(req, inode_of(req, ino), W_OK);
	if (r == 0 && setxattr(path, name, value, size, flags) < 0)
		r = -errno;
	fuse_reply_err(req, -r);
}

static void pt_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name)
{
	char path[32];
	int r = xattr_path(req, ino, path);
	if (r == 0)
		r = presented_check(req, inode_of(req, ino), W_OK);
	if (r == 0 && removexattr(path, name) < 0)
		r = -errno;
	fuse_reply_err(req, -r);
}

static void pt_fallocate(fuse_req_t req, fuse_ino_t ino, int mode, off_t offset, off_t length,
			 struct fuse_file_info *fi)
{
	(void)ino;
	int r = fi->fh == (uint64_t)-1 ? EBADF : fallocate((int)fi->fh, mode, offset, length) < 0 ? errno : 0;
	fuse_reply_err(req, r);
}

static void pt_lseek(fuse_req_t req, fuse_ino_t ino, off_t off, int whence, struct fuse_file_info *fi)
{
	(void)ino;
	off_t r = fi->fh == (uint64_t)-1 ? -1 : lseek((int)fi->fh, off, whence);
	if (r < 0)
		fuse_reply_err(req, fi->fh == (uint64_t)-1 ? ENXIO : errno);
	else
		fuse_reply_lseek(req, r);
}

/* ---- with the caller's ids (act_as_caller) ---- */

/* Every operation that reaches the host by name runs with the caller's
 * fs ids when act_as_caller is set; without it, these are the operations
 * themselves. Opened fds carry the check made at open. */
#define AS_CALLER(op, call, ...)                                                                                       \
	static void op##_as_caller(fuse_req_t req, __VA_ARGS__)                                                        \
	{                                                                                                              \
		struct creds_saved saved;                                                                              \
		if (creds_enter(req, &saved) < 0) {                                                                    \
			fuse_reply_err(req, EACCES);                                                                   \
			return;                                                                                        \
		}                                                                                                      \
		call;                                                                                                  \
		creds_leave(&saved);                                                                                   \
	}

AS_CALLER(pt_lookup, pt_lookup(req, parent, name), fuse_ino_t parent, const char *name)
AS_CALLER(pt_setattr, pt_setattr(req, ino, attr, to_set, fi), fuse_ino_t ino, struct stat *attr, int to_set,
	  struct fuse_file_info *fi)
AS_CALLER(pt_access, pt_access(req, ino, mask), fuse_ino_t ino, int mask)
AS_CALLER(pt_mknod, pt_mknod(req, parent, name, mode, rdev), fuse_ino_t parent, const char *name, mode_t mode,
	  dev_t rdev)
AS_CALLER(pt_mkdir, pt_mkdir(req, parent, name, mode), fuse_ino_t parent, const char *name, mode_t mode)
AS_CALLER(pt_symlink, pt_symlink(req, link, parent, name), const char *link, fuse_ino_t parent, const char *name)
AS_CALLER(pt_link, pt_link(req, ino, newparent, newname), fuse_ino_t ino, fuse_ino_t newparent, const char *newname)
AS_CALLER(pt_unlink, pt_unlink(req, parent, name), fuse_ino_t parent, const char *name)
AS_CALLER(pt_rmdir, pt_rmdir(req, parent, name), fuse_ino_t parent, const char *name)
AS_CALLER(pt_rename, pt_rename(req, parent, name, newparent, newname, flags), fuse_ino_t parent, const char *name,
	  fuse_ino_t newparent, const char *newname, unsigned int flags)
AS_CALLER(pt_open, pt_open(req, ino, fi), fuse_ino_t ino, struct fuse_file_info *fi)
AS_CALLER(pt_create, pt_create(req, parent, name, mode, fi), fuse_ino_t parent, const char *name, mode_t mode,
	  struct fuse_file_info *fi)
AS_CALLER(pt_opendir, pt_opendir(req, ino, fi), fuse_ino_t ino, struct fuse_file_info *fi)
AS_CALLER(pt_getxattr, pt_getxattr(req, ino, name, size), fuse_ino_t ino, const char *name, size_t size)
AS_CALLER(pt_listxattr, pt_listxattr(req, ino, size), fuse_ino_t ino, size_t size)
AS_CALLER(pt_setxattr, pt_setxattr(req, ino, name, value, size, flags), fuse_ino_t ino, const char *name,
	  const char *value, size_t size, int flags)
AS_CALLER(pt_removexattr, pt_removexattr(req, ino, name), fuse_ino_t ino, const char *name)

const struct fuse_lowlevel_ops passthrough_ops = {
	.init = pt_init,
	.lookup = pt_lookup_as_caller,
	.forget = pt_forget,
	.forget_multi = pt_forget_multi,
	.getattr = pt_getattr,
	.setattr = pt_setattr_as_caller,
	.readlink = pt_readlink,
	.access = pt_access_as_caller,
	.mknod = pt_mknod_as_caller,
	.mkdir = pt_mkdir_as_caller,
	.symlink = pt_symlink_as_caller,
	.link = pt_link_as_caller,
	.unlink = pt_unlink_as_caller,
	.rmdir = pt_rmdir_as_caller,
	.rename = pt_rename_as_caller,
	.open = pt_open_as_caller,
	.create = pt_create_as_caller,
	.read = pt_read,
	.write_buf = pt_write_buf,
	.flush = pt_flush,
	.release = pt_release,
	.fsync = pt_fsync,
	.opendir = pt_opendir_as_caller,
	.readdir = pt_readdir,
	.releasedir = pt_releasedir,
	.fsyncdir = pt_fsyncdir,
	.statfs = pt_statfs,
	.getxattr = pt_getxattr_as_caller,
	.listxattr = pt_listxattr_as_caller,
	.setxattr = pt_setxattr_as_caller,
	.removexattr = pt_removexattr_as_caller,
	.fallocate = pt_fallocate,
	.lseek = pt_lseek,
};

/* ---- life ---- */

int passthrough_new(const struct passthrough_config *config, struct passthrough **ret)
{
	int fd = config->root_fd;
	struct passthrough *pt = calloc(1, sizeof(*pt));
	if (!pt) {
		close(fd);
		return -ENOMEM;
	}
	pt->root.fd = fd;
	pthread_mutex_init(&pt->lock, NULL);
	struct stat st;
	int r = 0;
	if (fstat(fd, &st) < 0)
		r = -errno;
	else if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode))
		r = -EINVAL;
	const struct passthrough_hooks *h = &config->hooks;
	if (r == 0 && h->n_rules) {
		if (!(pt->rules = calloc(1, sizeof(*pt->rules))))
			r = -ENOMEM;
		for (size_t i = 0; r == 0 && i < h->n_rules; i++)
			r = rule_add(pt->rules, &h->rules[i]);
	}
	if (r == 0 && h->n_hidden_names) {
		if (!(pt->hidden_names = calloc(h->n_hidden_names, sizeof(char *))))
			r = -ENOMEM;
		for (size_t i = 0; r == 0 && i < h->n_hidden_names; i++) {
			const char *name = h->hidden_names[i];
			if (!name[0] || strchr(name, '/') || streq(name, ".") || streq(name, ".."))
				r = -EINVAL;
			else if (!(pt->hidden_names[pt->n_hidden_names++] = strdup(name)))
				r = -ENOMEM;
		}
	}
	if (r < 0) {
		passthrough_free(pt);
		return r;
	}
	pt->root.dev = st.st_dev;
	pt->root.ino = st.st_ino;
	pt->root.nlookup = 1;
	pt->root.rule = pt->rules;
	pt->view_only_pid = h->view_only_pid;
	pt->ids = config->ids;
	pt->uid_map = config->uid_map;
	pt->gid_map = config->gid_map;
	pt->act_as_caller = config->act_as_caller;
	size_t uids = 0;
	if (config->ids == PASSTHROUGH_IDS_MAP)
		for (size_t i = 0; i < config->uid_map.count; i++)
			uids += config->uid_map.extent[i].length;
	else if (config->ids == PASSTHROUGH_IDS_NATIVE)
		uids = 2;
	pt->walks_checked = config->act_as_caller && uids > 1;
	pt->uid = geteuid();
	pt->gid = getegid();
	*ret = pt;
	return 0;
}

void passthrough_free(struct passthrough *pt)
{
	if (!pt)
		return;
	for (size_t i = 0; i < PT_HASH_SIZE; i++)
		while (pt->table[i]) {
			struct pt_inode *inode = pt->table[i];
			pt->table[i] = inode->next;
			close(inode->fd);
			free(inode);
		}
	while (pt->entries) {
		struct view_entry *e = pt->entries;
		pt->entries = e->next;
		free(e->inode);
		free(e->name);
		free(e);
	}
	rule_tree_free(pt->rules);
	for (size_t i = 0; i < pt->n_hidden_names; i++)
		free(pt->hidden_names[i]);
	free(pt->hidden_names);
	close(pt->root.fd);
	pthread_mutex_destroy(&pt->lock);
	free(pt);
}

/* ---- stacking ---- */

void passthrough_rules_free(struct passthrough_rules *rules)
{
	for (size_t i = 0; i < rules->n_rules; i++)
		free((char *)rules->rules[i].path);
	free(rules->rules);
	for (size_t i = 0; i < rules->n_hidden_names; i++)
		free(rules->hidden_names[i]);
	free(rules->hidden_names);
	*rules = (struct passthrough_rules){ 0 };
}

static int rules_push(struct passthrough_rules *out, const char *path, bool hide, const struct passthrough_attr *attr,
		      bool recursive)
{
	struct passthrough_rule *n = realloc(out->rules, (out->n_rules + 1) * sizeof(*n));
	if (!n)
		return -ENOMEM;
	out->rules = n;
	char *copy = strdup(path);
	if (!copy)
		return -ENOMEM;
	n[out->n_rules] = (struct passthrough_rule){ .path = copy, .hide = hide };
	if (attr)
		n[out->n_rules].attr = *attr;
	n[out->n_rules].attr.recursive = recursive;
	out->n_rules++;
	return 0;
}

/* The rules of `node` and below, as paths under `prefix`. */
static int rules_collect(const struct rule_node *node, const char *prefix, struct passthrough_rules *out)
{
	int r = 0;
	if (node->hide)
		r = rules_push(out, prefix, true, NULL, false);
	if (r == 0 && attr_any(&node->below))
		r = rules_push(out, prefix, false, &node->below, true);
	if (r == 0 && attr_any(&node->own))
		r = rules_push(out, prefix, false, &node->own, false);
	for (const struct rule_node *c = node->child; r == 0 && c; c = c->sibling) {
		char *path;
		if (asprintf(&path, "%s%s%s", prefix, prefix[0] ? "/" : "", c->name) < 0)
			return -ENOMEM;
		r = rules_collect(c, path, out);
		free(path);
	}
	return r;
}

int passthrough_sub(struct passthrough *pt, const char *rel, int *ret_fd, struct passthrough_rules *ret)
{
	struct passthrough_rules out = { 0 };
	char *copy = strdup(rel);
	int fd = fcntl(pt->root.fd, F_DUPFD_CLOEXEC, 3);
	if (!copy || fd < 0) {
		free(copy);
		if (fd >= 0)
			close(fd);
		return -ENOMEM;
	}
	struct passthrough_attr inherited = { 0 };
	int r = 0;
	pthread_mutex_lock(&pt->lock);
	const struct rule_node *node = pt->rules;
	char *save = NULL;
	for (char *c = strtok_r(copy, "/", &save); c && r == 0; c = strtok_r(NULL, "/", &save)) {
		if (streq(c, "."))
			continue;
		struct pt_inode at = { .rule = node };
		if (streq(c, "..") || is_hidden_locked(pt, &at, c)) {
			r = -ENOENT;
			break;
		}
		if (node)
			attr_merge(&inherited, &node->below, true); /* nearer rules win */
		node = rule_child(node, c);
		int next = openat(fd, c, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (next < 0)
			r = -errno;
		close(fd);
		fd = next;
	}
	if (r == 0 && attr_any(&inherited))
		r = rules_push(&out, "", false, &inherited, true);
	if (r == 0 && node)
		r = rules_collect(node, "", &out);
	if (r == 0 && pt->n_hidden_names) {
		if (!(out.hidden_names = calloc(pt->n_hidden_names, sizeof(char *))))
			r = -ENOMEM;
		for (size_t i = 0; r == 0 && i < pt->n_hidden_names; i++)
			if (!(out.hidden_names[out.n_hidden_names++] = strdup(pt->hidden_names[i])))
				r = -ENOMEM;
	}
	pthread_mutex_unlock(&pt->lock);
	free(copy);
	if (r < 0) {
		if (fd >= 0)
			close(fd);
		passthrough_rules_free(&out);
		return r;
	}
	*ret_fd = fd;
	*ret = out;
	return 0;
}
