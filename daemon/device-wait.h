/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Waiting on a device whose I/O can block (struct vos_device_ops.poll_fd):
 * a blocking read or write that finds nothing to do is parked here and
 * answered later from one thread per node that polls the device's fds, so
 * no FUSE worker thread sleeps on a device; poll(2) on the node registers
 * its FUSE poll handle here and is notified the same way. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <vos/service.h>

struct device_node;
struct device_wait;

/* Start the waiter of `node` (its poll_fd must be set). 0 or -errno. */
int device_wait_new(struct device_node *node, struct device_wait **ret);

/* Stop the thread, answer every parked request with EIO and drop every
 * poll handle. Call once the node's FUSE session loop has ended (no more
 * interrupts arrive). Accepts NULL. */
void device_wait_free(struct device_wait *wait);

/* A read or write of a caller that may block found the device not ready
 * (-EAGAIN): park it (a copy of `buf` for a write) and answer it when the
 * device's fd is ready, or with EINTR when the caller is interrupted.
 * Takes over `req` and returns true; false (req untouched) when `wait` is
 * NULL or the file is O_NONBLOCK. */
bool device_wait_read(struct device_wait *wait, fuse_req_t req, const struct fuse_file_info *fi,
		      size_t size, off_t offset);
bool device_wait_write(struct device_wait *wait, fuse_req_t req, const struct fuse_file_info *fi,
		       const char *buf, size_t size, off_t offset);

/* FUSE poll: answer the events ready now; with `ph`, keep it and notify
 * it once the requested events may be ready (takes over `ph`). */
void device_wait_poll(struct device_wait *wait, fuse_req_t req, const struct fuse_file_info *fi,
		      struct fuse_pollhandle *ph);
