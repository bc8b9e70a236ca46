/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer harness: umdev's MBR/GPT parser (services/umdev/partition-
 * table.c). The input is the disk: its whole sectors, which the parser
 * must never read past. Each input is parsed twice: as it is,
 * and with the CRCs of GPT headers and entry arrays recomputed, so that
 * mutations reach the checks behind the checksums. On success the table
 * must be sane: partitions inside the disk, no two data partitions
 * sharing a sector, the count within PARTITION_MAX. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "partition-table.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                              \
	do {                                                                                      \
		if (!(cond)) {                                                                    \
			fprintf(stderr, "fuzz-partition-table: %s:%d: %s\n", __FILE__, __LINE__, #cond); \
			abort();                                                                  \
		}                                                                                 \
	} while (0)

struct disk {
	const uint8_t *data;
	uint64_t bytes; /* whole sectors */
};

/* The parser promises never to read past the disk's sectors. */
static int disk_read(void *ctx, void *buf, size_t size, uint64_t offset)
{
	const struct disk *d = ctx;
	CHECK(offset <= d->bytes && size <= d->bytes - offset);
	memcpy(buf, d->data + offset, size);
	return 0;
}

static uint32_t get32(const uint8_t *b)
{
	return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

static uint64_t get64(const uint8_t *b)
{
	return (uint64_t)get32(b) | (uint64_t)get32(b + 4) << 32;
}

static void put32(uint8_t *b, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		b[i] = (uint8_t)(v >> (8 * i));
}

/* Recompute the entry-array and header CRCs of a GPT header at `lba`,
 * wherever its fields point inside the disk. */
static void fix_gpt(uint8_t *disk, uint64_t sectors, uint64_t lba)
{
	if (lba >= sectors)
		return;
	uint8_t *h = disk + lba * PARTITION_SECTOR;
	if (memcmp(h, "EFI PART", 8) != 0)
		return;
	uint64_t entries = get64(h + 72);
	uint64_t bytes = (uint64_t)get32(h + 80) * get32(h + 84);
	if (entries < sectors && bytes <= (sectors - entries) * PARTITION_SECTOR)
		put32(h + 88, partition_crc32(disk + entries * PARTITION_SECTOR, (size_t)bytes));
	uint32_t hsize = get32(h + 12);
	if (hsize >= 20 && hsize <= PARTITION_SECTOR) {
		put32(h + 16, 0);
		put32(h + 16, partition_crc32(h, hsize));
	}
}

static void check_table(const struct partition_table *t, uint64_t sectors)
{
	CHECK(t->count <= PARTITION_MAX);
	CHECK(t->regions <= PARTITION_REGIONS_MAX);
	CHECK(t->label != PARTITION_LABEL_NONE || t->count == 0);
	for (unsigned i = 0; i < t->count; i++) {
		const struct partition *a = &t->parts[i];
		if (!a->sectors)
			continue;
		CHECK(a->start > 0 && a->start < sectors && a->sectors <= sectors - a->start);
		if (a->extended)
			continue;
		for (unsigned j = i + 1; j < t->count; j++) {
			const struct partition *b = &t->parts[j];
			if (b->sectors && !b->extended)
				CHECK(a->start + a->sectors <= b->start || b->start + b->sectors <= a->start);
		}
	}
	for (unsigned i = 0; i < t->regions; i++) {
		CHECK(partition_table_touches(t, sectors, t->region[i].start * PARTITION_SECTOR, 1));
	}
	CHECK(partition_table_touches(t, sectors, 0, 1));
	CHECK(!partition_table_touches(t, sectors, 12345, 0));
}

static void parse(const uint8_t *data, size_t size)
{
	uint64_t sectors = size / PARTITION_SECTOR;
	struct disk d = { data, sectors * PARTITION_SECTOR };
	struct partition_table t;
	char reason[PARTITION_REASON_MAX];
	memset(&t, 0xa5, sizeof(t));
	int r = partition_table_parse(disk_read, &d, sectors, &t, reason);
	CHECK(strlen(reason) < PARTITION_REASON_MAX);
	if (r == 0) {
		check_table(&t, sectors);
	} else {
		CHECK(r == -EUCLEAN || r == -ELOOP || r == -E2BIG);
		CHECK(reason[0] != '\0' && !strchr(reason, '\n'));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	parse(data, size);

	uint64_t sectors = size / PARTITION_SECTOR;
	if (sectors < 2)
		return 0;
	uint8_t *copy = malloc(size);
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	fix_gpt(copy, sectors, 1);
	fix_gpt(copy, sectors, sectors - 1);
	if (memcmp(copy, data, size) != 0)
		parse(copy, size);
	free(copy);
	return 0;
}
