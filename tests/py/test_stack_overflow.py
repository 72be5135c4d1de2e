# test_stack_overflow: a goroutine whose recursion outgrows its C stack
# never writes outside it, at any number of live goroutines: CPython-level
# recursion ends in RecursionError (the recursion check looks at the
# goroutine's stack), a C-level one in the guard page ends in Go's
# "fatal error: stack overflow" report naming the goroutine. Runs under
# gpython; the fatal cases run in child processes.
import builtins
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import unittest

if not hasattr(builtins, "go"):
    sys.exit("test_stack_overflow.py must run under gpython")

GPYTHON = sys.executable

OVERFLOW = textwrap.dedent("""
    import sys, time
    N = int(sys.argv[1])
    sys.setrecursionlimit(10**7)

    class A:
        def __repr__(self):
            return repr(self)

    gate = chan()
    back = chan(N)

    def parked(i):
        x = [i, i * 2, "v%d" % i]
        gate.recv()
        back.send(x == [i, i * 2, "v%d" % i])

    for i in range(N):
        go(parked, i)
    time.sleep(0.05)
    res = chan()

    def overflow():
        try:
            repr(A())
            res.send("returned")
        except RecursionError as e:
            res.send("RecursionError: %s" % e)
    for _ in range(3):
        go(overflow)
        print(res.recv())
    gate.close()
    print("neighbours intact:", all(back.recv() for _ in range(N)))

    def deep(n):
        return 0 if n == 0 else deep(n - 1) + 1
    go(lambda: res.send(deep(100000)))
    print("pure Python depth:", res.recv())
""")


def run(code, *args, env=None, timeout=300):
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as f:
        f.write(code)
    try:
        return subprocess.run([GPYTHON, f.name] + list(args),
                              capture_output=True, text=True,
                              timeout=timeout, env=env)
    finally:
        os.unlink(f.name)


class RecursionTest(unittest.TestCase):

    def check(self, n):
        r = run(OVERFLOW, str(n))
        self.assertEqual(r.returncode, 0, r.stderr[-2000:])
        lines = r.stdout.splitlines()
        self.assertEqual(len(lines), 5, r.stdout)
        for line in lines[:3]:
            self.assertTrue(line.startswith(
                "RecursionError: maximum recursion depth exceeded"), line)
        self.assertEqual(lines[3:], ["neighbours intact: True",
                                     "pure Python depth: 100000"])

    def test_few_goroutines(self):
        self.check(10)

    def test_beyond_guard_budget(self):
        # Past ~24,500 live goroutines stacks have no guard page: the
        # recursion check alone keeps the overflow inside.
        self.check(40000)

    def test_default_limit_as_python3(self):
        code = textwrap.dedent("""
            import threading
            n = [0]
            def f():
                n[0] += 1
                f()
            def run():
                try:
                    f()
                except RecursionError:
                    print(n[0])
            t = threading.Thread(target=run); t.start(); t.join()
        """)
        r = run(code)
        p = subprocess.run(["/usr/bin/python3", "-c", code],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(r.stdout, p.stdout)

    def test_small_stacks(self):
        env = dict(os.environ, GPYTHON_STACK_SIZE="256k")
        r = run(OVERFLOW, "10", env=env)
        self.assertEqual(r.returncode, 0, r.stderr[-2000:])
        self.assertIn("neighbours intact: True", r.stdout)


@unittest.skipIf(os.environ.get("GPY_SANITIZE") == "1",
                 "ASan reports the overflow itself")
class GuardPageTest(unittest.TestCase):
    """C recursion that CPython does not count (a C library's own) runs
    into the guard page: Go's report, status 2."""

    def test_report(self):
        cc = shutil.which("cc") or shutil.which("gcc")
        self.assertIsNotNone(cc, "a C compiler is a build dependency")
        d = tempfile.mkdtemp()
        src = os.path.join(d, "deep.c")
        lib = os.path.join(d, "libdeep.so")
        with open(src, "w") as f:
            f.write("int deep(int n) { volatile char buf[512]; buf[0] = n;"
                    " return n ? deep(n - 1) + buf[0] : 0; }\n")
        subprocess.run([cc, "-O0", "-shared", "-fPIC", "-o", lib, src],
                       check=True)
        code = textwrap.dedent("""
            import ctypes, time
            lib = ctypes.PyDLL(%r)
            def recurse_in_c():
                lib.deep(10**8)
            def started_here():
                recurse_in_c()
            go(started_here)
            time.sleep(5)
            print("not reached")
        """ % lib)
        r = run(code)
        shutil.rmtree(d)
        self.assertEqual(r.returncode, 2, r.stderr[-2000:])
        self.assertNotIn("not reached", r.stdout)
        self.assertIn("fatal error: stack overflow", r.stderr)
        self.assertRegex(r.stderr, r"goroutine \d+ \[running\]:")
        self.assertIn("in recurse_in_c", r.stderr)
        self.assertIn("in started_here", r.stderr)


if __name__ == "__main__":
    unittest.main()
