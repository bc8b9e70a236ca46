/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Where umfuse modules and FUSE programs may be, as paths in the view. */
#include "umfuse.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"

#define DEFAULT_PATH "/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin"
#define CANDIDATES_MAX 64

static int add(struct umfuse_candidates *c, char *path)
{
	if (!path)
		return -ENOMEM;
	if (c->count == CANDIDATES_MAX) {
		free(path);
		return 0; /* the rest of a very long list is ignored */
	}
	char **bigger = realloc(c->paths, (c->count + 2) * sizeof(*bigger));
	if (!bigger) {
		free(path);
		return -ENOMEM;
	}
	c->paths = bigger;
	c->paths[c->count++] = path;
	c->paths[c->count] = NULL;
	return 0;
}

/* dir/file for each element of a colon-separated list, made absolute
 * against the caller's working directory. */
static int add_list(struct umfuse_candidates *c, pid_t pid, const char *list, const char *file)
{
	for (const char *p = list; p && *p;) {
		const char *end = strchrnul(p, ':');
		if (end > p) { /* an empty element is not "the current directory" */
			char *joined, *absolute;
			if (asprintf(&joined, "%.*s/%s", (int)(end - p), p, file) < 0)
				return -ENOMEM;
			int r = umfuse_path_absolute(pid, joined, &absolute);
			free(joined);
			if (r == -ENOMEM || (r == 0 && (r = add(c, absolute)) < 0))
				return r;
		}
		p = *end ? end + 1 : end;
	}
	return 0;
}

static char *join(const char *dir, const char *file)
{
	char *out;
	return asprintf(&out, "%s/%s", dir, file) < 0 ? NULL : out;
}

void umfuse_candidates_done(struct umfuse_candidates *c)
{
	for (size_t i = 0; i < c->count; i++)
		free(c->paths[i]);
	free(c->paths);
	c->paths = NULL;
	c->count = 0;
}

int umfuse_module_candidates(pid_t pid, const struct umfuse_environ *env, const char *name,
			     struct umfuse_candidates *ret)
{
	struct umfuse_candidates c = { 0 };
	char file[NAME_MAX + 1];
	int r;
	if (snprintf(file, sizeof(file), UMFUSE_MODULE_PREFIX "%s.so", name) >= (int)sizeof(file))
		return -ENAMETOOLONG;
	if ((r = add_list(&c, pid, umfuse_environ_get(env, "VOS_SERVICE_PATH"), file)) < 0 ||
	    (r = add_list(&c, pid, umfuse_environ_get(env, "LD_LIBRARY_PATH"), file)) < 0 ||
	    (r = add(&c, join(VOS_MODULEDIR, file))) < 0)
		goto fail;

	/* Running from the build tree: <build>/cli/vos finds
	 * <build>/services/umfuse/NAME/umfuseNAME.so (or one level up). */
	char exe[PATH_MAX];
	ssize_t len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	char *slash = len > 0 ? (exe[len] = '\0', strrchr(exe, '/')) : NULL;
	if (slash) {
		*slash = '\0';
		char dir[PATH_MAX + 32], real[PATH_MAX];
		snprintf(dir, sizeof(dir), "%s/../services/umfuse", exe);
		if (realpath(dir, real)) {
			char *sub;
			if (asprintf(&sub, "%s/%s/%s", real, name, file) < 0 || (r = add(&c, sub)) < 0 ||
			    (r = add(&c, join(real, file))) < 0) {
				r = -ENOMEM;
				goto fail;
			}
		}
	}
	*ret = c;
	return 0;
fail:
	umfuse_candidates_done(&c);
	return r;
}

int umfuse_program_candidates(pid_t pid, const struct umfuse_environ *env, const char *prog,
			      struct umfuse_candidates *ret)
{
	struct umfuse_candidates c = { 0 };
	int r;
	if (strchr(prog, '/')) {
		char *absolute;
		r = umfuse_path_absolute(pid, prog, &absolute);
		if (r == 0)
			r = add(&c, absolute);
	} else {
		const char *path = umfuse_environ_get(env, "PATH");
		r = add_list(&c, pid, path ? path : DEFAULT_PATH, prog);
	}
	if (r < 0) {
		umfuse_candidates_done(&c);
		return r;
	}
	*ret = c;
	return 0;
}
