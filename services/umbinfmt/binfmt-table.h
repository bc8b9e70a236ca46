/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * umbinfmt's own registrations, for trap mode (kernels without binfmt_misc
 * in user namespaces): what fs/binfmt_misc.c keeps per instance, with its
 * rules. Entries are parsed by binfmt-parse.c, kept newest first (the
 * kernel adds at the head of its list and matches in list order), each
 * with its own enabled bit, under one status switch. All functions are
 * thread-safe.
 */
#pragma once

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include <time.h>

#include "binfmt-parse.h"

struct binfmt_node {
	struct binfmt_entry entry;
	bool enabled;
	uint64_t ino;            /* the entry file's inode number, never reused */
	struct timespec created;
	struct binfmt_node *next;
};

#define BINFMT_MOUNTS_MAX 16

struct binfmt_table {
	pthread_mutex_t lock;
	struct binfmt_node *nodes; /* newest first */
	bool enabled;              /* `status` */
	uint64_t next_ino;
	unsigned mounts;           /* live mounts of the directory */
	int fds[BINFMT_MOUNTS_MAX]; /* their FUSE connections */
	atomic_bool active;        /* mounted, enabled, and an entry enabled */
};

void binfmt_table_init(struct binfmt_table *t);
/* Remove every entry. */
void binfmt_table_clear(struct binfmt_table *t);
void binfmt_table_destroy(struct binfmt_table *t);

/* A mount of the directory, served on FUSE connection `fuse_fd`, started
 * or ended; the last end removes every entry and re-enables status, as the
 * kernel drops its instance with its superblock. -EMFILE past
 * BINFMT_MOUNTS_MAX mounts. The connections are also checked by
 * binfmt_table_match(): umount(2) aborts a connection before it returns,
 * while the server's loop sees that a moment later. */
int binfmt_table_mount(struct binfmt_table *t, int fuse_fd, bool started);

/* Add `e` (parsed). -EEXIST if its name is taken (or "register" or
 * "status"). On success *ret_ino is the entry's inode number. */
int binfmt_table_add(struct binfmt_table *t, const struct binfmt_entry *e, uint64_t *ret_ino);

/* A command from binfmt_parse_command() (1 disable, 2 enable, 3 remove)
 * for the entry with inode `ino`, or for status when ino is 0. 0 or
 * -ENOENT (the entry is gone). */
int binfmt_table_command(struct binfmt_table *t, uint64_t ino, int command);

/* Look an entry up by name (ret_ino) or inode (ret_node copy, when not
 * NULL). 0 or -ENOENT. */
int binfmt_table_lookup(struct binfmt_table *t, const char *name, uint64_t *ret_ino);
int binfmt_table_get(struct binfmt_table *t, uint64_t ino, struct binfmt_node *ret_node);

/* The status file's text: "enabled\n" or "disabled\n". */
const char *binfmt_table_status(struct binfmt_table *t);

/* Call `fn` for every entry, newest first, under the lock (fn must not
 * call back into the table). */
void binfmt_table_each(struct binfmt_table *t, void (*fn)(const struct binfmt_node *n, void *ctx), void *ctx);

/* Could a file named `path` match an enabled entry, whatever it holds
 * (an M entry, or an E entry with its extension)? */
bool binfmt_table_may_match(struct binfmt_table *t, const char *path);

/* The kernel's check_file(): the first enabled entry (status enabled)
 * whose extension ends `path` (E) or whose magic, under its mask, is at
 * its offset in `header` (M, BINFMT_BUF_SIZE bytes). Copies its
 * interpreter (at most `size` bytes with the NUL) and flags. 1 matched, 0
 * not, -ENAMETOOLONG if the interpreter does not fit. */
int binfmt_table_match(struct binfmt_table *t, const char *path, const unsigned char *header,
		       char *interpreter, size_t size, unsigned *ret_flags);
