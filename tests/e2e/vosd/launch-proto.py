#!/usr/bin/env python3
# Bad LAUNCH_VIEW requests straight on vosd's socket: each gets one
# one-line VOSD_REPLY_ERROR with the expected errno and vosd survives.
# Usage: launch-proto.py SOCKET
import errno, os, socket, struct, sys

path = sys.argv[1]
MAGIC, VERSION, LAUNCH, OK, ERROR = 0x44534f56, 1, 10, 100, 101
ARGV, ENV, PRELOAD = 4, 22, 6

def field(tag, value):
    return struct.pack('<HHI', tag, 0, len(value)) + value

def s0(t):
    return t.encode() + b'\0'

def msg(mtype, body):
    return struct.pack('<IHHII', MAGIC, VERSION, mtype, len(body), 0) + body

def ask(data, fds):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.settimeout(10)
    s.connect(path)
    anc = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, struct.pack('%di' % len(fds), *fds))] if fds else []
    s.sendmsg([data], anc)
    reply = s.recv(65536)
    s.close()
    mtype = struct.unpack_from('<IHHII', reply)[2]
    body, err, message = reply[16:], None, None
    while len(body) >= 8:
        tag, _, n = struct.unpack_from('<HHI', body)
        if tag == 9:
            err = struct.unpack_from('<I', body, 8)[0]
        if tag == 10:
            message = body[8:8 + n - 1].decode()
        body = body[8 + n:]
    return mtype, err, message

null = os.open('/dev/null', os.O_RDWR)
rdonly = os.open('/dev/null', os.O_RDONLY)
cwd = os.open('.', os.O_PATH | os.O_DIRECTORY)
good = True
checks = [
    ('a file as working directory', field(ARGV, s0('true')), (null, null, null, null), errno.ENOTDIR),
    ('a read-only stdout', field(ARGV, s0('true')), (null, rdonly, null, cwd), errno.EBADF),
    ('an O_PATH stdin', field(ARGV, s0('true')), (cwd, null, null, cwd), errno.EBADF),
    ('an empty command name', field(ARGV, s0('')), (null, null, null, cwd), errno.EINVAL),
    ('environment without =', field(ARGV, s0('true')) + field(ENV, s0('NOEQUALS')), (null, null, null, cwd), errno.EINVAL),
    ('three descriptors', field(ARGV, s0('true')), (null, null, null), errno.EBADMSG),
    ('no ARGV', field(ENV, s0('A=b')), (null, null, null, cwd), errno.EBADMSG),
    ('a bad service name', field(ARGV, s0('true')) + field(PRELOAD, s0('../x')), (null, null, null, cwd), errno.EINVAL),
]
for what, body, fds, want in checks:
    mtype, err, message = ask(msg(LAUNCH, body), fds)
    if mtype != ERROR or err != want or not message or '\n' in message:
        print('FAIL: %s: expected error %s, got type %s errno %s: %r' % (what, errno.errorcode[want], mtype, err, message))
        good = False
    else:
        print('ok: %s: %s' % (what, message))
# A good request still works: the view runs `true` and exits 0.
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.settimeout(20)
s.connect(path)
s.sendmsg([msg(LAUNCH, field(ARGV, s0('true')) + field(ENV, s0('PATH=/usr/bin:/bin')))],
          [(socket.SOL_SOCKET, socket.SCM_RIGHTS, struct.pack('4i', null, null, null, cwd))])
replies = [s.recv(65536), s.recv(65536)]
types = [struct.unpack_from('<IHHII', r)[2] for r in replies]
status = None
body = replies[1][16:]
while len(body) >= 8:
    tag, _, n = struct.unpack_from('<HHI', body)
    if tag == 23:
        status = struct.unpack_from('<I', body, 8)[0]
    body = body[8 + n:]
if types != [OK, 102] or status != 0:
    print('FAIL: good launch: replies %r, status %r' % (types, status))
    good = False
else:
    print('ok: good launch: OK, then VIEW_EXIT with status 0')
sys.exit(0 if good else 1)
