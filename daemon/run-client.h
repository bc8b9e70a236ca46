/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * `vos run` through vosd: the client prepares the view itself (namespaces,
 * helper, filter, the command as its child) and hands it to vosd in two
 * steps (see libvos/daemon-proto.h), then only waits for its command.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "launcher.h"

/* PREPARE_VIEW: hand over the prepared view's helper and namespaces;
 * vosd loads `preload` (with `search` as the caller's VOS_SERVICE_PATH)
 * and, with `cwd`, serves the working-directory layer over it. On success
 * *ret_id is the view id and `warning` holds a warning line or "". On
 * failure `error` holds vosd's one-line reason. */
int run_client_prepare(int sock, const struct launched_view *view, char *const *argv, const char *cwd,
		       const char *const *preload, size_t n_preload, const char *search,
		       unsigned *ret_id, char *warning, size_t warning_size, char *error, size_t error_size);

/* ATTACH_COMMAND: hand over the listener and the command's pid. */
int run_client_attach(int sock, unsigned id, const struct launched_view *view, char *error, size_t error_size);

/* Wait, as the view's subreaper, until the command and every process
 * reparented to us have exited, forwarding SIGTERM/SIGHUP to the command
 * (SIGCHLD, SIGINT, SIGQUIT, SIGTERM, SIGHUP must be blocked). Returns the
 * command's wait status. */
int run_client_wait(pid_t command);
