/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "burst-poll.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BURST_POLL_FD 3

extern char **environ;

struct burst_shared {
	atomic_uint_fast64_t last_ns; /* the last request */
	atomic_uint seq;              /* futex word: bumped when a burst starts, and to stop */
	atomic_bool stop;
};

struct burst_poll {
	struct burst_shared *shared;
	pid_t poller;
};

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ volatile("yield" ::: "memory");
#else
	__asm__ volatile("" ::: "memory");
#endif
}

uint64_t burst_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static bool in_burst(struct burst_shared *sh, uint64_t now)
{
	return now - atomic_load_explicit(&sh->last_ns, memory_order_relaxed) < BURST_POLL_WINDOW_US * 1000ull;
}

static void wake_poller(struct burst_shared *sh)
{
	atomic_fetch_add(&sh->seq, 1);
	syscall(SYS_futex, &sh->seq, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
}

static int cpus_allowed(void)
{
	cpu_set_t allowed;
	return sched_getaffinity(0, sizeof(allowed), &allowed) == 0 ? CPU_COUNT(&allowed) : 1;
}

int burst_poll_cpus(void)
{
	const char *env = getenv("VOS_FUSE_POLL");
	int cpus = cpus_allowed();
	return (env && strcmp(env, "0") == 0) || cpus < 2 ? 0 : cpus;
}

struct burst_poll *burst_poll_new(const char *const *argv)
{
	if (!burst_poll_cpus())
		return NULL;
	struct burst_poll *bp = calloc(1, sizeof(*bp));
	if (!bp)
		return NULL;
	int fd = memfd_create("vos-burst-poll", MFD_CLOEXEC);
	if (fd < 0 || ftruncate(fd, sizeof(*bp->shared)) < 0 ||
	    (bp->shared = mmap(NULL, sizeof(*bp->shared), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)) == MAP_FAILED) {
		if (fd >= 0)
			close(fd);
		free(bp);
		return NULL;
	}
	/* The poller gets the page as fd 3 and nothing else; spawned
	 * (vfork), the server's memory is never marked copy-on-write. */
	posix_spawn_file_actions_t actions;
	posix_spawnattr_t attr;
	posix_spawn_file_actions_init(&actions);
	posix_spawn_file_actions_adddup2(&actions, fd, BURST_POLL_FD);
	posix_spawnattr_init(&attr);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID);
	size_t argc = 0;
	while (argv[argc])
		argc++;
	char parent[16];
	snprintf(parent, sizeof(parent), "%d", (int)getpid());
	const char **args = calloc(argc + 2, sizeof(*args));
	int r = args ? 0 : ENOMEM;
	if (args) {
		memcpy(args, argv, argc * sizeof(*args));
		args[argc] = parent;
		r = posix_spawn(&bp->poller, argv[0], &actions, &attr, (char *const *)args, environ);
	}
	free(args);
	posix_spawn_file_actions_destroy(&actions);
	posix_spawnattr_destroy(&attr);
	close(fd);
	if (r != 0) {
		munmap(bp->shared, sizeof(*bp->shared));
		free(bp);
		return NULL;
	}
	return bp;
}

void burst_poll_request(struct burst_poll *bp)
{
	if (!bp)
		return;
	uint64_t now = burst_now_ns();
	uint64_t prev = atomic_exchange(&bp->shared->last_ns, now);
	if (now - prev >= BURST_POLL_WINDOW_US * 1000ull)
		wake_poller(bp->shared); /* a burst starts */
}

void burst_poll_free(struct burst_poll *bp)
{
	if (!bp)
		return;
	atomic_store(&bp->shared->stop, true);
	wake_poller(bp->shared);
	while (waitpid(bp->poller, NULL, 0) < 0 && errno == EINTR)
		;
	munmap(bp->shared, sizeof(*bp->shared));
	free(bp);
}

bool burst_cpus_busy(int cpus)
{
	char buf[128];
	int fd = open("/proc/loadavg", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	int running = 0;
	/* "0.52 0.58 0.59 3/321 12345": the fourth field's first number. */
	if (sscanf(buf, "%*s %*s %*s %d/", &running) != 1)
		return false;
	return running > cpus + 1;
}

/* ---- the poller ---- */

static void lowest_priority(void)
{
	int fd = open("/proc/self/autogroup", O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		ssize_t n = write(fd, "19", 2);
		(void)n; /* without autogroups, nice alone */
		close(fd);
	}
	setpriority(PRIO_PROCESS, 0, 19);
}

int burst_poll_run(const char *parent_text)
{
	char *end;
	long parent = strtol(parent_text, &end, 10);
	if (*end || parent <= 0)
		return 2;
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != (pid_t)parent)
		return 0; /* never outlive the server */
	lowest_priority();
	errno = 0;
	if (getpriority(PRIO_PROCESS, 0) != 19 || errno)
		return 0; /* never poll at a higher priority */
	struct burst_shared *sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED, BURST_POLL_FD, 0);
	if (sh == MAP_FAILED)
		return 1;
	/* Hold nothing of the server's: no pipe it writes to, no image. */
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	for (int fd = 0; fd < 3 && null >= 0; fd++)
		dup2(null, fd);
	close_range(3, ~0U, 0);
	int cpus = cpus_allowed();
	uint64_t load_checked = 0;
	unsigned busy_looks = 0;
	while (!atomic_load(&sh->stop)) {
		unsigned seq = atomic_load(&sh->seq);
		uint64_t now = burst_now_ns();
		if (!in_burst(sh, now)) {
			syscall(SYS_futex, &sh->seq, FUTEX_WAIT, seq, NULL, NULL, 0);
			continue;
		}
		if (now - load_checked >= BURST_POLL_LOAD_CHECK_US * 1000ull) {
			load_checked = now;
			/* A kernel worker or a short-lived process makes one
			 * look busy: only a run of busy looks counts. */
			busy_looks = burst_cpus_busy(cpus) ? busy_looks + 1 : 0;
			if (busy_looks >= BURST_POLL_BUSY_LOOKS) {
				struct timespec pause = { 0, BURST_POLL_BACKOFF_US * 1000 };
				nanosleep(&pause, NULL);
				continue;
			}
		}
		for (unsigned i = 0; i < 256; i++)
			cpu_relax();
	}
	return 0;
}
