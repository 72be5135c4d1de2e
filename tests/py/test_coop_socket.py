# test_coop_socket: blocking sockets park only the calling goroutine —
# recv/send/accept/connect/sendall/sendfile/makefile — while socket
# timeouts, non-blocking mode and the blocking flag behave as in python3.
# Runs under gpython:
#
#   build/gpython tests/py/test_coop_socket.py [unittest args]
import builtins
import errno
import faulthandler
import fcntl
import hashlib
import os
import socket
import struct
import sys
import tempfile
import time
import unittest

if not hasattr(builtins, "go"):
    sys.exit("test_coop_socket.py must run under gpython")

WATCHDOG = 150

from gpytest import Ticker, spawn, join  # noqa: E402


def is_nonblocking(sock):
    return bool(fcntl.fcntl(sock.fileno(), fcntl.F_GETFL) & os.O_NONBLOCK)


def listener(backlog=512):
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", 0))
    srv.listen(backlog)
    return srv


def recv_exact(sock, n):
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            break
        buf += chunk
    return bytes(buf)


class SocketPairTest(unittest.TestCase):

    def setUp(self):
        self.a, self.b = socket.socketpair()

    def tearDown(self):
        self.a.close()
        self.b.close()

    def test_recv_parks_while_others_run(self):
        with Ticker() as tk:
            got = spawn(self.a.recv, 100)
            time.sleep(0.1)
            before = tk.n
            self.b.sendall(b"hello")
            self.assertEqual(join(got), b"hello")
        self.assertGreater(before, 10, "the ticker starved during recv")
        self.assertFalse(is_nonblocking(self.a))

    def test_recv_into_and_recvfrom(self):
        buf = bytearray(10)
        got = spawn(self.a.recv_into, buf)
        time.sleep(0.02)
        self.b.send(b"abc")
        self.assertEqual(join(got), 3)
        self.assertEqual(bytes(buf[:3]), b"abc")
        got = spawn(self.a.recvfrom, 10)
        time.sleep(0.02)
        self.b.send(b"xyz")
        self.assertEqual(join(got)[0], b"xyz")

    def test_timeout_raised_on_time(self):
        self.a.settimeout(0.2)
        with Ticker() as tk:
            t0 = time.monotonic()
            with self.assertRaises(socket.timeout):
                self.a.recv(10)
            wall = time.monotonic() - t0
            ticks = tk.n
        self.assertGreaterEqual(wall, 0.19)
        self.assertLess(wall, 0.6)
        self.assertGreater(ticks, 20)

    def test_nonblocking_keeps_blockingioerror(self):
        self.a.setblocking(False)
        t0 = time.monotonic()
        with self.assertRaises(BlockingIOError):
            self.a.recv(10)
        self.b.setblocking(False)
        sent = 0
        with self.assertRaises(BlockingIOError):
            while True:
                sent += self.b.send(b"x" * 65536)
        self.assertLess(time.monotonic() - t0, 1.0)
        self.assertGreater(sent, 0)
        self.assertTrue(is_nonblocking(self.a))

    def test_so_rcvtimeo_gives_eagain(self):
        # A blocking socket (no Python timeout) with a kernel receive
        # timeout: the real recv fails with EAGAIN once it expires.
        self.a.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO,
                          struct.pack("ll", 0, 200000))
        with Ticker() as tk:
            t0 = time.monotonic()
            with self.assertRaises(BlockingIOError):
                self.a.recv(10)
            wall = time.monotonic() - t0
            ticks = tk.n
        self.assertGreaterEqual(wall, 0.19)
        self.assertLess(wall, 0.6)
        self.assertGreater(ticks, 20)

    def test_recv_waitall(self):
        def trickle():
            for part in (b"ab", b"cd", b"ef"):
                time.sleep(0.02)
                self.b.send(part)
        go(trickle)
        self.assertEqual(self.a.recv(6, socket.MSG_WAITALL), b"abcdef")

    def test_send_parks_until_peer_reads(self):
        # Fill the socket buffer, then a blocking send must wait for the
        # reader goroutine instead of freezing the process.
        data = os.urandom(4 * 1024 * 1024)
        got = spawn(recv_exact, self.b, len(data))
        self.a.sendall(data)
        self.assertEqual(join(got), data)

    def test_makefile_readline(self):
        def writer():
            for i in range(5):
                time.sleep(0.01)
                self.b.sendall(b"line %d\n" % i)
            self.b.shutdown(socket.SHUT_WR)
        go(writer)
        with self.a.makefile("rb") as f:
            lines = [f.readline() for _ in range(5)]
            self.assertEqual(f.readline(), b"")
        self.assertEqual(lines, [b"line %d\n" % i for i in range(5)])

    def test_close_wakes_nobody_else(self):
        # A goroutine blocked in recv on one pair is not disturbed when an
        # unrelated socket closes.
        c, d = socket.socketpair()
        got = spawn(self.a.recv, 10)
        time.sleep(0.02)
        c.close()
        d.close()
        self.b.send(b"ok")
        self.assertEqual(join(got), b"ok")


