/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vos-fuse-runner's private interfaces. */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

/* The FUSE connection the core mounted at the target, as the runner gets it. */
#define RUNNER_FUSE_FD 3
#define RUNNER_FUSE_FD_PATH "/dev/fd/3"

/* fuse-runner-stat.c: stat(RUNNER_FUSE_FD_PATH) reports the mount point
 * (the root of the mount, of type `root_type`) rather than /dev/fuse, as
 * a FUSE program mounted by fusermount on TARGET would see it. */
void runner_stat_set_root(mode_t root_type);

/* fuse-runner-sandbox.c */
/* Give the program its own mount namespace in which the view's mount at
 * `target` is detached (so unmounting it in the view ends the connection)
 * and fusermount and fusermount3 are the programs in `fusermount_dir`.
 * 0 or -errno, with `what` set to the step that failed. */
int runner_private_mounts(const char *target, const char *fusermount_dir, const char **what);
/* Refuse the mount family (EPERM) so libfuse falls back to fusermount
 * and never mounts a connection of its own; with `fake_umount`, umount
 * and umount2 succeed without doing anything (the view owns the mount). */
int runner_seccomp(bool fake_umount);

/* fuse-runner-poll.c: start the burst poller (burst-poll.h) for the
 * module about to run; each request it reads is counted by
 * runner_poll_request. */
void runner_poll_start(void);
void runner_poll_request(void);

/* fuse-runner-io.c: how to serve the module about to run (its promises,
 * vos-fuse-hints.h). */
void runner_io_set_hints(unsigned module_hints);

/* fuse-runner-serial.c: read() of the connection for a module that
 * promised VOS_FUSE_HINT_SERIAL_READER. */
ssize_t runner_serial_read(ssize_t (*libc_read)(int, void *, size_t), int fd, void *buf, size_t count);
