/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The supervisor core: the event loop over views' listeners and signals,
 * and the log. The embedded `vos run` is a thin main() around it. */
#pragma once

#include <stdarg.h>
#include <pthread.h>
#include <stdio.h>

#include "launcher.h"

struct vos_view;

struct supervisor {
	FILE *debug;                /* debug log (-o FILE, or stderr with -v), or NULL */
	FILE *out;                  /* service messages (stderr) */
	pthread_mutex_t log_lock;
};

void supervisor_init(struct supervisor *sup, FILE *debug);

void supervisor_debug(struct supervisor *sup, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void supervisor_vprint(struct supervisor *sup, FILE *to, const char *fmt, va_list ap);

/* Serve `view` (attached to its launched command) until its last process
 * has exited: the command and everything reparented to us as subreaper.
 * Returns the command's wait status, or -errno if serving failed. */
int supervisor_run_view(struct supervisor *sup, struct vos_view *view);
