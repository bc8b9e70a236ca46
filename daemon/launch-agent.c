/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vosd's launch agent (see launch-agent.h). */
#include "launch-agent.h"

#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>

#include "run-client.h"
#include "util.h"

#define AGENT_VOSD_FD 3
#define AGENT_CLIENT_FD 4
#define FD_FLOOR 16 /* where the child parks descriptors before dup2 */

static size_t count(const struct vosd_msg *m, uint16_t tag)
{
	size_t n = 0;
	for (long i = -1; vosd_msg_next(m, tag, &i);)
		n++;
	return n;
}

int launch_agent_spawn(const char *self_exe, const struct vosd_msg *m, const int fds[4], int vosd_sock,
		       int client_sock, pid_t *ret_pid, char *error, size_t error_size)
{
	size_t n_services = count(m, VOSD_TAG_PRELOAD), n_args = count(m, VOSD_TAG_ARGV);
	size_t n_env = count(m, VOSD_TAG_ENV);
	const char *search = vosd_msg_string(m, VOSD_TAG_SEARCH_PATH);
	char n_s[16];
	snprintf(n_s, sizeof(n_s), "%zu", n_services);

	/* vosd --launch-agent -- SEARCH N SERVICE... COMMAND... */
	_cleanup_free_ char **argv = calloc(5 + n_services + n_args + 1, sizeof(char *));
	_cleanup_free_ char **envp = calloc(n_env + 1, sizeof(char *));
	if (!argv || !envp) {
		snprintf(error, error_size, "out of memory");
		return -ENOMEM;
	}
	size_t a = 0, e = 0;
	argv[a++] = "vosd";
	argv[a++] = "--launch-agent";
	argv[a++] = "--";
	argv[a++] = (char *)(search ? search : "");
	argv[a++] = n_s;
	for (long i = -1; vosd_msg_next(m, VOSD_TAG_PRELOAD, &i);)
		argv[a++] = (char *)m->fields[i].value;
	for (long i = -1; vosd_msg_next(m, VOSD_TAG_ARGV, &i);)
		argv[a++] = (char *)m->fields[i].value;
	for (long i = -1; vosd_msg_next(m, VOSD_TAG_ENV, &i);) {
		if (!strchr(m->fields[i].value, '=')) {
			snprintf(error, error_size, "environment entry without '=': %.64s", m->fields[i].value);
			return -EINVAL;
		}
		envp[e++] = (char *)m->fields[i].value;
	}
	if (!argv[5 + n_services][0]) {
		snprintf(error, error_size, "empty command name");
		return -EINVAL;
	}

	pid_t pid = fork();
	if (pid < 0) {
		int r = -errno;
		snprintf(error, error_size, "cannot start the launch agent: %s", strerror(-r));
		return r;
	}
	if (pid == 0) {
		/* Async-signal-safe only: we are a fork of a threaded process. */
		struct sigaction dfl = { .sa_handler = SIG_DFL };
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		sigaction(SIGPIPE, &dfl, NULL); /* vosd ignores it; the command must not */
		int src[6] = { fds[0], fds[1], fds[2], vosd_sock, client_sock, fds[3] };
		int parked[6];
		for (int i = 0; i < 6; i++)
			if ((parked[i] = fcntl(src[i], F_DUPFD_CLOEXEC, FD_FLOOR)) < 0)
				_exit(127);
		if (fchdir(parked[5]) < 0)
			_exit(127);
		for (int i = 0; i < 5; i++)
			if (dup2(parked[i], i) < 0)
				_exit(127);
		close_range(5, ~0U, 0);
		execve(self_exe, argv, envp);
		_exit(127);
	}
	*ret_pid = pid;
	return 0;
}

/* Tell the caller; it may be gone, and that does not stop the view. */
static void send_reply(struct vosd_builder *b)
{
	vosd_send(AGENT_CLIENT_FD, b, NULL, 0);
	vosd_builder_free(b);
}

int launch_agent_main(int argc, char **argv)
{
	if (argc < 3)
		return 2;
	char *end;
	unsigned long n = strtoul(argv[1], &end, 10);
	if (*end || n > (unsigned long)argc - 3)
		return 2;
	/* Ours, not the view's: the command and the helper must not hold them. */
	if (fcntl(AGENT_VOSD_FD, F_SETFD, FD_CLOEXEC) < 0 || fcntl(AGENT_CLIENT_FD, F_SETFD, FD_CLOEXEC) < 0)
		return 2;
	const char *search = argv[0];
	const char *const *services = (const char *const *)argv + 2;
	char **command = argv + 2 + n;

	sigset_t mask;
	launcher_signals(&mask);
	sigprocmask(SIG_BLOCK, &mask, NULL);

	struct run_client_request req = {
		.argv = command,
		.services = services,
		.n_services = n,
		.search = search[0] ? search : NULL,
		.cwd_layer = true,
	};
	struct run_client rc;
	char warning[PATH_MAX + 256], why[PATH_MAX + 512];
	bool exec_failed;
	int r = run_client_prepare(AGENT_VOSD_FD, &req, &rc, warning, sizeof(warning), why, sizeof(why));
	if (r == 0)
		r = run_client_start(&rc, why, sizeof(why), &exec_failed);
	if (r < 0) {
		vosd_send_error(AGENT_CLIENT_FD, -r, why);
		return 1;
	}
	struct vosd_builder b;
	vosd_builder_init(&b, VOSD_REPLY_OK);
	vosd_add_u32(&b, VOSD_TAG_VIEW_ID, rc.id);
	vosd_add_u32(&b, VOSD_TAG_PID, (uint32_t)rc.view.pid);
	if (warning[0])
		vosd_add_string(&b, VOSD_TAG_MESSAGE, warning);
	send_reply(&b);

	int status = run_client_wait(rc.view.pid);
	if (status < 0) {
		vosd_send_error(AGENT_CLIENT_FD, -status, "waiting for the command failed");
		return 1;
	}
	vosd_builder_init(&b, VOSD_VIEW_EXIT);
	vosd_add_u32(&b, VOSD_TAG_VIEW_ID, rc.id);
	vosd_add_u32(&b, VOSD_TAG_STATUS, (uint32_t)status);
	send_reply(&b);
	return 0;
}
