# test_builtins_api: the builtins gpython adds — go, chan, select, default,
# nilchan — with Go's semantics, per-goroutine interpreter state, and the
# fatal paths (panic, deadlock) checked in subprocesses. Runs under gpython:
#
#   build/gpython tests/py/test_builtins_api.py [unittest args]
import builtins
import contextvars
import faulthandler
import gc
import os
import re
import subprocess
import sys
import textwrap
import threading
import time
import unittest
import weakref

if not all(hasattr(builtins, n)
           for n in ("go", "chan", "select", "default", "nilchan")):
    sys.exit("test_builtins_api.py must run under gpython (no go/chan "
             "builtins in %s)" % sys.executable)

import _gpython  # noqa: E402

_PanicError = _gpython._PanicError
PYTHON3 = "/usr/bin/python3"
WATCHDOG = 60       # seconds a single test may take before we dump and exit


def after(seconds):
    """A channel that receives True once seconds have passed."""
    ch = chan(1)

    def fire():
        time.sleep(seconds)
        ch.send(True)
    go(fire)
    return ch


def recv_timeout(tc, ch, seconds=10):
    """ch.recv(), failing the test instead of hanging."""
    idx, v = select(ch.recv, after(seconds).recv)
    if idx != 0:
        tc.fail("nothing received within %ss" % seconds)
    return v


def settle(seconds=0.05):
    """Let every runnable goroutine run until it parks."""
    time.sleep(seconds)


def run_gpython(code, timeout=60, args=(), env=None):
    """Run code under this gpython in a subprocess: (rc, stdout, stderr)."""
    e = dict(os.environ)
    e.pop("PYTHONSTARTUP", None)
    if env:
        e.update(env)
    try:
        r = subprocess.run([sys.executable, "-c", textwrap.dedent(code)]
                           + list(args), capture_output=True, text=True,
                           timeout=timeout, env=e)
    except subprocess.TimeoutExpired as exc:
        raise AssertionError("subprocess timed out after %ss\nstdout: %s\n"
                             "stderr: %s\ncode:\n%s" % (
                                 timeout, exc.stdout, exc.stderr, code))
    return r.returncode, r.stdout, r.stderr


class Case(unittest.TestCase):
    maxDiff = None

    def setUp(self):
        # A hung test dumps every thread's traceback and exits instead of
        # hanging the run; faulthandler's watchdog is a real OS thread.
        faulthandler.dump_traceback_later(WATCHDOG, exit=True)

    def tearDown(self):
        faulthandler.cancel_dump_traceback_later()

    def assertPanics(self, msg, fn, *args):
        with self.assertRaises(_PanicError) as cm:
            fn(*args)
        self.assertEqual(cm.exception.args, (msg,))

    def gather(self, n, ch, seconds=10):
        return [recv_timeout(self, ch, seconds) for _ in range(n)]

    def in_goroutine(self, fn, *args, **kw):
        """Run fn in a goroutine and return its result (or re-raise)."""
        res = chan(1)

        def run():
            try:
                res.send((True, fn(*args, **kw)))
            except BaseException as e:
                res.send((False, e))
        go(run)
        ok, v = recv_timeout(self, res)
        if not ok:
            raise v
        return v

    def assertSubprocessOK(self, code, expect_out=None, timeout=60):
        rc, out, err = run_gpython(code, timeout)
        self.assertEqual(rc, 0, "exit status %r\nstdout:\n%s\nstderr:\n%s"
                         % (rc, out, err))
        if expect_out is not None:
            self.assertEqual(out, expect_out, err)
        return out, err


# ---------------------------------------------------------------------------
class TestGo(Case):

    def test_args_and_kwargs(self):
        res = chan(1)
        go(lambda *a, **kw: res.send((a, kw)), 1, "two", k=3, f=None)
        self.assertEqual(recv_timeout(self, res),
                         ((1, "two"), {"k": 3, "f": None}))

    def test_bound_method_and_builtin(self):
        ch = chan(3)
        go(ch.send, "via bound method")
        self.assertEqual(recv_timeout(self, ch), "via bound method")
        out = []
        go(out.append, 5)
        settle()
        self.assertEqual(out, [5])

    def test_many_goroutines(self):
        res = chan(10)
        n = 2000
        for i in range(n):
            go(res.send, i)
        self.assertEqual(sorted(self.gather(n, res)), list(range(n)))

    def test_goroutines_interleave_on_sleep(self):
        log = []

        def worker(name, delay):
            time.sleep(delay)
            log.append(name)
        done = chan()
        for name, delay in (("c", 0.3), ("a", 0.1), ("b", 0.2)):
            go(lambda n=name, d=delay: (worker(n, d), done.send(n)))
        t0 = time.monotonic()
        self.gather(3, done)
        # the sleeps overlapped: ~0.3 s in all, not 0.6
        self.assertLess(time.monotonic() - t0, 0.5)
        self.assertEqual(log, ["a", "b", "c"])

    def test_bad_arguments(self):
        # go(non-callable) must fail in the caller, not in a goroutine that
        # would then take the whole process down (so: in a subprocess)
        out, _ = self.assertSubprocessOK("""
            for args in [(), (1,), (None, 2), ("str",)]:
                try:
                    go(*args)
                except TypeError as e:
                    assert str(e), args
                    print("TypeError")
            import time; time.sleep(0.05)
            print("alive")
        """)
        self.assertEqual(out, "TypeError\n" * 4 + "alive\n")


