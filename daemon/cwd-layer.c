/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The working-directory layer (see cwd-layer.h): a passthrough FUSE
 * filesystem in the style of libfuse's passthrough_ll — one O_PATH fd per
 * known host inode, operations through /proc/self/fd/N — plus view-only
 * entries that only the view helper can create. */
#include "cwd-layer.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
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

#include "util.h"

#define LAYER_TIMEOUT 1.0   /* seconds the kernel may cache entries and attributes */
#define LAYER_HASH_SIZE 4096
#define OVERFLOW_ID 65534   /* how ids unmapped in the view appear */

struct layer_inode {
	struct layer_inode *next;   /* hash chain (host inodes only) */
	int fd;                     /* O_PATH fd of the host object; -1 when view-only */
	dev_t dev;                  /* host identity; view-only entries: dev 0 */
	ino_t ino;
	uint64_t nlookup;           /* kernel references */
	bool view_only;
	bool linked;                /* view-only: still listed in its directory */
	mode_t mode;                /* view-only: type and permissions */
	struct timespec time;       /* view-only: creation time */
};

/* A name that exists only in the view: `name` in the directory whose host
 * (or view-only) identity is parent_dev/parent_ino. */
struct view_entry {
	struct view_entry *next;
	dev_t parent_dev;
	ino_t parent_ino;
	char *name;
	struct layer_inode *inode;
};

struct cwd_layer {
	pthread_mutex_t lock;
	struct layer_inode root;
	struct layer_inode *table[LAYER_HASH_SIZE];
	struct view_entry *entries;
	ino_t next_view_ino;
	pid_t helper_pid;
	bool user_namespace;
	uid_t uid;
	gid_t gid;
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

static struct cwd_layer *layer_of(fuse_req_t req)
{
	return fuse_req_userdata(req);
}

static struct layer_inode *inode_of(fuse_req_t req, fuse_ino_t ino)
{
	if (ino == FUSE_ROOT_ID)
		return &layer_of(req)->root;
	return (struct layer_inode *)(uintptr_t)ino;
}

static fuse_ino_t nodeid_of(struct cwd_layer *l, struct layer_inode *inode)
{
	return inode == &l->root ? FUSE_ROOT_ID : (fuse_ino_t)(uintptr_t)inode;
}

static void proc_path(char buf[static 32], int fd)
{
	snprintf(buf, 32, "/proc/self/fd/%d", fd);
}

static size_t hash_of(dev_t dev, ino_t ino)
{
	return (size_t)((ino * 0x9E3779B97F4A7C15ull) ^ dev) % LAYER_HASH_SIZE;
}

static bool from_helper(fuse_req_t req)
{
	return fuse_req_ctx(req)->pid == layer_of(req)->helper_pid;
}

/* ---- ids between the host and the view ---- */

/* In a user namespace the view maps one uid and one gid, ours, to 0.
 * The kernel refuses any write to an inode whose owner or group is not
 * mapped (HAS_UNMAPPED_ID), and a FUSE server can only report ids of the
 * view's namespace. So other users' files show as owned by 65534 and stay
 * read-only, as they mostly are natively; groups all show as the view's
 * group 0, so that our own files in a directory of a shared group stay
 * writable. Permissions are checked by the host when we act: the server
 * has exactly the credentials of the view's processes. */
static void to_view(const struct cwd_layer *l, struct stat *st)
{
	if (!l->user_namespace)
		return;
	st->st_uid = st->st_uid == l->uid ? 0 : OVERFLOW_ID;
	st->st_gid = 0;
}

/* Creations by a process of the view get its ids. In a user namespace
 * the view has only one id, which is ours already. */
struct creds_saved {
	bool switched;
};

static struct creds_saved creds_enter(fuse_req_t req)
{
	struct creds_saved saved = { false };
	if (layer_of(req)->user_namespace)
		return saved;
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	syscall(SYS_setfsgid, ctx->gid);
	syscall(SYS_setfsuid, ctx->uid);
	saved.switched = true;
	return saved;
}

static void creds_leave(struct creds_saved saved)
{
	if (!saved.switched)
		return;
	syscall(SYS_setfsuid, geteuid());
	syscall(SYS_setfsgid, getegid());
}

/* ---- the inode table ---- */

/* Find the inode of `st` or adopt `fd` for a new one; one more kernel
 * reference either way. Consumes fd. */
static struct layer_inode *inode_ref(struct cwd_layer *l, int fd, const struct stat *st)
{
	pthread_mutex_lock(&l->lock);
	if (st->st_dev == l->root.dev && st->st_ino == l->root.ino) {
		l->root.nlookup++;
		pthread_mutex_unlock(&l->lock);
		close(fd);
		return &l->root;
	}
	size_t h = hash_of(st->st_dev, st->st_ino);
	struct layer_inode *inode;
	for (inode = l->table[h]; inode; inode = inode->next)
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
		inode->next = l->table[h];
		l->table[h] = inode;
	} else {
		close(fd);
	}
	pthread_mutex_unlock(&l->lock);
	return inode;
}

