/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A passthrough FUSE engine in the style of libfuse's passthrough_ll: one
 * O_PATH fd per known host inode, every operation done on the host object
 * through /proc/self/fd/N, with the credentials of the server. Shared by
 * the core (the working-directory layer, daemon/cwd-layer.c) and services
 * (viewfs's hide and mode, services/viewfs/), which is why it lives in the
 * internal static library common/ and knows nothing of either.
 *
 * What a user of the engine adds, through `struct passthrough_hooks`:
 *  (a) view-only entries: mknod(2)/mkdir(2) by one process (the view
 *      helper, making mount points) create entries that exist in the view
 *      only, never on the host;
 *  (b) hidden names: a path below the root, or a name anywhere in the
 *      tree, that does not exist in the view: lookup answers ENOENT,
 *      readdir skips it, and creating it (create, mknod, mkdir, symlink,
 *      link, rename onto it) fails with EACCES — the name is taken by the
 *      policy, and the host object behind it is never reached;
 *  (c) presented attributes: permission bits and owner/group (view ids)
 *      shown for a path or a whole subtree instead of the host's. The
 *      engine enforces them itself: an object with presented attributes
 *      is checked against them (owner, group or other class of the caller,
 *      as the view numbers ids) before the host is asked, for every
 *      process including the view's root (no capability overrides them);
 *      the host still checks its own modes afterwards, so presented modes
 *      restrict but grant nothing the host refuses — except execute bits,
 *      which need only read access on the host. chmod/chown of such an
 *      object fail with EPERM. Names that carry a rule (hidden, presented
 *      attributes, or a rule below them) cannot be renamed or replaced:
 *      EBUSY, like a mount point.
 *
 * Rules name paths relative to the root as they are when looked up: an
 * object renamed in the view leaves its rule behind, as for a mount.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifndef FUSE_USE_VERSION
#define FUSE_USE_VERSION 312
#endif
#include <fuse_lowlevel.h>

struct passthrough;

/* Presented attributes (c); ids as the view numbers them. */
struct passthrough_attr {
	bool set_mode, set_uid, set_gid;
	/* shown permission bits: (host & ~mode_clear) | mode_set, within 07777;
	 * an absolute mode is mode_clear 07777 */
	mode_t mode_clear, mode_set;
	uid_t uid;
	gid_t gid;
	bool recursive; /* also every object below (nearest rule wins, per field) */
};

/* One rule (b, c): `path` relative to the root, '/'-separated, "" for the
 * root itself (hiding the root is not possible). */
struct passthrough_rule {
	const char *path;
	bool hide;
	struct passthrough_attr attr;
};

/* How host ids appear in the view. */
enum passthrough_ids {
	PASSTHROUGH_IDS_NATIVE, /* unchanged: the view has no user namespace */
	/* The working-directory layer's: the server's uid is 0, every other
	 * uid 65534, every gid 0 (see daemon/cwd-layer.c). */
	PASSTHROUGH_IDS_LAYER,
	/* Through the view's id maps (/proc/PID/uid_map and gid_map), 65534
	 * for ids without a mapping. */
	PASSTHROUGH_IDS_MAP,
};

#define PASSTHROUGH_IDMAP_MAX 16
struct passthrough_idmap {
	size_t count;
	struct {
		uint32_t inside, outside, length;
	} extent[PASSTHROUGH_IDMAP_MAX];
};

struct passthrough_hooks {
	/* (a) mknod/mkdir by this process become view-only entries; 0: none. */
	pid_t view_only_pid;
	/* (b, c) rules by path; copied by passthrough_new(). */
	const struct passthrough_rule *rules;
	size_t n_rules;
	/* (b) names hidden in every directory of the tree (no '/'); copied. */
	const char *const *hidden_names;
	size_t n_hidden_names;
};

struct passthrough_config {
	int root_fd; /* O_PATH of a directory or a regular file; taken over even on failure */
	enum passthrough_ids ids;
	struct passthrough_idmap uid_map, gid_map; /* with PASSTHROUGH_IDS_MAP */
	/* Act with the caller's ids (setfsuid/setfsgid per request; the
	 * server must be allowed to), mapped to host ids. */
	bool act_as_caller;
	struct passthrough_hooks hooks;
};

int passthrough_new(const struct passthrough_config *config, struct passthrough **ret);
void passthrough_free(struct passthrough *pt);

/* The FUSE operations; userdata is the `struct passthrough *`. */
extern const struct fuse_lowlevel_ops passthrough_ops;

/* Parse "inside outside length" lines (a /proc/PID/uid_map) into `map`. */
int passthrough_idmap_parse(const char *text, struct passthrough_idmap *map);

/* For stacking a passthrough on one of `pt`'s paths: open `rel` (relative
 * to pt's root, "" for the root; hidden components give ENOENT) as an
 * O_PATH fd of the host object, and return the rules of pt that apply at
 * and below it, rebased there (inherited recursive attributes become a
 * rule on ""; names hidden everywhere stay so). Free the result with
 * passthrough_rules_free(). */
struct passthrough_rules {
	struct passthrough_rule *rules;
	size_t n_rules;
	char **hidden_names;
	size_t n_hidden_names;
};
int passthrough_sub(struct passthrough *pt, const char *rel, int *ret_fd, struct passthrough_rules *ret);
void passthrough_rules_free(struct passthrough_rules *rules);
