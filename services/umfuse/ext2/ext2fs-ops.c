/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The FUSE low-level operations. FUSE node ids are ext2 inode numbers,
 * except that the FUSE root (1) is ext2's root (2). Every operation takes
 * m->lock around libext2fs. This process is the only writer of the image,
 * so entries and attributes are cached by the kernel with long timeouts:
 * every change goes through an operation whose reply (or the kernel's own
 * invalidation after it) keeps those caches right. */
#include "ext2fs.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/statvfs.h>
#include <linux/fs.h>

#define E2_FMODE_EXEC 0x20	/* __FMODE_EXEC: open() on behalf of execve() */

struct e2_mount *e2_mount_of(fuse_req_t req)
{
	return fuse_req_userdata(req);
}

ext2_ino_t e2_ino_of(fuse_ino_t node)
{
	if (node == FUSE_ROOT_ID)
		return EXT2_ROOT_INO;
	if (node == EXT2_ROOT_INO || node > UINT32_MAX)
		return 0;	/* never handed out */
	return (ext2_ino_t)node;
}

fuse_ino_t e2_node_of(ext2_ino_t ino)
{
	return ino == EXT2_ROOT_INO ? FUSE_ROOT_ID : ino;
}

void e2_cred_init(struct e2_mount *m, fuse_req_t req, struct e2_cred *ret_cred)
{
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	struct e2_cred *c = ret_cred;

	memset(c, 0, sizeof(*c));
	c->uid = ctx->uid;
	c->gid = ctx->gid;
	c->req = req;
	if (!m->human) {
		c->privileged = c->omnipotent = true;
		return;
	}
	if (m->fixed_uid) {
		c->uid = m->uid;
		c->req = NULL;
		c->groups_loaded = true;	/* only the primary group */
	}
	if (m->fixed_gid || m->fixed_uid)
		c->gid = m->gid;
	c->privileged = c->uid == 0;
}

/* ---- small helpers (m->lock held) ---- */

static int e2_check_name(const char *name)
{
	size_t len = strlen(name);

	if (len == 0)
		return -ENOENT;
	if (len > EXT2_NAME_LEN)
		return -ENAMETOOLONG;
	if (strchr(name, '/'))
		return -EINVAL;
	return 0;
}

static bool e2_is_dotdot(const char *name, size_t len)
{
	return (len == 1 && name[0] == '.') || (len == 2 && name[0] == '.' && name[1] == '.');
}

struct e2_fill_ctx {
	struct e2_mount *m;
	ext2_ino_t dir;
	int err;
};

static int e2_fill_cb(ext2_ino_t dir, int entry, struct ext2_dir_entry *dirent, int offset,
		      int blocksize, char *buf, void *priv)
{
	struct e2_fill_ctx *c = priv;
	size_t len = ext2fs_dirent_name_len(dirent);

	(void)dir, (void)entry, (void)offset, (void)blocksize, (void)buf;
	if (e2_is_dotdot(dirent->name, len))
		return 0;
	c->err = dircache_fill(c->m->dircache, c->dir, dirent->name, len, dirent->inode,
			       (uint8_t)ext2fs_dirent_file_type(dirent));
	return c->err ? DIRENT_ABORT : 0;
}

/* Find `name` in directory `dir` (whose inode the caller has checked). */
static int e2_dir_lookup(struct e2_mount *m, ext2_ino_t dir, const char *name,
			 ext2_ino_t *ret_ino)
{
	size_t len = strlen(name);
	struct e2_fill_ctx c = { .m = m, .dir = dir };
	uint32_t ino = 0;
	errcode_t err;
	int r;

	if (e2_is_dotdot(name, len)) {
		err = ext2fs_lookup(m->fs, dir, name, (int)len, NULL, &ino);
		if (err)
			return e2_errno(err);
		*ret_ino = ino;
		return 0;
	}
	r = dircache_lookup(m->dircache, dir, name, len, &ino, NULL);
	if (r == -ENOENT) {
		r = dircache_begin(m->dircache, dir);
		if (r == 0) {
			err = ext2fs_dir_iterate2(m->fs, dir, 0, NULL, e2_fill_cb, &c);
			if (err || c.err) {
				dircache_abort(m->dircache, dir);
				if (err)
					return e2_errno(err);
				r = -ENOENT;	/* cache full: scan instead */
			} else {
				dircache_commit(m->dircache, dir);
				r = dircache_lookup(m->dircache, dir, name, len, &ino, NULL);
			}
		}
	}
	if (r == 1) {
		*ret_ino = ino;
		return 0;
	}
	if (r == 0)
		return -ENOENT;
	err = ext2fs_lookup(m->fs, dir, name, (int)len, NULL, &ino);
	if (err)
		return e2_errno(err);
	*ret_ino = ino;
	return 0;
}

static int e2_read_dir(struct e2_mount *m, ext2_ino_t ino, struct ext2_inode_large *ret_inode)
{
	int r = e2_read_inode(m, ino, ret_inode);

	if (r < 0)
		return r;
	if (!LINUX_S_ISDIR(ret_inode->i_mode))
		return -ENOTDIR;
	if (ret_inode->i_links_count == 0)
		return -ENOENT;		/* removed while still referenced */
	return 0;
}

/* An inode a directory entry points to must be alive. */
static int e2_read_child(struct e2_mount *m, ext2_ino_t ino, struct ext2_inode_large *ret_inode)
{
	int r;

	if (!e2_valid_ino(m, ino))
		return -E2_EFSCORRUPTED;
	r = e2_read_inode(m, ino, ret_inode);
	if (r < 0)
		return r;
	if (ret_inode->i_links_count == 0 && !e2_openfile_is_open(m->open, ino))
		return -E2_EFSCORRUPTED;	/* deleted inode referenced */
	if ((ret_inode->i_mode & S_IFMT) == 0)
		return -E2_EFSCORRUPTED;
	return 0;
}

static void e2_fill_entry(struct e2_mount *m, ext2_ino_t ino, const struct ext2_inode_large *inode,
			  struct fuse_entry_param *e)
{
	memset(e, 0, sizeof(*e));
	e->ino = e2_node_of(ino);
	e->generation = inode->i_generation;
	e2_inode_stat(m, ino, inode, &e->attr);
	e->attr_timeout = m->attr_timeout;
	e->entry_timeout = m->entry_timeout;
}

/* Add an entry to the last block of a linear (unindexed) directory, the
 * O(1) path that keeps creating many files in one directory linear rather
 * than quadratic (ext2fs_link scans every block). 1: done, 0: no room or
 * not applicable (the caller falls back), <0: error. */
static int e2_dir_link_tail(struct e2_mount *m, ext2_ino_t dir, const char *name, ext2_ino_t ino,
			    int ftype)
{
	ext2_filsys fs = m->fs;
	struct ext2_inode_large d;
	_cleanup_free_ char *buf = NULL;
	unsigned bs = fs->blocksize, end, off = 0;
	size_t len = strlen(name);
	unsigned need = EXT2_DIR_REC_LEN(len);
	blk64_t nblocks, pblk = 0;
	errcode_t err;

	if (e2_read_inode(m, dir, &d) < 0)
		return 0;
	if (d.i_flags & (EXT2_INDEX_FL | EXT4_INLINE_DATA_FL))
		return 0;
	nblocks = EXT2_I_SIZE(&d) / bs;
	if (nblocks == 0 || EXT2_I_SIZE(&d) % bs)
		return 0;
	err = ext2fs_bmap2(fs, dir, (struct ext2_inode *)&d, NULL, 0, nblocks - 1, NULL, &pblk);
	if (err || pblk == 0)
		return 0;
	buf = malloc(bs);
	if (!buf)
		return -ENOMEM;
	if (ext2fs_read_dir_block4(fs, pblk, buf, 0, dir))
		return 0;
	end = bs - (ext2fs_has_feature_metadata_csum(fs->super) ?
		    sizeof(struct ext2_dir_entry_tail) : 0);
	while (off < end) {
		struct ext2_dir_entry *de = (struct ext2_dir_entry *)(buf + off);
		unsigned rec_len, used;

		if (ext2fs_get_rec_len(fs, de, &rec_len) || rec_len < 8 || rec_len % 4 ||
		    off + rec_len > end)
			return 0;	/* let libext2fs deal with (and report) it */
		used = de->inode ? EXT2_DIR_REC_LEN(ext2fs_dirent_name_len(de)) : 0;
		if (rec_len >= used + need) {
			struct ext2_dir_entry *ne = de;

			if (used) {
				ext2fs_set_rec_len(fs, used, de);
				ne = (struct ext2_dir_entry *)(buf + off + used);
			}
			ext2fs_set_rec_len(fs, rec_len - used, ne);
			ne->inode = ino;
			ext2fs_dirent_set_name_len(ne, (int)len);
			ext2fs_dirent_set_file_type(ne, ext2fs_has_feature_filetype(fs->super) ?
						    ftype : 0);
			memcpy(ne->name, name, len);
			err = ext2fs_write_dir_block4(fs, pblk, buf, 0, dir);
			return err ? e2_errno(err) : 1;
		}
		off += rec_len;
	}
	return 0;
}

/* Link `ino` into `dir` under `name`, growing the directory if needed. */
static int e2_dir_link(struct e2_mount *m, ext2_ino_t dir, const char *name, ext2_ino_t ino,
		       int ftype)
{
	struct ext2_inode_large d;
	errcode_t err;
	int r;

	r = e2_dir_link_tail(m, dir, name, ino, ftype);
	if (r == 0 && e2_read_inode(m, dir, &d) == 0 &&
	    !(d.i_flags & (EXT2_INDEX_FL | EXT4_INLINE_DATA_FL)) &&
	    EXT2_I_SIZE(&d) >= 16 * (uint64_t)m->fs->blocksize) {
		/* a big linear directory with a full last block: grow it
		 * rather than scan it all for a hole */
		err = ext2fs_expand_dir(m->fs, dir);
		if (err) {
			dircache_drop(m->dircache, dir);
			return e2_errno(err);
		}
		r = e2_dir_link_tail(m, dir, name, ino, ftype);
	}
	if (r < 0) {
		dircache_drop(m->dircache, dir);
		return r;
	}
	if (r == 1) {
		dircache_add(m->dircache, dir, name, strlen(name), ino, (uint8_t)ftype);
		return 0;
	}

	err = ext2fs_link(m->fs, dir, name, ino, ftype);
	if (err == EXT2_ET_DIR_NO_SPACE) {
		r = e2_read_inode(m, dir, &d);
		if (r < 0)
			return r;
		if (d.i_flags & EXT2_INDEX_FL)
			return -ENOSPC;		/* the htree is full */
		err = ext2fs_expand_dir(m->fs, dir);
		if (!err)
			err = ext2fs_link(m->fs, dir, name, ino, ftype);
	}
	if (err) {
		dircache_drop(m->dircache, dir);
		return e2_errno(err);
	}
	dircache_add(m->dircache, dir, name, strlen(name), ino, (uint8_t)ftype);
	return 0;
}

