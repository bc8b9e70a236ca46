/* SPDX-License-Identifier: GPL-2.0-or-later */
/* merge at the kernel's own speed where nothing is merged.
 *
 * A merge is an overlay with two lower layers, SOURCE over TARGET, and
 * every lookup, stat and open below it goes through overlayfs: measured
 * on a copy of /usr/include (8929 entries) with one file in SOURCE, find
 * 18-19 ms and tar cf /dev/null 48-49 ms against 16 and 39-40 natively.
 * A directory that only TARGET has shows exactly TARGET's own directory,
 * so the core binds that directory, read-only, on top of the overlay
 * (`keep=NAME` in the options it gets, like except=): with those binds
 * the same walk takes 16-17 and 39-40 ms. Only TARGET's top-level
 * directories are bound; names that both trees have, and files, stay with
 * overlayfs. The binds are mounts: find -xdev and du -x stop at them, so
 * `-o merge,overlayonly` leaves them out. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "viewfs.h"

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

struct names {
	size_t n, cap;
	char **name;
};

static void names_free(struct names *ns)
{
	for (size_t i = 0; i < ns->n; i++)
		free(ns->name[i]);
	free(ns->name);
}

/* Every name in directory `dir_fd`, sorted. */
static int names_read(int dir_fd, struct names *ret)
{
	struct names ns = { 0 };
	int fd = openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	DIR *d = fdopendir(fd);
	if (!d) {
		int r = -errno;
		close(fd);
		return r;
	}
	struct dirent *e;
	int r = 0;
	errno = 0;
	while (r == 0 && (e = readdir(d))) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (ns.n == ns.cap) {
			size_t cap = ns.cap ? ns.cap * 2 : 64;
			char **more = realloc(ns.name, cap * sizeof(*more));
			if (!more) {
				r = -ENOMEM;
				break;
			}
			ns.name = more, ns.cap = cap;
		}
		if (!(ns.name[ns.n] = strdup(e->d_name)))
			r = -ENOMEM;
		else
			ns.n++;
	}
	if (r == 0 && errno)
		r = -errno;
	closedir(d);
	if (r < 0) {
		names_free(&ns);
		return r;
	}
	qsort(ns.name, ns.n, sizeof(*ns.name), by_name);
	*ret = ns;
	return 0;
}

static bool names_has(const struct names *ns, const char *name)
{
	return bsearch(&name, ns->name, ns->n, sizeof(*ns->name), by_name) != NULL;
}

int viewfs_merge_binds(int source_fd, int target_fd, char *buf, size_t size, size_t max, size_t *ret_count)
{
	struct names src = { 0 }, tgt = { 0 };
	int r = names_read(source_fd, &src);
	if (r == 0)
		r = names_read(target_fd, &tgt);
	size_t count = 0;
	for (size_t i = 0; r == 0 && i < tgt.n && count < max; i++) {
		struct stat st;
		if (names_has(&src, tgt.name[i]) ||
		    fstatat(target_fd, tgt.name[i], &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode))
			continue;
		size_t mark = strlen(buf);
		if (viewfs_append_raw(buf, size, ",keep=") < 0 || viewfs_escape_append(buf, size, tgt.name[i]) < 0) {
			buf[mark] = '\0'; /* no room for more: overlayfs serves the rest */
			break;
		}
		count++;
	}
	names_free(&src);
	names_free(&tgt);
	*ret_count = count;
	return r;
}
