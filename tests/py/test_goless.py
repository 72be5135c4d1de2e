# test_goless: goless's API (goless.readthedocs.org) on gpython's goroutines
# — channels of the three kinds, ChannelClosed, select with rcase/scase/
# dcase, go and on_panic, Deadlock where goless raises it, iteration, and
# where gpython finds the package. Runs under gpython.
import os
import subprocess
import sys
import time
import unittest

import goless
from goless import backends, channels

GPYTHON = sys.executable


class ChannelTest(unittest.TestCase):

    def test_kinds(self):
        self.assertIsInstance(goless.chan(), channels.SyncChannel)
        self.assertIsInstance(goless.chan(None), channels.SyncChannel)
        self.assertIsInstance(goless.chan(3), channels.BufferedChannel)
        self.assertEqual(goless.chan(3).maxsize, 3)
        self.assertIsInstance(goless.chan(-1), channels.AsyncChannel)
        self.assertRaises(AssertionError, channels.BufferedChannel, "2")

    def test_unbuffered_rendezvous(self):
        c = goless.chan()
        got = []

        def receiver():
            got.append(c.recv())
        goless.go(receiver)
        c.send("x")            # the waiting receiver runs first
        self.assertEqual(got, ["x"])

    def test_buffered_blocks_when_full(self):
        c = goless.chan(2)
        sent = []

        def sender():
            for i in range(4):
                c.send(i)
                sent.append(i)
        goless.go(sender)
        backends.current.yield_()
        self.assertEqual(sent, [0, 1])        # blocked on the third
        self.assertEqual([c.recv() for _ in range(4)], [0, 1, 2, 3])

    def test_async_never_blocks(self):
        c = goless.chan(-1)
        for i in range(20000):
            c.send(i)
        c.close()
        self.assertEqual(sum(c), sum(range(20000)))

    def test_closed(self):
        c = goless.chan(1)
        c.send(1)
        c.close()
        self.assertEqual(c.recv(), 1)          # drained first
        self.assertRaises(goless.ChannelClosed, c.recv)
        self.assertRaises(goless.ChannelClosed, c.send, 2)

    def test_close_wakes_blocked(self):
        for method in ("recv", "send"):
            c = goless.chan()
            out = []

            def blocked():
                try:
                    getattr(c, method)()
                except goless.ChannelClosed:
                    out.append("closed")
            goless.go(blocked)
            backends.current.yield_()
            c.close()
            backends.current.yield_()
            self.assertEqual(out, ["closed"], method)

    def test_for_in(self):
        c = goless.chan()

        def producer():
            for i in range(5):
                c.send(i * i)
            c.close()
        goless.go(producer)
        self.assertEqual([v for v in c], [0, 1, 4, 9, 16])

    def test_deadlock(self):
        self.assertRaises(goless.Deadlock, goless.chan().recv)
        self.assertRaises(goless.Deadlock, goless.chan().send, 1)
        self.assertRaises(goless.Deadlock, goless.select,
                          goless.rcase(goless.chan()))
        backends.current.yield_()     # nothing else runs: no deadlock


class SelectTest(unittest.TestCase):

    def test_default(self):
        c = goless.chan()
        d = goless.dcase()
        self.assertEqual(goless.select([goless.rcase(c), d]), (d, None))
        self.assertEqual(goless.select(goless.rcase(c), d), (d, None))

    def test_ready_cases(self):
        a, b = goless.chan(1), goless.chan(1)
        b.send("B")
        rb = goless.rcase(b)
        self.assertEqual(goless.select([goless.rcase(a), rb]), (rb, "B"))
        sa = goless.scase(a, "A")
        case, v = goless.select([sa, goless.dcase()])
        self.assertEqual((case, v), (sa, None))
        self.assertEqual(a.recv(), "A")

    def test_blocks_until_ready(self):
        c = goless.chan()

        def later():
            time.sleep(0.02)
            c.send(7)
        goless.go(later)
        rc = goless.rcase(c)
        t0 = time.monotonic()
        self.assertEqual(goless.select([rc]), (rc, 7))
        self.assertGreaterEqual(time.monotonic() - t0, 0.015)

    def test_bad_arguments(self):
        c = goless.chan(1)
        self.assertRaises(TypeError, goless.select,
                          [goless.scase(c, 1)], goless.scase(c, 2))
        self.assertIsNone(goless.select())
        self.assertIsNone(goless.select([]))
        self.assertRaises(AssertionError, goless.select,
                          [goless.dcase(), goless.dcase()])


class BackendTest(unittest.TestCase):

    def test_current(self):
        be = backends.current
        self.assertEqual(be.shortname(), "gpython")
        c = be.channel()
        got = []

        def receiver():
            got.append("r1")
            got.append(c.receive())
        be.run(receiver)
        self.assertEqual(c.balance, -1)
        c.send("v")
        self.assertEqual(got, ["r1", "v"])
        self.assertEqual(c.balance, 0)
        self.assertTrue(be.would_deadlock())

    def test_calculate_backend(self):
        made = {"stackless": lambda: "S", "gevent": lambda: "G"}
        self.assertEqual(backends.calculate_backend("gevent", made), "G")
        self.assertEqual(backends.calculate_backend("", made), "S")
        self.assertRaises(RuntimeError, backends.calculate_backend, "x",
                          made)
        nb = backends.calculate_backend("", {})
        with self.assertRaises(backends.NoValidBackend):
            nb.shortname()
        self.assertEqual(backends.calculate_backend("").shortname(),
                         "gpython")

    def test_as_deadlock(self):
        with self.assertRaises(goless.Deadlock):
            with backends.as_deadlock(KeyError):
                raise KeyError("k")


def run(code, env=None, *args):
    e = dict(os.environ)
    e.update(env or {})
    return subprocess.run([GPYTHON, *args, "-c", code], capture_output=True,
                          text=True, env=e, timeout=60)


class ProcessTest(unittest.TestCase):

    def test_panic_exits(self):
        r = run("import goless, time\n"
                "def boom(): raise ValueError('xyz')\n"
                "goless.go(boom)\n"
                "time.sleep(5)\n")
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("ValueError: xyz", r.stderr)

    def test_on_panic_replaced(self):
        r = run("import goless, time\n"
                "seen = []\n"
                "goless.on_panic = lambda t, v, tb: seen.append(v)\n"
                "goless.go(lambda: 1 / 0)\n"
                "time.sleep(0.01)\n"
                "print(type(seen[0]).__name__)\n")
        self.assertEqual((r.returncode, r.stdout), (0, "ZeroDivisionError\n"),
                         r.stderr)

    def test_installed_goless_wins(self):
        import tempfile
        with tempfile.TemporaryDirectory() as d:
            os.mkdir(os.path.join(d, "goless"))
            with open(os.path.join(d, "goless", "__init__.py"), "w") as f:
                f.write("WHO = 'installed'\n")
            env = {"PYTHONPATH": d}
            r = run("import goless; print(getattr(goless, 'WHO', 'ours'))",
                    env)
            self.assertEqual(r.stdout, "installed\n", r.stderr)
            r = run("import goless; print(getattr(goless, 'WHO', 'ours'))",
                    env, "-X", "gpython.goless")
            self.assertEqual(r.stdout, "ours\n", r.stderr)
            r = run("import goless; print(getattr(goless, 'WHO', 'ours'))",
                    dict(env, GPYTHON_GOLESS="1"))
            self.assertEqual(r.stdout, "ours\n", r.stderr)


if __name__ == "__main__":
    unittest.main()