static int e2_dir_unlink(struct e2_mount *m, ext2_ino_t dir, const char *name, ext2_ino_t ino)
{
	errcode_t err = ext2fs_unlink(m->fs, dir, name, ino, 0);

	if (err) {
		dircache_drop(m->dircache, dir);
		return e2_errno(err);
	}
	dircache_remove(m->dircache, dir, name, strlen(name));
	return 0;
}

struct e2_set_entry {
	const char *name;
	size_t len;
	ext2_ino_t ino;
	int ftype;
	bool done;
};

static int e2_set_entry_cb(ext2_ino_t dir, int entry, struct ext2_dir_entry *dirent, int offset,
			   int blocksize, char *buf, void *priv)
{
	struct e2_set_entry *s = priv;

	(void)dir, (void)entry, (void)offset, (void)blocksize, (void)buf;
	if (ext2fs_dirent_name_len(dirent) != (int)s->len || memcmp(dirent->name, s->name, s->len))
		return 0;
	dirent->inode = s->ino;
	if (s->ftype >= 0)
		ext2fs_dirent_set_file_type(dirent, s->ftype);
	s->done = true;
	return DIRENT_CHANGED | DIRENT_ABORT;
}

/* Point an existing entry at another inode (rename over, exchange, ".."). */
static int e2_dir_set_entry(struct e2_mount *m, ext2_ino_t dir, const char *name, ext2_ino_t ino,
			    int ftype)
{
	struct e2_set_entry s = { name, strlen(name), ino,
				  ext2fs_has_feature_filetype(m->fs->super) ? ftype : -1, false };
	errcode_t err;

	err = ext2fs_dir_iterate2(m->fs, dir, 0, NULL, e2_set_entry_cb, &s);
	if (err || !s.done) {
		dircache_drop(m->dircache, dir);
		return err ? e2_errno(err) : -E2_EFSCORRUPTED;
	}
	if (!e2_is_dotdot(name, s.len)) {
		dircache_remove(m->dircache, dir, name, s.len);
		dircache_add(m->dircache, dir, name, s.len, ino, (uint8_t)ftype);
	}
	return 0;
}

/* Directory link counts as ext4 keeps them (dir_nlink: 1 means "many"). */
static bool e2_is_dx(const struct ext2_inode_large *dir)
{
	return dir->i_flags & EXT2_INDEX_FL;
}

static int e2_dir_inc_links(struct e2_mount *m, ext2_ino_t dir, bool check_only)
{
	struct ext2_inode_large d;
	int r = e2_read_inode(m, dir, &d);

	if (r < 0)
		return r;
	if (d.i_links_count >= E2_LINK_MAX &&
	    !(ext2fs_has_feature_dir_nlink(m->fs->super) && e2_is_dx(&d)))
		return -EMLINK;
	if (check_only)
		return 0;
	if (d.i_links_count != 1)
		d.i_links_count++;
	if (e2_is_dx(&d) && ext2fs_has_feature_dir_nlink(m->fs->super) &&
	    (d.i_links_count > E2_LINK_MAX || d.i_links_count == 2))
		d.i_links_count = 1;
	return e2_write_inode(m, dir, &d);
}

static int e2_dir_dec_links(struct e2_mount *m, ext2_ino_t dir)
{
	struct ext2_inode_large d;
	int r = e2_read_inode(m, dir, &d);

	if (r < 0)
		return r;
	if (d.i_links_count > 2)
		d.i_links_count--;
	return e2_write_inode(m, dir, &d);
}

static int e2_dir_touch(struct e2_mount *m, ext2_ino_t dir)
{
	struct ext2_inode_large d;
	int r = e2_read_inode(m, dir, &d);

	if (r < 0)
		return r;
	e2_inode_touch(&d, true);
	return e2_write_inode(m, dir, &d);
}

struct e2_empty {
	bool empty;
	ext2_ino_t dotdot;
};

static int e2_empty_cb(ext2_ino_t dir, int entry, struct ext2_dir_entry *dirent, int offset,
		       int blocksize, char *buf, void *priv)
{
	struct e2_empty *e = priv;
	size_t len = ext2fs_dirent_name_len(dirent);

	(void)dir, (void)entry, (void)offset, (void)blocksize, (void)buf;
	if (len == 2 && dirent->name[0] == '.' && dirent->name[1] == '.') {
		e->dotdot = dirent->inode;
		return 0;
	}
	if (len == 1 && dirent->name[0] == '.')
		return 0;
	e->empty = false;
	return DIRENT_ABORT;
}

static int e2_dir_is_empty(struct e2_mount *m, ext2_ino_t dir)
{
	struct e2_empty e = { true, 0 };
	errcode_t err = ext2fs_dir_iterate2(m->fs, dir, 0, NULL, e2_empty_cb, &e);

	if (err)
		return e2_errno(err);
	return e.empty ? 1 : 0;
}

/* Is `ino` `anc` or below it? Walks ".." up to the root. */
static int e2_is_ancestor(struct e2_mount *m, ext2_ino_t anc, ext2_ino_t ino)
{
	for (unsigned depth = 0; depth < 4096; depth++) {
		ext2_ino_t up;
		errcode_t err;

		if (ino == anc)
			return 1;
		if (ino == EXT2_ROOT_INO)
			return 0;
		err = ext2fs_lookup(m->fs, ino, "..", 2, NULL, &up);
		if (err)
			return e2_errno(err);
		ino = up;
	}
	return -E2_EFSCORRUPTED;	/* a ".." loop */
}

/* Is a relatime atime update due? */
static bool e2_atime_due(const struct ext2_inode_large *inode)
{
	struct timespec a, mt, c, now;

	e2_inode_get_time(inode, E2_ATIME, &a);
	e2_inode_get_time(inode, E2_MTIME, &mt);
	e2_inode_get_time(inode, E2_CTIME, &c);
	clock_gettime(CLOCK_REALTIME, &now);
	if (a.tv_sec < mt.tv_sec || (a.tv_sec == mt.tv_sec && a.tv_nsec <= mt.tv_nsec))
		return true;
	if (a.tv_sec < c.tv_sec || (a.tv_sec == c.tv_sec && a.tv_nsec <= c.tv_nsec))
		return true;
	return now.tv_sec - a.tv_sec >= 24 * 3600;
}

static void e2_update_atime(struct e2_mount *m, ext2_ino_t ino, struct ext2_inode_large *inode)
{
	struct timespec now;

	if (!m->rw || (inode->i_flags & EXT2_NOATIME_FL) || !e2_atime_due(inode))
		return;
	clock_gettime(CLOCK_REALTIME, &now);
	e2_inode_set_time(inode, E2_ATIME, &now);
	e2_write_inode(m, ino, inode);
}

/* ---- lookup / getattr / setattr ---- */

static void e2_op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct e2_mount *m = e2_mount_of(req);
	struct ext2_inode_large dir, inode;
	struct fuse_entry_param e;
	struct e2_cred cred;
	ext2_ino_t ino = 0;
	int r;

	if (strlen(name) > EXT2_NAME_LEN) {
		fuse_reply_err(req, ENAMETOOLONG);
		return;
	}
	e2_cred_init(m, req, &cred);
	pthread_mutex_lock(&m->lock);
	r = e2_read_dir(m, e2_ino_of(parent), &dir);
	if (r == 0)
		r = e2_access(m, &cred, e2_ino_of(parent), &dir, E2_MAY_EXEC);
	if (r == 0)
		r = e2_dir_lookup(m, e2_ino_of(parent), name, &ino);
	if (r == 0)
		r = e2_read_child(m, ino, &inode);
	if (r == 0)
		e2_fill_entry(m, ino, &inode, &e);
	pthread_mutex_unlock(&m->lock);
	if (r == -ENOENT && m->entry_timeout > 0) {
		memset(&e, 0, sizeof(e));	/* a negative entry, cached too */
		e.entry_timeout = m->entry_timeout;
		fuse_reply_entry(req, &e);
	} else if (r < 0) {
		fuse_reply_err(req, -r);
	} else {
		fuse_reply_entry(req, &e);
	}
}

static void e2_op_getattr(fuse_req_t req, fuse_ino_t node, struct fuse_file_info *fi)
{
	struct e2_mount *m = e2_mount_of(req);
	struct ext2_inode_large inode;
	struct stat st;
	ext2_ino_t ino = e2_ino_of(node);
	int r;

	(void)fi;
	pthread_mutex_lock(&m->lock);
	r = e2_read_inode(m, ino, &inode);
	if (r == 0)
		e2_inode_stat(m, ino, &inode, &st);
	pthread_mutex_unlock(&m->lock);
	if (r < 0)
		fuse_reply_err(req, -r);
	else
		fuse_reply_attr(req, &st, m->attr_timeout);
}

static int e2_setattr_locked(struct e2_mount *m, struct e2_cred *cred, ext2_ino_t ino,
			     const struct stat *attr, int to_set, bool with_fh,
			     struct stat *ret_st)
{
	struct ext2_inode_large inode;
	mode_t mode, kill = 0;
	bool acl_chmod = false;
	int r;

	r = e2_read_inode(m, ino, &inode);
	if (r < 0)
		return r;
	if (!m->rw)
		return -EROFS;
	mode = inode.i_mode;

