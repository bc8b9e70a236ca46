/* SPDX-License-Identifier: GPL-2.0-or-later */
/* viewfs mount options, as umview's viewfs took them: move (default),
 * merge, cow, mincow, renew, except=PATH (repeatable), debug; fuse (cow
 * through fuse-overlayfs), overlayonly (merge without binds); and the
 * passthrough's: hide=PATH[:PATH...], hidename=NAME[:NAME...], mode=MODE,
 * uid=N, gid=N, recursive. */
#include <errno.h>
#include <stdlib.h>
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

/* Split `value` on unescaped ':' into `out` (backslash escapes removed),
 * copying into `*pos` (room enough: the caller sized it). */
static int split_list(char **pos, const char *value, const char **out, size_t *n, size_t max)
{
	const char *p = value;
	while (*p) {
		if (*n == max)
			return -E2BIG;
		char *item = *pos;
		while (*p && *p != ':') {
			if (*p == '\\' && p[1])
				p++;
			*(*pos)++ = *p++;
		}
		*(*pos)++ = '\0';
		if (*p)
			p++;
		out[(*n)++] = item;
	}
	return 0;
}

/* A path below the mount's root: relative, no "..", not empty. */
static bool relative_path_ok(const char *path)
{
	if (!path[0] || path[0] == '/')
		return false;
	const char *c = path;
	while (*c) {
		size_t len = strcspn(c, "/");
		if (len == 2 && c[0] == '.' && c[1] == '.')
			return false;
		c += len;
		while (*c == '/')
			c++;
	}
	return strspn(path, "/.") != strlen(path); /* something besides "." and "/" */
}

static int parse_id(const char *value, uint32_t *ret)
{
	if (!value || !value[0])
		return -EINVAL;
	char *end;
	errno = 0;
	unsigned long id = strtoul(value, &end, 10);
	if (*end || errno || id >= 0xffffffffUL || value[0] == '-')
		return -EINVAL;
	*ret = (uint32_t)id;
	return 0;
}

int viewfs_mode_parse(const char *text, struct passthrough_attr *attr)
{
	if (!text || !text[0])
		return -EINVAL;
	if (strspn(text, "01234567") == strlen(text)) {
		if (strlen(text) > 4)
			return -EINVAL;
		attr->mode_clear = 07777;
		attr->mode_set = (mode_t)strtoul(text, NULL, 8);
		attr->set_mode = true;
		return 0;
	}
	mode_t clear = 0, set = 0;
	const char *p = text;
	while (*p) {
		mode_t who = 0;
		for (; *p && strchr("ugoa", *p); p++)
			who |= *p == 'u' ? 04700 : *p == 'g' ? 02070 : *p == 'o' ? 01007 : 07777;
		if (!who)
			who = 07777;
		char op = *p;
		if (op != '+' && op != '-' && op != '=')
			return -EINVAL;
		p++;
		mode_t perm = 0;
		for (; *p && *p != ':'; p++) {
			switch (*p) {
			case 'r': perm |= 0444; break;
			case 'w': perm |= 0222; break;
			case 'x': perm |= 0111; break;
			case 's': perm |= 06000; break;
			case 't': perm |= 01000; break;
			default: return -EINVAL;
			}
		}
		perm &= who;
		/* this clause after the previous ones: (m & ~c) | s */
		mode_t c2 = op == '+' ? 0 : op == '-' ? perm : who;
		mode_t s2 = op == '-' ? 0 : perm;
		set = (set & ~c2) | s2;
		clear |= c2;
		if (*p == ':')
			p++;
		else if (*p)
			return -EINVAL;
	}
	attr->mode_clear = clear;
	attr->mode_set = set;
	attr->set_mode = true;
	return 0;
}

void viewfs_args_free(struct viewfs_args *args)
{
	free(args->strings);
	args->strings = NULL;
}