# ---------------------------------------------------------------------------
class TestChan(Case):

    def test_cap_len(self):
        self.assertEqual(chan().cap(), 0)
        self.assertEqual(len(chan()), 0)
        ch = chan(3)
        self.assertEqual((ch.cap(), len(ch)), (3, 0))
        ch.send(1)
        ch.send(2)
        self.assertEqual((ch.cap(), len(ch)), (3, 2))
        ch.recv()
        self.assertEqual(len(ch), 1)
        self.assertEqual(chan(0).cap(), 0)

    def test_buffered_fifo_and_full(self):
        ch = chan(3)
        for v in ("a", "b", "c"):
            self.assertEqual(select((ch.send, v), default), (0, None))
        # full: a send would block now
        self.assertEqual(select((ch.send, "d"), default), (1, None))
        self.assertEqual([ch.recv(), ch.recv(), ch.recv()], ["a", "b", "c"])
        self.assertEqual(select(ch.recv, default), (1, None))

    def test_unbuffered_never_buffers(self):
        ch = chan()
        self.assertEqual(select((ch.send, 1), default), (1, None))
        self.assertEqual(select(ch.recv, default), (1, None))
        self.assertEqual(len(ch), 0)

    def test_objects_pass_by_reference(self):
        ch = chan(1)
        for obj in (None, 0, "s", b"b", [1], {"k": object()}, ch, nilchan,
                    StopIteration()):
            ch.send(obj)
            self.assertIs(ch.recv(), obj)

    def test_unbuffered_send_waits_for_receiver(self):
        ch = chan()
        log = []

        def receiver():
            log.append("receiver started")
            time.sleep(0.1)
            log.append("receiving")
            log.append(("got", ch.recv()))
        go(receiver)
        t0 = time.monotonic()
        ch.send("x")
        log.append("sent")
        self.assertGreaterEqual(time.monotonic() - t0, 0.09)
        self.assertLess(log.index("receiving"), log.index("sent"), log)
        settle()
        self.assertIn(("got", "x"), log)

    def test_unbuffered_recv_waits_for_sender(self):
        ch = chan()
        log = []

        def sender():
            time.sleep(0.1)
            log.append("sending")
            ch.send(42)
            log.append("send returned")
        go(sender)
        t0 = time.monotonic()
        self.assertEqual(ch.recv(), 42)
        self.assertGreaterEqual(time.monotonic() - t0, 0.09)
        self.assertIn("sending", log)
        settle()
        self.assertEqual(log, ["sending", "send returned"])

    def test_ping_pong(self):
        ping, pong = chan(), chan()

        def player():
            while True:
                v, ok = ping.recv_()
                if not ok:
                    return
                pong.send(v + 1)
        go(player)
        v = 0
        for _ in range(2000):
            ping.send(v)
            v = pong.recv()
        ping.close()
        self.assertEqual(v, 2000)

    def test_recv_(self):
        ch = chan(2)
        ch.send("v")
        ch.send(None)
        self.assertEqual(ch.recv_(), ("v", True))
        self.assertEqual(ch.recv_(), (None, True))
        ch.close()
        self.assertEqual(ch.recv_(), (None, False))
        self.assertIsNone(ch.recv())

    def test_close_drains_buffer_first(self):
        ch = chan(3)
        ch.send(1)
        ch.send(2)
        ch.close()
        self.assertEqual(len(ch), 2)
        self.assertEqual(ch.recv_(), (1, True))
        self.assertEqual(ch.recv(), 2)
        self.assertEqual(ch.recv_(), (None, False))
        self.assertEqual(ch.recv_(), (None, False))
        self.assertEqual(len(ch), 0)
        self.assertEqual(ch.cap(), 3)

    def test_close_wakes_every_receiver(self):
        ch = chan()
        res = chan(20)
        for i in range(10):
            go(lambda: res.send(ch.recv_()))
        for i in range(10):
            go(lambda: res.send(("recv", ch.recv())))
        settle()
        self.assertEqual(len(res), 0)   # all blocked
        ch.close()
        got = self.gather(20, res)
        self.assertEqual(got.count((None, False)), 10, got)
        self.assertEqual(got.count(("recv", None)), 10, got)

    def test_close_panics_blocked_senders(self):
        for size in (0, 1):
            ch = chan(size)
            if size:
                ch.send("fills the buffer")
            res = chan(10)

            def sender(i):
                try:
                    ch.send(i)
                    res.send(("sent", i))
                except _PanicError as e:
                    res.send(e.args)
            for i in range(10):
                go(sender, i)
            settle()
            self.assertEqual(len(res), 0)
            ch.close()
            self.assertEqual(self.gather(10, res),
                             [("send on closed channel",)] * 10)
            if size:
                self.assertEqual(ch.recv_(), ("fills the buffer", True))
            self.assertEqual(ch.recv_(), (None, False))

    def test_panics(self):
        ch = chan(1)
        ch.close()
        self.assertPanics("send on closed channel", ch.send, 1)
        self.assertPanics("close of closed channel", ch.close)
        self.assertPanics("close of nil channel", nilchan.close)
        self.assertPanics("send on closed channel", select, (ch.send, 1))
        self.assertPanics("send on closed channel", select,
                          (ch.send, 1), default)
        unbuf = chan()
        unbuf.close()
        self.assertPanics("send on closed channel", unbuf.send, None)

    def test_panic_error_class(self):
        self.assertTrue(issubclass(_PanicError, BaseException))
        self.assertFalse(issubclass(_PanicError, Exception))
        try:
            from golang import _PanicError as golang_PanicError
        except ImportError:
            self.skipTest("golang package not importable")
        self.assertIs(golang_PanicError, _PanicError)

    def test_panic_is_not_swallowed_by_except_exception(self):
        ch = chan()
        ch.close()
        caught = None
        try:
            try:
                ch.close()
            except Exception:
                caught = "Exception"
        except _PanicError:
            caught = "panic"
        self.assertEqual(caught, "panic")

    def test_values_released(self):
        class Obj:
            pass
        obj = Obj()
        rc = sys.getrefcount(obj)
        ch = chan(1)
        for _ in range(100):
            ch.send(obj)
            ch.recv()
            ch.send(obj)
            ch.recv_()
        self.assertEqual(sys.getrefcount(obj), rc)
        # values still buffered when the channel dies are released with it
        ch = chan(2)
        ch.send(obj)
        ch.close()
        w = weakref.ref(obj)
        del obj
        self.assertIsNotNone(w())
        del ch
        gc.collect()
        self.assertIsNone(w())

    def test_chan_released(self):
        ch = chan(1)
        w = weakref.ref(ch)
        del ch
        gc.collect()
        self.assertIsNone(w())

    def test_bad_arguments(self):
        for args, exc in ((("x",), TypeError), ((-1,), ValueError),
                          ((1.5,), TypeError), ((None,), TypeError)):
            with self.subTest(args=args):
                with self.assertRaises(exc) as cm:
                    chan(*args)
                self.assertTrue(str(cm.exception))
        ch = chan(1)
        for fn, args in ((ch.send, ()), (ch.send, (1, 2)), (ch.recv, (1,)),
                         (ch.recv_, (1,)), (ch.close, (1,)),
                         (ch.cap, (1,))):
            with self.subTest(fn=fn, args=args):
                with self.assertRaises(TypeError):
                    fn(*args)
        self.assertEqual(len(ch), 0)
        ch.send(5)
        self.assertEqual(ch.recv(), 5)


