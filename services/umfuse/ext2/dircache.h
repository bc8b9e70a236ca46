/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A per-directory name -> inode hash cache. libext2fs looks names up by
 * scanning a directory linearly, which makes listing and stat'ing a big
 * directory O(n^2); this cache makes each lookup O(1) once a directory has
 * been scanned. The filesystem is the only writer of the image, so the
 * cache is kept exact: every link/unlink updates it, and any failure in the
 * middle of a directory update drops that directory's table.
 *
 * A bounded number of entries is kept; whole directories are evicted in
 * least-recently-used order. Not thread-safe: callers hold their lock. */
#pragma once

#include <stddef.h>
#include <stdint.h>

struct dircache;

struct dircache *dircache_new(size_t max_entries);
void dircache_free(struct dircache *dc);

/* Look `name` up in directory `dir`. Returns 1 and sets ret_ino and ret_ftype
 * when found, 0 when the directory is cached and the name is absent, and
 * -ENOENT when the directory is not cached (the caller scans it). */
int dircache_lookup(struct dircache *dc, uint32_t dir, const char *name, size_t len,
		    uint32_t *ret_ino, uint8_t *ret_ftype);

/* Filling a directory's table: begin, add every entry, commit. A begin
 * discards any previous table of `dir`; abort discards the partial one. */
int dircache_begin(struct dircache *dc, uint32_t dir);
int dircache_fill(struct dircache *dc, uint32_t dir, const char *name, size_t len,
		  uint32_t ino, uint8_t ftype);
void dircache_commit(struct dircache *dc, uint32_t dir);
void dircache_abort(struct dircache *dc, uint32_t dir);

/* Keep a cached directory exact; no-ops when `dir` is not cached. */
int dircache_add(struct dircache *dc, uint32_t dir, const char *name, size_t len,
		 uint32_t ino, uint8_t ftype);
void dircache_remove(struct dircache *dc, uint32_t dir, const char *name, size_t len);
void dircache_drop(struct dircache *dc, uint32_t dir);

/* Statistics for tests. */
size_t dircache_entries(const struct dircache *dc);
size_t dircache_dirs(const struct dircache *dc);