static void inode_unref_locked(struct cwd_layer *l, struct layer_inode *inode, uint64_t n)
{
	if (inode == &l->root)
		return;
	inode->nlookup = inode->nlookup > n ? inode->nlookup - n : 0;
	if (inode->nlookup > 0)
		return;
	if (inode->view_only) {
		if (!inode->linked)
			free(inode);
		return;
	}
	struct layer_inode **p = &l->table[hash_of(inode->dev, inode->ino)];
	while (*p && *p != inode)
		p = &(*p)->next;
	if (*p)
		*p = inode->next;
	close(inode->fd);
	free(inode);
}

static struct view_entry *view_entry_find(struct cwd_layer *l, const struct layer_inode *parent, const char *name)
{
	for (struct view_entry *e = l->entries; e; e = e->next)
		if (e->parent_dev == parent->dev && e->parent_ino == parent->ino && streq(e->name, name))
			return e;
	return NULL;
}

static void view_only_stat(const struct layer_inode *inode, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = inode->ino;
	st->st_mode = inode->mode;
	st->st_nlink = S_ISDIR(inode->mode) ? 2 : 1;
	st->st_blksize = 4096;
	st->st_atim = st->st_mtim = st->st_ctim = inode->time;
}

static int inode_stat(const struct cwd_layer *l, const struct layer_inode *inode, struct stat *st)
{
	if (inode->view_only) {
		view_only_stat(inode, st);
		return 0;
	}
	if (fstatat(inode->fd, "", st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	to_view(l, st);
	return 0;
}

static void reply_entry(fuse_req_t req, struct layer_inode *inode)
{
	struct cwd_layer *l = layer_of(req);
	struct fuse_entry_param e = {
		.ino = nodeid_of(l, inode),
		.attr_timeout = LAYER_TIMEOUT,
		.entry_timeout = LAYER_TIMEOUT,
	};
	int r = inode_stat(l, inode, &e.attr);
	if (r < 0) {
		pthread_mutex_lock(&l->lock);
		inode_unref_locked(l, inode, 1);
		pthread_mutex_unlock(&l->lock);
		fuse_reply_err(req, -r);
		return;
	}
	fuse_reply_entry(req, &e);
}

/* Look `name` up in `parent` and take a reference on the result. */
static int lookup_ref(fuse_req_t req, struct layer_inode *parent, const char *name, struct layer_inode **ret)
{
	struct cwd_layer *l = layer_of(req);
	pthread_mutex_lock(&l->lock);
	struct view_entry *e = view_entry_find(l, parent, name);
	if (e)
		e->inode->nlookup++;
	pthread_mutex_unlock(&l->lock);
	if (e) {
		*ret = e->inode;
		return 0;
	}
	if (parent->view_only)
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
	struct layer_inode *inode = inode_ref(l, fd, &st);
	if (!inode)
		return -ENOMEM;
	*ret = inode;
	return 0;
}

/* ---- view-only entries (mount points made by the helper) ---- */

static int view_entry_create(fuse_req_t req, struct layer_inode *parent, const char *name, mode_t mode,
			     struct layer_inode **ret)
{
	struct cwd_layer *l = layer_of(req);
	if (!S_ISREG(mode) && !S_ISDIR(mode))
		return -EPERM;
	struct view_entry *e = calloc(1, sizeof(*e));
	struct layer_inode *inode = calloc(1, sizeof(*inode));
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

	pthread_mutex_lock(&l->lock);
	bool exists = view_entry_find(l, parent, name) != NULL;
	if (!exists && !parent->view_only) {
		struct stat st;
		exists = fstatat(parent->fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0;
	}
	if (exists) {
		pthread_mutex_unlock(&l->lock);
		free(e), free(inode), free(copy);
		return -EEXIST;
	}
	inode->dev = 0;
	inode->ino = ++l->next_view_ino;
	e->parent_dev = parent->dev;
	e->parent_ino = parent->ino;
	e->next = l->entries;
	l->entries = e;
	pthread_mutex_unlock(&l->lock);
	*ret = inode;
	return 0;
}

/* Remove a view-only entry; -ENOENT if `name` is not one. */
static int view_entry_remove(struct cwd_layer *l, struct layer_inode *parent, const char *name, bool dir)
{
	pthread_mutex_lock(&l->lock);
	struct view_entry **p = &l->entries;
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
		for (struct view_entry *c = l->entries; c; c = c->next)
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
	pthread_mutex_unlock(&l->lock);
	return r;
}

/* ---- operations ---- */

static void layer_init(void *userdata, struct fuse_conn_info *conn)
{
	(void)userdata;
	/* Every write reaches the host at once: no writeback cache. */
	conn->want &= ~FUSE_CAP_WRITEBACK_CACHE;
	if (conn->capable & FUSE_CAP_EXPORT_SUPPORT)
		conn->want |= FUSE_CAP_EXPORT_SUPPORT;
}

static void layer_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct layer_inode *inode;
	int r = lookup_ref(req, inode_of(req, parent), name, &inode);
	if (r < 0)
		fuse_reply_err(req, -r);
	else
		reply_entry(req, inode);
}

static void layer_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	struct cwd_layer *l = layer_of(req);
	pthread_mutex_lock(&l->lock);
	inode_unref_locked(l, inode_of(req, ino), nlookup);
	pthread_mutex_unlock(&l->lock);
	fuse_reply_none(req);
}

static void layer_forget_multi(fuse_req_t req, size_t count, struct fuse_forget_data *forgets)
{
	struct cwd_layer *l = layer_of(req);
	pthread_mutex_lock(&l->lock);
	for (size_t i = 0; i < count; i++)
		inode_unref_locked(l, inode_of(req, forgets[i].ino), forgets[i].nlookup);
	pthread_mutex_unlock(&l->lock);
	fuse_reply_none(req);
}

static void layer_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)fi;
	struct stat st;
	int r = inode_stat(layer_of(req), inode_of(req, ino), &st);
	if (r < 0)
		fuse_reply_err(req, -r);
	else
		fuse_reply_attr(req, &st, LAYER_TIMEOUT);
}

