/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A view handed to vosd: the client prepares the view itself (namespaces,
 * helper, filter, the command as its child) and hands it to vosd in two
 * steps (see libvos/daemon-proto.h), then only waits for its command.
 * Used by `vos run` with a daemon and by vosd's launch agent
 * (launch-agent.h), which does the same for libvos callers.
 */
#pragma once

#include <seccomp.h>
#include <stdbool.h>
#include <stddef.h>

#include "launcher.h"

struct run_client_request {
	char *const *argv;                /* the command; argv[0] searched in PATH */
	const char *const *services;      /* "NAME[,opt=val...]", preloaded */
	size_t n_services;
	const char *search;               /* the caller's VOS_SERVICE_PATH, or NULL */
	bool cwd_layer;                   /* serve the working-directory layer */
	bool kill_on_supervisor_death;
};

struct run_client {
	int sock;
	struct launch_config cfg;
	struct launched_view view;        /* view.pid: the command, after start */
	scmp_filter_ctx filter;
	unsigned id;                      /* vosd's view id */
};

/* Step 1, PREPARE_VIEW: build the filter, create the view's namespaces and
 * helper here and hand them to vosd on `sock`, which preloads the services
 * and, with req->cwd_layer and a working directory of ours, serves the
 * working-directory layer. The signals of launcher_signals() must be
 * blocked. On success *ret is ready for run_client_start() and `warning`
 * holds a warning line or "". On failure `error` holds a one-line reason. */
int run_client_prepare(int sock, const struct run_client_request *req, struct run_client *ret,
		       char *warning, size_t warning_size, char *error, size_t error_size);

/* Step 2, ATTACH_COMMAND: start the command in the view and give vosd its
 * listener. Releases what run_client_prepare took, success or not. On
 * success rc->view.pid is the command's pid. On failure `error` holds a
 * one-line reason; *exec_failed (set on every return) tells that execvp
 * failed (the result is its -errno, the reason "ARGV0: strerror"). When
 * vosd refuses the listener, the command is killed and reaped first. */
int run_client_start(struct run_client *rc, char *error, size_t error_size, bool *exec_failed);

/* Wait, as the view's subreaper, until the command and every process
 * reparented to us have exited, forwarding SIGTERM/SIGHUP to the command
 * (SIGCHLD, SIGINT, SIGQUIT, SIGTERM, SIGHUP must be blocked). Returns the
 * command's wait status. */
int run_client_wait(pid_t command);
