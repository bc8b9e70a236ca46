/* SPDX-License-Identifier: GPL-2.0-or-later */
/* umfuseext2 / vos-ext2fs: an ordinary libfuse 3 program.
 *
 *   umfuseext2 SOURCE MOUNTPOINT [-f] [-d] [-s] [-o OPTIONS]
 *
 * umfuse runs it inside a view with MOUNTPOINT = /dev/fd/N (an already
 * mounted /dev/fuse descriptor); built as vos-ext2fs it is a kernel FUSE
 * program like fuse2fs. Options:
 *   ro (default)          read-only; the image is never written
 *   rw, rw+               read-write
 *   human                 permission checks as the caller (UmFUSE human mode)
 *   uid=N, gid=N          ... as this user/group instead (implies human)
 *   entry_timeout=S, attr_timeout=S   kernel cache timeouts (default 3600;
 *                         entries are not cached in human mode)
 *   threads (default), single   serve requests from several threads, or
 *                         from one (libext2fs runs under one lock either
 *                         way; in a view, several read faster, and take
 *                         turns at the connection: vos_fuse_module_hints)
 * plus the generic FUSE options (allow_other, fsname=..., -d, -s, ...).
 * Every refusal is one line on stderr and exit status 1. */
#include "ext2fs.h"
#include "vos-fuse-hints.h"

#include <et/com_err.h>
#include <ext2fs/ext2_err.h>
#include <grp.h>
#include <pwd.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#define E2_DEFAULT_TIMEOUT 3600.0
#define E2_DIRCACHE_ENTRIES (1u << 20)

struct e2_cli {
	char *source;
	int ro, rw, human, help, version, threads;
	int uid, gid;		/* -1: not given */
	double entry_timeout, attr_timeout;
	int timeouts_given;
};

enum { E2_KEY_HELP, E2_KEY_VERSION, E2_KEY_ENTRY_TO, E2_KEY_ATTR_TO };

#define E2_OPT(t, p, v) { t, offsetof(struct e2_cli, p), v }

static const struct fuse_opt e2_opt_table[] = {
	E2_OPT("ro", ro, 1),
	E2_OPT("rw", rw, 1),
	E2_OPT("rw+", rw, 1),
	E2_OPT("human", human, 1),
	E2_OPT("threads", threads, 1),
	E2_OPT("single", threads, 0),
	E2_OPT("uid=%d", uid, 0),
	E2_OPT("gid=%d", gid, 0),
	E2_OPT("entry_timeout=%lf", entry_timeout, 0),
	E2_OPT("attr_timeout=%lf", attr_timeout, 0),
	FUSE_OPT_KEY("-h", E2_KEY_HELP),
	FUSE_OPT_KEY("--help", E2_KEY_HELP),
	FUSE_OPT_KEY("-V", E2_KEY_VERSION),
	FUSE_OPT_KEY("--version", E2_KEY_VERSION),
	FUSE_OPT_END
};

static int e2_opt_proc(void *data, const char *arg, int key, struct fuse_args *out)
{
	struct e2_cli *cli = data;

	(void)out;
	switch (key) {
	case FUSE_OPT_KEY_NONOPT:
		if (!cli->source) {
			cli->source = strdup(arg);
			return 0;
		}
		return 1;	/* the mount point: for fuse_parse_cmdline */
	case E2_KEY_HELP:
		cli->help = 1;
		return 0;
	case E2_KEY_VERSION:
		cli->version = 1;
		return 0;
	default:
		return 1;
	}
}

static void e2_usage(const char *prog)
{
	printf("usage: %s SOURCE MOUNTPOINT [-f] [-d] [-s] [-o OPTIONS]\n"
	       "ext2/ext3/ext4 filesystem for umfuse\n"
	       "options:\n"
	       "    -o ro                read-only (default)\n"
	       "    -o rw, -o rw+        read-write\n"
	       "    -o human             permission checks as the caller\n"
	       "    -o uid=N,gid=N       ... as this user and group (implies human)\n"
	       "    -o entry_timeout=S   kernel entry cache timeout (default 3600)\n"
	       "    -o attr_timeout=S    kernel attribute cache timeout (default 3600)\n"
	       "    -o threads           multi-threaded request loop (default)\n"
	       "    -o single            single-threaded request loop (as -s)\n",
	       prog);
}

