# -*- coding: utf-8 -*-
# Tests of the golang package core: go/chan/select as re-exported, func,
# defer/panic/recover, error, b/u, gimport. Runs under gpython.

import builtins, inspect, os, subprocess, sys, tempfile, textwrap, time, unittest

import golang
from golang import go, chan, select, default, nilchan, _PanicError, \
    func, defer, panic, recover, error, b, u, bstr, ustr, gimport


def panics(tc, msg=None):
    """panics returns a context manager asserting a _PanicError(msg)."""
    class _ctx:
        def __enter__(self):
            return self
        def __exit__(self, typ, val, tb):
            tc.assertIsNotNone(typ, "did not panic")
            tc.assertIs(typ, _PanicError, "raised %r instead of panicking" % (val,))
            if msg is not None:
                tc.assertEqual(val.args, (msg,))
            self.arg = val.args[0] if val.args else None
            return True
    return _ctx()


class TestExports(unittest.TestCase):

    def test_all(self):
        for name in golang.__all__:
            self.assertTrue(hasattr(golang, name), name)
        ns = {}
        exec("from golang import *", ns)
        for name in golang.__all__:
            self.assertIs(ns[name], getattr(golang, name))

    def test_same_as_builtins(self):
        # gpython installs the runtime's objects as builtins; the golang
        # package must hand out the very same ones.
        for name in ('go', 'chan', 'select', 'default', 'nilchan'):
            self.assertIs(getattr(golang, name), getattr(builtins, name), name)

    def test_panic_is_baseexception(self):
        self.assertTrue(issubclass(_PanicError, BaseException))
        self.assertFalse(issubclass(_PanicError, Exception))
        caught = None
        try:
            try:
                panic("boom")
            except Exception:
                caught = "Exception"
        except _PanicError as e:
            caught = e.args
        self.assertEqual(caught, ("boom",))


class TestChan(unittest.TestCase):

    def test_closed(self):
        ch = chan()
        ch.close()
        self.assertIsNone(ch.recv())
        self.assertEqual(ch.recv_(), (None, False))
        self.assertEqual(ch.recv_(), (None, False))
        with panics(self, "send on closed channel"):
            ch.send(0)
        with panics(self, "close of closed channel"):
            ch.close()
        with panics(self, "close of nil channel"):
            nilchan.close()

    def test_sync_pingpong(self):
        ch = chan()
        def _():
            ch.send(1)
            self_ok.append(ch.recv() == 2)
            ch.close()
        self_ok = []
        go(_)
        self.assertEqual(ch.recv(), 1)
        ch.send(2)
        self.assertEqual(ch.recv_(), (None, False))
        self.assertEqual(self_ok, [True])

    def test_close_wakes_blocked(self):
        # close vs blocked send
        ch = chan()
        def _():
            time.sleep(0.05)
            ch.close()
        go(_)
        with panics(self, "send on closed channel"):
            ch.send(0)

        # close vs several blocked receivers
        ch = chan()
        done = chan()
        def _(i):
            done.send((i, ch.recv_()))
        for i in range(3):
            go(_, i)
        time.sleep(0.05)
        ch.close()
        got = sorted(done.recv() for _ in range(3))
        self.assertEqual(got, [(i, (None, False)) for i in range(3)])

    def test_buffered(self):
        ch = chan(3)
        self.assertEqual(ch.cap(), 3)
        for _ in range(2):
            for i in range(3):
                self.assertEqual(len(ch), i)
                ch.send(i)
            for i in range(3):
                self.assertEqual(ch.recv_(), (i, True))
        for i in range(3):
            ch.send(i)
        done = chan()
        def _():
            time.sleep(0.05)
            self.assertEqual(ch.recv(), 0)
            done.send('a')
            for i in range(1, 4):
                self.assertEqual(ch.recv(), i)
            self.assertEqual(ch.recv_(), (None, False))
            done.send('b')
        go(_)
        ch.send(3)      # blocks until the goroutine makes room
        self.assertEqual(done.recv(), 'a')
        ch.close()
        self.assertEqual(done.recv(), 'b')


