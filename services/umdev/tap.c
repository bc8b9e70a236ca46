/* SPDX-License-Identifier: GPL-2.0-or-later */
/* umdevtap: `mount -t umdevtap -o vde=URL none /dev/net/tap0`, a tap
 * device plugged into a VDE network (a libvdeplug URL: vde:///path/of/a/
 * switch, hub://..., ptp://..., ...). A program that opens the node reads
 * and writes whole Ethernet frames, one per read() or write(); reads wait
 * for a frame (poll/select/epoll work on the node; O_NONBLOCK gives
 * EAGAIN). The mount is one interface with one port on the network: every
 * open file shares it, and frames that arrive while no file is open are
 * dropped. TUNSETIFF as on /dev/net/tun (IFF_TAP, with or without
 * IFF_NO_PI) answers with the interface's name, the node's name; its
 * flags hold for the whole device. The URL is opened by the supervisor:
 * paths in it are host paths, best absolute. */
#include <errno.h>
#include <fcntl.h>
#include <libvdeplug.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "umdev.h"

#define TAP_FRAME_MIN 14     /* an Ethernet header */
#define TAP_FRAME_MAX 65536
#define TAP_FEATURES (IFF_TAP | IFF_NO_PI)

struct tap {
	VDECONN *conn;
	int fd;                   /* vde_datafd(conn), non-blocking */
	char name[IFNAMSIZ];
	atomic_bool pi;           /* frames carry struct tun_pi (TUNSETIFF without IFF_NO_PI) */
	atomic_uint opens;
};

static int tap_create(void *service, const struct vos_mount_request *req, void **ret_dev)
{
	const struct vos_service_host *host = umdev_host_of(service);
	const char *url = NULL;
	for (size_t i = 0; i < req->options->count; i++) {
		const struct vos_option *o = &req->options->items[i];
		if (!strcmp(o->key, "vde"))
			url = o->value ? o->value : "";
		else if ((!strcmp(o->key, "ro") || !strcmp(o->key, "rw")) && !o->value)
			continue; /* as flags: mount(8) passes them */
		else {
			host->log(host->core, "umdevtap: unknown option '%s' (known: vde=URL)", o->key);
			return -EINVAL;
		}
	}
	if (!url || !url[0]) {
		host->log(host->core, "umdevtap: needs a VDE network: mount -t umdevtap -o vde=URL none NODE");
		return -EINVAL;
	}
	struct tap *t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	const char *base = strrchr(req->target, '/');
	base = base ? base + 1 : req->target;
	strncpy(t->name, base[0] ? base : "tap", IFNAMSIZ - 1);

	struct vde_open_args args = { .port = 0, .group = NULL, .mode = 0600 };
	errno = 0;
	t->conn = vde_open((char *)url, "vos umdevtap", &args);
	if (!t->conn) {
		int r = errno ? -errno : -ECONNREFUSED;
		host->log(host->core, "umdevtap: vde=%s: cannot plug into the VDE network: %s", url, strerror(-r));
		free(t);
		return r == -ENOENT || r == -ECONNREFUSED ? -ENXIO : r;
	}
	t->fd = vde_datafd(t->conn);
	int fl = t->fd >= 0 ? fcntl(t->fd, F_GETFL) : -1;
	if (fl < 0 || fcntl(t->fd, F_SETFL, fl | O_NONBLOCK) < 0) {
		host->log(host->core, "umdevtap: vde=%s: the connection has no usable data descriptor", url);
		vde_close(t->conn);
		free(t);
		return -EIO;
	}
	*ret_dev = t;
	return 0;
}

static void tap_destroy(void *dev)
{
	struct tap *t = dev;
	vde_close(t->conn);
	free(t);
}

/* One frame into `frame`, or -EAGAIN. Runt frames (and the 1-byte
 * "filtered" answers some libvdeplug modules give) are skipped. */
static ssize_t tap_recv(struct tap *t, char *frame, size_t size)
{
	for (;;) {
		ssize_t n = vde_recv(t->conn, frame, size, MSG_DONTWAIT);
		if (n < 0)
			return errno == EWOULDBLOCK ? -EAGAIN : -errno;
		if (n >= TAP_FRAME_MIN)
			return n;
		if (n == 0) {
			/* EOF or an empty datagram: EAGAIN unless the fd is broken. */
			struct pollfd p = { .fd = t->fd, .events = POLLIN };
			if (poll(&p, 1, 0) == 1 && (p.revents & (POLLERR | POLLHUP | POLLNVAL)))
				return -EIO;
			return -EAGAIN;
		}
	}
}

