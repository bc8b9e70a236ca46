/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Inode helpers: reading and writing large inodes, nanosecond timestamps,
 * owners and device numbers in ext4's encodings, struct stat, creating and
 * freeing inodes, and ext4's file size limits. Callers hold m->lock. */
#include "ext2fs.h"

#include <string.h>
#include <sys/sysmacros.h>

#define E2_EPOCH_BITS 2
#define E2_EPOCH_MASK ((1u << E2_EPOCH_BITS) - 1)

int e2_read_inode(struct e2_mount *m, ext2_ino_t ino, struct ext2_inode_large *ret_inode)
{
	struct ext2_inode_large inode;
	errcode_t err;

	if (!e2_valid_ino(m, ino))
		return -E2_EFSCORRUPTED;
	memset(&inode, 0, sizeof(inode));
	err = ext2fs_read_inode_full(m->fs, ino, (struct ext2_inode *)&inode, sizeof(inode));
	if (err)
		return e2_errno(err);
	if (EXT2_INODE_SIZE(m->fs->super) <= EXT2_GOOD_OLD_INODE_SIZE)
		inode.i_extra_isize = 0;
	else if (inode.i_extra_isize > EXT2_INODE_SIZE(m->fs->super) - EXT2_GOOD_OLD_INODE_SIZE ||
		 (inode.i_extra_isize & 3))
		return -E2_EFSCORRUPTED;
	*ret_inode = inode;
	return 0;
}

int e2_write_inode(struct e2_mount *m, ext2_ino_t ino, struct ext2_inode_large *inode)
{
	if (!m->rw)
		return -EROFS;
	return e2_errno(ext2fs_write_inode_full(m->fs, ino, (struct ext2_inode *)inode,
						sizeof(*inode)));
}

/* Does `field` (offset, size) fit in this inode's extra space? */
static bool e2_fits(const struct ext2_inode_large *inode, size_t off, size_t size)
{
	return off + size <= (size_t)EXT2_GOOD_OLD_INODE_SIZE + inode->i_extra_isize;
}

#define E2_FITS(inode, field) \
	e2_fits(inode, offsetof(struct ext2_inode_large, field), sizeof((inode)->field))

static void e2_decode_time(int32_t raw, uint32_t extra, bool has_extra, struct timespec *ts)
{
	ts->tv_sec = raw;
	ts->tv_nsec = 0;
	if (!has_extra)
		return;
	if (extra & E2_EPOCH_MASK)
		ts->tv_sec += (int64_t)(extra & E2_EPOCH_MASK) << 32;
	ts->tv_nsec = (extra & ~E2_EPOCH_MASK) >> E2_EPOCH_BITS;
	if (ts->tv_nsec >= 1000000000)
		ts->tv_nsec = 999999999;	/* corrupt: keep it a valid timespec */
}

static uint32_t e2_encode_extra(const struct timespec *ts)
{
	uint32_t extra = (uint32_t)(((ts->tv_sec - (int32_t)ts->tv_sec) >> 32) & E2_EPOCH_MASK);

	return extra | (uint32_t)(ts->tv_nsec << E2_EPOCH_BITS);
}

void e2_inode_get_time(const struct ext2_inode_large *inode, enum e2_time which,
		       struct timespec *ret_ts)
{
	switch (which) {
	case E2_ATIME:
		e2_decode_time((int32_t)inode->i_atime, inode->i_atime_extra,
			       E2_FITS(inode, i_atime_extra), ret_ts);
		break;
	case E2_MTIME:
		e2_decode_time((int32_t)inode->i_mtime, inode->i_mtime_extra,
			       E2_FITS(inode, i_mtime_extra), ret_ts);
		break;
	case E2_CTIME:
		e2_decode_time((int32_t)inode->i_ctime, inode->i_ctime_extra,
			       E2_FITS(inode, i_ctime_extra), ret_ts);
		break;
	case E2_CRTIME:
		if (!E2_FITS(inode, i_crtime)) {
			ret_ts->tv_sec = 0;
			ret_ts->tv_nsec = 0;
			break;
		}
		e2_decode_time((int32_t)inode->i_crtime, inode->i_crtime_extra,
			       E2_FITS(inode, i_crtime_extra), ret_ts);
		break;
	}
}

