/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Extended attributes through ext2fs_xattrs_*, with the kernel's namespace
 * rules (user., trusted., security., system.posix_acl_*) and POSIX ACLs
 * converted between the xattr format and ext4's on-disk format here (the
 * library's own conversion is bypassed with XATTR_HANDLE_FLAG_RAW). */
#include "ext2fs.h"

#include <string.h>
#include <sys/xattr.h>

#define E2_XATTR_SIZE_MAX 65536

struct e2_xattrs {
	struct ext2_xattr_handle *h;
};

static void e2_xattrs_close(struct e2_xattrs *x)
{
	if (x->h)
		ext2fs_xattrs_close(&x->h);
}

static int e2_xattrs_open(struct e2_mount *m, ext2_ino_t ino, struct e2_xattrs *x)
{
	unsigned flags = XATTR_HANDLE_FLAG_RAW;
	errcode_t err;

	x->h = NULL;
	if (!ext2fs_has_feature_xattr(m->fs->super) && !ext2fs_has_feature_inline_data(m->fs->super))
		return -EOPNOTSUPP;
	err = ext2fs_xattrs_open(m->fs, ino, &x->h);
	if (err)
		return e2_errno(err);
	ext2fs_xattrs_flags(x->h, &flags, NULL);
	err = ext2fs_xattrs_read(x->h);
	if (err) {
		e2_xattrs_close(x);
		return e2_errno(err);
	}
	return 0;
}

bool e2_inode_may_have_xattrs(struct e2_mount *m, ext2_ino_t ino,
			      const struct ext2_inode_large *inode)
{
	ext2_filsys fs = m->fs;
	unsigned isize = EXT2_INODE_SIZE(fs->super);
	_cleanup_free_ unsigned char *raw = NULL;
	uint32_t magic;
	size_t off;

	if (!ext2fs_has_feature_xattr(fs->super))
		return false;
	if (ext2fs_file_acl_block(fs, (const struct ext2_inode *)inode))
		return true;
	off = EXT2_GOOD_OLD_INODE_SIZE + inode->i_extra_isize;
	if (isize <= EXT2_GOOD_OLD_INODE_SIZE || off + 4 > isize)
		return false;
	raw = malloc(isize);
	if (!raw)
		return true;
	if (ext2fs_read_inode_full(fs, ino, (struct ext2_inode *)raw, (int)isize))
		return true;
	memcpy(&magic, raw + off, 4);
	return ext2fs_le32_to_cpu(magic) == EXT2_EXT_ATTR_MAGIC;
}

int e2_xattr_get_acl(struct e2_mount *m, ext2_ino_t ino, const char *name,
		     struct e2_acl *ret_acl)
{
	struct e2_xattrs x;
	void *value = NULL;
	size_t len = 0;
	errcode_t err;
	int r;

	r = e2_xattrs_open(m, ino, &x);
	if (r < 0)
		return r == -EOPNOTSUPP ? -ENODATA : r;
	err = ext2fs_xattr_get(x.h, name, &value, &len);
	e2_xattrs_close(&x);
	if (err)
		return e2_errno(err);
	r = e2_acl_from_disk(value, len, ret_acl);
	ext2fs_free_mem(&value);
	return r < 0 ? -E2_EFSCORRUPTED : 0;
}

int e2_xattr_set_acl(struct e2_mount *m, ext2_ino_t ino, const char *name,
		     const struct e2_acl *acl)
{
	struct e2_xattrs x;
	_cleanup_free_ void *buf = NULL;
	size_t len;
	errcode_t err;
	int r;

	r = e2_xattrs_open(m, ino, &x);
	if (r < 0)
		return r;
	if (acl) {
		len = e2_acl_to_disk(acl, NULL);
		buf = malloc(len);
		if (!buf) {
			e2_xattrs_close(&x);
			return -ENOMEM;
		}
		e2_acl_to_disk(acl, buf);
		err = ext2fs_xattr_set(x.h, name, buf, len);
	} else {
		err = ext2fs_xattr_remove(x.h, name);
	}
	e2_xattrs_close(&x);
	return e2_errno(err);
}

int e2_acl_inherit(struct e2_mount *m, ext2_ino_t dir, bool *ret_has_default,
		   struct e2_acl *ret_default)
{
	struct ext2_inode_large inode;
	int r;

	*ret_has_default = false;
	r = e2_read_inode(m, dir, &inode);
	if (r < 0)
		return r;
	if (!e2_inode_may_have_xattrs(m, dir, &inode))
		return 0;
	r = e2_xattr_get_acl(m, dir, E2_ACL_DEFAULT, ret_default);
	if (r == -ENODATA)
		return 0;
	if (r < 0)
		return r;
	*ret_has_default = true;
	return 0;
}

