/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Read-only mounts of an image whose journal needs recovery: like the
 * kernel, replay the journal, but into memory only. The three jbd2 passes
 * (scan for the last committed transaction, collect revoke records, copy
 * the logged blocks) build a map "filesystem block -> contents"; the image
 * is then reopened through an io_manager that reads through that map. The
 * image file itself is never written.
 *
 * Only internal journals are supported; checksums of journal blocks are not
 * verified (a transaction counts when its commit block is present). Every
 * walk is bounded by the journal's length, so a corrupt journal ends the
 * replay or refuses the mount, it cannot loop. */
#include "ext2fs.h"

#include <string.h>
#include <ext2fs/ext2_err.h>

#define JBD2_MAGIC 0xC03B3998u
#define JBD2_DESCRIPTOR 1
#define JBD2_COMMIT 2
#define JBD2_SB_V1 3
#define JBD2_SB_V2 4
#define JBD2_REVOKE 5

#define JBD2_IN_REVOKE 0x1
#define JBD2_IN_64BIT 0x2
#define JBD2_IN_CSUM_V2 0x8
#define JBD2_IN_CSUM_V3 0x10

#define JBD2_FLAG_ESCAPE 1
#define JBD2_FLAG_SAME_UUID 2
#define JBD2_FLAG_LAST_TAG 8

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint16_t be16(const unsigned char *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* ---- the overlay map: sorted block numbers, one block of data each ---- */

struct e2_overlay {
	size_t n, cap;
	uint64_t *blk;
	unsigned char *data;	/* n * bsize */
	unsigned bsize;
};

static void e2_overlay_free(struct e2_overlay *o)
{
	if (!o)
		return;
	free(o->blk);
	free(o->data);
	free(o);
}

static ssize_t e2_overlay_find(const struct e2_overlay *o, uint64_t blk)
{
	size_t lo = 0, hi = o->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (o->blk[mid] < blk)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < o->n && o->blk[lo] == blk ? (ssize_t)lo : -(ssize_t)lo - 1;
}

static int e2_overlay_put(struct e2_overlay *o, uint64_t blk, const void *data)
{
	ssize_t at = e2_overlay_find(o, blk);
	size_t i;

	if (at >= 0) {
		memcpy(o->data + (size_t)at * o->bsize, data, o->bsize);
		return 0;
	}
	i = (size_t)(-at - 1);
	if (o->n == o->cap) {
		size_t cap = o->cap ? o->cap * 2 : 256;
		uint64_t *b = realloc(o->blk, cap * sizeof(*b));
		unsigned char *d;

		if (!b)
			return -ENOMEM;
		o->blk = b;
		d = realloc(o->data, cap * o->bsize);
		if (!d)
			return -ENOMEM;
		o->data = d;
		o->cap = cap;
	}
	memmove(o->blk + i + 1, o->blk + i, (o->n - i) * sizeof(*o->blk));
	memmove(o->data + (i + 1) * o->bsize, o->data + i * o->bsize, (o->n - i) * o->bsize);
	o->blk[i] = blk;
	memcpy(o->data + i * o->bsize, data, o->bsize);
	o->n++;
	return 0;
}

/* ---- the overlay io_manager ---- */

struct e2_ovl_channel {
	io_channel inner;
	struct e2_overlay *ovl;
};

/* The io_manager interface has no way to pass context to open(): the
 * overlay to use is handed over in this variable for the duration of one
 * ext2fs_open2() at startup (single-threaded). */
static struct e2_overlay *e2_ovl_pending;
static struct struct_io_manager e2_ovl_manager;

static errcode_t e2_ovl_open(const char *name, int flags, io_channel *channel)
{
	struct e2_ovl_channel *priv = NULL;
	io_channel io = NULL;
	errcode_t err;

	if (!e2_ovl_pending)
		return EXT2_ET_INVALID_ARGUMENT;
	if (flags & IO_FLAG_RW)
		return EROFS;
	err = ext2fs_get_memzero(sizeof(*io), &io);
	if (!err)
		err = ext2fs_get_memzero(sizeof(*priv), &priv);
	if (!err)
		err = unix_io_manager->open(name, flags, &priv->inner);
	if (err) {
		ext2fs_free_mem(&priv);
		ext2fs_free_mem(&io);
		return err;
	}
	priv->ovl = TAKE_PTR(e2_ovl_pending);	/* the channel owns it now */
	io->magic = EXT2_ET_MAGIC_IO_CHANNEL;
	io->manager = &e2_ovl_manager;
	io->name = strdup(name);
	io->block_size = 1024;
	io->refcount = 1;
	io->private_data = priv;
	*channel = io;
	return 0;
}

static errcode_t e2_ovl_close(io_channel channel)
{
	struct e2_ovl_channel *priv = channel->private_data;

	if (--channel->refcount > 0)
		return 0;
	io_channel_close(priv->inner);
	e2_overlay_free(priv->ovl);
	free(channel->name);
	ext2fs_free_mem(&priv);
	ext2fs_free_mem(&channel);
	return 0;
}

static errcode_t e2_ovl_set_blksize(io_channel channel, int blksize)
{
	struct e2_ovl_channel *priv = channel->private_data;

	channel->block_size = blksize;
	return io_channel_set_blksize(priv->inner, blksize);
}

static errcode_t e2_ovl_read_blk64(io_channel channel, unsigned long long block, int count,
				   void *data)
{
	struct e2_ovl_channel *priv = channel->private_data;
	struct e2_overlay *o = priv->ovl;
	uint64_t start, len, end;
	ssize_t at;
	errcode_t err;

	err = io_channel_read_blk64(priv->inner, block, count, data);
	if (err)
		return err;
	start = block * (uint64_t)channel->block_size;
	len = count < 0 ? (uint64_t)-count : (uint64_t)count * channel->block_size;
	end = start + len;
	at = e2_overlay_find(o, start / o->bsize);
	for (size_t i = at >= 0 ? (size_t)at : (size_t)(-at - 1); i < o->n; i++) {
		uint64_t bs = o->blk[i] * o->bsize, be = bs + o->bsize;
		uint64_t from = bs > start ? bs : start, to = be < end ? be : end;

		if (bs >= end)
			break;
		if (from < to)
			memcpy((unsigned char *)data + (from - start),
			       o->data + i * o->bsize + (from - bs), to - from);
	}
	return 0;
}

static errcode_t e2_ovl_read_blk(io_channel channel, unsigned long block, int count, void *data)
{
	return e2_ovl_read_blk64(channel, block, count, data);
}

static errcode_t e2_ovl_write_blk(io_channel channel, unsigned long block, int count,
				  const void *data)
{
	(void)channel, (void)block, (void)count, (void)data;
	return EROFS;
}

static errcode_t e2_ovl_write_blk64(io_channel channel, unsigned long long block, int count,
				    const void *data)
{
	(void)channel, (void)block, (void)count, (void)data;
	return EROFS;
}

static errcode_t e2_ovl_flush(io_channel channel)
{
	(void)channel;
	return 0;
}

static errcode_t e2_ovl_set_option(io_channel channel, const char *option, const char *arg)
{
	struct e2_ovl_channel *priv = channel->private_data;

	if (!priv->inner->manager->set_option)
		return EXT2_ET_INVALID_ARGUMENT;
	return priv->inner->manager->set_option(priv->inner, option, arg);
}

static struct struct_io_manager e2_ovl_manager = {
	.magic = EXT2_ET_MAGIC_IO_MANAGER,
	.name = "umfuseext2 journal overlay",
	.open = e2_ovl_open,
	.close = e2_ovl_close,
	.set_blksize = e2_ovl_set_blksize,
	.read_blk = e2_ovl_read_blk,
	.write_blk = e2_ovl_write_blk,
	.flush = e2_ovl_flush,
	.set_option = e2_ovl_set_option,
	.read_blk64 = e2_ovl_read_blk64,
	.write_blk64 = e2_ovl_write_blk64,
};

/* ---- reading the journal ---- */

struct e2_journal {
	ext2_filsys fs;
	struct ext2_inode jinode;
	ext2_ino_t jino;
	unsigned bsize;
	uint32_t first, maxlen;		/* log area: [first, maxlen) */
	uint32_t start, sequence;
	uint32_t incompat;
	unsigned tag_bytes;
	unsigned char *buf;
	/* revoke records: block -> sequence, sorted */
	size_t nrev, caprev;
	uint64_t *rev_blk;
	uint32_t *rev_seq;
};

static int e2_j_read(struct e2_journal *j, uint32_t lblk, void *buf)
{
	blk64_t pblk = 0;
	errcode_t err;

	if (lblk >= j->maxlen)
		return -E2_EFSCORRUPTED;
	err = ext2fs_bmap2(j->fs, j->jino, &j->jinode, NULL, 0, lblk, NULL, &pblk);
	if (err)
		return e2_errno(err);
	if (pblk == 0 || pblk >= ext2fs_blocks_count(j->fs->super))
		return -E2_EFSCORRUPTED;
	err = io_channel_read_blk64(j->fs->io, pblk, 1, buf);
	return e2_errno(err);
}

static uint32_t e2_j_next(const struct e2_journal *j, uint32_t b)
{
	b++;
	return b >= j->maxlen ? j->first : b;
}

static size_t e2_j_tag_space(const struct e2_journal *j)
{
	size_t tail = (j->incompat & (JBD2_IN_CSUM_V2 | JBD2_IN_CSUM_V3)) ? 4 : 0;

	return j->bsize - tail;
}

/* Walk the tags of a descriptor block; calls fn for each (unless NULL) and
 * returns the number of data blocks that follow, or -errno. */
static int e2_j_tags(struct e2_journal *j, const unsigned char *desc,
		     int (*fn)(struct e2_journal *j, uint64_t blk, uint32_t flags, void *p), void *p)
{
	size_t off = 12, space = e2_j_tag_space(j);
	int n = 0;

	while (off + j->tag_bytes <= space) {
		const unsigned char *t = desc + off;
		uint64_t blk = be32(t);
		uint32_t flags;
		int r;

		if (j->incompat & JBD2_IN_CSUM_V3) {
			flags = be32(t + 4);
			if (j->incompat & JBD2_IN_64BIT)
				blk |= (uint64_t)be32(t + 8) << 32;
		} else {
			flags = be16(t + 6);
			if (j->incompat & JBD2_IN_64BIT)
				blk |= (uint64_t)be32(t + 8) << 32;
		}
		if (fn) {
			r = fn(j, blk, flags, p);
			if (r < 0)
				return r;
		}
		n++;
		off += j->tag_bytes;
		if (!(flags & JBD2_FLAG_SAME_UUID))
			off += 16;
		if (flags & JBD2_FLAG_LAST_TAG)
			break;
		if (n > (int)j->maxlen)
			return -E2_EFSCORRUPTED;
	}
	return n;
}

static ssize_t e2_j_rev_find(const struct e2_journal *j, uint64_t blk)
{
	size_t lo = 0, hi = j->nrev;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (j->rev_blk[mid] < blk)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < j->nrev && j->rev_blk[lo] == blk ? (ssize_t)lo : -(ssize_t)lo - 1;
}

static int e2_j_revoke(struct e2_journal *j, uint64_t blk, uint32_t seq)
{
	ssize_t at = e2_j_rev_find(j, blk);
	size_t i;

	if (at >= 0) {
		if ((int32_t)(seq - j->rev_seq[at]) > 0)
			j->rev_seq[at] = seq;
		return 0;
	}
	i = (size_t)(-at - 1);
	if (j->nrev == j->caprev) {
		size_t cap = j->caprev ? j->caprev * 2 : 256;
		uint64_t *b = realloc(j->rev_blk, cap * sizeof(*b));
		uint32_t *s;

		if (!b)
			return -ENOMEM;
		j->rev_blk = b;
		s = realloc(j->rev_seq, cap * sizeof(*s));
		if (!s)
			return -ENOMEM;
		j->rev_seq = s;
		j->caprev = cap;
	}
	memmove(j->rev_blk + i + 1, j->rev_blk + i, (j->nrev - i) * sizeof(*j->rev_blk));
	memmove(j->rev_seq + i + 1, j->rev_seq + i, (j->nrev - i) * sizeof(*j->rev_seq));
	j->rev_blk[i] = blk;
	j->rev_seq[i] = seq;
	j->nrev++;
	return 0;
}

static bool e2_j_revoked(const struct e2_journal *j, uint64_t blk, uint32_t seq)
{
	ssize_t at = e2_j_rev_find(j, blk);

	return at >= 0 && (int32_t)(j->rev_seq[at] - seq) >= 0;
}

enum e2_pass { E2_SCAN, E2_REVOKE, E2_REPLAY };

struct e2_replay_tag {
	uint32_t seq;
	uint64_t *blks;
	uint32_t *flags;
	int n, cap;
};

static int e2_j_collect(struct e2_journal *j, uint64_t blk, uint32_t flags, void *p)
{
	struct e2_replay_tag *rt = p;

	(void)j;
	if (rt->n == rt->cap)
		return -E2_EFSCORRUPTED;
	rt->blks[rt->n] = blk;
	rt->flags[rt->n] = flags;
	rt->n++;
	return 0;
}

/* One pass over the log. In E2_SCAN *end_seq is set to the first sequence
 * without a commit block; the other passes stop there. */
static int e2_j_pass(struct e2_journal *j, enum e2_pass pass, uint32_t *end_seq,
		     struct e2_overlay *ovl)
{
	uint32_t blk = j->start, seq = j->sequence;
	uint64_t budget = (uint64_t)j->maxlen * 2;
	_cleanup_free_ unsigned char *data = malloc(j->bsize);
	struct e2_replay_tag rt = { 0 };
	int r = 0;

	if (!data)
		return -ENOMEM;
	rt.cap = (int)(j->bsize / 8) + 1;
	rt.blks = calloc((size_t)rt.cap, sizeof(*rt.blks));
	rt.flags = calloc((size_t)rt.cap, sizeof(*rt.flags));
	if (!rt.blks || !rt.flags) {
		r = -ENOMEM;
		goto out;
	}
	while (budget--) {
		uint32_t magic, type, bseq;

		if (pass != E2_SCAN && seq == *end_seq)
			break;
		if (e2_j_read(j, blk, j->buf) < 0)
			break;		/* unreadable: end of the log */
		magic = be32(j->buf);
		type = be32(j->buf + 4);
		bseq = be32(j->buf + 8);
		if (magic != JBD2_MAGIC || bseq != seq)
			break;
		blk = e2_j_next(j, blk);
		if (type == JBD2_DESCRIPTOR) {
			rt.n = 0;
			r = e2_j_tags(j, j->buf, e2_j_collect, &rt);
			if (r < 0)
				break;
			for (int i = 0; i < rt.n; i++) {
				if (pass == E2_REPLAY) {
					r = e2_j_read(j, blk, data);
					if (r < 0)
						goto out;
					if (rt.flags[i] & JBD2_FLAG_ESCAPE) {
						data[0] = 0xC0, data[1] = 0x3B;
						data[2] = 0x39, data[3] = 0x98;
					}
					if (!e2_j_revoked(j, rt.blks[i], seq) &&
					    rt.blks[i] < ext2fs_blocks_count(j->fs->super)) {
						r = e2_overlay_put(ovl, rt.blks[i], data);
						if (r < 0)
							goto out;
					}
				}
				blk = e2_j_next(j, blk);
			}
			r = 0;
		} else if (type == JBD2_COMMIT) {
			seq++;
		} else if (type == JBD2_REVOKE) {
			if (pass == E2_REVOKE) {
				uint32_t count = be32(j->buf + 12);
				unsigned rec = (j->incompat & JBD2_IN_64BIT) ? 8 : 4;

				if (count > e2_j_tag_space(j))
					count = (uint32_t)e2_j_tag_space(j);
				for (uint32_t off = 16; off + rec <= count; off += rec) {
					uint64_t rb = rec == 8 ? (uint64_t)be32(j->buf + off) << 32 |
								 be32(j->buf + off + 4)
							       : be32(j->buf + off);
					r = e2_j_revoke(j, rb, seq);
					if (r < 0)
						goto out;
				}
			}
		} else {
			break;
		}
	}
	if (pass == E2_SCAN)
		*end_seq = seq;
out:
	free(rt.blks);
	free(rt.flags);
	return r;
}

int e2_journal_replay_ro(struct e2_mount *m, const char **ret_msg)
{
	struct e2_journal j = { 0 };
	struct e2_overlay *ovl = NULL;
	ext2_filsys fs = m->fs, nfs = NULL;
	uint32_t end_seq = 0, btype;
	errcode_t err;
	int r;

	*ret_msg = NULL;
	if (!ext2fs_has_feature_journal(fs->super) || !fs->super->s_journal_inum) {
		static const unsigned char zero[16];

		*ret_msg = fs->super->s_journal_dev ||
			   memcmp(fs->super->s_journal_uuid, zero, sizeof(zero)) ?
			   "external journals are not supported" : "no journal inode";
		return -EOPNOTSUPP;
	}
	j.fs = fs;
	j.jino = fs->super->s_journal_inum;
	j.bsize = fs->blocksize;
	if (ext2fs_read_inode(fs, j.jino, &j.jinode)) {
		*ret_msg = "cannot read the journal inode";
		return -E2_EFSCORRUPTED;
	}
	j.maxlen = (uint32_t)(EXT2_I_SIZE(&j.jinode) / fs->blocksize);
	j.buf = malloc(j.bsize);
	if (!j.buf)
		return -ENOMEM;
	j.maxlen = j.maxlen ? j.maxlen : 1;
	r = e2_j_read(&j, 0, j.buf);
	if (r < 0) {
		*ret_msg = "cannot read the journal superblock";
		goto out;
	}
	btype = be32(j.buf + 4);
	if (be32(j.buf) != JBD2_MAGIC || (btype != JBD2_SB_V1 && btype != JBD2_SB_V2) ||
	    be32(j.buf + 12) != j.bsize) {
		*ret_msg = "bad journal superblock";
		r = -E2_EFSCORRUPTED;
		goto out;
	}
	if (be32(j.buf + 16) < j.maxlen)
		j.maxlen = be32(j.buf + 16);
	j.first = be32(j.buf + 20);
	j.sequence = be32(j.buf + 24);
	j.start = be32(j.buf + 28);
	j.incompat = btype == JBD2_SB_V2 ? be32(j.buf + 40) : 0;
	if (j.incompat & ~(uint32_t)(JBD2_IN_REVOKE | JBD2_IN_64BIT | 0x4 | JBD2_IN_CSUM_V2 |
				     JBD2_IN_CSUM_V3 | 0x20)) {
		*ret_msg = "unknown journal features";
		r = -EOPNOTSUPP;
		goto out;
	}
	if (j.incompat & JBD2_IN_CSUM_V3)
		j.tag_bytes = 16;
	else
		j.tag_bytes = 8 + ((j.incompat & JBD2_IN_CSUM_V2) ? 2 : 0) +
			      ((j.incompat & JBD2_IN_64BIT) ? 4 : 0);
	if (j.first == 0 || j.first >= j.maxlen) {
		*ret_msg = "bad journal geometry";
		r = -E2_EFSCORRUPTED;
		goto out;
	}

	ovl = calloc(1, sizeof(*ovl));
	if (!ovl) {
		r = -ENOMEM;
		goto out;
	}
	ovl->bsize = j.bsize;
	if (j.start != 0) {	/* 0: the journal is empty after all */
		if (j.start < j.first || j.start >= j.maxlen) {
			*ret_msg = "bad journal start";
			r = -E2_EFSCORRUPTED;
			goto out;
		}
		r = e2_j_pass(&j, E2_SCAN, &end_seq, ovl);
		if (r == 0 && (j.incompat & JBD2_IN_REVOKE))
			r = e2_j_pass(&j, E2_REVOKE, &end_seq, ovl);
		if (r == 0)
			r = e2_j_pass(&j, E2_REPLAY, &end_seq, ovl);
		if (r < 0) {
			*ret_msg = "error while reading the journal";
			goto out;
		}
	}

	/* reopen the image through the replayed blocks */
	e2_ovl_pending = TAKE_PTR(ovl);
	err = ext2fs_open2(m->source, NULL, EXT2_FLAG_64BITS, 0, 0, &e2_ovl_manager, &nfs);
	ovl = TAKE_PTR(e2_ovl_pending);	/* still ours if no channel took it */
	if (err) {
		*ret_msg = error_message(err);
		r = -E2_EFSCORRUPTED;
		goto out;
	}
	err = ext2fs_check_desc(nfs);
	if (err) {
		*ret_msg = "corrupt group descriptors after replay";
		ext2fs_close_free(&nfs);
		r = -E2_EFSCORRUPTED;
		goto out;
	}
	ext2fs_clear_feature_journal_needs_recovery(nfs->super);
	nfs->flags &= ~(EXT2_FLAG_DIRTY | EXT2_FLAG_CHANGED);
	ext2fs_close_free(&m->fs);
	m->fs = nfs;
	m->replayed = true;
	r = 0;
out:
	e2_overlay_free(ovl);
	free(j.buf);
	free(j.rev_blk);
	free(j.rev_seq);
	return r;
}
