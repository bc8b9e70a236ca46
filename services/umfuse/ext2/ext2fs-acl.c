/* SPDX-License-Identifier: GPL-2.0-or-later */
/* POSIX ACLs: the user-visible xattr format (version 2, fixed-size entries)
 * and ext4's on-disk format (version 1, short entries without id), and the
 * kernel's rules to validate, evaluate, chmod and inherit them
 * (fs/posix_acl.c). Pure functions: no libext2fs, no locking. */
#include "ext2fs.h"

#include <string.h>
#include <endian.h>

#define ACL_USER_OBJ 0x01
#define ACL_USER 0x02
#define ACL_GROUP_OBJ 0x04
#define ACL_GROUP 0x08
#define ACL_MASK 0x10
#define ACL_OTHER 0x20

#define ACL_XATTR_VERSION 2
#define ACL_DISK_VERSION 1

static uint16_t get16(const unsigned char *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t get32(const unsigned char *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}
static void put16(unsigned char *p, uint16_t v) { p[0] = v & 0xff; p[1] = v >> 8; }
static void put32(unsigned char *p, uint32_t v)
{
	p[0] = v & 0xff;
	p[1] = (v >> 8) & 0xff;
	p[2] = (v >> 16) & 0xff;
	p[3] = v >> 24;
}

static bool acl_has_id(uint16_t tag)
{
	return tag == ACL_USER || tag == ACL_GROUP;
}

int e2_acl_from_xattr(const void *buf, size_t size, struct e2_acl *ret_acl)
{
	const unsigned char *p = buf;
	size_t n;

	if (size < 4 || (size - 4) % 8 || get32(p) != ACL_XATTR_VERSION)
		return -EINVAL;
	n = (size - 4) / 8;
	if (n > E2_ACL_MAX_ENTRIES)
		return -E2BIG;
	ret_acl->count = (int)n;
	for (size_t i = 0; i < n; i++) {
		const unsigned char *e = p + 4 + 8 * i;

		ret_acl->e[i].tag = get16(e);
		ret_acl->e[i].perm = get16(e + 2);
		ret_acl->e[i].id = acl_has_id(ret_acl->e[i].tag) ? get32(e + 4) : (uint32_t)-1;
	}
	return e2_acl_valid(ret_acl);
}

int e2_acl_from_disk(const void *buf, size_t size, struct e2_acl *ret_acl)
{
	const unsigned char *p = buf;
	size_t off = 4;
	int n = 0;

	if (size < 4 || get32(p) != ACL_DISK_VERSION)
		return -EINVAL;
	while (off < size) {
		uint16_t tag;

		if (size - off < 4 || n >= E2_ACL_MAX_ENTRIES)
			return -EINVAL;
		tag = get16(p + off);
		ret_acl->e[n].tag = tag;
		ret_acl->e[n].perm = get16(p + off + 2);
		if (acl_has_id(tag)) {
			if (size - off < 8)
				return -EINVAL;
			ret_acl->e[n].id = get32(p + off + 4);
			off += 8;
		} else {
			ret_acl->e[n].id = (uint32_t)-1;
			off += 4;
		}
		n++;
	}
	ret_acl->count = n;
	return e2_acl_valid(ret_acl);
}

size_t e2_acl_to_xattr(const struct e2_acl *acl, void *buf)
{
	unsigned char *p = buf;
	size_t size = 4 + 8 * (size_t)acl->count;

	if (!p)
		return size;
	put32(p, ACL_XATTR_VERSION);
	for (int i = 0; i < acl->count; i++) {
		unsigned char *e = p + 4 + 8 * i;

		put16(e, acl->e[i].tag);
		put16(e + 2, acl->e[i].perm);
		put32(e + 4, acl_has_id(acl->e[i].tag) ? acl->e[i].id : (uint32_t)-1);
	}
	return size;
}

size_t e2_acl_to_disk(const struct e2_acl *acl, void *buf)
{
	unsigned char *p = buf;
	size_t off = 4;

	if (p)
		put32(p, ACL_DISK_VERSION);
	for (int i = 0; i < acl->count; i++) {
		if (p) {
			put16(p + off, acl->e[i].tag);
			put16(p + off + 2, acl->e[i].perm);
		}
		if (acl_has_id(acl->e[i].tag)) {
			if (p)
				put32(p + off + 4, acl->e[i].id);
			off += 8;
		} else {
			off += 4;
		}
	}
	return off;
}

/* posix_acl_valid(): entries in canonical order, one of each *_OBJ and
 * OTHER, a MASK whenever named entries exist. */
int e2_acl_valid(const struct e2_acl *acl)
{
	int state = ACL_USER_OBJ, needs_mask = 0;

	for (int i = 0; i < acl->count; i++) {
		const struct e2_acl_entry *pa = &acl->e[i];

		if (pa->perm & ~7)
			return -EINVAL;
		switch (pa->tag) {
		case ACL_USER_OBJ:
			if (state != ACL_USER_OBJ)
				return -EINVAL;
			state = ACL_USER;
			break;
		case ACL_USER:
			if (state != ACL_USER || pa->id == (uint32_t)-1)
				return -EINVAL;
			needs_mask = 1;
			break;
		case ACL_GROUP_OBJ:
			if (state != ACL_USER)
				return -EINVAL;
			state = ACL_GROUP;
			break;
		case ACL_GROUP:
			if (state != ACL_GROUP || pa->id == (uint32_t)-1)
				return -EINVAL;
			needs_mask = 1;
			break;
		case ACL_MASK:
			if (state != ACL_GROUP)
				return -EINVAL;
			state = ACL_OTHER;
			break;
		case ACL_OTHER:
			if (state == ACL_OTHER || (state == ACL_GROUP && !needs_mask)) {
				state = 0;
				break;
			}
			return -EINVAL;
		default:
			return -EINVAL;
		}
	}
	return state == 0 ? 0 : -EINVAL;
}

int e2_acl_permission(struct e2_cred *cred, uid_t owner, gid_t group,
		      const struct e2_acl *acl, int want)
{
	const struct e2_acl_entry *pa = NULL;
	bool found = false;
	int i;

	want &= E2_MAY_READ | E2_MAY_WRITE | E2_MAY_EXEC;
	for (i = 0; i < acl->count; i++) {
		pa = &acl->e[i];
		switch (pa->tag) {
		case ACL_USER_OBJ:
			if (owner == cred->uid)
				goto check_perm;
			break;
		case ACL_USER:
			if (pa->id == cred->uid)
				goto mask;
			break;
		case ACL_GROUP_OBJ:
			if (e2_cred_in_group(cred, group)) {
				found = true;
				if ((pa->perm & want) == want)
					goto mask;
			}
			break;
		case ACL_GROUP:
			if (e2_cred_in_group(cred, pa->id)) {
				found = true;
				if ((pa->perm & want) == want)
					goto mask;
			}
			break;
		case ACL_MASK:
			break;
		case ACL_OTHER:
			if (found)
				return -EACCES;
			goto check_perm;
		default:
			return -EIO;
		}
	}
	return -EIO;

mask:
	for (int j = i + 1; j < acl->count; j++) {
		if (acl->e[j].tag == ACL_MASK) {
			if ((pa->perm & acl->e[j].perm & want) == want)
				return 0;
			return -EACCES;
		}
	}
check_perm:
	if ((pa->perm & want) == want)
		return 0;
	return -EACCES;
}

bool e2_acl_equiv_mode(const struct e2_acl *acl, mode_t *mode)
{
	mode_t m = 0;
	bool equiv = true;

	for (int i = 0; i < acl->count; i++) {
		const struct e2_acl_entry *pa = &acl->e[i];

		switch (pa->tag) {
		case ACL_USER_OBJ:
			m |= (pa->perm & 7) << 6;
			break;
		case ACL_GROUP_OBJ:
			m |= (pa->perm & 7) << 3;
			break;
		case ACL_OTHER:
			m |= pa->perm & 7;
			break;
		case ACL_MASK:
			m = (m & ~(mode_t)S_IRWXG) | ((pa->perm & 7) << 3);
			equiv = false;
			break;
		default:
			equiv = false;
			break;
		}
	}
	*mode = (*mode & ~(mode_t)(S_IRWXU | S_IRWXG | S_IRWXO)) | m;
	return equiv;
}

void e2_acl_chmod(struct e2_acl *acl, mode_t mode)
{
	struct e2_acl_entry *group_obj = NULL, *mask_obj = NULL;

	for (int i = 0; i < acl->count; i++) {
		struct e2_acl_entry *pa = &acl->e[i];

		switch (pa->tag) {
		case ACL_USER_OBJ:
			pa->perm = (mode >> 6) & 7;
			break;
		case ACL_GROUP_OBJ:
			group_obj = pa;
			break;
		case ACL_MASK:
			mask_obj = pa;
			break;
		case ACL_OTHER:
			pa->perm = mode & 7;
			break;
		}
	}
	if (mask_obj)
		mask_obj->perm = (mode >> 3) & 7;
	else if (group_obj)
		group_obj->perm = (mode >> 3) & 7;
}

void e2_acl_create_masq(struct e2_acl *acl, mode_t *mode_p)
{
	struct e2_acl_entry *group_obj = NULL, *mask_obj = NULL;
	mode_t mode = *mode_p;

	for (int i = 0; i < acl->count; i++) {
		struct e2_acl_entry *pa = &acl->e[i];

		switch (pa->tag) {
		case ACL_USER_OBJ:
			pa->perm &= (mode >> 6) | ~S_IRWXO;
			mode &= (mode_t)(pa->perm << 6) | ~(mode_t)S_IRWXU;
			break;
		case ACL_GROUP_OBJ:
			group_obj = pa;
			break;
		case ACL_OTHER:
			pa->perm &= mode | ~S_IRWXO;
			mode &= (mode_t)pa->perm | ~(mode_t)S_IRWXO;
			break;
		case ACL_MASK:
			mask_obj = pa;
			break;
		}
	}
	if (mask_obj) {
		mask_obj->perm &= (mode >> 3) | ~S_IRWXO;
		mode &= (mode_t)(mask_obj->perm << 3) | ~(mode_t)S_IRWXG;
	} else if (group_obj) {
		group_obj->perm &= (mode >> 3) | ~S_IRWXO;
		mode &= (mode_t)(group_obj->perm << 3) | ~(mode_t)S_IRWXG;
	}
	*mode_p = (*mode_p & ~(mode_t)(S_IRWXU | S_IRWXG | S_IRWXO)) | mode;
}
