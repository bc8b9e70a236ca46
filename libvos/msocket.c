/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <vos/msocket.h>

#include "control-proto.h"

#define VOS_EXPORT __attribute__((visibility("default")))

VOS_EXPORT int msocket(const char *stack_path, int domain, int type, int protocol)
{
	/* The default stack is what socket() of a process in a view uses. */
	if (!stack_path)
		return socket(domain, type, protocol);
	if (!stack_path[0]) {
		errno = ENOENT;
		return -1;
	}
	char arg[64];
	snprintf(arg, sizeof(arg), "%d %d %d", domain, type, protocol);
	struct vos_control_request req = {
		.version = VOS_CONTROL_VERSION,
		.size = sizeof(req),
		.op = VOS_CONTROL_MSOCKET,
		.name = (uintptr_t)stack_path,
		.arg = (uintptr_t)arg,
	};
	long r = prctl(VOS_PRCTL_MAGIC, (unsigned long)&req, sizeof(req), 0UL, 0UL);
	if (r < 0 && errno == EINVAL) {
		/* Outside a view the kernel rejects the prctl option itself. */
		struct vos_control_request ping = { .version = VOS_CONTROL_VERSION, .size = sizeof(ping),
						    .op = VOS_CONTROL_PING };
		if (prctl(VOS_PRCTL_MAGIC, (unsigned long)&ping, sizeof(ping), 0UL, 0UL) < 0 && errno == EINVAL)
			errno = ENOSYS; /* no view, no stacks */
		else
			errno = EINVAL;
	}
	return (int)r;
}
