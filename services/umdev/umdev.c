/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "umdev.h"

static int umdev_init(const struct vos_service_host *host, const struct vos_options *options,
		      void **ret_service)
{
	(void)options;
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
