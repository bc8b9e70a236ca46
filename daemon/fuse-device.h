/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A service device presented as a single-file FUSE mount: every read()
 * and write() of a program in the view reaches the device's operations
 * (direct I/O, no page cache). */
#pragma once

#include <stdbool.h>
#include <vos/service.h>

struct service_guard;

struct device_node {
	const struct vos_device *desc;
	void *dev;                 /* what the operations receive */
	uid_t uid;                 /* owner shown by stat (the view's root) */
	gid_t gid;
	struct device_node *disk;  /* the node whose create() made the device (itself for the disk) */
	struct service_guard *guard; /* the device's service (service-fault.h), set by whoever creates the node */
	unsigned refs;             /* on the disk's node: its nodes still served */
	bool ended;                /* this node's reference is dropped */
	/* The device's poll_fd when its service knows it (ABI >= 1.2), set
	 * by whoever creates the node, and the waiter for its blocking I/O
	 * (device-wait.h), started at FUSE init. */
	int (*poll_fd)(void *dev, uint64_t handle);
	struct device_wait *wait;
	/* The device's read_source when its service knows it (ABI >= 1.3),
	 * set by whoever creates the node. */
	int (*read_source)(void *dev, uint64_t handle, size_t size, off_t offset, int *ret_fd,
			   off_t *ret_offset, size_t *ret_size);
};

/* The FUSE operations; userdata is a `struct device_node *`. */
extern const struct fuse_lowlevel_ops device_node_ops;

/* A node for device `dev`: the disk itself (`disk` NULL, `dev` from
 * create()) or one of its partitions. */
struct device_node *device_node_new(const struct vos_device *desc, void *dev, struct device_node *disk);

/* The node's connection is gone: drop its reference on the device; the
 * last node of a device destroys it (desc->ops->destroy). Idempotent. */
void device_node_end(struct device_node *node);

/* Keep the device behind `node` from being destroyed while a caller
 * outside its FUSE connection (the trapped ioctl) uses it: false when it
 * is already gone. Every successful hold needs a device_node_put(). */
bool device_node_hold(struct device_node *node);
void device_node_put(struct device_node *node);

/* Free the node (ending it first if needed). */
void device_node_free(struct device_node *node);
