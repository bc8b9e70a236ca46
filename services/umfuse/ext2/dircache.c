/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "dircache.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

struct dc_entry {
	struct dc_entry *next;
	uint32_t hash;
	uint32_t ino;
	uint8_t ftype;
	uint16_t len;
	char name[];
};

struct dc_dir {
	struct dc_dir *hnext;			/* in the directory hash */
	struct dc_dir *lru_prev, *lru_next;	/* most recent at the head */
	uint32_t dir;
	bool complete;				/* filled and committed */
	size_t count;
	size_t nbuckets;
	struct dc_entry **buckets;
};

struct dircache {
	size_t max_entries;
	size_t entries;
	size_t ndirs;
	size_t nhash;
	struct dc_dir **hash;
	struct dc_dir *lru_head, *lru_tail;
};

/* FNV-1a: fast, and good enough for file names. */
static uint32_t dc_hash(const char *name, size_t len)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)name[i];
		h *= 16777619u;
	}
	return h;
}

struct dircache *dircache_new(size_t max_entries)
{
	struct dircache *dc = calloc(1, sizeof(*dc));

	if (!dc)
		return NULL;
	dc->max_entries = max_entries;
	dc->nhash = 1024;
	dc->hash = calloc(dc->nhash, sizeof(*dc->hash));
	if (!dc->hash) {
		free(dc);
		return NULL;
	}
	return dc;
}

static void dc_dir_free_entries(struct dircache *dc, struct dc_dir *d)
{
	for (size_t i = 0; i < d->nbuckets; i++) {
		struct dc_entry *e = d->buckets[i];

		while (e) {
			struct dc_entry *n = e->next;

			free(e);
			e = n;
		}
	}
	free(d->buckets);
	dc->entries -= d->count;
	d->buckets = NULL;
	d->nbuckets = 0;
	d->count = 0;
}

static struct dc_dir **dc_slot(struct dircache *dc, uint32_t dir)
{
	struct dc_dir **p = &dc->hash[dir % dc->nhash];

	while (*p && (*p)->dir != dir)
		p = &(*p)->hnext;
	return p;
}

static void dc_lru_unlink(struct dircache *dc, struct dc_dir *d)
{
	if (d->lru_prev)
		d->lru_prev->lru_next = d->lru_next;
	else
		dc->lru_head = d->lru_next;
	if (d->lru_next)
		d->lru_next->lru_prev = d->lru_prev;
	else
		dc->lru_tail = d->lru_prev;
	d->lru_prev = d->lru_next = NULL;
}

static void dc_lru_push(struct dircache *dc, struct dc_dir *d)
{
	d->lru_prev = NULL;
	d->lru_next = dc->lru_head;
	if (dc->lru_head)
		dc->lru_head->lru_prev = d;
	dc->lru_head = d;
	if (!dc->lru_tail)
		dc->lru_tail = d;
}

static void dc_dir_destroy(struct dircache *dc, struct dc_dir *d)
{
	struct dc_dir **p = dc_slot(dc, d->dir);

	if (*p == d)
		*p = d->hnext;
	dc_lru_unlink(dc, d);
	dc_dir_free_entries(dc, d);
	dc->ndirs--;
	free(d);
}

void dircache_free(struct dircache *dc)
{
	if (!dc)
		return;
	while (dc->lru_head)
		dc_dir_destroy(dc, dc->lru_head);
	free(dc->hash);
	free(dc);
}

static struct dc_dir *dc_find(struct dircache *dc, uint32_t dir)
{
	return *dc_slot(dc, dir);
}

static int dc_grow(struct dc_dir *d)
{
	size_t n = d->nbuckets ? d->nbuckets * 4 : 16;
	struct dc_entry **b = calloc(n, sizeof(*b));

	if (!b)
		return -ENOMEM;
	for (size_t i = 0; i < d->nbuckets; i++) {
		struct dc_entry *e = d->buckets[i];

		while (e) {
			struct dc_entry *next = e->next;

			e->next = b[e->hash & (n - 1)];
			b[e->hash & (n - 1)] = e;
			e = next;
		}
	}
	free(d->buckets);
	d->buckets = b;
	d->nbuckets = n;
	return 0;
}

/* Evict least-recently-used directories (never `keep`) until there is room
 * for one more entry. */
static void dc_make_room(struct dircache *dc, struct dc_dir *keep)
{
	struct dc_dir *d = dc->lru_tail;

	while (dc->entries >= dc->max_entries && d) {
		struct dc_dir *prev = d->lru_prev;

		if (d != keep)
			dc_dir_destroy(dc, d);
		d = prev;
	}
}

