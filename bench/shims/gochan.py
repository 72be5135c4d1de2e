# gochan.py: Go-semantics channels and select in pure Python, shared by the
# gevent and the OS-thread shims. The primitives that make it concurrent
# (channel mutex, wake-up semaphore, goroutine spawn) are installed by
# configure(); everything else is the same for both peers.
#
# Model (as Go's runtime and pygolang's pure-Python chan): a blocked goroutine
# owns a _Group with a semaphore it sleeps on; it enqueues one _Waiter per
# channel operation it waits for (one for send/recv, one per case for select).
# Whoever completes the operation first "wins" the group (sets group.which)
# under _wmu, hands the value over and releases the semaphore. Losers are
# skipped when dequeued and removed by select after it wakes. Lock order:
# channel mutexes (by id) -> _wmu.

import collections
import os
import sys
import traceback
from types import MethodType as _MethodType
from random import random as _random

_deque = collections.deque

_new_lock = None   # () -> channel mutex with acquire()/release()
_new_sema = None   # () -> semaphore that starts taken: acquire() blocks until release()
_wmu = None        # protects _Group.which across channels
_spawn = None      # (fn, args, kw) -> None: start fn(*args, **kw) concurrently


class _NullLock:
    # For cooperative runtimes (gevent) where no switch can happen inside a
    # critical section: nothing in the sections below blocks.
    __slots__ = ()

    def acquire(self):
        return True

    def release(self):
        pass


def configure(new_lock, new_sema, spawn, win_lock):
    global _new_lock, _new_sema, _spawn, _wmu
    _new_lock, _new_sema, _spawn, _wmu = new_lock, new_sema, spawn, win_lock


class PanicError(Exception):
    pass


def panic(arg):
    raise PanicError(arg)


class _Group:
    __slots__ = ('which', 'sema')

    def __init__(self):
        self.which = None           # the _Waiter that completed, or None
        self.sema = _new_sema()


class _Waiter:
    __slots__ = ('group', 'ch', 'obj', 'ok', 'case')

    def __init__(self, group, ch, obj, case=None):
        self.group = group
        self.ch = ch
        self.obj = obj              # value to send, or value received
        self.ok = False             # recv: not closed; send: delivered
        self.case = case            # select: (index, is_send, commaok)


def _dequeue(q):
    # Pop the first waiter whose group nobody has won yet, and win it.
    wmu = _wmu
    while q:
        w = q.popleft()
        g = w.group
        wmu.acquire()
        if g.which is None:
            g.which = w
            wmu.release()
            return w
        wmu.release()
    return None


def _wake(w, obj, ok):
    w.obj = obj
    w.ok = ok
    w.group.sema.release()


def _forever():
    _new_sema().acquire()
    raise AssertionError('woke from a wait that has no waker')


class chan:
    """chan(size=0): a Go channel of Python objects."""
    __slots__ = ('_cap', '_mu', '_dataq', '_recvq', '_sendq', '_closed',
                 '_nil', '__weakref__')

    def __init__(self, size=0, dtype=object):
        if size < 0:
            raise ValueError('negative channel size')
        self._cap = size
        self._mu = _new_lock()
        self._dataq = _deque()
        self._recvq = _deque()
        self._sendq = _deque()
        self._closed = False
        self._nil = False

    # --- operations with self._mu held; they never block ---------------

    def _trysend(self, obj):
        # -> True when obj went to a receiver or into the buffer.
        if self._cap == 0 or not self._dataq:
            w = _dequeue(self._recvq)
            if w is not None:
                _wake(w, obj, True)
                return True
        if len(self._dataq) < self._cap:
            self._dataq.append(obj)
            return True
        return False

    def _tryrecv(self):
        # -> (value, ok), or None when it would block.
        dq = self._dataq
        if dq:
            rx = dq.popleft()
            w = _dequeue(self._sendq)
            if w is not None:
                dq.append(w.obj)
                _wake(w, None, True)
            return (rx, True)
        if self._closed:
            return (None, False)
        w = _dequeue(self._sendq)
        if w is not None:
            rx = w.obj
            _wake(w, None, True)
            return (rx, True)
        return None

    # --- public API ----------------------------------------------------

    def send(self, obj):
        if self._nil:
            _forever()
        mu = self._mu
        mu.acquire()
        if self._closed:
            mu.release()
            panic('send on closed channel')
        if self._trysend(obj):
            mu.release()
            return
        g = _Group()
        w = _Waiter(g, self, obj)
        self._sendq.append(w)
        mu.release()
        g.sema.acquire()
        if not w.ok:
            panic('send on closed channel')

    def recv_(self):
        if self._nil:
            _forever()
        mu = self._mu
        mu.acquire()
        r = self._tryrecv()
        if r is not None:
            mu.release()
            return r
        g = _Group()
        w = _Waiter(g, self, None)
        self._recvq.append(w)
        mu.release()
        g.sema.acquire()
        return (w.obj, w.ok)

    def recv(self):
        return self.recv_()[0]

    def close(self):
        if self._nil:
            panic('close of nil channel')
        mu = self._mu
        mu.acquire()
        if self._closed:
            mu.release()
            panic('close of closed channel')
        self._closed = True
        while True:
            w = _dequeue(self._recvq)
            if w is None:
                break
            _wake(w, None, False)
        while True:
            w = _dequeue(self._sendq)
            if w is None:
                break
            _wake(w, None, False)
        mu.release()

    def __len__(self):
        return len(self._dataq)

    def cap(self):
        return self._cap

    def __repr__(self):
        if self._nil:
            return 'nilchan'
        return '<chan cap=%d len=%d>' % (self._cap, len(self._dataq))


