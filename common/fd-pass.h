/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>
#include <sys/types.h>

/* At most this many descriptors travel with one message. */
#define FD_PASS_MAX 8

/* Send one message of `len` bytes with up to `n_fds` descriptors attached.
 * Returns 0 or -errno (-EMSGSIZE if the socket took less). */
int fd_send(int sock, const void *buf, size_t len, const int *fds, size_t n_fds);

/* Receive one message into `buf` (at most `size` bytes) and up to `max_fds`
 * descriptors (close-on-exec). Unused slots of `ret_fds` are set to -1.
 * Returns the message length, 0 on EOF (and no fds, even if an empty
 * packet brought some), or -errno: -EMSGSIZE (and no fds)
 * for a truncated message or more descriptors than `max_fds`. */
ssize_t fd_recv(int sock, void *buf, size_t size, int *ret_fds, size_t max_fds);
