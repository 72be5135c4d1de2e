# test_coop_sleep: time.sleep and CPython's locks (POSIX semaphores under
# threading.Lock, Event, queue) park only the calling goroutine; timeouts
# expire on time while other goroutines keep running. Runs under gpython:
#
#   build/gpython tests/py/test_coop_sleep.py [unittest args]
import _thread
import builtins
import faulthandler
import os
import queue
import sys
import threading
import time
import unittest

if not hasattr(builtins, "go"):
    sys.exit("test_coop_sleep.py must run under gpython")

WATCHDOG = 150

from gpytest import Ticker, spawn, join  # noqa: E402


class SleepTest(unittest.TestCase):

    def test_many_sleepers_overlap(self):
        n = 2000
        done = chan(n)

        def sleeper():
            time.sleep(0.2)
            done.send(1)
        t0 = time.monotonic()
        for _ in range(n):
            go(sleeper)
        for _ in range(n):
            done.recv()
        wall = time.monotonic() - t0
        self.assertLess(wall, 1.0, "2000 x sleep(0.2) took %.2fs" % wall)
        self.assertGreaterEqual(wall, 0.19)

    def test_sleep_zero_yields(self):
        seen = []
        go(seen.append, 1)
        for _ in range(100):
            if seen:
                break
            time.sleep(0)
        self.assertEqual(seen, [1])

    def test_sleep_zero_interleaves(self):
        order = []
        done = chan(2)

        def worker(tag):
            for i in range(3):
                order.append((tag, i))
                time.sleep(0)
            done.send(None)
        go(worker, "a")
        go(worker, "b")
        done.recv()
        done.recv()
        tags = [t for t, _ in order]
        # Each sleep(0) hands the CPU over: the two goroutines alternate.
        self.assertNotEqual(tags, ["a"] * 3 + ["b"] * 3)
        self.assertEqual(sorted(order), [(t, i) for t in "ab" for i in range(3)])

    def test_sleep_duration_while_others_run(self):
        with Ticker() as tk:
            t0 = time.monotonic()
            time.sleep(0.2)
            wall = time.monotonic() - t0
            ticks = tk.n
        self.assertGreaterEqual(wall, 0.2)
        self.assertLess(wall, 0.5)
        self.assertGreater(ticks, 20, "the ticker starved during sleep")

    def test_sleep_in_goroutines_wakes_in_order(self):
        out = chan(3)
        for d in (0.15, 0.05, 0.1):
            go(lambda d=d: (time.sleep(d), out.send(d)))
        self.assertEqual([out.recv() for _ in range(3)], [0.05, 0.1, 0.15])


