/* SPDX-License-Identifier: GPL-2.0-or-later */
/* umdev: virtual devices. One file per sub-module. */
#pragma once

#include <vos/service.h>

/* The host table given to umdev's init, for the sub-modules' debug lines. */
extern const struct vos_service_host *umdev_host;

extern const struct vos_device umdev_null;
extern const struct vos_device umdev_trivhd;
extern const struct vos_device umdev_mbr;
extern const struct vos_device umdev_ramdisk;
