/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * umnet: network stacks for a view, as in umview's umnet.
 *
 *   mount -t umnetnull    none /dev/net/null     no network: every socket
 *                                                 fails (EAFNOSUPPORT)
 *   mount -t umnetcurrent none /dev/net/current  the network namespace of
 *                                                 the process that mounts it
 *   mount -t umnetnative  none /dev/net/native   the host's (the supervisor's)
 *   mount -t umnetvde -o vde=URL none /dev/net/vde0
 *                                                 a stack of its own (a network
 *                                                 namespace of the view) whose
 *                                                 interface vde0 is plugged
 *                                                 into the VDE network URL
 *
 * The core (daemon/netstack.c) does the rest: nodes, the default stack,
 * msocket and mstack.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <vos/service.h>

#include "umnet-plug.h"

#define UMNET_PLUG_NAME "umnet-vde-plug"
#define UMNET_PLUG_TIMEOUT_MS 10000

struct umnet {
	const struct vos_service_host *host;
	int plug_fd; /* umnet-vde-plug, next to this .so (O_PATH), or -1 */
};

struct vde_stack {
	int pidfd; /* the holder */
	int sock;  /* its fd 3: closing it ends the holder */
};

static int umnet_init(const struct vos_service_host *host, const struct vos_options *options, void **ret)
{
	if (options && options->count > 0) {
		host->log(host->core, "umnet: unknown service option '%s' (umnet takes none; options go to mount -o)",
			  options->items[0].key);
		return -EINVAL;
	}
	struct umnet *u = calloc(1, sizeof(*u));
	if (!u)
		return -ENOMEM;
	u->host = host;
	u->plug_fd = -1;
	/* Opened now: the path we were loaded from may go through the
	 * /proc/PID/root of a process that is gone by the time of a mount. */
	Dl_info info;
	if (dladdr((void *)umnet_init, &info) && info.dli_fname) {
		char copy[PATH_MAX], plug[PATH_MAX];
		snprintf(copy, sizeof(copy), "%s", info.dli_fname);
		snprintf(plug, sizeof(plug), "%s/%s", dirname(copy), UMNET_PLUG_NAME);
		u->plug_fd = open(plug, O_PATH | O_CLOEXEC);
	}
	*ret = u;
	return 0;
}

static void umnet_fini(void *service)
{
	struct umnet *u = service;
	if (u->plug_fd >= 0)
		close(u->plug_fd);
	free(u);
}

static int open_netns(pid_t pid, int *ret_fd)
{
	char path[64];
	if (pid > 0)
		snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
	else
		snprintf(path, sizeof(path), "/proc/self/ns/net");
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	*ret_fd = fd;
	return 0;
}

/* Every stack takes perm (read by the core); umnetvde also vde=URL. */
static int check_options(const struct umnet *u, const struct vos_mount_request *req, bool vde)
{
	for (size_t i = 0; req->options && i < req->options->count; i++) {
		const struct vos_option *o = &req->options->items[i];
		if ((!strcmp(o->key, "perm") || !strcmp(o->key, "ro") || !strcmp(o->key, "rw")) && !o->value)
			continue;
		if (vde && !strcmp(o->key, "vde") && o->value)
			continue;
		u->host->log(u->host->core, "%s: unknown option '%s' (known: %s)", req->type, o->key,
			     vde ? "vde=URL, perm" : "perm");
		return -EINVAL;
	}
	return 0;
}

static int null_create(void *service, const struct vos_mount_request *req, struct vos_netstack_instance *ret)
{
	int r = check_options(service, req, false);
	if (r < 0)
		return r;
	ret->netns_fd = -1;
	return 0;
}

static int current_create(void *service, const struct vos_mount_request *req, struct vos_netstack_instance *ret)
{
	int r = check_options(service, req, false);
	return r < 0 ? r : open_netns(req->pid, &ret->netns_fd);
}

static int native_create(void *service, const struct vos_mount_request *req, struct vos_netstack_instance *ret)
{
	int r = check_options(service, req, false);
	return r < 0 ? r : open_netns(0, &ret->netns_fd);
}

static void vde_stack_free(struct vde_stack *st)
{
	if (!st)
		return;
	if (st->sock >= 0)
		close(st->sock);
	if (st->pidfd >= 0) {
		syscall(SYS_pidfd_send_signal, st->pidfd, SIGTERM, NULL, 0);
		close(st->pidfd);
	}
	free(st);
}

