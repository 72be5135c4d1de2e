# test_signals: signals under gpython (patches/signal.c) — Ctrl-C raises
# KeyboardInterrupt in the main goroutine wherever it is parked, Python
# handlers run promptly and in main, the program's handlers are what
# sigaction reports, SIGCHLD/subprocess, set_wakeup_fd/asyncio, pause and
# sigwait park. Driven by /usr/bin/python3 (RUNNER), which sends the
# signals and compares with python3:
#
#   /usr/bin/python3 tests/py/test_signals.py --gpython build/gpython
import os
import signal
import subprocess
import sys
import textwrap
import time
import unittest

GPYTHON = None
PYTHON3 = "/usr/bin/python3"


def start(code, exe=None, args=()):
    """Start code under gpython (or exe); returns the Popen once the program
    printed its first line ("ready")."""
    p = subprocess.Popen([exe or GPYTHON, *args, "-c", textwrap.dedent(code)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
    line = p.stdout.readline()
    if line.strip() != "ready":
        p.kill()
        out, err = p.communicate()
        raise AssertionError("no 'ready': %r %r %r" % (line, out, err))
    return p


def finish(p, timeout=10):
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate()
        raise AssertionError("timed out; stderr: %s" % err[-2000:])
    return p.returncode, out, err


def parked(code):
    """code, after a goroutine that stays parked on a timer (so the program
    is never deadlocked while main waits for a signal)."""
    return PARKED + textwrap.dedent(code)


def run(code, exe=None, args=(), timeout=30):
    r = subprocess.run([exe or GPYTHON, *args, "-c", textwrap.dedent(code)],
                       capture_output=True, text=True, timeout=timeout)
    return r.returncode, r.stdout, r.stderr


PARKED = """
import os, signal, socket, sys, threading, time
def parked():
    time.sleep(1000)
go(parked)
"""


class TestKeyboardInterrupt(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        # What python3 does for an uncaught KeyboardInterrupt: traceback,
        # then it kills itself with SIGINT.
        p = start("import time\nprint('ready', flush=True)\ntime.sleep(100)",
                  exe=PYTHON3)
        time.sleep(0.2)
        p.send_signal(signal.SIGINT)
        cls.py3_status, _, err = finish(p)
        assert err.strip().endswith("KeyboardInterrupt"), err

    def interrupt(self, wait_code, setup="", args=()):
        p = start(parked(setup) + "\nprint('ready', flush=True)\n" +
                  textwrap.dedent(wait_code), args=args)
        time.sleep(0.3)
        t0 = time.monotonic()
        p.send_signal(signal.SIGINT)
        status, out, err = finish(p)
        dt = time.monotonic() - t0
        self.assertEqual(status, self.py3_status, err)
        self.assertEqual(status, -signal.SIGINT)
        lines = err.strip().splitlines()
        self.assertEqual(lines[0], "Traceback (most recent call last):", err)
        self.assertEqual(lines[-1], "KeyboardInterrupt", err)
        self.assertNotIn("panic", err)
        self.assertLess(dt, 2.0)

    def test_chan_recv(self):
        self.interrupt("chan().recv()")

    def test_select(self):
        self.interrupt("select(chan().recv, chan(1).recv_)")

    def test_sleep(self):
        self.interrupt("time.sleep(100)")

    def test_lock(self):
        self.interrupt("l = threading.Lock(); l.acquire(); l.acquire()")

    def test_thread_join(self):
        self.interrupt("t = threading.Thread(target=time.sleep, args=(100,));"
                       "t.start(); t.join()")

    def test_socket(self):
        self.interrupt("a, b = socket.socketpair(); a.recv(10)")

    def test_select_module(self):
        self.interrupt("import select; r, w = os.pipe();"
                       "select.select([r], [], [])")

    def test_while_goroutine_computes(self):
        # The signal arrives while another goroutine runs Python code: it
        # must not get the KeyboardInterrupt (that would be a goroutine
        # panic); main does, once the hog is preempted.
        self.interrupt("chan().recv()", setup="""
            def hog():
                n = 0
                while True:
                    n += 1
            go(hog)
        """)

    def test_main_computes(self):
        self.interrupt("n = 0\nwhile True:\n    n += 1")

    def test_threads_runtime(self):
        self.interrupt("t = threading.Thread(target=time.sleep, args=(100,));"
                       "t.daemon = True; t.start(); t.join()",
                       args=("-X", "gpython.runtime=threads"))

    def test_caught(self):
        p = start(parked("""
            print('ready', flush=True)
            try:
                chan().recv()
            except KeyboardInterrupt:
                print('caught', threading.get_ident())
            c = chan()
            def later():
                time.sleep(0.05)
                c.send('after')
            go(later)
            print(c.recv())
        """))
        time.sleep(0.3)
        p.send_signal(signal.SIGINT)
        status, out, err = finish(p)
        self.assertEqual(status, 0, err)
        self.assertEqual(out.split(), ["caught", "1", "after"])


class TestHandlers(unittest.TestCase):

    def test_handler_runs_promptly_in_main(self):
        p = start(parked("""
            got = chan(10)
            def h(signum, frame):
                got.send((signum, threading.get_ident()))
            signal.signal(signal.SIGUSR1, h)
            def hog():
                n = 0
                while True:
                    n += 1
            go(hog)
            print('ready', flush=True)
            for _ in range(2):
                print(*got.recv(), flush=True)
        """))
        for _ in range(2):
            time.sleep(0.2)
            t0 = time.monotonic()
            p.send_signal(signal.SIGUSR1)
            line = p.stdout.readline().split()
            self.assertLess(time.monotonic() - t0, 2.0)
            self.assertEqual(line, [str(int(signal.SIGUSR1)), "1"])
        status, out, err = finish(p)
        self.assertEqual(status, 0, err)

    def test_handler_raises_in_parked_main(self):
        status, out, err = run(parked("""
            class Stop(Exception):
                pass
            def h(signum, frame):
                raise Stop
            signal.signal(signal.SIGUSR1, h)
            def later():
                time.sleep(0.1)
                os.kill(os.getpid(), signal.SIGUSR1)
            for wait in (lambda: time.sleep(30), lambda: chan().recv(),
                         lambda: threading.Event().wait(30)):
                go(later)
                t0 = time.monotonic()
                try:
                    wait()
                except Stop:
                    print("Stop %.1f" % (time.monotonic() - t0))
        """))
        self.assertEqual(status, 0, err)
        self.assertEqual(out.split(), ["Stop", "0.1"] * 3)

    def test_sleep_resumes_after_handler(self):
        # PEP 475: a handler that returns does not cut time.sleep short.
        status, out, err = run(parked("""
            got = []
            signal.signal(signal.SIGUSR1, lambda s, f: got.append(s))
            def later():
                time.sleep(0.1)
                os.kill(os.getpid(), signal.SIGUSR1)
            go(later)
            t0 = time.monotonic()
            time.sleep(0.4)
            print(len(got), round(time.monotonic() - t0, 1))
        """))
        self.assertEqual(status, 0, err)
        self.assertEqual(out.split(), ["1", "0.4"])

    def test_pthread_kill_thread_idents(self):
        # threading.get_ident() of a goroutine names the scheduler thread;
        # an OS thread's ident is a pthread_t as in python3.
        status, out, err = run(parked("""
            import gpython
            class Hit(Exception):
                pass
            def h(signum, frame):
                raise Hit
            signal.signal(signal.SIGUSR1, h)
            try:
                signal.pthread_kill(threading.get_ident(), signal.SIGUSR1)
                time.sleep(1)
            except Hit:
                print("main hit")
            done = chan()
            def g():
                signal.pthread_kill(threading.get_ident(), signal.SIGUSR1)
                done.send(None)
            go(g)
            try:
                done.recv()
                time.sleep(1)
            except Hit:
                print("main hit from goroutine")
            got = chan(1)
            hits = []
            signal.signal(signal.SIGUSR2, lambda s, f: hits.append(s))
            def os_thread():
                got.send(threading.get_ident())
                time.sleep(0.3)
            ident = gpython.start_os_thread(os_thread)
            signal.pthread_kill(got.recv(), signal.SIGUSR2)
            # Wait for the handler: exiting first would restore SIG_DFL
            # while the signal may still be pending on the OS thread.
            while not hits:
                time.sleep(0.01)
            print(ident == threading._active.get(ident, ident))
        """))
        self.assertEqual(status, 0, err)
        self.assertEqual(out.splitlines(), ["main hit",
                                            "main hit from goroutine",
                                            "True"])

    def test_sigmask_per_goroutine(self):
        # pthread_sigmask changes the calling goroutine's mask only, as it
        # changes the calling thread's in python3 (multiprocessing's
        # resource sharer blocks every signal in its thread): the main
        # goroutine still gets Ctrl-C, a child forked by main gets the
        # signals sent to it, a child forked by the masking goroutine
        # inherits its mask.
        status, out, err = run(parked("""
            def blocked():
                return signal.pthread_sigmask(signal.SIG_BLOCK, [])
            ready, done = chan(), chan()
            def masker():
                signal.pthread_sigmask(signal.SIG_BLOCK,
                                       signal.valid_signals())
                ready.send(signal.SIGTERM in blocked())
                time.sleep(0.1)          # parks with its mask
                pid = os.fork()
                if pid == 0:
                    os._exit(signal.SIGTERM in blocked())
                _, st = os.waitpid(pid, 0)
                signal.pthread_sigmask(signal.SIG_SETMASK, [])
                done.send((os.waitstatus_to_exitcode(st),
                           signal.SIGTERM in blocked()))
            go(masker)
            print(ready.recv(), signal.SIGTERM in blocked())
            pid = os.fork()
            if pid == 0:
                time.sleep(10)
                os._exit(0)
            os.kill(pid, signal.SIGTERM)
            print(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
            try:
                signal.raise_signal(signal.SIGINT)
                time.sleep(1)
            except KeyboardInterrupt:
                print("KeyboardInterrupt")
            print(done.recv())
            signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGUSR1])
            seen = chan(1)
            # a new goroutine starts with the main goroutine's mask
            go(lambda: seen.send(signal.SIGUSR1 in blocked()))
            print(seen.recv(), signal.SIGUSR1 in blocked())
        """))
        self.assertEqual(status, 0, err)
        self.assertEqual(out.splitlines(), ["True False", "-15",
                                            "KeyboardInterrupt",
                                            "(1, False)", "True True"])

    def test_setitimer(self):
        status, out, err = run(parked("""
            c = chan(5)
            signal.signal(signal.SIGALRM, lambda s, f: c.send(time.monotonic()))
            t0 = time.monotonic()
            signal.setitimer(signal.ITIMER_REAL, 0.1, 0.1)
            ts = [c.recv() for _ in range(3)]
            signal.setitimer(signal.ITIMER_REAL, 0)
            print(round(ts[0] - t0, 1), round(ts[2] - t0, 1))
        """))
        self.assertEqual(status, 0, err)
        self.assertEqual(out.split(), ["0.1", "0.3"])

    def test_getsignal_parity(self):
        code = """
            import signal
            for s in ("SIGINT", "SIGCHLD", "SIGPIPE", "SIGTERM", "SIGUSR1",
                      "SIGXFSZ", "SIGHUP", "SIGALRM"):
                print(s, signal.getsignal(getattr(signal, s)))
            signal.signal(signal.SIGUSR1, signal.SIG_IGN)
            print(signal.signal(signal.SIGUSR1, signal.SIG_DFL))
        """
        self.assertEqual(run(code), run(code, exe=PYTHON3))

    def test_sigaction_reports_program_handler(self):
        # libc's sigaction (ours) reports CPython's handler; the kernel
        # holds our wrapper, which lives in the gpython executable.
        status, out, err = run("""
            import ctypes, os, signal
            class SigAction(ctypes.Structure):
                _fields_ = [("handler", ctypes.c_void_p),
                            ("mask", ctypes.c_ulong * 16),
                            ("flags", ctypes.c_int),
                            ("restorer", ctypes.c_void_p)]
            class KSigAction(ctypes.Structure):
                _fields_ = [("handler", ctypes.c_void_p),
                            ("flags", ctypes.c_ulong),
                            ("restorer", ctypes.c_void_p),
                            ("mask", ctypes.c_ulong)]
            libc = ctypes.CDLL(None, use_errno=True)
            signal.signal(signal.SIGUSR1, lambda s, f: None)
            old = SigAction()
            assert libc.sigaction(signal.SIGUSR1, None, ctypes.byref(old)) == 0
            kold = KSigAction()
            assert libc.syscall(13, signal.SIGUSR1, None, ctypes.byref(kold),
                                8) == 0
            def where(addr):
                for line in open("/proc/self/maps"):
                    f = line.split()
                    lo, hi = (int(x, 16) for x in f[0].split("-"))
                    if lo <= addr < hi:
                        return os.path.basename(f[-1])
            exe = os.path.basename(os.readlink("/proc/self/exe"))
            # libpython may be linked into the executable: what matters is
            # that the program sees its own handler, not the wrapper.
            print(old.handler != kold.handler and
                  where(old.handler).startswith(("libpython3.11", exe)),
                  bool(old.flags & 0x08000000), bool(old.flags & 4),
                  where(kold.handler) == exe, bool(kold.flags & 4))
        """)
        self.assertEqual(status, 0, err)
        # program: libpython's handler, SA_ONSTACK, no SA_SIGINFO;
        # kernel: our wrapper, SA_SIGINFO.
        self.assertEqual(out.split(), ["True", "True", "False", "True",
                                       "True"])

    def test_sigchld_and_subprocess(self):
        status, out, err = run(parked("""
            import subprocess
            got = []
            signal.signal(signal.SIGCHLD, lambda s, f: got.append(s))
            res = chan(5)
            def child(i):
                res.send(subprocess.run(["sh", "-c", "sleep 0.1; exit %d" % i]
                                        ).returncode)
            for i in range(5):
                go(child, i)
            print(sorted(res.recv() for _ in range(5)), len(got) > 0)
            print(subprocess.check_output(["echo", "hi"]).decode().strip())
        """))
        self.assertEqual(status, 0, err)
        self.assertEqual(out.splitlines(), ["[0, 1, 2, 3, 4] True", "hi"])

    def test_asyncio_signal_handler(self):
        status, out, err = run("""
            import asyncio, os, signal
            async def main():
                loop = asyncio.get_running_loop()
                fut = loop.create_future()
                loop.add_signal_handler(signal.SIGUSR1, fut.set_result, "usr1")
                loop.call_later(0.1, os.kill, os.getpid(), signal.SIGUSR1)
                return await asyncio.wait_for(fut, 5)
            print(asyncio.run(main()))
        """)
        self.assertEqual((status, out.strip()), (0, "usr1"), err)

    def test_asyncio_external_signal(self):
        p = start("""
            import asyncio, signal
            async def main():
                loop = asyncio.get_running_loop()
                fut = loop.create_future()
                loop.add_signal_handler(signal.SIGTERM, fut.set_result, "term")
                print("ready", flush=True)
                return await asyncio.wait_for(fut, 10)
            print(asyncio.run(main()))
        """)
        time.sleep(0.3)
        p.send_signal(signal.SIGTERM)
        status, out, err = finish(p)
        self.assertEqual((status, out.strip()), (0, "term"), err)

    def test_wakeup_fd(self):
        status, out, err = run(parked("""
            r, w = os.pipe()
            os.set_blocking(w, False)
            signal.signal(signal.SIGUSR1, lambda s, f: None)
            signal.set_wakeup_fd(w)
            def later():
                time.sleep(0.1)
                os.kill(os.getpid(), signal.SIGUSR1)
            go(later)
            print(os.read(r, 1)[0] == signal.SIGUSR1)
        """))
        self.assertEqual((status, out.strip()), (0, "True"), err)


class TestWaiting(unittest.TestCase):

    def test_pause(self):
        status, out, err = run(parked("""
            ticks = []
            def ticker():
                for i in range(5):
                    time.sleep(0.02)
                    ticks.append(i)
                os.kill(os.getpid(), signal.SIGUSR1)
            got = []
            signal.signal(signal.SIGUSR1, lambda s, f: got.append(s))
            go(ticker)
            signal.pause()
            print(len(ticks), len(got))
        """))
        self.assertEqual(status, 0, err)
        self.assertEqual(out.split(), ["5", "1"])

    def test_pause_not_woken_by_handled_signal(self):
        # A signal main handled while running leaves nothing behind that
        # would end a later pause() early.
        status, out, err = run("""
            import os, signal, time
            got = []
            signal.signal(signal.SIGUSR1, lambda s, f: got.append(s))
            os.kill(os.getpid(), signal.SIGUSR1)
            signal.signal(signal.SIGALRM, lambda s, f: got.append(s))
            signal.setitimer(signal.ITIMER_REAL, 0.3)
            t0 = time.monotonic()
            signal.pause()
            print(got == [signal.SIGUSR1, signal.SIGALRM],
                  round(time.monotonic() - t0, 1))
        """)
        self.assertEqual(status, 0, err)
        self.assertEqual(out.split(), ["True", "0.3"])

    def test_pause_external(self):
        # Nothing else can wake main: not a deadlock, a signal may come.
        p = start("""
            import signal, time
            got = []
            signal.signal(signal.SIGUSR1, lambda s, f: got.append(s))
            print("ready", flush=True)
            signal.pause()
            print(len(got))
        """)
        time.sleep(0.3)
        p.send_signal(signal.SIGUSR1)
        status, out, err = finish(p)
        self.assertEqual((status, out.strip()), (0, "1"), err)

    def test_sigwait(self):
        status, out, err = run(parked("""
            import ctypes
            libc = ctypes.CDLL(None)
            libc.pthread_self.restype = ctypes.c_ulong
            sched_thread = libc.pthread_self()
            signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGUSR2])
            ticks = []
            def ticker():
                for i in range(5):
                    time.sleep(0.02)
                    ticks.append(i)
                signal.pthread_kill(sched_thread, signal.SIGUSR2)
            go(ticker)
            print(signal.sigwait([signal.SIGUSR2]) == signal.SIGUSR2,
                  len(ticks))
            t0 = time.monotonic()
            go(ticker)
            print(signal.sigtimedwait([signal.SIGUSR1], 0.2),
                  round(time.monotonic() - t0, 1), len(ticks))
            info = signal.sigwaitinfo([signal.SIGUSR2])
            print(info.si_signo == signal.SIGUSR2)
        """))
        self.assertEqual(status, 0, err)
        self.assertEqual(out.splitlines(), ["True 5", "None 0.2 10", "True"])

    def test_sigwait_process_directed(self):
        # The runtime's own threads (preemption monitor, offload pool)
        # block signals: a blocked process-directed signal stays pending
        # for sigwait instead of killing the process in one of them.
        status, out, err = run(parked("""
            socket.getaddrinfo("localhost", 80)   # starts the offload pool
            signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGUSR2])
            os.kill(os.getpid(), signal.SIGUSR2)
            print(signal.sigwait([signal.SIGUSR2]) == signal.SIGUSR2)
        """))
        self.assertEqual((status, out.strip()), (0, "True"), err)


def main():
    global GPYTHON
    args = sys.argv[1:]
    if "--gpython" in args:
        i = args.index("--gpython")
        GPYTHON = os.path.abspath(args[i + 1])
        del args[i:i + 2]
    else:
        GPYTHON = os.environ.get("GPYTHON")
    if not GPYTHON:
        sys.exit("usage: test_signals.py --gpython <path> [unittest args]")
    # Children must not inherit an ignored SIGINT (a background job's): a
    # handled signal is reset to the default on exec.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    unittest.main(argv=[sys.argv[0]] + args)


if __name__ == "__main__":
    main()
