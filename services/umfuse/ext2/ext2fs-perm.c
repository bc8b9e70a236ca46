/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Human-mode permission rules, as the kernel applies them to ext4
 * (fs/namei.c generic_permission, fs/attr.c chown_ok/chgrp_ok, sticky
 * directories, killing SUID/SGID). A privileged credential stands for uid 0
 * with all capabilities. In omnipotent mode callers skip these checks. */
#include "ext2fs.h"

#include <string.h>

bool e2_cred_in_group(struct e2_cred *cred, gid_t gid)
{
	if (gid == cred->gid)
		return true;
	if (!cred->groups_loaded) {
		cred->groups_loaded = true;
		cred->ngroups = 0;
		if (cred->req) {
			int n = fuse_req_getgroups(cred->req, (int)(sizeof(cred->groups) /
								  sizeof(cred->groups[0])),
						   cred->groups);
			if (n > 0)
				cred->ngroups = n < 64 ? n : 64;
		}
	}
	for (int i = 0; i < cred->ngroups; i++)
		if (cred->groups[i] == gid)
			return true;
	return false;
}

int e2_perm_check(struct e2_cred *cred, mode_t mode, uid_t owner, gid_t group,
		  const struct e2_acl *acl, int mask)
{
	int r;

	mask &= E2_MAY_READ | E2_MAY_WRITE | E2_MAY_EXEC;
	if (cred->uid == owner) {
		r = (mask & ~(mode >> 6)) ? -EACCES : 0;
	} else {
		r = -EAGAIN;
		if (acl && (mode & S_IRWXG))
			r = e2_acl_permission(cred, owner, group, acl, mask);
		if (r == -EAGAIN) {
			mode_t m = mode;

			if ((mask & (m ^ (m >> 3))) && e2_cred_in_group(cred, group))
				m >>= 3;
			r = (mask & ~m) ? -EACCES : 0;
		}
	}
	if (r != -EACCES || !cred->privileged)
		return r;

	/* CAP_DAC_OVERRIDE / CAP_DAC_READ_SEARCH */
	if (S_ISDIR(mode))
		return 0;
	if (!(mask & E2_MAY_EXEC) || (mode & (S_IXUSR | S_IXGRP | S_IXOTH)))
		return 0;
	return -EACCES;
}

bool e2_perm_owner_or_cap(const struct e2_cred *cred, uid_t owner)
{
	return cred->uid == owner || cred->privileged;
}

int e2_perm_sticky(const struct e2_cred *cred, mode_t dir_mode, uid_t dir_owner, uid_t owner)
{
	if (!(dir_mode & S_ISVTX))
		return 0;
	if (cred->uid == owner || cred->uid == dir_owner || cred->privileged)
		return 0;
	return -EPERM;
}

int e2_perm_chown(struct e2_cred *cred, uid_t owner, gid_t group, uid_t new_uid, gid_t new_gid)
{
	if (cred->privileged)
		return 0;
	if (new_uid != (uid_t)-1 && !(cred->uid == owner && new_uid == owner))
		return -EPERM;
	if (new_gid != (gid_t)-1) {
		if (cred->uid != owner)
			return -EPERM;
		if (new_gid != group && !e2_cred_in_group(cred, new_gid))
			return -EPERM;
	}
	return 0;
}

int e2_perm_chmod(struct e2_cred *cred, uid_t owner, gid_t group, mode_t mode, mode_t *ret_mode)
{
	if (!e2_perm_owner_or_cap(cred, owner))
		return -EPERM;
	if ((mode & S_ISGID) && !cred->privileged && !e2_cred_in_group(cred, group))
		mode &= ~(mode_t)S_ISGID;
	*ret_mode = mode;
	return 0;
}

mode_t e2_perm_killpriv(const struct e2_cred *cred, mode_t mode)
{
	mode_t kill = 0;

	bool keeps = cred->omnipotent ? cred->uid == 0 : cred->privileged;
	if (keeps || !S_ISREG(mode))
		return 0;
	if (mode & S_ISUID)
		kill |= S_ISUID;
	if ((mode & (S_ISGID | S_IXGRP)) == (S_ISGID | S_IXGRP))
		kill |= S_ISGID;
	return kill;
}

int e2_access(struct e2_mount *m, struct e2_cred *cred, ext2_ino_t ino,
	      const struct ext2_inode_large *inode, int mask)
{
	mode_t mode = inode->i_mode;
	uid_t owner = e2_inode_uid(inode);
	_cleanup_free_ struct e2_acl *acl = NULL;

	if ((mask & E2_MAY_WRITE) && (inode->i_flags & EXT2_IMMUTABLE_FL))
		return -EPERM;
	if (!m->human || !mask)
		return 0;
	if (cred->uid != owner && (mode & S_IRWXG) && e2_inode_may_have_xattrs(m, ino, inode)) {
		acl = malloc(sizeof(*acl));
		if (!acl)
			return -ENOMEM;
		if (e2_xattr_get_acl(m, ino, E2_ACL_ACCESS, acl) < 0) {
			free(acl);
			acl = NULL;
		}
	}
	return e2_perm_check(cred, mode, owner, e2_inode_gid(inode), acl, mask);
}
