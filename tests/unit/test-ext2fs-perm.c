/* SPDX-License-Identifier: GPL-2.0-or-later */
/* umfuseext2's pure rules: permission checks as the kernel does them for
 * ext4 (owner/group/other, POSIX ACLs with a mask, capabilities of root),
 * sticky directories, chown/chmod rules, SUID/SGID killing; ACL formats;
 * ext4's encodings of device numbers and timestamps; maximum file sizes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>
#include <sys/sysmacros.h>

#include "ext2fs.h"

#define R E2_MAY_READ
#define W E2_MAY_WRITE
#define X E2_MAY_EXEC

static struct e2_cred cred(uid_t uid, gid_t gid, int ngroups, const gid_t *groups)
{
	struct e2_cred c;

	memset(&c, 0, sizeof(c));
	c.uid = uid;
	c.gid = gid;
	c.privileged = uid == 0;
	c.groups_loaded = true;
	c.ngroups = ngroups;
	for (int i = 0; i < ngroups; i++)
		c.groups[i] = groups[i];
	return c;
}

static void test_mode_bits(void **state)
{
	gid_t sup[] = { 50 };
	struct e2_cred u = cred(1000, 100, 1, sup), root = cred(0, 0, 0, NULL);

	(void)state;
	/* owner bits only, even if group/other would allow more */
	assert_int_equal(e2_perm_check(&u, S_IFREG | 0077, 1000, 100, NULL, R), -EACCES);
	assert_int_equal(e2_perm_check(&u, S_IFREG | 0600, 1000, 1, NULL, R | W), 0);
	/* group, through a supplementary group */
	assert_int_equal(e2_perm_check(&u, S_IFREG | 0640, 1, 50, NULL, R), 0);
	assert_int_equal(e2_perm_check(&u, S_IFREG | 0640, 1, 50, NULL, W), -EACCES);
	/* the group class denies even when other would allow */
	assert_int_equal(e2_perm_check(&u, S_IFREG | 0604, 1, 100, NULL, R), -EACCES);
	assert_int_equal(e2_perm_check(&u, S_IFREG | 0604, 1, 7, NULL, R), 0);
	/* root: read/write always, exec of a file only with some x bit */
	assert_int_equal(e2_perm_check(&root, S_IFREG | 0000, 5, 5, NULL, R | W), 0);
	assert_int_equal(e2_perm_check(&root, S_IFREG | 0600, 5, 5, NULL, X), -EACCES);
	assert_int_equal(e2_perm_check(&root, S_IFREG | 0010, 5, 5, NULL, X), 0);
	assert_int_equal(e2_perm_check(&root, S_IFDIR | 0000, 5, 5, NULL, X | W), 0);
	/* search permission on a directory */
	assert_int_equal(e2_perm_check(&u, S_IFDIR | 0700, 1234, 1234, NULL, X), -EACCES);
	assert_int_equal(e2_perm_check(&u, S_IFDIR | 0711, 1234, 1234, NULL, X), 0);
}

