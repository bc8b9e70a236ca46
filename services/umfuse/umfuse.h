/* SPDX-License-Identifier: GPL-2.0-or-later */
/* umfuse: unmodified libfuse programs as vos filesystems.
 *
 * `mount -t umfuseNAME SOURCE TARGET` loads the module umfuseNAME.so (a
 * libfuse 3 program compiled as a shared object) and `mount -t umfuse -o
 * prog=PROGRAM SOURCE TARGET` runs an installed FUSE program (libfuse 2 or
 * 3). Either way the program runs inside the view, started by
 * vos-fuse-runner on the FUSE connection the core mounted at TARGET. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <vos/service.h>

#define UMFUSE_RUNNER_NAME "vos-fuse-runner"
#define UMFUSE_MODULE_PREFIX "umfuse"

/* One loaded umfuse service (one per view). */
struct umfuse {
	const struct vos_service_host *host;
	char *runner; /* absolute path of vos-fuse-runner */
};

/* The environment of process `pid` as NUL-separated strings. */
struct umfuse_environ {
	char *data;
	size_t size;
};

/* Read /proc/PID/environ. 0 or -errno. */
int umfuse_environ_read(pid_t pid, struct umfuse_environ *ret);
/* The value of `name`, or NULL. */
const char *umfuse_environ_get(const struct umfuse_environ *env, const char *name);
void umfuse_environ_done(struct umfuse_environ *env);

/* `path` as the process sees it, made absolute against its working
 * directory (the path to hand to programs running in the view). Only
 * strings: the supervisor cannot look into the view's FUSE mounts (the
 * kernel lets no process outside the view's user namespace in), so every
 * file test happens inside the view, in umfuse_probe(). */
int umfuse_path_absolute(pid_t pid, const char *path, char **ret);

/* Where a module or program may be: a NULL-terminated list of absolute
 * paths in the view, first match wins. */
struct umfuse_candidates {
	size_t count;
	char **paths;
};
/* umfuseNAME.so in the caller's VOS_SERVICE_PATH and LD_LIBRARY_PATH, the
 * installed module directory, then the build tree next to the vos
 * executable. */
int umfuse_module_candidates(pid_t pid, const struct umfuse_environ *env, const char *name,
			     struct umfuse_candidates *ret);
/* A program: its path made absolute, or a bare name in the caller's PATH. */
int umfuse_program_candidates(pid_t pid, const struct umfuse_environ *env, const char *prog,
			      struct umfuse_candidates *ret);
void umfuse_candidates_done(struct umfuse_candidates *c);

/* What `vos-fuse-runner probe`, run inside the view, found. */
struct umfuse_probe {
	int found;         /* index into the candidates, -1 if none exists */
	bool bad;          /* the one found is not usable: see `error` */
	bool file_root;    /* the target is a regular file */
	bool source_found; /* the absolute source exists */
	char error[512];
};
/* Look for the first existing candidate inside the view and check it: a
 * module must load and define main (in the throw-away probe process, so
 * a module's code never runs in the supervisor), a program must be
 * executable. `target` and `source` (either may be NULL) are tested too.
 * 0 with `ret` filled, or -errno when the probe itself failed. */
int umfuse_probe(struct umfuse *u, bool module, const struct umfuse_candidates *c,
		 const char *target, const char *source, struct umfuse_probe *ret);

extern const struct vos_filesystem umfuse_filesystem;
