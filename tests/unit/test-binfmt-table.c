/* SPDX-License-Identifier: GPL-2.0-or-later */
/* umbinfmt's trap-mode registrations (binfmt-table.c): the kernel's rules
 * for names, matching (newest first, last '.' of the name, magic under
 * mask at an offset), the enabled bits of entries and of status, and the
 * end of the last mount clearing everything. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "binfmt-table.h"

static struct binfmt_entry entry;
static unsigned char header[BINFMT_BUF_SIZE];

static int add(struct binfmt_table *t, const char *s, uint64_t *ino)
{
	assert_int_equal(binfmt_parse(s, strlen(s), &entry, NULL), 0);
	return binfmt_table_add(t, &entry, ino);
}

static int match(struct binfmt_table *t, const char *path, const char **ret)
{
	static char interp[256];
	unsigned flags = 0;
	int r = binfmt_table_match(t, path, header, interp, sizeof(interp), &flags);
	*ret = r > 0 ? interp : NULL;
	return r;
}

/* A table with one live mount (a pipe stands for the FUSE connection). */
static void setup(struct binfmt_table *t, int pipefd[2])
{
	binfmt_table_init(t);
	assert_int_equal(pipe(pipefd), 0);
	assert_int_equal(binfmt_table_mount(t, pipefd[0], true), 0);
}

static void test_names_and_matching(void **state)
{
	(void)state;
	struct binfmt_table t;
	int p[2];
	const char *interp;
	uint64_t foo, bar;
	setup(&t, p);
	assert_false(atomic_load(&t.active));
	assert_int_equal(add(&t, ":foo:E::foo::/bin/foo:", &foo), 0);
	assert_true(atomic_load(&t.active));
	assert_int_equal(add(&t, ":foo:E::bar::/bin/x:", NULL), -EEXIST);
	assert_int_equal(add(&t, ":status:E::bar::/bin/x:", NULL), -EEXIST);
	assert_int_equal(add(&t, ":register:E::bar::/bin/x:", NULL), -EEXIST);
	assert_int_equal(binfmt_table_lookup(&t, "foo", &bar), 0);
	assert_int_equal(bar, foo);

	assert_int_equal(match(&t, "./x.foo", &interp), 1);
	assert_string_equal(interp, "/bin/foo");
	assert_int_equal(match(&t, "/a.foo/x", &interp), 0); /* the last '.' of the whole name */
	assert_int_equal(match(&t, "x.foo.bak", &interp), 0);
	assert_true(binfmt_table_may_match(&t, "dir/x.foo"));
	assert_false(binfmt_table_may_match(&t, "dir/x.bar"));

	/* M: magic at offset 2 under a mask; newer entries are tried first */
	assert_int_equal(add(&t, ":vosx:M:2:VOSX\\x00:\\xff\\xff\\xff\\xff\\x00:/bin/vosx:P", &bar), 0);
	assert_true(binfmt_table_may_match(&t, "anything"));
	memcpy(header, "zzVOSX\x7f", 7);
	assert_int_equal(match(&t, "prog", &interp), 1);
	assert_string_equal(interp, "/bin/vosx");
	assert_int_equal(match(&t, "prog.foo", &interp), 1);
	assert_string_equal(interp, "/bin/vosx");
	header[3] = 'X';
	assert_int_equal(match(&t, "prog", &interp), 0);
	assert_int_equal(match(&t, "prog.foo", &interp), 1);
	assert_string_equal(interp, "/bin/foo");

	/* too small a buffer for the interpreter */
	unsigned flags;
	char small[4];
	assert_int_equal(binfmt_table_match(&t, "a.foo", header, small, sizeof(small), &flags), -ENAMETOOLONG);

	close(p[0]);
	close(p[1]);
	binfmt_table_destroy(&t);
}

