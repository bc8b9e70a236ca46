/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Processes that chose their network stack with mstack(1).
 *
 * `mstack /dev/net/native CMD` (or a "current" stack) leaves CMD in the
 * network namespace it already has, which is also the view's own: nothing
 * in the kernel tells CMD apart from a process that made no choice and
 * should get the view's default stack. The supervisor remembers such a
 * choice by process (pid + start time, so a reused pid does not inherit
 * it) and honours it for the process and its descendants.
 */
#pragma once

#include <pthread.h>
#include <stdbool.h>
#include <sys/types.h>

#define STACK_CHOICES_MAX 1024

struct stack_choice {
	pid_t pid;
	unsigned long long start; /* /proc/PID/stat field 22 */
};

struct stack_choices {
	pthread_mutex_t lock;
	struct stack_choice items[STACK_CHOICES_MAX];
	size_t count;
};

void stack_choices_init(struct stack_choices *c);
void stack_choices_done(struct stack_choices *c);

/* Remember that `pid` chose the stack it is in. Entries of processes
 * that have ended are dropped first; -ENOSPC when the table is still full. */
int stack_choice_record(struct stack_choices *c, pid_t pid);

/* True when `pid` or one of its ancestors chose its stack. */
bool stack_choice_applies(struct stack_choices *c, pid_t pid);

/* The parent and start time of `pid` from /proc/PID/stat. */
int process_parent_and_start(pid_t pid, pid_t *ret_parent, unsigned long long *ret_start);
