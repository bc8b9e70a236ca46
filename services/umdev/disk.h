/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A disk: a byte store (an image file or memory) served as a device node,
 * optionally partitioned, with one node per partition beside it. The
 * partition nodes follow the partition table as it is rewritten: any write
 * that touches the table's sectors, and every open, makes the next access
 * read the table again. I/O never crosses a node's bounds: a write at the
 * end fails with ENOSPC. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "partition-table.h"
#include "umdev.h"

/* Largest read/write the core passes down: 1 MiB requests are about as
 * fast as FUSE goes. */
#define DISK_MAX_IO (1024 * 1024)

struct disk;

/* What the device operations receive: the disk (index 0) or one of its
 * partitions (1..n). */
struct disk_node {
	struct disk *disk;
	unsigned index;
};

/* Where the bytes live: a file descriptor (owned) or a memory mapping of
 * `size` bytes (owned, munmap'd). */
struct disk_store {
	int fd;
	char *mem;
	uint64_t size; /* bytes, a multiple of PARTITION_SECTOR */
};

/* Create a disk over `store` (taken over on success only). `name` names it
 * in log lines ("umdevmbr: test.img"). With `partitioned`, the table is
 * read now: a corrupt one fails with its errno and a one-line reason in
 * `reason` (PARTITION_REASON_MAX bytes). */
int disk_new(const struct vos_service_host *host, const char *name, const struct disk_store *store,
	     bool read_only, bool partitioned,
	     struct disk_node **ret, char *reason);

/* The operations of struct vos_device for disks (dev is a disk_node). */
extern const struct vos_device_ops disk_ops;