	/* permission checks first, then changes */
	if ((to_set & (FUSE_SET_ATTR_MODE | FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID |
		       FUSE_SET_ATTR_SIZE | FUSE_SET_ATTR_ATIME | FUSE_SET_ATTR_MTIME)) &&
	    (inode.i_flags & (EXT2_IMMUTABLE_FL | EXT2_APPEND_FL)))
		return -EPERM;
	if (m->human) {
		if (to_set & (FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID)) {
			r = e2_perm_chown(cred, e2_inode_uid(&inode), e2_inode_gid(&inode),
					  (to_set & FUSE_SET_ATTR_UID) ? attr->st_uid : (uid_t)-1,
					  (to_set & FUSE_SET_ATTR_GID) ? attr->st_gid : (gid_t)-1);
			if (r < 0)
				return r;
		}
		if (to_set & FUSE_SET_ATTR_MODE) {
			gid_t g = (to_set & FUSE_SET_ATTR_GID) ? attr->st_gid : e2_inode_gid(&inode);
			mode_t old = inode.i_mode & 07777, new = attr->st_mode & 07777;

			/* Only dropping SUID/SGID is how the kernel kills privileges
			 * after a write by someone else (libfuse 3.14 never agrees
			 * to FUSE_HANDLE_KILLPRIV): harmless, allowed to anybody. */
			if ((new | S_ISUID | S_ISGID) == (old | S_ISUID | S_ISGID) && (new & ~old) == 0)
				mode = new;
			else
				r = e2_perm_chmod(cred, e2_inode_uid(&inode), g, attr->st_mode, &mode);
			if (r < 0)
				return r;
		}
		if ((to_set & FUSE_SET_ATTR_SIZE) && !with_fh) {
			r = e2_access(m, cred, ino, &inode, E2_MAY_WRITE);
			if (r < 0)
				return r;
		}
		if (to_set & (FUSE_SET_ATTR_ATIME | FUSE_SET_ATTR_MTIME)) {
			bool touch = (!(to_set & FUSE_SET_ATTR_ATIME) ||
				      (to_set & FUSE_SET_ATTR_ATIME_NOW)) &&
				     (!(to_set & FUSE_SET_ATTR_MTIME) ||
				      (to_set & FUSE_SET_ATTR_MTIME_NOW));

			if (!e2_perm_owner_or_cap(cred, e2_inode_uid(&inode))) {
				if (!touch)
					return -EPERM;
				r = e2_access(m, cred, ino, &inode, E2_MAY_WRITE);
				if (r < 0)
					return r;
			}
		}
	} else if (to_set & FUSE_SET_ATTR_MODE) {
		mode = attr->st_mode;
	}

	if (to_set & FUSE_SET_ATTR_SIZE) {
		uint64_t size = (uint64_t)attr->st_size;

		if (LINUX_S_ISDIR(inode.i_mode))
			return -EISDIR;
		if (!LINUX_S_ISREG(inode.i_mode))
			return -EINVAL;
		if (attr->st_size < 0)
			return -EINVAL;
		if (size > e2_max_size(m, &inode))
			return -EFBIG;
		if (size > EXT2_I_SIZE(&inode) &&
		    !e2_can_allocate(m, cred, 0))
			return -ENOSPC;
		if (size != EXT2_I_SIZE(&inode)) {
			r = e2_inode_truncate(m, ino, size);
			if (r < 0)
				return r;
			r = e2_read_inode(m, ino, &inode);
			if (r < 0)
				return r;
			e2_inode_touch(&inode, true);
			kill |= e2_perm_killpriv(cred, inode.i_mode);
		}
	}
	if (to_set & FUSE_SET_ATTR_MODE) {
		inode.i_mode = (uint16_t)((inode.i_mode & S_IFMT) | (mode & 07777));
		acl_chmod = !LINUX_S_ISLNK(inode.i_mode);
	}
	if (to_set & (FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID)) {
		if (to_set & FUSE_SET_ATTR_UID)
			e2_inode_set_uid(&inode, attr->st_uid);
		if (to_set & FUSE_SET_ATTR_GID)
			e2_inode_set_gid(&inode, attr->st_gid);
		/* chown clears SUID, and SGID of group-executable files */
		if (!LINUX_S_ISDIR(inode.i_mode) && !(to_set & FUSE_SET_ATTR_MODE)) {
			kill |= inode.i_mode & S_ISUID;
			if ((inode.i_mode & (S_ISGID | S_IXGRP)) == (S_ISGID | S_IXGRP))
				kill |= S_ISGID;
		}
	}
	inode.i_mode &= (uint16_t)~kill;
	if (to_set & FUSE_SET_ATTR_ATIME) {
		struct timespec ts = attr->st_atim;

		if (to_set & FUSE_SET_ATTR_ATIME_NOW)
			clock_gettime(CLOCK_REALTIME, &ts);
		e2_inode_set_time(&inode, E2_ATIME, &ts);
	}
	if (to_set & FUSE_SET_ATTR_MTIME) {
		struct timespec ts = attr->st_mtim;

		if (to_set & FUSE_SET_ATTR_MTIME_NOW)
			clock_gettime(CLOCK_REALTIME, &ts);
		e2_inode_set_time(&inode, E2_MTIME, &ts);
	}
	e2_inode_touch(&inode, false);
	if (to_set & FUSE_SET_ATTR_CTIME)
		e2_inode_set_time(&inode, E2_CTIME, &attr->st_ctim);
	r = e2_write_inode(m, ino, &inode);
	if (r < 0)
		return r;

	/* chmod also rewrites the access ACL's owner/group/other entries */
	if (acl_chmod && e2_inode_may_have_xattrs(m, ino, &inode)) {
		_cleanup_free_ struct e2_acl *acl = malloc(sizeof(*acl));

		if (!acl)
			return -ENOMEM;
		r = e2_xattr_get_acl(m, ino, E2_ACL_ACCESS, acl);
		if (r == 0) {
			e2_acl_chmod(acl, inode.i_mode);
			r = e2_xattr_set_acl(m, ino, E2_ACL_ACCESS, acl);
			if (r < 0)
				return r;
			r = e2_read_inode(m, ino, &inode);
			if (r < 0)
				return r;
		}
	}
	e2_inode_stat(m, ino, &inode, ret_st);
	return 0;
}

static void e2_op_setattr(fuse_req_t req, fuse_ino_t node, struct stat *attr, int to_set,
			  struct fuse_file_info *fi)
{
	struct e2_mount *m = e2_mount_of(req);
	struct e2_cred cred;
	struct stat st;
	int r;

	e2_cred_init(m, req, &cred);
	pthread_mutex_lock(&m->lock);
	r = e2_setattr_locked(m, &cred, e2_ino_of(node), attr, to_set, fi != NULL, &st);
	pthread_mutex_unlock(&m->lock);
	if (r < 0)
		fuse_reply_err(req, -r);
	else
		fuse_reply_attr(req, &st, m->attr_timeout);
}

static int e2_readlink_locked(struct e2_mount *m, ext2_ino_t ino, char *buf, size_t size)
{
	struct ext2_inode_large inode;
	uint64_t len;
	int r;

	r = e2_read_inode(m, ino, &inode);
	if (r < 0)
		return r;
	if (!LINUX_S_ISLNK(inode.i_mode))
		return -EINVAL;
	len = EXT2_I_SIZE(&inode);
	if (len == 0 || len >= size || len >= m->fs->blocksize)
		return -E2_EFSCORRUPTED;
	if (inode.i_flags & EXT4_INLINE_DATA_FL) {
		size_t got = size - 1;
		errcode_t err = ext2fs_inline_data_get(m->fs, ino, (struct ext2_inode *)&inode,
						       buf, &got);

		if (err)
			return e2_errno(err);
		if (got < len)
			return -E2_EFSCORRUPTED;
	} else if (ext2fs_is_fast_symlink((struct ext2_inode *)&inode)) {
		if (len >= sizeof(inode.i_block))
			return -E2_EFSCORRUPTED;
		memcpy(buf, inode.i_block, len);
	} else {
		ext2_file_t file;
		unsigned got = 0;
		errcode_t err, err2;

		err = ext2fs_file_open2(m->fs, ino, (struct ext2_inode *)&inode, 0, &file);
		if (err)
			return e2_errno(err);
		err = ext2fs_file_read(file, buf, (unsigned)len, &got);
		err2 = ext2fs_file_close(file);
		if (err || err2)
			return e2_errno(err ? err : err2);
		if (got != len)
			return -E2_EFSCORRUPTED;
	}
	buf[len] = 0;
	return 0;
}

static void e2_op_readlink(fuse_req_t req, fuse_ino_t node)
{
	struct e2_mount *m = e2_mount_of(req);
	char buf[PATH_MAX + 1];
	int r;

	pthread_mutex_lock(&m->lock);
	r = e2_readlink_locked(m, e2_ino_of(node), buf, sizeof(buf));
	pthread_mutex_unlock(&m->lock);
	if (r < 0)
		fuse_reply_err(req, -r);
	else
		fuse_reply_readlink(req, buf);
}

/* ---- creating entries ---- */

struct e2_new {
	ext2_ino_t parent;
	struct ext2_inode_large dir;
	uid_t uid;
	gid_t gid;
	mode_t mode;
	bool has_default_acl;
	struct e2_acl *default_acl;	/* inherited from the parent */
	struct e2_acl *access_acl;	/* for the child, NULL if equivalent to mode */
};

static void e2_new_done(struct e2_new *n)
{
	free(n->default_acl);
	free(n->access_acl);
}

/* Common checks and owner/mode computation for mknod/mkdir/symlink/create/
 * link: the parent is a live directory we may write, the name is free. */
static int e2_new_prepare(struct e2_mount *m, struct e2_cred *cred, fuse_ino_t parent,
			  const char *name, mode_t mode, mode_t umask, struct e2_new *n)
{
	ext2_ino_t existing;
	int r;

	memset(n, 0, sizeof(*n));
	r = e2_check_name(name);
	if (r < 0)
		return r;
	n->parent = e2_ino_of(parent);
	r = e2_read_dir(m, n->parent, &n->dir);
	if (r < 0)
		return r;
	r = e2_access(m, cred, n->parent, &n->dir, E2_MAY_WRITE | E2_MAY_EXEC);
	if (r < 0)
		return r;
	r = e2_dir_lookup(m, n->parent, name, &existing);
	if (r == 0)
		return -EEXIST;
	if (r != -ENOENT)
		return r;
	if (!m->rw)
		return -EROFS;
	if (!e2_can_allocate(m, cred, 1))
		return -ENOSPC;

	n->uid = cred->uid;
	n->gid = cred->gid;
	if (n->dir.i_mode & S_ISGID) {
		n->gid = e2_inode_gid(&n->dir);
		if (S_ISDIR(mode))
			mode |= S_ISGID;
	}
	if (!S_ISDIR(mode) && (mode & (S_ISGID | S_IXGRP)) == (S_ISGID | S_IXGRP) &&
	    !cred->privileged && !e2_cred_in_group(cred, n->gid))
		mode &= ~(mode_t)S_ISGID;

	/* POSIX ACL inheritance replaces the umask (posix_acl_create) */
	if (!S_ISLNK(mode)) {
		n->default_acl = malloc(sizeof(*n->default_acl));
		if (!n->default_acl)
			return -ENOMEM;
		r = e2_acl_inherit(m, n->parent, &n->has_default_acl, n->default_acl);
		if (r < 0)
			return r;
	}
	if (n->has_default_acl) {
		n->access_acl = malloc(sizeof(*n->access_acl));
		if (!n->access_acl)
			return -ENOMEM;
		*n->access_acl = *n->default_acl;
		e2_acl_create_masq(n->access_acl, &mode);
		mode_t dummy = mode;
		if (e2_acl_equiv_mode(n->access_acl, &dummy)) {
			free(n->access_acl);
			n->access_acl = NULL;
		}
		if (!S_ISDIR(mode)) {
			free(n->default_acl);
			n->default_acl = NULL;
			n->has_default_acl = false;
		}
	} else if (!S_ISLNK(mode)) {
		mode &= ~umask;
	}
	n->mode = mode;
	return 0;
}

