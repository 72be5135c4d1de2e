# test_threading_shim: threading.Thread and _thread start goroutines
# (stdlib_shims/_gpython_thread.py); thread identity, RLock, the threading
# primitives, queue, concurrent.futures, logging and imports across
# goroutines; real OS threads (gpython module, -X gpython.runtime=threads);
# finalization joins non-daemon threads. Runs under gpython:
#
#   build/gpython tests/py/test_threading_shim.py [unittest args]
import builtins
import concurrent.futures
import faulthandler
import io
import logging
import os
import queue
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import unittest

import _thread
import _gpython

if not hasattr(builtins, "go"):
    sys.exit("test_threading_shim.py must run under gpython")

WATCHDOG = 150

from gpytest import Ticker  # noqa: E402


def run_gpython(code, *xopts, timeout=30, env=None):
    """Run code under gpython (sys.executable); returns CompletedProcess."""
    args = [sys.executable]
    for x in xopts:
        args += ["-X", x]
    args += ["-c", textwrap.dedent(code)]
    return subprocess.run(args, capture_output=True, text=True,
                          timeout=timeout, env=env)


class TestIdentity(unittest.TestCase):

    def test_patched(self):
        self.assertEqual(_thread.get_ident(), _gpython.goid())
        self.assertEqual(_thread.get_ident.__module__, "_thread")
        self.assertIs(threading.get_ident, _thread.get_ident)
        self.assertIs(threading._start_new_thread, _thread.start_new_thread)
        self.assertIsNot(_thread.start_new_thread,
                         __import__("_gpython_thread").os_start_new_thread)
        self.assertIs(threading._CRLock, _thread.RLock)
        self.assertEqual(threading.get_ident(), 1)
        # the main goroutine is the process's main thread
        self.assertEqual(threading.get_native_id(), os.getpid())
        self.assertEqual(threading.main_thread().ident, 1)
        self.assertIs(threading.current_thread(), threading.main_thread())

    def test_goroutine_idents(self):
        out = chan(10)
        for _ in range(5):
            go(lambda: out.send((_thread.get_ident(), _thread.get_native_id())))
        got = [out.recv() for _ in range(5)]
        idents = {i for i, _ in got}
        self.assertEqual(len(idents), 5)
        self.assertNotIn(1, idents)
        for ident, native in got:
            self.assertEqual(ident, native)

    def test_start_new_thread(self):
        res = chan(1)
        before = _thread._count()
        n = _gpython.numgoroutine()
        tid = _thread.start_new_thread(
            lambda a, b=0: res.send((a + b, _thread.get_ident(),
                                     _thread._count())), (1,), {"b": 2})
        self.assertEqual(_gpython.numgoroutine(), n + 1)
        v, ident, count = res.recv()
        self.assertEqual((v, ident, count), (3, tid, before + 1))
        for _ in range(100):
            if _thread._count() == before:
                break
            time.sleep(0.001)
        self.assertEqual(_thread._count(), before)

    def test_start_new_thread_args(self):
        with self.assertRaisesRegex(TypeError, "first arg must be callable"):
            _thread.start_new_thread(1, ())
        with self.assertRaisesRegex(TypeError, "2nd arg must be a tuple"):
            _thread.start_new_thread(print, [])
        with self.assertRaisesRegex(TypeError, "3rd arg must be a dict"):
            _thread.start_new_thread(print, (), 1)

    def test_start_new_thread_exception(self):
        # As python3: reported through sys.unraisablehook, process goes on;
        # SystemExit (_thread.exit) ends the thread silently.
        got = chan(2)
        old = sys.unraisablehook
        sys.unraisablehook = lambda a: got.send(
            (a.exc_type, a.err_msg, a.object))
        try:
            def boom():
                raise ValueError("x")
            _thread.start_new_thread(boom, ())
            exc_type, msg, obj = got.recv()
            self.assertIs(exc_type, ValueError)
            self.assertEqual(msg, "Exception ignored in thread started by")
            self.assertIs(obj, boom)
            done = chan(1)

            def quit():
                done.send(None)
                _thread.exit()
            _thread.start_new_thread(quit, ())
            done.recv()
            time.sleep(0.05)
            self.assertEqual(len(got), 0)
        finally:
            sys.unraisablehook = old

    def test_thread_local(self):
        loc = threading.local()
        loc.v = "main"
        res = chan(3)

        def f(i):
            self.assertFalse(hasattr(loc, "v"))
            loc.v = i
            time.sleep(0.01 * (3 - i))   # the others run meanwhile
            res.send(loc.v == i)
        for i in range(3):
            threading.Thread(target=f, args=(i,)).start()
        self.assertEqual([res.recv() for _ in range(3)], [True] * 3)
        self.assertEqual(loc.v, "main")