int viewfs_args_parse(const struct vos_service_host *host, const struct vos_options *options,
		      struct viewfs_args *ret)
{
	struct viewfs_args a = { .mode = VIEWFS_MOVE };
	const char *mode_key = NULL;
	bool recursive = false;
	size_t room = 1;
	for (size_t i = 0; options && i < options->count; i++)
		room += (options->items[i].value ? strlen(options->items[i].value) : 0) * 2 + 2;
	char *pos = a.strings = malloc(room);
	if (!pos)
		return -ENOMEM;
	int r = 0;
	for (size_t i = 0; options && i < options->count && r == 0; i++) {
		const char *key = options->items[i].key, *value = options->items[i].value;
		enum viewfs_mode mode;
		if (mode_of(key, &mode) == 0 && !value) {
			if (mode_key && strcmp(mode_key, key) != 0) {
				host->log(host->core, "viewfs: options '%s' and '%s' exclude each other", mode_key, key);
				r = -EINVAL;
			}
			mode_key = key;
			a.mode = mode;
			a.mode_given = true;
		} else if (strcmp(key, "renew") == 0 && !value) {
			a.renew = true;
		} else if (strcmp(key, "debug") == 0 && !value) {
			a.debug = true;
		} else if (strcmp(key, "overlayonly") == 0 && !value) {
			a.overlay_only = true;
		} else if (strcmp(key, "fuse") == 0 && !value) {
			a.fuse = true;
		} else if (strcmp(key, "recursive") == 0 && !value) {
			recursive = true;
		} else if (strcmp(key, "except") == 0) {
			if (!value || !relative_path_ok(value)) {
				host->log(host->core, "viewfs: except=%s: name a path below the target (relative, no '..')",
					  value ? value : "");
				r = -EINVAL;
			} else if (a.n_except == VIEWFS_EXCEPT_MAX) {
				host->log(host->core, "viewfs: at most %d except= options", VIEWFS_EXCEPT_MAX);
				r = -EINVAL;
			} else {
				a.except[a.n_except++] = value;
			}
		} else if (strcmp(key, "hide") == 0 && !value) {
			a.hide_self = true;
			a.passthrough = true;
		} else if (strcmp(key, "hide") == 0 || strcmp(key, "hidename") == 0) {
			bool names = strcmp(key, "hidename") == 0;
			if (!value || !value[0]) {
				host->log(host->core, "viewfs: %s needs what to hide: %s (mount -t viewfs -o %s none DIR)",
					  key, names ? "hidename=NAME[:NAME...]" : "hide=PATH[:PATH...] relative to DIR",
					  names ? "hidename=NAME" : "hide=NAME");
				r = -EINVAL;
				continue;
			}
			size_t first = names ? a.n_hidename : a.n_hide;
			r = split_list(&pos, value, names ? a.hidename : a.hide, names ? &a.n_hidename : &a.n_hide,
				       VIEWFS_HIDE_MAX);
			if (r < 0) {
				host->log(host->core, "viewfs: at most %d paths to hide", VIEWFS_HIDE_MAX);
				continue;
			}
			for (size_t k = first; k < (names ? a.n_hidename : a.n_hide) && r == 0; k++) {
				const char *item = names ? a.hidename[k] : a.hide[k];
				bool ok = names ? item[0] && !strchr(item, '/') && strcmp(item, ".") && strcmp(item, "..")
						: relative_path_ok(item);
				if (!ok) {
					host->log(host->core, "viewfs: %s: '%s' is not %s", key, item,
						  names ? "a name (no '/', not '.' or '..')"
							: "a path below the mount (relative, no '..')");
					r = -EINVAL;
				}
			}
			a.passthrough = true;
		} else if (strcmp(key, "mode") == 0) {
			if (viewfs_mode_parse(value, &a.attr) < 0) {
				host->log(host->core, "viewfs: mode=%s: give octal (0444) or symbolic (a-w, u+x:go-rwx) bits",
					  value ? value : "");
				r = -EINVAL;
			}
			a.passthrough = true;
		} else if (strcmp(key, "uid") == 0 || strcmp(key, "gid") == 0) {
			uint32_t id;
			if (parse_id(value, &id) < 0) {
				host->log(host->core, "viewfs: %s=%s: give a number (the view's numbering)", key,
					  value ? value : "");
				r = -EINVAL;
			} else if (key[0] == 'u') {
				a.attr.set_uid = true;
				a.attr.uid = id;
			} else {
				a.attr.set_gid = true;
				a.attr.gid = id;
			}
			a.passthrough = true;
		} else {
			host->log(host->core, "viewfs: unknown option '%s%s%s'", key, value ? "=" : "", value ? value : "");
			r = -EINVAL;
		}
	}
	if (r == 0 && a.renew && a.mode != VIEWFS_COW && a.mode != VIEWFS_MINCOW) {
		host->log(host->core, "viewfs: renew needs cow or mincow");
		r = -EINVAL;
	}
	if (r == 0 && a.overlay_only && a.mode != VIEWFS_MERGE) {
		host->log(host->core, "viewfs: overlayonly goes with merge");
		r = -EINVAL;
	}
	if (r == 0 && a.fuse && a.mode != VIEWFS_COW && a.mode != VIEWFS_MINCOW) {
		host->log(host->core, "viewfs: fuse needs cow or mincow");
		r = -EINVAL;
	}
	if (r == 0 && a.passthrough && a.mode_given && a.mode != VIEWFS_MOVE) {
		host->log(host->core, "viewfs: hide, mode, uid and gid work alone, not with %s", viewfs_mode_name(a.mode));
		r = -EINVAL;
	}
	if (r == 0 && a.hide_self && (a.n_hide || a.n_hidename || a.attr.set_mode || a.attr.set_uid || a.attr.set_gid)) {
		host->log(host->core, "viewfs: hide (the target itself) goes alone; to combine, mount hide=NAME on its directory");
		r = -EINVAL;
	}
	if (r == 0 && a.n_except && (a.passthrough || (a.mode != VIEWFS_MERGE && a.mode != VIEWFS_COW &&
						       a.mode != VIEWFS_MINCOW))) {
		host->log(host->core, "viewfs: except= works with merge, cow and mincow");
		r = -EINVAL;
	}
	if (r == 0 && recursive && !(a.attr.set_mode || a.attr.set_uid || a.attr.set_gid)) {
		host->log(host->core, "viewfs: recursive goes with mode=, uid= or gid=");
		r = -EINVAL;
	}
	a.attr.recursive = recursive;
	if (r < 0) {
		viewfs_args_free(&a);
		return r;
	}
	*ret = a;
	return 0;
}
