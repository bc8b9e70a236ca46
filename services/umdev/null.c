/* SPDX-License-Identifier: GPL-2.0-or-later */
/* umdevnull: like /dev/null, with one debug line per operation, as the
 * seed shows them ("null_open c 0 0 flag 8001"). */
#include <errno.h>

#include "umdev.h"

#define NULL_DEVICE_IO 4096 /* one write request, one line, per 4 KiB: the seed's output */

struct null_device {
	unsigned major, minor;
};

static struct null_device the_null; /* stateless: one instance serves every mount */

static int null_create(void *service, const struct vos_mount_request *req, void **ret_dev)
{
	(void)service;
	(void)req;
	*ret_dev = &the_null;
	return 0;
}

static int null_open(void *dev, int flags, uint64_t *ret_handle)
{
	struct null_device *d = dev;
	umdev_host->log(umdev_host->core, "null_open c %u %u flag %x", d->major, d->minor, (unsigned)flags);
	*ret_handle = 0;
	return 0;
}

static ssize_t null_read(void *dev, uint64_t handle, char *buf, size_t size, off_t offset)
{
	struct null_device *d = dev;
	(void)handle;
	(void)buf;
	(void)offset;
	umdev_host->log(umdev_host->core, "null_read c %u %u len %zu", d->major, d->minor, size);
	return 0;
}

static ssize_t null_write(void *dev, uint64_t handle, const char *buf, size_t size, off_t offset)
{
	struct null_device *d = dev;
	(void)handle;
	(void)buf;
	(void)offset;
	umdev_host->log(umdev_host->core, "null_write c %u %u len %zu", d->major, d->minor, size);
	return (ssize_t)size;
}

static int null_release(void *dev, uint64_t handle, int flags)
{
	struct null_device *d = dev;
	(void)handle;
	umdev_host->log(umdev_host->core, "null_release c %u %u flag %x", d->major, d->minor, (unsigned)flags);
	return 0;
}

static const struct vos_device_ops null_ops = {
	.open = null_open,
	.read = null_read,
	.write = null_write,
	.release = null_release,
};

const struct vos_device umdev_null = {
	.name = "null",
	.description = "a null device that logs every operation",
	.kind = 'c',
	.max_io = NULL_DEVICE_IO,
	.ops = &null_ops,
	.create = null_create,
};
