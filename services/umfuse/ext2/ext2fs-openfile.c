/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Open counts per inode. POSIX keeps an unlinked file alive while it is
 * open: when the last link of an open inode goes away it is remembered here
 * as an orphan and freed at its last release (or at unmount). */
#include "ext2fs.h"

#include <string.h>

struct e2_openfile {
	struct e2_openfile *next;
	ext2_ino_t ino;
	unsigned count;
	bool orphan;
};

#define E2_OPENFILE_BUCKETS 4096

struct e2_openfile_table {
	struct e2_openfile *b[E2_OPENFILE_BUCKETS];
};

struct e2_openfile_table *e2_openfile_new(void)
{
	return calloc(1, sizeof(struct e2_openfile_table));
}

void e2_openfile_free(struct e2_openfile_table *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < E2_OPENFILE_BUCKETS; i++) {
		struct e2_openfile *f = t->b[i];

		while (f) {
			struct e2_openfile *n = f->next;

			free(f);
			f = n;
		}
	}
	free(t);
}

static struct e2_openfile **e2_openfile_slot(struct e2_openfile_table *t, ext2_ino_t ino)
{
	struct e2_openfile **p = &t->b[ino % E2_OPENFILE_BUCKETS];

	while (*p && (*p)->ino != ino)
		p = &(*p)->next;
	return p;
}

void e2_openfile_get(struct e2_openfile_table *t, ext2_ino_t ino)
{
	struct e2_openfile **p = e2_openfile_slot(t, ino);

	if (!*p) {
		*p = calloc(1, sizeof(**p));
		if (!*p)
			return;	/* worst case: an unlinked open file is freed early */
		(*p)->ino = ino;
	}
	(*p)->count++;
}

bool e2_openfile_put(struct e2_openfile_table *t, ext2_ino_t ino)
{
	struct e2_openfile **p = e2_openfile_slot(t, ino), *f = *p;
	bool orphan;

	if (!f)
		return false;
	if (--f->count)
		return false;
	orphan = f->orphan;
	*p = f->next;
	free(f);
	return orphan;
}

bool e2_openfile_is_open(struct e2_openfile_table *t, ext2_ino_t ino)
{
	struct e2_openfile *f = *e2_openfile_slot(t, ino);

	return f && f->count;
}

void e2_openfile_orphan(struct e2_openfile_table *t, ext2_ino_t ino)
{
	struct e2_openfile *f = *e2_openfile_slot(t, ino);

	if (f)
		f->orphan = true;
}

ext2_ino_t e2_openfile_pop_orphan(struct e2_openfile_table *t)
{
	for (size_t i = 0; i < E2_OPENFILE_BUCKETS; i++) {
		for (struct e2_openfile **p = &t->b[i]; *p; p = &(*p)->next) {
			if ((*p)->orphan) {
				struct e2_openfile *f = *p;
				ext2_ino_t ino = f->ino;

				*p = f->next;
				free(f);
				return ino;
			}
		}
	}
	return 0;
}