enum e2_xattr_ns { E2_NS_USER, E2_NS_TRUSTED, E2_NS_SECURITY, E2_NS_ACL_ACCESS,
		   E2_NS_ACL_DEFAULT, E2_NS_INVALID };

static enum e2_xattr_ns e2_xattr_ns(const char *name)
{
	if (!strncmp(name, "user.", 5) && name[5])
		return E2_NS_USER;
	if (!strncmp(name, "trusted.", 8) && name[8])
		return E2_NS_TRUSTED;
	if (!strncmp(name, "security.", 9) && name[9])
		return E2_NS_SECURITY;
	if (!strcmp(name, E2_ACL_ACCESS))
		return E2_NS_ACL_ACCESS;
	if (!strcmp(name, E2_ACL_DEFAULT))
		return E2_NS_ACL_DEFAULT;
	return E2_NS_INVALID;
}

/* xattr_permission() of fs/xattr.c for human mode. */
static int e2_xattr_permission(struct e2_mount *m, struct e2_cred *cred, ext2_ino_t ino,
			       const struct ext2_inode_large *inode, enum e2_xattr_ns ns,
			       bool write)
{
	mode_t mode = inode->i_mode;

	if (write && (inode->i_flags & (EXT2_IMMUTABLE_FL | EXT2_APPEND_FL)))
		return -EPERM;
	if (ns == E2_NS_USER && !S_ISREG(mode) && !S_ISDIR(mode))
		return write ? -EPERM : -ENODATA;
	if (!m->human)
		return 0;
	switch (ns) {
	case E2_NS_TRUSTED:
		return cred->privileged ? 0 : -EPERM;
	case E2_NS_USER:
		if (write && S_ISDIR(mode) && (mode & S_ISVTX) &&
		    !e2_perm_owner_or_cap(cred, e2_inode_uid(inode)))
			return -EPERM;
		return e2_access(m, cred, ino, inode, write ? E2_MAY_WRITE : E2_MAY_READ);
	case E2_NS_ACL_ACCESS:
	case E2_NS_ACL_DEFAULT:
		if (write && !e2_perm_owner_or_cap(cred, e2_inode_uid(inode)))
			return -EPERM;
		return 0;
	default:
		return 0;
	}
}

static int e2_getxattr_locked(struct e2_mount *m, struct e2_cred *cred, ext2_ino_t ino,
			      const char *name, void **ret_value, size_t *ret_len)
{
	struct ext2_inode_large inode;
	enum e2_xattr_ns ns = e2_xattr_ns(name);
	struct e2_xattrs x;
	void *value = NULL;
	size_t len = 0;
	errcode_t err;
	int r;

	if (ns == E2_NS_INVALID)
		return -EOPNOTSUPP;
	r = e2_read_inode(m, ino, &inode);
	if (r < 0)
		return r;
	r = e2_xattr_permission(m, cred, ino, &inode, ns, false);
	if (r < 0)
		return r;
	r = e2_xattrs_open(m, ino, &x);
	if (r < 0)
		return r == -EOPNOTSUPP ? -ENODATA : r;
	err = ext2fs_xattr_get(x.h, name, &value, &len);
	e2_xattrs_close(&x);
	if (err)
		return e2_errno(err);
	if (ns == E2_NS_ACL_ACCESS || ns == E2_NS_ACL_DEFAULT) {
		_cleanup_free_ struct e2_acl *acl = malloc(sizeof(*acl));
		void *out;

		if (!acl) {
			ext2fs_free_mem(&value);
			return -ENOMEM;
		}
		r = e2_acl_from_disk(value, len, acl);
		ext2fs_free_mem(&value);
		if (r < 0)
			return -E2_EFSCORRUPTED;
		len = e2_acl_to_xattr(acl, NULL);
		out = malloc(len);
		if (!out)
			return -ENOMEM;
		e2_acl_to_xattr(acl, out);
		*ret_value = out;
		*ret_len = len;
		return 0;
	}
	*ret_value = malloc(len ? len : 1);
	if (!*ret_value) {
		ext2fs_free_mem(&value);
		return -ENOMEM;
	}
	memcpy(*ret_value, value, len);
	ext2fs_free_mem(&value);
	*ret_len = len;
	return 0;
}

