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
#include <stdbool.h>
#include <sys/types.h>

struct launch_config {
	char *const *argv;       /* command and arguments; argv[0] searched in PATH */
	bool user_namespace;     /* create a user namespace (always when not root) */
};

struct launched_view {
	pid_t pid;      /* the command's process */
	int listener;   /* seccomp user-notification listener */
	int helper;     /* socket to the view helper */
	int userns;     /* fd of the view's user namespace, or -1 */
	int mntns;      /* fd of the view's mount namespace */
};

/* Errors before the command runs are returned as -errno with a one-line
 * explanation in *ret_error (static string); after a failed execvp the
 * result is -errno of execvp with *ret_error = "exec". */
int launcher_start(const struct launch_config *cfg, scmp_filter_ctx filter,
		   struct launched_view *ret, const char **ret_error);
