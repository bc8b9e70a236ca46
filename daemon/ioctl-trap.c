/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Size-less device ioctls; see ioctl-trap.h.
 *
 * Which fd is a device node: statx of /proc/PID/fd/N with an empty mask.
 * FUSE answers that with the mount's st_dev even to a process outside the
 * view's user namespace (it refuses anything more), without a request to
 * the server. Each device mount's st_dev is recorded when it is made
 * (ioctl_trap_node_dev), so recognising an fd costs one statx, and an fd
 * that is no device goes back to the kernel untouched. */
#include "ioctl-trap.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <linux/hdreg.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>

#include "fuse-device.h"
#include "notify.h"
#include "service-fault.h"
#include "supervisor.h"
#include "util.h"

#ifndef FUSE_SUPER_MAGIC
#define FUSE_SUPER_MAGIC 0x65735546
#endif

const uint32_t ioctl_trap_requests[] = {
	BLKSSZGET,   /* _IO: int */
	BLKPBSZGET,  /* _IO: unsigned int */
	BLKIOMIN,    /* _IO: unsigned int */
	BLKROGET,    /* _IO: int */
	BLKGETSIZE,  /* _IO: unsigned long */
	HDIO_GETGEO, /* raw number: struct hd_geometry */
	TUNSETIFF,   /* _IOW(int): struct ifreq in and out */
	TUNGETIFF,   /* _IOR(unsigned int): struct ifreq */
};
const size_t ioctl_trap_requests_count = ARRAY_SIZE(ioctl_trap_requests);

/* The argument's real size, read from and written back to the caller. */
static int request_sizes(uint32_t req, size_t *ret_in, size_t *ret_out)
{
	size_t in = 0, out;
	switch (req) {
	case BLKSSZGET:
	case BLKROGET:
		out = sizeof(int);
		break;
	case BLKPBSZGET:
	case BLKIOMIN:
		out = sizeof(unsigned int);
		break;
	case BLKGETSIZE:
		out = sizeof(unsigned long);
		break;
	case HDIO_GETGEO:
		out = sizeof(struct hd_geometry);
		break;
	case TUNSETIFF:
		in = out = sizeof(struct ifreq);
		break;
	case TUNGETIFF:
		out = sizeof(struct ifreq);
		break;
	default:
		return -ENOTTY;
	}
	*ret_in = in;
	*ret_out = out;
	return 0;
}

#define IOCTL_ARG_MAX 64 /* the largest argument above (struct ifreq: 40) */

static int dev_of(int dirfd, const char *path, int flags, dev_t *ret)
{
	struct statx stx;
	if (statx(dirfd, path, flags | AT_STATX_DONT_SYNC, 0, &stx) < 0)
		return -errno;
	*ret = makedev(stx.stx_dev_major, stx.stx_dev_minor);
	return 0;
}

int ioctl_trap_node_dev(struct vos_view *v, pid_t pid, const char *target, dev_t *ret)
{
	_cleanup_close_ int fd = view_open(v, pid, target, O_PATH | O_CLOEXEC);
	if (fd < 0)
		return fd;
	struct statfs sfs;
	if (fstatfs(fd, &sfs) < 0)
		return -errno;
	if (sfs.f_type != FUSE_SUPER_MAGIC)
		return -ENODEV; /* something else is mounted there already */
	return dev_of(fd, "", AT_EMPTY_PATH, ret);
}

/* The device node of the view that fd `fd` of process `pid` is open on,
 * held (device_node_hold), or NULL. */
static struct device_node *node_of_fd(struct vos_view *v, pid_t pid, int fd)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/fd/%d", pid, fd);
	dev_t dev;
	if (fd < 0 || dev_of(AT_FDCWD, path, 0, &dev) < 0 || major(dev) != 0)
		return NULL; /* FUSE mounts have anonymous (major 0) devices */
	struct device_node *node = NULL;
	pthread_mutex_lock(&v->lock);
	for (struct view_mount *m = v->mounts; m && !node; m = m->next)
		if (m->node && !m->ended && m->dev == dev && device_node_hold(m->node))
			node = m->node;
	pthread_mutex_unlock(&v->lock);
	return node;
}

static bool view_has_devices(struct vos_view *v)
{
	bool any = false;
	pthread_mutex_lock(&v->lock);
	for (struct view_mount *m = v->mounts; m && !any; m = m->next)
		any = m->node && !m->ended && m->dev != 0;
	pthread_mutex_unlock(&v->lock);
	return any;
}

/* An O_PATH fd has no ioctl: the kernel says EBADF itself. */
static bool fd_is_path_only(pid_t pid, int fd)
{
	char path[64], line[128];
	snprintf(path, sizeof(path), "/proc/%d/fdinfo/%d", pid, fd);
	FILE *f = fopen(path, "re");
	if (!f)
		return false;
	bool path_only = false;
	while (fgets(line, sizeof(line), f)) {
		unsigned flags;
		if (sscanf(line, "flags: %o", &flags) == 1) {
			path_only = flags & O_PATH;
			break;
		}
	}
	fclose(f);
	return path_only;
}

bool ioctl_trap_fast(struct vos_view *v, const struct seccomp_notif *n)
{
	if (view_has_devices(v)) {
		struct device_node *node = node_of_fd(v, n->pid, (int)(uint32_t)n->data.args[0]);
		if (node) {
			device_node_put(node);
			return false; /* a device's ioctl op may take its time */
		}
	}
	notify_continue(v->listener, n->id);
	return true;
}

/* The device's ioctl op, as a call into its service. */
static int device_ioctl(struct device_node *node, uint32_t req, uint64_t arg, const void *in, size_t in_size,
			void *out, size_t out_size)
{
	int r;
	SERVICE_CALL(node->guard, "ioctl", r = -EIO,
		     r = node->desc->ops->ioctl(node->dev, 0, req, (void *)(uintptr_t)arg, in, in_size, out, out_size));
	return r;
}

void ioctl_trap(struct vos_view *v, const struct seccomp_notif *n)
{
	int fd = (int)(uint32_t)n->data.args[0];
	uint32_t req = (uint32_t)n->data.args[1];
	uint64_t arg = n->data.args[2];
	size_t in_size, out_size;
	struct device_node *node = NULL;
	if (request_sizes(req, &in_size, &out_size) < 0 || !(node = node_of_fd(v, n->pid, fd)) ||
	    fd_is_path_only(n->pid, fd)) {
		if (node)
			device_node_put(node);
		notify_continue(v->listener, n->id);
		return;
	}

	char in[IOCTL_ARG_MAX] = { 0 }, out[IOCTL_ARG_MAX] = { 0 };
	int r = in_size ? tracee_read(n->pid, arg, in, in_size) : 0;
	if (!notify_id_valid(v->listener, n->id)) {
		device_node_put(node); /* the caller is gone; its pid may be someone else's */
		return;
	}
	if (r < 0)
		r = -EFAULT;
	else if (!node->desc->ops->ioctl)
		r = -ENOTTY;
	else
		r = device_ioctl(node, req, arg, in_size ? in : NULL, in_size, out, out_size);
	device_node_put(node);
	if (r >= 0 && tracee_write(n->pid, arg, out, out_size) < 0)
		r = -EFAULT;
	supervisor_debug(v->sup, "view %u: pid %d ioctl %#x on a device node: %d", v->id, n->pid, req, r);
	notify_respond(v->listener, n->id, r);
}