/* One line, always naming the source. */
static void e2_die_msg(const char *prog, const char *source, const char *msg)
{
	fprintf(stderr, "%s: %s: %s\n", prog, source ? source : "(none)", msg);
}

static const char *e2_open_error(errcode_t err)
{
	switch (err) {
	case EXT2_ET_BAD_MAGIC:
		return "not an ext2/ext3/ext4 filesystem (bad superblock magic)";
	case EXT2_ET_SB_CSUM_INVALID:
		return "superblock checksum does not match; run e2fsck";
	case EXT2_ET_UNSUPP_FEATURE:
		return "filesystem has unsupported features";
	case EXT2_ET_RO_UNSUPP_FEATURE:
		return "filesystem has features that only allow a read-only mount";
	case EXT2_ET_SHORT_READ:
		return "too short: not an ext2/ext3/ext4 filesystem, or a truncated one";
	case EXT2_ET_CORRUPT_SUPERBLOCK:
		return "corrupt superblock; run e2fsck";
	case EXT2_ET_GDESC_BAD_BLOCK_MAP:
	case EXT2_ET_GDESC_BAD_INODE_MAP:
	case EXT2_ET_GDESC_BAD_INODE_TABLE:
	case EXT2_ET_BAD_DESC_SIZE:
		return "corrupt group descriptors; run e2fsck";
	default:
		return error_message(err);
	}
}

/* Open the image and decide whether it can be mounted. 0, or 1 after one
 * line on stderr. */
static int e2_open_fs(struct e2_mount *m, const char *prog)
{
	int flags = EXT2_FLAG_64BITS | EXT2_FLAG_THREADS;
	char msg[512];
	errcode_t err;
	ext2_filsys fs;

	if (m->rw)
		flags |= EXT2_FLAG_RW | EXT2_FLAG_EXCLUSIVE;
	err = ext2fs_open2(m->source, NULL, flags, 0, 0, unix_io_manager, &m->fs);
	if (err) {
		m->fs = NULL;
		if (m->rw && (err == EACCES || err == EROFS || err == EPERM))
			snprintf(msg, sizeof(msg), "cannot open read-write (%s); mount it "
				 "without rw/rw+", strerror((int)err));
		else if (err == ENOENT || err == EACCES || err == ENOTDIR)
			snprintf(msg, sizeof(msg), "%s", strerror((int)err));
		else
			snprintf(msg, sizeof(msg), "%s", e2_open_error(err));
		e2_die_msg(prog, m->source, msg);
		return 1;
	}
	fs = m->fs;

	if (fs->blocksize < 1024 || fs->blocksize > 65536 || fs->super->s_inodes_count == 0 ||
	    fs->super->s_inodes_per_group == 0 || EXT2_INODE_SIZE(fs->super) < 128) {
		e2_die_msg(prog, m->source, "corrupt superblock; run e2fsck");
		return 1;
	}
	err = ext2fs_check_desc(fs);
	if (err) {
		e2_die_msg(prog, m->source, e2_open_error(err));
		return 1;
	}
	/* like ext4_check_descriptors(): bad checksums only refuse rw */
	if (m->rw && ext2fs_has_group_desc_csum(fs)) {
		for (dgrp_t g = 0; g < fs->group_desc_count; g++) {
			if (!ext2fs_group_desc_csum_verify(fs, g)) {
				snprintf(msg, sizeof(msg), "checksum of group descriptor %u "
					 "does not match; run e2fsck (or mount read-only)", g);
				e2_die_msg(prog, m->source, msg);
				return 1;
			}
		}
	}

	if (ext2fs_has_feature_journal_needs_recovery(fs->super)) {
		const char *why = NULL;

		if (m->rw) {
			e2_die_msg(prog, m->source, "the journal needs recovery; run "
				   "'e2fsck -E journal_only' first, or mount read-only "
				   "(replayed in memory)");
			return 1;
		}
		if (e2_journal_replay_ro(m, &why) < 0) {
			snprintf(msg, sizeof(msg), "the journal needs recovery and cannot be "
				 "replayed (%s); run e2fsck", why ? why : "error");
			e2_die_msg(prog, m->source, msg);
			return 1;
		}
		fs = m->fs;
	}
	if (ext2fs_has_feature_journal_dev(fs->super)) {
		e2_die_msg(prog, m->source, "this is an external journal device, not a filesystem");
		return 1;
	}
	if (m->rw) {
		if (fs->super->s_state & EXT2_ERROR_FS) {
			e2_die_msg(prog, m->source, "filesystem has errors; run e2fsck before "
				   "mounting read-write");
			return 1;
		}
		if (fs->super->s_last_orphan || ext2fs_has_feature_orphan_present(fs->super)) {
			e2_die_msg(prog, m->source, "orphan inodes pending (unclean unmount); "
				   "run e2fsck before mounting read-write");
			return 1;
		}
		if (ext2fs_has_feature_mmp(fs->super)) {
			e2_die_msg(prog, m->source, "multiple-mount protection (mmp) is not "
				   "supported read-write");
			return 1;
		}
		err = ext2fs_read_bitmaps(fs);
		if (err) {
			snprintf(msg, sizeof(msg), "cannot read bitmaps (%s); run e2fsck",
				 error_message(err));
			e2_die_msg(prog, m->source, msg);
			return 1;
		}
		/* like the kernel: only the primary superblock and descriptors
		 * are updated while mounted; "not clean" until unmount */
		fs->flags |= EXT2_FLAG_MASTER_SB_ONLY;
		fs->super->s_state &= (uint16_t)~EXT2_VALID_FS;
		fs->super->s_mnt_count++;
		fs->super->s_mtime = (uint32_t)time(NULL);
		ext2fs_mark_super_dirty(fs);
		err = ext2fs_flush2(fs, 0);
		m->marked_in_use = true;
		if (err) {
			snprintf(msg, sizeof(msg), "cannot write the superblock (%s)",
				 error_message(err));
			e2_die_msg(prog, m->source, msg);
			return 1;
		}
	}
	m->max_extent_size = e2_max_extent_size((unsigned)(10 + fs->super->s_log_block_size),
						ext2fs_has_feature_huge_file(fs->super));
	m->max_bitmap_size = e2_max_bitmap_size((unsigned)(10 + fs->super->s_log_block_size),
						ext2fs_has_feature_huge_file(fs->super));
	return 0;
}

