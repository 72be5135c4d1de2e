# test_coop_cext: what a C extension sees — libc calls made through ctypes
# (which releases the GIL, as extension code does) bind to gpython's
# interposers, including the _FORTIFY_SOURCE twins (__read_chk,
# __recv_chk, __poll_chk, ...), and park only the calling goroutine; the
# same calls made with the GIL held (ctypes.PyDLL) block as in python3.
# Also asyncio event loops running in several goroutines at once.
# Runs under gpython:
#
#   build/gpython tests/py/test_coop_cext.py [unittest args]
import asyncio
import builtins
import ctypes
import faulthandler
import os
import socket
import sys
import time
import unittest

if not hasattr(builtins, "go"):
    sys.exit("test_coop_cext.py must run under gpython")

WATCHDOG = 150

from gpytest import Ticker, spawn, join  # noqa: E402

libc = ctypes.CDLL(None, use_errno=True)        # calls release the GIL
libc_gil = ctypes.PyDLL(None, use_errno=True)   # calls keep the GIL

libc.read.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_size_t]
libc.read.restype = ctypes.c_ssize_t
# (module-level names: inside a class "__x" would be mangled)
read_chk = getattr(libc, "__read_chk")
read_chk.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_size_t,
                     ctypes.c_size_t]
read_chk.restype = ctypes.c_ssize_t
recv_chk = getattr(libc, "__recv_chk")
recv_chk.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_size_t,
                     ctypes.c_size_t, ctypes.c_int]
recv_chk.restype = ctypes.c_ssize_t


class PollFd(ctypes.Structure):
    _fields_ = [("fd", ctypes.c_int), ("events", ctypes.c_short),
                ("revents", ctypes.c_short)]


poll_chk = getattr(libc, "__poll_chk")
poll_chk.argtypes = [ctypes.POINTER(PollFd), ctypes.c_ulong, ctypes.c_int,
                     ctypes.c_size_t]
poll_chk.restype = ctypes.c_int
libc.usleep.argtypes = [ctypes.c_uint]
libc_gil.usleep.argtypes = [ctypes.c_uint]
POLLIN = 1


class CExtensionCallsTest(unittest.TestCase):

    def check_parks(self, call, wake):
        """call() must park until wake() (run 0.1 s later) makes it
        return, while the ticker keeps running."""
        with Ticker() as tk:
            got = spawn(call)
            time.sleep(0.1)
            before = tk.n
            wake()
            res = join(got)
        self.assertGreater(before, 10, "the ticker starved")
        return res

    def test_read(self):
        r, w = os.pipe()
        buf = ctypes.create_string_buffer(16)
        n = self.check_parks(lambda: libc.read(r, buf, 16),
                             lambda: os.write(w, b"abc"))
        self.assertEqual((n, buf.raw[:3]), (3, b"abc"))
        os.close(r)
        os.close(w)

    def test_read_chk(self):
        r, w = os.pipe()
        buf = ctypes.create_string_buffer(16)
        n = self.check_parks(lambda: read_chk(r, buf, 16, 16),
                             lambda: os.write(w, b"fortify"))
        self.assertEqual((n, buf.raw[:7]), (7, b"fortify"))
        os.close(r)
        os.close(w)

    def test_recv_chk(self):
        a, b = socket.socketpair()
        buf = ctypes.create_string_buffer(16)
        n = self.check_parks(
            lambda: recv_chk(a.fileno(), buf, 16, 16, 0),
            lambda: b.send(b"sock"))
        self.assertEqual((n, buf.raw[:4]), (4, b"sock"))
        a.close()
        b.close()

    def test_poll_chk(self):
        r, w = os.pipe()
        fds = (PollFd * 1)(PollFd(r, POLLIN, 0))
        n = self.check_parks(
            lambda: poll_chk(fds, 1, 5000, ctypes.sizeof(fds)),
            lambda: os.write(w, b"x"))
        self.assertEqual((n, fds[0].revents & POLLIN), (1, POLLIN))
        os.close(r)
        os.close(w)

    def test_usleep_parks(self):
        with Ticker() as tk:
            t0 = time.monotonic()
            self.assertEqual(libc.usleep(200000), 0)
            wall = time.monotonic() - t0
            ticks = tk.n
        self.assertGreaterEqual(wall, 0.19)
        self.assertGreater(ticks, 20)

    def test_with_gil_held_blocks_the_thread(self):
        # A call made with the GIL held must not park (no other goroutine
        # could take the GIL): it blocks as in python3.
        with Ticker() as tk:
            time.sleep(0.02)
            before = tk.n
            t0 = time.monotonic()
            libc_gil.usleep(100000)
            wall = time.monotonic() - t0
            during = tk.n - before
        self.assertGreaterEqual(wall, 0.09)
        # (a preemption right after the call may let it tick once)
        self.assertLessEqual(during, 2)


class AsyncioTest(unittest.TestCase):

    def test_event_loops_in_goroutines(self):
        def run(tag):
            async def main():
                t0 = time.monotonic()
                await asyncio.sleep(0.2)
                return tag, time.monotonic() - t0
            return asyncio.run(main())
        t0 = time.monotonic()
        jobs = [spawn(run, i) for i in range(5)]
        results = sorted(join(j) for j in jobs)
        wall = time.monotonic() - t0
        self.assertEqual([tag for tag, _ in results], list(range(5)))
        self.assertLess(wall, 1.0, "5 loops x sleep(0.2) took %.2fs" % wall)

    def test_blocking_client_against_asyncio_server(self):
        got = chan(1)

        async def main():
            async def handle(reader, writer):
                writer.write(await reader.read(100))
                await writer.drain()
                writer.close()
            srv = await asyncio.start_server(handle, "127.0.0.1", 0)
            port = srv.sockets[0].getsockname()[1]

            def client():
                with socket.create_connection(("127.0.0.1", port)) as s:
                    s.sendall(b"hey")
                    got.send(s.recv(10))
            go(client)
            # The blocking client goroutine runs while the loop waits in
            # epoll_wait.
            while len(got) == 0:
                await asyncio.sleep(0.01)
            srv.close()
            await srv.wait_closed()
        asyncio.run(main())
        self.assertEqual(got.recv(), b"hey")


if __name__ == "__main__":
    faulthandler.dump_traceback_later(WATCHDOG, exit=True)
    unittest.main()
