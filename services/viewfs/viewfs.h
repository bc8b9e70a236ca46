/* SPDX-License-Identifier: GPL-2.0-or-later */
/* viewfs: private types shared by the service's files. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include <pthread.h>

#include <vos/service.h>

#include "passthrough.h" /* common/ */

enum viewfs_mode {
	VIEWFS_MOVE,   /* SOURCE appears at TARGET (a bind mount) */
	VIEWFS_MERGE,  /* SOURCE over TARGET, read-only union (overlay, two lower layers) */
	VIEWFS_COW,    /* TARGET with every change in the layer SOURCE (overlay upper) */
	VIEWFS_MINCOW, /* the same: overlayfs copies up only what is written */
};

#define VIEWFS_EXCEPT_MAX 16
#define VIEWFS_HIDE_MAX 64
/* merge's read-only binds (keep=); the core takes at most 256 binds on an
 * overlay, except= included (daemon/mount-trap.c LAYER_BINDS_MAX) */
#define VIEWFS_MERGE_BINDS_MAX 200

/* The mount options, parsed. */
struct viewfs_args {
	enum viewfs_mode mode;
	bool mode_given;       /* move, merge, cow or mincow named */
	bool renew;
	bool fuse;             /* cow through fuse-overlayfs even where overlayfs could */
	bool debug;
	bool overlay_only;     /* merge: no read-only binds of TARGET-only directories */
	size_t n_except;
	const char *except[VIEWFS_EXCEPT_MAX]; /* relative to TARGET, as given */
	/* hide=, hidename=, mode=, uid=, gid=: a passthrough served by viewfs */
	bool passthrough;
	bool hide_self;                        /* bare `hide`: TARGET itself disappears */
	size_t n_hide, n_hidename;
	const char *hide[VIEWFS_HIDE_MAX];     /* relative to the mount's root */
	const char *hidename[VIEWFS_HIDE_MAX]; /* names hidden everywhere */
	struct passthrough_attr attr;          /* presented for the root (and below with recursive) */
	char *strings;                         /* holds the split lists */
};

const char *viewfs_mode_name(enum viewfs_mode mode);

/* Parse the mount options; on a bad option, log one line and return -EINVAL. */
int viewfs_args_parse(const struct vos_service_host *host, const struct vos_options *options,
		      struct viewfs_args *ret);
void viewfs_args_free(struct viewfs_args *args);

/* A mode= value: octal ("0444", "755") or symbolic clauses joined by ':'
 * ("a-w", "u+x:go-rwx", "=r"), as mode_clear/mode_set. */
int viewfs_mode_parse(const char *text, struct passthrough_attr *attr);

/* The service, and one mount of it. */
struct viewfs_mount;
struct viewfs {
	const struct vos_service_host *host;
	pthread_mutex_t lock;          /* passthroughs */
	struct viewfs_mount *passthroughs; /* live hide/mode mounts, newest first */
};

struct viewfs_fuse_cow;
struct viewfs_mount {
	bool passthrough;
	struct viewfs_fuse_cow *cow;   /* cow served by fuse-overlayfs (viewfs-fuse-cow.c) */
	char options[8192];            /* kernel mounts: their options */
	/* passthroughs */
	struct viewfs *service;
	struct passthrough *pt;
	char *target;                  /* absolute, as the view sees it */
	struct viewfs_mount *next;
};

#define VIEWFS_LOG(v, ...) (v)->host->log((v)->host->core, __VA_ARGS__)

/* hide, mode: prepare a passthrough of SOURCE (or TARGET) for TARGET, served
 * by viewfs itself (viewfs-passthrough.c). */
int viewfs_passthrough_mount(struct viewfs *v, const struct vos_mount_request *req, const struct viewfs_args *a,
			     struct vos_fs_mount *ret_mount);
/* The mount whose FUSE userdata is `userdata` ended: false if that is not a passthrough. */
bool viewfs_passthrough_unmount(struct viewfs *v, void *userdata);

/* cow and mincow over a tree the view's root has no power over (owned by
 * an id the view does not map, in a view that does not map the host's
 * root): overlayfs would refuse every write, so fuse-overlayfs serves it
 * (viewfs-fuse-cow.c). target_fd: TARGET opened through the view. */
int viewfs_cow_needs_fuse(struct viewfs *v, const struct vos_mount_request *req, int target_fd, bool *ret);
/* Check the paths and find the program; `workdir` as the caller sees it. */
int viewfs_fuse_cow_prepare(struct viewfs *v, const struct vos_mount_request *req, int layer_fd, int target_fd,
			    const char *workdir, struct viewfs_fuse_cow **ret);
void viewfs_fuse_cow_free(struct viewfs_fuse_cow *cow);
/* vos_fs_mount.serve; userdata: the struct viewfs_mount. */
void viewfs_fuse_cow_serve(void *userdata, int fuse_fd);

/* Append `path` to `buf` (of `size`, NUL-terminated) with ',' ':' and
 * backslash escaped for overlay options. -ENAMETOOLONG if it does not fit. */
int viewfs_escape_append(char *buf, size_t size, const char *path);
/* Append `text` as it is; -ENAMETOOLONG if it does not fit. */
int viewfs_append_raw(char *buf, size_t size, const char *text);

/* viewfs-merge.c: append `,keep=NAME` to the overlay options in `buf` for
 * each directory (at most `max`) that TARGET has and SOURCE has not
 * (directories open as `source_fd`, `target_fd`); stops quietly when
 * `buf` is full. 0 or -errno; the number added in `ret_count`. */
int viewfs_merge_binds(int source_fd, int target_fd, char *buf, size_t size, size_t max, size_t *ret_count);

/* Is the directory `inner` (an fd) `outer` or below it, walking "..": both
 * fds reach the view's own mount tree (/proc/PID/root/...). */
int viewfs_is_within(int outer, int inner, bool *ret);

/* Remove everything inside directory `dir` (not crossing into other
 * filesystems, never following symlinks): renew. */
int viewfs_empty_dir(int dir);
