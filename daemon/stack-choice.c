/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "stack-choice.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

/* How far up the process tree a choice is inherited. */
#define STACK_CHOICE_DEPTH_MAX 64

int process_parent_and_start(pid_t pid, pid_t *ret_parent, unsigned long long *ret_start)
{
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	if (n <= 0)
		return n < 0 ? -errno : -EIO;
	buf[n] = '\0';
	/* "pid (comm) state ppid ...": comm may hold spaces and ')'. */
	char *p = strrchr(buf, ')');
	if (!p)
		return -EIO;
	int parent;
	unsigned long long start;
	if (sscanf(p + 1, " %*c %d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %*d %*d %llu",
		   &parent, &start) != 2)
		return -EIO;
	if (ret_parent)
		*ret_parent = parent;
	if (ret_start)
		*ret_start = start;
	return 0;
}

void stack_choices_init(struct stack_choices *c)
{
	pthread_mutex_init(&c->lock, NULL);
	c->count = 0;
}

void stack_choices_done(struct stack_choices *c)
{
	pthread_mutex_destroy(&c->lock);
}

static bool choice_alive(const struct stack_choice *choice)
{
	unsigned long long start;
	return process_parent_and_start(choice->pid, NULL, &start) == 0 && start == choice->start;
}

int stack_choice_record(struct stack_choices *c, pid_t pid)
{
	unsigned long long start;
	int r = process_parent_and_start(pid, NULL, &start);
	if (r < 0)
		return r;
	pthread_mutex_lock(&c->lock);
	size_t kept = 0;
	for (size_t i = 0; i < c->count; i++)
		if (choice_alive(&c->items[i]) && !(c->items[i].pid == pid && c->items[i].start == start))
			c->items[kept++] = c->items[i];
	c->count = kept;
	r = -ENOSPC;
	if (c->count < STACK_CHOICES_MAX) {
		c->items[c->count++] = (struct stack_choice){.pid = pid, .start = start};
		r = 0;
	}
	pthread_mutex_unlock(&c->lock);
	return r;
}

static bool chose(struct stack_choices *c, pid_t pid, unsigned long long start)
{
	for (size_t i = 0; i < c->count; i++)
		if (c->items[i].pid == pid && c->items[i].start == start)
			return true;
	return false;
}

bool stack_choice_applies(struct stack_choices *c, pid_t pid)
{
	pthread_mutex_lock(&c->lock);
	bool found = false;
	for (int depth = 0; c->count > 0 && pid > 1 && depth < STACK_CHOICE_DEPTH_MAX && !found; depth++) {
		pid_t parent;
		unsigned long long start;
		if (process_parent_and_start(pid, &parent, &start) < 0)
			break;
		found = chose(c, pid, start);
		pid = parent;
	}
	pthread_mutex_unlock(&c->lock);
	return found;
}
