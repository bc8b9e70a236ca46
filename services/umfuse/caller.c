/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What umfuse needs to know about the process that called mount(2): its
 * environment and how its paths look from inside and outside the view. */
#include "umfuse.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "caller-path.h"

#define ENVIRON_MAX (1u << 20)

int umfuse_environ_read(pid_t pid, struct umfuse_environ *ret)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/environ", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	size_t size = 0, cap = 4096;
	char *data = malloc(cap + 1);
	while (data) {
		if (size == cap) {
			if (cap >= ENVIRON_MAX)
				break; /* the rest is ignored */
			char *bigger = realloc(data, 2 * cap + 1);
			if (!bigger) {
				free(data);
				data = NULL;
				break;
			}
			data = bigger;
			cap *= 2;
		}
		ssize_t n = read(fd, data + size, cap - size);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			int r = -errno;
			free(data);
			close(fd);
			return r;
		}
		if (n == 0)
			break;
		size += (size_t)n;
	}
	close(fd);
	if (!data)
		return -ENOMEM;
	data[size] = '\0';
	ret->data = data;
	ret->size = size;
	return 0;
}

const char *umfuse_environ_get(const struct umfuse_environ *env, const char *name)
{
	size_t len = strlen(name);
	for (size_t at = 0; env->data && at < env->size;) {
		const char *item = env->data + at;
		size_t item_len = strnlen(item, env->size - at);
		if (item_len > len && strncmp(item, name, len) == 0 && item[len] == '=')
			return item + len + 1;
		at += item_len + 1;
	}
	return NULL;
}

void umfuse_environ_done(struct umfuse_environ *env)
{
	free(env->data);
	env->data = NULL;
	env->size = 0;
}

int umfuse_path_absolute(pid_t pid, const char *path, char **ret)
{
	char *out;
	int r = caller_path_absolute(pid, path, &out);
	if (r < 0)
		return r;
	if (out[0] != '/') {
		free(out);
		return -ENOENT; /* the cwd is outside the process's root */
	}
	*ret = out;
	return 0;
}