static int e2_new_acls(struct e2_mount *m, ext2_ino_t ino, struct e2_new *n)
{
	int r;

	if (n->access_acl) {
		r = e2_xattr_set_acl(m, ino, E2_ACL_ACCESS, n->access_acl);
		if (r < 0)
			return r;
	}
	if (n->has_default_acl && n->default_acl) {
		r = e2_xattr_set_acl(m, ino, E2_ACL_DEFAULT, n->default_acl);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Undo a half-made inode: no links, blocks and bitmap bit released. */
static void e2_new_undo(struct e2_mount *m, ext2_ino_t ino)
{
	struct ext2_inode_large inode;

	if (e2_read_inode(m, ino, &inode) < 0)
		return;
	inode.i_links_count = 0;
	if (e2_write_inode(m, ino, &inode) == 0)
		e2_inode_free(m, ino);
}

static int e2_mknod_locked(struct e2_mount *m, struct e2_cred *cred, fuse_ino_t parent,
			   const char *name, mode_t mode, dev_t rdev, mode_t umask,
			   struct fuse_entry_param *ret_e)
{
	struct ext2_inode_large inode;
	struct e2_new n;
	ext2_ino_t ino;
	int r;

	r = e2_new_prepare(m, cred, parent, name, mode, umask, &n);
	if (r < 0)
		goto out;
	r = e2_inode_new(m, n.parent, n.mode, n.uid, n.gid, rdev, &ino);
	if (r < 0)
		goto out;
	r = e2_new_acls(m, ino, &n);
	if (r == 0)
		r = e2_dir_link(m, n.parent, name, ino, e2_ftype(n.mode));
	if (r < 0) {
		e2_new_undo(m, ino);
		goto out;
	}
	r = e2_dir_touch(m, n.parent);
	if (r == 0)
		r = e2_read_inode(m, ino, &inode);
	if (r == 0)
		e2_fill_entry(m, ino, &inode, ret_e);
out:
	e2_new_done(&n);
	return r;
}

static void e2_op_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
			dev_t rdev)
{
	struct e2_mount *m = e2_mount_of(req);
	struct fuse_entry_param e;
	struct e2_cred cred;
	int r;

	switch (mode & S_IFMT) {
	case S_IFREG: case S_IFCHR: case S_IFBLK: case S_IFIFO: case S_IFSOCK:
		break;
	default:
		fuse_reply_err(req, EINVAL);
		return;
	}
	e2_cred_init(m, req, &cred);
	pthread_mutex_lock(&m->lock);
	r = e2_mknod_locked(m, &cred, parent, name, mode, rdev, fuse_req_ctx(req)->umask, &e);
	pthread_mutex_unlock(&m->lock);
	if (r < 0)
		fuse_reply_err(req, -r);
	else
		fuse_reply_entry(req, &e);
}

static int e2_mkdir_locked(struct e2_mount *m, struct e2_cred *cred, fuse_ino_t parent,
			   const char *name, mode_t mode, mode_t umask,
			   struct fuse_entry_param *ret_e)
{
	ext2_filsys fs = m->fs;
	struct ext2_inode_large inode;
	struct timespec now;
	struct e2_new n;
	ext2_ino_t ino;
	errcode_t err;
	int r;

	r = e2_new_prepare(m, cred, parent, name, S_IFDIR | (mode & 07777), umask, &n);
	if (r < 0)
		goto out;
	r = e2_dir_inc_links(m, n.parent, true);
	if (r < 0)
		goto out;
	err = ext2fs_new_inode(fs, n.parent, LINUX_S_IFDIR | 0755, NULL, &ino);
	if (!err)
		err = ext2fs_mkdir(fs, n.parent, ino, NULL);	/* counts parent's link */
	if (err) {
		r = e2_errno(err);
		goto out;
	}
	r = e2_read_inode(m, ino, &inode);
	if (r < 0)
		goto undo;
	clock_gettime(CLOCK_REALTIME, &now);
	inode.i_mode = (uint16_t)n.mode;
	e2_inode_set_uid(&inode, n.uid);
	e2_inode_set_gid(&inode, n.gid);
	inode.i_generation = m->next_generation++;
	e2_inode_set_time(&inode, E2_ATIME, &now);
	e2_inode_set_time(&inode, E2_MTIME, &now);
	e2_inode_set_time(&inode, E2_CTIME, &now);
	e2_inode_set_time(&inode, E2_CRTIME, &now);
	r = e2_write_inode(m, ino, &inode);
	if (r < 0)
		goto undo;
	/* the directory block's checksum covers the generation: rewrite it */
	if (!(inode.i_flags & EXT4_INLINE_DATA_FL) && ext2fs_has_feature_metadata_csum(fs->super)) {
		char *block = NULL;
		blk64_t blk;

		err = ext2fs_new_dir_block(fs, ino, n.parent, &block);
		if (!err)
			err = ext2fs_bmap2(fs, ino, (struct ext2_inode *)&inode, NULL, 0, 0, NULL,
					   &blk);
		if (!err)
			err = ext2fs_write_dir_block4(fs, blk, block, 0, ino);
		ext2fs_free_mem(&block);
		if (err) {
			r = e2_errno(err);
			goto undo;
		}
	}
	r = e2_new_acls(m, ino, &n);
	if (r < 0)
		goto undo;
	r = e2_dir_link(m, n.parent, name, ino, EXT2_FT_DIR);
	if (r < 0)
		goto undo;
	/* ext2fs_mkdir did links++; apply ext4's dir_nlink rule on top */
	{
		struct ext2_inode_large d;

		r = e2_read_inode(m, n.parent, &d);
		if (r < 0)
			goto out;
		if (e2_is_dx(&d) && ext2fs_has_feature_dir_nlink(fs->super) &&
		    (d.i_links_count > E2_LINK_MAX || d.i_links_count == 2))
			d.i_links_count = 1;
		e2_inode_touch(&d, true);
		r = e2_write_inode(m, n.parent, &d);
		if (r < 0)
			goto out;
	}
	r = e2_read_inode(m, ino, &inode);
	if (r == 0)
		e2_fill_entry(m, ino, &inode, ret_e);
	goto out;
undo:
	e2_dir_dec_links(m, n.parent);
	e2_new_undo(m, ino);
out:
	e2_new_done(&n);
	return r;
}

static void e2_op_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode)
{
	struct e2_mount *m = e2_mount_of(req);
	struct fuse_entry_param e;
	struct e2_cred cred;
	int r;

	e2_cred_init(m, req, &cred);
	pthread_mutex_lock(&m->lock);
	r = e2_mkdir_locked(m, &cred, parent, name, mode, fuse_req_ctx(req)->umask, &e);
	pthread_mutex_unlock(&m->lock);
	if (r < 0)
		fuse_reply_err(req, -r);
	else
		fuse_reply_entry(req, &e);
}

static int e2_symlink_locked(struct e2_mount *m, struct e2_cred *cred, const char *target,
			     fuse_ino_t parent, const char *name, struct fuse_entry_param *ret_e)
{
	struct ext2_inode_large inode;
	struct timespec now;
	struct e2_new n;
	ext2_ino_t ino;
	errcode_t err;
	size_t len = strlen(target);
	int r;

	if (len >= m->fs->blocksize || len >= PATH_MAX)
		return -ENAMETOOLONG;
	r = e2_new_prepare(m, cred, parent, name, S_IFLNK | 0777, 0, &n);
	if (r < 0)
		goto out;
	err = ext2fs_new_inode(m->fs, n.parent, LINUX_S_IFLNK | 0777, NULL, &ino);
	if (!err)
		err = ext2fs_symlink(m->fs, n.parent, ino, NULL, target);
	if (err) {
		r = e2_errno(err);
		goto out;
	}
	r = e2_read_inode(m, ino, &inode);
	if (r < 0)
		goto undo;
	clock_gettime(CLOCK_REALTIME, &now);
	e2_inode_set_uid(&inode, n.uid);
	e2_inode_set_gid(&inode, n.gid);
	inode.i_generation = m->next_generation++;
	e2_inode_set_time(&inode, E2_ATIME, &now);
	e2_inode_set_time(&inode, E2_MTIME, &now);
	e2_inode_set_time(&inode, E2_CTIME, &now);
	e2_inode_set_time(&inode, E2_CRTIME, &now);
	r = e2_write_inode(m, ino, &inode);
	if (r < 0)
		goto undo;
	r = e2_dir_link(m, n.parent, name, ino, EXT2_FT_SYMLINK);
	if (r < 0)
		goto undo;
	r = e2_dir_touch(m, n.parent);
	if (r == 0)
		e2_fill_entry(m, ino, &inode, ret_e);
	goto out;
undo:
	e2_new_undo(m, ino);
out:
	e2_new_done(&n);
	return r;
}

static void e2_op_symlink(fuse_req_t req, const char *target, fuse_ino_t parent,
			  const char *name)
{
	struct e2_mount *m = e2_mount_of(req);
	struct fuse_entry_param e;
	struct e2_cred cred;
	int r;

	e2_cred_init(m, req, &cred);
	pthread_mutex_lock(&m->lock);
	r = e2_symlink_locked(m, &cred, target, parent, name, &e);
	pthread_mutex_unlock(&m->lock);
	if (r < 0)
		fuse_reply_err(req, -r);
	else
		fuse_reply_entry(req, &e);
}

static int e2_link_locked(struct e2_mount *m, struct e2_cred *cred, ext2_ino_t ino,
			  fuse_ino_t newparent, const char *newname, struct fuse_entry_param *ret_e)
{
	struct ext2_inode_large inode;
	struct e2_new n;
	int r;

	r = e2_read_inode(m, ino, &inode);
	if (r < 0)
		return r;
	if (LINUX_S_ISDIR(inode.i_mode))
		return -EPERM;
	if (inode.i_flags & (EXT2_IMMUTABLE_FL | EXT2_APPEND_FL))
		return -EPERM;
	if (inode.i_links_count == 0)
		return -ENOENT;
	if (inode.i_links_count >= E2_LINK_MAX)
		return -EMLINK;
	r = e2_new_prepare(m, cred, newparent, newname, S_IFLNK, 0, &n);
	if (r < 0)
		goto out;
	r = e2_dir_link(m, n.parent, newname, ino, e2_ftype(inode.i_mode));
	if (r < 0)
		goto out;
	inode.i_links_count++;
	e2_inode_touch(&inode, false);
	r = e2_write_inode(m, ino, &inode);
	if (r == 0)
		r = e2_dir_touch(m, n.parent);
	if (r == 0)
		e2_fill_entry(m, ino, &inode, ret_e);
out:
	e2_new_done(&n);
	return r;
}

