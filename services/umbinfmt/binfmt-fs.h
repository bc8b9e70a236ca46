/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * umbinfmt's binfmt_misc directory in trap mode, served through FUSE from
 * a binfmt_table as the kernel serves its own: `register` (0200,
 * write-only), `status` (0644: "enabled"/"disabled"; 0, 1, -1 written to
 * it), and one 0644 file per entry showing it in the kernel's format (0,
 * 1, -1 written to it), all owned by the view's root and of size 0.
 */
#pragma once

#include <time.h>
#include <vos/service.h>

#include "binfmt-table.h"

struct binfmt_fs {
	struct binfmt_table *table;
	const struct vos_service_host *host; /* F: the interpreter is opened as the writer sees it */
	struct timespec mounted_at;          /* the times of root, status and register */
};

/* struct vos_fs_mount.serve: serve the mounted connection `fuse_fd` (owned)
 * until it ends; the table counts it as a mount meanwhile. */
void binfmt_fs_serve(void *binfmt_fs, int fuse_fd);