void e2_op_getxattr(fuse_req_t req, fuse_ino_t node, const char *name, size_t size)
{
	struct e2_mount *m = e2_mount_of(req);
	struct e2_cred cred;
	_cleanup_free_ void *value = NULL;
	size_t len = 0;
	int r;

	e2_cred_init(m, req, &cred);
	pthread_mutex_lock(&m->lock);
	r = e2_getxattr_locked(m, &cred, e2_ino_of(node), name, &value, &len);
	pthread_mutex_unlock(&m->lock);
	if (r < 0)
		fuse_reply_err(req, -r);
	else if (size == 0)
		fuse_reply_xattr(req, len);
	else if (size < len)
		fuse_reply_err(req, ERANGE);
	else
		fuse_reply_buf(req, value, len);
}

/* Setting system.posix_acl_access changes the mode bits; an ACL that is
 * equivalent to a mode is not stored at all (posix_acl_update_mode). */
static int e2_set_acl_locked(struct e2_mount *m, struct e2_cred *cred, ext2_ino_t ino,
			     struct ext2_inode_large *inode, enum e2_xattr_ns ns,
			     const char *value, size_t size, bool *ret_mode_changed)
{
	_cleanup_free_ struct e2_acl *acl = NULL;
	const char *name = ns == E2_NS_ACL_ACCESS ? E2_ACL_ACCESS : E2_ACL_DEFAULT;
	bool drop = size == 0;
	int r;

	if (size) {
		acl = malloc(sizeof(*acl));
		if (!acl)
			return -ENOMEM;
		r = e2_acl_from_xattr(value, size, acl);
		if (r < 0)
			return r;
	}
	if (ns == E2_NS_ACL_DEFAULT && !S_ISDIR(inode->i_mode))
		return drop ? 0 : -EACCES;
	if (ns == E2_NS_ACL_ACCESS && acl) {
		mode_t mode = inode->i_mode;

		if (e2_acl_equiv_mode(acl, &mode))
			drop = true;
		if (m->human && !cred->privileged && !e2_cred_in_group(cred, e2_inode_gid(inode)))
			mode &= ~(mode_t)S_ISGID;
		if (mode != inode->i_mode) {
			inode->i_mode = (uint16_t)mode;
			*ret_mode_changed = true;
		}
	}
	if (*ret_mode_changed) {
		e2_inode_touch(inode, false);
		r = e2_write_inode(m, ino, inode);
		if (r < 0)
			return r;
	}
	r = e2_xattr_set_acl(m, ino, name, drop ? NULL : acl);
	return r == -ENODATA ? 0 : r;
}

static int e2_setxattr_locked(struct e2_mount *m, struct e2_cred *cred, ext2_ino_t ino,
			      const char *name, const char *value, size_t size, int flags,
			      bool *ret_mode_changed)
{
	struct ext2_inode_large inode;
	enum e2_xattr_ns ns = e2_xattr_ns(name);
	struct e2_xattrs x;
	void *old = NULL;
	size_t old_len = 0;
	errcode_t err;
	int r;

	if (ns == E2_NS_INVALID)
		return -EOPNOTSUPP;
	if (strlen(name) > 255)
		return -ERANGE;
	if (size > E2_XATTR_SIZE_MAX)
		return -E2BIG;
	if (!m->rw)
		return -EROFS;
	r = e2_read_inode(m, ino, &inode);
	if (r < 0)
		return r;
	r = e2_xattr_permission(m, cred, ino, &inode, ns, true);
	if (r < 0)
		return r;

	r = e2_xattrs_open(m, ino, &x);
	if (r < 0)
		return r;
	err = ext2fs_xattr_get(x.h, name, &old, &old_len);
	if (err == 0)
		ext2fs_free_mem(&old);
	if (err && err != EXT2_ET_EA_KEY_NOT_FOUND) {
		e2_xattrs_close(&x);
		return e2_errno(err);
	}
	if ((flags & XATTR_CREATE) && err == 0) {
		e2_xattrs_close(&x);
		return -EEXIST;
	}
	if ((flags & XATTR_REPLACE) && err) {
		e2_xattrs_close(&x);
		return -ENODATA;
	}
	if (ns == E2_NS_ACL_ACCESS || ns == E2_NS_ACL_DEFAULT) {
		e2_xattrs_close(&x);
		r = e2_set_acl_locked(m, cred, ino, &inode, ns, value, size, ret_mode_changed);
	} else {
		err = ext2fs_xattr_set(x.h, name, value, size);
		e2_xattrs_close(&x);
		r = e2_errno(err);
	}
	if (r < 0)
		return r;
	/* the xattr code rewrote the inode: re-read before touching ctime */
	r = e2_read_inode(m, ino, &inode);
	if (r < 0)
		return r;
	e2_inode_touch(&inode, false);
	return e2_write_inode(m, ino, &inode);
}

