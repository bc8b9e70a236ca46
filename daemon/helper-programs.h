/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The programs a view's helper spawned (FUSE programs of umfuse): at the
 * end of the view they get to finish. A FUSE program writes back what it
 * caches (fuse2fs, umfuseext2: bitmaps, inode tables) only when its loop
 * ends, so killing it with the view loses data that the user already
 * unmounted, or never unmounted because the view's end would do it.
 *
 * Used by the helper only (single-threaded); no locking.
 */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#define HELPER_PROGRAMS_MAX 256
/* How long the view's end waits for its programs to write back and exit. */
#define HELPER_PROGRAMS_END_TIMEOUT_MS 30000

/* Remember a spawned program (a copy of `pidfd` is kept). */
void helper_programs_add(pid_t pid, int pidfd);

/* True if `pid` is a program that is still remembered. */
bool helper_programs_has(pid_t pid);

/* The view is ending: detach every FUSE mount of the helper's mount
 * namespace, so that each program's connection ends as on umount, then
 * wait until every program has exited, at most `timeout_ms`. Programs
 * still running afterwards die with the helper (PR_SET_PDEATHSIG). */
void helper_programs_end(int timeout_ms);
