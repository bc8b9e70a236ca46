/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * launch-umdev: embed libvos to run a command in a new view served by vosd,
 * with services preloaded, its output captured through a pipe and both the
 * pipe and the view watched from one poll(2) loop.
 *
 *   launch-umdev [--socket PATH] [-p SERVICE[,opt=val]]... [-- COMMAND [ARG]...]
 *
 * Without a command it runs a demonstration in a view with umdev
 * preloaded: mount an umdevnull device at /dev/null2 (created inside the
 * view only), list it, write to it and read it back, then checks that the
 * output shows the device and the exit status is 0. With a command, it
 * runs that (an explicit empty one after "--" is passed on as it is) and
 * exits with its status, as `vos run` would; a launch failure prints one
 * line and exits 127 (command not found), 126 (not executable) or 1.
 *
 * Build: cc launch-umdev.c $(pkg-config --cflags --libs libvos)
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* pipe2 */
#endif
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <vos/vos.h>

#define MAX_SERVICES 16

static const char *prog = "launch-umdev";

static int usage(void)
{
	fprintf(stderr, "usage: %s [--socket PATH] [-p SERVICE[,opt=val]]... [-- COMMAND [ARG]...]\n", prog);
	return 2;
}

/* Read what is there into *out (grown as needed). Returns 0 at EOF,
 * 1 when more may come, -errno. */
static int read_some(int fd, char **out, size_t *len)
{
	char chunk[4096];
	ssize_t n = read(fd, chunk, sizeof(chunk));
	if (n < 0)
		return errno == EINTR || errno == EAGAIN ? 1 : -errno;
	if (n == 0)
		return 0;
	char *p = realloc(*out, *len + (size_t)n + 1);
	if (!p)
		return -ENOMEM;
	memcpy(p + *len, chunk, (size_t)n);
	*len += (size_t)n;
	p[*len] = '\0';
	*out = p;
	return 1;
}

int main(int argc, char **argv)
{
	const char *socket_path = NULL;
	const char *services[MAX_SERVICES + 1] = { 0 };
	size_t n_services = 0;
	char **command = NULL;
	int i = 1;
	for (; i < argc; i++) {
		if (!strcmp(argv[i], "--")) {
			command = argv + i + 1;
			break;
		} else if (!strcmp(argv[i], "--socket") && i + 1 < argc) {
			socket_path = argv[++i];
		} else if (!strcmp(argv[i], "-p") && i + 1 < argc && n_services < MAX_SERVICES) {
			services[n_services++] = argv[++i];
		} else {
			return usage();
		}
	}
	bool demo = !command;
	char *demo_argv[] = {
		"sh", "-c",
		"mount -t umdevnull none /dev/null2 && ls -l /dev/null2 && echo hello > /dev/null2 && "
		"echo \"read back $(wc -c < /dev/null2) bytes\"",
		NULL
	};
	if (demo) {
		command = demo_argv;
		if (n_services == 0)
			services[n_services++] = "umdev";
	}

	int fd = vos_daemon_connect(socket_path);
	if (fd < 0) {
		fprintf(stderr, "%s: cannot reach vosd: %s\n", prog, strerror(-fd));
		return 1;
	}
	int out[2];
	if (pipe2(out, O_CLOEXEC) < 0) {
		fprintf(stderr, "%s: pipe: %s\n", prog, strerror(errno));
		return 1;
	}

	struct vos_launch l = VOS_LAUNCH_INIT;
	l.argv = command;
	l.services = services;
	l.stdout_fd = out[1];
	unsigned id;
	int pid;
	char error[512];
	int r = vos_view_launch(fd, &l, &id, &pid, error, sizeof(error));
	close(out[1]); /* the view has its own copy now */
	if (r < 0) {
		/* A command that could not be executed: "ARGV0: strerror". */
		bool exec_failed = command[0] && !strncmp(error, command[0], strlen(command[0])) &&
				   error[strlen(command[0])] == ':';
		if (exec_failed)
			fprintf(stderr, "%s: %s\n", prog, error);
		else
			fprintf(stderr, "%s: cannot launch: %s%s%s\n", prog, error, error[0] ? ": " : "", strerror(-r));
		return exec_failed ? (r == -ENOENT ? 127 : 126) : 1;
	}
	if (error[0])
		fprintf(stderr, "%s: %s\n", prog, error);
	fprintf(stderr, "%s: view %u, command pid %d\n", prog, id, pid);

	/* One loop for the view's output and its end. */
	char *output = NULL;
	size_t len = 0;
	int status = -1;
	bool out_open = true, running = true;
	while (out_open || running) {
		struct pollfd p[2] = {
			{ .fd = out_open ? out[0] : -1, .events = POLLIN },
			{ .fd = running ? fd : -1, .events = POLLIN },
		};
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "%s: poll: %s\n", prog, strerror(errno));
			return 1;
		}
		if (p[0].revents) {
			r = read_some(out[0], &output, &len);
			if (r < 0) {
				fprintf(stderr, "%s: reading the view's output: %s\n", prog, strerror(-r));
				return 1;
			}
			out_open = r > 0;
		}
		if (p[1].revents) {
			r = vos_view_wait(fd, 0, &status);
			if (r == -EAGAIN)
				continue;
			if (r < 0) {
				fprintf(stderr, "%s: view %u: %s\n", prog, id, strerror(-r));
				return 1;
			}
			running = false;
		}
	}
	close(fd);
	close(out[0]);

	printf("%s", output ? output : "");
	printf("view %u exited with status %d\n", id, status);
	if (!demo) {
		free(output);
		return status;
	}
	bool good = status == 0 && output && strstr(output, " /dev/null2\n") && strstr(output, "read back 0 bytes");
	free(output);
	if (!good) {
		fprintf(stderr, "%s: unexpected output or status\n", prog);
		return 1;
	}
	printf("ok\n");
	return 0;
}
