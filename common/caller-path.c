/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "caller-path.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int caller_path_absolute(pid_t pid, const char *path, char **ret)
{
	char *out;
	if (path[0] == '/') {
		out = strdup(path);
	} else {
		char link[64], cwd[PATH_MAX];
		snprintf(link, sizeof(link), "/proc/%d/cwd", (int)pid);
		ssize_t n = readlink(link, cwd, sizeof(cwd) - 1);
		if (n < 0)
			return -errno;
		cwd[n] = '\0';
		if (asprintf(&out, "%s/%s", n > 1 ? cwd : "", path) < 0)
			out = NULL;
	}
	if (!out)
		return -ENOMEM;
	*ret = out;
	return 0;
}
