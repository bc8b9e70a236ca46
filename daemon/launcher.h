/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Starting a view: namespaces, the view helper, the seccomp filter, exec.
 *
 *   supervisor ──fork──▶ setup child: unshare(user?, mount), id maps,
 *        │                  fork ▶ view helper (setsid, serves requests)
 *        │                  exit (the helper is not the supervisor's child)
 *        └──fork──▶ command: setns(user, mount) via fds from the helper,
 *                   chdir back, NO_NEW_PRIVS + filter, send the listener,
 *                   execvp(argv)
 */
#pragma once

#include <seccomp.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/types.h>

struct launch_config {
	char *const *argv;       /* command and arguments; argv[0] searched in PATH */
	bool user_namespace;     /* create a user namespace (always when not root) */
	bool kill_on_supervisor_death; /* else processes see errors (ENOSYS, ENOTCONN) */
};

struct launched_view {
	pid_t pid;        /* the command's process (0 until launcher_exec) */
	int listener;     /* seccomp user-notification listener (-1 until then) */
	int helper;       /* socket to the view helper */
	pid_t helper_pid;
	int userns;       /* fd of the view's user namespace, or -1 */
	int mntns;        /* fd of the view's mount namespace */
};

/* The signals the process that launched a view handles itself while the
 * view runs (SIGCHLD, and SIGINT, SIGQUIT, SIGTERM, SIGHUP for the
 * command): blocked before launching, read from a signalfd or sigwait. */
void launcher_signals(sigset_t *ret);

/* Create the view's namespaces and its helper, and make us the subreaper.
 * Errors are -errno with a one-line explanation in *ret_error (a static
 * string). */
int launcher_prepare(const struct launch_config *cfg, struct launched_view *ret, const char **ret_error);

/* Start the command in the prepared view: it joins the namespaces, enters
 * the working directory (through anything mounted over it meanwhile),
 * installs the filter and execs. Fills view->pid and view->listener. After a
 * failed execvp the result is execvp's -errno with *ret_error = "exec". */
int launcher_exec(const struct launch_config *cfg, scmp_filter_ctx filter, struct launched_view *view,
		  const char **ret_error);