class TestSelect(unittest.TestCase):

    def test_default(self):
        ch = chan()
        self.assertEqual(select((ch.send, 0), default), (1, None))
        self.assertEqual(select(ch.recv, default), (1, None))
        self.assertEqual(select(ch.recv_, default), (1, None))
        self.assertEqual(select(nilchan.recv, (nilchan.send, 1), default), (2, None))

    def test_recv_send(self):
        N = 200
        ch = chan()
        done = chan()
        def _():
            for i in range(N):
                ch.send(i)
            done.close()
        go(_)
        for i in range(N):
            if i % 2:
                self.assertEqual(select(ch.recv, nilchan.recv), (0, i))
            else:
                self.assertEqual(select(nilchan.recv, ch.recv_), (1, (i, True)))
        done.recv()

        # blocking send chosen among a nil channel and an unready one
        ch1, ch2 = chan(), chan()
        def _():
            time.sleep(0.02)
            done.send(ch1.recv())
        done = chan()
        go(_)
        self.assertEqual(select((nilchan.send, 0), (ch2.send, 'b'), (ch1.send, 'a')), (2, None))
        self.assertEqual(done.recv(), 'a')

    def test_buffered_pingpong(self):
        ch = chan(1)
        for i in range(100):
            _, _rx = select((ch.send, i), ch.recv)
            self.assertEqual(_, i % 2)
            self.assertEqual(_rx, i - 1 if i % 2 else None)

    def test_select_vs_select(self):
        N = 200
        ch1, ch2 = chan(), chan()
        done = chan()
        def _():
            for i in range(N):
                self.assertEqual(select((ch1.send, 'a%d' % i), (ch2.send, 'x')), (0, None))
                self.assertEqual(select((ch1.send, 'y'), ch2.recv), (1, 'b%d' % i))
            done.close()
        go(_)
        for i in range(N):
            self.assertEqual(select(ch1.recv, (ch2.send, 'x')), (0, 'a%d' % i))
            self.assertEqual(select((ch1.send, 'y'), (ch2.send, 'b%d' % i)), (1, None))
        done.recv()

    def test_random_choice(self):
        # all ready cases must get chosen, roughly uniformly
        a, c = chan(1), chan(1)
        hits = [0, 0]
        for _ in range(400):
            a.send(1); c.send(1)
            n, _rx = select(a.recv, c.recv)
            hits[n] += 1
            select(a.recv, c.recv)  # drain the other
        self.assertGreater(min(hits), 100, hits)

    def test_send_on_closed(self):
        ch = chan()
        ch.close()
        with panics(self, "send on closed channel"):
            select((ch.send, 1), nilchan.recv)


class TestPeerErrors(unittest.TestCase):
    # pygolang's exact exceptions where its tests check them

    def test_select_bad_case(self):
        ch = chan(1)
        for bad in ('zzz', 1, None, [1]):
            with self.assertRaises(AttributeError) as cm:
                select(ch.recv, bad)
            self.assertEqual(cm.exception.args, (
                "'%s' object has no attribute '__self__'"
                % type(bad).__name__,))
            self.assertIsInstance(cm.exception, TypeError)
            self.assertIn("select: case 1: expected ch.recv",
                          cm.exception.__notes__[0])
        with self.assertRaises(TypeError) as cm:
            select(len)     # a bound method, but not of a channel
        self.assertIn("not a channel operation", str(cm.exception))
        self.assertEqual(len(ch), 0)    # nothing half-done

    def test_chan_bad_dtype(self):
        with self.assertRaises(TypeError) as cm:
            chan(dtype="BadType")
        self.assertEqual(cm.exception.args,
                         ("pychan: invalid dtype: 'BadType'",))
        self.assertIn("'C.int'", cm.exception.__notes__[0])


