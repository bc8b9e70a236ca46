/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "umdev.h"

#include <errno.h>
#include <string.h>

int umdev_options_none(const struct vos_service_host *host, const char *type, const struct vos_options *options)
{
	for (size_t i = 0; options && i < options->count; i++) {
		const struct vos_option *o = &options->items[i];
		if ((!strcmp(o->key, "ro") || !strcmp(o->key, "rw")) && !o->value)
			continue;
		host->log(host->core, "%s: unknown option '%s' (it takes none)", type, o->key);
		return -EINVAL;
	}
	return 0;
}

static int umdev_init(const struct vos_service_host *host, const struct vos_options *options,
		      void **ret_service)
{
	if (options && options->count > 0) {
		host->log(host->core, "umdev: unknown service option '%s' (umdev takes none; options go to mount -o)",
			  options->items[0].key);
		return -EINVAL;
	}
	*ret_service = (void *)host;
	return 0;
}

static const struct vos_device *const umdev_devices[] = {
	&umdev_null,
	&umdev_trivhd,
	&umdev_mbr,
	&umdev_ramdisk,
	&umdev_tap,
	NULL,
};

static const struct vos_service umdev_service = {
	.abi_major = VOS_SERVICE_ABI_MAJOR,
	.abi_minor = VOS_SERVICE_ABI_MINOR,
	.size = sizeof(struct vos_service),
	.name = "umdev",
	.description = "virtual devices",
	.init = umdev_init,
	.devices = umdev_devices,
};

VOS_SERVICE_DEFINE(umdev_service);