static int host_id(const struct cwd_layer *l, uint32_t view_id, bool is_uid, uint32_t *ret)
{
	if (!l->user_namespace) {
		*ret = view_id;
		return 0;
	}
	if (view_id != 0)
		return -EINVAL; /* the view maps no other id */
	*ret = is_uid ? l->uid : l->gid;
	return 0;
}

static int apply_setattr(fuse_req_t req, struct layer_inode *inode, const struct stat *attr, int to_set,
			 const struct fuse_file_info *fi)
{
	struct cwd_layer *l = layer_of(req);
	char path[32];
	if (inode->view_only) {
		if (to_set & FUSE_SET_ATTR_MODE)
			inode->mode = (inode->mode & S_IFMT) | (attr->st_mode & 07777);
		return 0;
	}
	proc_path(path, inode->fd);
	struct stat st;
	if (fstatat(inode->fd, "", &st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	bool is_link = S_ISLNK(st.st_mode);

	if (to_set & FUSE_SET_ATTR_MODE) {
		if (is_link)
			return -EOPNOTSUPP;
		if ((fi ? fchmod((int)fi->fh, attr->st_mode) : chmod(path, attr->st_mode)) < 0)
			return -errno;
	}
	if (to_set & (FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID)) {
		uint32_t uid = (uint32_t)-1, gid = (uint32_t)-1;
		int r = 0;
		if (to_set & FUSE_SET_ATTR_UID)
			r = host_id(l, attr->st_uid, true, &uid);
		if (r == 0 && (to_set & FUSE_SET_ATTR_GID))
			r = host_id(l, attr->st_gid, false, &gid);
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
		if (is_link)
			return -EOPNOTSUPP;
		if ((fi ? futimens((int)fi->fh, ts) : utimensat(AT_FDCWD, path, ts, 0)) < 0)
			return -errno;
	}
	return 0;
}

static void layer_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
			  struct fuse_file_info *fi)
{
	struct layer_inode *inode = inode_of(req, ino);
	int r = apply_setattr(req, inode, attr, to_set, fi);
	if (r < 0) {
		fuse_reply_err(req, -r);
		return;
	}
	layer_getattr(req, ino, fi);
}

/* access(2): without default_permissions the kernel asks us; the host
 * answers for the server's credentials, which are the view's. */
static void layer_access(fuse_req_t req, fuse_ino_t ino, int mask)
{
	struct layer_inode *inode = inode_of(req, ino);
	if (inode->view_only) {
		fuse_reply_err(req, (mask & W_OK) || ((mask & X_OK) && !S_ISDIR(inode->mode)) ? EACCES : 0);
		return;
	}
	char path[32];
	proc_path(path, inode->fd);
	fuse_reply_err(req, faccessat(AT_FDCWD, path, mask, AT_EACCESS) < 0 ? errno : 0);
}

static void layer_readlink(fuse_req_t req, fuse_ino_t ino)
{
	struct layer_inode *inode = inode_of(req, ino);
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
static void reply_created(fuse_req_t req, struct layer_inode *parent, const char *name, int result)
{
	if (result < 0) {
		fuse_reply_err(req, -result);
		return;
	}
	struct layer_inode *inode;
	int r = lookup_ref(req, parent, name, &inode);
	if (r < 0)
		fuse_reply_err(req, -r);
	else
		reply_entry(req, inode);
}

static void make_node(fuse_req_t req, fuse_ino_t parent_ino, const char *name, mode_t mode, dev_t rdev,
		      const char *link)
{
	struct layer_inode *parent = inode_of(req, parent_ino);
	if (from_helper(req) && !link) {
		struct layer_inode *inode;
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
	struct creds_saved saved = creds_enter(req);
	int r;
	if (link)
		r = symlinkat(link, parent->fd, name);
	else if (S_ISDIR(mode))
		r = mkdirat(parent->fd, name, mode);
	else
		r = mknodat(parent->fd, name, mode, rdev);
	r = r < 0 ? -errno : 0;
	creds_leave(saved);
	reply_created(req, parent, name, r);
}

static void layer_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, dev_t rdev)
{
	make_node(req, parent, name, mode, rdev, NULL);
}

static void layer_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode)
{
	make_node(req, parent, name, S_IFDIR | mode, 0, NULL);
}

static void layer_symlink(fuse_req_t req, const char *link, fuse_ino_t parent, const char *name)
{
	make_node(req, parent, name, S_IFLNK, 0, link);
}

static void layer_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent, const char *newname)
{
	struct layer_inode *inode = inode_of(req, ino), *parent = inode_of(req, newparent);
	if (inode->view_only || parent->view_only) {
		fuse_reply_err(req, EXDEV);
		return;
	}
	char path[32];
	proc_path(path, inode->fd);
	int r = linkat(AT_FDCWD, path, parent->fd, newname, AT_SYMLINK_FOLLOW) < 0 ? -errno : 0;
	reply_created(req, parent, newname, r);
}