static void test_enable_disable_remove(void **state)
{
	(void)state;
	struct binfmt_table t;
	int p[2];
	const char *interp;
	uint64_t foo;
	setup(&t, p);
	assert_int_equal(add(&t, ":foo:E::foo::/bin/foo:", &foo), 0);
	assert_int_equal(binfmt_table_command(&t, foo, 1), 0); /* "0": disable */
	assert_false(atomic_load(&t.active));
	assert_int_equal(match(&t, "x.foo", &interp), 0);
	struct binfmt_node *n = malloc(sizeof(*n));
	assert_int_equal(binfmt_table_get(&t, foo, n), 0);
	assert_false(n->enabled);
	assert_int_equal(binfmt_table_command(&t, foo, 2), 0); /* "1": enable */
	assert_int_equal(match(&t, "x.foo", &interp), 1);

	assert_int_equal(binfmt_table_command(&t, 0, 1), 0); /* status 0 */
	assert_string_equal(binfmt_table_status(&t), "disabled\n");
	assert_false(atomic_load(&t.active));
	assert_int_equal(match(&t, "x.foo", &interp), 0);
	assert_false(binfmt_table_may_match(&t, "x.foo"));
	assert_int_equal(binfmt_table_command(&t, 0, 2), 0); /* status 1 */
	assert_int_equal(match(&t, "x.foo", &interp), 1);

	assert_int_equal(binfmt_table_command(&t, foo, 3), 0); /* "-1": remove */
	assert_int_equal(binfmt_table_get(&t, foo, n), -ENOENT);
	assert_int_equal(binfmt_table_command(&t, foo, 2), -ENOENT);
	assert_int_equal(add(&t, ":foo:E::foo::/bin/foo:", NULL), 0); /* the name is free again */
	assert_int_equal(add(&t, ":bar:E::bar::/bin/bar:", NULL), 0);
	assert_int_equal(binfmt_table_command(&t, 0, 3), 0); /* status -1: all gone */
	uint64_t ino;
	assert_int_equal(binfmt_table_lookup(&t, "bar", &ino), -ENOENT);
	free(n);
	close(p[0]);
	close(p[1]);
	binfmt_table_destroy(&t);
}

static void test_mounts(void **state)
{
	(void)state;
	struct binfmt_table t;
	int p[2], q[2];
	const char *interp;
	setup(&t, p);
	assert_int_equal(pipe(q), 0);
	assert_int_equal(binfmt_table_mount(&t, q[0], true), 0);
	assert_int_equal(add(&t, ":foo:E::foo::/bin/foo:", NULL), 0);
	binfmt_table_command(&t, 0, 1);
	binfmt_table_mount(&t, q[0], false); /* one of two mounts ends: all stays */
	assert_int_equal(binfmt_table_lookup(&t, "foo", &(uint64_t){ 0 }), 0);
	assert_string_equal(binfmt_table_status(&t), "disabled\n");
	binfmt_table_command(&t, 0, 2);
	assert_int_equal(match(&t, "x.foo", &interp), 1);
	/* A connection that is gone (here: an fd that is closed) matches
	 * nothing even before its server notices. */
	close(p[0]);
	assert_int_equal(match(&t, "x.foo", &interp), 0);
	binfmt_table_mount(&t, p[0], false); /* the last: everything goes */
	assert_false(atomic_load(&t.active));
	assert_int_equal(binfmt_table_lookup(&t, "foo", &(uint64_t){ 0 }), -ENOENT);
	assert_string_equal(binfmt_table_status(&t), "enabled\n");
	for (int i = 0; i < BINFMT_MOUNTS_MAX; i++)
		assert_int_equal(binfmt_table_mount(&t, q[1], true), 0);
	assert_int_equal(binfmt_table_mount(&t, q[1], true), -EMFILE);
	close(p[1]);
	close(q[0]);
	close(q[1]);
	binfmt_table_destroy(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names_and_matching),
		cmocka_unit_test(test_enable_disable_remove),
		cmocka_unit_test(test_mounts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