static void e2_close_fs(struct e2_mount *m, const char *prog)
{
	errcode_t err;

	if (!m->fs)
		return;
	if (m->marked_in_use) {
		m->fs->super->s_state |= EXT2_VALID_FS;
		ext2fs_mark_super_dirty(m->fs);
		err = ext2fs_set_gdt_csum(m->fs);
		if (!err)
			err = ext2fs_flush2(m->fs, 0);
		if (err)
			e2_die_msg(prog, m->source, error_message(err));
	}
	ext2fs_close_free(&m->fs);
}

static void e2_human_ids(struct e2_mount *m, const struct e2_cli *cli)
{
	m->fixed_uid = cli->uid >= 0;
	m->fixed_gid = cli->gid >= 0;
	if (m->fixed_uid)
		m->uid = (uid_t)cli->uid;
	if (m->fixed_gid) {
		m->gid = (gid_t)cli->gid;
	} else if (m->fixed_uid) {
		struct passwd *pw = getpwuid(m->uid);

		m->gid = pw ? pw->pw_gid : (gid_t)cli->uid;
	}
}

/* In a view, vos-fuse-runner serves umfuseext2 by these promises: every
 * request runs under the mount's one lock anyway, and SUID/SGID are
 * cleared here on write, truncate and chown (e2_perm_killpriv, setattr),
 * by the kernel's rules: on write and truncate by a caller without
 * CAP_FSETID (in human mode an unprivileged credential, in omnipotent
 * mode a caller other than root), on chown always. */
E2_EXPORT const unsigned vos_fuse_module_hints = VOS_FUSE_HINT_SERIAL_READER | VOS_FUSE_HINT_KILLPRIV_V2;

