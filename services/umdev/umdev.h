/* SPDX-License-Identifier: GPL-2.0-or-later */
/* umdev: virtual devices. One file per sub-module. */
#pragma once

#include <vos/service.h>

/* umdev's service data is the host table of the view it was loaded into
 * (init returns it; create() gets it back as `service`): no globals, so
 * one loaded umdev.so serves several views of a vosd correctly. */
static inline const struct vos_service_host *umdev_host_of(void *service)
{
	return service;
}

/* For devices without options: -EINVAL and a log line for any option but
 * ro and rw (flags mount(8) also passes as MS_RDONLY). */
int umdev_options_none(const struct vos_service_host *host, const char *type, const struct vos_options *options);

extern const struct vos_device umdev_null;
extern const struct vos_device umdev_trivhd;
extern const struct vos_device umdev_mbr;
extern const struct vos_device umdev_ramdisk;
extern const struct vos_device umdev_tap;