void e2_op_setxattr(fuse_req_t req, fuse_ino_t node, const char *name, const char *value,
		    size_t size, int flags)
{
	struct e2_mount *m = e2_mount_of(req);
	struct e2_cred cred;
	bool mode_changed = false;
	int r;

	e2_cred_init(m, req, &cred);
	pthread_mutex_lock(&m->lock);
	r = e2_setxattr_locked(m, &cred, e2_ino_of(node), name, value, size, flags,
			       &mode_changed);
	pthread_mutex_unlock(&m->lock);
	/* we changed the mode behind the kernel's back: drop its attributes */
	if (r == 0 && mode_changed)
		fuse_lowlevel_notify_inval_inode(m->se, node, -1, 0);
	fuse_reply_err(req, -r);
}

struct e2_list {
	char *buf;
	size_t size, len;
	bool hide_trusted;
};

static int e2_list_name(char *name, char *value, size_t value_len, void *data)
{
	struct e2_list *l = data;
	size_t n = strlen(name) + 1;

	(void)value;
	(void)value_len;
	if (e2_xattr_ns(name) == E2_NS_INVALID)	/* system.data: inline data */
		return 0;
	if (l->hide_trusted && e2_xattr_ns(name) == E2_NS_TRUSTED)
		return 0;
	if (l->buf && l->len + n <= l->size)
		memcpy(l->buf + l->len, name, n);
	l->len += n;
	return 0;
}

void e2_op_listxattr(fuse_req_t req, fuse_ino_t node, size_t size)
{
	struct e2_mount *m = e2_mount_of(req);
	struct e2_cred cred;
	struct e2_list l = { .size = size };
	struct ext2_inode_large inode;
	struct e2_xattrs x;
	errcode_t err = 0;
	int r;

	e2_cred_init(m, req, &cred);
	l.hide_trusted = m->human && !cred.privileged;
	if (size) {
		l.buf = malloc(size);
		if (!l.buf) {
			fuse_reply_err(req, ENOMEM);
			return;
		}
	}
	pthread_mutex_lock(&m->lock);
	r = e2_read_inode(m, e2_ino_of(node), &inode);
	if (r == 0) {
		r = e2_xattrs_open(m, e2_ino_of(node), &x);
		if (r == 0) {
			err = ext2fs_xattrs_iterate(x.h, e2_list_name, &l);
			e2_xattrs_close(&x);
			r = e2_errno(err);
		} else if (r == -EOPNOTSUPP) {
			r = 0;
		}
	}
	pthread_mutex_unlock(&m->lock);
	if (r < 0)
		fuse_reply_err(req, -r);
	else if (size == 0)
		fuse_reply_xattr(req, l.len);
	else if (size < l.len)
		fuse_reply_err(req, ERANGE);
	else
		fuse_reply_buf(req, l.buf, l.len);
	free(l.buf);
}

static int e2_removexattr_locked(struct e2_mount *m, struct e2_cred *cred, ext2_ino_t ino,
				 const char *name)
{
	struct ext2_inode_large inode;
	enum e2_xattr_ns ns = e2_xattr_ns(name);
	struct e2_xattrs x;
	void *old = NULL;
	size_t old_len;
	errcode_t err;
	int r;

	if (ns == E2_NS_INVALID)
		return -EOPNOTSUPP;
	if (!m->rw)
		return -EROFS;
	r = e2_read_inode(m, ino, &inode);
	if (r < 0)
		return r;
	r = e2_xattr_permission(m, cred, ino, &inode, ns, true);
	if (r < 0)
		return r;
	r = e2_xattrs_open(m, ino, &x);
	if (r < 0)
		return r == -EOPNOTSUPP ? -ENODATA : r;
	err = ext2fs_xattr_get(x.h, name, &old, &old_len);
	if (err) {
		e2_xattrs_close(&x);
		return e2_errno(err);
	}
	ext2fs_free_mem(&old);
	err = ext2fs_xattr_remove(x.h, name);
	e2_xattrs_close(&x);
	if (err)
		return e2_errno(err);
	r = e2_read_inode(m, ino, &inode);
	if (r < 0)
		return r;
	e2_inode_touch(&inode, false);
	return e2_write_inode(m, ino, &inode);
}

void e2_op_removexattr(fuse_req_t req, fuse_ino_t node, const char *name)
{
	struct e2_mount *m = e2_mount_of(req);
	struct e2_cred cred;
	int r;

	e2_cred_init(m, req, &cred);
	pthread_mutex_lock(&m->lock);
	r = e2_removexattr_locked(m, &cred, e2_ino_of(node), name);
	pthread_mutex_unlock(&m->lock);
	fuse_reply_err(req, -r);
}
