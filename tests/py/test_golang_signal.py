# -*- coding: utf-8 -*-
# Tests of golang.os (Signal), golang.syscall (SIG*), golang.os.signal
# (Notify, Stop, Ignore, Reset) and golang.runtime's OS/ARCH.
# Runs under gpython.

import os, signal as pysig, subprocess, sys, textwrap, time as ptime
import unittest

from golang import go, chan, select, default, _PanicError
from golang import os as gos, syscall, runtime, time
from golang.os import signal

SIG1, SIG2 = syscall.SIGUSR1, syscall.SIGUSR2


def waitfor(cond, timeout=5):
    deadline = ptime.monotonic() + timeout
    while not cond():
        if ptime.monotonic() > deadline:
            raise AssertionError("timeout waiting")
        ptime.sleep(0.001)


def killme(sig):
    pysig.raise_signal(sig.signo)


class TestSignalType(unittest.TestCase):

    def test_signal(self):
        self.assertIsInstance(syscall.SIGTERM, gos.Signal)
        self.assertEqual(syscall.SIGTERM.signo, pysig.SIGTERM)
        self.assertEqual(str(syscall.SIGTERM), "terminated")    # Go's words
        self.assertEqual(str(syscall.SIGINT), "interrupt")
        self.assertEqual(str(SIG1), "user defined signal 1")
        self.assertEqual(repr(syscall.SIGTERM), "os.Signal(15)")
        self.assertEqual(str(gos.Signal(pysig.SIGRTMIN)),
                         "signal %d" % pysig.SIGRTMIN)
        self.assertEqual(gos.Signal(15), syscall.SIGTERM)
        self.assertNotEqual(syscall.SIGTERM, 15)
        self.assertEqual(hash(gos.Signal(15)), hash(syscall.SIGTERM))
        self.assertEqual(len({syscall.SIGCHLD, syscall.SIGCLD}), 1)
        with self.assertRaises(AttributeError):
            syscall.SIGTERM.signo = 3
        with self.assertRaises(TypeError):
            gos.Signal("x")

    def test_signal_chan(self):
        # chan(dtype=os.Signal) carries Signals, as a C int ("C.os::Signal")
        for dt in (gos.Signal, "C.os::Signal"):
            ch = chan(2, dtype=dt)
            self.assertEqual(ch.dtype, "C.os::Signal")
            ch.send(syscall.SIGHUP)
            self.assertEqual(ch.recv(), syscall.SIGHUP)
            with self.assertRaises(TypeError):
                ch.send(1)
            ch.close()
            self.assertEqual(ch.recv_(), (gos.Signal(0), False))
        self.assertEqual(chan.nil(gos.Signal).dtype, "C.os::Signal")

    def test_runtime_os_arch(self):
        self.assertEqual(runtime.OS, "linux")
        self.assertEqual(runtime.GOOS, "linux")
        self.assertIn(runtime.ARCH, ("amd64", "arm64", "386", "arm",
                                     "ppc64le", "s390x", "riscv64"))
        self.assertTrue(runtime.CC)


