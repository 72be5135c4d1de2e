# -*- coding: utf-8 -*-
"""Package sync mirrors Go package sync.

- Mutex, RWMutex and Sema are locks that park only the waiting goroutine
  (they are built on channels, not on OS locks).
- Once runs an action only once.
- WaitGroup waits for a collection of tasks to finish.
- WorkGroup runs a group of goroutines working on a common task: the first
  error cancels the others' context, wait() re-raises it.

Locks may be released by a goroutine other than the one that acquired them,
as in Go.
"""

import sys
from golang import go, chan, select, default, panic, func, defer

__all__ = ['Mutex', 'RWMutex', 'Sema', 'Once', 'WaitGroup', 'WorkGroup']


class Mutex(object):
    """Mutex is a mutual exclusion lock: lock() parks the goroutine until
    the mutex is free. Also usable as `with mu:`."""

    __slots__ = ('_ch',)

    def __init__(mu):
        # a token in the 1-slot buffer means locked; senders wait in FIFO
        # order for the slot to free up.
        mu._ch = chan(1)

    def lock(mu):
        mu._ch.send(None)

    def unlock(mu):
        n, _ = select(mu._ch.recv, default)
        if n == 1:
            panic("sync: unlock of unlocked mutex")

    def trylock(mu):    # -> bool
        _, _rx = select((mu._ch.send, None), default)
        return _ == 0

    Lock = lock
    Unlock = unlock
    TryLock = trylock

    def __enter__(mu):
        mu._ch.send(None)
        return mu

    def __exit__(mu, exc_typ, exc_val, exc_tb):
        mu.unlock()


class Sema(object):
    """Sema is a semaphore with an initial count of 1: acquire() takes one
    unit, parking while there is none; release() returns one."""

    __slots__ = ('_mu', '_n', '_waitq')

    def __init__(sema, n=1):
        sema._mu = Mutex()
        sema._n = n
        sema._waitq = []    # chan per parked acquirer, FIFO

    def acquire(sema):
        with sema._mu:
            if sema._n > 0:
                sema._n -= 1
                return
            ready = chan()
            sema._waitq.append(ready)
        ready.recv()        # release handed its unit over to us

    def release(sema):
        with sema._mu:
            if sema._waitq:
                ready = sema._waitq.pop(0)
            else:
                sema._n += 1
                return
        ready.close()

    def __enter__(sema):
        sema.acquire()
        return sema

    def __exit__(sema, exc_typ, exc_val, exc_tb):
        sema.release()


class RWMutex(object):
    """RWMutex is a reader/writer lock: any number of readers (RLock) or one
    writer (Lock). A waiting writer keeps new readers out, so writers do not
    starve. `with rw:` takes it for writing."""

    __slots__ = ('_mu', '_nread', '_writer', '_nwwait', '_changed')

    def __init__(rw):
        rw._mu = Mutex()        # guards the fields below
        rw._nread = 0           # readers holding the lock
        rw._writer = False      # a writer holds the lock
        rw._nwwait = 0          # writers waiting for the lock
        rw._changed = chan()    # closed (and replaced) on every release

    def _broadcast(rw):
        # rw._mu held
        rw._changed.close()
        rw._changed = chan()

    def RLock(rw):
        while 1:
            with rw._mu:
                if not rw._writer and rw._nwwait == 0:
                    rw._nread += 1
                    return
                changed = rw._changed
            changed.recv()

    def RUnlock(rw):
        with rw._mu:
            if rw._nread <= 0:
                panic("sync: RUnlock of unlocked RWMutex")
            rw._nread -= 1
            if rw._nread == 0:
                rw._broadcast()

    def Lock(rw):
        with rw._mu:
            if not rw._writer and rw._nread == 0:
                rw._writer = True
                return
            rw._nwwait += 1
        while 1:
            with rw._mu:
                if not rw._writer and rw._nread == 0:
                    rw._nwwait -= 1
                    rw._writer = True
                    return
                changed = rw._changed
            changed.recv()

    def Unlock(rw):
        with rw._mu:
            if not rw._writer:
                panic("sync: Unlock of unlocked RWMutex")
            rw._writer = False
            rw._broadcast()

    def UnlockToRLock(rw):
        """UnlockToRLock atomically turns a held write lock into a read lock."""
        with rw._mu:
            if not rw._writer:
                panic("sync: UnlockToRLock of unlocked RWMutex")
            rw._writer = False
            rw._nread += 1
            rw._broadcast()

    lock = Lock
    unlock = Unlock
    rlock = RLock
    runlock = RUnlock

    def __enter__(rw):
        rw.Lock()
        return rw

    def __exit__(rw, exc_typ, exc_val, exc_tb):
        rw.Unlock()


