/* SPDX-License-Identifier: GPL-2.0-or-later */
/* umfuseext2: an ext2/3/4 filesystem for umfuse (and kernel FUSE) built on
 * libext2fs and the libfuse 3 low-level API. Private header shared by the
 * files of this directory:
 *   ext2fs-main.c     options, opening the image, the FUSE session
 *   ext2fs-ops.c      the FUSE low-level operations table
 *   ext2fs-inode.c    inode helpers: times, stat, create, free, size limits
 *   ext2fs-perm.c     human-mode permission rules (pure functions)
 *   ext2fs-acl.c      POSIX ACL <-> ext4 on-disk ACL, ACL evaluation
 *   ext2fs-xattr.c    extended attributes
 *   ext2fs-journal.c  in-memory journal replay for read-only mounts
 *   ext2fs-openfile.c open counts, deferred freeing of unlinked open inodes
 *   ext2fs-errno.c    libext2fs error codes to errnos
 *   dircache.c        per-directory name -> inode hash cache
 */
#pragma once

#define FUSE_USE_VERSION 312

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>

#include <ext2fs/ext2_fs.h>
#include <ext2fs/ext2fs.h>
#include <fuse_lowlevel.h>

#include "dircache.h"

#define E2_EXPORT __attribute__((visibility("default")))

#ifndef _cleanup_
#define _cleanup_(f) __attribute__((cleanup(f)))
static inline void e2_freep(void *p) { free(*(void **)p); }
#define _cleanup_free_ _cleanup_(e2_freep)
#define TAKE_PTR(p) ({ __typeof__(p) _p = (p); (p) = NULL; _p; })
#endif

/* The kernel's errno for "filesystem corrupted" (EFSCORRUPTED). */
#define E2_EFSCORRUPTED EUCLEAN

/* ext4's link count limit (EXT4_LINK_MAX). */
#define E2_LINK_MAX 65000

/* Credentials a request is checked against. In omnipotent mode `privileged`
 * is set for every caller and nothing is refused for permission reasons. */
struct e2_cred {
	uid_t uid;
	gid_t gid;
	bool privileged;	/* uid 0 in human mode, everybody in omnipotent mode */
	bool omnipotent;	/* omnipotent mode: uid is still the caller's */
	bool groups_loaded;
	int ngroups;
	gid_t groups[64];
	fuse_req_t req;		/* to load supplementary groups lazily, or NULL */
};

struct e2_openfile_table;

/* One mounted image. Everything that touches `fs` holds `lock`: libext2fs is
 * not thread-safe. */
struct e2_mount {
	ext2_filsys fs;
	pthread_mutex_t lock;
	char *source;
	bool rw;
	bool human;
	bool fixed_uid, fixed_gid;	/* human,uid=N / gid=N given */
	uid_t uid;
	gid_t gid;
	bool debug;
	bool replayed;			/* journal replayed in memory (read-only) */
	bool marked_in_use;		/* rw: superblock says "not clean" until close */
	double entry_timeout;
	double attr_timeout;
	uint32_t next_generation;
	uint64_t max_extent_size;	/* s_maxbytes of ext4 */
	uint64_t max_bitmap_size;	/* s_bitmap_maxbytes of ext4 */
	struct dircache *dircache;
	struct e2_openfile_table *open;
	struct fuse_session *se;
	struct {			/* ext2fs-flusher.c; under `lock` */
		pthread_t thread;
		pthread_cond_t wake;
		struct timespec at;	/* when the due flush runs */
		bool running, stop, due;
	} flusher;
};

/* ---- ext2fs-errno.c ---- */
/* libext2fs error code (or plain errno) to a negative errno. */
int e2_errno(errcode_t err);

/* ---- ext2fs-inode.c ---- */
enum e2_time { E2_ATIME, E2_MTIME, E2_CTIME, E2_CRTIME };

int e2_read_inode(struct e2_mount *m, ext2_ino_t ino, struct ext2_inode_large *ret_inode);
int e2_write_inode(struct e2_mount *m, ext2_ino_t ino, struct ext2_inode_large *inode);
void e2_inode_get_time(const struct ext2_inode_large *inode, enum e2_time which,
		       struct timespec *ret_ts);
void e2_inode_set_time(struct ext2_inode_large *inode, enum e2_time which,
		       const struct timespec *ts);