# ---------------------------------------------------------------------------
class TestNilchan(Case):

    def test_len_cap(self):
        self.assertEqual(len(nilchan), 0)
        self.assertEqual(nilchan.cap(), 0)

    def test_blocks_forever(self):
        progress = []
        for op in (lambda: nilchan.send(1), nilchan.recv, nilchan.recv_,
                   lambda: select(nilchan.recv, (nilchan.send, 2)),
                   lambda: select()):
            go(lambda op=op: (op(), progress.append(op)))
        time.sleep(0.2)
        self.assertEqual(progress, [])

    def test_select_default(self):
        self.assertEqual(select(nilchan.recv, (nilchan.send, 1),
                                nilchan.recv_, default), (3, None))

    def test_select_other_ready(self):
        ch = chan(1)
        ch.send("x")
        for _ in range(20):
            self.assertEqual(select(nilchan.recv, ch.recv_,
                                    (nilchan.send, 1)), (1, ("x", True)))
            ch.send("x")


# ---------------------------------------------------------------------------
class TestSelect(Case):

    def test_recv_cases(self):
        ch = chan(2)
        ch.send(5)
        ch.send(6)
        self.assertEqual(select(ch.recv), (0, 5))
        self.assertEqual(select(ch.recv_), (0, (6, True)))
        ch.close()
        self.assertEqual(select(ch.recv_), (0, (None, False)))
        self.assertEqual(select(ch.recv), (0, None))

    def test_send_case(self):
        ch = chan(1)
        self.assertEqual(select((ch.send, 7)), (0, None))
        self.assertEqual(ch.recv(), 7)

    def test_default_alone_and_positions(self):
        ch = chan()
        self.assertEqual(select(default), (0, None))
        self.assertEqual(select(default, ch.recv), (0, None))
        self.assertEqual(select(ch.recv, default, (ch.send, 1)), (1, None))

    def test_ready_beats_default(self):
        ch = chan(1)
        for _ in range(100):
            ch.send("v")
            self.assertEqual(select(default, ch.recv), (1, "v"))

    def test_uniform_choice(self):
        a, b, c, d = chan(1), chan(1), chan(1), chan(1)
        n = 1200
        counts = [0] * 4
        for _ in range(n):
            if not len(a):
                a.send("a")
            if not len(b):
                b.send("b")
            if len(c):
                c.recv()
            idx, v = select(a.recv, b.recv_, (c.send, "c"), d.recv, default)
            counts[idx] += 1
            self.assertEqual(v, {0: "a", 1: ("b", True), 2: None}[idx])
        # expected 400 each, sigma ~16: the bounds are 7 sigma wide
        for i in range(3):
            self.assertTrue(290 < counts[i] < 510, counts)
        self.assertEqual(counts[3], 0)

    def test_uniform_choice_two_channels(self):
        a, b = chan(1), chan(1)
        counts = [0, 0]
        for _ in range(1000):
            if not len(a):
                a.send(1)
            if not len(b):
                b.send(2)
            counts[select(a.recv, b.recv)[0]] += 1
        self.assertTrue(380 < counts[0] < 620, counts)

    def test_blocks_until_ready(self):
        a, b = chan(), chan()
        go(lambda: (time.sleep(0.1), b.send("late")))
        t0 = time.monotonic()
        self.assertEqual(select(a.recv, b.recv), (1, "late"))
        self.assertGreaterEqual(time.monotonic() - t0, 0.09)

    def test_blocks_until_receiver(self):
        a, b = chan(), chan()
        got = chan(1)
        go(lambda: (time.sleep(0.1), got.send(a.recv())))
        t0 = time.monotonic()
        self.assertEqual(select((a.send, "to a"), (b.send, "to b")),
                         (0, None))
        self.assertGreaterEqual(time.monotonic() - t0, 0.09)
        self.assertEqual(recv_timeout(self, got), "to a")

    def test_woken_by_close(self):
        ch = chan()
        go(lambda: (time.sleep(0.05), ch.close()))
        self.assertEqual(select(nilchan.recv, ch.recv_), (1, (None, False)))

    def test_blocked_send_case_panics_on_close(self):
        ch = chan()
        go(lambda: (time.sleep(0.05), ch.close()))
        self.assertPanics("send on closed channel", select,
                          (ch.send, 1), nilchan.recv)

    def test_commits_exactly_one_case(self):
        a, b = chan(), chan()
        got = chan(2)
        go(lambda: got.send(("a", a.recv())))
        go(lambda: got.send(("b", b.recv())))
        settle()
        idx, _ = select((a.send, 1), (b.send, 2))
        first = recv_timeout(self, got)
        self.assertEqual(first, ("ab"[idx], idx + 1))
        settle()
        self.assertEqual(len(got), 0)   # the other receiver still waits
        other = (b, a)[idx]
        other.send("rest")
        self.assertEqual(recv_timeout(self, got), ("ba"[idx], "rest"))

    def test_select_does_not_pair_with_itself(self):
        ch = chan()
        self.assertEqual(select(ch.recv, (ch.send, 1), default), (2, None))
        # and a blocking one waits for a real partner
        go(lambda: (time.sleep(0.05), ch.send("partner")))
        self.assertEqual(select(ch.recv, (ch.send, 1)), (0, "partner"))

    def test_same_channel_twice(self):
        ch = chan(1)
        ch.send(1)
        idx, v = select(ch.recv, ch.recv)
        self.assertIn(idx, (0, 1))
        self.assertEqual(v, 1)

    def test_many_waiters_one_value_each(self):
        ch = chan()
        res = chan(50)
        for i in range(50):
            go(lambda: res.send(select(ch.recv, nilchan.recv)[1]))
        settle()
        for i in range(50):
            ch.send(i)
        self.assertEqual(sorted(self.gather(50, res)), list(range(50)))

    def test_bad_arguments(self):
        ch = chan(1)
        other = chan()
        bad = [(1,), ("x",), (None,), ((ch.send,),), ((ch.send, 1, 2),),
               (default, default), ((ch.recv, 1),), ((ch.recv_, 1),),
               (ch.send,), (ch.close,), (ch.cap,), (len,), ((1, 2),), ((),),
               (lambda: 1,), ((ch.close, 1),), ((other.cap, 1),),
               (ch.recv, (ch.send,)), (ch.recv, default, default)]
        for cases in bad:
            with self.subTest(cases=cases):
                with self.assertRaises((TypeError, ValueError)) as cm:
                    select(*cases)
                self.assertTrue(str(cm.exception), cases)
        # nothing half-registered is left behind
        self.assertEqual(len(ch), 0)
        ch.send(3)
        self.assertEqual(select(ch.recv, default), (0, 3))
        go(lambda: other.send("ok"))
        self.assertEqual(recv_timeout(self, other), "ok")