static void remove_entry(fuse_req_t req, fuse_ino_t parent_ino, const char *name, bool dir)
{
	struct layer_inode *parent = inode_of(req, parent_ino);
	int r = view_entry_remove(layer_of(req), parent, name, dir);
	if (r == -ENOENT && !parent->view_only)
		r = unlinkat(parent->fd, name, dir ? AT_REMOVEDIR : 0) < 0 ? -errno : 0;
	fuse_reply_err(req, -r);
}

static void layer_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	remove_entry(req, parent, name, false);
}

static void layer_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	remove_entry(req, parent, name, true);
}

static void layer_rename(fuse_req_t req, fuse_ino_t parent_ino, const char *name, fuse_ino_t newparent_ino,
			 const char *newname, unsigned int flags)
{
	struct cwd_layer *l = layer_of(req);
	struct layer_inode *parent = inode_of(req, parent_ino), *newparent = inode_of(req, newparent_ino);
	pthread_mutex_lock(&l->lock);
	bool view_only = parent->view_only || newparent->view_only || view_entry_find(l, parent, name) ||
			 view_entry_find(l, newparent, newname);
	pthread_mutex_unlock(&l->lock);
	if (view_only) {
		fuse_reply_err(req, EXDEV); /* view-only entries never become host files */
		return;
	}
	long r = syscall(SYS_renameat2, parent->fd, name, newparent->fd, newname, flags);
	fuse_reply_err(req, r < 0 ? errno : 0);
}

static int open_flags(int flags)
{
	/* O_NOFOLLOW would refuse the /proc/self/fd magic link itself. */
	return (flags & ~(O_CREAT | O_EXCL | O_NOCTTY | O_NOFOLLOW)) | O_CLOEXEC;
}

