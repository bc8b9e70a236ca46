/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A path named by a trapped caller, made absolute against its working
 * directory as the kernel sees it (/proc/PID/cwd, read from outside the
 * caller). Shared by the core (mount aliases) and umfuse (targets and
 * sources), which cannot link the core. */
#pragma once

#include <sys/types.h>

/* *ret: `path` if absolute, else CWD/`path` (a newly allocated string,
 * not normalised; it does not start with '/' when the caller's cwd is
 * unreachable from our root). 0, or -errno. */
int caller_path_absolute(pid_t pid, const char *path, char **ret);