# ---------------------------------------------------------------------------
class TestPerGoroutineState(Case):

    def test_exception_being_handled(self):
        step_a, step_b = chan(), chan()
        res = chan(2)

        def a():
            try:
                raise ValueError("a")
            except ValueError:
                step_b.send(None)   # let b run inside its own handler
                step_a.recv()
                res.send(("a", repr(sys.exc_info()[1])))

        def b():
            step_b.recv()
            try:
                raise KeyError("b")
            except KeyError:
                step_a.send(None)
                res.send(("b", repr(sys.exc_info()[1])))
        go(a)
        go(b)
        try:
            raise OSError("main")
        except OSError:
            got = dict(self.gather(2, res))
            self.assertEqual(repr(sys.exc_info()[1]), "OSError('main')")
        self.assertEqual(got, {"a": "ValueError('a')", "b": "KeyError('b')"})
        self.assertEqual(sys.exc_info(), (None, None, None))
        # a fresh goroutine handles nothing
        self.assertEqual(self.in_goroutine(sys.exc_info), (None, None, None))

    def test_contextvars(self):
        var = contextvars.ContextVar("var", default="default")
        var.set("main")
        gate = chan()
        res = chan(3)

        def g(name):
            before = var.get()
            var.set(name)
            gate.recv()
            res.send((name, before, var.get()))
        for name in ("g1", "g2", "g3"):
            go(g, name)
        settle()
        for _ in range(3):
            gate.send(None)
        got = sorted(self.gather(3, res))
        # each goroutine starts with a fresh context, like a new thread
        self.assertEqual(got, [("g1", "default", "g1"),
                               ("g2", "default", "g2"),
                               ("g3", "default", "g3")])
        self.assertEqual(var.get(), "main")

    def test_threading_local(self):
        loc = threading.local()
        loc.v = "main"
        gate = chan()
        res = chan(3)

        def g(i):
            had = getattr(loc, "v", None)
            loc.v = i
            gate.recv()
            res.send((i, had, loc.v))
        for i in range(3):
            go(g, i)
        settle()
        for _ in range(3):
            gate.send(None)
        self.assertEqual(sorted(self.gather(3, res)),
                         [(0, None, 0), (1, None, 1), (2, None, 2)])
        self.assertEqual(loc.v, "main")

    def test_recursion_depth(self):
        limit = sys.getrecursionlimit()
        depth = int(limit * 0.6)
        gate = chan()
        res = chan(5)

        def rec(n):
            if n == 0:
                gate.recv()     # park at the bottom
                return 0
            return rec(n - 1) + 1

        def g():
            try:
                res.send(rec(depth))
            except RecursionError as e:
                res.send(e)
        for _ in range(5):
            go(g)
        settle()
        gate.close()
        # five stacks 0.6*limit deep at once: fine if counted per goroutine
        self.assertEqual(self.gather(5, res), [depth] * 5)

    def test_recursion_error_in_goroutine(self):
        def f():
            return f()

        def g():
            try:
                f()
            except RecursionError:
                return "RecursionError"
        self.assertEqual(self.in_goroutine(g), "RecursionError")

    def test_settrace(self):
        calls = []

        def tracer(frame, event, arg):
            if event == "call":
                calls.append(frame.f_code.co_name)
            return None

        def traced_a1():
            pass

        def traced_a2():
            pass

        def untraced_b():
            pass
        step = chan()
        res = chan(2)

        def a():
            sys.settrace(tracer)
            try:
                traced_a1()
                step.recv()
                traced_a2()
            finally:
                sys.settrace(None)
            res.send("a")

        def b():
            res.send(("b sees trace", sys.gettrace()))
            untraced_b()
            step.send(None)
        go(a)
        settle()
        go(b)
        got = self.gather(2, res)
        self.assertIn(("b sees trace", None), got)
        self.assertIn("traced_a1", calls)
        self.assertIn("traced_a2", calls)
        self.assertNotIn("untraced_b", calls)
        self.assertIsNone(sys.gettrace())

    def test_settrace_in_main_not_inherited(self):
        seen = []

        def tracer(frame, event, arg):
            seen.append(frame.f_code.co_name)
            return None

        def in_goroutine():
            return sys.gettrace()
        old = sys.gettrace()
        sys.settrace(tracer)
        try:
            got = self.in_goroutine(in_goroutine)
        finally:
            sys.settrace(old)
        self.assertIsNone(got)

    def test_frames_are_separate(self):
        def g():
            f = sys._getframe()
            names = []
            while f is not None:
                names.append(f.f_code.co_name)
                f = f.f_back
            return names
        names = self.in_goroutine(g)
        self.assertNotIn("test_frames_are_separate", names)
        self.assertNotIn("in_goroutine", names)