void e2_inode_touch(struct ext2_inode_large *inode, bool mtime);
uid_t e2_inode_uid(const struct ext2_inode_large *inode);
gid_t e2_inode_gid(const struct ext2_inode_large *inode);
void e2_inode_set_uid(struct ext2_inode_large *inode, uid_t uid);
void e2_inode_set_gid(struct ext2_inode_large *inode, gid_t gid);
dev_t e2_inode_rdev(const struct ext2_inode_large *inode);
void e2_inode_set_rdev(struct ext2_inode_large *inode, dev_t rdev);
void e2_inode_stat(struct e2_mount *m, ext2_ino_t ino, const struct ext2_inode_large *inode,
		   struct stat *ret_st);
int e2_ftype(mode_t mode);
bool e2_valid_ino(const struct e2_mount *m, ext2_ino_t ino);
uint64_t e2_max_extent_size(unsigned blocksize_bits, bool huge_file);
uint64_t e2_max_bitmap_size(unsigned blocksize_bits, bool huge_file);
uint64_t e2_max_size(const struct e2_mount *m, const struct ext2_inode_large *inode);
/* Allocate and write a new inode (not linked anywhere yet). */
int e2_inode_new(struct e2_mount *m, ext2_ino_t parent, mode_t mode, uid_t uid, gid_t gid,
		 dev_t rdev, ext2_ino_t *ret_ino);
/* Drop one link; frees the inode when it reaches zero and nobody has it open. */
int e2_inode_unref(struct e2_mount *m, ext2_ino_t ino, bool is_dir);
/* Free an inode with links_count 0: blocks, xattrs, bitmap. */
int e2_inode_free(struct e2_mount *m, ext2_ino_t ino);
/* Set the size of a regular file (allocating nothing, freeing past the end). */
int e2_inode_truncate(struct e2_mount *m, ext2_ino_t ino, uint64_t size);
/* Are there enough free blocks for `blocks` more (plus a safety margin)? */
bool e2_can_allocate(struct e2_mount *m, const struct e2_cred *cred, uint64_t blocks);

/* ---- ext2fs-perm.c ---- */
#define E2_MAY_EXEC 1
#define E2_MAY_WRITE 2
#define E2_MAY_READ 4

struct e2_acl;
bool e2_cred_in_group(struct e2_cred *cred, gid_t gid);
/* generic_permission(): 0 or -EACCES. `acl` may be NULL. */
int e2_perm_check(struct e2_cred *cred, mode_t mode, uid_t owner, gid_t group,
		  const struct e2_acl *acl, int mask);
/* May `cred` remove/rename an entry owned by `owner` from a directory? */
int e2_perm_sticky(const struct e2_cred *cred, mode_t dir_mode, uid_t dir_owner, uid_t owner);
bool e2_perm_owner_or_cap(const struct e2_cred *cred, uid_t owner);
/* chown rules: 0 or -EPERM. (uid_t)-1 / (gid_t)-1 mean "unchanged". */
int e2_perm_chown(struct e2_cred *cred, uid_t owner, gid_t group, uid_t new_uid, gid_t new_gid);
/* Mode to store on chmod (SGID dropped when the caller is not in the group). */
int e2_perm_chmod(struct e2_cred *cred, uid_t owner, gid_t group, mode_t mode, mode_t *ret_mode);
/* Mode bits to clear on write/truncate (SUID, SGID when group-exec): for
 * an unprivileged credential, and in omnipotent mode for a caller other
 * than root, as the kernel clears them for a caller without CAP_FSETID. */
mode_t e2_perm_killpriv(const struct e2_cred *cred, mode_t mode);
/* Full check on an inode, with its ACL if any. */
int e2_access(struct e2_mount *m, struct e2_cred *cred, ext2_ino_t ino,
	      const struct ext2_inode_large *inode, int mask);

/* ---- ext2fs-acl.c ---- */
#define E2_ACL_ACCESS "system.posix_acl_access"
#define E2_ACL_DEFAULT "system.posix_acl_default"
#define E2_ACL_MAX_ENTRIES 512

struct e2_acl_entry {
	uint16_t tag;
	uint16_t perm;
	uint32_t id;
};

struct e2_acl {
	int count;
	struct e2_acl_entry e[E2_ACL_MAX_ENTRIES];
};

