/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Finding, loading and checking service plugins (.so files). */
#pragma once

#include <vos/service.h>

struct service_module {
	void *handle;                /* from dlopen */
	char *path;                  /* the file that was loaded */
	struct vos_service desc;     /* copy, zero-filled past the plugin's size */
};

/* Directories searched for NAME.so, in order: the colon-separated
 * `search_path` (the caller's VOS_SERVICE_PATH and LD_LIBRARY_PATH, each
 * directory already made reachable from the supervisor), then the installed
 * module directory, then the build tree next to the running executable. */
int service_module_find(const char *name, const char *search_path, char **ret_path);

/* Load and check the plugin at `path`, expected to define service `name`
 * (NULL: any). On failure returns -errno and a one-line reason in
 * `error` (at most `error_size` bytes). */
int service_module_load(const char *path, const char *name, struct service_module **ret,
			char *error, size_t error_size);

void service_module_unload(struct service_module *module);

/* The sub-module of a loaded service that a mount type selects, or NULL. */
const struct vos_filesystem *service_module_filesystem(const struct service_module *m, const char *subtype);
const struct vos_device *service_module_device(const struct service_module *m, const char *subtype);