class TestThread(unittest.TestCase):

    def test_thread_is_goroutine(self):
        t0 = time.monotonic()
        tk = Ticker()
        ts = [threading.Thread(target=time.sleep, args=(0.2,))
              for _ in range(10)]
        for t in ts:
            t.start()
        self.assertTrue(all(t.is_alive() for t in ts))
        for t in ts:
            t.join()
        tk.close()
        # Ten sleeping threads took one sleep's time, and the ticker ran.
        self.assertLess(time.monotonic() - t0, 1.5)
        self.assertGreater(tk.n, 10)

    def test_attributes(self):
        started = threading.Event()
        release = threading.Event()
        seen = {}

        def body():
            me = threading.current_thread()
            seen.update(ident=threading.get_ident(), me=me,
                        native=threading.get_native_id())
            started.set()
            release.wait(10)
        t = threading.Thread(target=body, name="worker", daemon=True)
        self.assertIsNone(t.ident)
        t.start()
        self.assertTrue(started.wait(10))
        self.assertIs(seen["me"], t)
        self.assertEqual(t.ident, seen["ident"])
        self.assertEqual(t.native_id, seen["native"])
        self.assertEqual(t.name, "worker")
        self.assertTrue(t.daemon)
        self.assertIn(t, threading.enumerate())
        self.assertGreaterEqual(threading.active_count(), 2)
        self.assertIs(threading._active[t.ident], t)
        t.join(0.05)
        self.assertTrue(t.is_alive())
        release.set()
        t.join(10)
        self.assertFalse(t.is_alive())
        self.assertNotIn(t, threading.enumerate())

    def test_join_timeout(self):
        t = threading.Thread(target=time.sleep, args=(0.5,))
        t.start()
        t0 = time.monotonic()
        t.join(0.1)
        dt = time.monotonic() - t0
        self.assertTrue(t.is_alive())
        self.assertGreaterEqual(dt, 0.09)
        self.assertLess(dt, 0.4)
        t.join()
        self.assertFalse(t.is_alive())

    def test_excepthook(self):
        got = chan(1)
        old = threading.excepthook
        threading.excepthook = lambda a: got.send((a.exc_type, a.thread))
        try:
            def boom():
                raise KeyError("k")
            t = threading.Thread(target=boom)
            t.start()
            t.join()
            exc_type, thread = got.recv()
            self.assertIs(exc_type, KeyError)
            self.assertIs(thread, t)
        finally:
            threading.excepthook = old

    def test_exception_rules(self):
        # A Thread target's exception: printed by threading.excepthook, the
        # program goes on (exit 0). go(): Go's rule, exit status 2.
        r = run_gpython("""
            import threading
            def boom():
                raise ValueError("from thread")
            t = threading.Thread(target=boom, name="T1"); t.start(); t.join()
            print("main continues")
        """)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("main continues", r.stdout)
        self.assertIn("Exception in thread T1", r.stderr)
        self.assertIn("ValueError: from thread", r.stderr)
        r = run_gpython("""
            import time
            def boom():
                raise ValueError("from goroutine")
            go(boom)
            time.sleep(5)
            print("not reached")
        """)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertNotIn("not reached", r.stdout)
        self.assertIn("ValueError: from goroutine", r.stderr)

    def test_nondaemon_joined_at_exit(self):
        r = run_gpython("""
            import threading, time
            def late():
                time.sleep(0.3)
                print("late thread done", flush=True)
            threading.Thread(target=late).start()
            def forever():
                time.sleep(100)
            threading.Thread(target=forever, daemon=True).start()
            print("main returns")
        """)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.split(), ["main", "returns", "late",
                                            "thread", "done"])
        self.assertEqual(r.stderr, "")

    def test_timer(self):
        ev = threading.Event()
        t0 = time.monotonic()
        threading.Timer(0.1, ev.set).start()
        self.assertTrue(ev.wait(5))
        self.assertGreaterEqual(time.monotonic() - t0, 0.09)
        fired = []
        tm = threading.Timer(0.1, fired.append, args=(1,))
        tm.start()
        tm.cancel()
        tm.join(5)
        time.sleep(0.15)
        self.assertEqual(fired, [])

    def test_barrier(self):
        b = threading.Barrier(4)
        res = queue.Queue()

        def f():
            res.put(b.wait(5))
        ts = [threading.Thread(target=f) for _ in range(3)]
        for t in ts:
            t.start()
        res.put(b.wait(5))
        for t in ts:
            t.join()
        self.assertEqual(sorted(res.get() for _ in range(4)), [0, 1, 2, 3])
        b2 = threading.Barrier(2, timeout=0.1)
        with self.assertRaises(threading.BrokenBarrierError):
            b2.wait()

    def test_condition_event_semaphore(self):
        cond = threading.Condition()
        items = []

        def consumer():
            with cond:
                self.assertTrue(cond.wait_for(lambda: items, 5))
                items.append("seen")
        t = threading.Thread(target=consumer)
        t.start()
        time.sleep(0.05)
        with cond:
            items.append(1)
            cond.notify()
        t.join()
        self.assertEqual(items, [1, "seen"])
        with cond:
            t0 = time.monotonic()
            self.assertFalse(cond.wait(0.1))
            self.assertGreaterEqual(time.monotonic() - t0, 0.09)

        sem = threading.BoundedSemaphore(2)
        self.assertTrue(sem.acquire())
        self.assertTrue(sem.acquire())
        self.assertFalse(sem.acquire(blocking=False))
        self.assertFalse(sem.acquire(timeout=0.05))
        threading.Timer(0.05, sem.release).start()
        self.assertTrue(sem.acquire(timeout=5))
        sem.release()
        sem.release()
        with self.assertRaises(ValueError):
            sem.release()
        s = threading.Semaphore(0)
        running = []

        def waiter(i):
            s.acquire()
            running.append(i)
        ts = [threading.Thread(target=waiter, args=(i,)) for i in range(3)]
        for t in ts:
            t.start()
        time.sleep(0.05)
        self.assertEqual(running, [])
        s.release(3)
        for t in ts:
            t.join(5)
        self.assertEqual(sorted(running), [0, 1, 2])

    def test_queues(self):
        for q in (queue.Queue(2), queue.LifoQueue(2), queue.PriorityQueue(2),
                  queue.SimpleQueue()):
            got = []

            def producer():
                for i in range(20):
                    q.put(i)
                q.put(None)

            def consumer():
                while True:
                    v = q.get(timeout=5)
                    if v is None:
                        break
                    got.append(v)
            p = threading.Thread(target=producer)
            c = threading.Thread(target=consumer)
            c.start()
            p.start()
            p.join(10)
            c.join(10)
            self.assertEqual(sorted(got), list(range(20)), type(q))
        q = queue.Queue()
        t0 = time.monotonic()
        with self.assertRaises(queue.Empty):
            q.get(timeout=0.1)
        self.assertGreaterEqual(time.monotonic() - t0, 0.09)
        q = queue.Queue()
        for i in range(3):
            q.put(i)

        def worker():
            while True:
                q.get()
                time.sleep(0.01)
                q.task_done()
        threading.Thread(target=worker, daemon=True).start()
        q.join()
        self.assertEqual(q.unfinished_tasks, 0)

    def test_thread_pool_executor(self):
        t0 = time.monotonic()
        with concurrent.futures.ThreadPoolExecutor(8) as ex:
            res = list(ex.map(lambda x: (time.sleep(0.2), x * x)[1],
                              range(8)))
            fut = ex.submit(lambda: 1 / 0)
            with self.assertRaises(ZeroDivisionError):
                fut.result(5)
        self.assertEqual(res, [x * x for x in range(8)])
        # In parallel: eight 0.2 s sleeps in one go.
        self.assertLess(time.monotonic() - t0, 1.0)
        with concurrent.futures.ThreadPoolExecutor(2) as ex:
            futs = [ex.submit(time.sleep, 0.05) for _ in range(4)]
            done, _ = concurrent.futures.wait(futs, timeout=5)
            self.assertEqual(len(done), 4)