static void e2_op_link(fuse_req_t req, fuse_ino_t node, fuse_ino_t newparent, const char *newname)
{
	struct e2_mount *m = e2_mount_of(req);
	struct fuse_entry_param e;
	struct e2_cred cred;
	int r;

	e2_cred_init(m, req, &cred);
	pthread_mutex_lock(&m->lock);
	r = e2_link_locked(m, &cred, e2_ino_of(node), newparent, newname, &e);
	pthread_mutex_unlock(&m->lock);
	if (r < 0)
		fuse_reply_err(req, -r);
	else
		fuse_reply_entry(req, &e);
}

/* ---- removing and renaming ---- */

/* Look a child up for removal: the parent is a writable directory, the
 * sticky rule allows it. */
static int e2_victim(struct e2_mount *m, struct e2_cred *cred, ext2_ino_t parent,
		     const struct ext2_inode_large *dir, const char *name, ext2_ino_t *ret_ino,
		     struct ext2_inode_large *ret_inode)
{
	int r;

	if (strlen(name) > EXT2_NAME_LEN)
		return -ENAMETOOLONG;
	r = e2_access(m, cred, parent, dir, E2_MAY_WRITE | E2_MAY_EXEC);
	if (r < 0)
		return r;
	r = e2_dir_lookup(m, parent, name, ret_ino);
	if (r < 0)
		return r;
	r = e2_read_child(m, *ret_ino, ret_inode);
	if (r < 0)
		return r;
	if (m->human) {
		r = e2_perm_sticky(cred, dir->i_mode, e2_inode_uid(dir), e2_inode_uid(ret_inode));
		if (r < 0)
			return r;
	}
	if (ret_inode->i_flags & (EXT2_IMMUTABLE_FL | EXT2_APPEND_FL))
		return -EPERM;
	if (dir->i_flags & (EXT2_IMMUTABLE_FL | EXT2_APPEND_FL))
		return -EPERM;
	return 0;
}

static int e2_unlink_locked(struct e2_mount *m, struct e2_cred *cred, ext2_ino_t parent,
			    const char *name, bool rmdir)
{
	struct ext2_inode_large dir, inode;
	ext2_ino_t ino;
	int r;

	r = e2_read_dir(m, parent, &dir);
	if (r < 0)
		return r;
	r = e2_victim(m, cred, parent, &dir, name, &ino, &inode);
	if (r < 0)
		return r;
	if (!m->rw)
		return -EROFS;
	if (rmdir) {
		if (!LINUX_S_ISDIR(inode.i_mode))
			return -ENOTDIR;
		r = e2_dir_is_empty(m, ino);
		if (r < 0)
			return r;
		if (r == 0)
			return -ENOTEMPTY;
	} else if (LINUX_S_ISDIR(inode.i_mode)) {
		return -EISDIR;
	}
	r = e2_dir_unlink(m, parent, name, ino);
	if (r < 0)
		return r;
	if (rmdir) {
		dircache_drop(m->dircache, ino);
		r = e2_dir_dec_links(m, parent);
		if (r < 0)
			return r;
	}
	r = e2_dir_touch(m, parent);
	if (r < 0)
		return r;
	return e2_inode_unref(m, ino, rmdir);
}

static void e2_op_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct e2_mount *m = e2_mount_of(req);
	struct e2_cred cred;
	int r;

	e2_cred_init(m, req, &cred);
	pthread_mutex_lock(&m->lock);
	r = e2_unlink_locked(m, &cred, e2_ino_of(parent), name, false);
	pthread_mutex_unlock(&m->lock);
	fuse_reply_err(req, -r);
}

static void e2_op_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct e2_mount *m = e2_mount_of(req);
	struct e2_cred cred;
	int r;

	e2_cred_init(m, req, &cred);
	pthread_mutex_lock(&m->lock);
	r = e2_unlink_locked(m, &cred, e2_ino_of(parent), name, true);
	pthread_mutex_unlock(&m->lock);
	fuse_reply_err(req, -r);
}

static int e2_touch_ctime(struct e2_mount *m, ext2_ino_t ino)
{
	struct ext2_inode_large inode;
	int r = e2_read_inode(m, ino, &inode);

	if (r < 0)
		return r;
	e2_inode_touch(&inode, false);
	return e2_write_inode(m, ino, &inode);
}

static int e2_rename_locked(struct e2_mount *m, struct e2_cred *cred, ext2_ino_t sp,
			    const char *sname, ext2_ino_t dp, const char *dname, unsigned flags)
{
	struct ext2_inode_large sdir, ddir, src, dst;
	ext2_ino_t sino, dino = 0;
	bool sisdir, disdir = false;
	int r;

	if (flags & ~(unsigned)(RENAME_NOREPLACE | RENAME_EXCHANGE))
		return -EINVAL;
	if ((flags & RENAME_NOREPLACE) && (flags & RENAME_EXCHANGE))
		return -EINVAL;
	r = e2_check_name(dname);
	if (r < 0)
		return r;
	r = e2_read_dir(m, sp, &sdir);
	if (r < 0)
		return r;
	r = e2_read_dir(m, dp, &ddir);
	if (r < 0)
		return r;
	r = e2_victim(m, cred, sp, &sdir, sname, &sino, &src);
	if (r < 0)
		return r;
	sisdir = LINUX_S_ISDIR(src.i_mode);
	r = e2_access(m, cred, dp, &ddir, E2_MAY_WRITE | E2_MAY_EXEC);
	if (r < 0)
		return r;
	r = e2_dir_lookup(m, dp, dname, &dino);
	if (r == -ENOENT) {
		dino = 0;
		if (flags & RENAME_EXCHANGE)
			return -ENOENT;
	} else if (r < 0) {
		return r;
	} else {
		if (flags & RENAME_NOREPLACE)
			return -EEXIST;
		r = e2_victim(m, cred, dp, &ddir, dname, &dino, &dst);
		if (r < 0)
			return r;
		disdir = LINUX_S_ISDIR(dst.i_mode);
	}
	if (dino == sino)
		return 0;	/* hard links to the same inode: nothing to do */
	if (!m->rw)
		return -EROFS;

	if (!(flags & RENAME_EXCHANGE) && dino) {
		if (sisdir && !disdir)
			return -ENOTDIR;
		if (!sisdir && disdir)
			return -EISDIR;
		if (disdir) {
			r = e2_dir_is_empty(m, dino);
			if (r < 0)
				return r;
			if (r == 0)
				return -ENOTEMPTY;
		}
	}
	/* a directory moving to another parent: "..", loops, permission */
	if (sp != dp) {
		if (sisdir) {
			r = e2_is_ancestor(m, sino, dp);
			if (r < 0)
				return r;
			if (r)
				return -EINVAL;
			r = e2_access(m, cred, sino, &src, E2_MAY_WRITE);
			if (r < 0)
				return r;
		}
		if ((flags & RENAME_EXCHANGE) && disdir) {
			r = e2_is_ancestor(m, dino, sp);
			if (r < 0)
				return r;
			if (r)
				return -EINVAL;
			r = e2_access(m, cred, dino, &dst, E2_MAY_WRITE);
			if (r < 0)
				return r;
		}
		if (sisdir && !disdir) {
			r = e2_dir_inc_links(m, dp, true);
			if (r < 0)
				return r;
		}
		if ((flags & RENAME_EXCHANGE) && disdir && !sisdir) {
			r = e2_dir_inc_links(m, sp, true);
			if (r < 0)
				return r;
		}
	} else if (sisdir && e2_is_ancestor(m, sino, dp) == 1) {
		return -EINVAL;
	}
	if (!e2_can_allocate(m, cred, 2))
		return -ENOSPC;

	if (flags & RENAME_EXCHANGE) {
		r = e2_dir_set_entry(m, sp, sname, dino, e2_ftype(dst.i_mode));
		if (r == 0)
			r = e2_dir_set_entry(m, dp, dname, sino, e2_ftype(src.i_mode));
		if (r < 0)
			return r;
		if (sp != dp) {
			if (sisdir) {
				r = e2_dir_set_entry(m, sino, "..", dp, EXT2_FT_DIR);
				if (r < 0)
					return r;
			}
			if (disdir) {
				r = e2_dir_set_entry(m, dino, "..", sp, EXT2_FT_DIR);
				if (r < 0)
					return r;
			}
			if (sisdir && !disdir) {
				e2_dir_dec_links(m, sp);
				e2_dir_inc_links(m, dp, false);
			} else if (disdir && !sisdir) {
				e2_dir_dec_links(m, dp);
				e2_dir_inc_links(m, sp, false);
			}
		}
		r = e2_touch_ctime(m, dino);
	} else {
		if (dino)
			r = e2_dir_set_entry(m, dp, dname, sino, e2_ftype(src.i_mode));
		else
			r = e2_dir_link(m, dp, dname, sino, e2_ftype(src.i_mode));
		if (r < 0)
			return r;
		r = e2_dir_unlink(m, sp, sname, sino);
		if (r < 0)
			return r;
		if (sisdir && sp != dp) {
			r = e2_dir_set_entry(m, sino, "..", dp, EXT2_FT_DIR);
			if (r < 0)
				return r;
			e2_dir_dec_links(m, sp);
			if (!disdir)
				e2_dir_inc_links(m, dp, false);
		}
		if (dino) {
			if (disdir)
				dircache_drop(m->dircache, dino);
			r = e2_inode_unref(m, dino, disdir);
			if (r < 0)
				return r;
		}
	}
	r = e2_touch_ctime(m, sino);
	if (r == 0)
		r = e2_dir_touch(m, sp);
	if (r == 0 && dp != sp)
		r = e2_dir_touch(m, dp);
	return r;
}

static void e2_op_rename(fuse_req_t req, fuse_ino_t parent, const char *name,
			 fuse_ino_t newparent, const char *newname, unsigned flags)
{
	struct e2_mount *m = e2_mount_of(req);
	struct e2_cred cred;
	int r;

	e2_cred_init(m, req, &cred);
	pthread_mutex_lock(&m->lock);
	r = e2_rename_locked(m, &cred, e2_ino_of(parent), name, e2_ino_of(newparent), newname,
			     flags);
	pthread_mutex_unlock(&m->lock);
	fuse_reply_err(req, -r);
}

/* ---- files ---- */

struct e2_fh {
	ext2_ino_t ino;
	int flags;
	bool write;
};

