/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Keeping a CPU awake while a FUSE server is busy.
 *
 * A FUSE request is a synchronous call: the caller sleeps in its system
 * call until the server answers, so each request wakes the server and then
 * the caller. A CPU with nothing to run halts, and a wake-up that lands on
 * a halted CPU costs more than the request's work, above all on virtual
 * machines. Measured on a 2-core VM (Linux 6.18): untar of /usr/include
 * onto umfuseext2 takes 6.3-7.0 s; 1.5 s with the server and tar pinned
 * to one CPU; 1.7-2.5 s with one low-priority busy-looping process beside
 * them, which keeps the other CPU from halting (and makes the scheduler
 * hand each wake-up over on the CPU that is about to block).
 *
 * So while requests keep coming (each within BURST_POLL_WINDOW_US of the
 * last) a poller process busy-loops at the lowest priority there is
 * without SCHED_IDLE: its own session, hence its own scheduling
 * autogroup, at nice 19, and itself at nice 19, so that against a
 * normal thread it weighs 15 to 1024 whether or not autogroups are in
 * effect. (A SCHED_IDLE poller keeps no CPU awake: the scheduler leaves
 * it queued behind the busy CPU's work instead of moving it to the CPU
 * that falls idle.) While more threads are runnable than there are CPUs
 * (/proc/loadavg, BURST_POLL_BUSY_LOOKS looks in a row), no CPU halts
 * anyway, and the poller sleeps instead.
 * After a window without requests it sleeps until the next one.
 *
 * The poller is a separate program (spawned, so that the server's memory
 * is not shared copy-on-write with it), sharing one page with the server
 * and dying with it. VOS_FUSE_POLL=0 in the environment turns it off. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define BURST_POLL_WINDOW_US 2000
#define BURST_POLL_LOAD_CHECK_US 1000
#define BURST_POLL_BUSY_LOOKS 3
#define BURST_POLL_BACKOFF_US 5000

struct burst_poll;

/* Start the poller: `argv` runs it (argv[0] the program), with the shared
 * page at fd 3 and the server's pid as the last argument, which the
 * program passes to burst_poll_run. NULL when turned off, on a single CPU,
 * or if it cannot start: the other calls accept NULL and do nothing. */
struct burst_poll *burst_poll_new(const char *const *argv);

/* A request was taken (by any thread). */
void burst_poll_request(struct burst_poll *bp);

void burst_poll_free(struct burst_poll *bp);

/* How many CPUs there are to keep awake: those this thread may run on, or
 * 0 when VOS_FUSE_POLL=0 is in the environment or there is only one. */
int burst_poll_cpus(void);

/* CLOCK_MONOTONIC, in nanoseconds. */
uint64_t burst_now_ns(void);

/* Whether more threads are runnable than `cpus` (/proc/loadavg), besides
 * the caller and the server of the request in flight: then no CPU halts,
 * and keeping one awake gains nothing. */
bool burst_cpus_busy(int cpus);

/* The poller's main: poll for `parent` (a pid, as text) through the
 * shared page at fd 3 until `parent` stops it or dies. Exit status. */
int burst_poll_run(const char *parent);
