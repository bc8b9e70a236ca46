/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The launch agent: how vosd launches a view for a libvos caller
 * (LAUNCH_VIEW, libvos/daemon-proto.h; vos_view_launch, vos/vos.h).
 *
 * vosd does not build views itself: a view is always prepared by the
 * process that waits for its command (run-client.h). For LAUNCH_VIEW, vosd
 * starts that process for the caller, `vosd --launch-agent` (its own
 * binary, as its own user: the caller's, since only a vosd of the caller's
 * uid launches), with
 *   fd 0, 1, 2  the caller's stdin, stdout, stderr for the command,
 *   fd 3        a new connection to this vosd (PREPARE_VIEW, ATTACH_COMMAND),
 *   fd 4        the caller's connection, where the agent sends the reply
 *               (OK: VIEW_ID PID, or ERROR) and, at the end, VIEW_EXIT,
 *   the caller's working directory and exactly the caller's environment.
 * The agent is `vos run` without a terminal: it preloads the services,
 * starts the command, waits as the view's subreaper and exits with it.
 */
#pragma once

#include <sys/types.h>

#include "../libvos/daemon-proto.h"

/* Start the agent for LAUNCH_VIEW `m` with `fds` (stdin, stdout, stderr,
 * working directory; all still owned by the caller). `vosd_sock` and
 * `client_sock` become its fd 3 and 4 (the caller keeps and closes its
 * copies). Returns 0 with the agent's pid, or -errno (-E2BIG: too many
 * strings) with a one-line reason in `error`. Safe in a threaded process:
 * everything is allocated before fork. */
int launch_agent_spawn(const char *self_exe, const struct vosd_msg *m, const int fds[4], int vosd_sock,
		       int client_sock, pid_t *ret_pid, char *error, size_t error_size);

/* `vosd --launch-agent -- SEARCH N SERVICE... COMMAND ARGS...` (SEARCH: the
 * caller's VOS_SERVICE_PATH or ""; N services follow). Returns the exit
 * code: 0 once the exit status was sent, 1 on failure, 2 on bad usage. */
int launch_agent_main(int argc, char **argv);
