/* SPDX-License-Identifier: GPL-2.0-or-later */
/* One reader at a time, for modules that promise VOS_FUSE_HINT_SERIAL_READER
 * (vos-fuse-hints.h).
 *
 * A request is a synchronous call: its caller sleeps until the answer, and
 * a thread asleep in read() on the connection must be woken for each
 * request. On a virtual machine those wake-ups cost more than the work
 * (see burst-poll.h). A thread that polls the connection instead sees the
 * next request without being woken, and its caller need not wake anybody;
 * but only if no other thread sleeps in read() there, or the kernel wakes
 * that one anyway. So the module's threads take turns: the one holding
 * the turn reads (busy-polling while requests come in a burst and no
 * other of its threads is working), the others wait on a condition
 * variable. The holder keeps the turn while it serves the request, since
 * the module would serialise it anyway, except after a READ: read-ahead
 * sends several at once, which are worth serving side by side.
 *
 * Measured on a 2-core VM, umfuseext2 with several threads: untar of
 * /usr/include 3.2-3.4 s against 3.5-4.6 s with all threads in read();
 * sequential reads 1.2-1.5 GB/s against 1.3-1.7. */
#include <linux/fuse.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <unistd.h>

#include "burst-poll.h"
#include "fuse-runner.h"

static pthread_mutex_t turn_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t turn_free = PTHREAD_COND_INITIALIZER;
static pid_t turn_holder;	/* 0: nobody */
static int waiting;

static atomic_int serving;	/* threads between a request and their next read() */
static _Atomic uint64_t last_request_ns;
static pthread_key_t serving_key;	/* set while this thread serves */
static bool have_serving_key;
static pthread_once_t setup_once = PTHREAD_ONCE_INIT;
static int spin_cpus;	/* 0: never spin */


static void stop_serving(void *unused);

static void setup(void)
{
	/* a thread that ends while serving (libfuse ends idle ones) stops */
	have_serving_key = pthread_key_create(&serving_key, stop_serving) == 0;
	spin_cpus = have_serving_key ? burst_poll_cpus() : 0;
}

static bool cpus_idle_enough(uint64_t now)
{
	static _Atomic uint64_t checked_ns;
	static atomic_bool busy;
	if (now - atomic_load(&checked_ns) > BURST_POLL_LOAD_CHECK_US * 1000ull) {
		atomic_store(&checked_ns, now);
		atomic_store(&busy, burst_cpus_busy(spin_cpus));
	}
	return !atomic_load(&busy);
}

/* Busy-poll until a request is there or the burst is over. */
static void spin_for_request(int fd)
{
	uint64_t last = atomic_load(&last_request_ns), now = burst_now_ns();
	const uint64_t window = BURST_POLL_WINDOW_US * 1000ull;
	if (!spin_cpus || now - last >= window || atomic_load(&serving) != 0 || !cpus_idle_enough(now))
		return;
	struct pollfd p = { .fd = fd, .events = POLLIN };
	while (burst_now_ns() - last < window)
		if (poll(&p, 1, 0) != 0)
			return;
}

static void give_turn_locked(void)
{
	turn_holder = 0;
	if (waiting)
		pthread_cond_signal(&turn_free);
}

static void give_turn(void *unused)
{
	(void)unused;
	pthread_mutex_lock(&turn_lock);
	give_turn_locked();
	pthread_mutex_unlock(&turn_lock);
}

/* The destructor of serving_key: a thread that ends while it serves
 * (libfuse ends idle workers after their request) stops serving, and
 * gives up the turn if it kept it. */
static void stop_serving(void *unused)
{
	(void)unused;
	atomic_fetch_sub(&serving, 1);
	pthread_mutex_lock(&turn_lock);
	if (turn_holder == gettid())
		give_turn_locked();
	pthread_mutex_unlock(&turn_lock);
}

static void stop_waiting(void *unused)
{
	(void)unused;
	waiting--;
	pthread_mutex_unlock(&turn_lock);
}

/* Cancellation points (libfuse's multi-threaded loop cancels idle
 * workers): the wait and the read, each with its cleanup. */
static void take_turn(pid_t self)
{
	pthread_mutex_lock(&turn_lock);
	waiting++;
	pthread_cleanup_push(stop_waiting, NULL);
	while (turn_holder && turn_holder != self)
		pthread_cond_wait(&turn_free, &turn_lock);
	turn_holder = self;
	pthread_cleanup_pop(1);
}

ssize_t runner_serial_read(ssize_t (*libc_read)(int, void *, size_t), int fd, void *buf, size_t count)
{
	pthread_once(&setup_once, setup);
	if (have_serving_key && pthread_getspecific(serving_key)) {
		pthread_setspecific(serving_key, NULL);
		atomic_fetch_sub(&serving, 1);
	}
	pid_t self = gettid();
	take_turn(self);
	ssize_t r;
	pthread_cleanup_push(give_turn, NULL);
	spin_for_request(fd);
	r = libc_read(fd, buf, count);
	pthread_cleanup_pop(0);
	if (r > 0 && have_serving_key) {
		atomic_store(&last_request_ns, burst_now_ns());
		atomic_fetch_add(&serving, 1);
		pthread_setspecific(serving_key, &serving_key);
	}
	/* keep the turn while serving, but not without the key that gives
	 * it up should this thread end first */
	if (!have_serving_key || r < (ssize_t)sizeof(struct fuse_in_header) ||
	    ((const struct fuse_in_header *)buf)->opcode == FUSE_READ)
		give_turn(NULL);
	return r;
}
