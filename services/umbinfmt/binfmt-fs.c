/* SPDX-License-Identifier: GPL-2.0-or-later */
/* umbinfmt's binfmt_misc directory in trap mode: see binfmt-fs.h. The
 * errors are the kernel's (fs/binfmt_misc.c and the VFS on its simple
 * directory): a write to register is parsed, F opens the interpreter, then
 * the name is looked up; creating files is EACCES, removing or making
 * directories EPERM. */
#include "binfmt-fs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define INO_ROOT 1
#define INO_STATUS 2
#define INO_REGISTER 3

static void fill_attr(fuse_ino_t ino, mode_t mode, const struct timespec *when, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = ino;
	st->st_mode = mode;
	st->st_nlink = S_ISDIR(mode) ? 2 : 1;
	st->st_uid = 0; /* the view's root */
	st->st_gid = 0;
	st->st_size = 0;
	st->st_blksize = 4096;
	st->st_atim = st->st_mtim = st->st_ctim = *when;
}

/* The attributes of `ino`, or -ENOENT. */
static int attr_of(struct binfmt_fs *fs, fuse_ino_t ino, struct stat *st)
{
	switch (ino) {
	case INO_ROOT:
		fill_attr(ino, S_IFDIR | 0755, &fs->mounted_at, st);
		return 0;
	case INO_STATUS:
		fill_attr(ino, S_IFREG | 0644, &fs->mounted_at, st);
		return 0;
	case INO_REGISTER:
		fill_attr(ino, S_IFREG | 0200, &fs->mounted_at, st);
		return 0;
	default: {
		struct binfmt_node *n = malloc(sizeof(*n));
		if (!n)
			return -ENOMEM;
		int r = binfmt_table_get(fs->table, ino, n);
		if (r == 0)
			fill_attr(ino, S_IFREG | 0644, &n->created, st);
		free(n);
		return r;
	}
	}
}

static void reply_entry(fuse_req_t req, struct binfmt_fs *fs, fuse_ino_t ino)
{
	struct fuse_entry_param e = { .ino = ino, .generation = 1 };
	int r = attr_of(fs, ino, &e.attr);
	if (r < 0)
		fuse_reply_err(req, -r);
	else
		fuse_reply_entry(req, &e); /* timeouts 0: entries come and go */
}

static void fs_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct binfmt_fs *fs = fuse_req_userdata(req);
	uint64_t ino;
	if (parent != INO_ROOT)
		fuse_reply_err(req, ENOTDIR);
	else if (strcmp(name, "status") == 0)
		reply_entry(req, fs, INO_STATUS);
	else if (strcmp(name, "register") == 0)
		reply_entry(req, fs, INO_REGISTER);
	else if (binfmt_table_lookup(fs->table, name, &ino) == 0)
		reply_entry(req, fs, ino);
	else
		fuse_reply_err(req, ENOENT);
}

static void fs_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)fi;
	struct stat st;
	int r = attr_of(fuse_req_userdata(req), ino, &st);
	if (r < 0)
		fuse_reply_err(req, -r);
	else
		fuse_reply_attr(req, &st, 0);
}

/* `echo x > file` truncates first: nothing to truncate, as in the kernel. */
static void fs_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set, struct fuse_file_info *fi)
{
	(void)attr;
	(void)to_set;
	fs_getattr(req, ino, fi);
}

struct dir_names {
	char **names;
	fuse_ino_t *inos;
	size_t n, cap;
};

static void collect(const struct binfmt_node *node, void *ctx)
{
	struct dir_names *d = ctx;
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 16;
		char **names = realloc(d->names, cap * sizeof(*names));
		if (names)
			d->names = names;
		fuse_ino_t *inos = realloc(d->inos, cap * sizeof(*inos));
		if (inos)
			d->inos = inos;
		if (!names || !inos)
			return;
		d->cap = cap;
	}
	char *name = strdup(node->entry.name);
	if (!name)
		return;
	d->names[d->n] = name;
	d->inos[d->n++] = node->ino;
}

