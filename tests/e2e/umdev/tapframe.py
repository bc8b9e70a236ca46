#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Frames through a tap device node (umdevtap), as a program using
/dev/net/tun would move them. One side of tests/e2e/umdev/tap.sh:

  tapframe.py NODE peer-a DIR   # raw frames; waits for DIR/b-ready
  tapframe.py NODE peer-b DIR   # TUNSETIFF IFF_TAP (with packet info)
  tapframe.py NODE ioctls       # TUNSETIFF/TUNGETIFF/TUNGETFEATURES checks
  tapframe.py NODE nonblock     # O_NONBLOCK read of an idle node: EAGAIN
  tapframe.py NODE block        # a blocking read, forever (killed by the test)
  tapframe.py NODE interrupt    # a blocking read ended by SIGALRM
  tapframe.py FILE not-a-tap    # TUNSETIFF on a regular file: the kernel's ENOTTY

Every wait is bounded; output lines are checked by tap.sh."""
import errno
import fcntl
import os
import select
import signal
import struct
import sys
import threading
import time

TUNSETIFF = 0x400454CA
TUNGETIFF = 0x800454D2
TUNGETFEATURES = 0x800454CF
IFF_TUN, IFF_TAP, IFF_NO_PI = 0x0001, 0x0002, 0x1000
ETHERTYPE = 0x88B5  # IEEE local experimental
MAC_A = bytes.fromhex("020000000a0a")
MAC_B = bytes.fromhex("020000000b0b")
BCAST = b"\xff" * 6


def ifreq(name, flags):
    return struct.pack("16sH22x", name.encode(), flags)


def frame(dst, src, payload):
    return dst + src + struct.pack("!H", ETHERTYPE) + payload


def wait_readable(fd, secs):
    r, _, _ = select.select([fd], [], [], secs)
    return bool(r)


def read_ours(fd, secs, head=0):
    """The next frame of our EtherType (others, e.g. IPv6 chatter of a
    neighbour, are skipped), read only after poll says it is there."""
    deadline = time.monotonic() + secs
    while time.monotonic() < deadline:
        if not wait_readable(fd, deadline - time.monotonic()):
            break
        data = os.read(fd, 4096)
        if len(data) >= head + 14 and struct.unpack("!H", data[head + 12:head + 14])[0] == ETHERTYPE:
            return data
    return None


def peer_a(node, d):
    fd = os.open(node, os.O_RDWR)
    # A reader thread blocked in read() on a second open file of the node:
    # it must not keep the writes below from going out.
    fd_reader = os.open(node, os.O_RDWR)
    got = []

    def reader():
        while True:
            data = os.read(fd_reader, 4096)  # blocks: no poll first
            if struct.unpack("!H", data[12:14])[0] == ETHERTYPE:
                got.append(data)
                return

    t = threading.Thread(target=reader, daemon=True)
    t.start()
    for _ in range(200):
        if os.path.exists(os.path.join(d, "b-ready")):
            break
        time.sleep(0.05)
    else:
        print("A: B never got ready")
        return 1
    time.sleep(0.2)  # the reader thread is inside read() by now
    sent = os.write(fd, frame(BCAST, MAC_A, b"hello from A"))
    print(f"A: wrote {sent} bytes while a read was blocked")
    t.join(10)
    if not got:
        print("A: no answer from B")
        return 1
    data = got[0]
    print(f"A: got from {data[6:12].hex()} to {data[0:6].hex()}: {data[14:].decode(errors='replace')}")
    return 0


def peer_b(node, d):
    fd = os.open(node, os.O_RDWR)
    req = fcntl.ioctl(fd, TUNSETIFF, ifreq("", IFF_TAP))  # with packet info
    name = req[:16].rstrip(b"\0").decode()
    print(f"B: TUNSETIFF IFF_TAP -> {name}")
    open(os.path.join(d, "b-ready"), "w").close()
    # A sends 0.2 s after b-ready: select sleeps until the node's poll
    # notification wakes it.
    start = time.monotonic()
    if wait_readable(fd, 10):
        waited = time.monotonic() - start
        print(f"B: select woke up for a frame after {waited:.1f} s" if waited > 0.1
              else "B: select did not sleep")
    data = read_ours(fd, 10, head=4)
    if data is None:
        print("B: nothing from A")
        return 1
    flags, proto = struct.unpack("!HH", data[:4])
    print(f"B: packet info flags {flags} proto {proto:#06x}")
    eth = data[4:]
    print(f"B: got from {eth[6:12].hex()} to {eth[0:6].hex()}: {eth[14:].decode(errors='replace')}")
    reply = struct.pack("!HH", 0, ETHERTYPE) + frame(eth[6:12], MAC_B, b"hello from B")
    os.write(fd, reply)
    return 0


def ioctls(node):
    fd = os.open(node, os.O_RDWR)
    try:
        fcntl.ioctl(fd, TUNSETIFF, ifreq("", IFF_TUN | IFF_NO_PI))
        print("IFF_TUN accepted")
    except OSError as e:
        print(f"IFF_TUN: {errno.errorcode[e.errno]}")
    req = fcntl.ioctl(fd, TUNSETIFF, ifreq("", IFF_TAP | IFF_NO_PI))
    name = req[:16].rstrip(b"\0").decode()
    print(f"TUNSETIFF IFF_TAP|IFF_NO_PI -> {name}")
    got = fcntl.ioctl(fd, TUNGETIFF, bytes(40))
    name = got[:16].rstrip(b"\0").decode()
    flags = struct.unpack("H", got[16:18])[0]
    print(f"TUNGETIFF -> {name} flags {flags:#06x}")
    feats = struct.unpack("I", fcntl.ioctl(fd, TUNGETFEATURES, bytes(4)))[0]
    print(f"TUNGETFEATURES -> {feats:#06x}")
    return 0


def nonblock(node):
    fd = os.open(node, os.O_RDWR | os.O_NONBLOCK)
    try:
        os.read(fd, 2048)
        print("nonblock: a frame?")
    except BlockingIOError:
        print("nonblock: EAGAIN")
    print(f"poll idle: {'readable' if wait_readable(fd, 0.3) else 'not readable'}")
    return 0


def block(node):
    fd = os.open(node, os.O_RDWR)
    print("blocking", flush=True)
    os.read(fd, 2048)
    return 0


def interrupt(node):
    fd = os.open(node, os.O_RDWR)

    def on_alarm(sig, frm):
        raise TimeoutError

    signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(1)
    start = time.monotonic()
    try:
        os.read(fd, 2048)
        print("interrupt: read returned")
    except TimeoutError:
        print(f"interrupt: SIGALRM ended the read after {time.monotonic() - start:.0f} s")
    return 0


def not_a_tap(path):
    fd = os.open(path, os.O_RDWR)
    try:
        fcntl.ioctl(fd, TUNSETIFF, ifreq("", IFF_TAP))
        print("regular file: TUNSETIFF accepted")
    except OSError as e:
        print(f"regular file: TUNSETIFF {errno.errorcode[e.errno]}")
    return 0


def main():
    node, what = sys.argv[1], sys.argv[2]
    if what == "peer-a":
        return peer_a(node, sys.argv[3])
    if what == "peer-b":
        return peer_b(node, sys.argv[3])
    return {"ioctls": ioctls, "nonblock": nonblock, "block": block,
            "interrupt": interrupt, "not-a-tap": not_a_tap}[what](node)


if __name__ == "__main__":
    sys.exit(main())
