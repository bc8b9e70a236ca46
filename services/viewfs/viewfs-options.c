/* SPDX-License-Identifier: GPL-2.0-or-later */
/* viewfs mount options, as umview's viewfs took them: move (default),
 * merge, cow, mincow, renew, except=PATH (repeatable), debug. */
#include <errno.h>
#include <string.h>

#include "viewfs.h"

const char *viewfs_mode_name(enum viewfs_mode mode)
{
	switch (mode) {
	case VIEWFS_MOVE:
		return "move";
	case VIEWFS_MERGE:
		return "merge";
	case VIEWFS_COW:
		return "cow";
	case VIEWFS_MINCOW:
		return "mincow";
	}
	return "?";
}

static int mode_of(const char *key, enum viewfs_mode *ret)
{
	static const enum viewfs_mode modes[] = { VIEWFS_MOVE, VIEWFS_MERGE, VIEWFS_COW, VIEWFS_MINCOW };
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
		if (strcmp(key, viewfs_mode_name(modes[i])) == 0) {
			*ret = modes[i];
			return 0;
		}
	return -ENOENT;
}

int viewfs_args_parse(const struct vos_service_host *host, const struct vos_options *options,
		      struct viewfs_args *ret)
{
	struct viewfs_args a = { .mode = VIEWFS_MOVE };
	const char *mode_key = NULL;
	for (size_t i = 0; options && i < options->count; i++) {
		const char *key = options->items[i].key, *value = options->items[i].value;
		enum viewfs_mode mode;
		if (mode_of(key, &mode) == 0 && !value) {
			if (mode_key && strcmp(mode_key, key) != 0) {
				host->log(host->core, "viewfs: options '%s' and '%s' exclude each other", mode_key, key);
				return -EINVAL;
			}
			mode_key = key;
			a.mode = mode;
		} else if (strcmp(key, "renew") == 0 && !value) {
			a.renew = true;
		} else if (strcmp(key, "debug") == 0 && !value) {
			a.debug = true;
		} else if (strcmp(key, "except") == 0) {
			if (!value || !value[0]) {
				host->log(host->core, "viewfs: except= needs a path below the target");
				return -EINVAL;
			}
			if (a.n_except == VIEWFS_EXCEPT_MAX) {
				host->log(host->core, "viewfs: at most %d except= options", VIEWFS_EXCEPT_MAX);
				return -EINVAL;
			}
			a.except[a.n_except++] = value;
		} else if (strcmp(key, "hide") == 0 || strcmp(key, "mode") == 0) {
			host->log(host->core, "viewfs: option '%s' is not supported yet (see viewfs(7))", key);
			return -EOPNOTSUPP;
		} else {
			host->log(host->core, "viewfs: unknown option '%s%s%s'", key, value ? "=" : "", value ? value : "");
			return -EINVAL;
		}
	}
	if (a.renew && a.mode != VIEWFS_COW && a.mode != VIEWFS_MINCOW) {
		host->log(host->core, "viewfs: renew needs cow or mincow");
		return -EINVAL;
	}
	*ret = a;
	return 0;
}