class Once(object):
    """Once runs an action only once:

        once = Once()
        once.do(f)

    Concurrent do() calls wait until the first one's f returns. If f
    raises, the exception propagates and f is still considered done."""

    __slots__ = ('_mu', '_done')

    def __init__(once):
        once._mu = Mutex()
        once._done = False

    def do(once, f):
        if once._done:
            return
        with once._mu:
            if not once._done:
                try:
                    f()
                finally:
                    once._done = True


class WaitGroup(object):
    """WaitGroup waits for a collection of tasks to finish: add(n) before
    starting them, done() as each one ends, wait() parks until the count
    drops to zero."""

    __slots__ = ('_mu', '_count', '_zero')

    def __init__(wg):
        wg._mu = Mutex()
        wg._count = 0
        wg._zero = chan()   # closed (and replaced) when _count drops to 0

    def add(wg, delta):
        if delta == 0:
            return
        with wg._mu:
            wg._count += delta
            if wg._count < 0:
                wg._count -= delta
                panic("sync: negative WaitGroup counter")
            if wg._count == 0:
                wg._zero.close()
                wg._zero = chan()

    def done(wg):
        wg.add(-1)

    def wait(wg):
        with wg._mu:
            if wg._count == 0:
                return
            zero = wg._zero
        zero.recv()


class WorkGroup(object):
    """WorkGroup is a group of goroutines working on a common task.

        wg = WorkGroup(ctx)
        wg.go(f1)
        wg.go(f2, arg)
        wg.wait()

    Each function runs in its own goroutine as f(wctx, *argv, **kw) with wctx
    a context derived from ctx. The first function that raises cancels wctx,
    telling the others to stop; wait() waits for all of them and re-raises
    that first exception with its traceback.

    Modelled after golang.org/x/sync/errgroup, as pygolang's."""

    def __init__(g, ctx):
        from golang import context
        g._ctx, g._cancel = context.with_cancel(ctx)
        g._wg = WaitGroup()
        g._mu = Mutex()
        g._err = None

    def go(g, f, *argv, **kw):
        g._wg.add(1)
        go(g._run, f, argv, kw)

    @func
    def _run(g, f, argv, kw):
        defer(g._wg.done)
        try:
            f(g._ctx, *argv, **kw)
        except BaseException:
            exc = sys.exc_info()[1]
            with g._mu:
                if g._err is None:
                    g._err = exc
                    g._cancel()
            exc = None

    # with WorkGroup(ctx) as wg: ... waits for the group at the end of the
    # block, as wg.wait() would; an error wait() raises has the block's own
    # exception (if any) as its __context__.
    def __enter__(g):
        return g

    def __exit__(g, exc_type, exc_val, exc_tb):
        try:
            g.wait()
        except BaseException as e:
            if exc_val is not None and e is not exc_val:
                c = e
                while c.__context__ is not None and c.__context__ is not exc_val:
                    c = c.__context__
                if c.__context__ is None and c is not exc_val:
                    c.__context__ = exc_val
            raise

    def wait(g):
        g._wg.wait()
        g._cancel()
        if g._err is not None:
            raise g._err    # its __traceback__ has where it came from
