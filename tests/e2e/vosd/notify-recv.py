#!/usr/bin/env python3
# A stand-in for systemd's notification socket: receive sd_notify
# datagrams on SOCKET for at most SECONDS and print each with the time
# since the first (ms). Usage: notify-recv.py SOCKET SECONDS READY_FILE
import os, socket, sys, time

path, seconds, ready = sys.argv[1], float(sys.argv[2]), sys.argv[3]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
open(ready, 'w').close()
end = time.monotonic() + seconds
first = None
while True:
    left = end - time.monotonic()
    if left <= 0:
        break
    s.settimeout(left)
    try:
        data = s.recv(4096)
    except socket.timeout:
        break
    now = time.monotonic()
    first = now if first is None else first
    for line in data.decode(errors='replace').splitlines():
        print('%d %s' % ((now - first) * 1000, line), flush=True)
