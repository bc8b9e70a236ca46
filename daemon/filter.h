/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The seccomp filter of a view: which syscalls go to the supervisor. */
#pragma once

#include <linux/filter.h>
#include <seccomp.h>
#include <stddef.h>

/* Syscalls trapped in every view, by name: the mount family, so services
 * can claim their mount types and nothing mount-related bypasses the
 * supervisor. Everything not listed (and not a view-control prctl) is
 * allowed and runs at native speed. */
extern const char *const filter_trapped_syscalls[];
extern const size_t filter_trapped_syscalls_count;

/* Build the filter: default allow, trapped calls notify the listener, the
 * view-control prctl and ioctl with one of ioctl_trap_requests (the
 * size-less device ioctls, ioctl-trap.h) notify, calls from a foreign ABI
 * (ia32, x32) kill the process. NO_NEW_PRIVS is set on load. Returns 0 or
 * -errno. */
int filter_build(scmp_filter_ctx *ret);

/* The BPF program of `ctx`; ret->filter is malloc'ed for the caller. */
int filter_compile(scmp_filter_ctx ctx, struct sock_fprog *ret);

/* Set NO_NEW_PRIVS and install `prog` with a new listener in the calling
 * thread; returns the listener fd or -errno. Only system calls: safe in a
 * child forked from the multithreaded supervisor (libseccomp's
 * seccomp_load() allocates, and an allocator lock held by another thread
 * at fork time would hang the child). */
int filter_install(const struct sock_fprog *prog);
