# test_capi.py: the C API (include/gpython/gpython.h) from an extension
# built out of tree against an installed gpython (run_capi.sh builds it
# and runs this under that gpython, capi_test on PYTHONPATH).
import struct
import sys
import threading
import time
import unittest

import _gpython
import capi_test as t


def drain(ch):
    out = []
    while True:
        v, ok = ch.recv_()
        if not ok:
            return out
        out.append(v)


class CAPITest(unittest.TestCase):

    def setUp(self):
        self.chans = _gpython._channels()

    def tearDown(self):
        # Every channel this test made, in C or Python, is freed: no leak
        # (C goroutines have ended and dropped their references).
        import gc
        deadline = time.monotonic() + 10
        while _gpython._channels() != self.chans:
            gc.collect()
            if time.monotonic() > deadline:
                self.fail("channels leaked: %d before, %d after" %
                          (self.chans, _gpython._channels()))
            time.sleep(0.001)

    def test_version(self):
        self.assertGreaterEqual(t.API_VERSION, 1)

    def test_c_goroutine_to_python(self):
        for cap in (0, 1, 7):
            ch = t.c_feed(1000, cap)
            self.assertEqual(ch.dtype, "C.int")
            self.assertEqual(ch.cap(), cap)
            self.assertEqual(drain(ch), list(range(1000)))
            self.assertEqual(ch.recv_(), (0, False))

    def test_python_to_c(self):
        for gil in (False, True):
            ch = chan(3, dtype="C.int")

            def producer():
                for i in range(500):
                    ch.send(i)
                ch.close()
            go(producer)
            self.assertEqual(t.c_sum(ch, gil), (sum(range(500)), 0, 0))

    def test_gil_held_wait_lets_others_run(self):
        # c_sum waits in C with the GIL held: the API releases it, so
        # Python goroutines (the producer) keep running.
        ch = chan(dtype="C.int")
        ticks = []

        def ticker():
            for i in range(5):
                time.sleep(0.002)
                ticks.append(i)
            ch.send(7)
            ch.close()
        go(ticker)
        self.assertEqual(t.c_sum(ch, True), (7, 0, 0))
        self.assertEqual(ticks, list(range(5)))

    def test_both_ways_at_once(self):
        # Python and C send and receive on the same channel concurrently.
        ch = chan(2, dtype="C.int")
        done = chan()

        def py_sender():
            for i in range(300):
                ch.send(1)
            done.send(None)
        go(py_sender)
        go(py_sender)
        feeder = t.c_feed(300, 0, 1)   # 0 .. 299 on its own channel

        def relay():
            for v in iter(feeder.recv_, (0, False)):
                self.assertEqual(t.c_send(ch, 1, False), 0)
            done.send(None)
        go(relay)
        got = []

        def closer():
            for _ in range(3):
                done.recv()
            ch.close()
        go(closer)
        total, r, _ = t.c_sum(ch, False)
        self.assertEqual((total, r), (900, 0))

    def test_os_threads(self):
        ch = chan(dtype="C.int")
        t.os_thread_feed(ch, 2000)
        self.assertEqual(drain(ch), list(range(2000)))
        ch = chan(4, dtype="C.int")

        def producer():
            for i in range(2000):
                ch.send(i)
            ch.close()
        go(producer)
        self.assertEqual(t.os_thread_sum(ch), (sum(range(2000)), 0))

    def test_hammer(self):
        ch = chan(16, dtype="C.int")
        ng, nt, n = 8, 3, 3000
        done = chan(ng + nt, dtype="C.int")
        t.hammer(ch, done, ng, nt, n)
        total = 0

        def closer():
            for _ in range(ng + nt):
                done.recv()
            ch.close()
        go(closer)

        def py_receiver(out):
            s = 0
            for v in iter(ch.recv_, (0, False)):
                s += v[0]
            out.send(s)
        out = chan(2)
        go(py_receiver, out)
        c_total, r, _ = t.c_sum(ch, False)
        total = c_total + out.recv()
        self.assertEqual(total, (ng + nt) * n * (n + 1) // 2)

    def test_select(self):
        r, s = chan(1, dtype="C.int"), chan(1, dtype="C.int")
        # nothing ready, default taken
        s.send(0)
        self.assertEqual(t.c_select(r, s, 5, True), (-1, -7, -7))
        # the receive is ready
        s.recv()
        r.send(42)
        s.send(0)
        self.assertEqual(t.c_select(r, s, 5, True), (0, 1, 42))
        # the send is ready
        self.assertEqual(s.recv(), 0)
        self.assertEqual(t.c_select(r, s, 9, True), (1, -7, -7))
        self.assertEqual(s.recv(), 9)
        # a closed channel: ok 0, zeroed value
        r.close()
        s.send(0)
        self.assertEqual(t.c_select(r, s, 1, True), (0, 0, 0))
        s.recv()
        # nil channels are never ready
        nil = chan.nil("C.int")
        self.assertEqual(t.c_select(nil, nil, 1, True), (-1, -7, -7))
        # blocking: woken by a Python goroutine's send
        q = chan(dtype="C.int")
        go(lambda: (time.sleep(0.01), q.send(3)))
        self.assertEqual(t.c_select(q, nil, 0, False), (0, 1, 3))
        # a send on a closed channel
        c = chan(dtype="C.int")
        c.close()
        EPIPE = 32
        self.assertEqual(t.c_select(nil, c, 1, True)[0], -EPIPE)

    def test_close_semantics(self):
        EPIPE, EINVAL = 32, 22
        self.assertEqual(t.close_semantics(),
                         (0, 0, -EPIPE, -EPIPE, 1, 0, 0, -EINVAL))
        ch = chan(dtype="C.int")
        self.assertEqual(t.c_close(ch), 0)
        self.assertEqual(t.c_close(ch), -EPIPE)
        self.assertEqual(t.c_send(ch, 1, True), -EPIPE)
        with self.assertRaisesRegex(BaseException, "close of closed channel"):
            ch.close()
        self.assertEqual(t.c_close(chan.nil("C.int")), -EINVAL)
        # a C sender blocked when Python closes gets -EPIPE
        ch = chan(dtype="C.int")
        res = chan(1)
        go(lambda: res.send(t.c_send(ch, 1, False)))
        time.sleep(0.01)
        ch.close()
        self.assertEqual(res.recv(), -EPIPE)

    def test_struct_elements(self):
        ch = t.struct_feed()
        self.assertEqual(ch.dtype, "C.bytes:%d" % t.POINT_SIZE)
        pts = [struct.unpack("id4s", b[:struct.calcsize("id4s")])
               for b in drain(ch)]
        self.assertEqual(pts, [(i, i / 2, b"pt\0\0") for i in range(3)])

    def test_wrap_types(self):
        for size, dtype, v, zero in ((4, "C.int", 3, 0),
                                     (8, "C.double", 1.5, 0.0),
                                     (1, "C.bool", True, False),
                                     (0, "C.structZ", None, None),
                                     (3, "C.bytes:3", b"xyz", b"\0\0\0")):
            ch = t.wrap(size, dtype)
            self.assertEqual(ch.dtype, dtype)
            self.assertEqual(ch.cap(), 2)
            ch.send(v)
            self.assertEqual(t.unwrap(ch, size), (1, 2, size))
            self.assertEqual(ch.recv(), v)
            ch.close()
            self.assertEqual(ch.recv_(), (zero, False))
        n = t.wrap(4, "C.int", True)
        self.assertEqual(n, chan.nil("C.int"))
        self.assertIsNone(t.unwrap(n, 4))
        self.assertIsNone(t.unwrap(chan.nil("C.int"), 4))

    def test_wrap_errors(self):
        with self.assertRaisesRegex(TypeError, "4-byte elements cannot be "
                                    r"chan\[C.double\]"):
            t.wrap(4, "C.double")
        with self.assertRaisesRegex(TypeError, "invalid dtype 'object'"):
            t.wrap(8, "object")
        with self.assertRaisesRegex(TypeError, "invalid dtype 'C.long'"):
            t.wrap(8, "C.long")
        with self.assertRaisesRegex(TypeError, r"chan\[C.int\] carries "
                                    "4-byte elements, not 8"):
            t.unwrap(chan(dtype="C.int"), 8)
        with self.assertRaisesRegex(TypeError, "Python objects cannot be "
                                    "used from C"):
            t.unwrap(chan(), 8)
        with self.assertRaisesRegex(TypeError, "expected a chan, got list"):
            t.unwrap([], 4)
        with self.assertRaisesRegex(TypeError, "expected a chan"):
            t.c_sum(42, True)

    def test_sleep(self):
        ch = t.c_sleep_go(20_000_000)
        ticks = []
        t0 = time.monotonic()
        go(lambda: [ticks.append(time.sleep(0.001)) for _ in range(5)])
        self.assertEqual(ch.recv(), 11)
        self.assertGreaterEqual(time.monotonic() - t0, 0.019)
        self.assertEqual(len(ticks), 5)   # Python ran while C slept
        # With the GIL held: released while sleeping.
        ticks.clear()
        go(lambda: [ticks.append(time.sleep(0.001)) for _ in range(3)])
        t0 = time.monotonic()
        self.assertEqual(t.c_sleep(30_000_000), 0)
        self.assertGreaterEqual(time.monotonic() - t0, 0.029)
        self.assertEqual(len(ticks), 3)

    def test_ids(self):
        self.assertEqual(t.ids(), (threading.get_ident(), 1))
        out = chan(1)

        def g():
            out.send((t.ids(), threading.get_ident()))
        go(g)
        (goid, inside), ident = out.recv()
        self.assertEqual((goid, inside), (ident, 1))

    @unittest.skipUnless(_gpython._chan_debug,
                         "freed channels are recognised in debug builds")
    def test_use_after_free(self):
        EBADF = 9
        self.assertEqual(t.use_after_free(), (-EBADF, -EBADF))
        # the freed record is kept, not counted
        self.chans = _gpython._channels()


if __name__ == "__main__":
    unittest.main()
