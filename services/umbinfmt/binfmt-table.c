/* SPDX-License-Identifier: GPL-2.0-or-later */
/* umbinfmt's registrations in trap mode: see binfmt-table.h. */
#include "binfmt-table.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#define FIRST_ENTRY_INO 16 /* 1 is the root, 2 status, 3 register */

/* Caller holds the lock. */
static void update_active(struct binfmt_table *t)
{
	bool any = false;
	for (struct binfmt_node *n = t->nodes; n && !any; n = n->next)
		any = n->enabled;
	atomic_store(&t->active, t->mounts > 0 && t->enabled && any);
}

void binfmt_table_init(struct binfmt_table *t)
{
	memset(t, 0, sizeof(*t));
	pthread_mutex_init(&t->lock, NULL);
	t->enabled = true;
	t->next_ino = FIRST_ENTRY_INO;
	atomic_init(&t->active, false);
}

static void clear_locked(struct binfmt_table *t)
{
	while (t->nodes) {
		struct binfmt_node *n = t->nodes;
		t->nodes = n->next;
		free(n);
	}
	update_active(t);
}

void binfmt_table_clear(struct binfmt_table *t)
{
	pthread_mutex_lock(&t->lock);
	clear_locked(t);
	pthread_mutex_unlock(&t->lock);
}

void binfmt_table_destroy(struct binfmt_table *t)
{
	binfmt_table_clear(t);
	pthread_mutex_destroy(&t->lock);
}

int binfmt_table_mount(struct binfmt_table *t, int fuse_fd, bool started)
{
	int r = 0;
	pthread_mutex_lock(&t->lock);
	if (started) {
		if (t->mounts == BINFMT_MOUNTS_MAX)
			r = -EMFILE;
		else
			t->fds[t->mounts++] = fuse_fd;
	} else {
		for (unsigned i = 0; i < t->mounts; i++)
			if (t->fds[i] == fuse_fd) {
				t->fds[i] = t->fds[--t->mounts];
				break;
			}
		if (t->mounts == 0) {
			t->enabled = true;
			clear_locked(t);
		}
	}
	update_active(t);
	pthread_mutex_unlock(&t->lock);
	return r;
}

/* Is one of the mounts still connected? /dev/fuse polls EPOLLERR once
 * its connection is aborted. Caller holds the lock. */
static bool connected(struct binfmt_table *t)
{
	for (unsigned i = 0; i < t->mounts; i++) {
		struct pollfd p = { .fd = t->fds[i], .events = POLLIN };
		if (poll(&p, 1, 0) >= 0 && !(p.revents & (POLLERR | POLLNVAL)))
			return true;
	}
	return false;
}

static struct binfmt_node *find_name(struct binfmt_table *t, const char *name)
{
	for (struct binfmt_node *n = t->nodes; n; n = n->next)
		if (strcmp(n->entry.name, name) == 0)
			return n;
	return NULL;
}