static void layer_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct layer_inode *inode = inode_of(req, ino);
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

static void layer_create(fuse_req_t req, fuse_ino_t parent_ino, const char *name, mode_t mode,
			 struct fuse_file_info *fi)
{
	struct layer_inode *parent = inode_of(req, parent_ino);
	if (from_helper(req)) {
		/* Mount points are made with mknod/mkdir; refuse the rest. */
		fuse_reply_err(req, EPERM);
		return;
	}
	if (parent->view_only) {
		fuse_reply_err(req, EPERM);
		return;
	}
	struct creds_saved saved = creds_enter(req);
	int fd = openat(parent->fd, name, open_flags(fi->flags) | O_CREAT | (fi->flags & O_EXCL), mode);
	int r = fd < 0 ? -errno : 0;
	creds_leave(saved);
	if (r < 0) {
		fuse_reply_err(req, -r);
		return;
	}
	struct layer_inode *inode;
	r = lookup_ref(req, parent, name, &inode);
	if (r < 0) {
		close(fd);
		fuse_reply_err(req, -r);
		return;
	}
	struct cwd_layer *l = layer_of(req);
	struct fuse_entry_param e = {
		.ino = nodeid_of(l, inode),
		.attr_timeout = LAYER_TIMEOUT,
		.entry_timeout = LAYER_TIMEOUT,
	};
	if ((r = inode_stat(l, inode, &e.attr)) < 0) {
		close(fd);
		pthread_mutex_lock(&l->lock);
		inode_unref_locked(l, inode, 1);
		pthread_mutex_unlock(&l->lock);
		fuse_reply_err(req, -r);
		return;
	}
	fi->fh = (uint64_t)fd;
	if (fuse_reply_create(req, &e, fi) != 0)
		close(fd);
}

static void layer_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi)
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

static void layer_write_buf(fuse_req_t req, fuse_ino_t ino, struct fuse_bufvec *in, off_t off,
			    struct fuse_file_info *fi)
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

static void layer_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
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

static void layer_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)ino;
	if (fi->fh != (uint64_t)-1)
		close((int)fi->fh);
	fuse_reply_err(req, 0);
}

static void layer_fsync(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi)
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

/* Snapshot the host listing plus the view-only entries of this directory. */
static int dir_load(struct cwd_layer *l, struct layer_inode *inode, struct dir_handle *d)
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
			pthread_mutex_lock(&l->lock);
			bool shadowed = view_entry_find(l, inode, de->d_name) != NULL;
			pthread_mutex_unlock(&l->lock);
			if (!shadowed)
				r = dir_add(d, &cap, de->d_name, de->d_ino, de->d_type);
		}
		closedir(dp);
	} else {
		if ((r = dir_add(d, &cap, ".", inode->ino, DT_DIR)) == 0)
			r = dir_add(d, &cap, "..", 0, DT_DIR);
	}
	pthread_mutex_lock(&l->lock);
	for (struct view_entry *e = l->entries; r == 0 && e; e = e->next)
		if (e->parent_dev == inode->dev && e->parent_ino == inode->ino)
			r = dir_add(d, &cap, e->name, e->inode->ino, S_ISDIR(e->inode->mode) ? DT_DIR : DT_REG);
	pthread_mutex_unlock(&l->lock);
	return r;
}

static void layer_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct layer_inode *inode = inode_of(req, ino);
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

static void layer_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi)
{
	struct dir_handle *d = (struct dir_handle *)(uintptr_t)fi->fh;
	if (off == 0 || !d->entries) {
		int r = dir_load(layer_of(req), inode_of(req, ino), d);
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

static void layer_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)ino;
	struct dir_handle *d = (struct dir_handle *)(uintptr_t)fi->fh;
	dir_handle_clear(d);
	if (d->fd >= 0)
		close(d->fd);
	free(d);
	fuse_reply_err(req, 0);
}

static void layer_fsyncdir(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi)
{
	(void)ino;
	struct dir_handle *d = (struct dir_handle *)(uintptr_t)fi->fh;
	int r = d->fd < 0 ? 0 : (datasync ? fdatasync(d->fd) : fsync(d->fd)) < 0 ? errno : 0;
	fuse_reply_err(req, r);
}

static void layer_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct layer_inode *inode = inode_of(req, ino);
	struct statvfs sv;
	char path[32];
	proc_path(path, inode->view_only ? layer_of(req)->root.fd : inode->fd);
	if (statvfs(path, &sv) < 0)
		fuse_reply_err(req, errno);
	else
		fuse_reply_statfs(req, &sv);
}