# ---------------------------------------------------------------------------
class TestCRecursion(Case):
    """Deep recursion through C in a goroutine ends in RecursionError (or
    succeeds), never in a crash. In subprocesses: a crash fails the test."""

    CASES = {
        # sorted() calling a key that calls sorted(): C frames per level
        "sorted_key": """
            def k(x):
                return sorted([x, x + 1], key=k)
            k(1)
        """,
        # nested __repr__ through the repr() builtin, 900 deep
        "nested_repr": """
            class Node:
                def __init__(self, child):
                    self.child = child
                def __repr__(self):
                    return "N(" + repr(self.child) + ")"
            n = None
            for _ in range(900):
                n = Node(n)
            r = repr(n)
            assert r.count("N(") == 900, r[:50]
        """,
        "list_repr": """
            l = []
            for _ in range(100000):
                l = [l]
            repr(l)
        """,
        "json_dumps": """
            import json
            l = []
            for _ in range(100000):
                l = [l]
            json.dumps(l)
        """,
        "pickle_dumps": """
            import pickle
            l = []
            for _ in range(100000):
                l = [l]
            pickle.dumps(l)
        """,
        "compile_deep": """
            eval("-" * 5000 + "1")
        """,
    }

    RUNNER = """
        import sys
        def case():
        %s
        def run(where):
            try:
                case()
                return "ok"
            except (RecursionError, MemoryError) as e:
                return type(e).__name__
        res = chan(1)
        go(lambda: res.send(run("goroutine")))
        print(res.recv())
        print(run("main"))
    """

    def test_cases(self):
        for name, body in self.CASES.items():
            with self.subTest(case=name):
                code = textwrap.dedent(self.RUNNER) % textwrap.indent(
                    textwrap.dedent(body), "    ")
                rc, out, err = run_gpython(code, timeout=60)
                self.assertEqual(rc, 0, "%s crashed: status %r\nstdout:\n%s"
                                 "\nstderr:\n%s" % (name, rc, out, err[-3000:]))
                lines = out.split()
                self.assertEqual(len(lines), 2, out)
                for line in lines:
                    self.assertIn(line, ("ok", "RecursionError",
                                         "MemoryError"), out)

    def test_many_deep_goroutines_at_once(self):
        # 20 goroutines each 100 levels deep in C recursion (~100 KB of C
        # stack: python3's threads manage 200 levels on a 256 KiB stack),
        # parked at the bottom at the same time: stacks must not overlap
        self.assertSubprocessOK("""
            import time
            gate = chan()
            res = chan(20)
            def k(n):
                if n == 0:
                    gate.recv()
                    return [0]
                return sorted([n], key=lambda x: k(n - 1)[0] + 1)
            def g():
                try:
                    res.send(k(100)[0])
                except RecursionError:
                    res.send("RecursionError")
            for _ in range(20):
                go(g)
            time.sleep(0.2)
            gate.close()
            got = [res.recv() for _ in range(20)]
            print(got.count(100), got.count("RecursionError"))
        """, expect_out="20 0\n")


