/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "run-client.h"

#include <signal.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include "util.h"

#include "../libvos/daemon-proto.h"

int run_client_prepare(int sock, const struct launched_view *view, char *const *argv, const char *cwd,
		       const char *const *preload, size_t n_preload, const char *search,
		       unsigned *ret_id, char *warning, size_t warning_size, char *error, size_t error_size)
{
	struct vosd_builder b;
	vosd_builder_init(&b, VOSD_PREPARE_VIEW);
	vosd_add_u32(&b, VOSD_TAG_HELPER_PID, (uint32_t)view->helper_pid);
	for (size_t i = 0; argv[i] && i < 256; i++)
		vosd_add_string(&b, VOSD_TAG_ARGV, strlen(argv[i]) < 256 ? argv[i] : "...");
	if (cwd)
		vosd_add_string(&b, VOSD_TAG_CWD, cwd);
	for (size_t i = 0; i < n_preload; i++)
		vosd_add_string(&b, VOSD_TAG_PRELOAD, preload[i]);
	if (search && search[0])
		vosd_add_string(&b, VOSD_TAG_SEARCH_PATH, search);
	int fds[4] = { view->helper, view->mntns, STDERR_FILENO, view->userns };
	_cleanup_free_ char *buf = malloc(VOSD_MSG_MAX);
	_cleanup_free_ struct vosd_msg *reply = malloc(sizeof(*reply));
	int r = buf && reply ? vosd_call(sock, &b, fds, view->userns >= 0 ? 4 : 3, buf, reply, error, error_size)
			     : -ENOMEM;
	vosd_builder_free(&b);
	if (r < 0)
		return r;
	uint32_t id;
	if (!vosd_msg_u32(reply, VOSD_TAG_VIEW_ID, &id)) {
		snprintf(error, error_size, "vosd sent no view id");
		return -EPROTO;
	}
	const char *w = vosd_msg_string(reply, VOSD_TAG_MESSAGE);
	snprintf(warning, warning_size, "%s", w ? w : "");
	*ret_id = id;
	return 0;
}

int run_client_attach(int sock, unsigned id, const struct launched_view *view, char *error, size_t error_size)
{
	struct vosd_builder b;
	vosd_builder_init(&b, VOSD_ATTACH_COMMAND);
	vosd_add_u32(&b, VOSD_TAG_VIEW_ID, id);
	vosd_add_u32(&b, VOSD_TAG_PID, (uint32_t)view->pid);
	_cleanup_free_ char *buf = malloc(VOSD_MSG_MAX);
	_cleanup_free_ struct vosd_msg *reply = malloc(sizeof(*reply));
	int r = buf && reply ? vosd_call(sock, &b, &view->listener, 1, buf, reply, error, error_size) : -ENOMEM;
	vosd_builder_free(&b);
	return r;
}

int run_client_wait(pid_t command)
{
	sigset_t mask;
	launcher_signals(&mask);
	int status = 0;
	bool command_done = false;
	for (;;) {
		/* Reap first: children may have exited before we wait. */
		for (;;) {
			int st;
			pid_t pid = waitpid(-1, &st, WNOHANG);
			if (pid > 0) {
				if (pid == command) {
					status = st;
					command_done = true;
				}
				continue;
			}
			if (pid < 0 && errno == ECHILD && command_done)
				return status;
			if (pid < 0 && errno == ECHILD)
				return -ECHILD;
			break;
		}
		siginfo_t si;
		int sig = sigwaitinfo(&mask, &si);
		if ((sig == SIGTERM || sig == SIGHUP) && !command_done)
			kill(command, sig);
		/* SIGINT, SIGQUIT: the terminal sent them to the command too. */
	}
}
