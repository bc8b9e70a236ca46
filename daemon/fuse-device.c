/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "fuse-device.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "device-wait.h"
#include "service-fault.h"

#define DEVICE_DEFAULT_MAX_IO (128 * 1024)
/* libfuse splices a reply through a pipe of the reply's size plus a few
 * pages, and an unprivileged pipe holds at most 1 MiB (pipe-max-size):
 * larger replies would fall back to copying. */
#define DEVICE_SPLICE_MAX_IO (1024 * 1024 - 16 * 1024)

static struct device_node *node_of(fuse_req_t req)
{
	return fuse_req_userdata(req);
}

static void device_init(void *userdata, struct fuse_conn_info *conn)
{
	struct device_node *node = userdata;
	uint32_t max = node->desc->max_io ? node->desc->max_io : DEVICE_DEFAULT_MAX_IO;
	if (node->read_source) {
		if (max > DEVICE_SPLICE_MAX_IO)
			max = DEVICE_SPLICE_MAX_IO;
		conn->want |= FUSE_CAP_SPLICE_WRITE | FUSE_CAP_SPLICE_MOVE;
	}
	if (max < conn->max_write)
		conn->max_write = max;
	/* Truncation arrives as a separate setattr (ignored by devices), so
	 * open sees the flags a character device would (no O_TRUNC). */
	conn->want &= ~FUSE_CAP_ATOMIC_O_TRUNC;
	if (node->poll_fd && device_wait_new(node, &node->wait) < 0)
		node->wait = NULL; /* blocking callers then get EAGAIN */
}

static void fill_stat(const struct device_node *node, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = FUSE_ROOT_ID;
	st->st_mode = S_IFREG | 0600;
	st->st_nlink = 1;
	st->st_uid = node->uid;
	st->st_gid = node->gid;
	st->st_blksize = 4096;
	if (node->desc->ops->size)
		st->st_size = (off_t)node->desc->ops->size(node->dev);
	st->st_blocks = (st->st_size + 511) / 512;
}

static void device_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)fi;
	if (ino != FUSE_ROOT_ID) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	struct stat st;
	fill_stat(node_of(req), &st);
	fuse_reply_attr(req, &st, 1.0);
}

/* Truncation (shell `>` redirections, dd without conv=notrunc) and time
 * updates do not change a device: report its attributes unchanged. */
static void device_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
			   struct fuse_file_info *fi)
{
	(void)attr;
	(void)to_set;
	device_getattr(req, ino, fi);
}

static void device_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	(void)parent;
	(void)name;
	fuse_reply_err(req, ENOTDIR);
}

static void device_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)ino;
	struct device_node *node = node_of(req);
	uint64_t handle = 0;
	if (node->desc->ops->open) {
		int r = node->desc->ops->open(node->dev, fi->flags, &handle);
		if (r < 0) {
			fuse_reply_err(req, -r);
			return;
		}
	}
	fi->fh = handle;
	fi->direct_io = 1;
	fi->keep_cache = 0;
	fuse_reply_open(req, fi);
}

static void device_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
			struct fuse_file_info *fi)
{
	(void)ino;
	struct device_node *node = node_of(req);
	int fd;
	off_t where;
	size_t len;
	if (node->read_source && node->read_source(node->dev, fi->fh, size, off, &fd, &where, &len) == 0) {
		/* The image's pages go through a pipe into the reader's buffer. */
		struct fuse_bufvec data = FUSE_BUFVEC_INIT(len);
		data.buf[0].flags = FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK;
		data.buf[0].fd = fd;
		data.buf[0].pos = where;
		fuse_reply_data(req, &data, FUSE_BUF_SPLICE_MOVE);
		return;
	}
	char *buf = malloc(size ? size : 1);
	if (!buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	ssize_t n = node->desc->ops->read(node->dev, fi->fh, buf, size, off);
	if (n == -EAGAIN && device_wait_read(node->wait, req, fi, size, off))
		; /* answered later */
	else if (n < 0)
		fuse_reply_err(req, (int)-n);
	else
		fuse_reply_buf(req, buf, (size_t)n);
	free(buf);
}

static void device_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size,
			 off_t off, struct fuse_file_info *fi)
{
	(void)ino;
	struct device_node *node = node_of(req);
	ssize_t n = node->desc->ops->write(node->dev, fi->fh, buf, size, off);
	if (n == -EAGAIN && device_wait_write(node->wait, req, fi, buf, size, off))
		; /* answered later */
	else if (n < 0)
		fuse_reply_err(req, (int)-n);
	else
		fuse_reply_write(req, (size_t)n);
}

