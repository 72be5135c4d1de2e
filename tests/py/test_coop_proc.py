# test_coop_proc: pipes, child processes, name resolution and sqlite3 park
# only the calling goroutine — os.read/os.write on pipes, subprocess.run and
# Popen.communicate(timeout), os.waitpid, os.system, getaddrinfo, sqlite3's
# busy waits. Runs under gpython:
#
#   build/gpython tests/py/test_coop_proc.py [unittest args]
import builtins
import errno
import faulthandler
import os
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import unittest

if not hasattr(builtins, "go"):
    sys.exit("test_coop_proc.py must run under gpython")

WATCHDOG = 150

from gpytest import Ticker, spawn, join  # noqa: E402


class PipeTest(unittest.TestCase):

    def setUp(self):
        self.r, self.w = os.pipe()

    def tearDown(self):
        os.close(self.r)
        os.close(self.w)

    def test_read_parks(self):
        with Ticker() as tk:
            got = spawn(os.read, self.r, 100)
            time.sleep(0.1)
            before = tk.n
            os.write(self.w, b"data")
            self.assertEqual(join(got), b"data")
        self.assertGreater(before, 10, "the ticker starved during os.read")
        self.assertTrue(os.get_blocking(self.r))

    def test_big_write_parks_until_reader_drains(self):
        # 4 MiB does not fit in a pipe: the writer must park, not block the
        # thread its own reader goroutine needs.
        data = os.urandom(4 * 1024 * 1024)

        def reader():
            buf = bytearray()
            while len(buf) < len(data):
                chunk = os.read(self.r, 1 << 16)
                if not chunk:
                    break
                buf += chunk
            return bytes(buf)
        got = spawn(reader)
        self.assertEqual(os.write(self.w, data), len(data))
        self.assertEqual(join(got), data)
        self.assertTrue(os.get_blocking(self.w))

    def test_file_objects_on_pipe(self):
        rf = os.fdopen(os.dup(self.r), "rb", buffering=0)
        got = spawn(rf.read, 5)
        time.sleep(0.02)
        os.write(self.w, b"12345")
        self.assertEqual(join(got), b"12345")
        rf.close()

    def test_nonblocking_pipe_keeps_blockingioerror(self):
        os.set_blocking(self.r, False)
        with self.assertRaises(BlockingIOError):
            os.read(self.r, 10)
        self.assertFalse(os.get_blocking(self.r))

    def test_wrong_direction_fails_at_once(self):
        # python3 gets EBADF at once; a readiness wait would never end.
        for call in (lambda: os.read(self.w, 1),
                     lambda: os.write(self.r, b"x"),
                     lambda: os.write(self.r, b"x" * 100000)):
            with self.assertRaises(OSError) as cm:
                join(spawn(call))
            self.assertEqual(cm.exception.errno, errno.EBADF)

    def test_eof(self):
        r, w = os.pipe()
        got = spawn(os.read, r, 10)
        time.sleep(0.02)
        os.close(w)
        self.assertEqual(join(got), b"")
        os.close(r)


class SubprocessTest(unittest.TestCase):

    def test_run_concurrently(self):
        with Ticker() as tk:
            t0 = time.monotonic()
            jobs = [spawn(subprocess.run, ["sleep", "0.5"]) for _ in range(5)]
            codes = [join(j).returncode for j in jobs]
            wall = time.monotonic() - t0
            ticks = tk.n
        self.assertEqual(codes, [0] * 5)
        self.assertLess(wall, 2.0, "5 x sleep 0.5 took %.2fs" % wall)
        self.assertGreater(ticks, 50)

    def test_communicate_concurrently(self):
        data = os.urandom(300 * 1024)

        def cat():
            p = subprocess.Popen(["cat"], stdin=subprocess.PIPE,
                                 stdout=subprocess.PIPE)
            out, _ = p.communicate(data, timeout=30)
            return out == data and p.returncode == 0
        jobs = [spawn(cat) for _ in range(5)]
        self.assertEqual([join(j) for j in jobs], [True] * 5)

    def test_communicate_timeout_on_time(self):
        def slow():
            p = subprocess.Popen(["sleep", "10"], stdout=subprocess.PIPE)
            t0 = time.monotonic()
            try:
                p.communicate(timeout=0.3)
            except subprocess.TimeoutExpired:
                took = time.monotonic() - t0
            else:
                took = None
            p.kill()
            p.communicate()
            return took
        with Ticker() as tk:
            t0 = time.monotonic()
            jobs = [spawn(slow) for _ in range(5)]
            took = [join(j) for j in jobs]
            wall = time.monotonic() - t0
            ticks = tk.n
        for t in took:
            self.assertIsNotNone(t)
            self.assertGreaterEqual(t, 0.29)
            self.assertLess(t, 1.5)
        self.assertLess(wall, 3.0)
        self.assertGreater(ticks, 30)

    def test_check_output(self):
        out = join(spawn(subprocess.check_output, ["echo", "hi"]))
        self.assertEqual(out, b"hi\n")

    def test_waitpid_concurrently(self):
        procs = [subprocess.Popen(["sleep", "0.4"]) for _ in range(5)]

        def wait(p):
            pid, status = os.waitpid(p.pid, 0)
            p.returncode = 0  # reaped here; keep Popen from waiting again
            return pid == p.pid and os.waitstatus_to_exitcode(status) == 0
        with Ticker() as tk:
            t0 = time.monotonic()
            jobs = [spawn(wait, p) for p in procs]
            self.assertEqual([join(j) for j in jobs], [True] * 5)
            wall = time.monotonic() - t0
            ticks = tk.n
        self.assertLess(wall, 1.5)
        self.assertGreater(ticks, 30)

    def test_wait_any_child(self):
        p = subprocess.Popen(["sleep", "0.2"])
        with Ticker() as tk:
            pid, status = os.wait()
            ticks = tk.n
        p.returncode = 0
        self.assertEqual(pid, p.pid)
        self.assertEqual(os.waitstatus_to_exitcode(status), 0)
        self.assertGreater(ticks, 10)

    def test_waitpid_wnohang(self):
        p = subprocess.Popen(["sleep", "0.2"])
        self.assertEqual(os.waitpid(p.pid, os.WNOHANG), (0, 0))
        p.wait()

    def test_system_concurrently(self):
        with Ticker() as tk:
            t0 = time.monotonic()
            jobs = [spawn(os.system, "sleep 0.5") for _ in range(6)]
            codes = [join(j) for j in jobs]
            wall = time.monotonic() - t0
            ticks = tk.n
        self.assertEqual(codes, [0] * 6)
        # one after the other: 3 s; concurrently ~0.5 s plus fork+exec
        # (slow under the sanitizers)
        self.assertLess(wall, 2.0)
        self.assertGreater(ticks, 30)


