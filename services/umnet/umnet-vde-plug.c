/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * umnet-vde-plug URL: the holder of one umnetvde stack. Started by the
 * umnet service inside the view (host spawn, as the view's root), it
 * opens the VDE network URL with libvdeplug (in the view's own network
 * namespace), creates a network namespace (owned by the view's user
 * namespace), brings its loopback up and creates the tap interface vde0
 * there, joined to the VDE network. It reports on fd 3 -- one message
 * { int32 result; char error[] } with the namespace's fd attached on
 * success -- and then moves frames between vde0 and VDE until fd 3 closes
 * (the stack is unmounted, or the view ends).
 */
#include <errno.h>
#include <fcntl.h>
#include <libvdeplug.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <unistd.h>

#include "umnet-plug.h"

#define REPORT_FD 3
#define FRAME_MAX 65536

static int report(int result, int fd, const char *fmt, ...)
{
	struct umnet_plug_report rep = { .result = result };
	if (fmt) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(rep.error, sizeof(rep.error), fmt, ap);
		va_end(ap);
	}
	struct iovec iov = { .iov_base = &rep, .iov_len = sizeof(rep) };
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} control;
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	if (fd >= 0) {
		memset(&control, 0, sizeof(control));
		msg.msg_control = control.buf;
		msg.msg_controllen = sizeof(control.buf);
		struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	return sendmsg(REPORT_FD, &msg, MSG_NOSIGNAL) < 0 ? -errno : 0;
}

/* /dev/net/tun of the host. In the view it may be hidden under an overlay
 * that vos made to create a mount point (a user namespace's mounts carry
 * no devices): in a private mount namespace of ours, take those away. */
static int open_tun(void)
{
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (fd >= 0 || (errno != EACCES && errno != ENOENT && errno != EPERM))
		return fd < 0 ? -errno : fd;
	if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return -errno;
	static const char *const layers[] = { "/dev/net", "/dev" };
	for (size_t i = 0; i < sizeof(layers) / sizeof(layers[0]); i++) {
		for (int depth = 0; depth < 16; depth++) {
			if ((fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC)) >= 0)
				return fd;
			if (umount2(layers[i], MNT_DETACH) < 0)
				break;
		}
	}
	fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

static int set_up(const char *name)
{
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -errno;
	struct ifreq ifr = { 0 };
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	int r = ioctl(s, SIOCGIFFLAGS, &ifr);
	if (r == 0) {
		ifr.ifr_flags |= IFF_UP;
		r = ioctl(s, SIOCSIFFLAGS, &ifr);
	}
	r = r < 0 ? -errno : 0;
	close(s);
	return r;
}

int main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN);
	if (argc != 2) {
		report(-EINVAL, -1, "usage: umnet-vde-plug URL");
		return 2;
	}
	const char *url = argv[1];
	/* The VDE side first, in the view's own network namespace: a udp://
	 * or vxvde:// network is reached through the host's interfaces. */
	struct vde_open_args args = { .port = 0, .group = NULL, .mode = 0600 };
	errno = 0;
	VDECONN *conn = vde_open((char *)url, "vos-umnet", &args);
	if (!conn) {
		int r = errno ? -errno : -ECONNREFUSED;
		report(r, -1, "cannot open VDE network %s: %s", url, strerror(-r));
		return 1;
	}
	if (unshare(CLONE_NEWNET) < 0) {
		int r = -errno;
		report(r, -1, "cannot create a network namespace: %s", strerror(-r));
		return 1;
	}
	int r = set_up("lo");
	if (r < 0) {
		report(r, -1, "cannot bring lo up: %s", strerror(-r));
		return 1;
	}
	int tap = open_tun();
	if (tap < 0) {
		report(tap, -1, "cannot open /dev/net/tun: %s", strerror(-tap));
		return 1;
	}
	struct ifreq ifr = { .ifr_flags = IFF_TAP | IFF_NO_PI };
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", UMNET_VDE_IFNAME);
	if (ioctl(tap, TUNSETIFF, &ifr) < 0) {
		r = -errno;
		report(r, -1, "cannot create the tap interface %s: %s", UMNET_VDE_IFNAME, strerror(-r));
		return 1;
	}
	int netns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (netns < 0 || report(0, netns, NULL) < 0) {
		vde_close(conn);
		return 1;
	}
	close(netns);

	static char frame[FRAME_MAX];
	struct pollfd fds[3] = {
		{ .fd = tap, .events = POLLIN },
		{ .fd = vde_datafd(conn), .events = POLLIN },
		{ .fd = REPORT_FD, .events = POLLIN },
	};
	for (;;) {
		if (poll(fds, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (fds[2].revents)
			break; /* the stack is gone */
		if (fds[0].revents & POLLIN) {
			ssize_t n = read(tap, frame, sizeof(frame));
			if (n > 0)
				vde_send(conn, frame, (size_t)n, 0);
		}
		if (fds[1].revents & POLLIN) {
			ssize_t n = vde_recv(conn, frame, sizeof(frame), 0);
			if (n > 0) /* 0: a frame the plugin filtered out */
				(void)!write(tap, frame, (size_t)n);
		}
		if ((fds[0].revents | fds[1].revents) & (POLLHUP | POLLERR | POLLNVAL))
			break;
	}
	vde_close(conn);
	return 0;
}