class TestFunc(unittest.TestCase):

    def test_func_of_func(self):
        def f():
            pass
        g = func(f)
        self.assertIs(func(g), g)
        self.assertIsNot(g, f)

    def test_method_leaves_cell_and_free_names_unbound(self):
        class C:
            pass
        def outer():
            cellvar = 1
            del cellvar
            def inner():
                nonlocal cellvar
                @func(C)
                def cellvar(self):
                    return 'c'
                self.assertNotIn('cellvar', locals())
            inner()
            self.assertNotIn('cellvar', locals())
            @func(C)
            def plain(self):
                return 'p'
            self.assertNotIn('plain', locals())
            return lambda: cellvar      # keeps cellvar a cell of outer
        outer()
        self.assertEqual((C().cellvar(), C().plain()), ('c', 'p'))

    def test_method(self):
        class MyClass:
            def __init__(self, v):
                self.v = v

        zzz = 'zzz-before'

        @func(MyClass)
        def zzz(self, v, x=2, **kkkkwww):
            assert self.v == v
            return v + 1

        @func(MyClass)
        @staticmethod
        def mstatic(v):
            assert v == 5
            return v + 1

        @func(MyClass)
        @classmethod
        def mcls(cls, v):
            assert cls is MyClass
            assert v == 7
            return v + 1

        # the caller's binding of the name is left as it was; a name that
        # was not bound stays unbound, as in pygolang
        self.assertEqual(zzz, 'zzz-before')
        self.assertNotIn('mstatic', locals())
        self.assertNotIn('mcls', locals())
        with self.assertRaises(UnboundLocalError):
            mstatic

        obj = MyClass(4)
        self.assertEqual(obj.zzz(4), 4 + 1)
        self.assertEqual(obj.mstatic(5), 5 + 1)
        self.assertEqual(obj.mcls(7), 7 + 1)
        self.assertEqual(MyClass.mstatic(5), 6)
        self.assertEqual(MyClass.mcls(7), 8)

        # the signature and identity of the function are preserved
        self.assertEqual(str(inspect.signature(MyClass.zzz)), '(self, v, x=2, **kkkkwww)')
        for name in ('zzz', 'mstatic', 'mcls'):
            m = getattr(MyClass, name)
            self.assertEqual(m.__module__, __name__)
            self.assertEqual(m.__name__, name)

    def test_func_plain(self):
        @func
        def add(a, b=10):
            "add doc"
            return a + b
        self.assertEqual(add(1), 11)
        self.assertEqual(add.__name__, 'add')
        self.assertEqual(add.__doc__, 'add doc')
        self.assertEqual(str(inspect.signature(add)), '(a, b=10)')


