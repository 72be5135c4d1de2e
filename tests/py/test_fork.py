# test_fork: os.fork under gpython — the child keeps only the forking
# goroutine and a working scheduler (from main or from another goroutine);
# multiprocessing with the fork, spawn and forkserver start methods. Runs
# under gpython:
#
#   build/gpython tests/py/test_fork.py [unittest args]
import builtins
import faulthandler
import multiprocessing
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
import unittest

import _gpython

if not hasattr(builtins, "go"):
    sys.exit("test_fork.py must run under gpython")

WATCHDOG = 240


def child_work():
    """What a child checks: goroutines run and park (sleeps, channels,
    threads, locks). Returns a summary string."""
    c = chan()

    def w(i):
        time.sleep(0.01 * (3 - i))
        c.send(i)
    for i in range(3):
        go(w, i)
    order = [c.recv() for _ in range(3)]
    t = threading.Thread(target=time.sleep, args=(0.02,))
    t.start()
    t.join(5)
    lock = threading.Lock()
    lock.acquire()
    threading.Timer(0.02, lock.release).start()
    got = lock.acquire(timeout=5)
    return "%s %s %s" % (order, t.is_alive(), got)


EXPECTED_WORK = "[2, 1, 0] False True"


def wait_status(pid, timeout=20):
    """waitpid with a deadline (a wedged child fails the test, not CTest)."""
    end = time.monotonic() + timeout
    while True:
        p, status = os.waitpid(pid, os.WNOHANG)
        if p == pid:
            return os.waitstatus_to_exitcode(status)
        if time.monotonic() > end:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            raise AssertionError("child %d did not finish" % pid)
        time.sleep(0.01)


