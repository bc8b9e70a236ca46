/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Partition tables of a disk image: MBR (primary, extended and logical
 * partitions) and GPT. A pure parser: it reads the disk through a callback
 * and checks everything it reads, so a corrupt or hostile image gives an
 * error and a one-line reason, never a crash or a loop. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PARTITION_SECTOR 512u
#define PARTITION_MAX 128u        /* partitions (slots) a table may have */
#define PARTITION_MBR_SLOTS 4u
#define PARTITION_REGIONS_MAX 4u
#define PARTITION_REASON_MAX 160u

enum partition_label {
	PARTITION_LABEL_NONE, /* no 0x55AA signature: an unpartitioned disk */
	PARTITION_LABEL_MBR,
	PARTITION_LABEL_GPT,
};

struct partition {
	uint64_t start;   /* first sector */
	uint64_t sectors; /* 0: an empty slot */
	uint8_t type;     /* MBR system id (0 for GPT) */
	bool extended;    /* an MBR extended partition (a container) */
};

/* A range of sectors. */
struct partition_range {
	uint64_t start, sectors;
};

struct partition_table {
	enum partition_label label;
	/* Partition numbers in use: parts[0] is partition 1. MBR: 4 primary
	 * slots, then the logical partitions (5...). GPT: up to the highest
	 * used entry. */
	unsigned count;
	struct partition parts[PARTITION_MAX];
	/* Where the table itself lives beyond the first 34 and the last 33
	 * sectors (always watched): the extended partition, GPT entry arrays.
	 * A write there may change the table. */
	unsigned regions;
	struct partition_range region[PARTITION_REGIONS_MAX];
};

/* Read `size` bytes at byte `offset` of the disk into `buf`: 0 or -errno.
 * A short disk must fail (the parser never reads past `disk_sectors`). */
typedef int (*partition_read_fn)(void *ctx, void *buf, size_t size, uint64_t offset);

/* Parse the table of a disk of `disk_sectors` sectors. Returns 0 and fills
 * *ret; or -EUCLEAN (corrupt table), -ELOOP (extended partitions chained
 * in a loop), -E2BIG (too many partitions) or the read error, with a
 * one-line reason in `reason` (PARTITION_REASON_MAX bytes). */
int partition_table_parse(partition_read_fn read, void *ctx, uint64_t disk_sectors,
			  struct partition_table *ret, char *reason);

/* Whether bytes [offset, offset+len) touch the table's own sectors (the
 * first 34, the last 33, and the recorded regions). */
bool partition_table_touches(const struct partition_table *t, uint64_t disk_sectors,
			     uint64_t offset, uint64_t len);

/* The CRC-32 GPT uses (that of zlib, ISO-HDLC). */
uint32_t partition_crc32(const void *buf, size_t len);
