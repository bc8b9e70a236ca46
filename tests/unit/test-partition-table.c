/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The MBR/GPT parser of umdevmbr: hand-built tables, every kind of broken
 * one, and a time-bounded fuzz run (random and mutated tables) checking
 * that whatever the parser accepts is sane. VOS_FUZZ_SECONDS sets the
 * fuzz time (default 2). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The parser is compiled into this test: it belongs to the umdev plugin. */
#include "../../services/umdev/partition-table.c"

#define SECT PARTITION_SECTOR

struct image {
	uint8_t *data;
	uint64_t sectors;
	int fail_reads; /* -errno to return from every read */
};

static int image_read(void *ctx, void *buf, size_t size, uint64_t offset)
{
	struct image *img = ctx;
	if (img->fail_reads)
		return img->fail_reads;
	/* The parser must never ask beyond the disk. */
	assert_true(offset <= img->sectors * SECT && size <= img->sectors * SECT - offset);
	memcpy(buf, img->data + offset, size);
	return 0;
}

static struct image *image_new(uint64_t sectors)
{
	struct image *img = calloc(1, sizeof(*img));
	assert_non_null(img);
	img->data = calloc(sectors, SECT);
	assert_non_null(img->data);
	img->sectors = sectors;
	return img;
}

static void image_free(struct image *img)
{
	free(img->data);
	free(img);
}

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)v);
	put32(p + 4, (uint32_t)(v >> 32));
}

static void mbr_set(struct image *img, uint64_t sector, unsigned slot, uint8_t boot, uint8_t type,
		    uint32_t start, uint32_t sectors)
{
	uint8_t *s = img->data + sector * SECT;
	uint8_t *e = s + 446 + slot * 16;
	e[0] = boot;
	e[4] = type;
	put32(e + 8, start);
	put32(e + 12, sectors);
	s[510] = 0x55;
	s[511] = 0xaa;
}

static int parse(struct image *img, struct partition_table *t, char *reason)
{
	return partition_table_parse(image_read, img, img->sectors, t, reason);
}

/* A GPT header at `lba` with entries at `entries_lba` (128 entries of 128
 * bytes, already written), all checksums right. */
static void gpt_header(struct image *img, uint64_t lba, uint64_t alt, uint64_t entries_lba, uint64_t first,
		       uint64_t last)
{
	uint8_t *h = img->data + lba * SECT;
	memset(h, 0, SECT);
	memcpy(h, "EFI PART", 8);
	put32(h + 8, 0x00010000);
	put32(h + 12, 92);
	put64(h + 24, lba);
	put64(h + 32, alt);
	put64(h + 40, first);
	put64(h + 48, last);
	put64(h + 72, entries_lba);
	put32(h + 80, 128);
	put32(h + 84, 128);
	put32(h + 88, partition_crc32(img->data + entries_lba * SECT, 128 * 128));
	put32(h + 16, partition_crc32(h, 92));
}

static void gpt_entry(struct image *img, uint64_t entries_lba, unsigned index, uint64_t first, uint64_t last)
{
	uint8_t *e = img->data + entries_lba * SECT + index * 128;
	memset(e, 0x11, 16); /* any non-zero type GUID */
	memset(e + 16, 0x22, 16);
	put64(e + 32, first);
	put64(e + 40, last);
}

/* A disk of `sectors` with a protective MBR, both GPT copies, and entries
 * 1 and 3 used. */
static struct image *gpt_image(uint64_t sectors)
{
	struct image *img = image_new(sectors);
	mbr_set(img, 0, 0, 0, 0xee, 1, (uint32_t)(sectors - 1));
	uint64_t first = 34, last = sectors - 34;
	gpt_entry(img, 2, 0, 40, 99);
	gpt_entry(img, 2, 2, 100, 199);
	memcpy(img->data + (sectors - 33) * SECT, img->data + 2 * SECT, 32 * SECT);
	gpt_header(img, 1, sectors - 1, 2, first, last);
	gpt_header(img, sectors - 1, 1, sectors - 33, first, last);
	return img;
}

static void test_crc32(void **state)
{
	(void)state;
	assert_int_equal(partition_crc32("123456789", 9), 0xcbf43926u);
	assert_int_equal(partition_crc32("", 0), 0);
}

static void test_blank_disk(void **state)
{
	(void)state;
	struct image *img = image_new(100);
	struct partition_table t;
	char reason[PARTITION_REASON_MAX];
	assert_int_equal(parse(img, &t, reason), 0);
	assert_int_equal(t.label, PARTITION_LABEL_NONE);
	assert_int_equal(t.count, 0);
	/* A boot sector with a signature but impossible boot flags (a FAT
	 * superfloppy, random bytes) is not a partition table either. */
	mbr_set(img, 0, 1, 0x13, 0x83, 1, 10);
	assert_int_equal(parse(img, &t, reason), 0);
	assert_int_equal(t.label, PARTITION_LABEL_NONE);
	assert_int_equal(partition_table_parse(image_read, img, 0, &t, reason), -EUCLEAN);
	img->fail_reads = -EIO;
	assert_int_equal(parse(img, &t, reason), -EIO);
	assert_non_null(strstr(reason, "cannot read sector 0"));
	image_free(img);
}