static void device_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)ino;
	struct device_node *node = node_of(req);
	int r = 0;
	if (node->desc->ops->release)
		r = node->desc->ops->release(node->dev, fi->fh, fi->flags);
	fuse_reply_err(req, r < 0 ? -r : 0);
}

static void device_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)ino;
	(void)fi;
	fuse_reply_err(req, 0);
}

static void device_fsync(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi)
{
	(void)ino;
	struct device_node *node = node_of(req);
	int r = node->desc->ops->fsync ? node->desc->ops->fsync(node->dev, fi->fh, datasync) : 0;
	fuse_reply_err(req, r < 0 ? -r : 0);
}

static void device_ioctl(fuse_req_t req, fuse_ino_t ino, unsigned int cmd, void *arg,
			 struct fuse_file_info *fi, unsigned flags, const void *in_buf,
			 size_t in_bufsz, size_t out_bufsz)
{
	(void)ino;
	struct device_node *node = node_of(req);
	if (flags & FUSE_IOCTL_COMPAT || !node->desc->ops->ioctl) {
		fuse_reply_err(req, ENOTTY);
		return;
	}
	void *out = out_bufsz ? calloc(1, out_bufsz) : NULL;
	if (out_bufsz && !out) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	int r = node->desc->ops->ioctl(node->dev, fi->fh, cmd, arg, in_buf, in_bufsz, out, out_bufsz);
	if (r < 0)
		fuse_reply_err(req, -r);
	else
		fuse_reply_ioctl(req, r, out, out_bufsz);
	free(out);
}

/* Without a waiter, ENOSYS: the kernel stops asking and reports the node
 * always ready, as it does for regular files. */
static void device_poll(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi, struct fuse_pollhandle *ph)
{
	(void)ino;
	struct device_node *node = node_of(req);
	if (!node->wait) {
		if (ph)
			fuse_pollhandle_destroy(ph);
		fuse_reply_err(req, ENOSYS);
		return;
	}
	device_wait_poll(node->wait, req, fi, ph);
}

const struct fuse_lowlevel_ops device_node_ops = {
	.init = device_init,
	.lookup = device_lookup,
	.getattr = device_getattr,
	.setattr = device_setattr,
	.open = device_open,
	.read = device_read,
	.write = device_write,
	.flush = device_flush,
	.release = device_release,
	.fsync = device_fsync,
	.ioctl = device_ioctl,
	.poll = device_poll,
};

struct device_node *device_node_new(const struct vos_device *desc, void *dev, struct device_node *disk)
{
	struct device_node *node = calloc(1, sizeof(*node));
	if (!node)
		return NULL;
	node->desc = desc;
	node->dev = dev;
	node->disk = disk ? disk : node;
	__atomic_add_fetch(&node->disk->refs, 1, __ATOMIC_SEQ_CST);
	return node; /* uid/gid 0: the view's root */
}

void device_node_end(struct device_node *node)
{
	if (!node || node->ended)
		return;
	node->ended = true;
	device_wait_free(node->wait);
	node->wait = NULL;
	device_node_put(node);
}

bool device_node_hold(struct device_node *node)
{
	unsigned *refs = &node->disk->refs;
	unsigned n = __atomic_load_n(refs, __ATOMIC_SEQ_CST);
	do {
		if (n == 0)
			return false;
	} while (!__atomic_compare_exchange_n(refs, &n, n + 1, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST));
	return true;
}

void device_node_put(struct device_node *node)
{
	struct device_node *disk = node->disk;
	if (__atomic_sub_fetch(&disk->refs, 1, __ATOMIC_SEQ_CST) == 0 && disk->desc->ops->destroy)
		SERVICE_CALL(disk->guard, "destroy", (void)0, disk->desc->ops->destroy(disk->dev));
}

void device_node_free(struct device_node *node)
{
	if (!node)
		return;
	device_node_end(node);
	free(node);
}