class TestDefer(unittest.TestCase):

    def test_lifo(self):
        v = []
        @func
        def _():
            defer(lambda: v.append(1))
            defer(lambda: v.append(2))
            defer(lambda: v.append(3))
            return 'ret'
        self.assertEqual(_(), 'ret')
        self.assertEqual(v, [3, 2, 1])

    def test_on_exception(self):
        v = []
        @func
        def _():
            defer(lambda: v.append(1))
            defer(lambda: v.append(2))
            def _(): v.append('ran ok')
            defer(_)
            1/0
        with self.assertRaises(ZeroDivisionError):
            _()
        self.assertEqual(v, ['ran ok', 2, 1])

    def test_nofunc(self):
        v = []
        def nofunc():
            defer(lambda: v.append('xx'))
        with panics(self, "function nofunc uses defer, but not @func"):
            nofunc()
        # called from a function that is called from an @func one
        @func
        def outer():
            nofunc()
        with panics(self, "function nofunc uses defer, but not @func"):
            outer()
        self.assertEqual(v, [])

    def test_panic_in_defer(self):
        v = []
        @func
        def _():
            defer(lambda: v.append(1))
            defer(lambda: v.append(2))
            defer(lambda: panic(3))
            defer(lambda: v.append(4))
        with panics(self, 3):
            _()
        self.assertEqual(v, [4, 2, 1])

    def test_recover(self):
        v = []
        @func
        def _():
            defer(lambda: v.append(1))
            def _():
                r = recover()
                v.append(('recovered', r))
            defer(_)
            defer(lambda: v.append(3))
            panic("aaa")
        self.assertIsNone(_())
        self.assertEqual(v, [3, ('recovered', 'aaa'), 1])

    def test_recover_then_panic(self):
        v = []
        @func
        def _():
            defer(lambda: v.append(1))
            defer(lambda: panic(2))
            def _():
                v.append(('recovered', recover()))
            defer(_)
            defer(lambda: v.append(3))
            panic("bbb")
        with panics(self, 2) as p:
            _()
        self.assertEqual(v, [3, ('recovered', 'bbb'), 1])

    def test_recover_panic_recover(self):
        v = []
        @func
        def _():
            defer(lambda: v.append(1))
            def _():
                v.append(('recovered 2', recover()))
            defer(_)
            defer(lambda: panic("ddd"))
            def _():
                v.append(('recovered 1', recover()))
            defer(_)
            defer(lambda: v.append(3))
            panic("ccc")
        _()
        self.assertEqual(v, [3, ('recovered 1', 'ccc'), ('recovered 2', 'ddd'), 1])

    def test_recover_none(self):
        # not under defer
        self.assertIsNone(recover())

        # no panic
        v = []
        @func
        def _():
            def _():
                v.append(recover())
            defer(_)
        _()
        self.assertEqual(v, [None])

        # not called directly by the deferred function
        v = []
        @func
        def _():
            def f():
                v.append(recover())
            defer(lambda: f())
            panic("zzz")
        with panics(self, "zzz"):
            _()
        self.assertEqual(v, [None])

    def test_recover_exception(self):
        # a non-panic exception is recovered as the exception object itself
        v = []
        exc = KeyError('k')
        @func
        def _():
            defer(lambda: v.append(recover()))
            raise exc
        _()
        self.assertEqual(len(v), 1)
        self.assertIs(v[0], exc)

    def test_recover_return_value(self):
        # a function that recovers returns None (nothing was returned)
        @func
        def _():
            defer(lambda: recover())
            panic(1)
            return 'unreachable'
        self.assertIsNone(_())

    def test_exc_chain(self):
        # an exception raised by a deferred call while another propagates
        # keeps the latter as __context__
        def d1(): raise RuntimeError("d1")
        def d2(): 1/0
        @func
        def _():
            defer(d1)
            defer(d2)
            raise ValueError("body")
        with self.assertRaises(RuntimeError) as cm:
            _()
        e = cm.exception
        self.assertEqual(e.args, ("d1",))
        self.assertIsInstance(e.__context__, ZeroDivisionError)
        self.assertIsInstance(e.__context__.__context__, ValueError)
        self.assertEqual(e.__context__.__context__.args, ("body",))
        self.assertIsNone(e.__context__.__context__.__context__)

        # a recovered panic is over: a later panic is not chained to it
        @func
        def _():
            defer(lambda: panic("second"))
            defer(lambda: recover())
            panic("first")
        with panics(self, "second"):
            try:
                _()
            except _PanicError as e:
                self.assertIsNone(e.__context__)
                raise

    def test_defer_in_methods(self):
        v = []
        class C:
            @func
            def m(self, x):
                defer(lambda: v.append(('m', x)))
                return x * 2
            @func
            @staticmethod
            def s(x):
                defer(lambda: v.append(('s', x)))
                return x * 3
            @func
            @classmethod
            def c(cls, x):
                defer(lambda: v.append(('c', cls.__name__, x)))
                return x * 4

        @func(C)
        def n(self, x):
            defer(lambda: v.append(('n', x)))
            return x * 5

        o = C()
        self.assertEqual((o.m(1), C.s(2), C.c(3), o.n(4)), (2, 6, 12, 20))
        self.assertEqual(v, [('m', 1), ('s', 2), ('c', 'C', 3), ('n', 4)])

    def test_recover_in_goroutine(self):
        res = chan()
        @func
        def worker():
            def _():
                res.send(('recovered', recover()))
            defer(_)
            panic("in goroutine")
        go(worker)
        self.assertEqual(res.recv(), ('recovered', 'in goroutine'))

    def test_leaked_goroutines_do_not_block_exit(self):
        # as in Go (and pygolang's goleaked test): the program ends when
        # main returns, whatever other goroutines are doing
        prog = textwrap.dedent("""\
            import time
            from golang import go, chan
            def blocked():
                chan().recv()
            def sleeping():
                time.sleep(3600)
            for _ in range(3):
                go(blocked)
                go(sleeping)
            time.sleep(0.05)
            print("main done")
        """)
        t0 = time.monotonic()
        p = subprocess.run([sys.executable, '-c', prog], capture_output=True,
                           text=True, timeout=60)
        self.assertEqual((p.returncode, p.stdout), (0, "main done\n"), p.stderr)
        self.assertLess(time.monotonic() - t0, 30)

    def test_goroutine_panic_kills_process(self):
        # Go's rule: a panic escaping a goroutine ends the program (status 2)
        prog = textwrap.dedent("""\
            import time
            from golang import go, panic
            def _():
                panic("goroutine boom")
            go(_)
            time.sleep(5)
            print("not reached")
        """)
        p = subprocess.run([sys.executable, '-c', prog], capture_output=True,
                           text=True, timeout=60)
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn("goroutine boom", p.stderr)
        self.assertNotIn("not reached", p.stdout)


