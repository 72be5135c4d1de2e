# test_repl: gpython's interactive prompt on a terminal — CPython's own REPL
# with readline (editing, history, Ctrl-C), and goroutines started at the
# prompt keep running while it waits for input (readline select()s on
# stdin, which parks the main goroutine). Driven by /usr/bin/python3 through
# a pseudo-terminal (RUNNER):
#
#   /usr/bin/python3 tests/py/test_repl.py --gpython build/gpython
import os
import pty
import select
import shutil
import signal
import sys
import tempfile
import time
import unittest

GPYTHON = None
PYTHON3 = "/usr/bin/python3"
PROMPT = b">>> "


class Repl:
    """An interpreter on a pty: send keys, read until a marker."""

    def __init__(self, exe, *args):
        self.home = tempfile.mkdtemp()
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
               "TERM": "xterm", "HOME": self.home, "LANG": "C.UTF-8"}
        for k in ("ASAN_OPTIONS", "UBSAN_OPTIONS"):   # sanitizer builds
            if k in os.environ:
                env[k] = os.environ[k]
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            try:
                os.execve(exe, [exe, "-q", *args], env)
            finally:
                os._exit(127)
        self.status = None

    def read_until(self, marker=PROMPT, timeout=10):
        buf = b""
        end = time.monotonic() + timeout
        while marker not in buf:
            left = end - time.monotonic()
            if left <= 0:
                raise AssertionError("no %r within %ss; got %r"
                                     % (marker, timeout, buf))
            if select.select([self.fd], [], [], left)[0]:
                try:
                    d = os.read(self.fd, 4096)
                except OSError:   # EIO: the other side is gone
                    d = b""
                if not d:
                    raise AssertionError("EOF waiting for %r; got %r"
                                         % (marker, buf))
                buf += d
        return buf

    def drain(self, quiet=0.3, timeout=10):
        """Read what comes until the terminal has been quiet for a while."""
        buf = b""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if not select.select([self.fd], [], [], quiet)[0]:
                break
            try:
                d = os.read(self.fd, 4096)
            except OSError:
                break
            if not d:
                break
            buf += d
        return buf

    def send(self, data):
        os.write(self.fd, data)

    def cmd(self, line, timeout=10):
        """Type line + Enter; returns the output up to the next prompt."""
        self.send(line + b"\n")
        return self.read_until(timeout=timeout)

    def wait(self, timeout=10):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            pid, st = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.status = os.waitstatus_to_exitcode(st)
                return self.status
            try:   # keep the pty drained so the child never blocks on it
                if select.select([self.fd], [], [], 0.05)[0]:
                    os.read(self.fd, 4096)
            except OSError:
                time.sleep(0.05)
        raise AssertionError("interpreter did not exit")

    def close(self):
        if self.status is None:
            try:
                os.kill(self.pid, signal.SIGKILL)
                os.waitpid(self.pid, 0)
            except OSError:
                pass
        os.close(self.fd)
        shutil.rmtree(self.home, ignore_errors=True)


class TestRepl(unittest.TestCase):

    def start(self, exe=None, *args):
        r = Repl(exe or GPYTHON, *args)
        self.addCleanup(r.close)
        r.read_until()
        return r

    def test_goroutines_run_at_prompt(self):
        r = self.start()
        r.cmd(b"import time")
        r.send(b"def t():\n    for i in range(5):\n"
               b"        time.sleep(0.1); print('tick', i)\n\n")
        r.read_until()
        t0 = time.monotonic()
        r.cmd(b"go(t)")
        # Nobody types: the prompt waits in readline while the goroutine
        # prints its ticks.
        out = r.drain(quiet=1.0)
        self.assertLess(time.monotonic() - t0, 5)
        for i in range(5):
            self.assertIn(b"tick %d" % i, out)
        # A goroutine blocked forever is no deadlock while the prompt waits.
        r.cmd(b"go(lambda: chan().recv())")
        self.assertNotIn(b"deadlock", r.drain(quiet=0.5))
        self.assertIn(b"42", r.cmd(b"print(6*7)"))
        r.send(b"exit()\n")
        self.assertEqual(r.wait(), 0)

    def editing(self, exe):
        """Run the editing/history keys; returns the outputs."""
        r = self.start(exe)
        outs = [r.cmd(b"print(6*7)"),
                r.cmd(b"\x10"),                       # Ctrl-P: history
                r.cmd(b"1)\x01print(100+"),          # Ctrl-A: line start
                r.cmd(b"\x1b[A"),                     # Up arrow
                r.cmd(b"x = 'abc'"),
                r.cmd(b"x.upp\t")]                   # completion
        r.send(b"\x04")                               # Ctrl-D: exit
        self.assertEqual(r.wait(), 0)
        with open(os.path.join(r.home, ".python_history"), "rb") as f:
            history = f.read().splitlines()
        return outs, history

    def test_readline_editing_and_history(self):
        outs, history = self.editing(GPYTHON)
        self.assertIn(b"42", outs[0])
        self.assertIn(b"print(6*7)", outs[1])
        self.assertIn(b"42", outs[1])
        self.assertIn(b"101", outs[2])
        self.assertIn(b"101", outs[3])
        self.assertIn(b"ABC", outs[5])
        # (a line equal to the previous one is not added again)
        self.assertEqual(history, [b"print(6*7)", b"print(100+1)",
                                   b"x = 'abc'", b"x.upper()"])
        # The same keys do the same in python3.
        _, py3_history = self.editing(PYTHON3)
        self.assertEqual(history, py3_history)

    def test_ctrl_c(self):
        r = self.start()
        r.send(b"12")
        time.sleep(0.2)
        r.send(b"\x03")
        out = r.read_until()
        self.assertIn(b"KeyboardInterrupt", out)
        r.send(b"import time; time.sleep(100)\n")
        time.sleep(0.5)
        t0 = time.monotonic()
        r.send(b"\x03")
        out = r.read_until()
        self.assertLess(time.monotonic() - t0, 3)
        self.assertIn(b"Traceback", out)
        self.assertIn(b"KeyboardInterrupt", out)
        # Ctrl-C while main waits on a channel a goroutine will never send
        # to (a goroutine ticks meanwhile, so it is no deadlock).
        r.cmd(b"go(lambda: [time.sleep(0.05) for _ in range(100)])")
        r.send(b"chan().recv()\n")
        time.sleep(0.3)
        r.send(b"\x03")
        out = r.read_until()
        self.assertIn(b"KeyboardInterrupt", out)
        self.assertIn(b"ok", r.cmd(b"print('ok')"))
        r.send(b"exit(3)\n")
        self.assertEqual(r.wait(), 3)

    def test_inspect_after_script(self):
        fd, path = tempfile.mkstemp(suffix=".py")
        self.addCleanup(os.unlink, path)
        with os.fdopen(fd, "w") as f:
            f.write("c = chan(1)\ngo(c.send, 'from script')\n")
        r = self.start(None, "-i", path)
        self.assertIn(b"from script", r.cmd(b"print(c.recv())"))
        r.send(b"exit()\n")
        self.assertEqual(r.wait(), 0)


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
        sys.exit("usage: test_repl.py --gpython <path> [unittest args]")
    unittest.main(argv=[sys.argv[0]] + args)


if __name__ == "__main__":
    main()
