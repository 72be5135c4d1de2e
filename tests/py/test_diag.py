# test_diag: seeing inside a running program — the SIGQUIT goroutine dump
# (Go's format, exit status 2), gpython.goroutines()/numgoroutine()/dump(),
# the blocking report (-X gpython.blockreport=MS) and leak reports. Runs
# under gpython; fatal paths in child processes.
import io
import os
import re
import signal
import subprocess
import sys
import textwrap
import threading
import time
import unittest

import gpython

GPYTHON = sys.executable
SANITIZE = os.environ.get("GPY_SANITIZE") == "1"


def child(code, *args, env=None):
    e = dict(os.environ)
    e.update(env or {})
    return subprocess.Popen([GPYTHON, *args, "-c", textwrap.dedent(code)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=e)


def run(code, *args, env=None, timeout=60):
    p = child(code, *args, env=env)
    out, err = p.communicate(timeout=timeout)
    return p.returncode, out, err


def block_of(err, gid):
    """The dump's block of goroutine gid."""
    m = re.search(r"^goroutine %d \[[^\n]*\]:\n(?:.*\n)*?\n" % gid, err, re.M)
    return m.group(0) if m else ""


KNOWN_STATES = """
    import os, socket, sys, threading, time
    ch = chan()
    def chan_worker():
        ch.recv()
    def sender_worker():
        chan().send(1)
    def select_worker():
        select(chan().recv, chan().recv)
    def sleeper():
        time.sleep(100)
    a, b = socket.socketpair()
    def reader():
        a.recv(10)
    lock = threading.Lock()
    lock.acquire()
    def locker():
        lock.acquire()
    go(chan_worker)
    go(sender_worker)
    go(select_worker)
    go(sleeper)
    go(reader)
    t = threading.Thread(target=locker, name="the-locker")
    t.start()
    time.sleep(0.05)
    print(a.fileno(), flush=True)
    ch2 = chan()
    ch2.recv()
"""


class SigquitTest(unittest.TestCase):

    def dump_of(self, code, wait=0.1):
        p = child(code)
        fd = int(p.stdout.readline())
        time.sleep(wait)
        p.send_signal(signal.SIGQUIT)
        out, err = p.communicate(timeout=60)
        self.assertEqual(p.returncode, 2, err)
        return fd, err

    def test_states_names_creators(self):
        fd, err = self.dump_of(KNOWN_STATES)
        self.assertTrue(err.startswith("SIGQUIT: quit\n\ngoroutine "), err)
        ids = [int(i) for i in re.findall(r"^goroutine (\d+) \[", err, re.M)]
        self.assertEqual(len(ids), 7, err)
        self.assertEqual(ids[0], 1, err)
        main = block_of(err, 1)
        self.assertIn("goroutine 1 [chan receive]:\nname: main\n", main)
        lines = textwrap.dedent(KNOWN_STATES).splitlines()
        lineno = {l.strip(): i + 1 for i, l in enumerate(lines)}
        self.assertIn('File "<string>", line %d, in <module>'
                      % lineno["ch2.recv()"], main)
        expect = {
            "chan_worker": "chan receive",
            "sender_worker": "chan send",
            "select_worker": "select",
            "sleeper": "sleep",
            "reader": "IO wait on fd %d" % fd,
            "the-locker": "lock",
        }
        for name, state in expect.items():
            blocks = [b for b in (block_of(err, i) for i in ids)
                      if "\nname: %s\n" % name in b]
            self.assertEqual(len(blocks), 1, (name, err))
            b = blocks[0]
            self.assertRegex(b, r"^goroutine \d+ \[%s\]:\n" % re.escape(state))
            self.assertIn("Traceback (most recent call last):\n", b)
            self.assertIn("created by <module> in goroutine 1\n", b)
        chan_worker = [block_of(err, i) for i in ids
                       if "name: chan_worker" in block_of(err, i)][0]
        self.assertIn('File "<string>", line %d, in chan_worker'
                      % lineno["ch.recv()"], chan_worker)
        self.assertIn("created by <module> in goroutine 1\n  <string>:%d\n"
                      % lineno["go(chan_worker)"], chan_worker)
        locker = [block_of(err, i) for i in ids
                  if "name: the-locker" in block_of(err, i)][0]
        # t.start()'s line, not threading's
        self.assertIn("<string>:%d\n" % lineno["t.start()"], locker)

    def test_wait_duration(self):
        fd, err = self.dump_of("""
            import time
            go(time.sleep, 100)      # no deadlock
            print(0, flush=True)
            chan().recv()
        """, wait=1.3)
        self.assertIn("goroutine 1 [chan receive, 1 second]:", err)

    def test_running_goroutine(self):
        # The dump happens in the signal handler: a goroutine computing
        # (or stuck in a C call) does not stop it.
        p = child("""
            import time
            def spin():
                print(0, flush=True)
                while True:
                    pass
            go(spin)
            chan().recv()
        """)
        p.stdout.readline()
        time.sleep(0.1)
        p.send_signal(signal.SIGQUIT)
        out, err = p.communicate(timeout=60)
        self.assertEqual(p.returncode, 2, err)
        self.assertRegex(err, r"goroutine \d+ \[running\]:\nname: spin\n")
        self.assertIn("goroutine 1 [chan receive]:", err)

    def test_program_handler_kept(self):
        rc, out, err = run("""
            import os, signal, sys
            def h(sig, frame):
                print("handled", sig, flush=True)
                sys.exit(0)
            signal.signal(signal.SIGQUIT, h)
            go(os.kill, os.getpid(), signal.SIGQUIT)
            chan().recv()
        """)
        self.assertEqual((rc, out), (0, "handled %d\n" % signal.SIGQUIT), err)
        self.assertNotIn("goroutine", err)

    def test_default_restored_kills_as_python3(self):
        rc, out, err = run("""
            import os, signal, resource
            resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
            assert signal.getsignal(signal.SIGQUIT) == signal.SIG_DFL
            signal.signal(signal.SIGQUIT, signal.SIG_DFL)
            os.kill(os.getpid(), signal.SIGQUIT)
        """)
        self.assertEqual(rc, -signal.SIGQUIT, err)

    def test_deadlock_and_panic_same_format(self):
        rc, out, err = run("""
            def stuck_worker():
                chan().recv()
            go(stuck_worker)
            chan().send(1)
        """)
        self.assertEqual(rc, 2, err)
        self.assertIn("fatal error: all goroutines are asleep - deadlock!\n\n"
                      "goroutine 1 [chan send]:\nname: main\n", err)
        self.assertRegex(err, r"goroutine \d+ \[chan receive\]:\n"
                              r"name: stuck_worker\n")
        rc, out, err = run("""
            import time
            def boom():
                raise ValueError("x")
            go(boom)
            time.sleep(10)
        """)
        self.assertEqual(rc, 2, err)
        self.assertRegex(err, r"goroutine \d+ \[running\]:\nname: boom\n"
                              r"(?:.*\n)*created by <module> in goroutine 1\n"
                              r"  <string>:5\n")


class InProcessTest(unittest.TestCase):

    def test_goroutines(self):
        stop = chan()
        started = chan(2)

        def waiter(x):
            started.send(None)
            stop.recv()
        go(waiter, 1)                    # creator line: this one
        line = sys._getframe().f_lineno - 1
        t = threading.Thread(target=waiter, args=(2,), name="named")
        t.start()
        started.recv()
        started.recv()
        time.sleep(0.01)
        gs = gpython.goroutines()
        self.assertEqual(gpython.numgoroutine(), len(gs))
        import golang.runtime
        self.assertEqual(golang.runtime.NumGoroutine(), len(gs))
        by_name = {g.name: g for g in gs}
        me = [g for g in gs if g.id == threading.get_ident()][0]
        self.assertEqual(me.state, "running")
        w = by_name["waiter"]
        self.assertEqual((w.state, w.wait_reason, w.fd),
                         ("waiting", "chan receive", -1))
        self.assertLessEqual(w.waiting_since, time.monotonic())
        self.assertGreater(w.waiting_since, time.monotonic() - 10)
        self.assertEqual(w.stack[-1][2], "waiter")
        self.assertEqual(w.stack[-1][0], __file__)
        self.assertEqual(w.created_by, (__file__, line, "test_goroutines"))
        self.assertEqual(w.creator, threading.get_ident())
        n = by_name["named"]
        self.assertEqual(n.id, t.ident)
        self.assertEqual(n.wait_reason, "chan receive")
        self.assertEqual(n.created_by[1], line + 3)   # t.start()
        self.assertIn("Goroutine", repr(w))
        stop.close()
        t.join()

    def test_dump_does_not_exit(self):
        stop = chan()

        def parked_in_dump_test():
            stop.recv()
        go(parked_in_dump_test)
        time.sleep(0.01)
        f = io.StringIO()
        gpython.dump(f)
        s = f.getvalue()
        self.assertRegex(s, r"goroutine \d+ \[chan receive\]:\n"
                            r"name: parked_in_dump_test\n")
        self.assertIn("[running]:", s)
        stop.close()

    def test_grouped_dump(self):
        n = 20000 if SANITIZE else 100000
        stop = chan()
        parked = []

        def many():
            parked.append(None)
            stop.recv()
        for _ in range(n):
            go(many)
        while len(parked) < n:
            time.sleep(0.01)
        time.sleep(0.01)
        t0 = time.monotonic()
        f = io.StringIO()
        gpython.dump(f)
        took = time.monotonic() - t0
        s = f.getvalue()
        self.assertIn("%d goroutines like this:\ngoroutine " % n, s)
        self.assertEqual(s.count("name: many\n"), 1)
        self.assertLess(len(s), 100000)
        self.assertLess(took, 30)
        stop.close()
        time.sleep(0.05)

    def test_small_groups_not_folded(self):
        stop = chan()

        def few():
            stop.recv()
        for _ in range(3):
            go(few)
        time.sleep(0.01)
        f = io.StringIO()
        gpython.dump(f)
        self.assertEqual(f.getvalue().count("name: few\n"), 3)
        stop.close()


class BlockReportTest(unittest.TestCase):

    TICKER = """
        import time
        def ticker():
            while True:
                time.sleep(0.005)
        go(ticker)
        time.sleep(0.02)
    """

    def test_computing_goroutine(self):
        rc, out, err = run(self.TICKER + """
        def compute():
            t = time.monotonic()
            while time.monotonic() - t < 0.5:
                pass
        compute()
        time.sleep(0.02)
        print("done")
        """, "-X", "gpython.blockreport=50")
        self.assertEqual((rc, out), (0, "done\n"), err)
        self.assertEqual(err.count("has kept the others from running"), 1,
                         err)
        self.assertRegex(err, r"blocking report: goroutine 1 has kept the "
                              r"others from running for \d+ ms \(limit 50 "
                              r"ms\), computing in Python")
        self.assertIn(", in compute\n", err)
        m = re.search(r"goroutine 1 ran (\d+) ms without letting", err)
        self.assertTrue(m, err)
        self.assertGreaterEqual(int(m.group(1)), 400)

    def test_gil_released_call_and_env(self):
        rc, out, err = run(self.TICKER + """
        import ctypes
        class ts(ctypes.Structure):
            _fields_ = [("s", ctypes.c_long), ("ns", ctypes.c_long)]
        def raw_sleep():
            ctypes.CDLL(None).syscall(35, ctypes.byref(ts(0, 300000000)),
                                      None)
        raw_sleep()
        time.sleep(0.02)
        """, env={"GPYTHON_BLOCKREPORT": "50",
                  # one OS thread: no handoff, the call blocks the others
                  "GPYTHON_MAXTHREADS": "1"})
        self.assertEqual(rc, 0, err)
        self.assertIn("in a call that released the GIL without parking", err)
        self.assertIn(", in raw_sleep\n", err)

    def test_gil_holding_c_call(self):
        rc, out, err = run(self.TICKER + """
        import ctypes
        class ts(ctypes.Structure):
            _fields_ = [("s", ctypes.c_long), ("ns", ctypes.c_long)]
        def hold():
            ctypes.PyDLL(None).syscall(35, ctypes.byref(ts(0, 300000000)),
                                       None)
        hold()
        time.sleep(0.02)
        """, "-X", "gpython.blockreport=50")
        self.assertEqual(rc, 0, err)
        self.assertIn("in a C call that holds the GIL", err)
        self.assertIn(", in hold\n", err)

    def test_well_behaved_program(self):
        rc, out, err = run(self.TICKER + """
        c = chan()
        def worker():
            for i in range(2000):
                c.send(i)
            c.close()
        go(worker)
        n = 0
        t = time.monotonic()
        for v in iter(c.recv, None):
            n += 1
            if n == 2000:
                break
            if n % 100 == 0:
                time.sleep(0.002)
        print(n)
        """, "-X", "gpython.blockreport=50")
        self.assertEqual((rc, out), (0, "2000\n"), err)
        self.assertNotIn("blocking report", err)

    def test_off_by_default(self):
        rc, out, err = run(self.TICKER + """
        t = time.monotonic()
        while time.monotonic() - t < 0.3:
            pass
        """)
        self.assertEqual(rc, 0, err)
        self.assertNotIn("blocking report", err)

    def test_bad_value(self):
        rc, out, err = run("pass", "-X", "gpython.blockreport=x")
        self.assertNotEqual(rc, 0)
        self.assertIn("gpython.blockreport", err)


class LeakTest(unittest.TestCase):

    def new_leaks(self):
        return sorted(g.name for g in gpython.leaks()
                      if g.id not in self.before)

    def setUp(self):
        self.before = {g.id for g in gpython.leaks()}

    def test_unreachable_leaked_reachable_not(self):
        global reachable
        reachable = chan()

        def leaky():
            chan().recv()

        def waits_on_global():
            reachable.recv()

        def pair(c):
            c.recv()
        go(leaky)
        go(waits_on_global)
        c = chan()
        go(pair, c)                   # c is a local of ours: reachable
        d = chan()
        go(pair, d)
        time.sleep(0.01)
        del d                         # now only its blocked goroutine has it
        self.assertEqual(self.new_leaks(), ["leaky", "pair"])
        self.assertTrue(all(g.wait_reason == "chan receive"
                            for g in gpython.leaks()))
        reachable.close()
        c.close()

    def test_chain_of_leaks(self):
        # b waits on a channel only a leaked goroutine (a) refers to.
        def a_waits(x, y):
            x.recv()
            y.send(1)

        def b_waits(y):
            y.recv()

        def start():
            x, y = chan(), chan()
            go(a_waits, x, y)
            go(b_waits, y)
        start()
        time.sleep(0.01)
        self.assertEqual(self.new_leaks(), ["a_waits", "b_waits"])

    def test_leakreport_at_exit(self):
        rc, out, err = run("""
            import time
            def forgotten():
                chan().recv()
            keep = chan()
            def kept():
                keep.recv()
            go(forgotten)
            go(kept)
            time.sleep(0.01)
        """, "-X", "gpython.leakreport")
        self.assertEqual(rc, 0, err)
        self.assertIn("gpython: 1 leaked goroutine (blocked forever", err)
        self.assertRegex(err, r"goroutine \d+ \[chan receive\]:\n"
                              r"name: forgotten\n")
        self.assertNotIn("name: kept", err)
        rc, out, err = run("go(lambda: chan().recv())")
        self.assertNotIn("leaked", err)


if __name__ == "__main__":
    unittest.main()
