/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * binfmt_misc registration strings, parsed by the kernel's rules.
 *
 * A line-by-line mirror of create_entry(), parse_command() and
 * entry_status() in Linux's fs/binfmt_misc.c (6.7 .. 6.18): the same input
 * is accepted or refused, and an accepted entry is shown exactly as the
 * kernel shows it in /proc/sys/fs/binfmt_misc/NAME. umbinfmt mounts the
 * kernel's own binfmt_misc, so the kernel remains the authority; this
 * mirror explains *why* a string is refused (the kernel only says EINVAL)
 * and is checked against the running kernel by the tests.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#define BINFMT_REGISTER_MIN 11   /* create_entry(): shorter is EINVAL */
#define BINFMT_REGISTER_MAX 1920 /* MAX_REGISTER_LENGTH */
#define BINFMT_BUF_SIZE 256      /* BINPRM_BUF_SIZE: magic + offset fit in it */

/* Entry flags, as the kernel keeps them ('C' implies 'O'). */
#define BINFMT_FLAG_PRESERVE_ARGV0 0x1u /* P */
#define BINFMT_FLAG_OPEN_BINARY 0x2u    /* O */
#define BINFMT_FLAG_CREDENTIALS 0x4u    /* C */
#define BINFMT_FLAG_OPEN_FILE 0x8u      /* F */

struct binfmt_entry {
	char type;         /* 'E' (extension) or 'M' (magic) */
	unsigned flags;    /* BINFMT_FLAG_* */
	int offset;        /* M: where the magic starts */
	size_t size;       /* M: bytes of magic (and of mask) */
	bool has_mask;     /* M */
	char name[BINFMT_REGISTER_MAX];
	char interpreter[BINFMT_REGISTER_MAX];
	char extension[BINFMT_REGISTER_MAX]; /* E */
	unsigned char magic[BINFMT_REGISTER_MAX];
	unsigned char mask[BINFMT_REGISTER_MAX];
};

/* Parse `count` bytes written to `register` (any bytes, NULs included).
 * Returns 0 and fills *ret, or -EINVAL (-ENAMETOOLONG for a name longer
 * than 255 bytes) with *ret_reason (if not NULL) set to a static one-line
 * explanation; after -ENAMETOOLONG *ret is filled all the same. A valid string may still be refused by
 * the kernel when it is written: EEXIST for a name already registered (or
 * "register"/"status"), and with flag F the interpreter's open error. */
int binfmt_parse(const void *data, size_t count, struct binfmt_entry *ret, const char **ret_reason);

/* What the kernel prints for the entry (entry_status()) into `out`.
 * Returns the length, or -ENOSPC if `size` is too small. */
int binfmt_format(const struct binfmt_entry *e, bool enabled, char *out, size_t size);

/* A write to an entry or to `status` (parse_command()): 0 does nothing,
 * 1 disables, 2 enables, 3 removes; -EINVAL otherwise. */
int binfmt_parse_command(const void *data, size_t count);