static struct dc_entry **dc_entry_slot(struct dc_dir *d, const char *name, size_t len,
				       uint32_t hash)
{
	struct dc_entry **p = &d->buckets[hash & (d->nbuckets - 1)];

	while (*p && !((*p)->hash == hash && (*p)->len == len && !memcmp((*p)->name, name, len)))
		p = &(*p)->next;
	return p;
}

static int dc_insert(struct dircache *dc, struct dc_dir *d, const char *name, size_t len,
		     uint32_t ino, uint8_t ftype)
{
	uint32_t hash = dc_hash(name, len);
	struct dc_entry **p, *e;
	int r;

	if (len > UINT16_MAX)
		return -ENAMETOOLONG;
	if (d->count + 1 > d->nbuckets) {
		r = dc_grow(d);
		if (r < 0)
			return r;
	}
	p = dc_entry_slot(d, name, len, hash);
	if (*p) {	/* duplicate names happen only on corrupt images */
		(*p)->ino = ino;
		(*p)->ftype = ftype;
		return 0;
	}
	if (dc->entries >= dc->max_entries) {
		dc_make_room(dc, d);
		if (dc->entries >= dc->max_entries)
			return -ENOSPC;
	}
	e = malloc(sizeof(*e) + len);
	if (!e)
		return -ENOMEM;
	e->hash = hash;
	e->ino = ino;
	e->ftype = ftype;
	e->len = (uint16_t)len;
	memcpy(e->name, name, len);
	e->next = NULL;
	*p = e;
	d->count++;
	dc->entries++;
	return 0;
}

int dircache_lookup(struct dircache *dc, uint32_t dir, const char *name, size_t len,
		    uint32_t *ret_ino, uint8_t *ret_ftype)
{
	struct dc_dir *d = dc_find(dc, dir);
	struct dc_entry *e;

	if (!d || !d->complete)
		return -ENOENT;
	dc_lru_unlink(dc, d);
	dc_lru_push(dc, d);
	if (!d->nbuckets)
		return 0;
	e = *dc_entry_slot(d, name, len, dc_hash(name, len));
	if (!e)
		return 0;
	*ret_ino = e->ino;
	if (ret_ftype)
		*ret_ftype = e->ftype;
	return 1;
}

int dircache_begin(struct dircache *dc, uint32_t dir)
{
	struct dc_dir *d = dc_find(dc, dir);

	if (d)
		dc_dir_destroy(dc, d);
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->dir = dir;
	d->hnext = dc->hash[dir % dc->nhash];
	dc->hash[dir % dc->nhash] = d;
	dc_lru_push(dc, d);
	dc->ndirs++;
	return 0;
}

int dircache_fill(struct dircache *dc, uint32_t dir, const char *name, size_t len,
		  uint32_t ino, uint8_t ftype)
{
	struct dc_dir *d = dc_find(dc, dir);

	if (!d || d->complete)
		return -EINVAL;
	return dc_insert(dc, d, name, len, ino, ftype);
}

void dircache_commit(struct dircache *dc, uint32_t dir)
{
	struct dc_dir *d = dc_find(dc, dir);

	if (d)
		d->complete = true;
}

void dircache_abort(struct dircache *dc, uint32_t dir)
{
	dircache_drop(dc, dir);
}

int dircache_add(struct dircache *dc, uint32_t dir, const char *name, size_t len,
		 uint32_t ino, uint8_t ftype)
{
	struct dc_dir *d = dc_find(dc, dir);
	int r;

	if (!d || !d->complete)
		return 0;
	r = dc_insert(dc, d, name, len, ino, ftype);
	if (r < 0)
		dc_dir_destroy(dc, d);	/* cannot stay exact: forget it */
	return 0;
}

void dircache_remove(struct dircache *dc, uint32_t dir, const char *name, size_t len)
{
	struct dc_dir *d = dc_find(dc, dir);
	struct dc_entry **p, *e;

	if (!d || !d->nbuckets)
		return;
	p = dc_entry_slot(d, name, len, dc_hash(name, len));
	e = *p;
	if (!e)
		return;
	*p = e->next;
	free(e);
	d->count--;
	dc->entries--;
}

void dircache_drop(struct dircache *dc, uint32_t dir)
{
	struct dc_dir *d = dc_find(dc, dir);

	if (d)
		dc_dir_destroy(dc, d);
}

size_t dircache_entries(const struct dircache *dc)
{
	return dc->entries;
}

size_t dircache_dirs(const struct dircache *dc)
{
	return dc->ndirs;
}
