# test_coop_ssl: TLS over blocking sockets parks only the calling
# goroutine — OpenSSL's own reads and writes go through the interposed
# libc calls. A self-signed certificate is made with the openssl CLI at
# test time. Runs under gpython:
#
#   build/gpython tests/py/test_coop_ssl.py [unittest args]
import builtins
import faulthandler
import hashlib
import os
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import unittest

if not hasattr(builtins, "go"):
    sys.exit("test_coop_ssl.py must run under gpython")

WATCHDOG = 150

from gpytest import Ticker, spawn, join  # noqa: E402
OPENSSL = shutil.which("openssl")


def recv_exact(sock, n):
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(min(n - len(buf), 1 << 16))
        if not chunk:
            break
        buf += chunk
    return bytes(buf)


@unittest.skipUnless(OPENSSL, "needs the openssl command")
class SSLTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.cert = os.path.join(cls.tmp.name, "cert.pem")
        cls.key = os.path.join(cls.tmp.name, "key.pem")
        subprocess.run(
            [OPENSSL, "req", "-x509", "-newkey", "rsa:2048", "-nodes",
             "-keyout", cls.key, "-out", cls.cert, "-days", "2",
             "-subj", "/CN=localhost",
             "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
            check=True, capture_output=True, timeout=60)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def setUp(self):
        self.sctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.sctx.load_cert_chain(self.cert, self.key)
        self.cctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        self.cctx.load_verify_locations(self.cert)
        self.srv = socket.socket()
        self.srv.bind(("127.0.0.1", 0))
        self.srv.listen(128)
        self.port = self.srv.getsockname()[1]

    def tearDown(self):
        self.srv.close()

    def serve(self, nconns, timeout=None):
        """Accept nconns TLS connections, each echoed by its goroutine."""
        def handle(conn):
            try:
                with self.sctx.wrap_socket(conn, server_side=True) as tls:
                    while True:
                        data = tls.recv(1 << 16)
                        if not data:
                            return
                        tls.sendall(data)
            except (ssl.SSLError, OSError):
                pass

        def loop():
            for _ in range(nconns):
                conn, _ = self.srv.accept()
                conn.settimeout(timeout)
                go(handle, conn)
        return spawn(loop)

    def client(self, payload, timeout=None):
        raw = socket.create_connection(("127.0.0.1", self.port))
        raw.settimeout(timeout)
        with self.cctx.wrap_socket(raw, server_hostname="localhost") as tls:
            tls.sendall(payload)
            echoed = recv_exact(tls, len(payload))
            tls.shutdown(socket.SHUT_RDWR)
        return hashlib.sha256(echoed).hexdigest()

    def test_blocking_sockets(self):
        server = self.serve(1)
        payload = os.urandom(2 * 1024 * 1024)
        with Ticker() as tk:
            digest = join(spawn(self.client, payload))
            ticks = tk.n
        join(server)
        self.assertEqual(digest, hashlib.sha256(payload).hexdigest())
        self.assertGreater(ticks, 0)

    def test_sockets_with_timeouts(self):
        server = self.serve(1, timeout=30)
        payload = os.urandom(512 * 1024)
        digest = join(spawn(self.client, payload, 30))
        join(server)
        self.assertEqual(digest, hashlib.sha256(payload).hexdigest())

    def test_many_clients(self):
        n = 20
        server = self.serve(n)
        payloads = [os.urandom(64 * 1024) for _ in range(n)]
        with Ticker() as tk:
            t0 = time.monotonic()
            jobs = [spawn(self.client, p) for p in payloads]
            digests = [join(j) for j in jobs]
            wall = time.monotonic() - t0
            ticks = tk.n
        join(server)
        self.assertEqual(digests,
                         [hashlib.sha256(p).hexdigest() for p in payloads])
        self.assertLess(wall, 60)
        self.assertGreater(ticks, 0)

    def test_handshake_waits_for_the_peer(self):
        # The server parks in the handshake until a slow client shows up;
        # meanwhile other goroutines run.
        server = self.serve(1)

        def slow_client():
            time.sleep(0.2)
            return self.client(b"late")
        with Ticker() as tk:
            got = spawn(slow_client)
            digest = join(got)
            ticks = tk.n
        join(server)
        self.assertEqual(digest, hashlib.sha256(b"late").hexdigest())
        self.assertGreater(ticks, 20)

    def test_read_timeout(self):
        server = self.serve(1)
        raw = socket.create_connection(("127.0.0.1", self.port))
        tls = self.cctx.wrap_socket(raw, server_hostname="localhost")
        tls.settimeout(0.2)
        with Ticker() as tk:
            t0 = time.monotonic()
            with self.assertRaises(socket.timeout):
                tls.recv(10)
            wall = time.monotonic() - t0
            ticks = tk.n
        tls.close()
        join(server)
        self.assertGreaterEqual(wall, 0.19)
        self.assertLess(wall, 0.8)
        self.assertGreater(ticks, 20)


if __name__ == "__main__":
    faulthandler.dump_traceback_later(WATCHDOG, exit=True)
    unittest.main()