int binfmt_table_add(struct binfmt_table *t, const struct binfmt_entry *e, uint64_t *ret_ino)
{
	if (strcmp(e->name, "register") == 0 || strcmp(e->name, "status") == 0)
		return -EEXIST;
	struct binfmt_node *n = calloc(1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	n->entry = *e;
	n->enabled = true;
	clock_gettime(CLOCK_REALTIME, &n->created);
	pthread_mutex_lock(&t->lock);
	if (find_name(t, e->name)) {
		pthread_mutex_unlock(&t->lock);
		free(n);
		return -EEXIST;
	}
	n->ino = t->next_ino++;
	n->next = t->nodes;
	t->nodes = n;
	update_active(t);
	uint64_t ino = n->ino;
	pthread_mutex_unlock(&t->lock);
	if (ret_ino)
		*ret_ino = ino;
	return 0;
}

int binfmt_table_command(struct binfmt_table *t, uint64_t ino, int command)
{
	int r = 0;
	pthread_mutex_lock(&t->lock);
	if (ino == 0) {
		if (command == 1 || command == 2)
			t->enabled = command == 2;
		else if (command == 3)
			clear_locked(t);
	} else {
		struct binfmt_node **p = &t->nodes;
		while (*p && (*p)->ino != ino)
			p = &(*p)->next;
		if (!*p) {
			r = -ENOENT;
		} else if (command == 1 || command == 2) {
			(*p)->enabled = command == 2;
		} else if (command == 3) {
			struct binfmt_node *gone = *p;
			*p = gone->next;
			free(gone);
		}
	}
	update_active(t);
	pthread_mutex_unlock(&t->lock);
	return r;
}

int binfmt_table_lookup(struct binfmt_table *t, const char *name, uint64_t *ret_ino)
{
	pthread_mutex_lock(&t->lock);
	struct binfmt_node *n = find_name(t, name);
	uint64_t ino = n ? n->ino : 0;
	pthread_mutex_unlock(&t->lock);
	if (!n)
		return -ENOENT;
	*ret_ino = ino;
	return 0;
}

int binfmt_table_get(struct binfmt_table *t, uint64_t ino, struct binfmt_node *ret_node)
{
	int r = -ENOENT;
	pthread_mutex_lock(&t->lock);
	for (struct binfmt_node *n = t->nodes; n; n = n->next)
		if (n->ino == ino) {
			if (ret_node) {
				*ret_node = *n;
				ret_node->next = NULL;
			}
			r = 0;
			break;
		}
	pthread_mutex_unlock(&t->lock);
	return r;
}

const char *binfmt_table_status(struct binfmt_table *t)
{
	pthread_mutex_lock(&t->lock);
	bool on = t->enabled;
	pthread_mutex_unlock(&t->lock);
	return on ? "enabled\n" : "disabled\n";
}

void binfmt_table_each(struct binfmt_table *t, void (*fn)(const struct binfmt_node *n, void *ctx), void *ctx)
{
	pthread_mutex_lock(&t->lock);
	for (struct binfmt_node *n = t->nodes; n; n = n->next)
		fn(n, ctx);
	pthread_mutex_unlock(&t->lock);
}

static bool entry_matches(const struct binfmt_entry *e, const char *dot, const unsigned char *header)
{
	if (e->type == 'E')
		return dot && strcmp(e->extension, dot + 1) == 0;
	const unsigned char *s = header + e->offset;
	for (size_t j = 0; j < e->size; j++)
		if ((s[j] ^ e->magic[j]) & (e->has_mask ? e->mask[j] : 0xff))
			return false;
	return true;
}

bool binfmt_table_may_match(struct binfmt_table *t, const char *path)
{
	const char *dot = strrchr(path, '.');
	bool may = false;
	pthread_mutex_lock(&t->lock);
	for (struct binfmt_node *n = t->enabled ? t->nodes : NULL; n && !may; n = n->next)
		may = n->enabled && (n->entry.type == 'M' || (dot && strcmp(n->entry.extension, dot + 1) == 0));
	pthread_mutex_unlock(&t->lock);
	return may;
}

int binfmt_table_match(struct binfmt_table *t, const char *path, const unsigned char *header,
		       char *interpreter, size_t size, unsigned *ret_flags)
{
	/* The kernel looks at the last '.' of the whole name it was given. */
	const char *dot = strrchr(path, '.');
	int r = 0;
	pthread_mutex_lock(&t->lock);
	for (struct binfmt_node *n = t->enabled && connected(t) ? t->nodes : NULL; n; n = n->next) {
		if (!n->enabled || !entry_matches(&n->entry, dot, header))
			continue;
		size_t len = strlen(n->entry.interpreter);
		if (len >= size) {
			r = -ENAMETOOLONG;
		} else {
			memcpy(interpreter, n->entry.interpreter, len + 1);
			*ret_flags = n->entry.flags;
			r = 1;
		}
		break;
	}
	pthread_mutex_unlock(&t->lock);
	return r;
}
