/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Small helpers shared by the supervisor core and the command-line tools:
 * cleanup attributes, ownership transfer, and fd passing. */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define _cleanup_(f) __attribute__((cleanup(f)))

static inline void freep(void *p) { free(*(void **)p); }
static inline void closep(int *fd)
{
	if (*fd >= 0) {
		int saved = errno;
		close(*fd);
		errno = saved;
	}
}

#define _cleanup_free_ _cleanup_(freep)
#define _cleanup_close_ _cleanup_(closep)

/* Hand ownership of a pointer or fd to someone else: the variable is reset
 * so its cleanup attribute does nothing. */
#define TAKE_PTR(p) ({ __typeof__(p) _p = (p); (p) = NULL; _p; })
#define TAKE_FD(fd) ({ int _fd = (fd); (fd) = -1; _fd; })

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static inline bool streq(const char *a, const char *b) { return strcmp(a, b) == 0; }

static inline bool startswith(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* CLOCK_REALTIME `ms` milliseconds from now, for pthread timed waits. */
struct timespec realtime_after_ms(long ms);

#include "fd-pass.h" /* fd_send, fd_recv */

/* Write all of `buf` to `fd`; 0 or -errno. */
int write_all(int fd, const void *buf, size_t len);

/* Write a short string to a file such as /proc/self/uid_map; 0 or -errno. */
int write_file(const char *path, const char *text);