_chan_send = chan.send
_chan_recv = chan.recv
_chan_recv_ = chan.recv_

# The nil channel never takes its mutex: every operation checks _nil first.
nilchan = chan.__new__(chan)
nilchan._cap = 0
nilchan._mu = _NullLock()
nilchan._dataq = _deque()
nilchan._recvq = _deque()
nilchan._sendq = _deque()
nilchan._closed = False
nilchan._nil = True


class _Default:
    __slots__ = ()

    def __repr__(self):
        return 'default'


default = _Default()


def select(*casev):
    """select(*cases) -> (index, received), Go's select."""
    ops = []            # (index, ch, is_send, obj, commaok)
    idefault = -1
    i = 0
    for case in casev:
        if type(case) is _MethodType:
            f = case.__func__
            if f is _chan_recv:
                commaok = False
            elif f is _chan_recv_:
                commaok = True
            else:
                panic('select: unknown case %r' % (case,))
            ch = case.__self__
            if not ch._nil:
                ops.append((i, ch, False, None, commaok))
        elif case is default:
            if idefault >= 0:
                panic('select: multiple default cases')
            idefault = i
        elif type(case) is tuple and len(case) == 2 and \
                getattr(case[0], '__func__', None) is _chan_send:
            ch = case[0].__self__
            if not ch._nil:
                ops.append((i, ch, True, case[1], False))
        else:
            panic('select: unknown case %r' % (case,))
        i += 1

    n = len(ops)
    if n == 0:
        if idefault >= 0:
            return idefault, None
        _forever()

    # Poll in a uniformly random order, as Go does, so the choice among
    # ready cases is fair.
    if n > 1:
        for i in range(n - 1, 0, -1):
            j = int(_random() * (i + 1))
            ops[i], ops[j] = ops[j], ops[i]

    if n == 1:
        chv = (ops[0][1],)
    elif n == 2:
        c0 = ops[0][1]
        c1 = ops[1][1]
        if c0 is c1:
            chv = (c0,)
        elif id(c0) < id(c1):
            chv = (c0, c1)
        else:
            chv = (c1, c0)
    else:
        chv = sorted({id(op[1]): op[1] for op in ops}.values(), key=id)
    for ch in chv:
        ch._mu.acquire()
    try:
        for (i, ch, is_send, obj, commaok) in ops:
            if is_send:
                if ch._closed:
                    panic('send on closed channel')
                if ch._trysend(obj):
                    return i, None
            else:
                r = ch._tryrecv()
                if r is not None:
                    return i, (r if commaok else r[0])
        if idefault >= 0:
            return idefault, None

        g = _Group()
        waiters = []
        for (i, ch, is_send, obj, commaok) in ops:
            w = _Waiter(g, ch, obj, (i, is_send, commaok))
            (ch._sendq if is_send else ch._recvq).append(w)
            waiters.append(w)
    finally:
        for ch in chv:
            ch._mu.release()

    g.sema.acquire()
    won = g.which

    # Take our other waiters off their channels so select loops over
    # rarely-ready channels do not grow the queues.
    for ch in chv:
        ch._mu.acquire()
    for w in waiters:
        if w is not won:
            q = w.ch._sendq if w.case[1] else w.ch._recvq
            try:
                q.remove(w)
            except ValueError:
                pass
    for ch in chv:
        ch._mu.release()

    i, is_send, commaok = won.case
    if is_send:
        if not won.ok:
            panic('send on closed channel')
        return i, None
    return i, ((won.obj, won.ok) if commaok else won.obj)


def _run(fn, args, kw):
    # Go's rule: an exception escaping a goroutine kills the process with
    # status 2, so a broken benchmark can never pass silently.
    try:
        fn(*args, **kw)
    except BaseException:
        sys.stderr.write('panic: exception in goroutine\n')
        traceback.print_exc()
        sys.stderr.flush()
        os._exit(2)


def go(fn, *args, **kw):
    _spawn(_run, (fn, args, kw))


def install():
    """Put go/chan/select/default/nilchan into builtins, as gpython has them."""
    import builtins
    builtins.go = go
    builtins.chan = chan
    builtins.select = select
    builtins.default = default
    builtins.nilchan = nilchan