static void test_mbr_primary(void **state)
{
	(void)state;
	struct image *img = image_new(1000);
	mbr_set(img, 0, 0, 0x80, 0x83, 63, 100);
	mbr_set(img, 0, 2, 0, 0x0c, 200, 800);
	struct partition_table t;
	char reason[PARTITION_REASON_MAX];
	assert_int_equal(parse(img, &t, reason), 0);
	assert_int_equal(t.label, PARTITION_LABEL_MBR);
	assert_int_equal(t.count, 4);
	assert_int_equal(t.parts[0].start, 63);
	assert_int_equal(t.parts[0].sectors, 100);
	assert_int_equal(t.parts[0].type, 0x83);
	assert_int_equal(t.parts[1].sectors, 0);
	assert_int_equal(t.parts[2].start, 200);
	assert_int_equal(t.parts[2].sectors, 800);
	assert_int_equal(t.parts[3].sectors, 0);
	image_free(img);
}

static void expect_error(struct image *img, int err, const char *words)
{
	struct partition_table t;
	char reason[PARTITION_REASON_MAX];
	int r = parse(img, &t, reason);
	if (r != err || !strstr(reason, words))
		fail_msg("expected %d '%s', got %d '%s'", err, words, r, reason);
}

static void test_mbr_broken(void **state)
{
	(void)state;
	struct image *img = image_new(1000);
	mbr_set(img, 0, 0, 0, 0x83, 63, 100);
	mbr_set(img, 0, 1, 0, 0x83, 150, 100);
	expect_error(img, -EUCLEAN, "partitions 1 and 2 overlap");

	mbr_set(img, 0, 1, 0, 0x83, 500, 501);
	expect_error(img, -EUCLEAN, "beyond the end of the disk");
	mbr_set(img, 0, 1, 0, 0x83, 0xffffffffu, 0xffffffffu); /* no overflow */
	expect_error(img, -EUCLEAN, "beyond the end of the disk");

	mbr_set(img, 0, 1, 0, 0x83, 0, 10);
	expect_error(img, -EUCLEAN, "own sector");

	mbr_set(img, 0, 1, 0, 0x05, 200, 100);
	mbr_set(img, 0, 2, 0, 0x0f, 300, 100);
	expect_error(img, -EUCLEAN, "more than one extended");
	image_free(img);
}

static void test_mbr_logical(void **state)
{
	(void)state;
	struct image *img = image_new(1000);
	mbr_set(img, 0, 0, 0, 0x83, 1, 99);
	mbr_set(img, 0, 1, 0, 0x05, 100, 900);
	/* EBR at 100: logical 101-199, next EBR at 100+200 */
	mbr_set(img, 100, 0, 0, 0x83, 1, 99);
	mbr_set(img, 100, 1, 0, 0x05, 200, 300);
	mbr_set(img, 300, 0, 0, 0x82, 10, 190);
	struct partition_table t;
	char reason[PARTITION_REASON_MAX];
	assert_int_equal(parse(img, &t, reason), 0);
	assert_int_equal(t.count, 6);
	assert_true(t.parts[1].extended);
	assert_int_equal(t.parts[4].start, 101);
	assert_int_equal(t.parts[4].sectors, 99);
	assert_int_equal(t.parts[5].start, 310);
	assert_int_equal(t.parts[5].type, 0x82);
	assert_true(partition_table_touches(&t, 1000, 300 * SECT, 1));
	assert_true(partition_table_touches(&t, 1000, 0, 1));
	assert_true(partition_table_touches(&t, 1000, 999 * SECT, 512));
	assert_false(partition_table_touches(&t, 1000, 50 * SECT, 10 * SECT));
	assert_false(partition_table_touches(&t, 1000, 50 * SECT, 0));

	/* A loop back to the first EBR, and one onto itself. */
	mbr_set(img, 300, 1, 0, 0x05, 0, 300);
	expect_error(img, -ELOOP, "loops");
	mbr_set(img, 300, 1, 0, 0x05, 200, 300);
	expect_error(img, -ELOOP, "loops");
	/* A link out of the extended partition. */
	mbr_set(img, 300, 1, 0, 0x05, 5000, 300);
	expect_error(img, -EUCLEAN, "outside the extended partition");
	/* A logical partition leaving its container. */
	mbr_set(img, 300, 1, 0, 0, 0, 0);
	mbr_set(img, 300, 0, 0, 0x83, 10, 800);
	expect_error(img, -EUCLEAN, "outside the extended partition");
	/* A logical partition covering the next EBR. */
	mbr_set(img, 300, 0, 0, 0x83, 10, 100);
	mbr_set(img, 100, 0, 0, 0x83, 1, 250);
	expect_error(img, -EUCLEAN, "covers the partition table");
	/* A chained EBR without signature. */
	mbr_set(img, 100, 0, 0, 0x83, 1, 99);
	img->data[300 * SECT + 510] = 0;
	expect_error(img, -EUCLEAN, "no 0x55AA signature");
	/* An empty extended partition is fine. */
	img->data[100 * SECT + 510] = 0;
	assert_int_equal(parse(img, &t, reason), 0);
	assert_int_equal(t.count, 4);
	image_free(img);
}