static void test_sticky_chown_chmod_killpriv(void **state)
{
	struct e2_cred u = cred(1000, 100, 0, NULL), root = cred(0, 0, 0, NULL);
	mode_t mode;

	(void)state;
	assert_int_equal(e2_perm_sticky(&u, S_IFDIR | 01777, 0, 1234), -EPERM);
	assert_int_equal(e2_perm_sticky(&u, S_IFDIR | 01777, 0, 1000), 0);
	assert_int_equal(e2_perm_sticky(&u, S_IFDIR | 01777, 1000, 1234), 0);
	assert_int_equal(e2_perm_sticky(&u, S_IFDIR | 0777, 0, 1234), 0);
	assert_int_equal(e2_perm_sticky(&root, S_IFDIR | 01777, 5, 6), 0);

	assert_int_equal(e2_perm_chown(&u, 1000, 100, 0, (gid_t)-1), -EPERM);
	assert_int_equal(e2_perm_chown(&u, 1000, 100, 1000, (gid_t)-1), 0);
	assert_int_equal(e2_perm_chown(&u, 1000, 100, (uid_t)-1, 0), -EPERM);
	assert_int_equal(e2_perm_chown(&u, 1000, 7, (uid_t)-1, 100), 0);
	assert_int_equal(e2_perm_chown(&u, 1234, 100, (uid_t)-1, 100), -EPERM);
	assert_int_equal(e2_perm_chown(&root, 1234, 100, 5, 5), 0);

	assert_int_equal(e2_perm_chmod(&u, 1234, 100, 0644, &mode), -EPERM);
	assert_int_equal(e2_perm_chmod(&u, 1000, 7, 02755, &mode), 0);
	assert_int_equal(mode, 0755);		/* not in the group: SGID dropped */
	assert_int_equal(e2_perm_chmod(&u, 1000, 100, 02755, &mode), 0);
	assert_int_equal(mode, 02755);

	assert_int_equal(e2_perm_killpriv(&u, S_IFREG | 06755), S_ISUID | S_ISGID);
	assert_int_equal(e2_perm_killpriv(&u, S_IFREG | 02745), 0);	/* SGID w/o group x */
	assert_int_equal(e2_perm_killpriv(&root, S_IFREG | 06755), 0);
	assert_int_equal(e2_perm_killpriv(&u, S_IFDIR | 02755), 0);

	/* omnipotent mode: no permission checks, but a write by a caller
	 * other than root clears SUID/SGID as the kernel would */
	struct e2_cred ou = u, oroot = root;
	ou.privileged = ou.omnipotent = oroot.privileged = oroot.omnipotent = true;
	assert_int_equal(e2_perm_killpriv(&ou, S_IFREG | 06755), S_ISUID | S_ISGID);
	assert_int_equal(e2_perm_killpriv(&oroot, S_IFREG | 06755), 0);
}

/* user::rw- user:1000:rwx group::r-- group:50:rw- mask::r-- other::--- */
static const unsigned char acl_x[] = {
	2, 0, 0, 0,
	0x01, 0, 6, 0, 0xff, 0xff, 0xff, 0xff,
	0x02, 0, 7, 0, 0xe8, 0x03, 0, 0,
	0x04, 0, 4, 0, 0xff, 0xff, 0xff, 0xff,
	0x08, 0, 6, 0, 50, 0, 0, 0,
	0x10, 0, 4, 0, 0xff, 0xff, 0xff, 0xff,
	0x20, 0, 0, 0, 0xff, 0xff, 0xff, 0xff,
};

static void test_acl_formats_and_rules(void **state)
{
	static struct e2_acl a, b;
	unsigned char disk[128], x[128];
	gid_t sup[] = { 50 };
	struct e2_cred named = cred(1000, 9, 0, NULL), grp = cred(2000, 9, 1, sup),
		       other = cred(3000, 9, 0, NULL);
	size_t n;
	mode_t mode = S_IFREG | 0777;

	(void)state;
	assert_int_equal(e2_acl_from_xattr(acl_x, sizeof(acl_x), &a), 0);
	assert_int_equal(a.count, 6);
	n = e2_acl_to_disk(&a, disk);
	assert_int_equal(n, 4 + 4 + 8 + 4 + 8 + 4 + 4);	/* short entries without id */
	assert_int_equal(e2_acl_from_disk(disk, n, &b), 0);
	assert_int_equal(e2_acl_to_xattr(&b, x), sizeof(acl_x));
	assert_memory_equal(x, acl_x, sizeof(acl_x));

	/* named user capped by the mask; named group too */
	assert_int_equal(e2_acl_permission(&named, 1, 2, &a, R), 0);
	assert_int_equal(e2_acl_permission(&named, 1, 2, &a, W), -EACCES);
	assert_int_equal(e2_acl_permission(&grp, 1, 2, &a, R), 0);
	assert_int_equal(e2_acl_permission(&grp, 1, 2, &a, W), -EACCES);
	assert_int_equal(e2_acl_permission(&other, 1, 2, &a, R), -EACCES);
	/* through e2_perm_check: the owner ignores the ACL */
	assert_int_equal(e2_perm_check(&named, S_IFREG | 0640, 1000, 2, &a, W), 0);

	assert_false(e2_acl_equiv_mode(&a, &mode));
	assert_int_equal(mode & 0777, 0640);	/* group bits are the mask */
	e2_acl_chmod(&a, 0750);
	assert_int_equal(a.e[4].perm, 5);	/* the mask, not group:: */
	assert_int_equal(a.e[2].perm, 4);
	mode = S_IFREG | 0666;
	e2_acl_create_masq(&a, &mode);
	assert_int_equal(mode & 0777, 0640);

	/* invalid: no mask with named entries, wrong order, bad version */
	static const unsigned char nomask[] = {
		2, 0, 0, 0, 1, 0, 6, 0, 0, 0, 0, 0, 2, 0, 7, 0, 5, 0, 0, 0,
		4, 0, 4, 0, 0, 0, 0, 0, 0x20, 0, 0, 0, 0, 0, 0, 0 };
	static const unsigned char order[] = {
		2, 0, 0, 0, 4, 0, 6, 0, 0, 0, 0, 0, 1, 0, 7, 0, 0, 0, 0, 0,
		0x20, 0, 0, 0, 0, 0, 0, 0 };
	assert_int_equal(e2_acl_from_xattr(nomask, sizeof(nomask), &b), -EINVAL);
	assert_int_equal(e2_acl_from_xattr(order, sizeof(order), &b), -EINVAL);
	assert_int_equal(e2_acl_from_xattr(acl_x, 5, &b), -EINVAL);
	assert_int_equal(e2_acl_from_disk(acl_x, sizeof(acl_x), &b), -EINVAL);
}

