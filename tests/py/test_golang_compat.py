# -*- coding: utf-8 -*-
# Tests of the pygolang behaviours gpython adopted for pygolang programs to
# run unchanged (written from pygolang's documented behaviour): WorkGroup as
# a context manager, @func(Class) on properties and unbound names, typed
# nil channels, context values by key identity, bool refused by C.int and
# C.double channels, -X gpython.runtime=gevent, the _goframe frame, and
# Go's `for v := range ch`. Runs under gpython.

import subprocess, sys, textwrap, traceback, unittest

import golang
from golang import chan, go, func, defer, nilchan, context, sync, time


def run(prog, *opts, env=None):
    return subprocess.run([sys.executable] + list(opts) +
                          ["-c", textwrap.dedent(prog)],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, timeout=60, env=env)


class TestWorkGroup(unittest.TestCase):

    def test_with_waits(self):
        done = []
        with sync.WorkGroup(context.background()) as wg:
            for i in range(5):
                def w(ctx, i=i):
                    time.sleep(0.001 * i)
                    done.append(i)
                wg.go(w)
        self.assertEqual(sorted(done), [0, 1, 2, 3, 4])

    def test_with_raises_first_error_and_cancels(self):
        cancelled = chan()

        def bad(ctx):
            raise ValueError("boom")

        def waiter(ctx):
            ctx.done().recv()
            cancelled.close()
        with self.assertRaises(ValueError) as cm:
            with sync.WorkGroup(context.background()) as wg:
                wg.go(bad)
                wg.go(waiter)
        self.assertEqual(str(cm.exception), "boom")
        self.assertEqual(cancelled.recv_(), (None, False))

    def test_with_body_error_chained(self):
        def bad(ctx):
            raise KeyError("worker")
        with self.assertRaises(KeyError) as cm:
            with sync.WorkGroup(context.background()) as wg:
                wg.go(bad)
                raise RuntimeError("body")
        self.assertIsInstance(cm.exception.__context__, RuntimeError)


class TestFuncClass(unittest.TestCase):

    def test_property_and_setter(self):
        class C:
            def __init__(self):
                self._v = 1

        @func(C)
        @property
        def v(self):
            """the value"""
            return self._v

        @func(C)
        @C.v.setter
        def _(self, x):
            self._v = x
        c = C()
        self.assertEqual(c.v, 1)
        c.v = 7
        self.assertEqual(c.v, 7)
        self.assertEqual(C.v.__doc__, "the value")
        self.assertNotIn('v', locals())

    def test_names_unbound_in_module_and_class(self):
        r = run("""\
            from golang import func
            class C:
                pass
            @func(C)
            def meth(self):
                return 'm'
            keep = 'keep'
            @func(C)
            def keep(self):
                return 'k'
            class D:
                @func(C)
                def inner(self):
                    return 'i'
            print('meth' in globals(), keep, 'inner' in vars(D),
                  C().meth(), C().keep(), C().inner())
            """)
        self.assertEqual(r.stdout, "False keep False m k i\n", r.stderr)


class TestChannels(unittest.TestCase):

    def test_typed_nil_equals_nilchan(self):
        for dt in ("C.int", "C.double", "C.bool", "C.structZ"):
            self.assertEqual(chan.nil(dt), nilchan)
            self.assertEqual(nilchan, chan.nil(dt))
        self.assertNotEqual(chan.nil("C.int"), chan.nil("C.double"))
        self.assertNotEqual(chan(dtype="C.int"), nilchan)

    def test_bool_refused_by_int_and_double(self):
        for dt in ("C.int", "C.double"):
            ch = chan(1, dtype=dt)
            with self.assertRaises(TypeError):
                ch.send(True)
            ch.send(1)
            self.assertEqual(ch.recv(), 1)
        ch = chan(1, dtype="C.bool")
        ch.send(True)
        self.assertIs(ch.recv(), True)

    def test_range(self):
        # Go's `for v := range ch`: until closed and drained
        for dt in ("object", "C.int"):
            ch = chan(3, dtype=dt)

            def producer():
                for i in range(10):
                    ch.send(i)
                ch.close()
            go(producer)
            self.assertEqual([v for v in ch], list(range(10)))
            self.assertEqual(list(ch), [])      # closed: nothing more
        ch = chan()
        it = iter(ch)
        self.assertIs(iter(it), it)


class TestContext(unittest.TestCase):

    def test_value_by_key_identity(self):
        class Key:
            def __eq__(self, other):
                return isinstance(other, Key)

            def __hash__(self):
                return 0
        k1, k2 = Key(), Key()
        ctx = context.with_value(context.background(), k1, "v")
        self.assertEqual(ctx.value(k1), "v")
        self.assertIsNone(ctx.value(k2))        # equal, but another key


class TestRuntimeOption(unittest.TestCase):

    def test_gevent_is_goroutines(self):
        prog = """\
            import sys, threading, gpython
            print(gpython.runtime, sys.version.split()[-1])
            """
        r = run(prog, "-X", "gpython.runtime=gevent")
        self.assertEqual(r.stdout, "goroutines [goroutines]\n", r.stderr)
        import os
        env = dict(os.environ, GPYTHON_RUNTIME="gevent")
        r = run(prog, env=env)
        self.assertEqual(r.stdout, "goroutines [goroutines]\n", r.stderr)
        r = run(prog, "-X", "gpython.runtime=bogus")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("gpython.runtime=bogus", r.stderr)


class TestGoframe(unittest.TestCase):

    def test_traceback_frame_name(self):
        @func
        def f():
            defer(lambda: None)
            raise ValueError("x")
        try:
            f()
        except ValueError as e:
            names = [fr.name for fr in traceback.extract_tb(e.__traceback__)]
        self.assertIn("_goframe", names)
        self.assertNotIn("_goframe_wrapper", names)
        self.assertEqual(names[-1], "f")


if __name__ == "__main__":
    unittest.main()
