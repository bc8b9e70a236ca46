/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fusermount and fusermount3 as FUSE programs see them inside a vos view
 * (installed under both names, first in the PATH that vos-fuse-runner
 * gives them and bind-mounted over the system's copies in the program's
 * private mount namespace).
 *
 * vos has already mounted the connection at the target: mounting sends that
 * connection, the inherited fd named by $VOS_FUSE_FD, back to libfuse over
 * the socket named by $_FUSE_COMMFD (or --comm-fd), one byte with the fd
 * attached by SCM_RIGHTS, exactly as libfuse's receive_fd() expects it
 * (lib/mount.c, fuse_mount_fusermount). The mountpoint and options are
 * accepted and ignored: the mount exists. -u (unmount) succeeds without
 * doing anything: the view owns the mount and unmounts it with umount(8). */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#define FUSE_MAJOR 10
#define FUSE_MINOR 229

static const char *progname = "fusermount";

static int parse_fd(const char *text)
{
	if (!text || !*text)
		return -1;
	char *end;
	errno = 0;
	long v = strtol(text, &end, 10);
	if (errno || *end || v < 0 || v > INT_MAX)
		return -1;
	return (int)v;
}

static int send_fd(int sock, int fd)
{
	char byte = 0;
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int))];
	} control;
	memset(&control, 0, sizeof(control));
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = control.buf, .msg_controllen = sizeof(control.buf),
	};
	struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
	cmsg->cmsg_level = SOL_SOCKET;
	cmsg->cmsg_type = SCM_RIGHTS;
	cmsg->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
	ssize_t n;
	while ((n = sendmsg(sock, &msg, MSG_NOSIGNAL)) < 0 && errno == EINTR)
		;
	return n == 1 ? 0 : -errno;
}

int main(int argc, char **argv)
{
	const char *slash = argc > 0 ? strrchr(argv[0], '/') : NULL;
	progname = slash ? slash + 1 : argc > 0 ? argv[0] : progname;
	bool unmount = false, quiet = false;
	const char *mountpoint = NULL, *comm_fd = getenv("_FUSE_COMMFD");

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--") == 0) {
			if (i + 1 < argc)
				mountpoint = argv[i + 1];
			break;
		} else if (strcmp(a, "-o") == 0) {
			i++; /* the options are the mount's, and it exists */
		} else if (strcmp(a, "--comm-fd") == 0 && i + 1 < argc) {
			comm_fd = argv[++i];
		} else if (strncmp(a, "--comm-fd=", 10) == 0) {
			comm_fd = a + 10;
		} else if (strcmp(a, "-V") == 0 || strcmp(a, "--version") == 0) {
			printf("%s (vos): hands over the FUSE connection vos mounted\n", progname);
			return 0;
		} else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			printf("usage: %s [-o OPTIONS] [-u] [-q] [-z] [--] MOUNTPOINT\n"
			       "In a vos view the mount exists already: this program passes its\n"
			       "connection ($VOS_FUSE_FD) to libfuse ($_FUSE_COMMFD).\n", progname);
			return 0;
		} else if (a[0] == '-' && a[1] && a[1] != '-' && strspn(a + 1, "uqz") == strlen(a + 1)) {
			unmount |= strchr(a, 'u') != NULL;
			quiet |= strchr(a, 'q') != NULL;
		} else if (a[0] == '-') {
			fprintf(stderr, "%s: unknown option %s\n", progname, a);
			return 1;
		} else if (!mountpoint) {
			mountpoint = a;
		}
	}
	if (!mountpoint) {
		fprintf(stderr, "%s: missing mountpoint argument\n", progname);
		return 1;
	}
	if (unmount)
		return 0;

	int fuse_fd = parse_fd(getenv("VOS_FUSE_FD"));
	struct stat st;
	if (fuse_fd < 0 || fstat(fuse_fd, &st) < 0 || !S_ISCHR(st.st_mode) ||
	    major(st.st_rdev) != FUSE_MAJOR || minor(st.st_rdev) != FUSE_MINOR) {
		fprintf(stderr, "%s: no FUSE connection in $VOS_FUSE_FD: in a vos view, mount FUSE "
			"programs with mount -t umfuse -o prog=PROGRAM\n", progname);
		return 1;
	}
	int sock = parse_fd(comm_fd);
	if (sock < 0) {
		fprintf(stderr, "%s: $_FUSE_COMMFD is not set: run by libfuse only\n", progname);
		return 1;
	}
	int r = send_fd(sock, fuse_fd);
	if (r < 0) {
		if (!quiet)
			fprintf(stderr, "%s: cannot send the FUSE connection: %s\n", progname, strerror(-r));
		return 1;
	}
	return 0;
}