class TestRLock(unittest.TestCase):

    def test_reentrant(self):
        r = threading.RLock()
        self.assertIsInstance(r, _thread.RLock)
        with r:
            with r:
                self.assertTrue(r._is_owned())
                self.assertIn("count=2", repr(r))
        self.assertFalse(r._is_owned())
        with self.assertRaises(RuntimeError):
            r.release()

    def test_excludes_goroutines(self):
        # The C RLock keys on PyThread_get_thread_ident(), which gpython
        # makes the goroutine id: a second goroutine must wait.
        r = threading.RLock()
        log = []
        done = chan(2)

        def holder(tag):
            with r:
                log.append(("in", tag))
                time.sleep(0.05)     # parks holding the lock
                log.append(("out", tag))
            done.send(None)
        go(holder, "a")
        go(holder, "b")
        done.recv()
        done.recv()
        self.assertEqual([e for e, _ in log], ["in", "out", "in", "out"])
        self.assertEqual(log[0][1], log[1][1])

    def test_not_owner(self):
        r = threading.RLock()
        r.acquire()
        res = chan(1)

        def other():
            try:
                r.release()
                res.send("released")
            except RuntimeError:
                res.send("RuntimeError")
        go(other)
        self.assertEqual(res.recv(), "RuntimeError")
        self.assertFalse(r.acquire(blocking=False) is False)   # reentrant
        r.release()
        r.release()

    def test_buffered_file_between_goroutines(self):
        # A buffered file's lock is owned by PyThread_get_thread_ident():
        # a goroutine meeting it held by another, parked one must wait,
        # not raise "reentrant call inside <_io.BufferedWriter>".
        r, w = os.pipe()
        f = os.fdopen(w, "wb", buffering=16)
        done = chan(3)

        def writer(tag):
            # Each write overflows the buffer and the pipe soon fills:
            # the flush parks in write() holding the file's lock.
            for _ in range(200):
                f.write(tag * 1000)
            done.send(None)
        go(writer, b"a")
        go(writer, b"b")

        def reader():
            n = 0
            while n < 400000:
                n += len(os.read(r, 65536))
            done.send(n)
        go(reader)
        got = [done.recv() for _ in range(3)]
        self.assertEqual(sorted(got, key=repr), [400000, None, None])
        f.close()
        os.close(r)

    def test_extension_modules_see_goroutines(self):
        # Extension modules call the executable's PyThread_get_thread_ident
        # too: sqlite3's same-thread check and multiprocessing's RLock see
        # each goroutine as a thread, as python3 sees threads.
        import multiprocessing
        import sqlite3
        res = chan(1)
        db = sqlite3.connect(":memory:")

        def use_db(db):
            try:
                res.send(db.execute("select 1").fetchone())
            except sqlite3.ProgrammingError as e:
                res.send("ProgrammingError" if "same thread" in str(e)
                         else e)
        go(use_db, db)
        self.assertEqual(res.recv(), "ProgrammingError")
        db.close()
        shared = sqlite3.connect(":memory:", check_same_thread=False)
        go(use_db, shared)
        self.assertEqual(res.recv(), (1,))
        shared.close()

        lock = multiprocessing.RLock()
        with lock:
            with lock:
                go(lambda: res.send(lock.acquire(timeout=0.05)))
                self.assertIs(res.recv(), False)

    def test_condition_with_rlock(self):
        c = threading.Condition(threading.RLock())
        state = []

        def waiter():
            with c:
                with c:   # wait() must release both levels
                    c.wait_for(lambda: state, 5)
                    state.append("woken")
        t = threading.Thread(target=waiter)
        t.start()
        time.sleep(0.05)
        with c:
            state.append(1)
            c.notify_all()
        t.join(5)
        self.assertEqual(state, [1, "woken"])