class LockTest(unittest.TestCase):

    def test_blocking_acquire_parks(self):
        lock = threading.Lock()
        lock.acquire()

        def release_later():
            time.sleep(0.1)
            lock.release()
        with Ticker() as tk:
            go(release_later)
            t0 = time.monotonic()
            self.assertTrue(lock.acquire())
            wall = time.monotonic() - t0
            ticks = tk.n
        lock.release()
        self.assertGreaterEqual(wall, 0.09)
        self.assertLess(wall, 1.0)
        self.assertGreater(ticks, 10, "the ticker starved in Lock.acquire")

    def test_acquire_timeout_on_time(self):
        lock = threading.Lock()
        lock.acquire()
        with Ticker() as tk:
            t0 = time.monotonic()
            got = lock.acquire(timeout=0.2)
            wall = time.monotonic() - t0
            ticks = tk.n
        self.assertFalse(got)
        self.assertGreaterEqual(wall, 0.19)
        self.assertLess(wall, 0.6)
        self.assertGreater(ticks, 20)
        lock.release()

    def test_acquire_nonblocking(self):
        lock = threading.Lock()
        self.assertTrue(lock.acquire(blocking=False))
        self.assertFalse(lock.acquire(blocking=False))
        lock.release()

    def test_mutual_exclusion_many_goroutines(self):
        lock = threading.Lock()
        inside = [0]
        worst = [0]
        n = 200
        done = chan(n)

        def worker():
            for _ in range(3):
                with lock:
                    inside[0] += 1
                    worst[0] = max(worst[0], inside[0])
                    time.sleep(0.0005)
                    inside[0] -= 1
            done.send(None)
        t0 = time.monotonic()
        for _ in range(n):
            go(worker)
        for _ in range(n):
            done.recv()
        self.assertEqual(worst[0], 1)
        self.assertLess(time.monotonic() - t0, 30)

    def test_wakes_every_waiter(self):
        # Each release hands the lock to exactly one parked goroutine.
        lock = threading.Lock()
        lock.acquire()
        n = 50
        got = chan(n)

        def waiter(i):
            lock.acquire()
            got.send(i)
            lock.release()
        for i in range(n):
            go(waiter, i)
        time.sleep(0.05)
        lock.release()
        self.assertEqual(sorted(got.recv() for _ in range(n)), list(range(n)))

    def test_release_from_another_thread(self):
        # Whatever _thread runs on (an OS thread, or a goroutine once the
        # threading shim is in), its release must wake the parked acquirer.
        lock = threading.Lock()
        lock.acquire()

        def release_later():
            time.sleep(0.1)
            lock.release()
        _thread.start_new_thread(release_later, ())
        t0 = time.monotonic()
        self.assertTrue(lock.acquire(timeout=10))
        self.assertLess(time.monotonic() - t0, 5)
        lock.release()


    def test_forked_child_does_not_wake_parent_waiters(self):
        # A goroutine of the parent parked on a lock does not exist in a
        # forked child: a release there must not resume it.
        lock = threading.Lock()
        lock.acquire()
        woke = []

        def waiter():
            lock.acquire()
            woke.append(os.getpid())
            lock.release()
        go(waiter)
        time.sleep(0.05)
        pid = os.fork()
        if pid == 0:
            code = 3
            try:
                lock.release()
                time.sleep(0.1)
                code = 1 if woke else 0
            finally:
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        self.assertEqual(os.waitstatus_to_exitcode(status), 0)
        self.assertEqual(woke, [])
        lock.release()
        time.sleep(0.05)
        self.assertEqual(woke, [os.getpid()])


class SyncPrimitivesTest(unittest.TestCase):

    def test_event_wait_timeout(self):
        ev = threading.Event()
        with Ticker() as tk:
            t0 = time.monotonic()
            self.assertFalse(ev.wait(0.2))
            wall = time.monotonic() - t0
            ticks = tk.n
        self.assertGreaterEqual(wall, 0.19)
        self.assertLess(wall, 0.6)
        self.assertGreater(ticks, 20)

    def test_event_set_by_goroutine(self):
        ev = threading.Event()
        go(lambda: (time.sleep(0.05), ev.set()))
        self.assertTrue(ev.wait(5))

    def test_queue_get_parks_until_put(self):
        q = queue.Queue()

        def producer():
            for i in range(5):
                time.sleep(0.01)
                q.put(i)
        go(producer)
        self.assertEqual([q.get(timeout=5) for _ in range(5)], list(range(5)))

    def test_queue_get_timeout(self):
        q = queue.Queue()
        t0 = time.monotonic()
        with self.assertRaises(queue.Empty):
            q.get(timeout=0.15)
        self.assertGreaterEqual(time.monotonic() - t0, 0.14)

    def test_simplequeue(self):
        q = queue.SimpleQueue()     # the C _queue module: a PyThread lock
        go(lambda: (time.sleep(0.05), q.put("x")))
        with Ticker() as tk:
            self.assertEqual(q.get(timeout=5), "x")
            self.assertGreater(tk.n, 5)
        t0 = time.monotonic()
        with self.assertRaises(queue.Empty):
            q.get(timeout=0.1)
        self.assertGreaterEqual(time.monotonic() - t0, 0.09)

    def test_semaphore(self):
        sem = threading.Semaphore(2)
        active = [0]
        worst = [0]
        done = chan(10)

        def worker():
            with sem:
                active[0] += 1
                worst[0] = max(worst[0], active[0])
                time.sleep(0.02)
                active[0] -= 1
            done.send(None)
        for _ in range(10):
            go(worker)
        for _ in range(10):
            done.recv()
        self.assertEqual(worst[0], 2)


if __name__ == "__main__":
    faulthandler.dump_traceback_later(WATCHDOG, exit=True)
    unittest.main()
