/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cow and mincow where the kernel's overlayfs cannot do it: over a tree
 * owned by a user that the view does not map (an unprivileged view over
 * /usr, say). overlayfs checks permissions, and copies up, with the view's
 * credentials, and the view's root has no power over inodes whose owner
 * has no id in its user namespace: every write fails with EACCES.
 *
 * Then the layer is served through FUSE by fuse-overlayfs, run by the
 * supervisor *outside* the view (a process of the supervisor's user, in
 * its namespaces) on the view's FUSE connection (mountpoint /dev/fd/3):
 *  - it reads TARGET and writes the layer with the supervisor's
 *    credentials, so a file the user may read can be copied up, whoever
 *    owns it;
 *  - running outside, it never depends on the tree it covers (a server
 *    inside the view would need /usr to start, which its own mount hides);
 *  - `squash_to_root`: every object shows as owned by the view's root (the
 *    view's one user), which may then change everything, as the view's
 *    root may in a tree it owns; deletions become whiteouts
 *    (`.wh.NAME` files, or character devices 0:0 where the supervisor may
 *    create them) that a later view mounting the layer honours again.
 * Because it works on paths of the supervisor's mount namespace, TARGET
 * and LAYER must be the host's own directories (the same inode seen from
 * the view and from outside): checked, one line if not.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <unistd.h>

#include "viewfs.h"

#define LOG VIEWFS_LOG
#define FUSE_OVERLAYFS "fuse-overlayfs"

struct viewfs_fuse_cow {
	struct viewfs *service;
	char *program;
	char *options; /* -o list for fuse-overlayfs */
};

static void freep(void *p)
{
	free(*(void **)p);
}

static void closep(int *fd)
{
	if (*fd >= 0)
		close(*fd);
}

#define _cleanup_free_ __attribute__((cleanup(freep)))
#define _cleanup_close_ __attribute__((cleanup(closep)))

/* The absolute path of the program on the supervisor's PATH, or NULL. */
static char *find_program(const char *name)
{
	const char *path = getenv("PATH");
	if (!path || !path[0])
		path = "/usr/local/bin:/usr/bin:/bin";
	while (*path) {
		size_t len = strcspn(path, ":");
		char *full;
		if (len && asprintf(&full, "%.*s/%s", (int)len, path, name) >= 0) {
			if (full[0] == '/' && access(full, X_OK) == 0)
				return full;
			free(full);
		}
		path += len;
		if (*path)
			path++;
	}
	return NULL;
}

/* /proc/PID/uid_map: does the view map host id `id`? */
static int id_mapped(pid_t pid, const char *which, unsigned long id, bool *ret)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, which);
	FILE *f = fopen(path, "re");
	if (!f)
		return -errno;
	unsigned long inside, outside, length;
	bool mapped = false;
	while (fscanf(f, "%lu %lu %lu", &inside, &outside, &length) == 3)
		if (id >= outside && id - outside < length)
			mapped = true;
	fclose(f);
	*ret = mapped;
	return 0;
}

int viewfs_cow_needs_fuse(struct viewfs *v, const struct vos_mount_request *req, int target_fd, bool *ret)
{
	(void)v;
	struct stat st;
	if (fstat(target_fd, &st) < 0)
		return -errno;
	bool root_mapped, owner_mapped;
	int r;
	if ((r = id_mapped(req->pid, "uid_map", 0, &root_mapped)) < 0 ||
	    (r = id_mapped(req->pid, "uid_map", st.st_uid, &owner_mapped)) < 0)
		return r;
	/* The host's root in the view: overlayfs may do everything. */
	*ret = !root_mapped && !owner_mapped;
	return 0;
}

/* The directory `fd` (opened through the view) as an absolute path that
 * names the same inode outside the view, or -EXDEV. */
static int host_path(struct viewfs *v, int fd, const char *as_given, char **ret)
{
	char link[32], buf[PATH_MAX];
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	ssize_t n = readlink(link, buf, sizeof(buf) - 1);
	if (n <= 0 || buf[0] != '/')
		return -ENOENT;
	buf[n] = '\0';
	struct stat in_view, outside;
	if (fstat(fd, &in_view) < 0)
		return -errno;
	if (stat(buf, &outside) < 0 || in_view.st_dev != outside.st_dev || in_view.st_ino != outside.st_ino) {
		LOG(v, "viewfs: %s: cow through fuse-overlayfs needs a directory of the host's own tree, "
		       "not one the view mounted", as_given);
		return -EXDEV;
	}
	if (strpbrk(buf, ",:\\")) {
		LOG(v, "viewfs: %s: cow through fuse-overlayfs takes no ',', ':' or '\\' in paths", as_given);
		return -EINVAL;
	}
	if (!(*ret = strdup(buf)))
		return -ENOMEM;
	return 0;
}

