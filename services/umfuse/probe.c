/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Questions about files in the view, answered inside the view: the
 * supervisor starts `vos-fuse-runner probe` there (host->spawn) with a
 * pipe as its fd 3 and reads one line back:
 *   STATUS INDEX ROOT SOURCE [MESSAGE]
 * STATUS is ok, bad or missing; INDEX the candidate found (- if none);
 * ROOT f or d (the target is a regular file or not); SOURCE 1 or 0. */
#include "umfuse.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define PROBE_TIMEOUT_MS 10000
#define PROBE_ARGS_MAX 64
#define PROBE_ARGS_BYTES 8000

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Read until EOF or the deadline; -ETIMEDOUT then. */
static int read_reply(int fd, char *buf, size_t size)
{
	size_t got = 0;
	long long deadline = now_ms() + PROBE_TIMEOUT_MS;
	for (;;) {
		long long left = deadline - now_ms();
		if (left <= 0)
			return -ETIMEDOUT;
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int n = poll(&p, 1, (int)left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -ETIMEDOUT;
		ssize_t k = read(fd, buf + got, size - 1 - got);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		got += (size_t)k;
		if (got == size - 1)
			break;
	}
	buf[got] = '\0';
	return 0;
}

static int parse_reply(char *line, size_t count, struct umfuse_probe *ret)
{
	line[strcspn(line, "\n")] = '\0';
	char status[16], index[16], root, source;
	int used = 0;
	if (sscanf(line, "%15s %15s %c %c%n", status, index, &root, &source, &used) != 4)
		return -EPROTO;
	struct umfuse_probe p = { .found = -1 };
	if (strcmp(index, "-") != 0) {
		char *end;
		long i = strtol(index, &end, 10);
		if (*end || i < 0 || (size_t)i >= count)
			return -EPROTO;
		p.found = (int)i;
	}
	p.file_root = root == 'f';
	p.source_found = source == '1';
	const char *message = line + used;
	message += strspn(message, " ");
	if (strcmp(status, "bad") == 0) {
		p.bad = true;
		snprintf(p.error, sizeof(p.error), "%s", message);
	} else if (strcmp(status, "ok") != 0 && strcmp(status, "missing") != 0) {
		return -EPROTO;
	}
	*ret = p;
	return 0;
}

int umfuse_probe(struct umfuse *u, bool module, const struct umfuse_candidates *c,
		 const char *target, const char *source, struct umfuse_probe *ret)
{
	const char *argv[PROBE_ARGS_MAX + 1];
	size_t n = 0;
	argv[n++] = u->runner;
	argv[n++] = "probe";
	if (target) {
		argv[n++] = "--target";
		argv[n++] = target;
	}
	if (source) {
		argv[n++] = "--source";
		argv[n++] = source;
	}
	argv[n++] = module ? "--module" : "--program";
	/* host->spawn takes 64 arguments of 8 KiB in all: candidates beyond
	 * that are not looked at. */
	size_t bytes = 256 + (target ? strlen(target) : 0) + (source ? strlen(source) : 0) + strlen(u->runner);
	for (size_t i = 0; i < c->count && n < PROBE_ARGS_MAX; i++) {
		bytes += strlen(c->paths[i]) + 1;
		if (bytes > PROBE_ARGS_BYTES)
			break;
		argv[n++] = c->paths[i];
	}
	argv[n] = NULL;

	int pipefd[2];
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return -errno;
	int pidfd = u->host->spawn(u->host->core, argv, &pipefd[1], 1);
	close(pipefd[1]);
	/* ESRCH: the probe was so quick that it had exited (and been reaped
	 * by the view's helper) before the helper asked for its pidfd; its
	 * answer is in the pipe all the same. */
	if (pidfd < 0 && pidfd != -ESRCH) {
		close(pipefd[0]);
		return pidfd;
	}
	char reply[1024];
	int r = read_reply(pipefd[0], reply, sizeof(reply));
	close(pipefd[0]);
	if (pidfd >= 0) {
		if (r == -ETIMEDOUT)
			syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
		close(pidfd);
	}
	if (r < 0)
		return r;
	return parse_reply(reply, c->count, ret);
}
