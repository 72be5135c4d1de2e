# test_fuzz_builtins: random arguments over the whole builtins API — chan
# (sizes, dtypes), send/recv/recv_/close/len/cap/repr/hash/==, chan.nil,
# select (valid and malformed cases), go — with objects whose __index__,
# __float__, __eq__, __hash__, __bool__ or __del__ raise or re-enter the
# API. A fixed seed and a time budget (GPYTHON_FUZZ_SECONDS, 20 by
# default); run in CI under the sanitizer build too. Nothing may crash,
# hang or raise anything but the exceptions the API documents.
import builtins
import gc
import os
import random
import sys
import time
import unittest

if not hasattr(builtins, "go"):
    sys.exit("test_fuzz_builtins.py must run under gpython")

import golang

SEED = int(os.environ.get("GPYTHON_FUZZ_SEED", "20261202"))
SECONDS = float(os.environ.get("GPYTHON_FUZZ_SECONDS", "20"))


class Evil(Exception):
    pass


EXPECTED = (TypeError, ValueError, OverflowError, Evil, golang._PanicError,
            ZeroDivisionError)


class BadIndex:
    def __index__(self):
        raise Evil("index")


class BadFloat:
    def __float__(self):
        raise Evil("float")


class BadEq:
    def __eq__(self, other):
        raise Evil("eq")

    def __hash__(self):
        raise Evil("hash")


class BadBool:
    def __bool__(self):
        raise Evil("bool")


class Reenter:
    """Its finaliser uses the API (sends, selects, closes, starts)."""
    pool = []

    def __del__(self):
        if not Reenter.pool:
            return
        c = Reenter.pool[0]
        try:
            select((c.send, None), c.recv, default)
            go(lambda: None)
            chan(1).send(None)
        except EXPECTED:
            pass


class BigIndex:
    def __index__(self):
        return 1 << 200


def values(r):
    return [None, 0, 1, -1, True, False, 2**31, -2**31 - 1, 2**63, 1.5,
            float("nan"), float("inf"), "s", b"b", (), [], {}, object(),
            BadIndex(), BadFloat(), BadEq(), BadBool(), Reenter(),
            BigIndex(), r.random(), r.randrange(-10, 10), chan, default,
            nilchan]


DTYPES = [None, "object", "C.structZ", "C.bool", "C.int", "C.double",
          "C.nope", 1, object, int, b"C.int", BadEq()]


class FuzzTest(unittest.TestCase):

    def test_fuzz(self):
        r = random.Random(SEED)
        deadline = time.monotonic() + SECONDS
        rounds = ops = 0
        while time.monotonic() < deadline:
            ops += self.round(r)
            rounds += 1
        self.assertGreater(ops, 1000)
        sys.stderr.write("fuzz: seed %d, %d rounds, %d operations\n"
                         % (SEED, rounds, ops))

    def round(self, r):
        chans = [nilchan]
        for _ in range(r.randrange(1, 8)):
            size = r.choice([0, 0, 1, 3, 100, -1, 2**62, BadIndex(),
                             BigIndex(), 1.0, "3", True, None])
            dtype = r.choice(DTYPES)
            args = r.choice([(), (size,), (size, dtype)])
            try:
                chans.append(chan(*args) if args != (size, dtype) or r.random()
                             < 0.5 else chan(size, dtype=dtype))
            except EXPECTED + (MemoryError,):
                pass
            try:
                chans.append(chan.nil(r.choice(DTYPES)))
            except EXPECTED:
                pass
        # Finalisers run anywhere (inside a send's conversion too): they
        # use a channel of their own, so that they never fill or drain one
        # the round counts on.
        Reenter.pool = [chan(r.choice([0, 1, 5]))]
        vals = values(r)
        # goroutines blocked on the round's channels until it closes them
        done = chan(64)
        nblocked = 0
        real = [c for c in chans
                if not repr(c).startswith(("nilchan", "chan.nil"))]
        for _ in range(r.randrange(0, 6) if real else 0):
            c = r.choice(real)
            op = r.choice(["send", "recv", "recv_", "select"])
            v = r.choice(vals)

            def blocked(c=c, op=op, v=v):
                try:
                    if op == "send":
                        c.send(v)
                    elif op == "select":
                        select(c.recv, (c.send, v))
                    else:
                        getattr(c, op)()
                except EXPECTED:
                    pass
                done.send(None)
            go(blocked)
            nblocked += 1
        n = 0
        for _ in range(r.randrange(20, 200)):
            n += 1
            c = r.choice(chans)
            v = r.choice(vals)
            k = r.randrange(12)
            try:
                if k == 0:
                    select((c.send, v), default)
                elif k == 1:
                    select(c.recv, c.recv_, default)
                elif k == 2:
                    cases = [r.choice([c.recv, c.recv_, (c.send, v), default,
                                       v, (c.send,), (c.recv, v),
                                       (c.send, v, v), c.close])
                             for _ in range(r.randrange(0, 12))]
                    if default not in cases:
                        cases.append(default)
                    select(*cases)
                elif k == 3:
                    if r.random() < 0.2:
                        c.close()
                elif k == 4:
                    len(c), c.cap(), repr(c), hash(c), c.dtype
                elif k == 5:
                    c == r.choice(chans), c != v, c == v
                elif k == 6:
                    # Go ends the process on an escaping panic: the target
                    # catches what the API documents.
                    f = r.choice([lambda *a, **k: None, len,
                                  lambda *a, c=c: select(c.recv_, default)])

                    def target(*a, f=f, **kw):
                        try:
                            f(*a, **kw)
                        except EXPECTED:
                            pass
                    go(r.choice([target, v if not callable(v) else target]),
                       *r.choice([(), (v,), (1, 2)]))
                elif k == 7:
                    m = r.choice([c.send, c.recv, c.recv_])
                    m == m, hash(m), repr(m), m.__self__
                    if m.__name__ != "send":
                        select(m, default)
                elif k == 8:
                    # unbound calls, on the channel only when they cannot
                    # block
                    if len(c) < c.cap():
                        chan.send(r.choice([c, 1, "x"]), v)
                    elif len(c):
                        chan.recv(r.choice([c, 1, None]))
                    else:
                        r.choice([chan.recv, chan.recv_, chan.send])(
                            *r.choice([(), (1,), ("x", v), (None, v)]))
                elif k == 9:
                    # wrong argument counts; right ones only if ready
                    m = r.choice([c.send, c.recv, c.recv_])
                    a = r.choice([(), (v,), (v, v)])
                    ready = (len(c) < c.cap() if m == c.send else len(c))
                    if ready or len(a) != (m == c.send):
                        m(*a)
                elif k == 10:
                    select(*r.choice([(default,), (default, default)]))
                else:
                    gc.collect(0)
            except EXPECTED:
                pass
        for c in chans:
            try:
                c.close()
            except EXPECTED:
                pass
        for _ in range(nblocked):
            done.recv()
        Reenter.pool = []
        return n


if __name__ == "__main__":
    unittest.main()