int viewfs_fuse_cow_prepare(struct viewfs *v, const struct vos_mount_request *req, int layer_fd, int target_fd,
			    const char *workdir, struct viewfs_fuse_cow **ret)
{
	_cleanup_free_ char *program = find_program(FUSE_OVERLAYFS);
	if (!program) {
		LOG(v, "viewfs: cow over %s through FUSE needs %s (Debian package fuse-overlayfs), not found on PATH",
		    req->target, FUSE_OVERLAYFS);
		return -ENOSYS;
	}
	_cleanup_free_ char *lower = NULL, *upper = NULL, *work = NULL;
	int r;
	_cleanup_close_ int work_fd = v->host->open(v->host->core, req->pid, workdir, O_PATH | O_DIRECTORY);
	if (work_fd < 0) {
		LOG(v, "viewfs: %s: %s", workdir, strerror(-work_fd));
		return work_fd;
	}
	if ((r = host_path(v, target_fd, req->target, &lower)) < 0 ||
	    (r = host_path(v, layer_fd, req->source, &upper)) < 0 ||
	    (r = host_path(v, work_fd, workdir, &work)) < 0)
		return r;
	bool root_mapped = false;
	if ((r = id_mapped(req->pid, "uid_map", 0, &root_mapped)) < 0)
		return r;
	struct viewfs_fuse_cow *c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	if (asprintf(&c->options, "lowerdir=%s,upperdir=%s,workdir=%s%s", lower, upper, work,
		     root_mapped ? "" : ",squash_to_root") < 0) {
		free(c);
		return -ENOMEM;
	}
	c->service = v;
	c->program = program;
	program = NULL;
	*ret = c;
	return 0;
}

void viewfs_fuse_cow_free(struct viewfs_fuse_cow *c)
{
	if (!c)
		return;
	free(c->program);
	free(c->options);
	free(c);
}

/* fuse-overlayfs's messages, one log line each, but for the note it
 * prints about the mount options it adds for root and ignores. */
static void log_output(struct viewfs_fuse_cow *c, int fd)
{
	char buf[4096];
	size_t n = 0;
	for (;;) {
		ssize_t got = read(fd, buf + n, sizeof(buf) - 1 - n);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0 && n == 0)
			return;
		if (got > 0)
			n += (size_t)got;
		buf[n] = '\0';
		char *line = buf, *nl;
		while ((nl = strchr(line, '\n')) || (got <= 0 && *line) || (line == buf && n == sizeof(buf) - 1)) {
			if (nl)
				*nl = '\0';
			if (*line && !strstr(line, "unknown argument ignored"))
				VIEWFS_LOG(c->service, "viewfs: fuse-overlayfs: %s", line);
			line = nl ? nl + 1 : buf + n;
		}
		n -= (size_t)(line - buf);
		memmove(buf, line, n);
		if (got <= 0)
			return;
	}
}

/* Run fuse-overlayfs on the connection until it ends.
 *
 * It must not be a descendant of the supervisor: an embedded supervisor
 * is the view's subreaper and ends only once every child is gone, while
 * fuse-overlayfs ends only once the view's mount namespace is gone. So it
 * is a sibling (CLONE_PARENT), whose end is seen on its output pipe. It
 * never outlives its connection: when the view unmounts the layer or ends
 * (the supervisor's death ends the view), reading the connection fails and
 * it exits. */
void viewfs_fuse_cow_serve(void *userdata, int fuse_fd)
{
	struct viewfs_fuse_cow *c = ((struct viewfs_mount *)userdata)->cow;
	char *argv[] = { c->program, "-f", "-o", c->options, "/dev/fd/3", NULL };
	int out[2];
	if (pipe2(out, O_CLOEXEC) < 0) {
		close(fuse_fd);
		return;
	}
	/* Raw clone: from a threaded process, the child makes system calls
	 * only, until exec. */
	long pid = syscall(SYS_clone, CLONE_PARENT | SIGCHLD, 0, NULL, NULL, 0);
	if (pid == 0) {
		sigset_t all;
		sigemptyset(&all);
		sigprocmask(SIG_SETMASK, &all, NULL);
		signal(SIGPIPE, SIG_DFL);
		setsid(); /* the terminal's ^C is for the view's command, not for us */
		int devnull = open("/dev/null", O_RDONLY);
		if (devnull < 0 || dup2(devnull, 0) < 0 || dup2(out[1], 1) < 0 || dup2(out[1], 2) < 0 ||
		    dup2(fuse_fd, 3) < 0)
			_exit(127);
		close_range(4, ~0U, 0);
		execv(argv[0], argv);
		_exit(127);
	}
	close(out[1]);
	close(fuse_fd); /* only the program holds the connection: when it ends, so does the mount */
	if (pid > 0)
		log_output(c, out[0]); /* until it exits */
	close(out[0]);
}
