/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Disks and their partition nodes; see disk.h. Locking: `lock` (a
 * writer-preferring rwlock) is held for reading around every access, so
 * partition bounds cannot change under an I/O; it is held for writing only
 * to read the table again, which happens at the first access after the
 * table went stale (an open, a write touching the table's sectors,
 * BLKRRPART). */
#include "disk.h"

#include <errno.h>
#include <linux/fs.h>
#include <linux/hdreg.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define DISK_EXTENDED_NODE_BYTES 1024 /* as Linux: an extended partition's node shows its first 2 sectors */
#define DISK_GEOMETRY_HEADS 255
#define DISK_GEOMETRY_SECTORS 63

struct disk {
	const struct vos_service_host *host; /* for its log lines */
	char *name;
	struct disk_store store;
	bool read_only;
	bool partitioned;
	size_t page_size;

	pthread_rwlock_t lock;
	atomic_bool stale;             /* read the table again before the next access */
	bool table_ok;                 /* under lock: `table` describes the disk */
	unsigned warned_count;         /* under lock: logged "no node for partition N" up to here */
	struct partition_table table;  /* under lock */

	unsigned n_nodes; /* 1 + partition nodes */
	struct disk_node nodes[];
};

static int store_read(const struct disk_store *s, char *buf, size_t size, uint64_t pos)
{
	if (s->mem) {
		memcpy(buf, s->mem + pos, size);
		return 0;
	}
	while (size) {
		ssize_t n = pread(s->fd, buf, size, (off_t)pos);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0) { /* the image shrank under us: a hole reads as zeros */
			memset(buf, 0, size);
			return 0;
		}
		buf += n, size -= (size_t)n, pos += (uint64_t)n;
	}
	return 0;
}

static bool page_is_zero(const char *p, size_t len)
{
	static const char zero[256];
	for (size_t i = 0; i < len; i += sizeof(zero))
		if (memcmp(p + i, zero, sizeof(zero)))
			return false;
	return true;
}

/* Memory disks: whole pages of zeros are dropped (MADV_DONTNEED makes a
 * private anonymous page read as zeros again), so writing zeros (mkfs
 * clearing inode tables) costs no memory. */
static void mem_write(struct disk *d, const char *buf, size_t size, uint64_t pos)
{
	size_t ps = d->page_size;
	while (size) {
		size_t chunk = ps - (size_t)(pos % ps);
		if (chunk > size)
			chunk = size;
		char *dst = d->store.mem + pos;
		if (chunk == ps && page_is_zero(buf, ps)) {
			size_t run = ps;
			while (run < size && size - run >= ps && page_is_zero(buf + run, ps))
				run += ps;
			if (madvise(dst, run, MADV_DONTNEED) == 0)
				chunk = run;
			else
				memset(dst, 0, chunk);
		} else {
			memcpy(dst, buf, chunk);
		}
		buf += chunk, size -= chunk, pos += chunk;
	}
}

static int store_write(struct disk *d, const char *buf, size_t size, uint64_t pos)
{
	if (d->store.mem) {
		mem_write(d, buf, size, pos);
		return 0;
	}
	while (size) {
		ssize_t n = pwrite(d->store.fd, buf, size, (off_t)pos);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO;
		buf += n, size -= (size_t)n, pos += (uint64_t)n;
	}
	return 0;
}

static int table_read(void *ctx, void *buf, size_t size, uint64_t offset)
{
	const struct disk_store *s = ctx;
	if (offset > s->size || size > s->size - offset)
		return -EIO;
	return store_read(s, buf, size, offset);
}

static uint64_t disk_sectors(const struct disk *d)
{
	return d->store.size / PARTITION_SECTOR;
}

/* Under the write lock. */
static void disk_reread_locked(struct disk *d)
{
	char reason[PARTITION_REASON_MAX];
	struct partition_table *t = malloc(sizeof(*t));
	atomic_store(&d->stale, false);
	int r = t ? partition_table_parse(table_read, &d->store, disk_sectors(d), t, reason) : -ENOMEM;
	if (r < 0) {
		if (d->table_ok)
			d->host->log(d->host->core, "%s: partition table unreadable (%s); its partitions are empty until it is fixed",
					d->name, t ? reason : "out of memory");
		d->table_ok = false;
		free(t);
		return;
	}
	d->table = *t;
	d->table_ok = true;
	free(t);
	unsigned nodes = d->n_nodes - 1;
	if (d->table.count > nodes && d->table.count > d->warned_count) {
		d->host->log(d->host->core, "%s: partitions %u-%u have no node until the disk is mounted again",
				d->name, nodes + 1, d->table.count);
		d->warned_count = d->table.count;
	}
}

