/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libvos: launching a view through vosd and waiting for it (vos/vos.h;
 * LAUNCH_VIEW and VIEW_EXIT in daemon-proto.h). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vos/vos.h>

#include "daemon-proto.h"

#define VOS_EXPORT __attribute__((visibility("default")))

extern char **environ;

static int fail(int r, char *error, size_t error_size, const char *what)
{
	snprintf(error, error_size, "%s", what);
	return r;
}

VOS_EXPORT int vos_view_launch(int fd, const struct vos_launch *l, unsigned *ret_id, int *ret_pid,
			       char *error, size_t error_size)
{
	char dummy[1];
	if (!error || !error_size) {
		error = dummy;
		error_size = sizeof(dummy);
	}
	error[0] = '\0';
	if (!l || !l->argv || !l->argv[0] || !l->argv[0][0])
		return fail(-EINVAL, error, error_size, "no command to launch");
	int stdio[3] = {
		l->stdin_fd >= 0 ? l->stdin_fd : STDIN_FILENO,
		l->stdout_fd >= 0 ? l->stdout_fd : STDOUT_FILENO,
		l->stderr_fd >= 0 ? l->stderr_fd : STDERR_FILENO,
	};
	for (int i = 0; i < 3; i++)
		if (fcntl(stdio[i], F_GETFD) < 0) {
			snprintf(error, error_size, "the %s descriptor %d is not open", i == 0 ? "stdin" : i == 1 ? "stdout" : "stderr",
				 stdio[i]);
			return -EBADF;
		}
	int cwd = open(l->cwd ? l->cwd : ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (cwd < 0) {
		int r = -errno;
		snprintf(error, error_size, "cannot open the working directory %s: %s", l->cwd ? l->cwd : ".", strerror(-r));
		return r;
	}

	struct vosd_builder b;
	vosd_builder_init(&b, VOSD_LAUNCH_VIEW);
	size_t n = 0;
	for (; l->argv[n]; n++)
		vosd_add_string(&b, VOSD_TAG_ARGV, l->argv[n]);
	size_t n_services = 0;
	for (; l->services && l->services[n_services]; n_services++)
		vosd_add_string(&b, VOSD_TAG_PRELOAD, l->services[n_services]);
	size_t n_env = 0;
	for (char *const *e = l->envp ? l->envp : environ; e && *e; e++, n_env++)
		vosd_add_string(&b, VOSD_TAG_ENV, *e);
	const char *sp = getenv("VOS_SERVICE_PATH");
	if (sp && sp[0])
		vosd_add_string(&b, VOSD_TAG_SEARCH_PATH, sp);
	int r = b.error;
	if (r == 0 && (n > 256 || n_services > 64 || n + n_services + n_env + 1 > VOSD_FIELDS_MAX))
		r = -E2BIG;
	if (r == -EMSGSIZE || r == -ENAMETOOLONG || r == -E2BIG) {
		vosd_builder_free(&b);
		close(cwd);
		return fail(-E2BIG, error, error_size, "the command, its environment and services do not fit one request");
	}

	int fds[4] = { stdio[0], stdio[1], stdio[2], cwd };
	char *buf = malloc(VOSD_MSG_MAX);
	struct vosd_msg *reply = malloc(sizeof(*reply));
	r = buf && reply ? vosd_call(fd, &b, fds, 4, buf, reply, error, error_size) : -ENOMEM;
	vosd_builder_free(&b);
	close(cwd);
	uint32_t id = 0, pid = 0;
	if (r == 0 && (!vosd_msg_u32(reply, VOSD_TAG_VIEW_ID, &id) || !vosd_msg_u32(reply, VOSD_TAG_PID, &pid))) {
		snprintf(error, error_size, "vosd sent no view id and pid");
		r = -EPROTO;
	}
	if (r == 0) {
		const char *w = vosd_msg_string(reply, VOSD_TAG_MESSAGE);
		snprintf(error, error_size, "%s", w ? w : "");
	} else if (r == -ECONNRESET && !error[0]) {
		snprintf(error, error_size, "vosd's launch agent ended without an answer");
	}
	free(buf);
	free(reply);
	if (r < 0)
		return r;
	*ret_id = id;
	*ret_pid = (int)pid;
	return 0;
}

VOS_EXPORT int vos_view_wait(int fd, int timeout_ms, int *ret_status)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int k = poll(&p, 1, timeout_ms < 0 ? -1 : timeout_ms);
	if (k < 0)
		return -errno;
	if (k == 0)
		return -EAGAIN;
	char *buf = malloc(VOSD_MSG_MAX);
	struct vosd_msg *m = malloc(sizeof(*m));
	int got[VOSD_FDS_MAX];
	size_t n_got = 0;
	ssize_t n = buf && m ? vosd_recv(fd, buf, got, &n_got) : -ENOMEM;
	for (size_t i = 0; i < n_got; i++)
		close(got[i]);
	char why[128];
	int r = n == 0 ? -ECONNRESET : n < 0 ? (int)n : vosd_msg_parse(buf, (size_t)n, 0, m, why, sizeof(why));
	uint32_t status = 0;
	if (r == 0 && (m->type != VOSD_VIEW_EXIT || !vosd_msg_u32(m, VOSD_TAG_STATUS, &status)))
		r = m->type == VOSD_REPLY_ERROR ? -ECONNRESET : -EPROTO;
	free(buf);
	free(m);
	if (r < 0)
		return r;
	int st = (int)status;
	*ret_status = WIFEXITED(st) ? WEXITSTATUS(st) : WIFSIGNALED(st) ? 128 + WTERMSIG(st) : 1;
	return 0;
}
