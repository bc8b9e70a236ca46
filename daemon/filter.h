/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The seccomp filter of a view: which syscalls go to the supervisor. */
#pragma once

#include <linux/filter.h>
#include <stdbool.h>
#include <seccomp.h>
#include <stddef.h>

/* Syscalls trapped in every view, by name: the mount family, so services
 * can claim their mount types and nothing mount-related bypasses the
 * supervisor. Everything not listed (and not a view-control prctl) is
 * allowed and runs at native speed. */
extern const char *const filter_trapped_syscalls[];
extern const size_t filter_trapped_syscalls_count;

/* Set in the upper half of execveat's flags, which the kernel reads as an
 * int: the filter lets that exec run untrapped. The launcher execs the
 * command so (nothing answers notifications before it runs). A process of
 * the view may do the same: it only escapes the exec formats a service
 * emulates (exec-trap.h), nothing the kernel enforces. */
#define FILTER_EXEC_UNTRAPPED (1ULL << 32)

/* Should a new view trap execve/execveat (for exec formats served by a
 * service, umbinfmt's mode=trap)? VOS_TRAP_EXEC=1 or 0 decides; otherwise
 * only on kernels without binfmt_misc per user namespace (Linux < 6.7):
 * elsewhere every exec runs untouched, at native speed. */
bool filter_exec_wanted(void);

/* Build the filter: default allow, trapped calls notify the listener, the
 * view-control prctl and ioctl with one of ioctl_trap_requests (the
 * size-less device ioctls, ioctl-trap.h) notify, with `trap_exec` execve
 * and execveat too, calls from a foreign ABI (ia32, x32) kill the process.
 * NO_NEW_PRIVS is set on load. Returns 0 or -errno. */
int filter_build(scmp_filter_ctx *ret, bool trap_exec);

/* The BPF program of `ctx`; ret->filter is malloc'ed for the caller. */
int filter_compile(scmp_filter_ctx ctx, struct sock_fprog *ret);

/* Set NO_NEW_PRIVS and install `prog` with a new listener in the calling
 * thread; returns the listener fd or -errno. Only system calls: safe in a
 * child forked from the multithreaded supervisor (libseccomp's
 * seccomp_load() allocates, and an allocator lock held by another thread
 * at fork time would hang the child). */
int filter_install(const struct sock_fprog *prog);
