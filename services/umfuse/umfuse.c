/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The umfuse service: one filesystem, "*", that takes every umfuseNAME
 * type (and plain "umfuse" with -o prog=). See umfuse(7). */
#include "umfuse.h"

#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The runner sits next to umfuse.so in the build tree and in
 * UMFUSE_LIBEXECDIR once installed. */
static char *find_runner(void)
{
	Dl_info info;
	char path[PATH_MAX];
	if (dladdr(&umfuse_filesystem, &info) && info.dli_fname) {
		const char *slash = strrchr(info.dli_fname, '/');
		if (slash && snprintf(path, sizeof(path), "%.*s/%s", (int)(slash - info.dli_fname),
				      info.dli_fname, UMFUSE_RUNNER_NAME) < (int)sizeof(path) &&
		    access(path, X_OK) == 0)
			return realpath(path, NULL);
	}
	snprintf(path, sizeof(path), "%s/%s", UMFUSE_LIBEXECDIR, UMFUSE_RUNNER_NAME);
	return access(path, X_OK) == 0 ? strdup(path) : NULL;
}

static int umfuse_init(const struct vos_service_host *host, const struct vos_options *options,
		       void **ret_service)
{
	if (options && options->count > 0) {
		host->log(host->core, "umfuse: unknown service option '%s'", options->items[0].key);
		return -EINVAL;
	}
	struct umfuse *u = calloc(1, sizeof(*u));
	if (!u)
		return -ENOMEM;
	u->host = host;
	u->runner = find_runner();
	if (!u->runner) {
		host->log(host->core, "umfuse: cannot find %s (next to umfuse.so or in %s): vos is not installed completely",
			  UMFUSE_RUNNER_NAME, UMFUSE_LIBEXECDIR);
		free(u);
		return -ENOENT;
	}
	*ret_service = u;
	return 0;
}

static void umfuse_fini(void *service)
{
	struct umfuse *u = service;
	if (!u)
		return;
	free(u->runner);
	free(u);
}

static const struct vos_filesystem *const umfuse_filesystems[] = {
	&umfuse_filesystem,
	NULL,
};

static const struct vos_service umfuse_service = {
	.abi_major = VOS_SERVICE_ABI_MAJOR,
	.abi_minor = VOS_SERVICE_ABI_MINOR,
	.size = sizeof(struct vos_service),
	.name = "umfuse",
	.description = "virtual file systems (user level FUSE)",
	.init = umfuse_init,
	.fini = umfuse_fini,
	.filesystems = umfuse_filesystems,
};

VOS_SERVICE_DEFINE(umfuse_service);