/* Receive the holder's report: its namespace fd, or its error. */
static int vde_wait_report(struct umnet *u, int sock, const char *url, int *ret_netns)
{
	struct pollfd p = { .fd = sock, .events = POLLIN };
	int n = poll(&p, 1, UMNET_PLUG_TIMEOUT_MS);
	if (n == 0) {
		u->host->log(u->host->core, "umnetvde: %s: no answer from %s within %d s", url, UMNET_PLUG_NAME,
			     UMNET_PLUG_TIMEOUT_MS / 1000);
		return -ETIMEDOUT;
	}
	struct umnet_plug_report rep;
	struct iovec iov = { .iov_base = &rep, .iov_len = sizeof(rep) };
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} control;
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
			      .msg_controllen = sizeof(control.buf) };
	ssize_t got = n < 0 ? -1 : recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
	int fd = -1;
	struct cmsghdr *c = got > 0 ? CMSG_FIRSTHDR(&msg) : NULL;
	if (c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
		memcpy(&fd, CMSG_DATA(c), sizeof(int));
	if (got != (ssize_t)sizeof(rep)) {
		if (fd >= 0)
			close(fd);
		u->host->log(u->host->core, "umnetvde: %s: %s ended without an answer", url, UMNET_PLUG_NAME);
		return -EIO;
	}
	rep.error[sizeof(rep.error) - 1] = '\0';
	if (rep.result < 0 || fd < 0) {
		if (fd >= 0)
			close(fd);
		u->host->log(u->host->core, "umnetvde: %s", rep.error[0] ? rep.error : "no network namespace");
		return rep.result < 0 ? rep.result : -EIO;
	}
	*ret_netns = fd;
	return 0;
}

static int vde_create(void *service, const struct vos_mount_request *req, struct vos_netstack_instance *ret)
{
	struct umnet *u = service;
	int r = check_options(u, req, true);
	if (r < 0)
		return r;
	const char *url = vos_options_get(req->options, "vde");
	if (!url || !url[0]) {
		u->host->log(u->host->core, "umnetvde: missing option vde=URL (e.g. -o vde=vde:///tmp/switch)");
		return -EINVAL;
	}
	if (u->plug_fd < 0) {
		u->host->log(u->host->core, "umnetvde: cannot find %s next to umnet.so", UMNET_PLUG_NAME);
		return -ENOENT;
	}
	struct vde_stack *st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	st->pidfd = st->sock = -1;
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		free(st);
		return -errno;
	}
	st->sock = sv[0];
	/* The plug's fd becomes its fd 4, the report socket its fd 3. */
	const char *argv[] = { "/proc/self/fd/4", url, NULL };
	int fds[] = { sv[1], u->plug_fd };
	int pidfd = u->host->spawn(u->host->core, argv, fds, 2);
	close(sv[1]);
	if (pidfd < 0) {
		vde_stack_free(st);
		return pidfd;
	}
	st->pidfd = pidfd;
	int netns;
	r = vde_wait_report(u, st->sock, url, &netns);
	if (r < 0) {
		vde_stack_free(st);
		return r;
	}
	ret->netns_fd = netns;
	ret->data = st;
	return 0;
}

static void vde_destroy(void *service, void *data)
{
	(void)service;
	vde_stack_free(data);
}

static const struct vos_netstack stack_null = {
	.name = "null",
	.description = "no network: every socket fails with EAFNOSUPPORT",
	.create = null_create,
};
static const struct vos_netstack stack_current = {
	.name = "current",
	.description = "the network stack of the process that mounts it",
	.create = current_create,
};
static const struct vos_netstack stack_native = {
	.name = "native",
	.description = "the host's network stack",
	.create = native_create,
};
static const struct vos_netstack stack_vde = {
	.name = "vde",
	.description = "a stack of its own, interface vde0 on a VDE network (-o vde=URL)",
	.create = vde_create,
	.destroy = vde_destroy,
};

static const struct vos_netstack *const umnet_stacks[] = {
	&stack_null, &stack_current, &stack_native, &stack_vde, NULL,
};

static const struct vos_service umnet_service = {
	.abi_major = VOS_SERVICE_ABI_MAJOR,
	.abi_minor = VOS_SERVICE_ABI_MINOR,
	.size = sizeof(struct vos_service),
	.name = "umnet",
	.description = "virtual network stacks: null, current, native, vde (msocket, mstack)",
	.init = umnet_init,
	.fini = umnet_fini,
	.netstacks = umnet_stacks,
};

VOS_SERVICE_DEFINE(umnet_service);