class TestError(unittest.TestCase):

    def test_error(self):
        e = error("abc")
        self.assertIs(type(e), error)
        self.assertTrue(isinstance(e, Exception))
        self.assertEqual(e.Error(), "abc")
        self.assertEqual(str(e), "abc")
        self.assertTrue(repr(e).endswith(' error="abc">'), repr(e))
        self.assertIsNone(e.Unwrap())
        for x in ["hello мир", b("hello мир"), bytearray(b("hello мир"))]:
            e = error(x)
            self.assertEqual(e.Error(), "hello мир")
            self.assertEqual(e, error("hello мир"))
            self.assertEqual(hash(e), hash(error("hello мир")))
            self.assertTrue(repr(e).endswith(' error="hello мир">'), repr(e))
        self.assertNotEqual(error("a"), error("b"))
        self.assertFalse(error("a") != error("a"))
        with self.assertRaises(ValueError):
            error()
        with self.assertRaises(ValueError):
            error("hello", "world")
        with self.assertRaises(TypeError):
            error(1)
        with self.assertRaises(error) as cm:
            raise error("raised")
        self.assertEqual(str(cm.exception), "raised")

    def test_subclass(self):
        class EError(error):
            def __init__(myerr, op, ret):
                myerr.op = op
                myerr.ret = ret
            def Error(myerr):
                return "my %s: %s" % (myerr.op, myerr.ret)

        class EErr(error):
            pass

        e = EError("load", 3)
        self.assertEqual(e.Error(), "my load: 3")
        self.assertEqual(str(e), "my load: 3")
        self.assertEqual(repr(e), "%s.%s('load', 3)" % (__name__, EError.__qualname__))
        self.assertIsNone(e.Unwrap())
        self.assertEqual(e, EError("load", 3))
        self.assertEqual(hash(e), hash(EError("load", 3)))
        self.assertNotEqual(e, EError("load", 4))
        m = EErr("abc")
        self.assertEqual(m, EErr("abc"))
        self.assertNotEqual(m, error("abc"))
        self.assertNotEqual(error("abc"), m)


class TestStrings(unittest.TestCase):

    def test_b_u(self):
        testv = [
            ("", b""),
            ("hello", b"hello"),
            ("привет мир", "привет мир".encode('utf-8')),
            ("\U0001F600", b"\xf0\x9f\x98\x80"),
        ]
        for us, bs in testv:
            self.assertEqual(b(us), bs)
            self.assertIs(type(b(us)), bstr)
            self.assertEqual(u(bs), us)
            self.assertIs(type(u(bs)), ustr)
            x, y = b(bs), u(us)
            self.assertIs(b(x), x)          # identity for the right type
            self.assertIs(u(y), y)
            self.assertEqual(b(bytearray(bs)), bs)

        # invalid UTF-8 survives a round trip
        for bad in [b"\xd0a", b"\xff\xfe", b"a\x80b\xc3", b"\xed\xa0\x80"]:
            self.assertEqual(b(u(bad)), bad)
        # b never fails, not even on lone surrogates
        self.assertEqual(b("\ud800x"), b"\xed\xa0\x80x")

        for x in [1, None, object(), 1.0]:
            with self.assertRaises(TypeError):
                b(x)
            with self.assertRaises(TypeError):
                u(x)


class TestGimport(unittest.TestCase):

    def test_gimport(self):
        with tempfile.TemporaryDirectory() as gp1, tempfile.TemporaryDirectory() as gp2:
            def write(root, path, text):
                path = os.path.join(root, 'src', path)
                os.makedirs(os.path.dirname(path), exist_ok=True)
                with open(path, 'w') as f:
                    f.write(text)
            write(gp1, 'example.com/x/mod.py', "V = 'mod'\n")
            write(gp2, 'example.com/x/pkg/__init__.py',
                  "from . import sub\nV = 'pkg:' + sub.W\n")
            write(gp2, 'example.com/x/pkg/sub.py', "W = 'sub'\n")
            write(gp2, 'example.com/x/mod.py', "V = 'shadowed'\n")

            saved = os.environ.get('GOPATH')
            os.environ['GOPATH'] = os.pathsep.join([gp1, gp2])
            try:
                mod = gimport('example.com/x/mod')
                self.assertEqual(mod.V, 'mod')      # first GOPATH entry wins
                self.assertIs(gimport('example.com/x/mod'), mod)
                pkg = gimport('example.com/x/pkg')
                self.assertEqual(pkg.V, 'pkg:sub')
                with self.assertRaises(ImportError):
                    gimport('example.com/x/nonexistent')
            finally:
                if saved is None:
                    del os.environ['GOPATH']
                else:
                    os.environ['GOPATH'] = saved


if __name__ == '__main__':
    unittest.main()
