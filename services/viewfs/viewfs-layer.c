/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What viewfs does to paths and layer directories before the kernel
 * mounts: overlay option escaping, the loop check, renew. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "viewfs.h"

int viewfs_append_raw(char *buf, size_t size, const char *text)
{
	size_t n = strlen(buf), len = strlen(text);
	if (n + len >= size)
		return -ENAMETOOLONG;
	memcpy(buf + n, text, len + 1);
	return 0;
}

int viewfs_escape_append(char *buf, size_t size, const char *path)
{
	size_t n = strlen(buf);
	for (const char *p = path; *p; p++) {
		bool special = *p == ',' || *p == ':' || *p == '\\';
		if (n + 2 + special >= size)
			return -ENAMETOOLONG;
		if (special)
			buf[n++] = '\\';
		buf[n++] = *p;
	}
	buf[n] = '\0';
	return 0;
}

int viewfs_is_within(int outer, int inner, bool *ret)
{
	struct stat so, cur;
	if (fstat(outer, &so) < 0 || fstat(inner, &cur) < 0)
		return -errno;
	int fd = dup(inner);
	if (fd < 0)
		return -errno;
	/* A path is at most PATH_MAX/2 components deep. */
	for (int depth = 0; depth < 2048; depth++) {
		if (cur.st_dev == so.st_dev && cur.st_ino == so.st_ino) {
			close(fd);
			*ret = true;
			return 0;
		}
		int up = openat(fd, "..", O_PATH | O_DIRECTORY | O_CLOEXEC);
		struct stat st;
		if (up < 0 || fstat(up, &st) < 0) {
			int r = -errno;
			if (up >= 0)
				close(up);
			close(fd);
			return r;
		}
		close(fd);
		fd = up;
		if (st.st_dev == cur.st_dev && st.st_ino == cur.st_ino)
			break; /* the root */
		cur = st;
	}
	close(fd);
	*ret = false;
	return 0;
}

int viewfs_empty_dir(int dir)
{
	struct stat top;
	if (fstat(dir, &top) < 0)
		return -errno;
	int fd = openat(dir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	/* Copied-up read-only directories: we own them, so make them writable. */
	if ((top.st_mode & 0700) != 0700)
		(void)fchmod(fd, top.st_mode | 0700);
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -errno;
	}
	int r = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		struct stat st;
		if (fstatat(fd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			r = -errno;
			break;
		}
		if (st.st_dev != top.st_dev) {
			r = -EXDEV; /* something mounted inside the layer: leave it */
			break;
		}
		if (S_ISDIR(st.st_mode)) {
			int sub = openat(fd, e->d_name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub < 0) {
				r = -errno;
				break;
			}
			r = viewfs_empty_dir(sub);
			close(sub);
			if (r < 0)
				break;
		}
		if (unlinkat(fd, e->d_name, S_ISDIR(st.st_mode) ? AT_REMOVEDIR : 0) < 0) {
			r = -errno;
			break;
		}
	}
	closedir(d);
	return r;
}
