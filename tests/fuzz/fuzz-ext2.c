/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer harness: umfuseext2 (services/umfuse/ext2) on a mutated image.
 *
 * The input is a whole filesystem image. It is opened exactly as the
 * module opens it (e2_open_fs() of ext2fs-main.c, included below: the same
 * ext2fs_open2() flags, sanity checks and in-memory journal replay), then
 * served through the module's own FUSE operations table (e2_ops) by a
 * libfuse session whose "kernel" is this harness: FUSE requests are built
 * here and handed to fuse_session_process_buf(), replies come back through
 * a custom writev. No /dev/fuse, no mount: the tree is walked the way
 * tests/e2e/umfuse-ext2/fuzz.sh walks a mounted image (statfs, readdir
 * and readdirplus, lookup, getattr, access, open/read/release, readlink,
 * listxattr/getxattr), within a bounded number of requests. A corrupt image
 * may be refused or give errors; it must never crash, leak or hang.
 *
 * The image's first byte lies in the boot block, which ext2/3/4 never
 * read: the harness takes it as its own switch. Odd: human mode as
 * uid=1000,gid=1000 (every request checked against modes and ACLs, as
 * `-o human,uid=1000`); even: the default omnipotent mode. Bit 1 set:
 * read-write (`-o rw`), and after the walk the tree is changed: files
 * created, written, truncated, linked, renamed, xattrs set and removed,
 * the image's own entries moved and removed. */
#include <linux/fuse.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/uio.h>

/* The module's main() becomes an unused function: the harness wants its
 * static e2_open_fs() and e2_close_fs(), not a second copy of them. */
#define main e2_fuse_main
int e2_fuse_main(int argc, char *argv[]);
#include "ext2fs-main.c"
#undef main

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define REQUESTS_MAX 600   /* per input */
#define DEPTH_MAX 6
#define NAMES_MAX 64       /* per directory */
#define READ_SIZE 65536
#define REPLY_MAX (READ_SIZE + 4096)