static void disk_lock(struct disk *d)
{
	if (!d->partitioned)
		return;
	pthread_rwlock_rdlock(&d->lock);
	while (atomic_load(&d->stale)) {
		pthread_rwlock_unlock(&d->lock);
		pthread_rwlock_wrlock(&d->lock);
		if (atomic_load(&d->stale))
			disk_reread_locked(d);
		pthread_rwlock_unlock(&d->lock);
		pthread_rwlock_rdlock(&d->lock);
	}
}

static void disk_unlock(struct disk *d)
{
	if (d->partitioned)
		pthread_rwlock_unlock(&d->lock);
}

/* Under the lock: the node's byte range on the disk. */
static void node_range(const struct disk_node *n, uint64_t *ret_base, uint64_t *ret_len)
{
	const struct disk *d = n->disk;
	*ret_base = 0;
	*ret_len = 0;
	if (n->index == 0) {
		*ret_len = d->store.size;
		return;
	}
	if (!d->table_ok || n->index > d->table.count)
		return;
	const struct partition *p = &d->table.parts[n->index - 1];
	*ret_base = p->start * PARTITION_SECTOR;
	*ret_len = p->sectors * PARTITION_SECTOR;
	if (p->extended && *ret_len > DISK_EXTENDED_NODE_BYTES)
		*ret_len = DISK_EXTENDED_NODE_BYTES;
}

static int disk_open(void *dev, int flags, uint64_t *ret_handle)
{
	struct disk_node *n = dev;
	(void)flags;
	/* The image may have been changed from outside the view. */
	if (n->disk->partitioned)
		atomic_store(&n->disk->stale, true);
	*ret_handle = 0;
	return 0;
}

static ssize_t disk_read(void *dev, uint64_t handle, char *buf, size_t size, off_t offset)
{
	struct disk_node *n = dev;
	struct disk *d = n->disk;
	(void)handle;
	if (offset < 0)
		return -EINVAL;
	uint64_t base, len;
	disk_lock(d);
	node_range(n, &base, &len);
	ssize_t r = 0;
	if ((uint64_t)offset < len) {
		if (size > len - (uint64_t)offset)
			size = (size_t)(len - (uint64_t)offset);
		int e = store_read(&d->store, buf, size, base + (uint64_t)offset);
		r = e < 0 ? e : (ssize_t)size;
	}
	disk_unlock(d);
	return r;
}

/* An image's bytes go to the reader by splice(2): one copy instead of two. */
static int disk_read_source(void *dev, uint64_t handle, size_t size, off_t offset, int *ret_fd,
			    off_t *ret_offset, size_t *ret_size)
{
	struct disk_node *n = dev;
	struct disk *d = n->disk;
	(void)handle;
	if (offset < 0)
		return -EINVAL;
	if (d->store.fd < 0)
		return -EOPNOTSUPP; /* memory: read() copies it once, as splice would */
	uint64_t base, len;
	disk_lock(d);
	node_range(n, &base, &len);
	disk_unlock(d);
	uint64_t left = (uint64_t)offset < len ? len - (uint64_t)offset : 0;
	*ret_fd = d->store.fd;
	*ret_offset = (off_t)(base + (uint64_t)offset);
	*ret_size = size < left ? size : (size_t)left;
	return 0;
}

static ssize_t disk_write(void *dev, uint64_t handle, const char *buf, size_t size, off_t offset)
{
	struct disk_node *n = dev;
	struct disk *d = n->disk;
	(void)handle;
	if (offset < 0)
		return -EINVAL;
	if (d->read_only)
		return -EROFS;
	if (size == 0)
		return 0;
	uint64_t base, len;
	disk_lock(d);
	node_range(n, &base, &len);
	ssize_t r;
	if ((uint64_t)offset >= len) {
		r = -ENOSPC;
	} else {
		if (size > len - (uint64_t)offset)
			size = (size_t)(len - (uint64_t)offset);
		uint64_t pos = base + (uint64_t)offset;
		int e = store_write(d, buf, size, pos);
		r = e < 0 ? e : (ssize_t)size;
		if (d->partitioned && partition_table_touches(d->table_ok ? &d->table : NULL, disk_sectors(d), pos, size))
			atomic_store(&d->stale, true);
	}
	disk_unlock(d);
	return r;
}

static uint64_t disk_size(void *dev)
{
	struct disk_node *n = dev;
	uint64_t base, len;
	disk_lock(n->disk);
	node_range(n, &base, &len);
	disk_unlock(n->disk);
	return len;
}

static int put_out(void *out, size_t out_size, const void *value, size_t size)
{
	/* Ioctls that do not encode their size reach us without a buffer
	 * (FUSE copies nothing back): answering 0 would leave the caller's
	 * variable unset, so say "not supported" and let tools fall back to
	 * what they do for regular files. */
	if (out_size < size)
		return -ENOTTY;
	memcpy(out, value, size);
	return 0;
}

