/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "helper-programs.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

#define MOUNTINFO_LINE_MAX 8192

static struct {
	pid_t pid;
	int pidfd;
} programs[HELPER_PROGRAMS_MAX];
static size_t n_programs;

static bool exited(int pidfd)
{
	struct pollfd p = { .fd = pidfd, .events = POLLIN };
	return poll(&p, 1, 0) > 0;
}

/* Forget the programs that have ended. */
static void forget_exited(void)
{
	size_t kept = 0;
	for (size_t i = 0; i < n_programs; i++) {
		if (exited(programs[i].pidfd))
			close(programs[i].pidfd);
		else
			programs[kept++] = programs[i];
	}
	n_programs = kept;
}

void helper_programs_add(pid_t pid, int pidfd)
{
	if (n_programs == HELPER_PROGRAMS_MAX)
		forget_exited();
	if (n_programs == HELPER_PROGRAMS_MAX)
		return; /* it still ends with the helper, only without a wait */
	int copy = fcntl(pidfd, F_DUPFD_CLOEXEC, 3);
	if (copy >= 0)
		programs[n_programs++] = (typeof(programs[0])){ .pid = pid, .pidfd = copy };
}

bool helper_programs_has(pid_t pid)
{
	for (size_t i = 0; i < n_programs; i++)
		if (programs[i].pid == pid)
			return true;
	return false;
}

/* Undo mountinfo's octal escapes (\040 for a space, ...) in place. */
static void unescape(char *s)
{
	char *out = s;
	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' && s[3] >= '0' &&
		    s[3] <= '7') {
			*out++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 3;
		} else {
			*out++ = *s;
		}
	}
	*out = '\0';
}

/* Detach the FUSE mounts, the most recent first (mountinfo lists them in
 * mount order). */
static void detach_fuse_mounts(void)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return;
	char **points = NULL;
	size_t n = 0;
	char line[MOUNTINFO_LINE_MAX];
	while (fgets(line, sizeof(line), f)) {
		/* "ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [TAGS...] - FSTYPE ..." */
		char *sep = strstr(line, " - ");
		char point[MOUNTINFO_LINE_MAX];
		if (!sep || strncmp(sep + 3, "fuse", 4) != 0 ||
		    sscanf(line, "%*s %*s %*s %*s %8191s", point) != 1)
			continue;
		unescape(point);
		char **more = realloc(points, (n + 1) * sizeof(*points));
		if (!more)
			break;
		points = more;
		if ((points[n] = strdup(point)))
			n++;
	}
	fclose(f);
	while (n > 0) {
		n--;
		umount2(points[n], MNT_DETACH);
		free(points[n]);
	}
	free(points);
}

void helper_programs_end(int timeout_ms)
{
	forget_exited();
	if (n_programs == 0)
		return;
	detach_fuse_mounts();
	struct pollfd p[HELPER_PROGRAMS_MAX];
	struct timespec start;
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		forget_exited();
		if (n_programs == 0)
			return;
		struct timespec now;
		clock_gettime(CLOCK_MONOTONIC, &now);
		long waited = (now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000;
		if (waited >= timeout_ms)
			return;
		for (size_t i = 0; i < n_programs; i++)
			p[i] = (struct pollfd){ .fd = programs[i].pidfd, .events = POLLIN };
		poll(p, n_programs, (int)(timeout_ms - waited));
	}
}
