/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The view-control call: how a process inside a view talks to its own
 * supervisor without a socket path or credentials.
 *
 * The process calls prctl(VOS_PRCTL_MAGIC, &request, sizeof(request), 0, 0).
 * The view's seccomp filter traps exactly this prctl option (one comparison
 * of args[0]) and the supervisor that owns the listener answers it, so the
 * view is known from the listener the call arrives on. Outside a view the
 * kernel answers EINVAL: that is how libvos tells it is not in a view.
 *
 * The supervisor reads the request with process_vm_readv, checks every field
 * (version, size, op, string lengths), writes at most `reply_size` bytes to
 * `reply` with process_vm_writev, and returns a non-negative value or an
 * errno to the prctl call.
 */
#pragma once

#include <stdint.h>

/* 'V' 'O' 'S' 1: far above every PR_* option the kernel defines. */
#define VOS_PRCTL_MAGIC 0x564f5301u

#define VOS_CONTROL_VERSION 1
#define VOS_CONTROL_STRING_MAX 4096
#define VOS_CONTROL_REPLY_MAX (1u << 20)

enum vos_control_op {
	VOS_CONTROL_PING = 1,         /* returns the view id */
	VOS_CONTROL_SERVICE_ADD = 2,  /* name, arg = options; reply = init message */
	VOS_CONTROL_SERVICE_DEL = 3,  /* name */
	VOS_CONTROL_SERVICE_LIST = 4, /* reply = "name: description\n"... */
	VOS_CONTROL_MOUNT_LIST = 5,   /* reply = "type source target\n"... */
	VOS_CONTROL_MSOCKET = 6,      /* name = stack path, arg = "DOMAIN TYPE PROTOCOL";
				       * returns a socket of that stack (installed fd) */
	VOS_CONTROL_STACK_NETNS = 7,  /* name = stack path; returns its network
				       * namespace (installed fd, close-on-exec) */
};

struct vos_control_request {
	uint32_t version;    /* VOS_CONTROL_VERSION */
	uint32_t size;       /* sizeof(struct vos_control_request) */
	uint32_t op;         /* enum vos_control_op */
	uint32_t reserved;   /* must be 0 */
	uint64_t name;       /* const char * in the caller, or 0 */
	uint64_t arg;        /* const char * in the caller, or 0 */
	uint64_t reply;      /* char * in the caller, or 0 */
	uint64_t reply_size; /* bytes available at reply */
};
