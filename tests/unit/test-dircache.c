/* SPDX-License-Identifier: GPL-2.0-or-later */
/* umfuseext2's per-directory name cache: filling, lookups, keeping a
 * directory exact across add/remove, dropping, and LRU eviction under an
 * entry budget. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "dircache.h"

static int fill(struct dircache *dc, uint32_t dir, int n)
{
	char name[32];

	if (dircache_begin(dc, dir))
		return -1;
	for (int i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "n%d", i);
		if (dircache_fill(dc, dir, name, strlen(name), 1000 + i, 1))
			return -1;
	}
	dircache_commit(dc, dir);
	return 0;
}

static int lookup(struct dircache *dc, uint32_t dir, const char *name, uint32_t *ino)
{
	uint8_t ft;

	return dircache_lookup(dc, dir, name, strlen(name), ino, &ft);
}

static void test_fill_and_lookup(void **state)
{
	struct dircache *dc = dircache_new(1000000);
	uint32_t ino = 0;

	(void)state;
	assert_int_equal(lookup(dc, 2, "n1", &ino), -ENOENT);	/* not cached */
	assert_int_equal(fill(dc, 2, 100000), 0);
	assert_int_equal(dircache_entries(dc), 100000);
	assert_int_equal(lookup(dc, 2, "n99999", &ino), 1);
	assert_int_equal(ino, 1000 + 99999);
	assert_int_equal(lookup(dc, 2, "n100000", &ino), 0);	/* cached, absent */
	assert_int_equal(lookup(dc, 2, "n", &ino), 0);
	assert_int_equal(lookup(dc, 3, "n1", &ino), -ENOENT);
	dircache_free(dc);
}

static void test_partial_fill_is_not_used(void **state)
{
	struct dircache *dc = dircache_new(1000);
	uint32_t ino;

	(void)state;
	assert_int_equal(dircache_begin(dc, 7), 0);
	assert_int_equal(dircache_fill(dc, 7, "a", 1, 11, 1), 0);
	assert_int_equal(lookup(dc, 7, "a", &ino), -ENOENT);	/* not committed */
	dircache_abort(dc, 7);
	assert_int_equal(dircache_entries(dc), 0);
	assert_int_equal(dircache_dirs(dc), 0);
	dircache_free(dc);
}

static void test_add_remove_drop(void **state)
{
	struct dircache *dc = dircache_new(1000);
	uint32_t ino;

	(void)state;
	assert_int_equal(fill(dc, 2, 3), 0);
	assert_int_equal(dircache_add(dc, 2, "new", 3, 55, 2), 0);
	assert_int_equal(lookup(dc, 2, "new", &ino), 1);
	assert_int_equal(ino, 55);
	dircache_remove(dc, 2, "n1", 2);
	assert_int_equal(lookup(dc, 2, "n1", &ino), 0);
	assert_int_equal(lookup(dc, 2, "n2", &ino), 1);
	assert_int_equal(dircache_entries(dc), 3);
	/* names are compared by length too */
	assert_int_equal(lookup(dc, 2, "ne", &ino), 0);
	/* adding to an uncached directory does nothing */
	assert_int_equal(dircache_add(dc, 9, "x", 1, 5, 1), 0);
	assert_int_equal(lookup(dc, 9, "x", &ino), -ENOENT);
	dircache_drop(dc, 2);
	assert_int_equal(lookup(dc, 2, "n2", &ino), -ENOENT);
	assert_int_equal(dircache_entries(dc), 0);
	dircache_free(dc);
}

static void test_lru_eviction(void **state)
{
	struct dircache *dc = dircache_new(10);
	uint32_t ino;

	(void)state;
	assert_int_equal(fill(dc, 2, 4), 0);
	assert_int_equal(fill(dc, 3, 4), 0);
	assert_int_equal(lookup(dc, 2, "n0", &ino), 1);	/* 2 is now the most recent */
	assert_int_equal(fill(dc, 4, 4), 0);		/* evicts 3, the least recent */
	assert_int_equal(lookup(dc, 3, "n0", &ino), -ENOENT);
	assert_int_equal(lookup(dc, 2, "n0", &ino), 1);
	assert_int_equal(lookup(dc, 4, "n3", &ino), 1);
	assert_true(dircache_entries(dc) <= 10);
	/* a directory bigger than the whole budget cannot be cached */
	assert_int_equal(fill(dc, 5, 20), -1);
	dircache_abort(dc, 5);
	assert_int_equal(lookup(dc, 5, "n0", &ino), -ENOENT);
	dircache_free(dc);
}

static void test_refill_replaces(void **state)
{
	struct dircache *dc = dircache_new(100);
	uint32_t ino;

	(void)state;
	assert_int_equal(fill(dc, 2, 5), 0);
	assert_int_equal(fill(dc, 2, 2), 0);
	assert_int_equal(dircache_entries(dc), 2);
	assert_int_equal(lookup(dc, 2, "n4", &ino), 0);
	/* duplicate names (corrupt directories) keep one entry */
	assert_int_equal(dircache_begin(dc, 6), 0);
	assert_int_equal(dircache_fill(dc, 6, "d", 1, 1, 1), 0);
	assert_int_equal(dircache_fill(dc, 6, "d", 1, 2, 1), 0);
	dircache_commit(dc, 6);
	assert_int_equal(lookup(dc, 6, "d", &ino), 1);
	assert_int_equal(ino, 2);
	assert_int_equal(dircache_entries(dc), 3);
	dircache_free(dc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fill_and_lookup),
		cmocka_unit_test(test_partial_fill_is_not_used),
		cmocka_unit_test(test_add_remove_drop),
		cmocka_unit_test(test_lru_eviction),
		cmocka_unit_test(test_refill_replaces),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
