/* SPDX-License-Identifier: GPL-2.0-or-later */
/* umdevmbr: a disk image file as a partitioned disk.
 * `mount -t umdevmbr test.img test_hd` gives test_hd and test_hd1..4 (and
 * test_hd5... for the logical partitions present at mount time). The image
 * is opened with the rights of the user running the view; `-o ro` gives a
 * read-only disk. */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "disk.h"

#ifndef MS_RDONLY
#define MS_RDONLY 1 /* <sys/mount.h> and <linux/fs.h> do not mix */
#endif

static int mbr_fail(const struct vos_service_host *host, const char *source, int err, const char *what)
{
	host->log(host->core, "umdevmbr: %s: %s", source, what);
	return err;
}

/* Size of an open regular file or block device, rounded down to sectors. */
static int image_size(const struct vos_service_host *host, int fd, const char *source, uint64_t *ret)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return mbr_fail(host, source, -errno, strerror(errno));
	uint64_t size;
	if (S_ISREG(st.st_mode))
		size = (uint64_t)st.st_size;
	else if (S_ISBLK(st.st_mode)) {
		if (ioctl(fd, BLKGETSIZE64, &size) < 0)
			return mbr_fail(host, source, -errno, strerror(errno));
	} else if (S_ISDIR(st.st_mode))
		return mbr_fail(host, source, -EISDIR, "is a directory, not a disk image");
	else
		return mbr_fail(host, source, -ENOTBLK, "is neither a regular file nor a block device");
	size -= size % PARTITION_SECTOR;
	if (size == 0)
		return mbr_fail(host, source, -EINVAL, "is smaller than one 512-byte sector: not a disk image");
	*ret = size;
	return 0;
}

static int mbr_create(void *service, const struct vos_mount_request *req, void **ret_dev)
{
	const struct vos_service_host *host = umdev_host_of(service);
	if (!req->source || !strcmp(req->source, "none")) {
		host->log(host->core, "umdevmbr: needs a disk image: mount -t umdevmbr IMAGE NODE");
		return -EINVAL;
	}
	bool ro = req->flags & MS_RDONLY;
	for (size_t i = 0; i < req->options->count; i++) {
		const struct vos_option *o = &req->options->items[i];
		if (!strcmp(o->key, "ro") && !o->value)
			ro = true;
		else if (!strcmp(o->key, "rw") && !o->value)
			ro = false;
		else {
			host->log(host->core, "umdevmbr: unknown option '%s' (known: ro, rw)", o->key);
			return -EINVAL;
		}
	}

	/* Opened as the calling process sees it (its cwd, the view's mounts:
	 * an image can be a file in another service's filesystem).
	 * O_NONBLOCK: a FIFO given as image must not hang the open. */
	int fd = host->open(host->core, req->pid, req->source,
				  (ro ? O_RDONLY : O_RDWR) | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return mbr_fail(host, req->source, fd, fd == -EISDIR ? "is a directory, not a disk image" : strerror(-fd));
	uint64_t size = 0;
	int r = image_size(host, fd, req->source, &size);
	if (r < 0 || fcntl(fd, F_SETFL, 0) < 0) {
		r = r < 0 ? r : -errno;
		close(fd);
		return r;
	}

	char *name;
	if (asprintf(&name, "umdevmbr: %s", req->source) < 0) {
		close(fd);
		return -ENOMEM;
	}
	char reason[PARTITION_REASON_MAX];
	struct disk_store store = { .fd = fd, .size = size };
	struct disk_node *disk;
	r = disk_new(host, name, &store, ro, true, &disk, reason);
	if (r < 0) {
		host->log(host->core, "%s: bad partition table: %s", name, reason[0] ? reason : strerror(-r));
		close(fd);
	} else {
		*ret_dev = disk;
	}
	free(name);
	return r;
}

const struct vos_device umdev_mbr = {
	.name = "mbr",
	.description = "a disk image with an MBR or GPT partition table",
	.kind = 'b',
	.max_io = DISK_MAX_IO,
	.ops = &disk_ops,
	.create = mbr_create,
};