void e2_inode_set_time(struct ext2_inode_large *inode, enum e2_time which,
		       const struct timespec *ts)
{
	uint32_t sec = (uint32_t)ts->tv_sec, extra = e2_encode_extra(ts);

	switch (which) {
	case E2_ATIME:
		inode->i_atime = sec;
		if (E2_FITS(inode, i_atime_extra))
			inode->i_atime_extra = extra;
		break;
	case E2_MTIME:
		inode->i_mtime = sec;
		if (E2_FITS(inode, i_mtime_extra))
			inode->i_mtime_extra = extra;
		break;
	case E2_CTIME:
		inode->i_ctime = sec;
		if (E2_FITS(inode, i_ctime_extra))
			inode->i_ctime_extra = extra;
		break;
	case E2_CRTIME:
		if (E2_FITS(inode, i_crtime))
			inode->i_crtime = sec;
		if (E2_FITS(inode, i_crtime_extra))
			inode->i_crtime_extra = extra;
		break;
	}
}

/* ctime (and mtime) to now, i_version + 1. */
void e2_inode_touch(struct ext2_inode_large *inode, bool mtime)
{
	struct timespec now;
	uint64_t ver;

	clock_gettime(CLOCK_REALTIME, &now);
	e2_inode_set_time(inode, E2_CTIME, &now);
	if (mtime)
		e2_inode_set_time(inode, E2_MTIME, &now);
	ver = inode->osd1.linux1.l_i_version;
	if (E2_FITS(inode, i_version_hi))
		ver |= (uint64_t)inode->i_version_hi << 32;
	ver++;
	inode->osd1.linux1.l_i_version = (uint32_t)ver;
	if (E2_FITS(inode, i_version_hi))
		inode->i_version_hi = (uint32_t)(ver >> 32);
}

uid_t e2_inode_uid(const struct ext2_inode_large *inode)
{
	return inode->i_uid | (uid_t)inode->osd2.linux2.l_i_uid_high << 16;
}

gid_t e2_inode_gid(const struct ext2_inode_large *inode)
{
	return inode->i_gid | (gid_t)inode->osd2.linux2.l_i_gid_high << 16;
}

void e2_inode_set_uid(struct ext2_inode_large *inode, uid_t uid)
{
	inode->i_uid = (uint16_t)uid;
	inode->osd2.linux2.l_i_uid_high = (uint16_t)(uid >> 16);
}

void e2_inode_set_gid(struct ext2_inode_large *inode, gid_t gid)
{
	inode->i_gid = (uint16_t)gid;
	inode->osd2.linux2.l_i_gid_high = (uint16_t)(gid >> 16);
}

/* ext4 stores small device numbers in the old 8:8 format in i_block[0] and
 * others in the "new" format in i_block[1]. */
dev_t e2_inode_rdev(const struct ext2_inode_large *inode)
{
	uint32_t old = inode->i_block[0], new = inode->i_block[1];

	if (old)
		return makedev((old >> 8) & 0xff, old & 0xff);
	return makedev((new & 0xfff00) >> 8, (new & 0xff) | ((new >> 12) & 0xfff00));
}

void e2_inode_set_rdev(struct ext2_inode_large *inode, dev_t rdev)
{
	unsigned maj = major(rdev), min = minor(rdev);

	if (maj < 256 && min < 256) {
		inode->i_block[0] = maj << 8 | min;
		inode->i_block[1] = 0;
	} else {
		inode->i_block[0] = 0;
		inode->i_block[1] = (min & 0xff) | (maj << 8) | ((min & ~0xffu) << 12);
		inode->i_block[2] = 0;
	}
}

void e2_inode_stat(struct e2_mount *m, ext2_ino_t ino, const struct ext2_inode_large *inode,
		   struct stat *ret_st)
{
	struct stat st;

	memset(&st, 0, sizeof(st));
	st.st_ino = ino;
	st.st_mode = inode->i_mode;
	st.st_nlink = inode->i_links_count;
	/* dir_nlink: a directory with more than 65000 subdirectories has 1 */
	st.st_uid = e2_inode_uid(inode);
	st.st_gid = e2_inode_gid(inode);
	st.st_size = (off_t)EXT2_I_SIZE(inode);
	st.st_blksize = m->fs->blocksize;
	st.st_blocks = (blkcnt_t)ext2fs_get_stat_i_blocks(m->fs, (struct ext2_inode *)inode);
	e2_inode_get_time(inode, E2_ATIME, &st.st_atim);
	e2_inode_get_time(inode, E2_MTIME, &st.st_mtim);
	e2_inode_get_time(inode, E2_CTIME, &st.st_ctim);
	if (LINUX_S_ISCHR(inode->i_mode) || LINUX_S_ISBLK(inode->i_mode))
		st.st_rdev = e2_inode_rdev(inode);
	*ret_st = st;
}