static void fs_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi)
{
	(void)fi;
	struct binfmt_fs *fs = fuse_req_userdata(req);
	if (ino != INO_ROOT) {
		fuse_reply_err(req, ENOTDIR);
		return;
	}
	struct dir_names d = { 0 };
	static const char *const fixed[] = { ".", "..", "status", "register" };
	static const fuse_ino_t fixed_ino[] = { INO_ROOT, INO_ROOT, INO_STATUS, INO_REGISTER };
	for (size_t i = 0; i < 4; i++) {
		struct binfmt_node n = { .ino = fixed_ino[i] };
		strcpy(n.entry.name, fixed[i]);
		collect(&n, &d);
	}
	binfmt_table_each(fs->table, collect, &d);

	char *buf = calloc(1, size);
	size_t used = 0;
	for (size_t i = (size_t)off; buf && i < d.n; i++) {
		struct stat st = { .st_ino = d.inos[i], .st_mode = i < 2 ? S_IFDIR : S_IFREG };
		size_t len = fuse_add_direntry(req, buf + used, size - used, d.names[i], &st, (off_t)(i + 1));
		if (len > size - used)
			break;
		used += len;
	}
	if (buf)
		fuse_reply_buf(req, buf, used);
	else
		fuse_reply_err(req, ENOMEM);
	free(buf);
	for (size_t i = 0; i < d.n; i++)
		free(d.names[i]);
	free(d.names);
	free(d.inos);
}

static void fs_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct binfmt_fs *fs = fuse_req_userdata(req);
	struct stat st;
	int r = attr_of(fs, ino, &st);
	if (r < 0) {
		fuse_reply_err(req, -r);
		return;
	}
	/* The modes are root's: 0200 and 0644. The view's root may do
	 * anything (it has CAP_DAC_OVERRIDE over its own files). */
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	int acc = fi->flags & O_ACCMODE;
	bool writing = acc != O_RDONLY, reading = acc != O_WRONLY;
	if (ctx->uid != 0 && (writing || (reading && ino == INO_REGISTER))) {
		fuse_reply_err(req, EACCES);
		return;
	}
	fi->direct_io = 1; /* size 0, content made on each read */
	fi->nonseekable = 0;
	fuse_reply_open(req, fi);
}

static void reply_text(fuse_req_t req, const char *text, size_t len, size_t size, off_t off)
{
	if ((size_t)off >= len)
		fuse_reply_buf(req, NULL, 0);
	else
		fuse_reply_buf(req, text + off, len - (size_t)off < size ? len - (size_t)off : size);
}

static void fs_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi)
{
	(void)fi;
	struct binfmt_fs *fs = fuse_req_userdata(req);
	if (ino == INO_REGISTER) {
		fuse_reply_err(req, EINVAL); /* the kernel's register has no read */
		return;
	}
	if (ino == INO_STATUS) {
		const char *s = binfmt_table_status(fs->table);
		reply_text(req, s, strlen(s), size, off);
		return;
	}
	struct binfmt_node *n = malloc(sizeof(*n));
	char *text = malloc(8192);
	int r = n && text ? binfmt_table_get(fs->table, ino, n) : -ENOMEM;
	if (r == 0)
		r = binfmt_format(&n->entry, n->enabled, text, 8192);
	if (r < 0)
		fuse_reply_err(req, -r);
	else
		reply_text(req, text, (size_t)r, size, off);
	free(n);
	free(text);
}

/* F: the kernel opens the interpreter for exec when the entry is
 * registered (open_exec(): a regular file the writer may execute), from
 * the writer's root and working directory. */
