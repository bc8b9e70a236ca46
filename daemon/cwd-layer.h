/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The working-directory layer: a passthrough FUSE filesystem mounted, in
 * the view only, over the directory `vos run` starts in, before the command
 * enters it.
 *
 * Why: `mount -t umdevnull none null` names a mount point that does not
 * exist, relative to the shell's current directory. Creating it on the host
 * is not allowed, and a mount over the directory (an overlay) is invisible
 * to processes whose cwd is already that directory: the kernel never moves
 * a cwd onto a new mount. So the directory the view starts in is served
 * through this layer from the beginning: every operation passes through to
 * the host directory unchanged (writes land on the host), and the view
 * helper, alone, can create entries that exist only in the view — the
 * mount points. Everything outside the starting directory stays native.
 */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "passthrough.h" /* common/: the engine */

/* A layer is a `struct passthrough` (common/passthrough.h) by another name. */
struct cwd_layer;

/* A layer over the directory `dir_fd` (an O_PATH fd, taken over even on
 * failure). `helper_pid` is the only process whose creations become
 * view-only entries. With `user_namespace`, the caller's uid appears as 0
 * in the view and every other uid as 65534 (see to_view() for groups). */
int cwd_layer_new(int dir_fd, pid_t helper_pid, bool user_namespace, struct cwd_layer **ret);
void cwd_layer_free(struct cwd_layer *layer);

/* The FUSE operations; userdata is the `struct cwd_layer *`. */
#define cwd_layer_ops passthrough_ops
