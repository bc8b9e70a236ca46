/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A module's requests, counted for burst-poll.h: the runner exports its
 * own read() (fuse-runner.dynlist), which the module's libfuse calls to
 * take each request from the connection (fd 3). Every other read()
 * passes straight to the C library's.
 *
 * Only a module that serves from one thread is helped: with several
 * (fuse_session_loop_mt), one of them already waits in read() for each
 * request, and the poller was measured to slow untar by 10-20%. So the
 * counting stops for good once a second thread reads the connection. */
#include <dlfcn.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "burst-poll.h"
#include "fuse-runner.h"

static struct burst_poll *poller;
static atomic_int reader_tid;   /* the one thread reading requests, -1: several */

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

static bool one_reader(void)
{
	int self = (int)gettid(), seen = 0;
	if (atomic_compare_exchange_strong(&reader_tid, &seen, self))
		return true; /* the first */
	if (seen == self)
		return true;
	if (seen != -1)
		atomic_store(&reader_tid, -1);
	return false;
}

ssize_t read(int fd, void *buf, size_t count)
{
	static ssize_t (*libc_read)(int, void *, size_t);
	if (!libc_read)
		*(void **)&libc_read = dlsym(RTLD_NEXT, "read");
	/* libc's read, not syscall(): it is a cancellation point, which
	 * libfuse's multi-threaded loop relies on to stop idle workers. */
	ssize_t r = libc_read ? libc_read(fd, buf, count) : syscall(SYS_read, fd, buf, count);
	if (r > 0 && fd == RUNNER_FUSE_FD && poller && one_reader())
		burst_poll_request(poller);
	return r;
}
