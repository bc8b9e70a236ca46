#!/usr/bin/env python3
# A time-bounded fuzz of vosd's socket, from many connections at once:
# random bytes, mutated valid requests, truncated frames, lying and
# oversize length prefixes, packets beyond VOSD_MSG_MAX, and descriptors of
# every kind in wrong numbers (SCM_RIGHTS), some connections closing
# without reading, one connected throughout and never speaking.
# Every reply must be a well-formed OK or ERROR (an error of one line);
# a connection may also be closed by vosd. garbage.py checks each known
# bad message once; this one keeps going. At the end vosd must still
# answer a valid STATUS.
# Usage: fuzz.py SOCKET SEED SECONDS [CONNECTIONS]
import atexit, os, random, socket, struct, subprocess, sys, threading, time

path, seed, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
nthreads = int(sys.argv[4]) if len(sys.argv) > 4 else 6
MAGIC, VERSION, MAX, FDS_MAX = 0x44534f56, 1, 65536, 4
OK, ERROR = 100, 101

def field(tag, value):
    return struct.pack('<HHI', tag, 0, len(value)) + value

def msg(mtype, body, version=VERSION, length=None, magic=MAGIC, reserved=0):
    return struct.pack('<IHHII', magic, version, mtype, len(body) if length is None else length, reserved) + body

# The pid the valid requests name as the view's helper and command: a
# process of ours that vosd may treat as a view's and kill (as it does
# for `vosctl stop`), never this fuzzer itself.
victim = subprocess.Popen(['sleep', '600'])
atexit.register(victim.kill)

u32 = lambda v: struct.pack('<I', v & 0xffffffff)
u64 = lambda v: struct.pack('<Q', v)
s0 = lambda t: t.encode() + b'\0'

# Valid requests (and replies, which vosd must refuse as requests), with
# the number of descriptors each takes.
BASE = [
    (msg(1, field(3, u32(victim.pid)) + field(4, s0('sh')) + field(4, s0('-c')) + field(4, s0('true')) +
         field(5, s0('/')) + field(6, s0('umdev')) + field(7, s0('/nonexistent'))), 3),
    (msg(2, field(1, u32(1)) + field(2, u32(victim.pid))), 1),
    (msg(3, b''), 0),
    (msg(4, field(1, u32(1))), 0),
    (msg(4, b''), 0),
    (msg(5, field(1, u32(1)) + field(8, s0('umdev,size=1M')) + field(7, s0('/nonexistent'))), 0),
    (msg(6, field(1, u32(1)) + field(8, s0('umdev'))), 0),
    (msg(7, field(1, u32(1))), 0),
    (msg(8, field(1, u32(4242))), 0),
    (msg(9, b''), 0),
    (msg(OK, field(14, s0('0.1')) + field(13, u64(1))), 0),
    (msg(ERROR, field(9, u32(22)) + field(10, s0('x'))), 0),
]

class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.sent = self.replies = self.errors = self.oks = self.closed = self.conns = 0
        self.failures = []

    def add(self, **kw):
        with self.lock:
            for k, v in kw.items():
                setattr(self, k, getattr(self, k) + v)

    def fail(self, what):
        with self.lock:
            if len(self.failures) < 20:
                self.failures.append(what)
                print('FAIL: ' + what, flush=True)

# What each worker is doing, for a report if the run overstays.
doing = {}

stats = Stats()

def make_fd(rng, keep):
    """A descriptor of a random kind (closed by the caller after sending)."""
    kind = rng.randrange(6)
    if kind == 0:
        return os.open('/dev/null', os.O_RDWR)
    if kind == 1:
        r, w = os.pipe()
        keep.append(w)
        return r
    if kind == 2:
        a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        keep.append(b.detach())
        return a.detach()
    if kind == 3:
        return os.memfd_create('vosd-fuzz')
    if kind == 4:
        return os.open('/', os.O_PATH | os.O_DIRECTORY)
    return os.open('/proc/self/ns/user', os.O_RDONLY) if rng.random() < 0.5 else os.open('/proc/self/ns/mnt', os.O_RDONLY)

