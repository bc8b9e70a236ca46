/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Messages with file descriptors over Unix sockets (SCM_RIGHTS), shared by
 * the core (the view helper, vosd's workers) and libvos (the vosd
 * protocol). */
#include "fd-pass.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#define FD_PASS_MAX 8

int fd_send(int sock, const void *buf, size_t len, const int *fds, size_t n_fds)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * FD_PASS_MAX)];
		struct cmsghdr align;
	} control;
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };

	if (n_fds > FD_PASS_MAX)
		return -EINVAL;
	if (n_fds > 0) {
		memset(&control, 0, sizeof(control));
		msg.msg_control = control.buf;
		msg.msg_controllen = CMSG_SPACE(sizeof(int) * n_fds);
		struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
		cmsg->cmsg_level = SOL_SOCKET;
		cmsg->cmsg_type = SCM_RIGHTS;
		cmsg->cmsg_len = CMSG_LEN(sizeof(int) * n_fds);
		memcpy(CMSG_DATA(cmsg), fds, sizeof(int) * n_fds);
	}
	for (;;) {
		ssize_t n = sendmsg(sock, &msg, MSG_NOSIGNAL);
		if (n >= 0)
			return (size_t)n == len ? 0 : -EMSGSIZE;
		if (errno != EINTR)
			return -errno;
	}
}

ssize_t fd_recv(int sock, void *buf, size_t size, int *ret_fds, size_t max_fds)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * (FD_PASS_MAX + 4))];
		struct cmsghdr align;
	} control;
	struct iovec iov = { .iov_base = buf, .iov_len = size };
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = control.buf,
		.msg_controllen = sizeof(control.buf),
	};
	ssize_t n;
	bool too_many = false;

	for (size_t i = 0; i < max_fds; i++)
		ret_fds[i] = -1;
	do
		n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;

	size_t got = 0;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		int *fds = (int *)CMSG_DATA(c);
		for (size_t i = 0; i < count; i++) {
			if (got < max_fds) {
				ret_fds[got++] = fds[i];
			} else {
				close(fds[i]); /* more than the caller expects */
				too_many = true;
			}
		}
	}
	/* An empty packet (SOCK_SEQPACKET) reads as end of connection: any
	 * descriptors that came with it are nobody's, close them. */
	if (too_many || n == 0 || (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC))) {
		for (size_t i = 0; i < got; i++) {
			close(ret_fds[i]);
			ret_fds[i] = -1;
		}
		return n == 0 ? 0 : -EMSGSIZE;
	}
	return n;
}