class TestLogging(unittest.TestCase):

    def test_many_goroutines(self):
        # The handler lock (an RLock) must exclude goroutines even while
        # the holder parks inside emit().
        inside = []
        overlaps = []
        lines = []

        class Slow(logging.Handler):
            def emit(self, record):
                if inside:
                    overlaps.append(record.getMessage())
                inside.append(1)
                time.sleep(0.001)
                lines.append(self.format(record))
                inside.pop()
        log = logging.getLogger("gpython.test.threading")
        log.propagate = False
        h = Slow()
        h.setFormatter(logging.Formatter("%(threadName)s %(message)s"))
        log.addHandler(h)
        stream = io.StringIO()
        log.addHandler(logging.StreamHandler(stream))
        try:
            def worker(i):
                for j in range(5):
                    log.warning("msg %d %d", i, j)
            ts = [threading.Thread(target=worker, args=(i,), name="w%d" % i)
                  for i in range(20)]
            for t in ts:
                t.start()
            for t in ts:
                t.join(30)
        finally:
            log.handlers.clear()
        self.assertEqual(overlaps, [])
        self.assertEqual(len(lines), 100)
        self.assertIn("w7 msg 7 4", lines)
        self.assertEqual(len(stream.getvalue().splitlines()), 100)


class TestImports(unittest.TestCase):

    def test_concurrent_import(self):
        # importlib's module locks key on _thread.get_ident: a goroutine
        # importing a module that parks while a second one imports it too
        # must make the second wait, then both see the finished module.
        d = tempfile.mkdtemp()
        with open(os.path.join(d, "gpy_slowmod.py"), "w") as f:
            f.write("import time\ntime.sleep(0.3)\nX = 42\n")
        for a, b in (("gpy_cyc1", "gpy_cyc2"), ("gpy_cyc2", "gpy_cyc1")):
            with open(os.path.join(d, a + ".py"), "w") as f:
                f.write("import time\ntime.sleep(0.2)\nimport %s\nV = 1\n" % b)
        sys.path.insert(0, d)
        try:
            res = chan(2)

            def imp(name, attr):
                t0 = time.monotonic()
                mod = __import__(name)
                res.send((getattr(mod, attr, None), time.monotonic() - t0))
            tk = Ticker()
            go(imp, "gpy_slowmod", "X")
            go(imp, "gpy_slowmod", "X")
            got = [res.recv(), res.recv()]
            tk.close()
            self.assertEqual([v for v, _ in got], [42, 42])
            self.assertGreater(tk.n, 10)   # imports parked, others ran
            for _, dt in got:
                self.assertGreaterEqual(dt, 0.25)
            # Two goroutines importing each other's module: importlib sees
            # the cycle (_DeadlockError handled inside), nobody hangs.
            go(imp, "gpy_cyc1", "V")
            go(imp, "gpy_cyc2", "V")
            got = [res.recv(), res.recv()]
            self.assertEqual(len(got), 2)
        finally:
            sys.path.remove(d)


