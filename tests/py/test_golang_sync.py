# -*- coding: utf-8 -*-
# Tests of golang.sync: Mutex, RWMutex, Sema, Once, WaitGroup, WorkGroup.
# Runs under gpython.

import time, traceback, unittest

from golang import go, chan, select, default, _PanicError
from golang import sync, context


def ready(ch):
    _, _rx = select(ch.recv_, default)
    return _ == 0


class TestMutex(unittest.TestCase):

    def test_exclusion(self):
        mu = sync.Mutex()
        N, K = 10, 20
        v = [0]
        inside = [0]
        maxin = [0]
        done = chan()
        def worker():
            for _ in range(K):
                with mu:
                    inside[0] += 1
                    maxin[0] = max(maxin[0], inside[0])
                    x = v[0]
                    time.sleep(0.0005)     # parks: others must not get in
                    v[0] = x + 1
                    inside[0] -= 1
            done.send(1)
        for _ in range(N):
            go(worker)
        for _ in range(N):
            done.recv()
        self.assertEqual(v[0], N*K)
        self.assertEqual(maxin[0], 1)

    def test_lock_unlock(self):
        mu = sync.Mutex()
        mu.lock()
        self.assertFalse(mu.trylock())
        got = chan()
        def _():
            mu.lock()
            got.send('locked')
            mu.unlock()
        go(_)
        time.sleep(0.05)
        self.assertFalse(ready(got))    # still blocked
        mu.unlock()                     # another goroutine may unlock (Go)
        self.assertEqual(got.recv(), 'locked')
        self.assertTrue(mu.trylock())
        mu.Unlock()
        with self.assertRaises(_PanicError) as cm:
            mu.unlock()
        self.assertEqual(cm.exception.args, ("sync: unlock of unlocked mutex",))

        # unlocked on exception inside `with`
        with self.assertRaises(KeyError):
            with mu:
                raise KeyError()
        self.assertTrue(mu.trylock())
        mu.unlock()


class TestSema(unittest.TestCase):

    def test_sema(self):
        s = sync.Sema()
        s.acquire()
        got = chan(3)
        def _(i):
            s.acquire()
            got.send(i)
        for i in range(3):
            go(_, i)
        time.sleep(0.05)
        self.assertEqual(len(got), 0)
        for k in range(3):
            s.release()
            got.recv()
            time.sleep(0.01)
            self.assertEqual(len(got), 0)
        s.release()
        with s:
            pass

    def test_counting(self):
        s = sync.Sema(2)
        s.acquire()
        s.acquire()
        got = chan(1)
        go(lambda: (s.acquire(), got.send(1)))
        time.sleep(0.02)
        self.assertFalse(ready(got))
        s.release()
        got.recv()


class TestRWMutex(unittest.TestCase):

    def test_readers_share(self):
        rw = sync.RWMutex()
        N = 5
        inside = chan(N)
        release = chan()
        done = chan()
        def reader():
            rw.RLock()
            inside.send(1)
            release.recv()
            rw.RUnlock()
            done.send(1)
        for _ in range(N):
            go(reader)
        for _ in range(N):
            inside.recv()       # all N readers hold the lock at once
        wlocked = chan()
        def writer():
            rw.Lock()
            wlocked.send(1)
            rw.Unlock()
        go(writer)
        time.sleep(0.05)
        self.assertFalse(ready(wlocked))    # writer waits for the readers
        release.close()
        for _ in range(N):
            done.recv()
        wlocked.recv()

    def test_writer_excludes_and_has_priority(self):
        rw = sync.RWMutex()
        rw.RLock()
        order = chan(10)
        def writer():
            rw.Lock()
            order.send('w')
            time.sleep(0.02)
            rw.Unlock()
        go(writer)
        time.sleep(0.02)        # writer is now waiting for our read lock
        def reader():
            rw.RLock()          # must queue behind the waiting writer
            order.send('r')
            rw.RUnlock()
        go(reader)
        time.sleep(0.02)
        self.assertEqual(len(order), 0)
        rw.RUnlock()
        self.assertEqual(order.recv(), 'w')
        self.assertEqual(order.recv(), 'r')

    def test_unlock_to_rlock_and_misuse(self):
        rw = sync.RWMutex()
        with rw:
            pass
        rw.Lock()
        rw.UnlockToRLock()
        rw.RLock()          # other readers can join now
        rw.RUnlock()
        rw.RUnlock()
        with self.assertRaises(_PanicError):
            rw.RUnlock()
        with self.assertRaises(_PanicError):
            rw.Unlock()