static int tap_open(void *dev, int flags, uint64_t *ret_handle)
{
	struct tap *t = dev;
	(void)flags;
	/* As a tap interface with no file attached: what came meanwhile is
	 * dropped, not delivered late to the first reader. */
	if (atomic_fetch_add(&t->opens, 1) == 0) {
		char frame[TAP_FRAME_MAX];
		while (tap_recv(t, frame, sizeof(frame)) > 0)
			;
	}
	*ret_handle = 0;
	return 0;
}

static int tap_release(void *dev, uint64_t handle, int flags)
{
	struct tap *t = dev;
	(void)handle, (void)flags;
	atomic_fetch_sub(&t->opens, 1);
	return 0;
}

static ssize_t tap_read(void *dev, uint64_t handle, char *buf, size_t size, off_t offset)
{
	struct tap *t = dev;
	(void)handle, (void)offset;
	bool pi = atomic_load(&t->pi);
	size_t head = pi ? sizeof(struct tun_pi) : 0;
	if (size < head)
		return -EINVAL;
	char frame[TAP_FRAME_MAX];
	ssize_t n = tap_recv(t, frame, sizeof(frame));
	if (n < 0)
		return n;
	size_t len = (size_t)n;
	struct tun_pi info = { .flags = 0 };
	if (len > size - head) {
		len = size - head; /* as tap: the rest of the frame is lost */
		info.flags = TUN_PKT_STRIP;
	}
	if (pi) {
		memcpy(&info.proto, frame + 12, sizeof(info.proto)); /* the EtherType, network order */
		memcpy(buf, &info, sizeof(info));
	}
	memcpy(buf + head, frame, len);
	return (ssize_t)(head + len);
}

static ssize_t tap_write(void *dev, uint64_t handle, const char *buf, size_t size, off_t offset)
{
	struct tap *t = dev;
	(void)handle, (void)offset;
	size_t head = atomic_load(&t->pi) ? sizeof(struct tun_pi) : 0;
	if (size < head + TAP_FRAME_MIN || size - head > TAP_FRAME_MAX)
		return -EINVAL;
	ssize_t n = vde_send(t->conn, buf + head, size - head, MSG_DONTWAIT);
	if (n < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	return (ssize_t)size;
}

static int tap_ioctl(void *dev, uint64_t handle, unsigned int cmd, void *arg, const void *in, size_t in_size,
		     void *out, size_t out_size)
{
	struct tap *t = dev;
	(void)handle, (void)arg;
	struct ifreq ifr;
	switch (cmd) {
	case TUNSETIFF: {
		/* Only through the core's trap: FUSE would carry 4 bytes. */
		if (in_size < sizeof(ifr) || out_size < sizeof(ifr))
			return -EINVAL;
		memcpy(&ifr, in, sizeof(ifr));
		unsigned short flags = (unsigned short)ifr.ifr_flags;
		if ((flags & (IFF_TUN | IFF_TAP)) != IFF_TAP)
			return -EINVAL; /* an Ethernet device: no IFF_TUN */
		if (flags & ~(IFF_TAP | IFF_NO_PI | IFF_ONE_QUEUE | IFF_TUN_EXCL))
			return -EINVAL; /* IFF_VNET_HDR, IFF_MULTI_QUEUE, IFF_NAPI... */
		atomic_store(&t->pi, !(flags & IFF_NO_PI));
		memset(ifr.ifr_name, 0, sizeof(ifr.ifr_name));
		memcpy(ifr.ifr_name, t->name, sizeof(t->name));
		memcpy(out, &ifr, sizeof(ifr));
		return 0;
	}
	case TUNGETIFF:
		if (out_size < sizeof(ifr))
			return -EINVAL;
		memset(&ifr, 0, sizeof(ifr));
		memcpy(ifr.ifr_name, t->name, sizeof(t->name));
		ifr.ifr_flags = (short)(IFF_TAP | (atomic_load(&t->pi) ? 0 : IFF_NO_PI));
		memcpy(out, &ifr, sizeof(ifr));
		return 0;
	case TUNGETFEATURES: {
		unsigned int features = TAP_FEATURES;
		if (out_size < sizeof(features))
			return -EINVAL;
		memcpy(out, &features, sizeof(features));
		return 0;
	}
	default:
		return -ENOTTY;
	}
}

static int tap_poll_fd(void *dev, uint64_t handle)
{
	struct tap *t = dev;
	(void)handle;
	return t->fd;
}

static const struct vos_device_ops tap_ops = {
	.open = tap_open,
	.read = tap_read,
	.write = tap_write,
	.release = tap_release,
	.ioctl = tap_ioctl,
	.destroy = tap_destroy,
	.poll_fd = tap_poll_fd,
};

const struct vos_device umdev_tap = {
	.name = "tap",
	.description = "a tap device on a VDE network (-o vde=URL)",
	.kind = 'c',
	.max_io = TAP_FRAME_MAX + sizeof(struct tun_pi),
	.ops = &tap_ops,
	.create = tap_create,
};
