# test_coop_select: select.select, select.poll, select.epoll and
# selectors.DefaultSelector park only the calling goroutine: their
# timeouts expire on time while other goroutines run, and readiness made by
# another goroutine wakes them. Runs under gpython:
#
#   build/gpython tests/py/test_coop_select.py [unittest args]
import builtins
import faulthandler
import os
import select
import selectors
import socket
import sys
import time
import unittest

if not hasattr(builtins, "go"):
    sys.exit("test_coop_select.py must run under gpython")

WATCHDOG = 150

from gpytest import Ticker  # noqa: E402
TIMEOUT = 0.2


def write_later(fd, delay, data=b"x"):
    def run():
        time.sleep(delay)
        os.write(fd, data)
    go(run)


class Base(unittest.TestCase):

    def setUp(self):
        self.pipes = [os.pipe() for _ in range(3)]

    def tearDown(self):
        for r, w in self.pipes:
            os.close(r)
            os.close(w)

    def timed(self, fn):
        """Run fn() with a ticker: (result, wall seconds, ticks)."""
        with Ticker() as tk:
            t0 = time.monotonic()
            res = fn()
            wall = time.monotonic() - t0
            ticks = tk.n
        return res, wall, ticks

    def assertCooperativeTimeout(self, wall, ticks):
        self.assertGreaterEqual(wall, TIMEOUT - 0.01)
        self.assertLess(wall, TIMEOUT + 0.4)
        self.assertGreater(ticks, 20, "the ticker starved while waiting")


class SelectTest(Base):

    def test_timeout(self):
        rs = [r for r, _ in self.pipes]
        res, wall, ticks = self.timed(lambda: select.select(rs, [], [], TIMEOUT))
        self.assertEqual(res, ([], [], []))
        self.assertCooperativeTimeout(wall, ticks)

    def test_wakes_on_the_ready_fd_only(self):
        rs = [r for r, _ in self.pipes]
        write_later(self.pipes[1][1], 0.05)
        res, wall, ticks = self.timed(lambda: select.select(rs, [], [], 5))
        self.assertEqual(res, ([self.pipes[1][0]], [], []))
        self.assertLess(wall, 2)

    def test_no_timeout(self):
        write_later(self.pipes[0][1], 0.05)
        r, w, x = select.select([self.pipes[0][0]], [], [])
        self.assertEqual(r, [self.pipes[0][0]])

    def test_writable_after_reader_drains(self):
        r, w = self.pipes[0]
        os.set_blocking(w, False)
        try:
            while True:
                os.write(w, b"y" * 65536)
        except BlockingIOError:
            pass
        os.set_blocking(w, True)
        self.assertEqual(select.select([], [w], [], 0), ([], [], []))

        def drain():
            time.sleep(0.05)
            os.read(r, 1 << 20)
        go(drain)
        _, ws, _ = select.select([], [w], [], 5)
        self.assertEqual(ws, [w])

    def test_sleep_with_no_fds(self):
        res, wall, ticks = self.timed(lambda: select.select([], [], [], TIMEOUT))
        self.assertEqual(res, ([], [], []))
        self.assertCooperativeTimeout(wall, ticks)

    def test_bad_fd(self):
        r, w = os.pipe()
        os.close(r)
        os.close(w)
        with self.assertRaises(OSError):
            select.select([r], [], [], 0.1)

    def test_many_goroutines_selecting(self):
        n = 100
        pipes = [os.pipe() for _ in range(n)]
        done = chan(n)

        def waiter(i):
            r = pipes[i][0]
            ready, _, _ = select.select([r], [], [], 10)
            done.send((i, ready == [r] and os.read(r, 1) == b"z"))
        for i in range(n):
            go(waiter, i)
        time.sleep(0.05)
        for _, w in pipes:
            os.write(w, b"z")
        results = dict(done.recv() for _ in range(n))
        self.assertEqual(results, {i: True for i in range(n)})
        for r, w in pipes:
            os.close(r)
            os.close(w)


