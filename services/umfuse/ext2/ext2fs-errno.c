/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libext2fs error codes to errnos. Everything that means "the image is not
 * what it should be" becomes EUCLEAN (the kernel's EFSCORRUPTED), I/O
 * trouble becomes EIO; nothing becomes EFAULT. */
#include "ext2fs.h"

#include <ext2fs/ext2_err.h>

int e2_errno(errcode_t err)
{
	if (err == 0)
		return 0;
	if (err > 0 && err < 4096)	/* a plain errno from the io layer */
		return err == EFAULT ? -EIO : -(int)err;

	switch (err) {
	case EXT2_ET_NO_MEMORY:
	case EXT2_ET_TDB_ERR_OOM:
		return -ENOMEM;
	case EXT2_ET_INVALID_ARGUMENT:
	case EXT2_ET_LLSEEK_FAILED:
		return -EINVAL;
	case EXT2_ET_NO_DIRECTORY:
		return -ENOTDIR;
	case EXT2_ET_FILE_NOT_FOUND:
		return -ENOENT;
	case EXT2_ET_DIR_NO_SPACE:
	case EXT2_ET_TOOSMALL:
	case EXT2_ET_BLOCK_ALLOC_FAIL:
	case EXT2_ET_INODE_ALLOC_FAIL:
	case EXT2_ET_EA_NO_SPACE:
	case EXT2_ET_INLINE_DATA_NO_SPACE:
		return -ENOSPC;
	case EXT2_ET_SYMLINK_LOOP:
		return -ELOOP;
	case EXT2_ET_FILE_TOO_BIG:
		return -EFBIG;
	case EXT2_ET_TDB_ERR_EXISTS:
	case EXT2_ET_FILE_EXISTS:
	case EXT2_ET_DIR_EXISTS:
		return -EEXIST;
	case EXT2_ET_MMP_FAILED:
	case EXT2_ET_MMP_FSCK_ON:
		return -EBUSY;
	case EXT2_ET_EA_KEY_NOT_FOUND:
		return -ENODATA;
	case EXT2_ET_EA_BAD_NAME_LEN:
	case EXT2_ET_EA_BAD_VALUE_SIZE:
		return -ERANGE;
	case EXT2_ET_RO_FILSYS:
		return -EROFS;
	case EXT2_ET_UNIMPLEMENTED:
	case EXT2_ET_OP_NOT_SUPPORTED:
		return -EOPNOTSUPP;
	case EXT2_ET_SHORT_READ:
	case EXT2_ET_SHORT_WRITE:
		return -EIO;
	default:
		/* Checksum failures, bad blocks/inodes, corrupt directories,
		 * extent trees, EA blocks... */
		return -E2_EFSCORRUPTED;
	}
}