static int disk_ioctl(void *dev, uint64_t handle, unsigned int cmd, void *arg, const void *in, size_t in_size,
		      void *out, size_t out_size)
{
	struct disk_node *n = dev;
	struct disk *d = n->disk;
	(void)handle, (void)arg, (void)in, (void)in_size;
	uint64_t base, len;
	disk_lock(d);
	node_range(n, &base, &len);
	disk_unlock(d);

	int ival;
	switch (cmd) {
	case BLKGETSIZE64: {
		uint64_t v = len;
		return put_out(out, out_size, &v, sizeof(v));
	}
	case BLKGETSIZE: {
		unsigned long v = (unsigned long)(len / PARTITION_SECTOR);
		return put_out(out, out_size, &v, sizeof(v));
	}
	case BLKSSZGET:
	case BLKPBSZGET:
	case BLKIOMIN:
		ival = PARTITION_SECTOR;
		return put_out(out, out_size, &ival, sizeof(ival));
	case BLKROGET:
		ival = d->read_only;
		return put_out(out, out_size, &ival, sizeof(ival));
	case HDIO_GETGEO: {
		uint64_t cyl = d->store.size / PARTITION_SECTOR / (DISK_GEOMETRY_HEADS * DISK_GEOMETRY_SECTORS);
		struct hd_geometry g = {
			.heads = DISK_GEOMETRY_HEADS,
			.sectors = DISK_GEOMETRY_SECTORS,
			.cylinders = (unsigned short)(cyl > 0xffff ? 0xffff : cyl),
			.start = (unsigned long)(base / PARTITION_SECTOR),
		};
		return put_out(out, out_size, &g, sizeof(g));
	}
	case BLKRRPART: {
		if (n->index != 0 || !d->partitioned)
			return -EINVAL;
		atomic_store(&d->stale, true);
		disk_lock(d);
		bool ok = d->table_ok;
		disk_unlock(d);
		return ok ? 0 : -EIO;
	}
	case BLKFLSBUF:
		if (d->store.fd >= 0 && fdatasync(d->store.fd) < 0 && errno != EINVAL)
			return -errno;
		return 0;
	default:
		return -ENOTTY;
	}
}

static int disk_fsync(void *dev, uint64_t handle, int datasync)
{
	struct disk_node *n = dev;
	int fd = n->disk->store.fd;
	(void)handle;
	if (fd < 0)
		return 0; /* a ramdisk: nothing below it */
	return (datasync ? fdatasync(fd) : fsync(fd)) < 0 ? -errno : 0;
}

static void disk_destroy(void *dev)
{
	struct disk_node *n = dev;
	struct disk *d = n->disk;
	if (d->store.mem)
		munmap(d->store.mem, d->store.size);
	if (d->store.fd >= 0)
		close(d->store.fd);
	pthread_rwlock_destroy(&d->lock);
	free(d->name);
	free(d);
}

static unsigned disk_partition_count(void *dev)
{
	struct disk_node *n = dev;
	return n->disk->n_nodes - 1;
}

static void *disk_partition(void *dev, unsigned index)
{
	struct disk_node *n = dev;
	return index < n->disk->n_nodes ? &n->disk->nodes[index] : NULL;
}

const struct vos_device_ops disk_ops = {
	.open = disk_open,
	.read = disk_read,
	.read_source = disk_read_source,
	.write = disk_write,
	.size = disk_size,
	.ioctl = disk_ioctl,
	.destroy = disk_destroy,
	.partition_count = disk_partition_count,
	.partition = disk_partition,
	.fsync = disk_fsync,
};

int disk_new(const struct vos_service_host *host, const char *name, const struct disk_store *store,
	     bool read_only, bool partitioned, struct disk_node **ret, char *reason)
{
	reason[0] = '\0';
	struct partition_table *t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	unsigned parts = 0;
	if (partitioned) {
		int r = partition_table_parse(table_read, (void *)store, store->size / PARTITION_SECTOR, t, reason);
		if (r < 0) {
			free(t);
			return r;
		}
		parts = t->count > PARTITION_MBR_SLOTS ? t->count : PARTITION_MBR_SLOTS;
	}
	struct disk *d = calloc(1, sizeof(*d) + (1 + parts) * sizeof(struct disk_node));
	if (d)
		d->host = host;
	if (!d || !(d->name = strdup(name))) {
		free(d);
		free(t);
		return -ENOMEM;
	}
	d->store = *store;
	d->read_only = read_only;
	d->partitioned = partitioned;
	long ps = sysconf(_SC_PAGESIZE);
	d->page_size = ps > 0 ? (size_t)ps : 4096;
	d->table = *t;
	d->table_ok = true;
	d->warned_count = t->count;
	free(t);
	pthread_rwlockattr_t attr;
	pthread_rwlockattr_init(&attr);
	pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&d->lock, &attr);
	pthread_rwlockattr_destroy(&attr);
	d->n_nodes = 1 + parts;
	for (unsigned i = 0; i < d->n_nodes; i++)
		d->nodes[i] = (struct disk_node){ .disk = d, .index = i };
	*ret = &d->nodes[0];
	return 0;
}
