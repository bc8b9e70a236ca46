/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A service device presented as a single-file FUSE mount: every read()
 * and write() of a program in the view reaches the device's operations
 * (direct I/O, no page cache). */
#pragma once

#include <stdbool.h>
#include <vos/service.h>

struct device_node {
	const struct vos_device *desc;
	void *dev;          /* from desc->create() */
	uid_t uid;          /* owner shown by stat (the view's root) */
	gid_t gid;
	bool owner;         /* the disk itself: destroy() runs on free */
};

/* The FUSE operations; userdata is a `struct device_node *`. */
extern const struct fuse_lowlevel_ops device_node_ops;

/* Release the node, and the device (desc->ops->destroy) if it owns it. */
void device_node_free(struct device_node *node);