static int check_interpreter(struct binfmt_fs *fs, pid_t pid, const char *path)
{
	int fd = fs->host->open(fs->host->core, pid, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return fd;
	struct stat st;
	int r = fstat(fd, &st) < 0 ? -errno : 0;
	close(fd);
	if (r == 0 && (!S_ISREG(st.st_mode) || !(st.st_mode & 0111)))
		r = -EACCES;
	return r;
}

static int register_entry(struct binfmt_fs *fs, pid_t pid, const char *buf, size_t size)
{
	struct binfmt_entry *e = malloc(sizeof(*e));
	if (!e)
		return -ENOMEM;
	int parsed = binfmt_parse(buf, size, e, NULL);
	int r = parsed;
	if (parsed == 0 || parsed == -ENAMETOOLONG) {
		r = (e->flags & BINFMT_FLAG_OPEN_FILE) ? check_interpreter(fs, pid, e->interpreter) : 0;
		if (r == 0)
			r = parsed;
		if (r == 0)
			r = binfmt_table_add(fs->table, e, NULL);
	}
	free(e);
	return r;
}

static void fs_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size, off_t off,
		     struct fuse_file_info *fi)
{
	(void)off;
	(void)fi;
	struct binfmt_fs *fs = fuse_req_userdata(req);
	int r;
	if (ino == INO_REGISTER) {
		r = register_entry(fs, fuse_req_ctx(req)->pid, buf, size);
	} else {
		r = binfmt_parse_command(buf, size);
		if (r > 0)
			r = binfmt_table_command(fs->table, ino == INO_STATUS ? 0 : ino, r);
	}
	if (r < 0)
		fuse_reply_err(req, -r);
	else
		fuse_reply_write(req, size);
}

static void fs_eacces(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, dev_t rdev)
{
	(void)parent, (void)name, (void)mode, (void)rdev;
	fuse_reply_err(req, EACCES);
}

static void fs_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, struct fuse_file_info *fi)
{
	(void)parent, (void)name, (void)mode, (void)fi;
	fuse_reply_err(req, EACCES);
}

static void fs_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode)
{
	(void)parent, (void)name, (void)mode;
	fuse_reply_err(req, EPERM);
}

static void fs_eperm_name(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	(void)parent, (void)name;
	fuse_reply_err(req, EPERM);
}

static void fs_rename(fuse_req_t req, fuse_ino_t parent, const char *name, fuse_ino_t newparent,
		      const char *newname, unsigned int flags)
{
	(void)parent, (void)name, (void)newparent, (void)newname, (void)flags;
	fuse_reply_err(req, EPERM);
}

static void fs_symlink(fuse_req_t req, const char *link, fuse_ino_t parent, const char *name)
{
	(void)link, (void)parent, (void)name;
	fuse_reply_err(req, EPERM);
}

static void fs_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent, const char *newname)
{
	(void)ino, (void)newparent, (void)newname;
	fuse_reply_err(req, EPERM);
}

static const struct fuse_lowlevel_ops binfmt_fs_ops = {
	.lookup = fs_lookup,
	.getattr = fs_getattr,
	.setattr = fs_setattr,
	.readdir = fs_readdir,
	.open = fs_open,
	.read = fs_read,
	.write = fs_write,
	.create = fs_create,
	.mknod = fs_eacces,
	.mkdir = fs_mkdir,
	.unlink = fs_eperm_name,
	.rmdir = fs_eperm_name,
	.rename = fs_rename,
	.symlink = fs_symlink,
	.link = fs_link,
};

void binfmt_fs_serve(void *userdata, int fuse_fd)
{
	struct binfmt_fs *fs = userdata;
	char *argv[] = { "umbinfmt", NULL };
	struct fuse_args args = FUSE_ARGS_INIT(1, argv);
	struct fuse_session *se = fuse_session_new(&args, &binfmt_fs_ops, sizeof(binfmt_fs_ops), fs);
	fuse_opt_free_args(&args);
	char mountpoint[32];
	snprintf(mountpoint, sizeof(mountpoint), "/dev/fd/%d", fuse_fd);
	if (!se || fuse_session_mount(se, mountpoint) != 0) {
		fs->host->log(fs->host->core, "umbinfmt: cannot serve binfmt_misc");
		if (se)
			fuse_session_destroy(se);
		close(fuse_fd); /* the mount then fails with ENOTCONN */
		return;
	}
	clock_gettime(CLOCK_REALTIME, &fs->mounted_at);
	int fd = fuse_session_fd(se);
	if (binfmt_table_mount(fs->table, fd, true) < 0) {
		fs->host->log(fs->host->core, "umbinfmt: more than %d binfmt_misc mounts", BINFMT_MOUNTS_MAX);
		fuse_session_destroy(se);
		return;
	}
	fuse_session_loop(se);
	binfmt_table_mount(fs->table, fd, false);
	fuse_session_destroy(se); /* closes the connection's fd */
}
