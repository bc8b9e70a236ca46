/* SPDX-License-Identifier: GPL-2.0-or-later */
/* umdevnull: like /dev/null, with one debug line per operation, as the
 * seed shows them ("null_open c 0 0 flag 8001"). */
#include <errno.h>
#include <stdlib.h>

#include "umdev.h"

#define NULL_DEVICE_IO 4096 /* one write request, one line, per 4 KiB: the seed's output */

struct null_device {
	const struct vos_service_host *host; /* where its lines go */
	unsigned major, minor;
};

static int null_create(void *service, const struct vos_mount_request *req, void **ret_dev)
{
	int r = umdev_options_none(umdev_host_of(service), "umdevnull", req->options);
	if (r < 0)
		return r;
	struct null_device *d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->host = umdev_host_of(service);
	*ret_dev = d;
	return 0;
}

static void null_destroy(void *dev)
{
	free(dev);
}

static int null_open(void *dev, int flags, uint64_t *ret_handle)
{
	struct null_device *d = dev;
	d->host->log(d->host->core, "null_open c %u %u flag %x", d->major, d->minor, (unsigned)flags);
	*ret_handle = 0;
	return 0;
}

static ssize_t null_read(void *dev, uint64_t handle, char *buf, size_t size, off_t offset)
{
	struct null_device *d = dev;
	(void)handle;
	(void)buf;
	(void)offset;
	d->host->log(d->host->core, "null_read c %u %u len %zu", d->major, d->minor, size);
	return 0;
}

static ssize_t null_write(void *dev, uint64_t handle, const char *buf, size_t size, off_t offset)
{
	struct null_device *d = dev;
	(void)handle;
	(void)buf;
	(void)offset;
	d->host->log(d->host->core, "null_write c %u %u len %zu", d->major, d->minor, size);
	return (ssize_t)size;
}

static int null_release(void *dev, uint64_t handle, int flags)
{
	struct null_device *d = dev;
	(void)handle;
	d->host->log(d->host->core, "null_release c %u %u flag %x", d->major, d->minor, (unsigned)flags);
	return 0;
}

static const struct vos_device_ops null_ops = {
	.open = null_open,
	.read = null_read,
	.write = null_write,
	.release = null_release,
	.destroy = null_destroy,
};

const struct vos_device umdev_null = {
	.name = "null",
	.description = "a null device that logs every operation",
	.kind = 'c',
	.max_io = NULL_DEVICE_IO,
	.ops = &null_ops,
	.create = null_create,
};