static int e2_open_locked(struct e2_mount *m, struct e2_cred *cred, ext2_ino_t ino, int flags)
{
	struct ext2_inode_large inode;
	int mask = 0, r;

	r = e2_read_inode(m, ino, &inode);
	if (r < 0)
		return r;
	if (LINUX_S_ISDIR(inode.i_mode) && (flags & O_ACCMODE) != O_RDONLY)
		return -EISDIR;
	switch (flags & O_ACCMODE) {
	case O_RDONLY: mask = E2_MAY_READ; break;
	case O_WRONLY: mask = E2_MAY_WRITE; break;
	default: mask = E2_MAY_READ | E2_MAY_WRITE; break;
	}
	if (flags & E2_FMODE_EXEC)
		mask = E2_MAY_EXEC;
	if (flags & O_TRUNC)
		mask |= E2_MAY_WRITE;
	if ((mask & E2_MAY_WRITE) && LINUX_S_ISREG(inode.i_mode)) {
		if (!m->rw)
			return -EROFS;
		if ((inode.i_flags & EXT2_APPEND_FL) && (!(flags & O_APPEND) || (flags & O_TRUNC)))
			return -EPERM;
	}
	return e2_access(m, cred, ino, &inode, mask);
}

static void e2_op_open(fuse_req_t req, fuse_ino_t node, struct fuse_file_info *fi)
{
	struct e2_mount *m = e2_mount_of(req);
	struct e2_cred cred;
	struct e2_fh *fh;
	ext2_ino_t ino = e2_ino_of(node);
	int r;

	fh = calloc(1, sizeof(*fh));
	if (!fh) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	e2_cred_init(m, req, &cred);
	pthread_mutex_lock(&m->lock);
	r = e2_open_locked(m, &cred, ino, fi->flags);
	if (r == 0)
		e2_openfile_get(m->open, ino);
	pthread_mutex_unlock(&m->lock);
	if (r < 0) {
		free(fh);
		fuse_reply_err(req, -r);
		return;
	}
	fh->ino = ino;
	fh->flags = fi->flags;
	fh->write = (fi->flags & O_ACCMODE) != O_RDONLY;
	fi->fh = (uintptr_t)fh;
	fi->keep_cache = 1;	/* only we write the image: the page cache stays valid */
	if (fuse_reply_open(req, fi) == -ENOENT) {	/* interrupted */
		pthread_mutex_lock(&m->lock);
		e2_openfile_put(m->open, ino);
		pthread_mutex_unlock(&m->lock);
		free(fh);
	}
}

/* Read [off, off + size) of an extent-mapped file (within i_size) with one
 * I/O per extent instead of one per block; holes and unwritten extents read
 * as zeroes. 1: done, 0: not applicable (the caller uses ext2fs_file_read),
 * <0: error. */
static int e2_read_extents(struct e2_mount *m, ext2_ino_t ino, struct ext2_inode_large *inode,
			   char *out, size_t size, uint64_t off)
{
	ext2_filsys fs = m->fs;
	unsigned bs = fs->blocksize;
	ext2_extent_handle_t h;
	struct ext2fs_extent ext;
	_cleanup_free_ char *tmp = NULL;
	blk64_t b0 = off / bs, b1 = (off + size + bs - 1) / bs, b = b0;
	errcode_t err;

	if (!(inode->i_flags & EXT4_EXTENTS_FL) || (inode->i_flags & EXT4_INLINE_DATA_FL) ||
	    size < 8 * (size_t)bs)
		return 0;
	tmp = malloc((size_t)(b1 - b0) * bs);
	if (!tmp)
		return -ENOMEM;
	err = ext2fs_extent_open2(fs, ino, (struct ext2_inode *)inode, &h);
	if (err)
		return e2_errno(err);
	while (b < b1) {
		blk64_t run;

		err = ext2fs_extent_goto(h, b);
		if (err == EXT2_ET_EXTENT_NOT_FOUND) {
			/* a hole: up to the next extent, if any */
			blk64_t next = b1;

			if (ext2fs_extent_get(h, EXT2_EXTENT_CURRENT, &ext) == 0 && ext.e_lblk > b &&
			    ext.e_lblk < next)
				next = ext.e_lblk;
			else if (ext2fs_extent_get(h, EXT2_EXTENT_NEXT_LEAF, &ext) == 0 &&
				 ext.e_lblk > b && ext.e_lblk < next)
				next = ext.e_lblk;
			memset(tmp + (b - b0) * bs, 0, (size_t)(next - b) * bs);
			b = next;
			continue;
		}
		if (!err)
			err = ext2fs_extent_get(h, EXT2_EXTENT_CURRENT, &ext);
		if (err)
			break;
		if (ext.e_lblk > b || ext.e_lblk + ext.e_len <= b) {
			err = EXT2_ET_EXTENT_NOT_FOUND;
			break;
		}
		run = ext.e_lblk + ext.e_len - b;
		if (run > b1 - b)
			run = b1 - b;
		if (ext.e_flags & EXT2_EXTENT_FLAGS_UNINIT) {
			memset(tmp + (b - b0) * bs, 0, (size_t)run * bs);
		} else {
			if (ext.e_pblk + (b - ext.e_lblk) + run > ext2fs_blocks_count(fs->super)) {
				err = EXT2_ET_BAD_BLOCK_NUM;
				break;
			}
			err = io_channel_read_blk64(fs->io, ext.e_pblk + (b - ext.e_lblk), (int)run,
						    tmp + (b - b0) * bs);
			if (err)
				break;
		}
		b += run;
	}
	ext2fs_extent_free(h);
	if (err)
		return e2_errno(err);
	memcpy(out, tmp + (off - b0 * bs), size);
	return 1;
}

static void e2_op_read(fuse_req_t req, fuse_ino_t node, size_t size, off_t off,
		       struct fuse_file_info *fi)
{
	struct e2_mount *m = e2_mount_of(req);
	struct ext2_inode_large inode;
	ext2_ino_t ino = e2_ino_of(node);
	_cleanup_free_ char *buf = NULL;
	ext2_file_t file;
	unsigned got = 0;
	errcode_t err = 0, err2;
	int r;

