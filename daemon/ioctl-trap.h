/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The ioctls FUSE cannot carry to a device node: those whose encoding
 * gives no argument size (BLKSSZGET, HDIO_GETGEO...) or a smaller one than
 * the argument really has (TUNSETIFF: `int` for a struct ifreq). The
 * filter traps ioctl for these request numbers only; the supervisor
 * answers them when the fd is one of the view's device nodes and hands
 * every other fd back to the kernel. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "view.h"

/* The request numbers the filter traps (filter.c). */
extern const uint32_t ioctl_trap_requests[];
extern const size_t ioctl_trap_requests_count;

/* The device number of the device node just mounted at `target` (as
 * process `pid` gives it), as statx of an fd on that node reports it from
 * the supervisor: what the trap compares fds with. 0 or -errno. */
int ioctl_trap_node_dev(struct vos_view *view, pid_t pid, const char *target, dev_t *ret);

/* On the event loop's thread: answer at once (CONTINUE) unless the fd is
 * one of the view's device nodes. True when answered. */
bool ioctl_trap_fast(struct vos_view *view, const struct seccomp_notif *notif);

/* On a handler thread: answer the ioctl from the device's ioctl op. */
void ioctl_trap(struct vos_view *view, const struct seccomp_notif *notif);
