/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * mstack STACK CMD [ARGS...]: run CMD with the umnet stack mounted at STACK
 * as its network stack. A convenience, not a protection: CMD may still use
 * msocket(3) or another mstack.
 *
 * The view's supervisor hands over the stack's network namespace (an fd,
 * through the view-control call); mstack enters it, unless it is already
 * where mstack runs (a native or current stack), and execs CMD.
 */
#include <errno.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../libvos/control-proto.h"

static long control(uint32_t op, const char *name)
{
	struct vos_control_request req = {
		.version = VOS_CONTROL_VERSION,
		.size = sizeof(req),
		.op = op,
		.name = (uintptr_t)name,
	};
	long r = prctl(VOS_PRCTL_MAGIC, (unsigned long)&req, sizeof(req), 0UL, 0UL);
	return r < 0 ? -errno : r;
}

int main(int argc, char **argv)
{
	if (argc < 3 || argv[1][0] == '-') {
		fprintf(stderr, "usage: mstack STACK COMMAND [ARGUMENTS...]\n");
		return 2;
	}
	const char *stack = argv[1];
	long fd = control(VOS_CONTROL_STACK_NETNS, stack);
	if (fd < 0) {
		const char *why;
		switch (-fd) {
		case EINVAL:
			why = control(VOS_CONTROL_PING, NULL) == -EINVAL ? "not inside a vos view"
									  : "not a network stack (mount one with umnet)";
			break;
		case EAFNOSUPPORT:
			why = "a null stack: it has no network to enter";
			break;
		case EPERM:
			why = "the view's default stack is permanent (mounted with -o perm)";
			break;
		default:
			why = strerror((int)-fd);
			break;
		}
		fprintf(stderr, "mstack: %s: %s\n", stack, why);
		return 1;
	}
	struct stat want, have;
	if (fstat((int)fd, &want) < 0 || stat("/proc/self/ns/net", &have) < 0) {
		fprintf(stderr, "mstack: %s: %s\n", stack, strerror(errno));
		return 1;
	}
	if ((want.st_dev != have.st_dev || want.st_ino != have.st_ino) && setns((int)fd, CLONE_NEWNET) < 0) {
		fprintf(stderr, "mstack: %s: cannot enter the stack: %s\n", stack, strerror(errno));
		return 1;
	}
	close((int)fd);
	execvp(argv[2], argv + 2);
	fprintf(stderr, "mstack: %s: %s\n", argv[2], strerror(errno));
	return errno == ENOENT ? 127 : 126;
}
