/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "notify.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/uio.h>

#include "util.h"

#ifndef SECCOMP_IOCTL_NOTIF_SET_FLAGS
#define SECCOMP_IOCTL_NOTIF_SET_FLAGS SECCOMP_IOW(4, __u64)
#endif
#ifndef SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP
#define SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP (1UL << 0)
#endif

static int xioctl(int fd, unsigned long req, void *arg)
{
	for (;;) {
		if (ioctl(fd, req, arg) >= 0)
			return 0;
		if (errno != EINTR)
			return -errno;
	}
}

int notify_set_sync_wakeup(int listener)
{
	if (ioctl(listener, SECCOMP_IOCTL_NOTIF_SET_FLAGS, SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP) < 0)
		return -errno;
	return 0;
}

int notify_recv(int listener, struct seccomp_notif *ret)
{
	memset(ret, 0, sizeof(*ret));
	return xioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, ret);
}

int notify_respond(int listener, uint64_t id, int64_t result)
{
	struct seccomp_notif_resp resp = { .id = id };
	if (result < 0)
		resp.error = (int32_t)result;
	else
		resp.val = result;
	return xioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, &resp);
}

int notify_continue(int listener, uint64_t id)
{
	struct seccomp_notif_resp resp = {
		.id = id,
		.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE,
	};
	return xioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, &resp);
}

bool notify_id_valid(int listener, uint64_t id)
{
	return xioctl(listener, SECCOMP_IOCTL_NOTIF_ID_VALID, &id) == 0;
}

int notify_addfd_send(int listener, uint64_t id, int fd, bool cloexec)
{
	struct seccomp_notif_addfd addfd = {
		.id = id,
		.flags = SECCOMP_ADDFD_FLAG_SEND,
		.srcfd = (uint32_t)fd,
		.newfd_flags = cloexec ? O_CLOEXEC : 0,
	};
	int r = ioctl(listener, SECCOMP_IOCTL_NOTIF_ADDFD, &addfd);
	return r < 0 ? -errno : r;
}

int tracee_read(pid_t pid, uint64_t addr, void *buf, size_t len)
{
	struct iovec local = { .iov_base = buf, .iov_len = len };
	struct iovec remote = { .iov_base = (void *)(uintptr_t)addr, .iov_len = len };
	ssize_t n = process_vm_readv(pid, &local, 1, &remote, 1, 0);
	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EFAULT;
}

int tracee_write(pid_t pid, uint64_t addr, const void *buf, size_t len)
{
	struct iovec local = { .iov_base = (void *)buf, .iov_len = len };
	struct iovec remote = { .iov_base = (void *)(uintptr_t)addr, .iov_len = len };
	ssize_t n = process_vm_writev(pid, &local, 1, &remote, 1, 0);
	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EFAULT;
}

char *tracee_read_string(pid_t pid, uint64_t addr, size_t max)
{
	if (addr == 0) {
		errno = EFAULT;
		return NULL;
	}
	_cleanup_free_ char *buf = malloc(max);
	if (!buf)
		return NULL;

	/* Read page by page: process_vm_readv stops at the first unmapped
	 * page, and a string may end just before one. */
	size_t got = 0;
	while (got < max) {
		uint64_t at = addr + got;
		size_t chunk = 4096 - (at & 4095);
		if (chunk > max - got)
			chunk = max - got;
		int r = tracee_read(pid, at, buf + got, chunk);
		if (r < 0) {
			errno = -r == ESRCH ? ESRCH : EFAULT;
			return NULL;
		}
		char *nul = memchr(buf + got, '\0', chunk);
		if (nul)
			return TAKE_PTR(buf);
		got += chunk;
	}
	errno = ENAMETOOLONG;
	return NULL;
}