# ---------------------------------------------------------------------------
class TestCtypes(Case):

    def test_qsort_callback_in_goroutines(self):
        # the comparator runs through PyGILState_Ensure; it also parks
        # (time.sleep, channel ops) in the middle of libc's qsort, so other
        # goroutines run their own qsort meanwhile
        out, _ = self.assertSubprocessOK("""
            import ctypes, ctypes.util, random, time
            libc = ctypes.CDLL(ctypes.util.find_library("c"))
            CMP = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_int),
                                   ctypes.POINTER(ctypes.c_int))
            tick = chan()
            def sorter(seed, res):
                rnd = random.Random(seed)
                vals = [rnd.randrange(1000) for _ in range(40)]
                arr = (ctypes.c_int * len(vals))(*vals)
                calls = 0
                def cmp(a, b):
                    nonlocal calls
                    calls += 1
                    if calls % 7 == 0:
                        time.sleep(0.001)
                    if calls % 11 == 0:
                        select((tick.send, seed), default)
                    return a[0] - b[0]
                cb = CMP(cmp)
                libc.qsort(arr, len(arr), ctypes.sizeof(ctypes.c_int), cb)
                res.send(list(arr) == sorted(vals))
            def ticker():
                while True:
                    tick.recv()
            go(ticker)
            res = chan()
            for seed in range(8):
                go(sorter, seed, res)
            print([res.recv() for _ in range(8)])
        """)
        self.assertEqual(out, "[%s]\n" % ", ".join(["True"] * 8))