static void test_mbr_too_many_logical(void **state)
{
	(void)state;
	struct image *img = image_new(2000);
	mbr_set(img, 0, 0, 0, 0x05, 1, 1999);
	for (uint32_t i = 0; i < 150; i++) {
		mbr_set(img, 1 + i * 10, 0, 0, 0x83, 1, 9);
		mbr_set(img, 1 + i * 10, 1, 0, 0x05, (i + 1) * 10, 10);
	}
	expect_error(img, -E2BIG, "more than 128 partitions");
	image_free(img);
}

static void test_gpt(void **state)
{
	(void)state;
	struct image *img = gpt_image(400);
	struct partition_table t;
	char reason[PARTITION_REASON_MAX];
	assert_int_equal(parse(img, &t, reason), 0);
	assert_int_equal(t.label, PARTITION_LABEL_GPT);
	assert_int_equal(t.count, 3);
	assert_int_equal(t.parts[0].start, 40);
	assert_int_equal(t.parts[0].sectors, 60);
	assert_int_equal(t.parts[1].sectors, 0);
	assert_int_equal(t.parts[2].start, 100);

	/* A damaged primary header: the backup is used. */
	img->data[1 * SECT + 40] ^= 1;
	assert_int_equal(parse(img, &t, reason), 0);
	assert_int_equal(t.count, 3);
	/* Both damaged: an error naming the primary's problem. */
	img->data[399 * SECT + 40] ^= 1;
	expect_error(img, -EUCLEAN, "GPT header at sector 1 has a bad checksum");
	image_free(img);

	/* Entries with a bad checksum, in both copies. */
	img = gpt_image(400);
	img->data[2 * SECT + 33] ^= 1;
	img->data[367 * SECT + 33] ^= 1;
	expect_error(img, -EUCLEAN, "entry array at sector 2 has a bad checksum");
	image_free(img);

	/* A truncated image: the header's usable range passes the end. */
	img = gpt_image(400);
	struct image *cut = image_new(300);
	memcpy(cut->data, img->data, 300 * SECT);
	expect_error(cut, -EUCLEAN, "truncated image");
	image_free(cut);
	image_free(img);

	/* Overlapping and out-of-range entries (checksums recomputed). */
	img = gpt_image(400);
	gpt_entry(img, 2, 1, 90, 120);
	gpt_header(img, 1, 399, 2, 34, 366);
	img->data[399 * SECT] = 0;
	expect_error(img, -EUCLEAN, "overlap");
	gpt_entry(img, 2, 1, 300, 380);
	gpt_header(img, 1, 399, 2, 34, 366);
	expect_error(img, -EUCLEAN, "outside the usable sectors");
	gpt_entry(img, 2, 1, 300, 200);
	gpt_header(img, 1, 399, 2, 34, 366);
	expect_error(img, -EUCLEAN, "outside the usable sectors");
	/* The entry array inside the usable area. */
	memcpy(img->data + 50 * SECT, img->data + 2 * SECT, 32 * SECT);
	gpt_header(img, 1, 399, 50, 34, 366);
	expect_error(img, -EUCLEAN, "out of place");
	image_free(img);
}

/* ---- fuzzing ---- */

static uint64_t rng_state;

static uint32_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state >> 16);
}

static void check_sane(const struct partition_table *t, uint64_t sectors)
{
	assert_true(t->label <= PARTITION_LABEL_GPT);
	assert_true(t->count <= PARTITION_MAX);
	assert_true(t->regions <= PARTITION_REGIONS_MAX);
	for (unsigned i = 0; i < t->count; i++) {
		const struct partition *p = &t->parts[i];
		if (!p->sectors)
			continue;
		assert_true(p->start > 0 && p->start < sectors && p->sectors <= sectors - p->start);
		for (unsigned j = i + 1; j < t->count; j++) {
			const struct partition *q = &t->parts[j];
			if (q->sectors && !p->extended && !q->extended)
				assert_false(p->start < q->start + q->sectors && q->start < p->start + p->sectors);
		}
	}
}

