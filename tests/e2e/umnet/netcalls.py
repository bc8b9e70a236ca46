#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
# Network-related calls for the umnet tests, each printing "NAME: ok" or
# "NAME: <errno name>": socket, msocket (libvos), setns, io_uring_setup,
# move_mount, open_tree. Usage: netcalls.py LIBVOS CALL [ARGS...]
import ctypes
import errno
import os
import socket
import sys

libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
AT_FDCWD = -100
SYS = {"io_uring_setup": 425, "open_tree": 428, "move_mount": 429}


def result(name, r):
    if r < 0:
        e = ctypes.get_errno()
        print(f"{name}: {errno.errorcode.get(e, e)}")
    else:
        print(f"{name}: ok")


def main():
    libvos, call, args = sys.argv[1], sys.argv[2], sys.argv[3:]
    if call == "socket":
        family = {"inet": socket.AF_INET, "inet6": socket.AF_INET6, "unix": socket.AF_UNIX,
                  "netlink": socket.AF_NETLINK}[args[0]]
        try:
            s = socket.socket(family, socket.SOCK_DGRAM if family == socket.AF_NETLINK else socket.SOCK_STREAM)
            s.close()
            print("socket: ok")
        except OSError as e:
            print(f"socket: {errno.errorcode.get(e.errno, e.errno)}")
    elif call == "msocket":
        vos = ctypes.CDLL(libvos, use_errno=True)
        path = None if args[0] == "NULL" else args[0].encode()
        fd = vos.msocket(path, socket.AF_INET, socket.SOCK_STREAM | socket.SOCK_CLOEXEC, 0)
        if fd >= 0:
            s = socket.socket(fileno=fd)
            print(f"msocket: ok {s.family.name} cloexec={not os.get_inheritable(fd)}")
            s.close()
        else:
            result("msocket", fd)
    elif call == "setns":
        fd = os.open("/proc/self/ns/net", os.O_RDONLY)
        result("setns", libc.setns(fd, 0))
    elif call == "io_uring_setup":
        params = ctypes.create_string_buffer(120)
        r = libc.syscall(SYS["io_uring_setup"], 4, params)
        result("io_uring_setup", r)
        if r >= 0:
            os.close(r)
    elif call == "move_mount":
        r = libc.syscall(SYS["move_mount"], AT_FDCWD, args[0].encode(), AT_FDCWD, args[1].encode(), 0)
        result("move_mount", r)
    elif call == "open_tree_move":
        # open_tree(OPEN_TREE_CLONE) of a path, attached elsewhere: a copy.
        fd = libc.syscall(SYS["open_tree"], AT_FDCWD, args[0].encode(), 1)  # OPEN_TREE_CLONE
        if fd < 0:
            result("open_tree", fd)
            return
        r = libc.syscall(SYS["move_mount"], fd, b"", AT_FDCWD, args[1].encode(), 4)  # F_EMPTY_PATH
        result("open_tree_move", r)
    else:
        sys.exit(f"unknown call {call}")


main()