# ---------------------------------------------------------------------------
DEADLOCK = "fatal error: all goroutines are asleep - deadlock!"


class TestFatal(Case):

    def test_exception_escaping_goroutine(self):
        rc, out, err = run_gpython("""
            import time
            def boom_worker():
                raise ValueError("boom-xyz")
            print("before", flush=True)
            go(boom_worker)
            time.sleep(2)
            print("not reached")
        """)
        self.assertEqual(rc, 2, err)
        self.assertEqual(out, "before\n")
        self.assertIn("Traceback (most recent call last)", err)
        self.assertIn("in boom_worker", err)
        self.assertIn("ValueError: boom-xyz", err)
        self.assertRegex(err, r"(?i)goroutine\s*#?\d+")

    def test_panic_escaping_goroutine(self):
        rc, out, err = run_gpython("""
            def closer(ch):
                ch.close()
            ch = chan()
            ch.close()
            go(closer, ch)
            chan().recv()
        """)
        self.assertEqual(rc, 2, err)
        self.assertIn("close of closed channel", err)
        self.assertIn("in closer", err)
        self.assertNotIn(DEADLOCK, err)

    def test_panic_in_main_is_an_ordinary_exception(self):
        rc, out, err = run_gpython("""
            ch = chan()
            ch.close()
            ch.close()
        """)
        self.assertEqual(rc, 1, err)
        self.assertIn("close of closed channel", err)
        self.assertIn("Traceback (most recent call last)", err)

    def test_deadlock_main_recv(self):
        rc, out, err = run_gpython("""
            print("start", flush=True)
            chan().recv()
        """)
        self.assertEqual(rc, 2, err)
        self.assertEqual(out, "start\n")
        self.assertIn(DEADLOCK, err)
        self.assertIn("<module>", err)

    def test_deadlock_two_goroutines(self):
        rc, out, err = run_gpython("""
            import time
            a, b = chan(), chan()
            def stuck_worker():
                b.recv()
            go(stuck_worker)
            time.sleep(0.05)
            def main_waits():
                a.send(1)
            main_waits()
        """)
        self.assertEqual(rc, 2, err)
        self.assertIn(DEADLOCK, err)
        self.assertIn("in stuck_worker", err)
        self.assertIn("in main_waits", err)

    def test_deadlock_variants(self):
        for code in ("select()", "nilchan.recv()", "chan().send(1)",
                     "select(nilchan.recv, (chan().send, 1))",
                     "go(lambda: chan().recv()); chan().recv_()",
                     "import threading; threading.Event().wait()"):
            with self.subTest(code=code):
                rc, out, err = run_gpython(code, timeout=30)
                self.assertEqual(rc, 2, err)
                self.assertIn(DEADLOCK, err)

    def test_no_false_deadlock(self):
        out, err = self.assertSubprocessOK("""
            import os, subprocess, sys, time
            ch = chan()
            go(lambda: (time.sleep(0.2), ch.send("timer")))
            print(ch.recv())
            # waiting for a child process is not a deadlock either
            done = chan()
            def waiter():
                p = subprocess.Popen([sys.executable, "-c",
                                      "import time; time.sleep(0.3)"])
                p.wait()
                done.send(p.returncode)
            go(waiter)
            print(done.recv())
            # nor is reading a pipe that another process writes late
            r, w = os.pipe()
            pid = os.fork()
            if pid == 0:
                os.close(r)
                time.sleep(0.2)
                os.write(w, b"late")
                os._exit(0)
            os.close(w)
            print(os.read(r, 10))
            os.waitpid(pid, 0)
            # nor is sleeping while every other goroutine is blocked
            go(lambda: chan().recv())
            time.sleep(0.1)
            print("end")
        """)
        self.assertEqual(out, "timer\n0\nb'late'\nend\n")
        self.assertNotIn(DEADLOCK, err)

    def test_100k_parked(self):
        out, err = self.assertSubprocessOK("""
            import time
            N = 100000
            gate = chan()
            fin = chan()
            started = 0
            finished = 0
            def w():
                global started, finished
                started += 1
                gate.recv_()
                finished += 1
                if finished == N:
                    fin.close()
            for _ in range(N):
                go(w)
            deadline = time.monotonic() + 90
            while started < N and time.monotonic() < deadline:
                time.sleep(0.01)
            print(started, finished)
            gate.close()
            fin.recv_()
            print(finished)
        """, timeout=150)
        self.assertEqual(out, "100000 0\n100000\n", err)

    def test_main_return_abandons_goroutines(self):
        code = """
            import atexit, builtins, sys, time
            atexit.register(lambda: print("atexit ran"))
            sys.stdout.write("buffered, no newline")
            if hasattr(builtins, "go"):
                def forever_blocked():
                    chan().recv()
                def forever_sleeping():
                    while True:
                        time.sleep(0.01)
                go(forever_blocked)
                go(forever_sleeping)
                time.sleep(0.05)
        """
        t0 = time.monotonic()
        rc, out, err = run_gpython(code, timeout=30)
        self.assertLess(time.monotonic() - t0, 20)
        p = subprocess.run([PYTHON3, "-c", textwrap.dedent(code)],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual((rc, out, err), (p.returncode, p.stdout, p.stderr))
        self.assertEqual(out, "buffered, no newlineatexit ran\n")

    def test_exit_status_kept_with_goroutines_alive(self):
        rc, out, err = run_gpython("""
            import sys
            go(lambda: chan().recv())
            sys.exit(7)
        """)
        self.assertEqual((rc, err), (7, ""))
        rc, out, err = run_gpython("""
            go(lambda: chan().recv())
            raise KeyError("k")
        """)
        self.assertEqual(rc, 1)
        self.assertTrue(err.endswith("KeyError: 'k'\n"), err)


# ---------------------------------------------------------------------------
EXAMPLES = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                        os.pardir, os.pardir, "examples")