/* Extended attributes, on regular files and directories (the O_PATH
 * magic link would follow a symlink). */
static int xattr_path(fuse_req_t req, fuse_ino_t ino, char path[static 32])
{
	struct layer_inode *inode = inode_of(req, ino);
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

static void layer_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name, size_t size)
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

static void layer_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
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

static void layer_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name, const char *value, size_t size,
			   int flags)
{
	char path[32];
	int r = xattr_path(req, ino, path);
	if (r == 0 && setxattr(path, name, value, size, flags) < 0)
		r = -errno;
	fuse_reply_err(req, -r);
}

static void layer_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name)
{
	char path[32];
	int r = xattr_path(req, ino, path);
	if (r == 0 && removexattr(path, name) < 0)
		r = -errno;
	fuse_reply_err(req, -r);
}

static void layer_fallocate(fuse_req_t req, fuse_ino_t ino, int mode, off_t offset, off_t length,
			    struct fuse_file_info *fi)
{
	(void)ino;
	int r = fi->fh == (uint64_t)-1 ? EBADF : fallocate((int)fi->fh, mode, offset, length) < 0 ? errno : 0;
	fuse_reply_err(req, r);
}

static void layer_lseek(fuse_req_t req, fuse_ino_t ino, off_t off, int whence, struct fuse_file_info *fi)
{
	(void)ino;
	off_t r = fi->fh == (uint64_t)-1 ? -1 : lseek((int)fi->fh, off, whence);
	if (r < 0)
		fuse_reply_err(req, fi->fh == (uint64_t)-1 ? ENXIO : errno);
	else
		fuse_reply_lseek(req, r);
}

const struct fuse_lowlevel_ops cwd_layer_ops = {
	.init = layer_init,
	.lookup = layer_lookup,
	.forget = layer_forget,
	.forget_multi = layer_forget_multi,
	.getattr = layer_getattr,
	.setattr = layer_setattr,
	.readlink = layer_readlink,
	.access = layer_access,
	.mknod = layer_mknod,
	.mkdir = layer_mkdir,
	.symlink = layer_symlink,
	.link = layer_link,
	.unlink = layer_unlink,
	.rmdir = layer_rmdir,
	.rename = layer_rename,
	.open = layer_open,
	.create = layer_create,
	.read = layer_read,
	.write_buf = layer_write_buf,
	.flush = layer_flush,
	.release = layer_release,
	.fsync = layer_fsync,
	.opendir = layer_opendir,
	.readdir = layer_readdir,
	.releasedir = layer_releasedir,
	.fsyncdir = layer_fsyncdir,
	.statfs = layer_statfs,
	.getxattr = layer_getxattr,
	.listxattr = layer_listxattr,
	.setxattr = layer_setxattr,
	.removexattr = layer_removexattr,
	.fallocate = layer_fallocate,
	.lseek = layer_lseek,
};

int cwd_layer_new(int dir_fd, pid_t helper_pid, bool user_namespace, struct cwd_layer **ret)
{
	struct cwd_layer *l = calloc(1, sizeof(*l));
	if (!l) {
		close(dir_fd);
		return -ENOMEM;
	}
	l->root.fd = dir_fd;
	struct stat st;
	if (fstat(l->root.fd, &st) < 0 || !S_ISDIR(st.st_mode)) {
		int r = S_ISDIR(st.st_mode) ? -errno : -ENOTDIR;
		close(l->root.fd);
		free(l);
		return r;
	}
	pthread_mutex_init(&l->lock, NULL);
	l->root.dev = st.st_dev;
	l->root.ino = st.st_ino;
	l->root.nlookup = 1;
	l->helper_pid = helper_pid;
	l->user_namespace = user_namespace;
	l->uid = geteuid();
	l->gid = getegid();
	*ret = l;
	return 0;
}

void cwd_layer_free(struct cwd_layer *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < LAYER_HASH_SIZE; i++)
		while (l->table[i]) {
			struct layer_inode *inode = l->table[i];
			l->table[i] = inode->next;
			close(inode->fd);
			free(inode);
		}
	while (l->entries) {
		struct view_entry *e = l->entries;
		l->entries = e->next;
		free(e->inode);
		free(e->name);
		free(e);
	}
	close(l->root.fd);
	pthread_mutex_destroy(&l->lock);
	free(l);
}
