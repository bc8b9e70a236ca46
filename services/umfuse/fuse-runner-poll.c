/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A module's requests, counted for burst-poll.h: the runner exports its
 * own read() (fuse-runner.dynlist), which the module's libfuse calls to
 * take each request from the connection (fd 3), whichever loop the module
 * runs (fuse_session_loop or fuse_session_loop_mt). Every other read()
 * passes straight to the C library's. */
#include <dlfcn.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "burst-poll.h"
#include "fuse-runner.h"

static struct burst_poll *poller;

static void poll_stop(void)
{
	burst_poll_free(poller);
	poller = NULL;
}

void runner_poll_start(void)
{
	const char *const argv[] = { "/proc/self/exe", "poll", NULL };
	poller = burst_poll_new(argv);
	if (poller)
		atexit(poll_stop);
}

ssize_t read(int fd, void *buf, size_t count)
{
	static ssize_t (*libc_read)(int, void *, size_t);
	if (!libc_read)
		*(void **)&libc_read = dlsym(RTLD_NEXT, "read");
	/* libc's read, not syscall(): it is a cancellation point, which
	 * libfuse's multi-threaded loop relies on to stop idle workers. */
	ssize_t r = libc_read ? libc_read(fd, buf, count) : syscall(SYS_read, fd, buf, count);
	if (r > 0 && fd == RUNNER_FUSE_FD && poller)
		burst_poll_request(poller);
	return r;
}