	(void)fi;
	buf = malloc(size ? size : 1);
	if (!buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	pthread_mutex_lock(&m->lock);
	r = e2_read_inode(m, ino, &inode);
	if (r == 0 && LINUX_S_ISDIR(inode.i_mode))
		r = -EISDIR;
	if (r == 0 && off >= 0 && (uint64_t)off < EXT2_I_SIZE(&inode) && size) {
		uint64_t left = EXT2_I_SIZE(&inode) - (uint64_t)off;

		r = e2_read_extents(m, ino, &inode, buf, size < left ? size : (size_t)left,
				    (uint64_t)off);
		if (r == 1) {
			got = (unsigned)(size < left ? size : left);
			e2_update_atime(m, ino, &inode);
			r = 0;
			goto done;
		}
		if (r < 0)
			goto done;
		err = ext2fs_file_open2(m->fs, ino, (struct ext2_inode *)&inode, 0, &file);
		if (!err) {
			err = ext2fs_file_llseek(file, (uint64_t)off, EXT2_SEEK_SET, NULL);
			if (!err)
				err = ext2fs_file_read(file, buf, (unsigned)size, &got);
			err2 = ext2fs_file_close(file);
			if (!err)
				err = err2;
		}
		r = e2_errno(err);
		if (r == 0)
			e2_update_atime(m, ino, &inode);
	}
done:
	pthread_mutex_unlock(&m->lock);
	if (r < 0 && got == 0)
		fuse_reply_err(req, -r);
	else
		fuse_reply_buf(req, buf, got);
}

/* Appending whole blocks to an extent-mapped file (the common big write):
 * allocate the range as one initialized extent run and write it with as
 * few I/Os as the allocation allows, instead of libext2fs's block-at-a-time
 * ext2fs_file_write(). Only for blocks past the end of the file that are
 * not mapped at all, so nothing existing (holes, unwritten extents) is
 * touched. Sets *ret_written to what it wrote (0: not applicable). */
static int e2_write_append(struct e2_mount *m, ext2_ino_t ino, struct ext2_inode_large *inode,
			   const char *buf, size_t size, off_t off, unsigned *ret_written)
{
	ext2_filsys fs = m->fs;
	unsigned bs = fs->blocksize;
	ext2_extent_handle_t h = NULL;
	struct ext2fs_extent ext;
	blk64_t start, n, done = 0;
	errcode_t err;
	int r;

	*ret_written = 0;
	if (!(inode->i_flags & EXT4_EXTENTS_FL) || (uint64_t)off % bs || size < 16 * (size_t)bs)
		return 0;
	start = (uint64_t)off / bs;
	n = size / bs;
	if (start < (EXT2_I_SIZE(inode) + bs - 1) / bs)
		return 0;
	/* nothing may be mapped at or after `start`: look at the last extent */
	err = ext2fs_extent_open2(fs, ino, (struct ext2_inode *)inode, &h);
	if (err)
		return 0;
	err = ext2fs_extent_get(h, EXT2_EXTENT_LAST_LEAF, &ext);
	if (err != EXT2_ET_EXTENT_NO_NEXT && err != EXT2_ET_NO_CURRENT_NODE &&
	    (err || ext.e_lblk + ext.e_len > start)) {
		ext2fs_extent_free(h);
		return 0;
	}
	ext2fs_extent_free(h);
	h = NULL;

	err = ext2fs_fallocate(fs, EXT2_FALLOCATE_FORCE_INIT, ino, (struct ext2_inode *)inode,
			       ~0ULL, start, n);
	if (!err)
		err = ext2fs_extent_open2(fs, ino, (struct ext2_inode *)inode, &h);
	/* write each extent's part of the range in one I/O */
	while (!err && done < n) {
		blk64_t lblk = start + done, run;

		err = ext2fs_extent_goto(h, lblk);
		if (!err)
			err = ext2fs_extent_get(h, EXT2_EXTENT_CURRENT, &ext);
		if (err)
			break;
		if (ext.e_lblk > lblk || ext.e_lblk + ext.e_len <= lblk ||
		    (ext.e_flags & EXT2_EXTENT_FLAGS_UNINIT)) {
			err = EXT2_ET_EXTENT_NOT_FOUND;
			break;
		}
		run = ext.e_lblk + ext.e_len - lblk;
		if (run > n - done)
			run = n - done;
		if (run > 4096)
			run = 4096;
		err = io_channel_write_blk64(fs->io, ext.e_pblk + (lblk - ext.e_lblk), (int)run,
					     buf + done * bs);
		if (!err)
			done += run;
	}
	if (h)
		ext2fs_extent_free(h);
	/* allocated but unwritten blocks stay past i_size: harmless */
	if (done) {
		uint64_t end = (uint64_t)off + done * bs;

		if (end > EXT2_I_SIZE(inode))
			ext2fs_inode_size_set(fs, (struct ext2_inode *)inode, end);
	}
	r = e2_write_inode(m, ino, inode);	/* the extent code left parts unwritten */
	if (r < 0)
		return r;
	*ret_written = (unsigned)(done * bs);
	return done ? 0 : e2_errno(err ? err : EXT2_ET_BLOCK_ALLOC_FAIL);
}

static int e2_write_locked(struct e2_mount *m, struct e2_cred *cred, ext2_ino_t ino,
			   const char *buf, size_t size, off_t off, unsigned *ret_written)
{
	struct ext2_inode_large inode;
	uint64_t max;
	ext2_file_t file;
	unsigned got = 0;
	errcode_t err, err2;
	mode_t kill;
	int r;

	if (!m->rw)
		return -EROFS;
	if (off < 0)
		return -EINVAL;
	r = e2_read_inode(m, ino, &inode);
	if (r < 0)
		return r;
	if (!LINUX_S_ISREG(inode.i_mode))
		return -EINVAL;
	if (inode.i_flags & EXT2_IMMUTABLE_FL)
		return -EPERM;
	max = e2_max_size(m, &inode);
	if ((uint64_t)off >= max)
		return -EFBIG;
	if (size > max - (uint64_t)off)
		size = (size_t)(max - (uint64_t)off);
	if (!e2_can_allocate(m, cred, size / m->fs->blocksize + 1))
		return -ENOSPC;

	r = e2_write_append(m, ino, &inode, buf, size, off, &got);
	if (r < 0)
		return r;
	if (got < size) {
		unsigned more = 0;

		err = ext2fs_file_open2(m->fs, ino, (struct ext2_inode *)&inode, EXT2_FILE_WRITE,
					&file);
		if (!err) {
			err = ext2fs_file_llseek(file, (uint64_t)off + got, EXT2_SEEK_SET, NULL);
			if (!err)
				err = ext2fs_file_write(file, buf + got, (unsigned)(size - got),
							&more);
			err2 = ext2fs_file_close(file);
			if (!err)
				err = err2;
		}
		if (err && !got)
			return e2_errno(err);
		if (!err)
			got += more;	/* else: report the part written so far */
	}

	r = e2_read_inode(m, ino, &inode);
	if (r < 0)
		return r;
	e2_inode_touch(&inode, true);
	kill = e2_perm_killpriv(cred, inode.i_mode);
	inode.i_mode &= (uint16_t)~kill;
	r = e2_write_inode(m, ino, &inode);
	if (r < 0)
		return r;
	*ret_written = got;
	return 0;
}

static void e2_op_write(fuse_req_t req, fuse_ino_t node, const char *buf, size_t size,
			off_t off, struct fuse_file_info *fi)
{
	struct e2_mount *m = e2_mount_of(req);
	struct e2_cred cred;
	unsigned written = 0;
	int r;

	(void)fi;
	e2_cred_init(m, req, &cred);
	pthread_mutex_lock(&m->lock);
	r = e2_write_locked(m, &cred, e2_ino_of(node), buf, size, off, &written);
	pthread_mutex_unlock(&m->lock);
	if (r < 0)
		fuse_reply_err(req, -r);
	else
		fuse_reply_write(req, written);
}

int e2_flush_fs(struct e2_mount *m, bool sync)
{
	if (!m->rw)
		return 0;
	e2_flusher_done(m);
	return e2_errno(ext2fs_flush2(m->fs, sync ? 0 : EXT2_FLAG_FLUSH_NO_SYNC));
}

static void e2_op_fsync(fuse_req_t req, fuse_ino_t node, int datasync, struct fuse_file_info *fi)
{
	struct e2_mount *m = e2_mount_of(req);
	int r;

	(void)node, (void)datasync, (void)fi;
	pthread_mutex_lock(&m->lock);
	r = e2_flush_fs(m, true);
	pthread_mutex_unlock(&m->lock);
	fuse_reply_err(req, -r);
}

/* No flush operation: close(2) would wait for its FLUSH request, one more
 * round trip per written file (10% of an untar). Without one the kernel
 * stops sending FLUSH, and the image is brought up to date after RELEASE,
 * which the kernel sends after the last close without waiting for it
 * (by the flusher, within 50 ms). fsync(2) still waits for the image's
 * own fsync. */
static void e2_release_ino(struct e2_mount *m, ext2_ino_t ino, bool written)
{
	pthread_mutex_lock(&m->lock);
	if (e2_openfile_put(m->open, ino))
		e2_inode_free(m, ino);	/* the last close of an unlinked file */
	if (written)
		e2_flusher_request(m);
	pthread_mutex_unlock(&m->lock);
}

static void e2_op_release(fuse_req_t req, fuse_ino_t node, struct fuse_file_info *fi)
{
	struct e2_mount *m = e2_mount_of(req);
	struct e2_fh *fh = (struct e2_fh *)(uintptr_t)fi->fh;

	(void)node;
	if (fh) {
		e2_release_ino(m, fh->ino, fh->write);
		free(fh);
	}
	fuse_reply_err(req, 0);
}

static int e2_fallocate_locked(struct e2_mount *m, struct e2_cred *cred, ext2_ino_t ino,
			       int mode, off_t off, off_t len)
{
	struct ext2_inode_large inode;
	ext2_filsys fs = m->fs;
	blk64_t start, end;
	uint64_t newsize;
	errcode_t err;
	int r;

	if (mode & ~FALLOC_FL_KEEP_SIZE)
		return -EOPNOTSUPP;
	if (!m->rw)
		return -EROFS;
	if (off < 0 || len <= 0)
		return -EINVAL;
	r = e2_read_inode(m, ino, &inode);
	if (r < 0)
		return r;
	if (!LINUX_S_ISREG(inode.i_mode))
		return -ENODEV;
	if (!(inode.i_flags & EXT4_EXTENTS_FL))
		return -EOPNOTSUPP;
	newsize = (uint64_t)off + (uint64_t)len;
	if (newsize > e2_max_size(m, &inode) || newsize < (uint64_t)off)
		return -EFBIG;
	start = (uint64_t)off / fs->blocksize;
	end = (newsize + fs->blocksize - 1) / fs->blocksize;
	if (!e2_can_allocate(m, cred, end - start))
		return -ENOSPC;
	/* the extent code updates `inode` (i_blocks, the tree root) in place
	 * and writes only part of it: write all of it afterwards */
	err = ext2fs_fallocate(fs, EXT2_FALLOCATE_INIT_BEYOND_EOF, ino,
			       (struct ext2_inode *)&inode, ~0ULL, start, end - start);
	if (err) {
		e2_write_inode(m, ino, &inode);
		return e2_errno(err);
	}
	if (!(mode & FALLOC_FL_KEEP_SIZE) && newsize > EXT2_I_SIZE(&inode)) {
		err = ext2fs_inode_size_set(fs, (struct ext2_inode *)&inode, newsize);
		if (err)
			return e2_errno(err);
		e2_inode_touch(&inode, true);
	} else {
		e2_inode_touch(&inode, false);
	}
	return e2_write_inode(m, ino, &inode);
}

static void e2_op_fallocate(fuse_req_t req, fuse_ino_t node, int mode, off_t off, off_t len,
			    struct fuse_file_info *fi)
{
	struct e2_mount *m = e2_mount_of(req);
	struct e2_cred cred;
	int r;