class ResolverTest(unittest.TestCase):

    def test_getaddrinfo_concurrently(self):
        with Ticker() as tk:
            jobs = [spawn(socket.getaddrinfo, "localhost", 80,
                          0, socket.SOCK_STREAM) for _ in range(20)]
            results = [join(j) for j in jobs]
            ticks = tk.n
        for res in results:
            self.assertTrue(res)
            self.assertIn(res[0][0], (socket.AF_INET, socket.AF_INET6))
        self.assertGreaterEqual(ticks, 0)

    def test_other_lookups(self):
        self.assertEqual(join(spawn(socket.gethostbyname, "localhost"))[:4],
                         "127.")
        name, aliases, addrs = join(spawn(socket.gethostbyname_ex,
                                          "localhost"))
        self.assertTrue(addrs)
        host, _, _ = join(spawn(socket.gethostbyaddr, "127.0.0.1"))
        self.assertTrue(host)
        self.assertEqual(join(spawn(socket.getnameinfo, ("127.0.0.1", 80),
                                    socket.NI_NUMERICHOST)),
                         ("127.0.0.1", socket.getservbyport(80)))

    def test_failure_is_reported(self):
        with self.assertRaises(socket.gaierror):
            join(spawn(socket.getaddrinfo, "no-such-host.invalid", 80))


class SqliteTest(unittest.TestCase):

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.path = os.path.join(self.tmp.name, "t.db")
        with sqlite3.connect(self.path) as db:
            db.execute("create table t (g integer, i integer)")
        db.close()

    def tearDown(self):
        self.tmp.cleanup()

    def test_goroutines_with_own_connections(self):
        def worker(g):
            db = sqlite3.connect(self.path, timeout=30)
            for i in range(20):
                with db:
                    db.execute("insert into t values (?, ?)", (g, i))
                time.sleep(0.001)
            db.close()
        jobs = [spawn(worker, g) for g in range(4)]
        for j in jobs:
            join(j)
        db = sqlite3.connect(self.path)
        self.assertEqual(db.execute("select count(*) from t").fetchone()[0], 80)
        db.close()

    def test_busy_wait_parks(self):
        # One goroutine holds the write lock for a while; another's insert
        # waits in sqlite's busy handler (which sleeps) without freezing
        # the process.
        holder_ready = chan(1)

        def holder():
            db = sqlite3.connect(self.path, isolation_level=None)
            db.execute("begin exclusive")
            db.execute("insert into t values (0, 0)")
            holder_ready.send(None)
            time.sleep(0.3)
            db.execute("commit")
            db.close()
        go(holder)
        holder_ready.recv()
        with Ticker() as tk:
            t0 = time.monotonic()
            db = sqlite3.connect(self.path, timeout=10)
            with db:
                db.execute("insert into t values (1, 1)")
            wall = time.monotonic() - t0
            ticks = tk.n
        self.assertEqual(db.execute("select count(*) from t").fetchone()[0], 2)
        db.close()
        self.assertGreaterEqual(wall, 0.2)
        self.assertGreater(ticks, 20, "the ticker starved in sqlite's busy wait")


if __name__ == "__main__":
    faulthandler.dump_traceback_later(WATCHDOG, exit=True)
    unittest.main()