def mutate(rng, data):
    data = bytearray(data)
    for _ in range(rng.randrange(1, 5)):
        op = rng.randrange(9)
        if op == 0 and data:  # flip a bit
            i = rng.randrange(len(data)); data[i] ^= 1 << rng.randrange(8)
        elif op == 1 and data:  # set a byte
            data[rng.randrange(len(data))] = rng.getrandbits(8)
        elif op == 2:  # truncate
            data = data[:rng.randrange(len(data) + 1)]
        elif op == 3:  # insert random bytes
            i = rng.randrange(len(data) + 1); data[i:i] = rng.randbytes(rng.randrange(1, 16))
        elif op == 4 and len(data) >= 16:  # lie about the length
            struct.pack_into('<I', data, 8, rng.choice([0, 1, len(data), len(data) - 15, 0x7fffffff, 0xffffffff, rng.getrandbits(32)]))
        elif op == 5 and len(data) > 24:  # a field length out of bounds
            struct.pack_into('<I', data, 20, rng.choice([0, 3, 5, 0xffff, 0xffffffff, rng.getrandbits(32)]))
        elif op == 6:  # splice another message in
            other = rng.choice(BASE)[0]
            i = rng.randrange(len(data) + 1); data[i:i] = other[16:]
        elif op == 7 and len(data) >= 16:  # another type or version
            struct.pack_into('<H', data, 6, rng.choice([0, 10, 11, 99, 100, 101, 102, 200, 0xffff, rng.getrandbits(16)]))
        elif op == 8 and len(data) > 16:  # repeat the fields
            # up to 4 packets' worth: repeated 200-fold up to four times,
            # a packet grew to gigabytes and stalled the run (seed 10088)
            times = min(rng.randrange(1, 200), max(1, 4 * MAX // (len(data) - 16)))
            data += data[16:] * times
    return bytes(data)

def one_packet(rng):
    """Bytes and a descriptor count for one packet."""
    kind = rng.randrange(10)
    base, nfds = rng.choice(BASE)
    if kind == 0:
        data = rng.randbytes(rng.randrange(0, 300)) if rng.random() < 0.9 else b''
    elif kind == 1:  # beyond VOSD_MSG_MAX
        data = msg(9, b'x' * rng.randrange(MAX, 3 * MAX))
    elif kind == 2:  # a header alone, or less
        data = base[:rng.randrange(0, 17)]
    elif kind == 3:  # exactly at the limit
        data = msg(4, field(11, b'a' * (MAX - 16 - 8 - 1) + b'\0'))
    elif kind == 4:  # many fields
        data = msg(3, field(1, u32(1)) * rng.choice([1, 511, 512, 513, 4000]))
    elif kind == 5:
        data = base
    else:
        data = mutate(rng, base)
    r = rng.random()
    if r < 0.4:
        nfds = rng.choice([0, 1, 2, 3, 4, 5, 6, 8, 12]) if rng.random() < 0.7 else nfds
    elif r < 0.6:
        nfds = 0
    return data, nfds

def check_reply(reply):
    if len(reply) < 16:
        return 'reply shorter than a header (%d bytes)' % len(reply)
    magic, version, mtype, length, reserved = struct.unpack_from('<IHHII', reply)
    if magic != MAGIC or version != VERSION or length != len(reply) - 16 or reserved:
        return 'malformed reply header'
    if mtype not in (OK, ERROR):
        return 'reply of type %d' % mtype
    if mtype == ERROR:
        body, message = reply[16:], None
        while len(body) >= 8:
            tag, _, n = struct.unpack_from('<HHI', body)
            if tag == 10:
                message = body[8:8 + n]
            body = body[8 + n:]
        if not message or b'\n' in message or not message.endswith(b'\0'):
            return 'error reply without a one-line message'
        stats.add(errors=1)
    else:
        stats.add(oks=1)
    return None

def connection(rng, deadline, n):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.settimeout(10)
    doing[n] = ('connecting', b'', time.monotonic())
    try:
        s.connect(path)
    except OSError as e:
        stats.fail('connect: %s' % e)
        return
    stats.add(conns=1)
    try:
        for _ in range(rng.randrange(1, 6)):
            if time.monotonic() > deadline:
                break
            data, nfds = one_packet(rng)
            keep, fds = [], []
            try:
                fds = [make_fd(rng, keep) for _ in range(nfds)]
                anc = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, struct.pack('%di' % len(fds), *fds))] if fds else []
                doing[n] = ('sending %d fds with' % nfds, data[:24], time.monotonic())
                try:
                    s.sendmsg([data], anc)
                except OSError:
                    stats.add(closed=1)  # vosd closed it, or the kernel refused the packet
                    return
            finally:
                for fd in fds + keep:
                    os.close(fd)
            stats.add(sent=1)
            if rng.random() < 0.1:
                return  # leave without reading the reply
            doing[n] = ('waiting for the reply to', data[:24], time.monotonic())
            try:
                reply = s.recv(MAX + 1)
            except socket.timeout:
                stats.fail('no reply within 10 s to %r...' % data[:32])
                return
            except OSError:
                stats.add(closed=1)
                return
            if not reply:
                stats.add(closed=1)  # closed after an error: allowed
                return
            stats.add(replies=1)
            why = check_reply(reply)
            if why:
                stats.fail('%s, for %r...' % (why, data[:32]))
    finally:
        s.close()

