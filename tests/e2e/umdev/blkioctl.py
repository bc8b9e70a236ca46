#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The block-device ioctls whose encoding carries no size, as programs
issue them (tests/e2e/umdev/blk-ioctl.sh): one line per PATH.

  blkioctl.py PATH...   # "PATH ssz=.. pbsz=.. iomin=.. ro=.. sectors=.. bytes=.. geo=H/S/C/START"
                        # an ioctl the kernel refused shows its errno name
  blkioctl.py --opath PATH   # BLKSSZGET on an O_PATH fd: the kernel's EBADF"""
import errno
import fcntl
import os
import struct
import sys

BLKROGET = 0x125E
BLKGETSIZE = 0x1260
BLKSSZGET = 0x1268
BLKIOMIN = 0x1278
BLKPBSZGET = 0x127B
BLKGETSIZE64 = 0x80081272
HDIO_GETGEO = 0x0301


def ask(fd, req, fmt):
    try:
        return struct.unpack(fmt, fcntl.ioctl(fd, req, bytes(struct.calcsize(fmt))))
    except OSError as e:
        return (errno.errorcode[e.errno],)


def main():
    if sys.argv[1] == "--opath":
        fd = os.open(sys.argv[2], os.O_PATH)
        print(f"O_PATH: BLKSSZGET {ask(fd, BLKSSZGET, 'i')[0]}")
        return 0
    for path in sys.argv[1:]:
        fd = os.open(path, os.O_RDONLY)
        geo = ask(fd, HDIO_GETGEO, "BBHxxxxL")
        print(f"{path} ssz={ask(fd, BLKSSZGET, 'i')[0]} pbsz={ask(fd, BLKPBSZGET, 'I')[0]}"
              f" iomin={ask(fd, BLKIOMIN, 'I')[0]} ro={ask(fd, BLKROGET, 'i')[0]}"
              f" sectors={ask(fd, BLKGETSIZE, 'L')[0]} bytes={ask(fd, BLKGETSIZE64, 'Q')[0]}"
              f" geo={'/'.join(str(x) for x in geo)}")
        os.close(fd)
    return 0


if __name__ == "__main__":
    sys.exit(main())
