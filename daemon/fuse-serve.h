/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Serving one kernel FUSE connection (a /dev/fuse fd the view helper opened
 * and mounted) with a libfuse3 low-level session on its own threads. Every
 * request of a service's connection is a call into that service
 * (service-fault.h): if it crashes, the request fails with EIO and the
 * connection is cut. */
#pragma once

#include <stddef.h>

#include <vos/service.h>

struct fuse_server;
struct service_guard;

/* Called once from the server's thread when the connection has ended
 * (unmounted, aborted, or the view is gone). */
typedef void (*fuse_server_end_fn)(void *ctx);

/* Takes ownership of `fuse_fd`. `guard`: the service whose code `ops`
 * run, NULL for the core's own. Returns 0 or -errno. */
int fuse_server_start(int fuse_fd, const struct fuse_lowlevel_ops *ops, size_t ops_size,
		      void *userdata, fuse_server_end_fn on_end, void *ctx,
		      struct service_guard *guard, struct fuse_server **ret);

/* The same for a service that serves the connection itself: `serve` runs
 * on the server's thread, owns `fuse_fd`, returns when the connection ends. */
int fuse_server_start_custom(int fuse_fd, void (*serve)(void *userdata, int fuse_fd), void *userdata,
			     fuse_server_end_fn on_end, void *ctx, struct service_guard *guard,
			     struct fuse_server **ret);

/* Cut the connection: requests being processed fail with EIO, later ones
 * (and waiting ones) with ENOTCONN once the workers have let go of it; the
 * server then ends as if unmounted. Idempotent; any thread. Not for a
 * custom server (its service owns the fd). */
void fuse_server_abort(struct fuse_server *server);

/* Wait up to `timeout_ms` for a server whose connection is ending (the
 * mount is gone or the view's mount namespace died), then free it.
 * Returns 0, or -ETIMEDOUT and leaves the server running. */
int fuse_server_join(struct fuse_server *server, int timeout_ms);