E2_EXPORT int main(int argc, char *argv[])
{
	struct fuse_args args = FUSE_ARGS_INIT(argc, argv);
	struct e2_cli cli = { .uid = -1, .gid = -1, .entry_timeout = -1, .attr_timeout = -1, .threads = 1 };
	struct fuse_cmdline_opts fo;
	struct fuse_loop_config *lc = NULL;
	struct e2_mount m;
	const char *prog = "umfuseext2";
	int ret = 1;

	memset(&m, 0, sizeof(m));
	memset(&fo, 0, sizeof(fo));
	initialize_ext2_error_table();
	if (fuse_opt_parse(&args, &cli, e2_opt_table, e2_opt_proc) < 0)
		goto out_args;	/* libfuse printed the bad option */
	if (cli.help) {
		e2_usage(argv[0]);
		ret = 0;
		goto out_args;
	}
	if (cli.version) {
		const char *ver = NULL;

		ext2fs_get_library_version(&ver, NULL);
		printf("umfuseext2 (vos) libext2fs %s, libfuse %s\n", ver, fuse_pkgversion());
		ret = 0;
		goto out_args;
	}
	if (fuse_parse_cmdline(&args, &fo) != 0)
		goto out_args;	/* libfuse printed why */
	if (!cli.source || !fo.mountpoint) {
		fprintf(stderr, "%s: usage: %s SOURCE MOUNTPOINT [-o OPTIONS]\n", prog, prog);
		goto out_args;
	}
	if (cli.ro && cli.rw) {
		e2_die_msg(prog, cli.source, "both ro and rw given");
		goto out_args;
	}
	if ((cli.uid >= 0 || cli.gid >= 0))
		cli.human = 1;
	if (cli.entry_timeout < -0.5)
		cli.entry_timeout = cli.human ? 0 : E2_DEFAULT_TIMEOUT;
	if (cli.attr_timeout < -0.5)
		cli.attr_timeout = E2_DEFAULT_TIMEOUT;

	m.source = cli.source;
	m.rw = cli.rw;
	m.human = cli.human;
	m.debug = fo.debug;
	m.entry_timeout = cli.entry_timeout;
	m.attr_timeout = cli.attr_timeout;
	e2_human_ids(&m, &cli);
	if (!m.rw && fuse_opt_add_arg(&args, "-oro") < 0)	/* for a kernel mount of ours */
		goto out_args;

	m.se = fuse_session_new(&args, &e2_ops, sizeof(e2_ops), &m);
	if (!m.se)
		goto out_args;	/* libfuse printed the unknown option */

	if (pthread_mutex_init(&m.lock, NULL) != 0)
		goto out_session;
	if (e2_open_fs(&m, prog))
		goto out_session;
	m.dircache = dircache_new(E2_DIRCACHE_ENTRIES);
	m.open = e2_openfile_new();
	if (!m.dircache || !m.open) {
		e2_die_msg(prog, m.source, "out of memory");
		goto out_fs;
	}
	if (getrandom(&m.next_generation, sizeof(m.next_generation), 0) < 0)
		m.next_generation = (uint32_t)time(NULL);

	if (fuse_set_signal_handlers(m.se) != 0)
		goto out_fs;
	if (fuse_session_mount(m.se, fo.mountpoint) != 0)
		goto out_signals;	/* libfuse (or fusermount3) said why */
	if (m.human)
		fprintf(stderr, "UmFUSE Human mode\n");
	if (m.replayed)
		fprintf(stderr, "%s: %s: journal replayed in memory (image not modified)\n",
			prog, m.source);
	fuse_daemonize(fo.foreground);

	if (fo.singlethread || !cli.threads) {
		ret = fuse_session_loop(m.se);
	} else {
		lc = fuse_loop_cfg_create();
		if (!lc) {
			ret = 1;
			goto out_unmount;
		}
		fuse_loop_cfg_set_clone_fd(lc, fo.clone_fd);
		/* libfuse leaves unset values at UINT_MAX */
		fuse_loop_cfg_set_idle_threads(lc, fo.max_idle_threads && fo.max_idle_threads < 1000 ?
						   fo.max_idle_threads : 8);
		fuse_loop_cfg_set_max_threads(lc, fo.max_threads && fo.max_threads < 1000 ?
						  fo.max_threads : 16);
		ret = fuse_session_loop_mt(m.se, lc);
		fuse_loop_cfg_destroy(lc);
	}
	ret = ret ? 1 : 0;
out_unmount:
	fuse_session_unmount(m.se);
out_signals:
	fuse_remove_signal_handlers(m.se);
out_fs:
	fuse_session_destroy(m.se);	/* runs .destroy: frees orphans */
	m.se = NULL;
	e2_close_fs(&m, prog);
	dircache_free(m.dircache);
	e2_openfile_free(m.open);
	pthread_mutex_destroy(&m.lock);
	goto out_args;
out_session:
	fuse_session_destroy(m.se);
	e2_close_fs(&m, prog);
out_args:
	free(fo.mountpoint);
	free(cli.source);
	fuse_opt_free_args(&args);
	return ret;
}