int e2_ftype(mode_t mode)
{
	switch (mode & S_IFMT) {
	case S_IFREG: return EXT2_FT_REG_FILE;
	case S_IFDIR: return EXT2_FT_DIR;
	case S_IFCHR: return EXT2_FT_CHRDEV;
	case S_IFBLK: return EXT2_FT_BLKDEV;
	case S_IFLNK: return EXT2_FT_SYMLINK;
	case S_IFIFO: return EXT2_FT_FIFO;
	case S_IFSOCK: return EXT2_FT_SOCK;
	default: return EXT2_FT_UNKNOWN;
	}
}

/* ext4_valid_inum(): the root or an ordinary inode. */
bool e2_valid_ino(const struct e2_mount *m, ext2_ino_t ino)
{
	return ino == EXT2_ROOT_INO ||
	       (ino >= EXT2_FIRST_INO(m->fs->super) && ino <= m->fs->super->s_inodes_count);
}

/* ext4_max_size() */
uint64_t e2_max_extent_size(unsigned bits, bool huge_file)
{
	uint64_t upper = INT64_MAX, res;

	if (!huge_file) {
		upper = (1ULL << 32) - 1;	/* i_blocks in 512-byte units */
		upper >>= bits - 9;
		upper <<= bits;
	}
	res = ((1ULL << 32) - 1) << bits;	/* 32-bit logical block numbers */
	return res < upper ? res : upper;
}

/* ext4_max_bitmap_size(): files mapped by direct/indirect blocks. */
uint64_t e2_max_bitmap_size(unsigned bits, bool huge_file)
{
	uint64_t upper, res = EXT2_NDIR_BLOCKS, meta, ppb = 1ULL << (bits - 2);

	upper = huge_file ? (1ULL << 48) - 1 : ((1ULL << 32) - 1) >> (bits - 9);
	res += ppb + ppb * ppb + ppb * ppb * ppb;
	meta = 1 + (1 + ppb) + (1 + ppb + ppb * ppb);
	if (res + meta > upper) {
		res = upper;
		upper -= EXT2_NDIR_BLOCKS;
		meta = 1;
		upper -= ppb;
		if (upper < ppb * ppb) {
			meta += 1 + (upper + ppb - 1) / ppb;
		} else {
			meta += 1 + ppb;
			upper -= ppb * ppb;
			meta += 1 + (upper + ppb - 1) / ppb + (upper + ppb * ppb - 1) / (ppb * ppb);
		}
		res -= meta;
	}
	res <<= bits;
	if (res > (uint64_t)INT64_MAX)
		res = INT64_MAX;
	return res;
}

uint64_t e2_max_size(const struct e2_mount *m, const struct ext2_inode_large *inode)
{
	if (inode->i_flags & EXT4_EXTENTS_FL)
		return m->max_extent_size;
	if (ext2fs_has_feature_extents(m->fs->super) && !(inode->i_flags & EXT4_INLINE_DATA_FL) &&
	    EXT2_I_SIZE(inode) == 0 && inode->i_blocks == 0)
		return m->max_extent_size;	/* new files get extents */
	return m->max_bitmap_size;
}

bool e2_can_allocate(struct e2_mount *m, const struct e2_cred *cred, uint64_t blocks)
{
	ext2_filsys fs = m->fs;
	uint64_t free = ext2fs_free_blocks_count(fs->super);
	/* Leave room for the extent/indirect blocks and directory blocks
	 * the operation may need on top of its data. */
	uint64_t need = blocks + blocks / 256 + 16;

	if (!cred || !cred->privileged)
		need += ext2fs_r_blocks_count(fs->super);
	return free >= need;
}

