/* SPDX-License-Identifier: GPL-2.0-or-later */
/* MBR and GPT partition tables, read defensively: every offset and length
 * read from the disk is checked against the disk before it is used, the
 * extended-partition chain is bounded and checked for loops, and
 * partitions may neither leave the disk nor overlap. Rules follow Linux's
 * block/partitions/{msdos,efi}.c where they are lenient (an MBR with
 * impossible boot flags is no MBR; a bad primary GPT falls back to the
 * backup) and are strict where Linux would silently clip. */
#include "partition-table.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MBR_TABLE_OFFSET 446
#define MBR_ENTRY_SIZE 16
#define MBR_TYPE_GPT_PROTECTIVE 0xee
#define GPT_SIGNATURE "EFI PART"
#define GPT_HEADER_MIN 92
#define GPT_ENTRY_MIN 128
#define GPT_ENTRIES_MAX_BYTES (1024u * 1024u)
#define GPT_WATCH_HEAD 34 /* MBR, primary header, 32 sectors of entries */
#define GPT_WATCH_TAIL 33 /* backup entries and header */

struct parser {
	partition_read_fn read;
	void *ctx;
	uint64_t disk_sectors;
	char *reason;
};

static int parse_fail(struct parser *p, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int parse_fail(struct parser *p, int err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(p->reason, PARTITION_REASON_MAX, fmt, ap);
	va_end(ap);
	return err;
}

static uint32_t le32(const uint8_t *b)
{
	return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

static uint64_t le64(const uint8_t *b)
{
	return (uint64_t)le32(b) | (uint64_t)le32(b + 4) << 32;
}

uint32_t partition_crc32(const void *buf, size_t len)
{
	static const uint32_t nibble[16] = {
		0x00000000, 0x1db71064, 0x3b6e20c8, 0x26d930ac, 0x76dc4190, 0x6b6b51f4, 0x4db26158, 0x5005713c,
		0xedb88320, 0xf00f9344, 0xd6d6a3e8, 0xcb61b38c, 0x9b64c2b0, 0x86d3d2d4, 0xa00ae278, 0xbdbdf21c,
	};
	const uint8_t *b = buf;
	uint32_t crc = 0xffffffffu;
	for (size_t i = 0; i < len; i++) {
		crc ^= b[i];
		crc = (crc >> 4) ^ nibble[crc & 15];
		crc = (crc >> 4) ^ nibble[crc & 15];
	}
	return ~crc;
}

static int read_sectors(struct parser *p, void *buf, uint64_t lba, uint64_t count)
{
	if (lba >= p->disk_sectors || count > p->disk_sectors - lba)
		return parse_fail(p, -EUCLEAN, "sectors %llu-%llu are beyond the end of the disk (%llu sectors)",
			    (unsigned long long)lba, (unsigned long long)(lba + count - 1),
			    (unsigned long long)p->disk_sectors);
	int r = p->read(p->ctx, buf, (size_t)(count * PARTITION_SECTOR), lba * PARTITION_SECTOR);
	if (r < 0)
		return parse_fail(p, r, "cannot read sector %llu: %s", (unsigned long long)lba, strerror(-r));
	return 0;
}

static bool ranges_overlap(uint64_t a, uint64_t an, uint64_t b, uint64_t bn)
{
	return a < b + bn && b < a + an;
}

static void add_region(struct partition_table *t, uint64_t start, uint64_t sectors)
{
	if (t->regions < PARTITION_REGIONS_MAX)
		t->region[t->regions++] = (struct partition_range){ start, sectors };
}

/* No two data partitions (containers excluded) may share a sector. */
static int check_overlaps(struct parser *p, const struct partition_table *t)
{
	for (unsigned i = 0; i < t->count; i++) {
		const struct partition *a = &t->parts[i];
		if (!a->sectors || a->extended)
			continue;
		for (unsigned j = i + 1; j < t->count; j++) {
			const struct partition *b = &t->parts[j];
			if (b->sectors && !b->extended && ranges_overlap(a->start, a->sectors, b->start, b->sectors))
				return parse_fail(p, -EUCLEAN, "partitions %u and %u overlap", i + 1, j + 1);
		}
	}
	return 0;
}

static bool mbr_is_extended(uint8_t type)
{
	return type == 0x05 || type == 0x0f || type == 0x85;
}

static void mbr_entry(const uint8_t *sector, unsigned i, uint8_t *ret_boot, uint8_t *ret_type,
		      uint32_t *ret_start, uint32_t *ret_sectors)
{
	const uint8_t *e = sector + MBR_TABLE_OFFSET + i * MBR_ENTRY_SIZE;
	*ret_boot = e[0];
	*ret_type = e[4];
	*ret_start = le32(e + 8);
	*ret_sectors = le32(e + 12);
}

static bool mbr_has_signature(const uint8_t *sector)
{
	return sector[510] == 0x55 && sector[511] == 0xaa;
}

/* The chain of EBRs inside the extended partition `ext`: logical
 * partitions become numbers 5, 6, ... */
static int mbr_parse_logical(struct parser *p, const struct partition *ext, struct partition_table *t)
{
	uint64_t visited[PARTITION_MAX];
	unsigned n_visited = 0;
	uint64_t ebr = ext->start;
	uint64_t ext_end = ext->start + ext->sectors;
	uint8_t sector[PARTITION_SECTOR];

	for (;;) {
		for (unsigned i = 0; i < n_visited; i++)
			if (visited[i] == ebr)
				return parse_fail(p, -ELOOP, "the extended partition's chain loops back to sector %llu",
					    (unsigned long long)ebr);
		if (t->count >= PARTITION_MAX || n_visited >= PARTITION_MAX)
			return parse_fail(p, -E2BIG, "more than %u partitions", PARTITION_MAX);
		if (ebr < ext->start || ebr >= ext_end)
			return parse_fail(p, -EUCLEAN, "logical partition table at sector %llu is outside the extended partition",
				    (unsigned long long)ebr);
		int r = read_sectors(p, sector, ebr, 1);
		if (r < 0)
			return r;
		if (!mbr_has_signature(sector)) {
			if (n_visited == 0)
				return 0; /* an extended partition without logical partitions yet */
			return parse_fail(p, -EUCLEAN, "logical partition table at sector %llu has no 0x55AA signature",
				    (unsigned long long)ebr);
		}
		visited[n_visited++] = ebr;

		uint8_t boot, type;
		uint32_t start, sectors;
		mbr_entry(sector, 0, &boot, &type, &start, &sectors);
		if (type && sectors) {
			if (mbr_is_extended(type))
				return parse_fail(p, -EUCLEAN, "logical partition %u is itself an extended partition", t->count + 1);
			if (start == 0 || ebr + start + sectors > ext_end)
				return parse_fail(p, -EUCLEAN, "logical partition %u (sectors %llu-%llu) is outside the extended partition (sectors %llu-%llu)",
					    t->count + 1, (unsigned long long)(ebr + start),
					    (unsigned long long)(ebr + start + sectors - 1),
					    (unsigned long long)ext->start, (unsigned long long)(ext_end - 1));
			t->parts[t->count++] = (struct partition){ .start = ebr + start, .sectors = sectors, .type = type };
		}

		mbr_entry(sector, 1, &boot, &type, &start, &sectors);
		if (!mbr_is_extended(type) || !sectors)
			break;
		ebr = ext->start + start;
	}

	/* No logical partition may cover a table of the chain. */
	for (unsigned i = PARTITION_MBR_SLOTS; i < t->count; i++)
		for (unsigned j = 0; j < n_visited; j++)
			if (ranges_overlap(t->parts[i].start, t->parts[i].sectors, visited[j], 1))
				return parse_fail(p, -EUCLEAN, "logical partition %u covers the partition table at sector %llu",
					    i + 1, (unsigned long long)visited[j]);
	return 0;
}

static int gpt_parse(struct parser *p, struct partition_table *t);

static int mbr_parse(struct parser *p, struct partition_table *t)
{
	uint8_t sector[PARTITION_SECTOR];
	int r = read_sectors(p, sector, 0, 1);
	if (r < 0)
		return r;
	t->label = PARTITION_LABEL_NONE;
	t->count = 0;
	if (!mbr_has_signature(sector))
		return 0;

	bool gpt = false;
	for (unsigned i = 0; i < PARTITION_MBR_SLOTS; i++) {
		uint8_t boot, type;
		uint32_t start, sectors;
		mbr_entry(sector, i, &boot, &type, &start, &sectors);
		/* As Linux: impossible boot flags mean this sector is not a
		 * partition table (a FAT boot sector, say), not a corrupt one. */
		if (boot != 0 && boot != 0x80)
			return 0;
		if (type == MBR_TYPE_GPT_PROTECTIVE)
			gpt = true;
	}
	if (gpt)
		return gpt_parse(p, t);

	t->label = PARTITION_LABEL_MBR;
	t->count = PARTITION_MBR_SLOTS;
	const struct partition *ext = NULL;
	for (unsigned i = 0; i < PARTITION_MBR_SLOTS; i++) {
		uint8_t boot, type;
		uint32_t start, sectors;
		mbr_entry(sector, i, &boot, &type, &start, &sectors);
		if (!type || !sectors)
			continue;
		if (start == 0)
			return parse_fail(p, -EUCLEAN, "partition %u starts on the partition table's own sector", i + 1);
		if ((uint64_t)start + sectors > p->disk_sectors)
			return parse_fail(p, -EUCLEAN, "partition %u (sectors %lu-%llu) ends beyond the end of the disk (%llu sectors): truncated image?",
				    i + 1, (unsigned long)start, (unsigned long long)start + sectors - 1,
				    (unsigned long long)p->disk_sectors);
		t->parts[i] = (struct partition){ .start = start, .sectors = sectors, .type = type,
						  .extended = mbr_is_extended(type) };
		if (t->parts[i].extended) {
			if (ext)
				return parse_fail(p, -EUCLEAN, "more than one extended partition");
			ext = &t->parts[i];
		}
	}
	/* Primary partitions, the extended container included, are disjoint. */
	for (unsigned i = 0; i < PARTITION_MBR_SLOTS; i++)
		for (unsigned j = i + 1; j < PARTITION_MBR_SLOTS; j++)
			if (t->parts[i].sectors && t->parts[j].sectors &&
			    ranges_overlap(t->parts[i].start, t->parts[i].sectors, t->parts[j].start, t->parts[j].sectors))
				return parse_fail(p, -EUCLEAN, "partitions %u and %u overlap", i + 1, j + 1);
	if (ext) {
		add_region(t, ext->start, ext->sectors);
		if ((r = mbr_parse_logical(p, ext, t)) < 0)
			return r;
	}
	return check_overlaps(p, t);
}

/* One GPT header at `lba` and its entries. */
static int gpt_parse_at(struct parser *p, uint64_t lba, struct partition_table *t)
{
	uint8_t h[PARTITION_SECTOR];
	int r = read_sectors(p, h, lba, 1);
	if (r < 0)
		return r;
	if (memcmp(h, GPT_SIGNATURE, 8) != 0)
		return parse_fail(p, -EUCLEAN, "no GPT header at sector %llu", (unsigned long long)lba);
	uint32_t hsize = le32(h + 12);
	if (hsize < GPT_HEADER_MIN || hsize > PARTITION_SECTOR)
		return parse_fail(p, -EUCLEAN, "GPT header at sector %llu has a bad size (%u)", (unsigned long long)lba, hsize);
	uint32_t hcrc = le32(h + 16);
	memset(h + 16, 0, 4);
	if (partition_crc32(h, hsize) != hcrc)
		return parse_fail(p, -EUCLEAN, "GPT header at sector %llu has a bad checksum", (unsigned long long)lba);
	uint64_t my_lba = le64(h + 24), first = le64(h + 40), last = le64(h + 48), entries_lba = le64(h + 72);
	uint32_t n_entries = le32(h + 80), esize = le32(h + 84), ecrc = le32(h + 88);
	if (my_lba != lba)
		return parse_fail(p, -EUCLEAN, "GPT header at sector %llu claims to be at sector %llu",
			    (unsigned long long)lba, (unsigned long long)my_lba);
	if (first == 0 || ranges_overlap(lba, 1, first, last - first + 1))
		return parse_fail(p, -EUCLEAN, "GPT header at sector %llu lies inside its own usable sectors", (unsigned long long)lba);
	if (first > last || last >= p->disk_sectors)
		return parse_fail(p, -EUCLEAN, "GPT usable sectors %llu-%llu do not fit the disk (%llu sectors): truncated image?",
			    (unsigned long long)first, (unsigned long long)last, (unsigned long long)p->disk_sectors);
	if (esize < GPT_ENTRY_MIN || esize % 8 || n_entries == 0 || (uint64_t)n_entries * esize > GPT_ENTRIES_MAX_BYTES)
		return parse_fail(p, -EUCLEAN, "GPT header at sector %llu has a bad entry array (%u entries of %u bytes)",
			    (unsigned long long)lba, n_entries, esize);
	uint64_t ebytes = (uint64_t)n_entries * esize;
	uint64_t esectors = (ebytes + PARTITION_SECTOR - 1) / PARTITION_SECTOR;
	if (entries_lba < 1 || entries_lba >= p->disk_sectors || esectors > p->disk_sectors - entries_lba ||
	    ranges_overlap(entries_lba, esectors, first, last - first + 1) || ranges_overlap(entries_lba, esectors, lba, 1))
		return parse_fail(p, -EUCLEAN, "GPT entry array at sector %llu is out of place", (unsigned long long)entries_lba);

	uint8_t *e = malloc((size_t)(esectors * PARTITION_SECTOR));
	if (!e)
		return parse_fail(p, -ENOMEM, "out of memory");
	if ((r = read_sectors(p, e, entries_lba, esectors)) < 0)
		goto out;
	if (partition_crc32(e, (size_t)ebytes) != ecrc) {
		r = parse_fail(p, -EUCLEAN, "GPT entry array at sector %llu has a bad checksum", (unsigned long long)entries_lba);
		goto out;
	}
	t->label = PARTITION_LABEL_GPT;
	t->count = 0;
	t->regions = 0;
	add_region(t, entries_lba, esectors);
	static const uint8_t unused[16];
	for (uint32_t i = 0; i < n_entries; i++) {
		const uint8_t *ent = e + (size_t)i * esize;
		if (!memcmp(ent, unused, sizeof(unused)))
			continue;
		if (i >= PARTITION_MAX) {
			r = parse_fail(p, -E2BIG, "GPT partition %u: more than %u partitions are not supported", i + 1, PARTITION_MAX);
			goto out;
		}
		uint64_t s = le64(ent + 32), l = le64(ent + 40);
		if (s > l || s < first || l > last) {
			r = parse_fail(p, -EUCLEAN, "GPT partition %u (sectors %llu-%llu) is outside the usable sectors %llu-%llu",
				 i + 1, (unsigned long long)s, (unsigned long long)l,
				 (unsigned long long)first, (unsigned long long)last);
			goto out;
		}
		t->parts[i] = (struct partition){ .start = s, .sectors = l - s + 1 };
		t->count = i + 1;
	}
	r = check_overlaps(p, t);
out:
	free(e);
	return r;
}

static int gpt_parse(struct parser *p, struct partition_table *t)
{
	char primary_reason[PARTITION_REASON_MAX];
	int r = gpt_parse_at(p, 1, t);
	if (r >= 0 || r == -ENOMEM)
		return r;
	memcpy(primary_reason, p->reason, sizeof(primary_reason));
	memset(t, 0, sizeof(*t));
	if (p->disk_sectors > 2 && gpt_parse_at(p, p->disk_sectors - 1, t) >= 0)
		return 0; /* the backup header, as Linux and sfdisk use it */
	memset(t, 0, sizeof(*t));
	memcpy(p->reason, primary_reason, sizeof(primary_reason));
	return r;
}

int partition_table_parse(partition_read_fn read, void *ctx, uint64_t disk_sectors,
			  struct partition_table *ret, char *reason)
{
	struct parser p = { .read = read, .ctx = ctx, .disk_sectors = disk_sectors, .reason = reason };
	reason[0] = '\0';
	if (disk_sectors == 0)
		return parse_fail(&p, -EUCLEAN, "the disk is smaller than one sector");
	struct partition_table *t = calloc(1, sizeof(*t));
	if (!t)
		return parse_fail(&p, -ENOMEM, "out of memory");
	int r = mbr_parse(&p, t);
	if (r >= 0)
		*ret = *t;
	free(t);
	return r;
}

bool partition_table_touches(const struct partition_table *t, uint64_t disk_sectors,
			     uint64_t offset, uint64_t len)
{
	if (!len)
		return false;
	uint64_t first = offset / PARTITION_SECTOR;
	uint64_t n = (offset + len - 1) / PARTITION_SECTOR - first + 1;
	if (ranges_overlap(first, n, 0, GPT_WATCH_HEAD))
		return true;
	uint64_t tail = disk_sectors > GPT_WATCH_TAIL ? disk_sectors - GPT_WATCH_TAIL : 0;
	if (ranges_overlap(first, n, tail, disk_sectors - tail))
		return true;
	for (unsigned i = 0; t && i < t->regions; i++)
		if (ranges_overlap(first, n, t->region[i].start, t->region[i].sectors))
			return true;
	return false;
}
