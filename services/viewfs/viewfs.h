/* SPDX-License-Identifier: GPL-2.0-or-later */
/* viewfs: private types shared by the service's files. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include <vos/service.h>

enum viewfs_mode {
	VIEWFS_MOVE,   /* SOURCE appears at TARGET (a bind mount) */
	VIEWFS_MERGE,  /* SOURCE over TARGET, read-only union (overlay, two lower layers) */
	VIEWFS_COW,    /* TARGET with every change in the layer SOURCE (overlay upper) */
	VIEWFS_MINCOW, /* the same: overlayfs copies up only what is written */
};

#define VIEWFS_EXCEPT_MAX 16

/* The mount options, parsed. */
struct viewfs_args {
	enum viewfs_mode mode;
	bool renew;
	bool debug;
	size_t n_except;
	const char *except[VIEWFS_EXCEPT_MAX]; /* relative to TARGET, as given */
};

const char *viewfs_mode_name(enum viewfs_mode mode);

/* Parse the mount options; on a bad option, log one line and return -EINVAL. */
int viewfs_args_parse(const struct vos_service_host *host, const struct vos_options *options,
		      struct viewfs_args *ret);

/* Append `path` to `buf` (of `size`, NUL-terminated) with ',' ':' and
 * backslash escaped for overlay options. -ENAMETOOLONG if it does not fit. */
int viewfs_escape_append(char *buf, size_t size, const char *path);

/* Is the directory `inner` (an fd) `outer` or below it, walking "..": both
 * fds reach the view's own mount tree (/proc/PID/root/...). */
int viewfs_is_within(int outer, int inner, bool *ret);

/* Remove everything inside directory `dir` (not crossing into other
 * filesystems, never following symlinks): renew. */
int viewfs_empty_dir(int dir);