static void test_encodings(void **state)
{
	struct ext2_inode_large in;
	struct timespec ts, back;

	(void)state;
	memset(&in, 0, sizeof(in));
	e2_inode_set_rdev(&in, makedev(1, 3));
	assert_int_equal(in.i_block[0], 0x103);
	assert_int_equal(e2_inode_rdev(&in), makedev(1, 3));
	e2_inode_set_rdev(&in, makedev(259, 300000));
	assert_int_equal(in.i_block[0], 0);
	assert_int_equal(e2_inode_rdev(&in), makedev(259, 300000));

	in.i_extra_isize = sizeof(in) - EXT2_GOOD_OLD_INODE_SIZE;
	ts.tv_sec = 1234567890;
	ts.tv_nsec = 123456789;
	e2_inode_set_time(&in, E2_MTIME, &ts);
	e2_inode_get_time(&in, E2_MTIME, &back);
	assert_int_equal(back.tv_sec, ts.tv_sec);
	assert_int_equal(back.tv_nsec, ts.tv_nsec);
	ts.tv_sec = (1LL << 32) + 5;	/* 2106 */
	e2_inode_set_time(&in, E2_ATIME, &ts);
	e2_inode_get_time(&in, E2_ATIME, &back);
	assert_int_equal(back.tv_sec, ts.tv_sec);
	ts.tv_sec = -86400;		/* 1969 */
	e2_inode_set_time(&in, E2_CTIME, &ts);
	e2_inode_get_time(&in, E2_CTIME, &back);
	assert_int_equal(back.tv_sec, -86400);
	/* a 128-byte inode has no room for nanoseconds */
	in.i_extra_isize = 0;
	e2_inode_get_time(&in, E2_MTIME, &back);
	assert_int_equal(back.tv_nsec, 0);

	e2_inode_set_uid(&in, 0x12345678);
	assert_int_equal(e2_inode_uid(&in), 0x12345678);
}

static void test_max_sizes(void **state)
{
	(void)state;
	/* the kernel's s_maxbytes and s_bitmap_maxbytes for 4 KiB blocks */
	assert_int_equal(e2_max_extent_size(12, true), 17592186040320ULL);	/* 16T - 4K */
	assert_int_equal(e2_max_extent_size(12, false), 2199023251456ULL);
	assert_int_equal(e2_max_bitmap_size(12, true), 4402345721856ULL);
	assert_true(e2_max_bitmap_size(12, false) < 2199023255552ULL);
	assert_true(e2_max_bitmap_size(10, true) > 16ULL << 30);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mode_bits),
		cmocka_unit_test(test_sticky_chown_chmod_killpriv),
		cmocka_unit_test(test_acl_formats_and_rules),
		cmocka_unit_test(test_encodings),
		cmocka_unit_test(test_max_sizes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
