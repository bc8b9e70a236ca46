/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vosd's event loop: many views, each handed over by a `vos run` client
 * (libvos/daemon-proto.h), served by one process.
 *
 * Threads: the loop thread waits on every attached view's seccomp listener,
 * the listening socket (or, in a per-user worker, the channel on which the
 * root daemon passes connections) and a signalfd; each client connection
 * gets its own thread, so a client that connects and never speaks, or a
 * slow service init, blocks nobody else. Notifications are dispatched as in
 * the embedded supervisor (dispatch.h).
 *
 * A view's lifetime. PREPARE_VIEW creates it (the client's namespaces and
 * helper; services preloaded; the working-directory layer mounted);
 * ATTACH_COMMAND gives it the seccomp listener. It ends:
 *  - before ATTACH_COMMAND: when the client's connection closes (the client
 *    failed or died between the two steps; no process of the view can have
 *    the filter yet, so nothing depends on us);
 *  - after ATTACH_COMMAND: when the listener reports EPOLLHUP, i.e. no
 *    process uses the filter any more (the kernel drops a task's filter
 *    when it is reaped). The client's connection closing does not end it:
 *    if the client was killed, the view's processes are still running and
 *    still need their services, so they keep being served until the last
 *    one is gone. When both happen, the later one ends the view; after
 *    attach that is always the listener's EPOLLHUP, since a closed
 *    connection alone never ends an attached view.
 *  - `vosctl stop VIEW` kills every process of the view (those in its mount
 *    or user namespace), which leads to the EPOLLHUP above.
 * Ending closes the helper socket (the helper exits, the namespaces and
 * their FUSE mounts go), waits for in-flight handlers and frees the view on
 * a thread of its own, never on the loop thread.
 *
 * View ids are unique per daemon: id_base + n (the root daemon gives each
 * per-user worker its own id_base, so ids are unique across workers).
 */
#pragma once

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

#include "supervisor.h"

#define DAEMON_ID_SHIFT 20 /* view id = worker index << 20 | n */

struct daemon_loop;

struct daemon_config {
	int listen_fd;          /* SOCK_SEQPACKET listening socket, or -1 */
	int channel_fd;         /* worker: connections from the root daemon, or -1 */
	unsigned id_base;       /* first view id is id_base + 1 */
	bool root_dispatcher;   /* root: pass non-root peers to per-user workers */
	const char *self_exe;   /* for starting workers: /proc/self/exe */
	const char *config_path;/* re-read on SIGHUP; NULL: none */
	bool sd_notify;         /* tell systemd READY/RELOADING/STOPPING */
	bool verbose;           /* debug log whatever the configuration says */
};

/* A worker's channel message: one connection fd attached. */
struct daemon_channel_msg {
	uint32_t uid, gid;
	int32_t pid;
};

int daemon_loop_new(const struct daemon_config *cfg, struct daemon_loop **ret);

/* Serve until SIGTERM/SIGINT (or, for a worker, until the channel closes).
 * Returns 0 or -errno. */
int daemon_loop_run(struct daemon_loop *d);

/* The log level from a configuration file: "log-level=debug|info" lines,
 * '#' comments. Returns true for debug. Missing file: info. */
bool daemon_config_debug(const char *path);