/* Parse the user-visible (xattr) or on-disk (ext4) format. 0 or -EINVAL. */
int e2_acl_from_xattr(const void *buf, size_t size, struct e2_acl *ret_acl);
int e2_acl_from_disk(const void *buf, size_t size, struct e2_acl *ret_acl);
/* Serialise; return the size written, or the size needed if buf is NULL. */
size_t e2_acl_to_xattr(const struct e2_acl *acl, void *buf);
size_t e2_acl_to_disk(const struct e2_acl *acl, void *buf);
int e2_acl_valid(const struct e2_acl *acl);
/* posix_acl_permission(): 0 or -EACCES. */
int e2_acl_permission(struct e2_cred *cred, uid_t owner, gid_t group,
		      const struct e2_acl *acl, int mask);
/* Mode bits equivalent to an ACL; returns true if the ACL is equivalent to
 * the mode (and can be dropped). */
bool e2_acl_equiv_mode(const struct e2_acl *acl, mode_t *mode);
/* Apply a new mode to an ACL's owner/group-or-mask/other entries. */
void e2_acl_chmod(struct e2_acl *acl, mode_t mode);
/* posix_acl_create_masq(): mask `mode` by the inherited ACL, update it. */
void e2_acl_create_masq(struct e2_acl *acl, mode_t *mode);

/* ---- ext2fs-xattr.c ---- */
/* Read an ACL of an inode: 0 (found), -ENODATA or another -errno. */
int e2_xattr_get_acl(struct e2_mount *m, ext2_ino_t ino, const char *name,
		     struct e2_acl *ret_acl);
int e2_xattr_set_acl(struct e2_mount *m, ext2_ino_t ino, const char *name,
		     const struct e2_acl *acl);
bool e2_inode_may_have_xattrs(struct e2_mount *m, ext2_ino_t ino,
			      const struct ext2_inode_large *inode);
/* Inherit default ACLs on a newly created inode; adjusts *mode. */
int e2_acl_inherit(struct e2_mount *m, ext2_ino_t dir, bool *ret_has_default,
		   struct e2_acl *ret_default);
void e2_op_getxattr(fuse_req_t req, fuse_ino_t node, const char *name, size_t size);
void e2_op_setxattr(fuse_req_t req, fuse_ino_t node, const char *name, const char *value,
		    size_t size, int flags);
void e2_op_listxattr(fuse_req_t req, fuse_ino_t node, size_t size);
void e2_op_removexattr(fuse_req_t req, fuse_ino_t node, const char *name);

/* ---- ext2fs-openfile.c ---- */
struct e2_openfile_table *e2_openfile_new(void);
void e2_openfile_free(struct e2_openfile_table *t);
void e2_openfile_get(struct e2_openfile_table *t, ext2_ino_t ino);
/* Returns true when the last opener went away and the inode was orphaned. */
bool e2_openfile_put(struct e2_openfile_table *t, ext2_ino_t ino);
bool e2_openfile_is_open(struct e2_openfile_table *t, ext2_ino_t ino);
/* Remember that `ino` must be freed at its last close. */
void e2_openfile_orphan(struct e2_openfile_table *t, ext2_ino_t ino);
/* Pop one orphan (for unmount); 0 when none is left. */
ext2_ino_t e2_openfile_pop_orphan(struct e2_openfile_table *t);

/* ---- ext2fs-journal.c ---- */
/* For a read-only mount of an image whose journal needs recovery: replay
 * the journal into memory and make `fs` read through it. 0 or -errno with a
 * message in ret_msg. */
int e2_journal_replay_ro(struct e2_mount *m, const char **ret_msg);

/* ---- ext2fs-flusher.c ---- */
/* The flusher thread of a read-write mount: e2_flusher_request (with
 * m->lock held) asks for a flush of the image soon; e2_flusher_done (held)
 * says one was just made. Without a running flusher a request flushes at
 * once. 0 or -errno. */
int e2_flusher_start(struct e2_mount *m);
void e2_flusher_request(struct e2_mount *m);
void e2_flusher_done(struct e2_mount *m);
void e2_flusher_stop(struct e2_mount *m);

/* ---- ext2fs-ops.c ---- */
extern const struct fuse_lowlevel_ops e2_ops;
/* Write the image's metadata (superblock, group descriptors, bitmaps),
 * with `sync` also fsync it; m->lock held. 0 or -errno. */
int e2_flush_fs(struct e2_mount *m, bool sync);
struct e2_mount *e2_mount_of(fuse_req_t req);
void e2_cred_init(struct e2_mount *m, fuse_req_t req, struct e2_cred *ret_cred);
ext2_ino_t e2_ino_of(fuse_ino_t node);
fuse_ino_t e2_node_of(ext2_ino_t ino);