class PollTest(Base):

    def test_timeout(self):
        p = select.poll()
        for r, _ in self.pipes:
            p.register(r, select.POLLIN)
        res, wall, ticks = self.timed(lambda: p.poll(TIMEOUT * 1000))
        self.assertEqual(res, [])
        self.assertCooperativeTimeout(wall, ticks)

    def test_single_fd_timeout(self):
        p = select.poll()
        p.register(self.pipes[0][0], select.POLLIN)
        res, wall, ticks = self.timed(lambda: p.poll(TIMEOUT * 1000))
        self.assertEqual(res, [])
        self.assertCooperativeTimeout(wall, ticks)

    def test_ready(self):
        p = select.poll()
        for r, _ in self.pipes:
            p.register(r, select.POLLIN)
        write_later(self.pipes[2][1], 0.05)
        self.assertEqual(p.poll(5000), [(self.pipes[2][0], select.POLLIN)])

    def test_hangup(self):
        r, w = os.pipe()
        p = select.poll()
        p.register(r, select.POLLIN)

        def close_later():
            time.sleep(0.05)
            os.close(w)
        go(close_later)
        [(fd, ev)] = p.poll(5000)
        self.assertEqual(fd, r)
        self.assertTrue(ev & select.POLLHUP)
        os.close(r)

    def test_pollpri_only_does_not_spin(self):
        # A socket that is readable but has no urgent data: a POLLPRI wait
        # must time out (not return, not burn the CPU).
        a, b = socket.socketpair()
        b.send(b"normal data")
        p = select.poll()
        p.register(a, select.POLLPRI)
        res, wall, ticks = self.timed(lambda: p.poll(TIMEOUT * 1000))
        self.assertEqual(res, [])
        self.assertCooperativeTimeout(wall, ticks)
        a.close()
        b.close()


class EpollTest(Base):

    def test_timeout(self):
        ep = select.epoll()
        for r, _ in self.pipes:
            ep.register(r, select.EPOLLIN)
        res, wall, ticks = self.timed(lambda: ep.poll(TIMEOUT))
        self.assertEqual(res, [])
        self.assertCooperativeTimeout(wall, ticks)
        ep.close()

    def test_ready(self):
        ep = select.epoll()
        for r, _ in self.pipes:
            ep.register(r, select.EPOLLIN)
        write_later(self.pipes[1][1], 0.05)
        self.assertEqual(ep.poll(5), [(self.pipes[1][0], select.EPOLLIN)])
        ep.close()

    def test_edge_triggered(self):
        ep = select.epoll()
        r, w = self.pipes[0]
        ep.register(r, select.EPOLLIN | select.EPOLLET)
        os.write(w, b"a")
        self.assertEqual(len(ep.poll(1)), 1)
        # Already reported, nothing new: the wait times out.
        res, wall, ticks = self.timed(lambda: ep.poll(TIMEOUT))
        self.assertEqual(res, [])
        self.assertCooperativeTimeout(wall, ticks)
        ep.close()


class SelectorsTest(Base):

    def test_default_selector_timeout_and_ready(self):
        sel = selectors.DefaultSelector()
        for i, (r, _) in enumerate(self.pipes):
            sel.register(r, selectors.EVENT_READ, data=i)
        res, wall, ticks = self.timed(lambda: sel.select(TIMEOUT))
        self.assertEqual(res, [])
        self.assertCooperativeTimeout(wall, ticks)
        write_later(self.pipes[0][1], 0.05)
        [(key, events)] = sel.select(5)
        self.assertEqual(key.data, 0)
        self.assertEqual(events, selectors.EVENT_READ)
        sel.close()

    def test_every_selector_class(self):
        for cls in (selectors.SelectSelector, selectors.PollSelector,
                    selectors.EpollSelector):
            with self.subTest(cls=cls.__name__):
                sel = cls()
                sel.register(self.pipes[0][0], selectors.EVENT_READ)
                res, wall, ticks = self.timed(lambda: sel.select(TIMEOUT))
                self.assertEqual(res, [])
                self.assertCooperativeTimeout(wall, ticks)
                sel.close()


if __name__ == "__main__":
    faulthandler.dump_traceback_later(WATCHDOG, exit=True)
    unittest.main()
