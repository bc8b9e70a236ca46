/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * umnet's core half: network stacks mounted as nodes, the view's default
 * stack (the one on /dev/net/default), sockets created in a stack and
 * injected into the caller, and the permanent default (-o perm) that no
 * process of the view can undo.
 *
 * A stack is a network namespace fd (or none: a null stack). socket() of a
 * process of the view is trapped: with no default stack, or from a process
 * that left the view's network namespace (mstack), or when the default is
 * the caller's own namespace, the kernel runs it (CONTINUE); otherwise the
 * socket is made in the default stack and installed with ADDFD. AF_UNIX
 * sockets are local IPC, not networking: always the kernel's.
 */
#pragma once

#include <linux/seccomp.h>
#include <stdbool.h>
#include <stdint.h>

#include <vos/service.h>

struct vos_view;
struct view_service;
struct netstack_table;

/* The network stack named `subtype` in the service, or NULL. */
const struct vos_netstack *netstack_find(const struct view_service *svc, const char *subtype);

/* mount -t <service><subtype> SOURCE TARGET for a stack: create it, show it
 * as a read-only node at TARGET; on /dev/net/default it becomes the view's
 * default stack (for good with -o perm). 0 or -errno. */
int netstack_mount(struct vos_view *view, struct view_service *svc, const struct vos_netstack *stack,
		   const struct vos_mount_request *req, const char *target);

/* No default stack and nothing permanent: every network call of the view
 * is the kernel's (the event loop answers them at once). */
bool netstack_passthrough(struct vos_view *view);

/* socket, setns, unshare, io_uring_setup (always), and while the default is
 * permanent, the mount calls that would take its node away. Returns true
 * when it answered the notification, false to let the mount code do it. */
bool netstack_trap(struct vos_view *view, const struct seccomp_notif *notif);

/* The view-control calls VOS_CONTROL_MSOCKET and VOS_CONTROL_STACK_NETNS
 * (`path` and `arg` read from the caller). Answers the notification. */
void netstack_control(struct vos_view *view, const struct seccomp_notif *notif, uint32_t op,
		      const char *path, const char *arg);

/* At the end of the view, after the helper is gone: wait for the stack
 * nodes' servers and release every stack. Accepts NULL. */
void netstack_table_free(struct netstack_table *table);
