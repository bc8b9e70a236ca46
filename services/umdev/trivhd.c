/* SPDX-License-Identifier: GPL-2.0-or-later */
/* umdevtrivhd: a 64 KiB ramdisk as a character device. Writes past the
 * end fail with ENOSPC, so `dd if=/dev/urandom of=chardev` stops at
 * exactly 65536 bytes. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "umdev.h"

#define TRIVHD_SIZE (64 * 1024)

struct trivhd {
	pthread_mutex_t lock;
	char data[TRIVHD_SIZE];
};

static int trivhd_create(void *service, const struct vos_mount_request *req, void **ret_dev)
{
	int r = umdev_options_none(umdev_host_of(service), "umdevtrivhd", req->options);
	if (r < 0)
		return r;
	struct trivhd *t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	pthread_mutex_init(&t->lock, NULL);
	*ret_dev = t;
	return 0;
}

static ssize_t trivhd_read(void *dev, uint64_t handle, char *buf, size_t size, off_t offset)
{
	struct trivhd *t = dev;
	(void)handle;
	if (offset < 0)
		return -EINVAL;
	if (offset >= TRIVHD_SIZE)
		return 0;
	if (size > (size_t)(TRIVHD_SIZE - offset))
		size = (size_t)(TRIVHD_SIZE - offset);
	pthread_mutex_lock(&t->lock);
	memcpy(buf, t->data + offset, size);
	pthread_mutex_unlock(&t->lock);
	return (ssize_t)size;
}

static ssize_t trivhd_write(void *dev, uint64_t handle, const char *buf, size_t size, off_t offset)
{
	struct trivhd *t = dev;
	(void)handle;
	if (offset < 0)
		return -EINVAL;
	if (offset >= TRIVHD_SIZE)
		return -ENOSPC;
	if (size > (size_t)(TRIVHD_SIZE - offset))
		size = (size_t)(TRIVHD_SIZE - offset);
	pthread_mutex_lock(&t->lock);
	memcpy(t->data + offset, buf, size);
	pthread_mutex_unlock(&t->lock);
	return (ssize_t)size;
}

static uint64_t trivhd_size(void *dev)
{
	(void)dev;
	return TRIVHD_SIZE;
}

static void trivhd_destroy(void *dev)
{
	struct trivhd *t = dev;
	pthread_mutex_destroy(&t->lock);
	free(t);
}

static const struct vos_device_ops trivhd_ops = {
	.read = trivhd_read,
	.write = trivhd_write,
	.size = trivhd_size,
	.destroy = trivhd_destroy,
};

const struct vos_device umdev_trivhd = {
	.name = "trivhd",
	.description = "a 64 KiB character ramdisk",
	.kind = 'c',
	.ops = &trivhd_ops,
	.create = trivhd_create,
};