def fork_child(body):
    """Fork; the child runs body() and reports through a pipe, then exits
    with body's return value. Returns (report, exit code)."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        code = 99
        try:
            os.close(r)
            msg, code = body()
            os.write(w, msg.encode())
        except BaseException as e:
            os.write(w, ("exception %r" % (e,)).encode())
        finally:
            os._exit(code)
    os.close(w)
    data = b""
    while True:
        d = os.read(r, 4096)
        if not d:
            break
        data += d
    os.close(r)
    return data.decode(), wait_status(pid)


class Parked:
    """Goroutines of the parent, parked while it forks: not in the child."""

    def __init__(self, n=3):
        self.stop = chan()
        self.done = chan(n)
        for _ in range(n):
            go(self._run)
        self.n = n

    def _run(self):
        self.stop.recv()
        self.done.send(None)

    def close(self):
        self.stop.close()
        for _ in range(self.n):
            self.done.recv()


class TestFork(unittest.TestCase):

    def test_fork_from_main(self):
        parked = Parked()
        try:
            def body():
                return "%d %s" % (_gpython.numgoroutine(), child_work()), 5
            msg, code = fork_child(body)
        finally:
            parked.close()
        self.assertEqual(msg, "1 " + EXPECTED_WORK)
        self.assertEqual(code, 5)

    def test_fork_from_goroutine(self):
        parked = Parked()
        res = chan(1)

        def forker():
            me = threading.get_ident()

            def body():
                return "%s %s" % (threading.get_ident() == me,
                                  child_work()), 6
            res.send(fork_child(body))
        try:
            go(forker)
            msg, code = res.recv()
        finally:
            parked.close()
        self.assertEqual(msg, "True " + EXPECTED_WORK)
        self.assertEqual(code, 6)

    def test_goroutine_child_returns(self):
        # The child of a goroutine has no main goroutine: it ends (status
        # 0, its output flushed) when the forking goroutine returns, as
        # python3's child of a thread ends with its only thread.
        r = subprocess.run([sys.executable, "-c", textwrap.dedent("""
            import os, sys, time
            sys.path.insert(0, %r)
            from test_fork import child_work
            res = chan(1)
            def forker():
                pid = os.fork()
                if pid == 0:
                    print("child:", child_work())
                    return
                res.send(pid)
            go(forker)
            _, st = os.waitpid(res.recv(), 0)
            print("status", os.waitstatus_to_exitcode(st))
        """ % os.path.dirname(os.path.abspath(__file__)))],
            capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.splitlines(),
                         ["child: " + EXPECTED_WORK, "status 0"])
        self.assertEqual(r.stderr, "")

    def test_waitpid_parks(self):
        # The parent's waitpid parks only its goroutine.
        pid = os.fork()
        if pid == 0:
            time.sleep(0.3)
            os._exit(3)
        ticks = []

        def ticker():
            for i in range(10):
                time.sleep(0.01)
                ticks.append(i)
        go(ticker)
        _, status = os.waitpid(pid, 0)
        self.assertEqual(os.waitstatus_to_exitcode(status), 3)
        self.assertEqual(len(ticks), 10)

    def test_child_finalization(self):
        # A child of main that returns normally (sys.exit) finalizes:
        # non-daemon threads are joined, atexit runs, the code is kept.
        r = subprocess.run([sys.executable, "-c", textwrap.dedent("""
            import atexit, os, sys, threading, time
            pid = os.fork()
            if pid == 0:
                atexit.register(print, "child atexit")
                def late():
                    time.sleep(0.1)
                    print("child thread done", flush=True)
                threading.Thread(target=late).start()
                sys.exit(4)
            _, st = os.waitpid(pid, 0)
            print("child exit", os.waitstatus_to_exitcode(st))
        """)], capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.splitlines(),
                         ["child thread done", "child atexit", "child exit 4"])

    def test_signal_in_child(self):
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                go(time.sleep, 100)
                time.sleep(100)
            except KeyboardInterrupt:
                code = 7
            finally:
                os._exit(code)
        time.sleep(0.3)
        os.kill(pid, signal.SIGINT)
        self.assertEqual(wait_status(pid), 7)

    def test_fork_in_child_twice(self):
        def body():
            msg, code = fork_child(lambda: (child_work(), 8))
            return "%s %d" % (msg, code), 9
        msg, code = fork_child(body)
        self.assertEqual((msg, code), (EXPECTED_WORK + " 8", 9))


def in_goroutine(fn):
    """fn() in a new goroutine, waited for; returns its result."""
    out = chan(1)
    go(lambda: out.send(fn()))
    return out.recv()


class TestNoGhosts(unittest.TestCase):
    """The child has exactly one goroutine: nothing of the goroutines (or
    threads) blocked at fork time stays on a channel, timer or lock."""

    def setUp(self):
        self.c = chan()
        self.stop = chan()
        self.lock = threading.Lock()
        self.lock.acquire()
        go(self.c.recv)                     # a receiver waiting on c
        go(self.c.send, "ghost")            # a sender waiting on c
        go(lambda: select(self.c.recv, self.stop.recv))
        go(self.lock.acquire)               # a waiter on a semaphore
        go(time.sleep, 30)                  # a timer
        t = threading.Thread(target=self.stop.recv)
        t.start()
        self.threads = [t]
        time.sleep(0.02)

    def tearDown(self):
        # The parent's goroutines: unblock them all.
        self.stop.close()
        self.lock.release()
        select(self.c.recv, default)
        select((self.c.send, None), default)
        for t in self.threads:
            t.join(5)

    def check_child(self, fork_from_goroutine):
        c = self.c

        def body():
            r1 = select((c.send, "x"), default)[0]
            r2 = select(c.recv, default)[0]
            r3 = select((c.send, "x"), c.recv, default)[0]
            ok = self.lock.acquire(timeout=0.05)
            n = _gpython.numgoroutine()
            # Blocking operations with nobody on the other side now wait:
            # a sender blocks until our own receiver goroutine comes.
            got = chan(1)
            go(lambda: got.send(c.recv()))
            c.send("mine")
            return "%s %s %s %s %d %s" % (r1, r2, r3, ok, n, got.recv()), 0
        if fork_from_goroutine:
            msg, code = in_goroutine(lambda: fork_child(body))
        else:
            msg, code = fork_child(body)
        self.assertEqual((msg, code), ("1 1 2 False 1 mine", 0))

    def test_from_main(self):
        self.check_child(False)

    def test_from_goroutine(self):
        self.check_child(True)

    def test_main_is_not_resumed(self):
        # A goroutine forks while main waits on a channel: in the child
        # main is a ghost, and a send that main would have taken blocks.
        main_waits = chan()
        result = chan(1)

        def forker():
            time.sleep(0.02)
            r, w = os.pipe()
            pid = os.fork()
            if pid == 0:
                os.close(r)
                i = select((main_waits.send, 1), default)[0]
                os.write(w, b"%d" % i)
                os._exit(3)
            os.close(w)
            msg = os.read(r, 100)
            os.close(r)
            result.send((msg, wait_status(pid)))
            main_waits.send(0)
        go(forker)
        self.assertEqual(main_waits.recv(), 0)
        self.assertEqual(result.recv(), (b"1", 3))

    def test_nested_forks_keep_status(self):
        # Each generation forks from a goroutine other than main; every
        # child reports its own exit status up.
        def level(depth):
            if depth == 0:
                return "leaf", 40

            def body():
                msg, code = in_goroutine(lambda: fork_child(
                    lambda: level(depth - 1)))
                return "%s<%d" % (msg, code), 40 + depth
            return body()
        msg, code = in_goroutine(lambda: fork_child(lambda: level(3)))
        self.assertEqual((msg, code), ("leaf<40<41<42", 43))

    def test_forker_returning_ends_child(self):
        # A thread-started goroutine forks and returns in the child: the
        # child ends with status 0 there (python3's rule), after its
        # grandchild reported its own status.
        r, w = os.pipe()

        def forker():
            pid = os.fork()
            if pid == 0:
                def g():
                    p2 = os.fork()
                    if p2 == 0:
                        os._exit(7)
                    os.write(w, b"%d" % wait_status(p2))
                in_goroutine(g)
                return
            self.pid = pid
        t = threading.Thread(target=forker)
        t.start()
        t.join()
        os.close(w)
        self.assertEqual(os.read(r, 100), b"7")
        os.close(r)
        self.assertEqual(wait_status(self.pid), 0)


def mp_square(x):
    return x * x


def mp_about():
    import _thread, gpython
    res = chan(1)
    go(lambda: res.send("goroutines work"))
    return (sys.executable, gpython.runtime, _thread.get_ident(),
            res.recv())


def mp_producer(q, n):
    for i in range(n):
        time.sleep(0.001)
        q.put(i)
    q.put(None)


def mp_exit(code):
    sys.exit(code)


def mp_sleep():
    time.sleep(100)


class TestMultiprocessing(unittest.TestCase):

    def check(self, method):
        ctx = multiprocessing.get_context(method)
        with ctx.Pool(3) as pool:
            self.assertEqual(pool.map(mp_square, range(20)),
                             [x * x for x in range(20)])
            exe, rt, ident, msg = pool.apply(mp_about)
            self.assertEqual(pool.apply_async(mp_square, (7,)).get(30), 49)
        if method != "fork":
            self.assertEqual(os.path.realpath(exe),
                             os.path.realpath(sys.executable))
        self.assertEqual((rt, msg), ("goroutines", "goroutines work"))
        q = ctx.Queue()
        p = ctx.Process(target=mp_producer, args=(q, 50))
        p.start()
        got = []
        while (v := q.get(timeout=30)) is not None:
            got.append(v)
        p.join(30)
        self.assertEqual(got, list(range(50)))
        self.assertEqual(p.exitcode, 0)
        p = ctx.Process(target=mp_exit, args=(7,))
        p.start()
        p.join(30)
        self.assertEqual(p.exitcode, 7)
        p = ctx.Process(target=mp_sleep)
        p.start()
        time.sleep(0.2)
        p.terminate()
        p.join(30)
        self.assertEqual(p.exitcode, -signal.SIGTERM)

    def test_fork(self):
        self.check("fork")

    def test_spawn(self):
        self.check("spawn")

    def test_forkserver(self):
        self.check("forkserver")

    def test_spawn_keeps_runtime_option(self):
        r = subprocess.run([sys.executable, "-X", "gpython.runtime=threads",
                            "-c", textwrap.dedent("""
            import multiprocessing as mp, sys
            sys.path.insert(0, %r)
            from test_fork import mp_about
            if __name__ == "__main__":
                with mp.get_context("spawn").Pool(1) as p:
                    print(p.apply(mp_about)[1])
        """ % os.path.dirname(os.path.abspath(__file__)))],
            capture_output=True, text=True, timeout=60)
        self.assertEqual((r.returncode, r.stdout.strip()), (0, "threads"),
                         r.stderr)


if __name__ == "__main__":
    faulthandler.dump_traceback_later(WATCHDOG, exit=True)
    unittest.main()