/* Damage a template: random bytes, small integers where the parser reads
 * offsets, and (for GPT) checksums recomputed so the damage gets past
 * them. */
static void mutate(struct image *img, bool gpt)
{
	unsigned n = 1 + rnd() % 8;
	for (unsigned i = 0; i < n; i++) {
		uint64_t sector;
		switch (rnd() % 4) {
		case 0: sector = 0; break;
		case 1: sector = 1 + rnd() % 2; break;
		case 2: sector = img->sectors - 1 - rnd() % 34; break;
		default: sector = rnd() % img->sectors; break;
		}
		uint8_t *s = img->data + sector * SECT;
		unsigned off = rnd() % SECT;
		switch (rnd() % 3) {
		case 0:
			s[off] = (uint8_t)rnd();
			break;
		case 1:
			if (off <= SECT - 4)
				put32(s + off, rnd() % (uint32_t)(img->sectors * 2));
			break;
		default:
			if (off <= SECT - 8)
				put64(s + off, (uint64_t)rnd() << (rnd() % 40));
			break;
		}
	}
	if (gpt && rnd() % 2) {
		uint8_t *h = img->data + SECT;
		uint32_t hsize = le32(h + 12);
		uint64_t elba = le64(h + 72);
		uint64_t ebytes = (uint64_t)le32(h + 80) * le32(h + 84);
		if (elba < img->sectors && ebytes <= (img->sectors - elba) * SECT)
			put32(h + 88, partition_crc32(img->data + elba * SECT, (size_t)ebytes));
		if (hsize >= 92 && hsize <= SECT) {
			memset(h + 16, 0, 4);
			put32(h + 16, partition_crc32(h, hsize));
		}
	}
}

static struct image *mbr_template(void)
{
	struct image *img = image_new(600);
	mbr_set(img, 0, 0, 0x80, 0x83, 2, 98);
	mbr_set(img, 0, 1, 0, 0x0f, 100, 400);
	mbr_set(img, 0, 3, 0, 0x07, 500, 100);
	for (uint32_t i = 0; i < 5; i++) {
		mbr_set(img, 100 + i * 50, 0, 0, 0x83, 2, 40);
		if (i < 4)
			mbr_set(img, 100 + i * 50, 1, 0, 0x05, (i + 1) * 50, 50);
	}
	return img;
}

static void test_fuzz(void **state)
{
	(void)state;
	const char *env = getenv("VOS_FUZZ_SECONDS");
	double seconds = env ? atof(env) : 2.0;
	struct timespec t0, now;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	rng_state = (uint64_t)t0.tv_nsec | 1;
	printf("# fuzz seed %llu\n", (unsigned long long)rng_state);
	unsigned long runs = 0, accepted = 0, by_label[3] = { 0 };
	struct partition_table t;
	char reason[PARTITION_REASON_MAX];
	do {
		for (int k = 0; k < 200; k++, runs++) {
			struct image *img;
			unsigned kind = rnd() % 3;
			if (kind == 0) { /* random sectors with a signature and sane boot flags */
				img = image_new(64 + rnd() % 512);
				for (uint64_t i = 0; i < img->sectors * SECT; i++)
					img->data[i] = (uint8_t)rnd();
				for (unsigned s = 0; s < 4; s++)
					img->data[446 + s * 16] = rnd() % 2 ? 0x80 : 0;
				img->data[510] = 0x55;
				img->data[511] = 0xaa;
			} else if (kind == 1) {
				img = mbr_template();
				mutate(img, false);
			} else {
				img = gpt_image(200 + rnd() % 300);
				mutate(img, true);
			}
			int r = parse(img, &t, reason);
			if (r == 0) {
				accepted++;
				by_label[t.label]++;
				check_sane(&t, img->sectors);
			} else {
				assert_true(r == -EUCLEAN || r == -ELOOP || r == -E2BIG);
				assert_true(reason[0] != '\0' && strlen(reason) < PARTITION_REASON_MAX);
			}
			image_free(img);
		}
		clock_gettime(CLOCK_MONOTONIC, &now);
	} while ((double)(now.tv_sec - t0.tv_sec) + (double)(now.tv_nsec - t0.tv_nsec) / 1e9 < seconds);
	printf("# fuzz: %lu tables, %lu accepted (%lu none, %lu MBR, %lu GPT)\n", runs, accepted,
	       by_label[0], by_label[1], by_label[2]);
	assert_true(accepted > 0 && accepted < runs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crc32),
		cmocka_unit_test(test_blank_disk),
		cmocka_unit_test(test_mbr_primary),
		cmocka_unit_test(test_mbr_broken),
		cmocka_unit_test(test_mbr_logical),
		cmocka_unit_test(test_mbr_too_many_logical),
		cmocka_unit_test(test_gpt),
		cmocka_unit_test(test_fuzz),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
