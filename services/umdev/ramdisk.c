/* SPDX-License-Identifier: GPL-2.0-or-later */
/* umdevramdisk: `mount -t umdevramdisk -o size=100M[,mbr] none test_rd`, a
 * disk in memory. Memory is reserved lazily (MAP_NORESERVE, pages appear
 * when written; pages written with zeros are dropped again) and freed at
 * umount. With `mbr` the disk can be partitioned: test_rd1..4 follow its
 * partition table. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/sysinfo.h>

#include "disk.h"

#ifndef MS_RDONLY
#define MS_RDONLY 1
#endif
#ifndef PR_SET_VMA
#define PR_SET_VMA 0x53564d41 /* Linux 5.17 */
#define PR_SET_VMA_ANON_NAME 0
#endif

/* "65536", "64K", "100M", "2G", "1T" (powers of 1024; "KiB", "MB"... too). */
static int ramdisk_size_parse(const char *text, uint64_t *ret)
{
	if (!text || *text < '0' || *text > '9')
		return -EINVAL;
	uint64_t v = 0;
	const char *p = text;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (v > (UINT64_MAX - (uint64_t)(*p - '0')) / 10)
			return -ERANGE;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	unsigned shift = 0;
	switch (*p) {
	case 'k': case 'K': shift = 10; break;
	case 'm': case 'M': shift = 20; break;
	case 'g': case 'G': shift = 30; break;
	case 't': case 'T': shift = 40; break;
	case '\0': break;
	default: return -EINVAL;
	}
	if (shift) {
		p++;
		if (*p == 'i')
			p++;
		if (*p == 'B' || *p == 'b')
			p++;
	}
	if (*p)
		return -EINVAL;
	if (shift && v > (UINT64_MAX >> shift))
		return -ERANGE;
	*ret = v << shift;
	return 0;
}

static int ramdisk_create(void *service, const struct vos_mount_request *req, void **ret_dev)
{
	const struct vos_service_host *host = umdev_host_of(service);
	const char *size_text = NULL;
	bool mbr = false;
	for (size_t i = 0; i < req->options->count; i++) {
		const struct vos_option *o = &req->options->items[i];
		if (!strcmp(o->key, "size") && o->value)
			size_text = o->value;
		else if (!strcmp(o->key, "mbr") && !o->value)
			mbr = true;
		else if ((!strcmp(o->key, "ro") || !strcmp(o->key, "rw")) && !o->value)
			continue; /* as flags: mount(8) passes MS_RDONLY */
		else {
			host->log(host->core, "umdevramdisk: unknown option '%s' (known: size=SIZE, mbr)", o->key);
			return -EINVAL;
		}
	}
	if (!size_text) {
		host->log(host->core, "umdevramdisk: needs a size: mount -t umdevramdisk -o size=100M[,mbr] none NODE");
		return -EINVAL;
	}
	uint64_t size;
	int r = ramdisk_size_parse(size_text, &size);
	if (r < 0) {
		host->log(host->core, "umdevramdisk: size=%s: %s", size_text,
				r == -ERANGE ? "too large" : "not a size (a number with K, M, G or T)");
		return -EINVAL;
	}
	if (size == 0) {
		host->log(host->core, "umdevramdisk: size=%s: a ramdisk needs at least one sector", size_text);
		return -EINVAL;
	}
	if (size % PARTITION_SECTOR)
		size += PARTITION_SECTOR - size % PARTITION_SECTOR;
	struct sysinfo si;
	if (sysinfo(&si) == 0) {
		uint64_t mem = ((uint64_t)si.totalram + si.totalswap) * si.mem_unit;
		if (size > mem) {
			host->log(host->core, "umdevramdisk: size=%s is more than this machine's memory and swap (%llu MiB)",
					size_text, (unsigned long long)(mem >> 20));
			return -ENOMEM;
		}
	}
	void *mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (mem == MAP_FAILED) {
		r = -errno;
		host->log(host->core, "umdevramdisk: size=%s: cannot map memory: %s", size_text, strerror(-r));
		return r;
	}
	/* Not copied into children the supervisor forks, and kept apart from
	 * neighbouring mappings (so its RSS can be told apart in smaps). */
	(void)madvise(mem, size, MADV_DONTFORK);
	(void)prctl(PR_SET_VMA, PR_SET_VMA_ANON_NAME, (unsigned long)mem, (unsigned long)size,
		    (unsigned long)"umdevramdisk");
	char reason[PARTITION_REASON_MAX];
	struct disk_store store = { .fd = -1, .mem = mem, .size = size };
	struct disk_node *disk;
	r = disk_new(host, "umdevramdisk", &store, req->flags & MS_RDONLY, mbr, &disk, reason);
	if (r < 0) {
		munmap(mem, size);
		return r;
	}
	*ret_dev = disk;
	return 0;
}

const struct vos_device umdev_ramdisk = {
	.name = "ramdisk",
	.description = "a disk in memory, optionally partitioned (-o size=SIZE[,mbr])",
	.kind = 'b',
	.max_io = DISK_MAX_IO,
	.ops = &disk_ops,
	.create = ramdisk_create,
};