	(void)fi;
	e2_cred_init(m, req, &cred);
	pthread_mutex_lock(&m->lock);
	r = e2_fallocate_locked(m, &cred, e2_ino_of(node), mode, off, len);
	pthread_mutex_unlock(&m->lock);
	fuse_reply_err(req, -r);
}

/* ---- directories ---- */

struct e2_dent {
	uint32_t ino;
	uint8_t ftype;
	uint16_t len;
	size_t name;	/* offset in names */
};

struct e2_dh {
	ext2_ino_t ino;
	bool loaded;
	size_t n, cap;
	struct e2_dent *ents;
	char *names;
	size_t names_len, names_cap;
	int err;
};

static void e2_dh_clear(struct e2_dh *dh)
{
	free(dh->ents);
	free(dh->names);
	dh->ents = NULL;
	dh->names = NULL;
	dh->n = dh->cap = dh->names_len = dh->names_cap = 0;
	dh->loaded = false;
}

static int e2_dh_cb(ext2_ino_t dir, int entry, struct ext2_dir_entry *dirent, int offset,
		    int blocksize, char *buf, void *priv)
{
	struct e2_dh *dh = priv;
	size_t len = ext2fs_dirent_name_len(dirent);

	(void)dir, (void)entry, (void)offset, (void)blocksize, (void)buf;
	if (len == 0 || memchr(dirent->name, '/', len) || memchr(dirent->name, 0, len))
		return 0;	/* names the kernel would refuse: skip, keep listing */
	if (dh->n == dh->cap) {
		size_t cap = dh->cap ? dh->cap * 2 : 64;
		struct e2_dent *e = realloc(dh->ents, cap * sizeof(*e));

		if (!e) {
			dh->err = -ENOMEM;
			return DIRENT_ABORT;
		}
		dh->ents = e;
		dh->cap = cap;
	}
	if (dh->names_len + len + 1 > dh->names_cap) {
		size_t cap = dh->names_cap ? dh->names_cap * 2 : 4096;
		char *p;

		while (cap < dh->names_len + len + 1)
			cap *= 2;
		p = realloc(dh->names, cap);
		if (!p) {
			dh->err = -ENOMEM;
			return DIRENT_ABORT;
		}
		dh->names = p;
		dh->names_cap = cap;
	}
	memcpy(dh->names + dh->names_len, dirent->name, len);
	dh->names[dh->names_len + len] = 0;
	dh->ents[dh->n].ino = dirent->inode;
	dh->ents[dh->n].ftype = (uint8_t)ext2fs_dirent_file_type(dirent);
	dh->ents[dh->n].len = (uint16_t)len;
	dh->ents[dh->n].name = dh->names_len;
	dh->names_len += len + 1;
	dh->n++;
	return 0;
}

static int e2_dh_load(struct e2_mount *m, struct e2_dh *dh)
{
	errcode_t err;

	e2_dh_clear(dh);
	dh->err = 0;
	err = ext2fs_dir_iterate2(m->fs, dh->ino, 0, NULL, e2_dh_cb, dh);
	if (err || dh->err) {
		e2_dh_clear(dh);
		return err ? e2_errno(err) : dh->err;
	}
	dh->loaded = true;
	return 0;
}

static void e2_op_opendir(fuse_req_t req, fuse_ino_t node, struct fuse_file_info *fi)
{
	struct e2_mount *m = e2_mount_of(req);
	struct ext2_inode_large inode;
	struct e2_cred cred;
	struct e2_dh *dh;
	ext2_ino_t ino = e2_ino_of(node);
	int r;

	dh = calloc(1, sizeof(*dh));
	if (!dh) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	dh->ino = ino;
	e2_cred_init(m, req, &cred);
	pthread_mutex_lock(&m->lock);
	r = e2_read_inode(m, ino, &inode);
	if (r == 0 && !LINUX_S_ISDIR(inode.i_mode))
		r = -ENOTDIR;
	if (r == 0)
		r = e2_access(m, &cred, ino, &inode, E2_MAY_READ);
	if (r == 0)
		e2_openfile_get(m->open, ino);
	pthread_mutex_unlock(&m->lock);
	if (r < 0) {
		free(dh);
		fuse_reply_err(req, -r);
		return;
	}
	fi->fh = (uintptr_t)dh;
	fi->cache_readdir = 0;
	if (fuse_reply_open(req, fi) == -ENOENT) {
		e2_release_ino(m, ino, false);
		free(dh);
	}
}

static const unsigned char e2_dtype[8] = {
	DT_UNKNOWN, DT_REG, DT_DIR, DT_CHR, DT_BLK, DT_FIFO, DT_SOCK, DT_LNK,
};

static void e2_readdir(fuse_req_t req, size_t size, off_t off, struct fuse_file_info *fi,
		       bool plus)
{
	struct e2_mount *m = e2_mount_of(req);
	struct e2_dh *dh = (struct e2_dh *)(uintptr_t)fi->fh;
	_cleanup_free_ char *buf = NULL;
	size_t used = 0;
	int r = 0;

	buf = malloc(size);
	if (!buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	pthread_mutex_lock(&m->lock);
	if (!dh->loaded || off == 0)
		r = e2_dh_load(m, dh);
	for (size_t i = (size_t)(off < 0 ? 0 : off); r == 0 && i < dh->n; i++) {
		const struct e2_dent *d = &dh->ents[i];
		const char *name = dh->names + d->name;
		size_t need;

		if (plus) {
			struct fuse_entry_param e;
			struct ext2_inode_large inode;

			memset(&e, 0, sizeof(e));
			e.attr.st_ino = d->ino;
			e.attr.st_mode = (mode_t)(e2_dtype[d->ftype & 7]) << 12;
			if (!e2_is_dotdot(name, d->len) && e2_read_child(m, d->ino, &inode) == 0)
				e2_fill_entry(m, d->ino, &inode, &e);
			need = fuse_add_direntry_plus(req, buf + used, size - used, name, &e,
						      (off_t)i + 1);
		} else {
			struct stat st;

			memset(&st, 0, sizeof(st));
			st.st_ino = d->ino;
			st.st_mode = (mode_t)(e2_dtype[d->ftype & 7]) << 12;
			need = fuse_add_direntry(req, buf + used, size - used, name, &st,
						 (off_t)i + 1);
		}
		if (need > size - used)
			break;	/* did not fit; the kernel asks again from here */
		used += need;
	}
	if (r == 0 && m->rw) {
		struct ext2_inode_large inode;

		if (e2_read_inode(m, dh->ino, &inode) == 0)
			e2_update_atime(m, dh->ino, &inode);
	}
	pthread_mutex_unlock(&m->lock);
	if (r < 0)
		fuse_reply_err(req, -r);
	else
		fuse_reply_buf(req, buf, used);
}

static void e2_op_readdir(fuse_req_t req, fuse_ino_t node, size_t size, off_t off,
			  struct fuse_file_info *fi)
{
	(void)node;
	e2_readdir(req, size, off, fi, false);
}

static void e2_op_readdirplus(fuse_req_t req, fuse_ino_t node, size_t size, off_t off,
			      struct fuse_file_info *fi)
{
	(void)node;
	e2_readdir(req, size, off, fi, true);
}

static void e2_op_releasedir(fuse_req_t req, fuse_ino_t node, struct fuse_file_info *fi)
{
	struct e2_mount *m = e2_mount_of(req);
	struct e2_dh *dh = (struct e2_dh *)(uintptr_t)fi->fh;

	(void)node;
	if (dh) {
		e2_release_ino(m, dh->ino, false);
		e2_dh_clear(dh);
		free(dh);
	}
	fuse_reply_err(req, 0);
}

static void e2_op_fsyncdir(fuse_req_t req, fuse_ino_t node, int datasync,
			   struct fuse_file_info *fi)
{
	e2_op_fsync(req, node, datasync, fi);
}

/* ---- create, access, statfs ---- */

static void e2_op_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
			 struct fuse_file_info *fi)
{
	struct e2_mount *m = e2_mount_of(req);
	struct fuse_entry_param e;
	struct e2_cred cred;
	struct e2_fh *fh;
	int r;

	fh = calloc(1, sizeof(*fh));
	if (!fh) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	e2_cred_init(m, req, &cred);
	pthread_mutex_lock(&m->lock);
	r = e2_mknod_locked(m, &cred, parent, name, S_IFREG | (mode & 07777), 0,
			    fuse_req_ctx(req)->umask, &e);
	if (r == 0)
		e2_openfile_get(m->open, e2_ino_of(e.ino));
	pthread_mutex_unlock(&m->lock);
	if (r < 0) {
		free(fh);
		fuse_reply_err(req, -r);
		return;
	}
	fh->ino = e2_ino_of(e.ino);
	fh->flags = fi->flags;
	fh->write = true;
	fi->fh = (uintptr_t)fh;
	fi->keep_cache = 1;
	if (fuse_reply_create(req, &e, fi) == -ENOENT) {
		e2_release_ino(m, fh->ino, fh->write);
		free(fh);
	}
}

static void e2_op_access(fuse_req_t req, fuse_ino_t node, int mask)
{
	struct e2_mount *m = e2_mount_of(req);
	struct ext2_inode_large inode;
	struct e2_cred cred;
	ext2_ino_t ino = e2_ino_of(node);
	int r;

	e2_cred_init(m, req, &cred);
	pthread_mutex_lock(&m->lock);
	r = e2_read_inode(m, ino, &inode);
	if (r == 0 && (mask & W_OK) && !m->rw)
		r = -EROFS;
	if (r == 0 && m->human)
		r = e2_access(m, &cred, ino, &inode, mask & 7);
	else if (r == 0 && (mask & X_OK) && LINUX_S_ISREG(inode.i_mode) &&
		 !(inode.i_mode & (S_IXUSR | S_IXGRP | S_IXOTH)))
		r = -EACCES;
	pthread_mutex_unlock(&m->lock);
	fuse_reply_err(req, -r);
}

static void e2_op_statfs(fuse_req_t req, fuse_ino_t node)
{
	struct e2_mount *m = e2_mount_of(req);
	struct ext2_super_block *sb;
	struct statvfs st;
	uint64_t overhead, free, reserved;
	uint32_t uuid[4];

	(void)node;
	memset(&st, 0, sizeof(st));
	pthread_mutex_lock(&m->lock);
	sb = m->fs->super;
	overhead = sb->s_overhead_clusters;
	if (!overhead)
		overhead = sb->s_first_data_block + m->fs->desc_blocks +
			   (uint64_t)m->fs->group_desc_count * (m->fs->inode_blocks_per_group + 2);
	free = ext2fs_free_blocks_count(sb);
	reserved = ext2fs_r_blocks_count(sb);
	st.f_bsize = m->fs->blocksize;
	st.f_frsize = m->fs->blocksize;
	st.f_blocks = ext2fs_blocks_count(sb) > overhead ? ext2fs_blocks_count(sb) - overhead : 0;
	st.f_bfree = free;
	st.f_bavail = free > reserved ? free - reserved : 0;
	st.f_files = sb->s_inodes_count;
	st.f_ffree = sb->s_free_inodes_count;
	st.f_favail = sb->s_free_inodes_count;
	memcpy(uuid, sb->s_uuid, sizeof(uuid));
	st.f_fsid = (uint64_t)(uuid[0] ^ uuid[2]) | (uint64_t)(uuid[1] ^ uuid[3]) << 32;
	st.f_namemax = EXT2_NAME_LEN;
	st.f_flag = m->rw ? 0 : ST_RDONLY;
	pthread_mutex_unlock(&m->lock);
	fuse_reply_statfs(req, &st);
}

static void e2_op_init(void *userdata, struct fuse_conn_info *conn)
{
	struct e2_mount *m = userdata;

	if (conn->capable & FUSE_CAP_DONT_MASK)
		conn->want |= FUSE_CAP_DONT_MASK;
	if (conn->capable & FUSE_CAP_CACHE_SYMLINKS)
		conn->want |= FUSE_CAP_CACHE_SYMLINKS;
	if (conn->capable & FUSE_CAP_HANDLE_KILLPRIV)
		conn->want |= FUSE_CAP_HANDLE_KILLPRIV;
	conn->want &= ~(unsigned)FUSE_CAP_WRITEBACK_CACHE;
	conn->want &= ~(unsigned)FUSE_CAP_ATOMIC_O_TRUNC;
	/* one big lock: parallel directory operations gain nothing but are
	 * harmless; keep async reads */
	if (m->rw && e2_flusher_start(m) < 0 && m->debug)
		fprintf(stderr, "umfuseext2: no flusher thread: flushing at every last close\n");
}

static void e2_op_destroy(void *userdata)
{
	struct e2_mount *m = userdata;
	ext2_ino_t ino;

	e2_flusher_stop(m);
	pthread_mutex_lock(&m->lock);
	if (m->flusher.due)
		e2_flush_fs(m, false);
	while ((ino = e2_openfile_pop_orphan(m->open)))
		e2_inode_free(m, ino);
	pthread_mutex_unlock(&m->lock);
}

const struct fuse_lowlevel_ops e2_ops = {
	.init = e2_op_init,
	.destroy = e2_op_destroy,
	.lookup = e2_op_lookup,
	.getattr = e2_op_getattr,
	.setattr = e2_op_setattr,
	.readlink = e2_op_readlink,
	.mknod = e2_op_mknod,
	.mkdir = e2_op_mkdir,
	.unlink = e2_op_unlink,
	.rmdir = e2_op_rmdir,
	.symlink = e2_op_symlink,
	.rename = e2_op_rename,
	.link = e2_op_link,
	.open = e2_op_open,
	.read = e2_op_read,
	.write = e2_op_write,
	.release = e2_op_release,
	.fsync = e2_op_fsync,
	.opendir = e2_op_opendir,
	.readdir = e2_op_readdir,
	.releasedir = e2_op_releasedir,
	.fsyncdir = e2_op_fsyncdir,
	.statfs = e2_op_statfs,
	.setxattr = e2_op_setxattr,
	.getxattr = e2_op_getxattr,
	.listxattr = e2_op_listxattr,
	.removexattr = e2_op_removexattr,
	.access = e2_op_access,
	.create = e2_op_create,
	.fallocate = e2_op_fallocate,
	.readdirplus = e2_op_readdirplus,
};
