/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Seccomp user notifications: receive, answer, validate, and access the
 * memory of the process that made the trapped call. */
#pragma once

#include <linux/seccomp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Ask the kernel to wake the trapped thread on the supervisor's CPU
 * (Linux >= 6.6); -EINVAL on older kernels, which callers may ignore. */
int notify_set_sync_wakeup(int listener);

/* Receive one notification; -ENOENT if its process died meanwhile. */
int notify_recv(int listener, struct seccomp_notif *ret);

/* Answer: `result` >= 0 is the syscall's return value, < 0 an -errno. */
int notify_respond(int listener, uint64_t id, int64_t result);

/* Let the kernel run the syscall as if no filter had trapped it. */
int notify_continue(int listener, uint64_t id);

/* Is notification `id` still pending (its process alive and waiting)?
 * Call after every read of tracee memory: pids can be reused. */
bool notify_id_valid(int listener, uint64_t id);

/* Install `fd` in the tracee and make it the trapped call's result. */
int notify_addfd_send(int listener, uint64_t id, int fd, bool cloexec);

/* Read a NUL-terminated string of at most `max` bytes (including the NUL)
 * at `addr` in process `pid`. Returns a new string or NULL with errno set
 * (EFAULT for a bad pointer, ENAMETOOLONG when longer than `max`). */
char *tracee_read_string(pid_t pid, uint64_t addr, size_t max);

/* Copy `len` bytes from / to the tracee; 0 or -errno (EFAULT if short). */
int tracee_read(pid_t pid, uint64_t addr, void *buf, size_t len);
int tracee_write(pid_t pid, uint64_t addr, const void *buf, size_t len);
