# test_ts_pool: a goroutine or thread starts with a clean thread state even
# when it reuses the pooled one of a goroutine that ended — ContextVar
# values, decimal contexts, asyncio's running loop, coroutine origin
# tracking, exceptions, tracing and recursion depth never carry over.
# Runs under gpython.
import asyncio
import builtins
import contextvars
import decimal
import sys
import threading
import unittest

if not hasattr(builtins, "go"):
    sys.exit("test_ts_pool.py must run under gpython")

var = contextvars.ContextVar("var")


def in_goroutine(fn):
    """fn() in a new goroutine; returns its result (re-raises)."""
    out = chan(1)

    def run():
        try:
            out.send((fn(), None))
        except BaseException as e:
            out.send((None, e))
    go(run)
    res, exc = out.recv()
    if exc is not None:
        raise exc
    return res


def in_thread(fn):
    out = []
    t = threading.Thread(target=lambda: out.append(fn()))
    t.start()
    t.join()
    return out[0]


def dirty():
    """Leave every per-thread state we know of set."""
    var.set(["dirty"])
    var.get()
    decimal.getcontext().prec = 5
    decimal.getcontext()
    sys.set_coroutine_origin_tracking_depth(7)
    asyncio.run(asyncio.sleep(0))
    try:
        raise KeyError("dirty")
    except KeyError:
        pass
    return True


def observe():
    contextvars.copy_context()      # makes the context, as Thread does
    loop = None
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        pass
    return (var.get("<unset>"), decimal.getcontext().prec,
            sys.get_coroutine_origin_tracking_depth(), loop,
            sys.exc_info(), sys.gettrace(), sys.getprofile())


CLEAN = ("<unset>", 28, 0, None, (None, None, None), None, None)


class PoolTest(unittest.TestCase):

    def check(self, run_dirty, run_observe):
        for _ in range(20):
            self.assertTrue(run_dirty(dirty))
            self.assertEqual(run_observe(observe), CLEAN)

    def test_goroutines(self):
        self.check(in_goroutine, in_goroutine)

    def test_threads(self):
        self.check(in_thread, in_thread)

    def test_mixed(self):
        self.check(in_thread, in_goroutine)
        self.check(in_goroutine, in_thread)

    def test_decimal_arithmetic(self):
        # The wrong numbers: 1/7 at prec 5 from an ended thread.
        in_thread(dirty)
        got = in_thread(lambda: str(decimal.Decimal(1) / decimal.Decimal(7)))
        self.assertEqual(got, "0.1428571428571428571428571429")

    def test_contextvar_value_is_own(self):
        def setter(i):
            return lambda: (var.set(i), var.get())[1]
        for i in range(50):
            self.assertEqual(in_goroutine(setter(i)), i)
            self.assertEqual(in_goroutine(lambda: var.get("<unset>")),
                             "<unset>")

    def test_recursion_depth_clean(self):
        def depth():
            n = 0
            f = sys._getframe()
            while f:
                n += 1
                f = f.f_back
            return n

        def deep(k):
            return depth() if k == 0 else deep(k - 1)
        base = in_goroutine(lambda: deep(0))
        in_goroutine(lambda: deep(200))
        self.assertEqual(in_goroutine(lambda: deep(0)), base)

    def test_tracer_not_inherited(self):
        def traced():
            sys.settrace(lambda *a: None)
            sys.setprofile(lambda *a: None)
            return True
        in_goroutine(traced)
        self.assertEqual(in_goroutine(lambda: (sys.gettrace(),
                                               sys.getprofile())),
                         (None, None))

    def test_thread_local_clean(self):
        loc = threading.local()

        def setl():
            loc.x = 1
            return True
        in_goroutine(setl)
        self.assertFalse(in_goroutine(lambda: hasattr(loc, "x")))


if __name__ == "__main__":
    unittest.main()