def worker(n, deadline):
    rng = random.Random(seed * 1000 + n)
    while time.monotonic() < deadline:
        connection(rng, deadline, n)
    doing.pop(n, None)

started = time.monotonic()
# The cases that once leaked, every run: an empty packet (which reads as
# end of connection) carrying descriptors, too many descriptors, an
# oversize packet with descriptors.
for data, nfds in ((b'', 2), (b'', 4), (msg(9, b''), 6), (msg(9, b'x' * (MAX + 1)), 2)):
    keep = []
    fds = [make_fd(random.Random(seed), keep) for _ in range(nfds)]
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.settimeout(10)
    s.connect(path)
    try:
        s.sendmsg([data], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, struct.pack('%di' % nfds, *fds))])
        reply = s.recv(MAX + 1)
        why = check_reply(reply) if reply else None
        if why:
            stats.fail('%s, for %d fds with %d bytes' % (why, nfds, len(data)))
    except socket.timeout:
        stats.fail('no reply nor close within 10 s, for %d fds with %d bytes' % (nfds, len(data)))
    except OSError:
        pass
    finally:
        s.close()
        for fd in fds + keep:
            os.close(fd)

print('fuzz: the fixed cases took %.1f s' % (time.monotonic() - started), flush=True)
deadline = time.monotonic() + seconds
silent = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
silent.connect(path)
threads = [threading.Thread(target=worker, args=(i, deadline), daemon=True) for i in range(nthreads)]
for t in threads:
    t.start()
for t in threads:
    # Each blocking step has a 10 s timeout: 30 s past the deadline, vosd
    # (or this machine) is stuck. Say where, and stop.
    t.join(max(0.1, deadline + 30 - time.monotonic()))
    if t.is_alive():
        now = time.monotonic()
        for n, (what, data, since) in sorted(doing.items()):
            print('FAIL: worker %d has been %s %r... for %.1f s' % (n, what, data, now - since), flush=True)
        print('FAIL: the workers did not finish 30 s after the deadline', flush=True)
        victim.kill()
        os._exit(1)

# Still answers a valid request, with the silent client still connected.
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.settimeout(10)
s.connect(path)
s.send(msg(9, b''))
reply = s.recv(MAX)
s.close()
silent.close()
status_ok = len(reply) >= 16 and struct.unpack_from('<H', reply, 6)[0] == OK
print('fuzz: seed %d, %d connections, %d packets, %d replies (%d ok, %d errors), %d closed by vosd'
      % (seed, stats.conns, stats.sent, stats.replies, stats.oks, stats.errors, stats.closed))
for f in stats.failures:
    print('FAIL: ' + f)
if not status_ok:
    print('FAIL: STATUS after the fuzz: %r' % reply[:64])
sys.exit(0 if status_ok and not stats.failures and stats.sent > 0 else 1)
