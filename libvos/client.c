/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <vos/vos.h>

#include "control-proto.h"

#define VOS_EXPORT __attribute__((visibility("default")))

static long control_call(uint32_t op, const char *name, const char *arg, char *reply, size_t reply_size)
{
	struct vos_control_request req = {
		.version = VOS_CONTROL_VERSION,
		.size = sizeof(req),
		.op = op,
		.name = (uintptr_t)name,
		.arg = (uintptr_t)arg,
		.reply = (uintptr_t)reply,
		.reply_size = reply_size,
	};
	long r = prctl(VOS_PRCTL_MAGIC, (unsigned long)&req, sizeof(req), 0UL, 0UL);
	return r < 0 ? -errno : r;
}

VOS_EXPORT int vos_view_id(void)
{
	long r = control_call(VOS_CONTROL_PING, NULL, NULL, NULL, 0);
	/* Outside a view the kernel itself rejects the unknown prctl option. */
	return r == -EINVAL ? -ENXIO : (int)r;
}

static int with_error(long r, char *error, size_t error_size)
{
	if (r == -EINVAL && vos_view_id() == -ENXIO)
		return -ENXIO;
	if (r >= 0 && error_size)
		error[0] = '\0';
	return r < 0 ? (int)r : 0;
}

VOS_EXPORT int vos_service_add(const char *spec, char *error, size_t error_size)
{
	/* Where the caller looks for services: its own environment. */
	const char *svc = getenv("VOS_SERVICE_PATH");
	const char *ld = getenv("LD_LIBRARY_PATH");
	size_t len = (svc ? strlen(svc) : 0) + (ld ? strlen(ld) : 0) + 2;
	char *search = malloc(len);
	if (!search)
		return -ENOMEM;
	search[0] = '\0';
	if (svc)
		strcat(search, svc);
	if (svc && ld)
		strcat(search, ":");
	if (ld)
		strcat(search, ld);
	if (error_size)
		error[0] = '\0';
	long r = control_call(VOS_CONTROL_SERVICE_ADD, spec, search, error, error_size);
	free(search);
	return with_error(r, error, error_size);
}

VOS_EXPORT int vos_service_del(const char *name, char *error, size_t error_size)
{
	if (error_size)
		error[0] = '\0';
	long r = control_call(VOS_CONTROL_SERVICE_DEL, name, NULL, error, error_size);
	return with_error(r, error, error_size);
}

static int list(uint32_t op, char **ret_text)
{
	size_t size = 4096;
	for (;;) {
		char *buf = malloc(size);
		if (!buf)
			return -ENOMEM;
		long r = control_call(op, NULL, NULL, buf, size);
		if (r >= 0) {
			*ret_text = buf;
			return 0;
		}
		free(buf);
		if (r != -ERANGE || size >= VOS_CONTROL_REPLY_MAX)
			return with_error(r, NULL, 0);
		size *= 4;
	}
}

VOS_EXPORT int vos_service_list(char **ret_text)
{
	return list(VOS_CONTROL_SERVICE_LIST, ret_text);
}

VOS_EXPORT int vos_mount_list(char **ret_text)
{
	return list(VOS_CONTROL_MOUNT_LIST, ret_text);
}
