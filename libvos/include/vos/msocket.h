/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * msocket: socket(2) in a chosen network stack of the view (umnet).
 *
 * A stack is a node mounted by umnet (`mount -t umnetvde -o vde=URL none
 * /dev/net/vde0`); msocket(path, ...) creates the socket in that stack,
 * msocket(NULL, ...) in the calling process's default stack (exactly what
 * socket(2) does in a view). Returns a file descriptor or -1 with errno set,
 * like socket(2); see msocket(3).
 */
#pragma once

#ifdef __cplusplus
extern "C" {
#endif

int msocket(const char *stack_path, int domain, int type, int protocol);

#ifdef __cplusplus
}
#endif