class TestInterruptMain(unittest.TestCase):

    def test_interrupt_parked_main(self):
        def later():
            time.sleep(0.1)
            _thread.interrupt_main()
        go(later)
        t0 = time.monotonic()
        with self.assertRaises(KeyboardInterrupt):
            threading.Event().wait(10)
        self.assertLess(time.monotonic() - t0, 2)


class TestOSThreads(unittest.TestCase):

    def test_os_thread_and_goroutines_share_chan(self):
        import gpython
        self.assertEqual(gpython.runtime, "goroutines")
        c, r = chan(), chan()

        def osworker():
            native = threading.get_native_id()
            alive = str(native) in os.listdir("/proc/self/task")
            for _ in range(3):
                r.send((c.recv() * 10, threading.get_ident(), native, alive))
            r.send(None)
        ident = gpython.start_os_thread(osworker)
        self.assertGreater(ident, 1 << 32)    # a pthread_t, as in python3

        def feeder():
            for i in range(3):
                c.send(i)
        go(feeder)
        got = []
        while (v := r.recv()) is not None:
            got.append(v)
        self.assertEqual([v for v, _, _, _ in got], [0, 10, 20])
        for _, i, native, alive in got:
            self.assertEqual(i, ident)
            self.assertNotEqual(native, os.getpid())
            self.assertTrue(alive)   # a real kernel task

    def test_osthread_class(self):
        import gpython
        lock = threading.Lock()
        lock.acquire()
        tk = Ticker()

        def body():
            time.sleep(0.2)        # a real sleep: the OS thread blocks
            lock.release()
        t = gpython.OSThread(target=body)
        t.start()
        t0 = time.monotonic()
        self.assertTrue(lock.acquire(timeout=5))
        self.assertGreaterEqual(time.monotonic() - t0, 0.15)
        t.join(5)
        tk.close()
        self.assertFalse(t.is_alive())
        self.assertGreater(t.ident, 1 << 32)
        self.assertNotIn(t.native_id, (t.ident, os.getpid()))
        self.assertGreater(tk.n, 10)

    def test_threads_runtime(self):
        r = run_gpython("""
            import sys, threading, time, _thread, gpython
            print(gpython.runtime, sys._xoptions.get("gpython.runtime"))
            main_native = threading.get_native_id()
            seen = []
            def body():
                seen.append((threading.get_ident(), threading.get_native_id()))
            t = threading.Thread(target=body); t.start(); t.join()
            ident, native = seen[0]
            print(ident == t.ident, native != main_native, ident > 1000)
            # go() still makes goroutines, sharing channels with threads;
            # each goroutine is a thread of its own to CPython
            c = chan()
            go(lambda: c.send(threading.get_ident()))
            print(c.recv() not in (threading.get_ident(), ident))
            print(threading.RLock().__class__.__module__)
        """, "gpython.runtime=threads")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.split(), ["threads", "threads", "True",
                                            "True", "True", "True",
                                            "_thread"])
        r = run_gpython("pass", "gpython.runtime=bogus")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("gpython.runtime=bogus", r.stderr)

    def test_runtime_from_environment(self):
        env = dict(os.environ, GPYTHON_RUNTIME="threads")
        r = run_gpython("import gpython; print(gpython.runtime)", env=env)
        self.assertEqual(r.stdout.strip(), "threads", r.stderr)
        r = run_gpython("import gpython; print(gpython.runtime)",
                        "gpython.runtime=goroutines", env=env)
        self.assertEqual(r.stdout.strip(), "goroutines", r.stderr)


if __name__ == "__main__":
    faulthandler.dump_traceback_later(WATCHDOG, exit=True)
    unittest.main()
