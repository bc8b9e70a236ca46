/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The request loop of a module: libfuse's fuse_session_loop, replaced
 * (exported through fuse-runner.dynlist, so the module's call lands here)
 * by the same loop built on libfuse's public calls plus one step: each
 * request is reported to burst-poll.h, which keeps a CPU from halting
 * while requests keep coming. libfuse itself is the module's (the runner
 * does not link it): its calls are looked up through the module's handle
 * (its own scope: the module and its libraries, not this program); if one
 * is missing, libfuse's own loop runs. */
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>

#define FUSE_USE_VERSION 312
#include <fuse_lowlevel.h>

#include "burst-poll.h"
#include "fuse-runner.h"

static struct {
	int (*receive)(struct fuse_session *, struct fuse_buf *);
	void (*process)(struct fuse_session *, const struct fuse_buf *);
	int (*exited)(struct fuse_session *);
	void (*reset)(struct fuse_session *);
	int (*loop)(struct fuse_session *); /* libfuse's own */
} lib;

void runner_loop_bind(void *module_handle)
{
	*(void **)&lib.receive = dlsym(module_handle, "fuse_session_receive_buf");
	*(void **)&lib.process = dlsym(module_handle, "fuse_session_process_buf");
	*(void **)&lib.exited = dlsym(module_handle, "fuse_session_exited");
	*(void **)&lib.reset = dlsym(module_handle, "fuse_session_reset");
	*(void **)&lib.loop = dlvsym(module_handle, "fuse_session_loop", "FUSE_3.0");
	if (lib.loop == fuse_session_loop)
		lib.loop = NULL; /* never ourselves */
}

int fuse_session_loop(struct fuse_session *se)
{
	if (!lib.receive || !lib.process || !lib.exited || !lib.reset)
		return lib.loop ? lib.loop(se) : -ENOSYS; /* not reached with libfuse 3 */
	const char *const poller[] = { "/proc/self/exe", "poll", NULL };
	struct burst_poll *poll = burst_poll_new(poller);
	struct fuse_buf buf = { .mem = NULL };
	int r = 0;
	while (!lib.exited(se)) {
		r = lib.receive(se, &buf);
		if (r == -EINTR)
			continue;
		if (r <= 0)
			break;
		burst_poll_request(poll);
		lib.process(se, &buf);
	}
	burst_poll_free(poll);
	free(buf.mem);
	lib.reset(se);
	return r < 0 ? r : 0;
}
