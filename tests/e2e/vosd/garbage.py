#!/usr/bin/env python3
# Bad input on vosd's socket: every malformed message must get one
# VOSD_REPLY_ERROR (or, for a packet vosd cannot even take, the connection
# closed), never a crash. Usage: garbage.py SOCKET SEED ROUNDS
import os, random, socket, struct, sys

path, seed, rounds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = random.Random(seed)
MAGIC, VERSION, MAX = 0x44534f56, 1, 65536
OK, ERROR = 100, 101

def field(tag, value):
    return struct.pack('<HHI', tag, 0, len(value)) + value

def msg(mtype, body, version=VERSION, length=None, magic=MAGIC):
    return struct.pack('<IHHII', magic, version, mtype, len(body) if length is None else length, 0) + body

def ask(data, fds=()):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.settimeout(10)
    s.connect(path)
    try:
        anc = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, struct.pack('%di' % len(fds), *fds))] if fds else []
        s.sendmsg([data], anc)
        reply = s.recv(MAX)
    except (BrokenPipeError, ConnectionResetError, OSError) as e:
        if isinstance(e, socket.timeout):
            raise
        return None
    finally:
        s.close()
    if not reply:
        return None
    magic, version, mtype, length, _ = struct.unpack_from('<IHHII', reply)
    assert magic == MAGIC and version == VERSION and length == len(reply) - 16, 'malformed reply'
    return mtype, reply

def expect_error(what, data, fds=()):
    r = ask(data, fds)
    if r is None or r[0] != ERROR:
        print('FAIL: %s: expected an error reply, got %r' % (what, r))
        return False
    body, message = r[1][16:], None
    while len(body) >= 8:
        tag, _, n = struct.unpack_from('<HHI', body)
        if tag == 10:
            message = body[8:8 + n]
        body = body[8 + n:]
    if not message or b'\n' in message or not message.endswith(b'\0'):
        print('FAIL: %s: error of more than one line' % what)
        return False
    return True

good = True
u32 = lambda v: struct.pack('<I', v)
s0 = lambda t: t.encode() + b'\0'
devnull = os.open('/dev/null', os.O_RDWR)
checks = [
    ('short header', b'VOSD'),
    ('bad magic', msg(9, b'', magic=0x12345678)),
    ('wrong version', msg(9, b'', version=7)),
    ('length larger than the packet', msg(9, b'', length=100)),
    ('length smaller than the packet', msg(9, field(1, u32(1)), length=2)),
    ('oversized length prefix', msg(9, b'', length=0xffffffff)),
    ('unknown type', msg(77, b'')),
    ('reply type as request', msg(OK, b'')),
    ('unknown tag', msg(9, field(99, b'x'))),
    ('u32 of wrong size', msg(8, field(1, b'\1\2'))),
    ('string without NUL', msg(5, field(1, u32(1)) + field(8, b'abc'))),
    ('string with inner NUL', msg(5, field(1, u32(1)) + field(8, b'a\0b\0'))),
    ('truncated field', msg(8, field(1, u32(1))[:6])),
    ('required field missing', msg(8, b'')),
    ('prepare-view without fds', msg(1, field(3, u32(1)) + field(4, s0('sh')))),
    ('attach without a prepared view', msg(2, field(1, u32(1)) + field(2, u32(1)))),
    ('repeated field', msg(8, field(1, u32(1)) * 2)),
    ('stop of no view', msg(8, field(1, u32(4242)))),
]
for what, data in checks:
    good &= expect_error(what, data)
# Descriptors: wrong kinds, wrong counts.
good &= expect_error('prepare-view with /dev/null fds',
                     msg(1, field(3, u32(os.getpid())) + field(4, s0('sh'))), (devnull, devnull, devnull))
good &= expect_error('fds on a request that takes none', msg(9, b''), (devnull,))
good &= expect_error('too many fds', msg(1, field(3, u32(1)) + field(4, s0('sh'))), (devnull,) * 6)
# An empty packet reads as end of connection on SOCK_SEQPACKET: vosd
# closes it. An oversized packet: vosd answers or closes. Either way it survives.
ask(b'')
try:
    ask(msg(9, b'x' * (MAX + 100)))
except OSError:
    pass
# Random and mutated messages.
base = [msg(9, b''), msg(3, b''), msg(8, field(1, u32(1))), msg(5, field(1, u32(1)) + field(8, s0('umdev')))]
for _ in range(rounds):
    if rng.random() < 0.5:
        data = bytes(rng.getrandbits(8) for _ in range(rng.randrange(0, 200)))
    else:
        data = bytearray(rng.choice(base))
        for _ in range(rng.randrange(1, 4)):
            data[rng.randrange(len(data))] = rng.getrandbits(8)
        data = bytes(data[:rng.randrange(len(data) + 1)])
    r = ask(data)
    # A mutation may still be valid (e.g. status): then any reply will do.
    if r is not None and r[0] not in (OK, ERROR):
        print('FAIL: random message got reply type %d' % r[0])
        good = False
# The daemon still answers a good request.
r = ask(msg(9, b''))
if r is None or r[0] != OK:
    print('FAIL: status after the garbage: %r' % (r,))
    good = False
print('garbage: %s' % ('ok' if good else 'FAILED'))
sys.exit(0 if good else 1)
