/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "run-client.h"

#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include "filter.h"
#include "util.h"

#include "../libvos/daemon-proto.h"

/* PREPARE_VIEW with the prepared view's helper and namespaces. */
static int send_prepare(int sock, const struct launched_view *view, char *const *argv, const char *cwd,
			const char *const *preload, size_t n_preload, const char *search, bool exec_trapped,
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
	vosd_add_u32(&b, VOSD_TAG_EXEC_TRAPPED, exec_trapped);
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

/* ATTACH_COMMAND: hand over the listener and the command's pid. */
static int send_attach(int sock, unsigned id, const struct launched_view *view, char *error, size_t error_size)
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

static void release_view_fds(struct launched_view *view)
{
	close(view->helper);
	close(view->mntns);
	if (view->userns >= 0)
		close(view->userns);
	view->helper = view->mntns = view->userns = -1;
}

int run_client_prepare(int sock, const struct run_client_request *req, struct run_client *ret,
		       char *warning, size_t warning_size, char *error, size_t error_size)
{
	struct run_client rc = {
		.sock = sock,
		.cfg = { .argv = req->argv, .user_namespace = true,
			 .kill_on_supervisor_death = req->kill_on_supervisor_death },
	};
	char why[512] = "";
	bool exec_trapped = filter_exec_wanted();
	int r = filter_build(&rc.filter, exec_trapped);
	if (r < 0) {
		snprintf(error, error_size, "cannot build the seccomp filter: %s", strerror(-r));
		return r;
	}
	const char *lerror;
	if ((r = launcher_prepare(&rc.cfg, &rc.view, &lerror)) < 0) {
		seccomp_release(rc.filter);
		snprintf(error, error_size, "%s: %s", lerror ? lerror : "cannot start the view", strerror(-r));
		return r;
	}
	char cwd[PATH_MAX];
	struct stat cwd_st;
	bool layer = req->cwd_layer && getcwd(cwd, sizeof(cwd)) && !streq(cwd, "/") && stat(cwd, &cwd_st) == 0 &&
		     cwd_st.st_uid == geteuid();
	r = send_prepare(sock, &rc.view, req->argv, layer ? cwd : NULL, req->services, req->n_services, req->search,
			 exec_trapped,
			 &rc.id, warning, warning_size, why, sizeof(why));
	if (r < 0) {
		seccomp_release(rc.filter);
		release_view_fds(&rc.view);
		snprintf(error, error_size, "%s", why[0] ? why : strerror(-r));
		return r;
	}
	*ret = rc;
	return 0;
}

int run_client_start(struct run_client *rc, char *error, size_t error_size, bool *exec_failed)
{
	const char *lerror;
	char why[512] = "";
	*exec_failed = false;
	int r = launcher_exec(&rc->cfg, rc->filter, &rc->view, &lerror);
	seccomp_release(rc->filter);
	rc->filter = NULL;
	release_view_fds(&rc->view);
	if (r < 0) {
		if (lerror && streq(lerror, "exec")) {
			*exec_failed = true;
			snprintf(error, error_size, "%s: %s", rc->cfg.argv[0], strerror(-r));
		} else {
			snprintf(error, error_size, "%s: %s", lerror ? lerror : "cannot start the view", strerror(-r));
		}
		return r;
	}
	r = send_attach(rc->sock, rc->id, &rc->view, why, sizeof(why));
	close(rc->view.listener);
	rc->view.listener = -1;
	if (r < 0) {
		snprintf(error, error_size, "vosd: %s", why[0] ? why : strerror(-r));
		kill(rc->view.pid, SIGKILL);
		run_client_wait(rc->view.pid);
		return r;
	}
	return 0;
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
