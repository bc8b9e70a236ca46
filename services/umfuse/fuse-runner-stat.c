/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The runner exports stat() and stat64() (see fuse-runner.dynlist), so a
 * module's calls reach these first. Only the exact path "/dev/fd/3" is
 * treated specially: a libfuse program checks its mountpoint argument
 * (libfuse's null example insists on a regular file), and here that
 * argument names the FUSE connection instead of the mount point. Every
 * other path is passed to the kernel unchanged. */
/* Define the plain names: with _FILE_OFFSET_BITS=64 the headers would
 * rename stat to stat64 (the same structure on 64-bit ABIs). */
#undef _FILE_OFFSET_BITS
#include "fuse-runner.h"

#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static mode_t root_type; /* 0: not set, report the real file */

void runner_stat_set_root(mode_t type)
{
	root_type = type & S_IFMT;
}

static bool fill_root(const char *path, struct stat *buf)
{
	if (!root_type || !path || strcmp(path, RUNNER_FUSE_FD_PATH) != 0)
		return false;
	memset(buf, 0, sizeof(*buf));
	buf->st_mode = root_type | (S_ISDIR(root_type) ? 0755 : 0644);
	buf->st_nlink = S_ISDIR(root_type) ? 2 : 1;
	buf->st_uid = getuid();
	buf->st_gid = getgid();
	buf->st_blksize = 4096;
	clock_gettime(CLOCK_REALTIME, &buf->st_mtim);
	buf->st_atim = buf->st_ctim = buf->st_mtim;
	return true;
}

__attribute__((visibility("default"))) int stat(const char *restrict path, struct stat *restrict buf)
{
	if (fill_root(path, buf))
		return 0;
	return fstatat(AT_FDCWD, path, buf, 0);
}

_Static_assert(sizeof(struct stat) == sizeof(struct stat64), "stat64 differs from stat on this ABI");

__attribute__((visibility("default"))) int stat64(const char *restrict path, struct stat64 *restrict buf)
{
	return stat(path, (struct stat *)buf);
}