class TestExamples(Case):

    def run_example(self, *args):
        r = subprocess.run([sys.executable, os.path.join(EXAMPLES, args[0])]
                           + list(args[1:]), capture_output=True, text=True,
                           timeout=60)
        return r.returncode, r.stdout, r.stderr

    def test_sieve(self):
        primes = [n for n in range(2, 3572)
                  if all(n % d for d in range(2, int(n ** 0.5) + 1))]
        rc, out, err = self.run_example("sieve.py", "500")
        self.assertEqual((rc, err), (0, ""))
        self.assertEqual(out.split(), [str(p) for p in primes[:500]])

    def test_pipeline(self):
        import tempfile
        with tempfile.TemporaryDirectory() as d:
            for i in range(30):
                sub = os.path.join(d, "dir%d" % (i % 4))
                os.makedirs(sub, exist_ok=True)
                with open(os.path.join(sub, "f%d" % i), "wb") as f:
                    f.write(b"x" * (i % 10) * 1000)   # 3 copies of each
            rc, out, err = self.run_example("pipeline.py", d, "--workers",
                                            "3")
            self.assertEqual((rc, err), (0, ""))
            lines = out.splitlines()
            self.assertRegex(lines[0], r"^%s: 30 files, 135000 bytes, 20 "
                             r"duplicate contents, 0 errors, 3 workers, "
                             r"[0-9.]+s$" % re.escape(d))
            self.assertEqual([ln.split()[0] for ln in lines[1:]],
                             ["9000"] * 3 + ["8000"] * 2, out)


if __name__ == "__main__":
    unittest.main()