class TestNotify(unittest.TestCase):

    def tearDown(self):
        signal.Reset()

    def test_bad_args(self):
        for ch in (chan(2), chan(2, dtype='C.int')):
            with self.assertRaises(_PanicError) as cm:
                signal.Notify(ch, SIG1)
            self.assertEqual(cm.exception.args[0],
                             "pychan: channel type mismatch")
            with self.assertRaises(_PanicError):
                signal.Stop(ch)
        with self.assertRaises(_PanicError) as cm:
            signal.Notify(chan.nil(gos.Signal), SIG1)
        self.assertEqual(cm.exception.args[0],
                         "os/signal: Notify using nil channel")
        for f in (lambda: signal.Notify(chan(dtype=gos.Signal), None),
                  lambda: signal.Ignore(None), lambda: signal.Reset(15)):
            with self.assertRaises(TypeError) as cm:
                f()
            self.assertIn("expect os.Signal", str(cm.exception))

    def test_notify_stop_ignore(self):
        ch1 = chan(2, dtype=gos.Signal)
        ch12 = chan(2, dtype=gos.Signal)
        ch2 = chan(2, dtype=gos.Signal)
        signal.Notify(ch1, SIG1)
        signal.Notify(ch12, SIG1, SIG2)
        signal.Notify(ch2, SIG2)
        for i in range(50):
            killme(SIG1)
            waitfor(lambda: len(ch1) == 1 and len(ch12) == 1)
            self.assertEqual((ch1.recv(), ch12.recv()), (SIG1, SIG1))
            killme(SIG2)
            waitfor(lambda: len(ch12) == 1 and len(ch2) == 1)
            self.assertEqual((ch12.recv(), ch2.recv()), (SIG2, SIG2))
            self.assertEqual((len(ch1), len(ch12), len(ch2)), (0, 0, 0))

        signal.Stop(ch2)
        killme(SIG2)
        waitfor(lambda: len(ch12) == 1)
        ptime.sleep(0.01)
        self.assertEqual(len(ch2), 0)
        ch12.recv()

        signal.Ignore(SIG1)
        killme(SIG1)
        ptime.sleep(0.05)
        self.assertEqual((len(ch1), len(ch12)), (0, 0))

        signal.Notify(ch1, SIG1)        # after Ignore
        killme(SIG1)
        waitfor(lambda: len(ch1) == 1)
        self.assertEqual(len(ch12), 0)
        ch1.recv()

    def test_never_blocks(self):
        # a full channel misses the signal, the others still get it
        full = chan(1, dtype=gos.Signal)
        other = chan(5, dtype=gos.Signal)
        signal.Notify(full, SIG1)
        signal.Notify(other, SIG1)
        for i in range(3):
            killme(SIG1)
            waitfor(lambda: len(other) == i + 1)
        self.assertEqual(len(full), 1)

    def test_delivered_to_parked_goroutines(self):
        # the main goroutine waits on a channel; a goroutine waits on the
        # signal channel; another process sends the signal
        ch = chan(dtype=gos.Signal)
        got = chan()
        signal.Notify(ch, SIG1)

        def rx():
            got.send(ch.recv())
        go(rx)
        p = subprocess.Popen([sys.executable, "-c",
                              "import os, time; time.sleep(0.05); "
                              "os.kill(%d, %d)" % (os.getpid(), SIG1.signo)])
        self.assertEqual(got.recv(), SIG1)
        p.wait()

    def test_notify_from_goroutine(self):
        ch = chan(1, dtype=gos.Signal)
        done = chan()

        def sub():
            signal.Notify(ch, SIG2)
            done.close()
        go(sub)
        done.recv()
        killme(SIG2)
        waitfor(lambda: len(ch) == 1)
        self.assertEqual(ch.recv(), SIG2)

    def test_stdlib_handler_kept(self):
        got = []
        pysig.signal(SIG1.signo, lambda s, f: got.append(s))
        try:
            ch = chan(2, dtype=gos.Signal)
            signal.Notify(ch, SIG1)
            killme(SIG1)
            waitfor(lambda: len(ch) == 1 and len(got) == 1)
            signal.Ignore(SIG1)             # stops both
            killme(SIG1)
            ptime.sleep(0.05)
            self.assertEqual((len(got), len(ch)), (1, 1))
            signal.Reset(SIG1)              # gives Python's handler back
            killme(SIG1)
            waitfor(lambda: len(got) == 2)
            self.assertEqual(len(ch), 1)
            signal.Notify(ch, SIG1)
            signal.Stop(ch)                 # last channel: handler back
            self.assertEqual(pysig.getsignal(SIG1.signo).__name__,
                             "<lambda>")
        finally:
            pysig.signal(SIG1.signo, pysig.SIG_DFL)

    def test_sigint_keyboardinterrupt(self):
        ch = chan(2, dtype=gos.Signal)
        signal.Notify(ch, syscall.SIGINT)
        try:
            killme(syscall.SIGINT)
            waitfor(lambda: len(ch) == 1)
            ptime.sleep(0.01)
        except KeyboardInterrupt:
            self.fail("KeyboardInterrupt while SIGINT is notified")
        signal.Stop(ch)
        with self.assertRaises(KeyboardInterrupt):
            killme(syscall.SIGINT)
            ptime.sleep(1)
        signal.Ignore(syscall.SIGINT)
        killme(syscall.SIGINT)
        ptime.sleep(0.01)
        signal.Reset(syscall.SIGINT)
        self.assertIs(pysig.getsignal(pysig.SIGINT), pysig.default_int_handler)

    def test_all_signals_and_reset(self):
        # Notify() with no signals: all of them; Reset(): the defaults back
        prog = textwrap.dedent("""\
            import signal as pysig, sys
            from golang import chan, syscall, os as gos
            from golang.os import signal
            ch = chan(10, dtype=gos.Signal)
            signal.Notify(ch)
            for name in ("SIGHUP", "SIGUSR1", "SIGTERM", "SIGWINCH",
                         "SIGQUIT", "SIGCHLD", "SIGPIPE"):
                sig = getattr(syscall, name)
                pysig.raise_signal(sig.signo)
                assert ch.recv() == sig, name
            signal.Ignore()
            pysig.raise_signal(pysig.SIGTERM)
            assert len(ch) == 0
            print("ok", flush=True)
            signal.Reset()
            pysig.raise_signal(pysig.SIGTERM)
            print("not terminated")
        """)
        r = subprocess.run([sys.executable, "-c", prog],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=60)
        self.assertEqual(r.stdout, b"ok\n", r.stderr)
        self.assertEqual(r.returncode, -pysig.SIGTERM, r.stderr)


if __name__ == "__main__":
    unittest.main()