class TestOnce(unittest.TestCase):

    def test_once(self):
        once = sync.Once()
        l = []
        for _ in range(3):
            once.do(lambda: l.append(1))
        self.assertEqual(l, [1])

        once = sync.Once()
        l = []
        def _():
            l.append(2)
            raise RuntimeError()
        with self.assertRaises(RuntimeError):
            once.do(_)
        once.do(_)      # no longer runs nor raises
        self.assertEqual(l, [2])

    def test_concurrent_callers_wait(self):
        once = sync.Once()
        l = []
        def slow():
            time.sleep(0.05)
            l.append('done')
        res = chan()
        def _():
            once.do(slow)
            res.send(list(l))   # do must not return before slow finished
        for _i in range(3):
            go(_)
        for _i in range(3):
            self.assertEqual(res.recv(), ['done'])


class TestWaitGroup(unittest.TestCase):

    def test_waitgroup(self):
        wg = sync.WaitGroup()
        wg.wait()       # zero count: does not block
        wg.add(2)
        ch = chan(3)
        def _():
            wg.wait()
            ch.send('a')
        for i in range(3):
            go(_)
        wg.done()
        time.sleep(0.05)
        self.assertEqual(len(ch), 0)
        wg.done()
        for i in range(3):
            self.assertEqual(ch.recv(), 'a')

        # reusable
        wg.add(1)
        go(_)
        time.sleep(0.05)
        self.assertEqual(len(ch), 0)
        wg.done()
        self.assertEqual(ch.recv(), 'a')

        with self.assertRaises(_PanicError) as cm:
            wg.done()
        self.assertEqual(cm.exception.args, ("sync: negative WaitGroup counter",))
        wg.add(1)       # the failed done did not corrupt the counter
        wg.done()
        wg.wait()


class TestWorkGroup(unittest.TestCase):

    def test_ok(self):
        ctx, cancel = context.with_cancel(context.background())
        wg = sync.WorkGroup(ctx)
        l = [0, 0]
        for i in range(2):
            def _(ctx, i, k=1):
                l[i] = i + k
            wg.go(_, i, k=10)
        wg.wait()
        self.assertEqual(l, [10, 11])
        cancel()

    def test_fail_nowait(self):
        ctx = context.background()
        wg = sync.WorkGroup(ctx)
        l = [0, 0]
        def _(ctx, i):
            Iam__ = 0
            l[i] = i + 1
            if i == 0:
                raise RuntimeError('aaa')
        def f(ctx, i):
            Iam_f = 0
            _(ctx, i)
        for i in range(2):
            wg.go(f, i)
        try:
            wg.wait()
        except RuntimeError as e:
            exc = e
        else:
            self.fail("wait did not raise")
        self.assertEqual(exc.args, ('aaa',))
        self.assertEqual(l, [1, 2])
        # the traceback reaches down to where it was raised
        tb = traceback.extract_tb(exc.__traceback__)
        self.assertEqual([fr.name for fr in tb[-2:]], ['f', '_'])

    def test_fail_cancels_others(self):
        ctx = context.background()
        wg = sync.WorkGroup(ctx)
        l = [0, 0]
        def _(ctx, i):
            l[i] = i + 1
            if i == 0:
                time.sleep(0.02)
                raise RuntimeError('bbb')
            if i == 1:
                ctx.done().recv()       # released by the failure of task 0
                raise ValueError('ccc') # not reported: not the first
        for i in range(2):
            wg.go(_, i)
        with self.assertRaises(RuntimeError) as cm:
            wg.wait()
        self.assertEqual(cm.exception.args, ('bbb',))
        self.assertEqual(l, [1, 2])

    def test_panic_is_reported(self):
        from golang import panic
        wg = sync.WorkGroup(context.background())
        wg.go(lambda ctx: panic("oops"))
        with self.assertRaises(_PanicError) as cm:
            wg.wait()
        self.assertEqual(cm.exception.args, ("oops",))

    def test_parent_cancel(self):
        ctx, cancel = context.with_cancel(context.background())
        wg = sync.WorkGroup(ctx)
        l = [0, 0]
        for i in range(2):
            def _(ctx, i):
                l[i] = i + 1
                ctx.done().recv()
                self.assertIs(ctx.err(), context.canceled)
            wg.go(_, i)
        time.sleep(0.02)
        cancel()        # parent cancel propagates into the workgroup
        wg.wait()
        self.assertEqual(l, [1, 2])


if __name__ == '__main__':
    unittest.main()