int e2_inode_new(struct e2_mount *m, ext2_ino_t parent, mode_t mode, uid_t uid, gid_t gid,
		 dev_t rdev, ext2_ino_t *ret_ino)
{
	ext2_filsys fs = m->fs;
	struct ext2_inode_large inode;
	struct timespec now;
	ext2_ino_t ino;
	errcode_t err;

	err = ext2fs_new_inode(fs, parent, mode, NULL, &ino);
	if (err)
		return e2_errno(err);

	memset(&inode, 0, sizeof(inode));
	inode.i_mode = (uint16_t)mode;
	inode.i_links_count = 1;
	e2_inode_set_uid(&inode, uid);
	e2_inode_set_gid(&inode, gid);
	if (S_ISCHR(mode) || S_ISBLK(mode))
		e2_inode_set_rdev(&inode, rdev);
	clock_gettime(CLOCK_REALTIME, &now);
	inode.i_atime = inode.i_mtime = inode.i_ctime = (uint32_t)now.tv_sec;
	inode.i_generation = m->next_generation++;

	err = ext2fs_write_new_inode(fs, ino, (struct ext2_inode *)&inode);
	if (err)
		return e2_errno(err);
	/* write_new_inode zeroed the extra space and set i_extra_isize; now
	 * the nanoseconds and crtime fit. */
	if (EXT2_INODE_SIZE(fs->super) > EXT2_GOOD_OLD_INODE_SIZE)
		inode.i_extra_isize = sizeof(struct ext2_inode_large) - EXT2_GOOD_OLD_INODE_SIZE;
	e2_inode_set_time(&inode, E2_ATIME, &now);
	e2_inode_set_time(&inode, E2_MTIME, &now);
	e2_inode_set_time(&inode, E2_CTIME, &now);
	e2_inode_set_time(&inode, E2_CRTIME, &now);

	if (S_ISREG(mode) && ext2fs_has_feature_extents(fs->super)) {
		ext2_extent_handle_t handle;

		err = ext2fs_extent_open2(fs, ino, (struct ext2_inode *)&inode, &handle);
		if (err)
			return e2_errno(err);
		ext2fs_extent_free(handle);
	}
	err = ext2fs_write_inode_full(fs, ino, (struct ext2_inode *)&inode, sizeof(inode));
	if (err)
		return e2_errno(err);
	ext2fs_inode_alloc_stats2(fs, ino, +1, S_ISDIR(mode));
	*ret_ino = ino;
	return 0;
}

int e2_inode_free(struct e2_mount *m, ext2_ino_t ino)
{
	ext2_filsys fs = m->fs;
	struct ext2_inode_large inode;
	errcode_t err;
	int r;

	r = e2_read_inode(m, ino, &inode);
	if (r < 0)
		return r;
	if (inode.i_links_count)
		return 0;
	err = ext2fs_free_ext_attr(fs, ino, &inode);
	if (err)
		return e2_errno(err);
	if (ext2fs_inode_has_valid_blocks2(fs, (struct ext2_inode *)&inode)) {
		err = ext2fs_punch(fs, ino, (struct ext2_inode *)&inode, NULL, 0, ~0ULL);
		if (err)
			return e2_errno(err);
	}
	inode.i_dtime = fs->now ? fs->now : (uint32_t)time(NULL);
	r = e2_write_inode(m, ino, &inode);
	if (r < 0)
		return r;
	ext2fs_inode_alloc_stats2(fs, ino, -1, LINUX_S_ISDIR(inode.i_mode));
	return 0;
}

int e2_inode_unref(struct e2_mount *m, ext2_ino_t ino, bool is_dir)
{
	struct ext2_inode_large inode;
	int r;

	r = e2_read_inode(m, ino, &inode);
	if (r < 0)
		return r;
	if (is_dir || inode.i_links_count <= 1)
		inode.i_links_count = 0;	/* a directory loses "." too */
	else
		inode.i_links_count--;
	e2_inode_touch(&inode, false);
	r = e2_write_inode(m, ino, &inode);
	if (r < 0 || inode.i_links_count)
		return r;
	if (e2_openfile_is_open(m->open, ino)) {
		e2_openfile_orphan(m->open, ino);
		return 0;
	}
	return e2_inode_free(m, ino);
}

int e2_inode_truncate(struct e2_mount *m, ext2_ino_t ino, uint64_t size)
{
	ext2_file_t file;
	errcode_t err, err2;

	err = ext2fs_file_open(m->fs, ino, EXT2_FILE_WRITE, &file);
	if (err)
		return e2_errno(err);
	err = ext2fs_file_set_size2(file, size);
	err2 = ext2fs_file_close(file);
	return e2_errno(err ? err : err2);
}