class TCPTest(unittest.TestCase):

    def test_echo_server_300_clients(self):
        srv = listener()
        port = srv.getsockname()[1]
        nclients = 300

        def handle(conn):
            with conn:
                while True:
                    data = conn.recv(4096)
                    if not data:
                        return
                    conn.sendall(data)

        def serve():
            for _ in range(nclients):
                conn, _ = srv.accept()
                go(handle, conn)

        def client(i):
            with socket.create_connection(("127.0.0.1", port)) as s:
                msg = (b"%05d" % i) * 200
                s.sendall(msg)
                s.shutdown(socket.SHUT_WR)
                return recv_exact(s, len(msg) + 1) == msg

        with Ticker() as tk:
            server = spawn(serve)
            t0 = time.monotonic()
            results = [spawn(client, i) for i in range(nclients)]
            ok = [join(r) for r in results]
            join(server)
            wall = time.monotonic() - t0
            ticks = tk.n
        srv.close()
        self.assertEqual(ok, [True] * nclients)
        self.assertLess(wall, 30)
        self.assertGreater(ticks, 0)

    def test_two_acceptors_on_one_listener(self):
        srv = listener()
        port = srv.getsockname()[1]
        accepted = chan(2)

        def acceptor(tag):
            conn, _ = srv.accept()
            accepted.send((tag, conn))
        with Ticker() as tk:
            go(acceptor, "x")
            go(acceptor, "y")
            time.sleep(0.05)
            c1 = socket.create_connection(("127.0.0.1", port))
            tag1, s1 = accepted.recv()
            # The other acceptor is still blocked, yet the process runs on.
            n0 = tk.n
            time.sleep(0.1)
            self.assertGreater(tk.n - n0, 10)
            self.assertEqual(len(accepted), 0)
            c2 = socket.create_connection(("127.0.0.1", port))
            tag2, s2 = accepted.recv()
        self.assertEqual({tag1, tag2}, {"x", "y"})
        self.assertFalse(is_nonblocking(s1))
        self.assertFalse(is_nonblocking(srv))
        for s in (c1, c2, s1, s2, srv):
            s.close()

    def test_accept_timeout(self):
        srv = listener()
        srv.settimeout(0.15)
        t0 = time.monotonic()
        with self.assertRaises(socket.timeout):
            srv.accept()
        self.assertGreaterEqual(time.monotonic() - t0, 0.14)
        srv.close()

    def test_accept_on_non_listening_socket_fails_at_once(self):
        # The kernel fails these at once; a readiness wait would never end
        # for an unconnected AF_UNIX socket.
        for fam in (socket.AF_UNIX, socket.AF_INET):
            with socket.socket(fam) as s:
                t0 = time.monotonic()
                with self.assertRaises(OSError) as cm:
                    s.accept()
                self.assertEqual(cm.exception.errno, errno.EINVAL)
                self.assertLess(time.monotonic() - t0, 1)

    def test_connect_and_refused(self):
        srv = listener()
        port = srv.getsockname()[1]
        got = spawn(srv.accept)
        s = socket.socket()
        s.connect(("127.0.0.1", port))
        self.assertFalse(is_nonblocking(s))
        conn, _ = join(got)
        s.sendall(b"ping")
        self.assertEqual(conn.recv(4), b"ping")
        for x in (s, conn, srv):
            x.close()
        # Nobody listens on the port any more.
        s = socket.socket()
        with self.assertRaises(ConnectionRefusedError):
            s.connect(("127.0.0.1", port))
        self.assertEqual(s.connect_ex(("127.0.0.1", port)), errno.ECONNREFUSED)
        s.close()
        with self.assertRaises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", port), timeout=5)

    def test_nonblocking_connect_keeps_einprogress(self):
        srv = listener()
        s = socket.socket()
        s.setblocking(False)
        err = s.connect_ex(srv.getsockname())
        self.assertIn(err, (0, errno.EINPROGRESS))
        s.close()
        srv.close()

    def test_sendall_10mb(self):
        srv = listener()
        port = srv.getsockname()[1]
        data = os.urandom(10 * 1024 * 1024)

        def receiver():
            conn, _ = srv.accept()
            h = hashlib.sha256()
            n = 0
            buf = bytearray(65536)
            with conn:
                while True:
                    k = conn.recv_into(buf)
                    if not k:
                        break
                    h.update(buf[:k])
                    n += k
            return n, h.hexdigest()
        got = spawn(receiver)
        with Ticker() as tk:
            with socket.create_connection(("127.0.0.1", port)) as s:
                s.sendall(data)
            n, digest = join(got)
            ticks = tk.n
        srv.close()
        self.assertEqual(n, len(data))
        self.assertEqual(digest, hashlib.sha256(data).hexdigest())
        self.assertGreaterEqual(ticks, 0)

    def test_sendfile(self):
        srv = listener()
        port = srv.getsockname()[1]
        data = os.urandom(5 * 1024 * 1024 + 123)
        with tempfile.TemporaryFile() as f:
            f.write(data)
            f.flush()
            f.seek(0)
            got = spawn(lambda: recv_exact(srv.accept()[0], len(data)))
            with socket.create_connection(("127.0.0.1", port)) as s:
                self.assertFalse(is_nonblocking(s))
                sent = s.sendfile(f)
                self.assertFalse(is_nonblocking(s))
            self.assertEqual(sent, len(data))
            self.assertEqual(join(got), data)
        srv.close()

    def test_unix_connect_waits_for_backlog_room(self):
        # AF_UNIX: a blocking connect to a listener whose backlog is full
        # waits (a non-blocking one fails with EAGAIN) until it accepts.
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "sock")
            srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            srv.bind(path)
            srv.listen(0)
            n = 4

            def client(i):
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.connect(path)
                s.sendall(b"%d" % i)
                return s
            with Ticker() as tk:
                jobs = [spawn(client, i) for i in range(n)]
                time.sleep(0.1)
                self.assertGreater(tk.n, 10)
                got = set()
                for _ in range(n):
                    conn, _ = srv.accept()
                    got.add(conn.recv(1))
                    conn.close()
                for s in [join(j) for j in jobs]:
                    self.assertFalse(is_nonblocking(s))
                    s.close()
            srv.close()
        self.assertEqual(got, {b"%d" % i for i in range(n)})

    def test_udp_recvfrom_parks(self):
        a = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        a.bind(("127.0.0.1", 0))
        b = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        got = spawn(a.recvfrom, 100)
        with Ticker() as tk:
            time.sleep(0.05)
            b.sendto(b"dgram", a.getsockname())
            data, addr = join(got)
            self.assertGreater(tk.n, 5)
        self.assertEqual(data, b"dgram")
        self.assertEqual(addr[1], b.getsockname()[1])
        a.close()
        b.close()


if __name__ == "__main__":
    faulthandler.dump_traceback_later(WATCHDOG, exit=True)
    unittest.main()
