/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A module's requests, counted for burst-poll.h (fuse-runner-io.c calls
 * runner_poll_request for each request the module reads).
 *
 * Only a module that serves from one thread is helped: with several
 * (fuse_session_loop_mt), one of them already waits in read() for each
 * request, and the poller was measured to slow untar by 10-20%. So the
 * counting stops for good once a second thread reads the connection.
 * Modules that promise VOS_FUSE_HINT_SERIAL_READER get no poller: their
 * reading thread polls itself (fuse-runner-serial.c). */
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
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

void runner_poll_request(void)
{
	if (poller && one_reader())
		burst_poll_request(poller);
}