#define CHECK(cond)                                                                  \
	do {                                                                          \
		if (!(cond)) {                                                        \
			fprintf(stderr, "fuzz-ext2: %s:%d: %s\n", __FILE__, __LINE__, #cond); \
			abort();                                                      \
		}                                                                     \
	} while (0)

struct harness {
	struct e2_mount m; /* first: libfuse passes &m to writev as userdata */
	struct fuse_session *se;
	uint64_t unique;
	unsigned requests;
	bool replied;
	/* Entries of the root directory, for the read-write phase. */
	unsigned n_root;
	char root_names[8][256];
	int error;         /* of the last reply: 0 or -errno */
	size_t len;        /* bytes of payload in reply */
	char reply[REPLY_MAX];
};

static ssize_t h_writev(int fd, struct iovec *iov, int count, void *userdata)
{
	struct harness *h = userdata;
	size_t total = 0;
	(void)fd;
	CHECK(!h->replied); /* one reply per request */
	char *out = h->reply;
	for (int i = 0; i < count; i++) {
		CHECK(total + iov[i].iov_len <= sizeof(h->reply));
		memcpy(out + total, iov[i].iov_base, iov[i].iov_len);
		total += iov[i].iov_len;
	}
	CHECK(total >= sizeof(struct fuse_out_header));
	struct fuse_out_header oh;
	memcpy(&oh, out, sizeof(oh));
	CHECK(oh.len == total && oh.unique == h->unique);
	CHECK(oh.error <= 0 && oh.error > -4096);
	h->replied = true;
	h->error = oh.error;
	h->len = total - sizeof(oh);
	memmove(h->reply, h->reply + sizeof(oh), h->len);
	return (ssize_t)total;
}

static ssize_t h_read(int fd, void *buf, size_t len, void *userdata)
{
	(void)fd, (void)buf, (void)len, (void)userdata;
	errno = ENODEV; /* requests come from h_request(), never from the fd */
	return -1;
}

static const struct fuse_custom_io h_io = { .writev = h_writev, .read = h_read };

/* Send one request: header, a fixed argument, and a tail (names, data).
 * Returns the reply's 0/-errno, or -EAGAIN when the request budget is
 * spent. */
static int h_req(struct harness *h, uint32_t opcode, uint64_t node, const void *arg, size_t arglen,
		 const void *tail, size_t taillen)
{
	if (h->requests >= REQUESTS_MAX)
		return -EAGAIN;
	h->requests++;
	size_t len = sizeof(struct fuse_in_header) + arglen + taillen;
	char *buf = calloc(1, len);
	CHECK(buf);
	struct fuse_in_header ih = {
		.len = (uint32_t)len, .opcode = opcode, .unique = ++h->unique, .nodeid = node,
		.uid = h->m.human ? 1000 : getuid(), .gid = h->m.human ? 1000 : getgid(),
		.pid = (uint32_t)getpid(),
	};
	memcpy(buf, &ih, sizeof(ih));
	if (arglen)
		memcpy(buf + sizeof(ih), arg, arglen);
	if (taillen)
		memcpy(buf + sizeof(ih) + arglen, tail, taillen);
	struct fuse_buf fb = { .size = len, .mem = buf };
	h->replied = false;
	h->error = -EIO;
	h->len = 0;
	fuse_session_process_buf(h->se, &fb);
	free(buf);
	CHECK(h->replied || opcode == FUSE_FORGET);
	return h->error;
}

/* The same with one name (and its NUL) as the tail. */
static int h_request(struct harness *h, uint32_t opcode, uint64_t node, const void *arg, size_t arglen,
		     const char *name)
{
	return h_req(h, opcode, node, arg, arglen, name, name ? strlen(name) + 1 : 0);
}

/* Two names, as RENAME and SYMLINK take them. */
static int h_request2(struct harness *h, uint32_t opcode, uint64_t node, const void *arg, size_t arglen,
		      const char *a, const char *b)
{
	size_t la = strlen(a) + 1, lb = strlen(b) + 1;
	char *tail = malloc(la + lb);
	CHECK(tail);
	memcpy(tail, a, la);
	memcpy(tail + la, b, lb);
	int r = h_req(h, opcode, node, arg, arglen, tail, la + lb);
	free(tail);
	return r;
}

/* The node of an entry reply (0 on error). */
static uint64_t h_entry(struct harness *h, int r)
{
	if (r != 0)
		return 0;
	CHECK(h->len >= sizeof(struct fuse_entry_out));
	struct fuse_entry_out eo;
	memcpy(&eo, h->reply, sizeof(eo));
	CHECK(eo.nodeid != 0);
	return eo.nodeid;
}

static void h_xattrs(struct harness *h, uint64_t node)
{
	struct fuse_getxattr_in gx = { .size = 0 };
	if (h_request(h, FUSE_LISTXATTR, node, &gx, sizeof(gx), NULL) != 0)
		return;
	gx.size = 4096;
	if (h_request(h, FUSE_LISTXATTR, node, &gx, sizeof(gx), NULL) != 0 || h->len > 4096)
		return;
	char names[4097];
	size_t n = h->len;
	memcpy(names, h->reply, n);
	names[n] = '\0';
	for (size_t at = 0; at < n; at += strlen(names + at) + 1) {
		gx.size = 0;
		if (h_request(h, FUSE_GETXATTR, node, &gx, sizeof(gx), names + at) == -EAGAIN)
			return;
		gx.size = 65536;
		h_request(h, FUSE_GETXATTR, node, &gx, sizeof(gx), names + at);
	}
}

static void h_read_file(struct harness *h, uint64_t node)
{
	struct fuse_open_in oi = { .flags = O_RDONLY };
	if (h_request(h, FUSE_OPEN, node, &oi, sizeof(oi), NULL) != 0)
		return;
	CHECK(h->len >= sizeof(struct fuse_open_out));
	struct fuse_open_out oo;
	memcpy(&oo, h->reply, sizeof(oo));
	for (uint64_t off = 0; off < 4 * (uint64_t)READ_SIZE; off += READ_SIZE) {
		struct fuse_read_in ri = { .fh = oo.fh, .offset = off, .size = READ_SIZE };
		if (h_request(h, FUSE_READ, node, &ri, sizeof(ri), NULL) != 0 || h->len < READ_SIZE)
			break;
	}
	/* Far beyond any end of file. */
	struct fuse_read_in far = { .fh = oo.fh, .offset = (1ull << 62), .size = 4096 };
	h_request(h, FUSE_READ, node, &far, sizeof(far), NULL);
	struct fuse_release_in rel = { .fh = oo.fh };
	h->requests--; /* a release always goes through: the open must end */
	h_request(h, FUSE_RELEASE, node, &rel, sizeof(rel), NULL);
}

static void h_walk(struct harness *h, uint64_t dir, unsigned depth);

static void h_visit(struct harness *h, uint64_t dir, const char *name, unsigned depth)
{
	if (h_request(h, FUSE_LOOKUP, dir, NULL, 0, name) != 0)
		return;
	CHECK(h->len >= sizeof(struct fuse_entry_out));
	struct fuse_entry_out eo;
	memcpy(&eo, h->reply, sizeof(eo));
	CHECK(eo.nodeid != 0);
	uint64_t node = eo.nodeid;
	struct fuse_getattr_in ga = { 0 };
	h_request(h, FUSE_GETATTR, node, &ga, sizeof(ga), NULL);
	struct fuse_access_in ac = { .mask = R_OK };
	h_request(h, FUSE_ACCESS, node, &ac, sizeof(ac), NULL);
	h_xattrs(h, node);
	switch (eo.attr.mode & S_IFMT) {
	case S_IFDIR:
		if (depth < DEPTH_MAX)
			h_walk(h, node, depth + 1);
		break;
	case S_IFREG:
		h_read_file(h, node);
		break;
	case S_IFLNK:
		h_request(h, FUSE_READLINK, node, NULL, 0, NULL);
		break;
	}
}

static void h_walk(struct harness *h, uint64_t dir, unsigned depth)
{
	struct fuse_open_in oi = { .flags = O_RDONLY | O_DIRECTORY };
	if (h_request(h, FUSE_OPENDIR, dir, &oi, sizeof(oi), NULL) != 0)
		return;
	CHECK(h->len >= sizeof(struct fuse_open_out));
	struct fuse_open_out oo;
	memcpy(&oo, h->reply, sizeof(oo));

	char *names[NAMES_MAX];
	size_t n = 0;
	uint64_t off = 0;
	/* readdirplus at the top, readdir below: both paths of e2_readdir(). */
	uint32_t op = depth == 0 ? FUSE_READDIRPLUS : FUSE_READDIR;
	for (unsigned pass = 0; pass < 16 && n < NAMES_MAX; pass++) {
		struct fuse_read_in ri = { .fh = oo.fh, .offset = off, .size = 4096 };
		if (h_request(h, op, dir, &ri, sizeof(ri), NULL) != 0 || h->len == 0)
			break;
		size_t at = 0;
		bool progress = false;
		while (at < h->len && n < NAMES_MAX) {
			struct fuse_dirent de;
			if (op == FUSE_READDIRPLUS)
				at += sizeof(struct fuse_entry_out);
			CHECK(at + sizeof(de) <= h->len);
			memcpy(&de, h->reply + at, sizeof(de));
			CHECK(de.namelen > 0 && de.namelen <= 255 && at + sizeof(de) + de.namelen <= h->len);
			char *name = strndup(h->reply + at + sizeof(de), de.namelen);
			CHECK(name);
			if (!strcmp(name, ".") || !strcmp(name, "..") || strlen(name) != de.namelen)
				free(name);
			else
				names[n++] = name;
			off = de.off;
			progress = true;
			at += FUSE_DIRENT_ALIGN(sizeof(de) + de.namelen);
		}
		if (!progress)
			break;
	}
	struct fuse_release_in rel = { .fh = oo.fh };
	h->requests--; /* a releasedir always goes through */
	h_request(h, FUSE_RELEASEDIR, dir, &rel, sizeof(rel), NULL);

	for (size_t i = 0; i < n; i++) {
		h_visit(h, dir, names[i], depth);
		if (depth == 0 && h->n_root < 8)
			snprintf(h->root_names[h->n_root++], sizeof(h->root_names[0]), "%s", names[i]);
		free(names[i]);
	}
	h_request(h, FUSE_LOOKUP, dir, NULL, 0, "no-such-name");
	h_request(h, FUSE_LOOKUP, dir, NULL, 0, "..");
}

/* Read-write: create, write, truncate, link, rename, xattrs, and remove
 * what the image already had, each on whatever state a corrupt image
 * leaves. The image is the harness's private memfd. */
static void h_modify(struct harness *h)
{
	const uint64_t root = FUSE_ROOT_ID;
	struct fuse_mkdir_in mk = { .mode = S_IFDIR | 0755, .umask = 022 };
	uint64_t dir = h_entry(h, h_request(h, FUSE_MKDIR, root, &mk, sizeof(mk), "fz-dir"));

	struct fuse_create_in cr = { .flags = O_RDWR | O_CREAT, .mode = S_IFREG | 0644, .umask = 022 };
	uint64_t file = h_entry(h, h_request(h, FUSE_CREATE, root, &cr, sizeof(cr), "fz-file"));
	if (file) {
		CHECK(h->len >= sizeof(struct fuse_entry_out) + sizeof(struct fuse_open_out));
		struct fuse_open_out oo;
		memcpy(&oo, h->reply + sizeof(struct fuse_entry_out), sizeof(oo));
		char *data = malloc(8192);
		CHECK(data);
		memset(data, 'z', 8192);
		const uint64_t offsets[] = { 0, 3000, 70000, 1u << 20 };
		for (size_t i = 0; i < sizeof(offsets) / sizeof(offsets[0]); i++) {
			struct fuse_write_in wi = { .fh = oo.fh, .offset = offsets[i], .size = 8192 };
			h_req(h, FUSE_WRITE, file, &wi, sizeof(wi), data, 8192);
		}
		free(data);
		struct fuse_setattr_in sa = { .valid = FATTR_SIZE | FATTR_FH, .fh = oo.fh, .size = 5000 };
		h_request(h, FUSE_SETATTR, file, &sa, sizeof(sa), NULL);
		struct fuse_fallocate_in fa = { .fh = oo.fh, .offset = 0, .length = 16384 };
		h_request(h, FUSE_FALLOCATE, file, &fa, sizeof(fa), NULL);
		struct fuse_read_in ri = { .fh = oo.fh, .offset = 0, .size = 8192 };
		h_request(h, FUSE_READ, file, &ri, sizeof(ri), NULL);
		struct fuse_flush_in fl = { .fh = oo.fh };
		h_request(h, FUSE_FLUSH, file, &fl, sizeof(fl), NULL);
		struct fuse_fsync_in fs = { .fh = oo.fh };
		h_request(h, FUSE_FSYNC, file, &fs, sizeof(fs), NULL);
		struct fuse_release_in rel = { .fh = oo.fh };
		h->requests--; /* a release always goes through */
		h_request(h, FUSE_RELEASE, file, &rel, sizeof(rel), NULL);

		struct fuse_setattr_in ch = { .valid = FATTR_MODE | FATTR_UID | FATTR_GID, .mode = S_IFREG | 02755,
					      .uid = 1000, .gid = 1000 };
		h_request(h, FUSE_SETATTR, file, &ch, sizeof(ch), NULL);
		/* Protocol 7.31: the 8-byte setxattr header (no FUSE_SETXATTR_EXT),
		 * then the name and the value. */
		char xattr[8 + sizeof("user.fz") + 300];
		struct fuse_setxattr_in sx = { .size = 300 };
		memcpy(xattr, &sx, FUSE_COMPAT_SETXATTR_IN_SIZE);
		memcpy(xattr + 8, "user.fz", sizeof("user.fz"));
		memset(xattr + 8 + sizeof("user.fz"), 'v', 300);
		h_req(h, FUSE_SETXATTR, file, xattr, sizeof(xattr), NULL, 0);
		h_xattrs(h, file);
		h_request(h, FUSE_REMOVEXATTR, file, NULL, 0, "user.fz");
		struct fuse_link_in li = { .oldnodeid = file };
		h_entry(h, h_request(h, FUSE_LINK, root, &li, sizeof(li), "fz-hard"));
		if (dir) {
			struct fuse_rename_in rn = { .newdir = dir };
			h_request2(h, FUSE_RENAME, root, &rn, sizeof(rn), "fz-hard", "moved");
		}
	}
	char target[120];
	memset(target, 't', sizeof(target) - 1);
	target[sizeof(target) - 1] = '\0';
	h_request2(h, FUSE_SYMLINK, root, NULL, 0, "fz-link", target);
	struct fuse_mknod_in mn = { .mode = S_IFIFO | 0644, .umask = 022 };
	h_request(h, FUSE_MKNOD, root, &mn, sizeof(mn), "fz-fifo");

	/* What the image had: moved, then removed. */
	for (unsigned i = 0; i < h->n_root; i++) {
		const char *name = h->root_names[i];
		if (dir && i % 2 == 0) {
			struct fuse_rename_in rn = { .newdir = dir };
			h_request2(h, FUSE_RENAME, root, &rn, sizeof(rn), name, name);
			if (h_request(h, FUSE_UNLINK, dir, NULL, 0, name) != 0)
				h_request(h, FUSE_RMDIR, dir, NULL, 0, name);
		} else if (h_request(h, FUSE_UNLINK, root, NULL, 0, name) != 0) {
			h_request(h, FUSE_RMDIR, root, NULL, 0, name);
		}
	}
	h_request(h, FUSE_RMDIR, root, NULL, 0, "fz-dir"); /* not empty */
	h_request(h, FUSE_UNLINK, root, NULL, 0, "fz-file");
	h_request(h, FUSE_UNLINK, root, NULL, 0, "fz-link");
	h_request(h, FUSE_UNLINK, root, NULL, 0, "fz-fifo");
	if (dir) {
		h_request(h, FUSE_UNLINK, dir, NULL, 0, "moved");
		h_request(h, FUSE_RMDIR, root, NULL, 0, "fz-dir");
	}
	struct fuse_fsync_in fs = { 0 };
	h_request(h, FUSE_FSYNCDIR, root, &fs, sizeof(fs), NULL);
	h_request(h, FUSE_STATFS, root, NULL, 0, NULL);
}

/* Once, as the module's main() does: libext2fs's error texts. */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	initialize_ext2_error_table();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int memfd = memfd_create("fuzz-ext2-image", MFD_CLOEXEC);
	CHECK(memfd >= 0);
	size_t done = 0;
	while (done < size) {
		ssize_t n = write(memfd, data + done, size - done);
		CHECK(n > 0);
		done += (size_t)n;
	}
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", memfd);

	struct harness *h = calloc(1, sizeof(*h));
	CHECK(h);
	struct e2_mount *m = &h->m;
	m->source = path;
	m->entry_timeout = m->attr_timeout = 0;
	if (size > 0 && (data[0] & 1)) {
		m->human = m->fixed_uid = m->fixed_gid = true;
		m->uid = m->gid = 1000;
	}
	m->rw = size > 0 && (data[0] & 2);
	CHECK(pthread_mutex_init(&m->lock, NULL) == 0);

	struct fuse_args args = FUSE_ARGS_INIT(0, NULL);
	CHECK(fuse_opt_add_arg(&args, "fuzz-ext2") == 0 && (m->rw || fuse_opt_add_arg(&args, "-oro") == 0));
	h->se = m->se = fuse_session_new(&args, &e2_ops, sizeof(e2_ops), m);
	CHECK(h->se);
	if (e2_open_fs(m, "fuzz-ext2") != 0)
		goto out; /* refused, with one line: as the module does */
	m->dircache = dircache_new(E2_DIRCACHE_ENTRIES);
	m->open = e2_openfile_new();
	CHECK(m->dircache && m->open);
	m->next_generation = 1; /* deterministic, unlike the module's getrandom() */
	int fd = dup(memfd);
	CHECK(fd >= 0 && fuse_session_custom_io(h->se, &h_io, fd) == 0);

	struct fuse_init_in init = { .major = FUSE_KERNEL_VERSION, .minor = 31, .max_readahead = 65536 };
	CHECK(h_request(h, FUSE_INIT, 0, &init, sizeof(init), NULL) == 0);
	h_request(h, FUSE_STATFS, FUSE_ROOT_ID, NULL, 0, NULL);
	struct fuse_getattr_in ga = { 0 };
	h_request(h, FUSE_GETATTR, FUSE_ROOT_ID, &ga, sizeof(ga), NULL);
	h_xattrs(h, FUSE_ROOT_ID);
	h_walk(h, FUSE_ROOT_ID, 0);
	if (m->rw) {
		if (h->requests > REQUESTS_MAX - 120)
			h->requests = REQUESTS_MAX - 120; /* the read-write phase's own budget */
		h_modify(h);
	}
out:
	fuse_session_destroy(h->se); /* runs e2_op_destroy after an INIT */
	e2_close_fs(m, "fuzz-ext2");
	dircache_free(m->dircache);
	e2_openfile_free(m->open);
	pthread_mutex_destroy(&m->lock);
	fuse_opt_free_args(&args);
	free(h);
	close(memfd);
	return 0;
}
