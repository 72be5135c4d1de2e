# -*- coding: utf-8 -*-
# Tests of golang.testing (B, benchmark), the py.bench runner
# (golang.cmd.pybench), golang.x.perf.benchlib and golang.unicode.utf8.
# Runs under gpython.

import io, os, subprocess, sys, tempfile, textwrap, unittest

from golang import testing
from golang.unicode import utf8
from golang.x.perf import benchlib

HERE = os.path.dirname(os.path.abspath(__file__))
PYBENCH = os.path.join(os.path.dirname(sys.executable), "py.bench")


class TestBenchmark(unittest.TestCase):

    def test_grows_n_to_target(self):
        calls = []

        def f(b):
            calls.append(b.N)
            for i in range(b.N):
                pass
        r = testing.benchmark(f, 0.05)
        self.assertEqual(calls[0], 1)
        self.assertEqual(r.N, calls[-1])
        self.assertTrue(all(a < b for a, b in zip(calls, calls[1:])))
        self.assertGreaterEqual(r.T, 0.05 * 0.9)
        for n in calls:     # Go's round numbers: 1, 2, 3, 5 × 10^k
            s = str(n)
            self.assertIn(s[0], "1235")
            self.assertEqual(s[1:], "0" * (len(s) - 1))

    def test_timer(self):
        def f(b):
            b.stop_timer()
            sum(range(200000))      # setup: not counted
            b.start_timer()
        r = testing.benchmark(f, 0.01)
        self.assertLess(r.T, 0.01)  # only the timed part, which is empty
        b = testing.B()
        b.start_timer()
        b.reset_timer()
        self.assertLess(b.total_time(), 0.01)

    def test_stop(self):
        n = []
        r = testing.benchmark(lambda b: n.append(1) or testing._stopBenchmark)
        self.assertEqual((len(n), r.N), (1, 1))


class TestPyBench(unittest.TestCase):

    def setUp(self):
        self.d = tempfile.mkdtemp()
        with open(os.path.join(self.d, "bench_x.py"), "w") as f:
            f.write(textwrap.dedent("""\
                def bench_add(b):
                    x, y = 1, 2
                    for i in range(b.N):
                        x + y

                def bench_once():
                    sum(range(100))

                class BenchK:
                    def bench_m(self, b):
                        for i in range(b.N):
                            pass

                def helper(b):          # not a benchmark
                    raise AssertionError
                """))
        with open(os.path.join(self.d, "other.py"), "w") as f:
            f.write("def bench_hidden(b):\n    pass\n")   # not found in dirs
        with open(os.path.join(self.d, "bad_test.py"), "w") as f:
            f.write("def bench_fails(b):\n    1/0\n")

    def tearDown(self):
        import shutil
        shutil.rmtree(self.d)

    def pybench(self, *argv, cmd=None):
        cmd = cmd or [sys.executable, "-m", "golang.cmd.pybench"]
        return subprocess.run(cmd + list(argv), cwd=self.d,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              universal_newlines=True, timeout=120)

    def lines(self, out):
        return [l.split("\t") for l in out.splitlines()
                if l.startswith("Benchmark")]

    def test_format(self):
        r = self.pybench("--benchtime", "0.02s", "bench_x.py")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(r.stdout.startswith("pymod: bench_x.py\n"), r.stdout)
        v = self.lines(r.stdout)
        self.assertEqual([l[0].strip() for l in v],
                         ["Benchmarkadd", "Benchmarkonce",
                          "BenchmarkBenchK::bench_m"])
        for name, n, per in v:
            self.assertGreater(int(n), 0)
            self.assertTrue(per.endswith(" µs/op"), per)
            float(per.split()[0])
        self.assertEqual(v[1][1], "1")      # no b: once per round
        self.assertGreater(int(v[0][1]), 1000)

    def test_options(self):
        r = self.pybench("--benchtime", "7x", "--count", "3", "-k",
                         "add or bench_m", "bench_x.py")
        self.assertEqual(r.returncode, 0, r.stderr)
        v = self.lines(r.stdout)
        self.assertEqual([(l[0].strip(), l[1]) for l in v],
                         [("Benchmarkadd", "7")] * 3 +
                         [("BenchmarkBenchK::bench_m", "7")] * 3)
        r = self.pybench("--benchtime", "5x", "--forked", "-k", "not once",
                         "bench_x.py")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(len(self.lines(r.stdout)), 2)

    def test_directory_failure_and_status(self):
        r = self.pybench("--benchtime", "3x")   # the current directory
        self.assertEqual(r.returncode, 1)
        out = r.stdout
        self.assertIn("pymod: bad_test.py", out)
        self.assertIn("pymod: bench_x.py", out)
        self.assertNotIn("hidden", out)
        self.assertIn("Benchmarkfails\t[FAILED]", out.replace(" ", ""))
        self.assertIn("ZeroDivisionError", r.stderr)
        r = self.pybench("--forked", "--benchtime", "3x", "bad_test.py")
        self.assertEqual(r.returncode, 1)
        self.assertIn("ZeroDivisionError", r.stderr)
        self.assertEqual(self.pybench("-k", "nothing", "bench_x.py")
                         .returncode, 5)
        r = self.pybench("--benchtime", "zz", "bench_x.py")
        self.assertEqual(r.returncode, 2)
        self.assertIn("invalid benchtime", r.stderr)

    def test_command(self):
        if not os.path.exists(PYBENCH):
            self.skipTest("no py.bench beside %s" % sys.executable)
        r = self.pybench("--benchtime", "2x", "-k", "add", "bench_x.py",
                         cmd=[PYBENCH])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.lines(r.stdout)[0][1], "2")


DATA = """\
goos: linux
cpu: A
BenchmarkSend 100 2000 ns/op 16 B/op
BenchmarkSend 100 2.2 µs/op 16 B/op
BenchmarkSend 100 1800 ns/op 16 B/op  # comment
BenchmarkRecv-2 10 1.5 ms/op
cpu: B
BenchmarkSend 100 4000 ns/op
BenchmarkBad 100 7
not a line
*** neotest: node info
node: xyz
kernel: 6

cpu:
BenchmarkRecv-2 10 1 ms/op
"""


class TestBenchlib(unittest.TestCase):

    def test_parse(self):
        bl = benchlib.parse_benchline("BenchmarkX-4 12 3.5 µs/op 8 B/op")
        self.assertEqual((bl.name, bl.niter), ("X-4", 12))
        self.assertEqual([(m.value, str(m.unit)) for m in bl.measurev],
                         [(3.5e-6, "s/op"), (8, "B/op")])
        self.assertIsNone(benchlib.parse_benchline("BenchmarkX 1 2"))
        self.assertIsNone(benchlib.parse_benchline("Benchmark X y 1 s"))
        self.assertEqual(benchlib.parse_label("goos: linux"),
                         ("goos", "linux"))
        # what looks like a label but is not one by the format's rules
        for line in ("BenchmarkA::b 1 2 ns/op", "Key: v", "a b: c"):
            self.assertEqual(benchlib.parse_label(line), (None, None))
        self.assertEqual(benchlib.Unit("user-ms/op").normalize(),
                         (benchlib.Unit("user-s/op"), 1e-3))

    def test_load_group_stats(self):
        B, labels = benchlib.load(io.StringIO(DATA))
        self.assertEqual(len(B), 6)     # BenchmarkBad has no unit
        self.assertEqual(dict(labels), {"goos": "linux", "node": "xyz",
                                        "kernel": "6"})
        self.assertEqual(B[0].labels, {"goos": "linux", "cpu": "A"})
        self.assertEqual(list(B.byname()), ["Send", "Recv-2"])
        Bu = B.byunit()
        self.assertEqual([str(u) for u in Bu], ["s/op", "B/op"])
        Bl = Bu[benchlib.Unit("s/op")].bylabel(["cpu"])
        self.assertEqual(list(Bl), [(("cpu", "A"),), (("cpu", "B"),), ()])
        s = Bl[(("cpu", "A"),)].byname()["Send"].stats()
        self.assertAlmostEqual(s.avg, 2e-6)
        self.assertAlmostEqual(s.min, 1.8e-6)
        self.assertEqual((s.ninliers, s.noutliers, s.nsamples), (3, 0, 3))
        self.assertEqual(str(s), "2.00µs ±10%")
        us = Bl[(("cpu", "A"),)].byname()["Send"].convert_unit("µs/op")
        self.assertAlmostEqual(us[1].measurev[0].value, 2.2)
        with self.assertRaises(ValueError):
            B.convert_unit("ns/op")     # B/op does not convert
        with self.assertRaises(ValueError):
            B.stats()                   # two units

        B, labels, ext = benchlib.xload(io.StringIO(DATA))
        self.assertEqual(len(B), 6)     # BenchmarkBad has no unit
        self.assertEqual([dict(e) for e in ext],
                         [{"node": "xyz", "kernel": "6"}])
        self.assertNotIn("node", labels)

    def test_outliers_and_benchstat(self):
        B = benchlib.Benchmark()
        for v in (10, 11, 10, 12, 11, 100):
            B.append(benchlib.BenchLine("X", 1, [benchlib.Measure(
                v, benchlib.Unit("B/op"))]))
        s = B.stats()
        self.assertEqual((s.ninliers, s.noutliers), (5, 1))
        w = io.StringIO()
        benchlib.benchstat(w, B)
        self.assertEqual(w.getvalue().splitlines()[0], "name\t\t\t\tB/op")
        self.assertIn("(5/6)", w.getvalue())
        with tempfile.NamedTemporaryFile("w", suffix=".txt") as f:
            f.write(DATA)
            f.flush()
            r = subprocess.run([sys.executable, "-m",
                                "golang.x.perf.benchlib", f.name, "--split",
                                "cpu"], stdout=subprocess.PIPE,
                               universal_newlines=True, timeout=60)
        self.assertEqual(r.returncode, 0)
        self.assertIn("cpu:A", r.stdout)
        self.assertIn("Send", r.stdout)


class TestUTF8(unittest.TestCase):

    def test_decode(self):
        self.assertEqual(utf8.DecodeRune(b"\xd0\xbc\xd0\xb8"), (0x43c, 2))
        self.assertEqual(utf8.DecodeRune(b""), (utf8.RuneError, 0))
        self.assertEqual(utf8.DecodeRune(b"\xff"), (utf8.RuneError, 1))
        self.assertEqual(utf8.DecodeRune(b"\xe2\x82"), (utf8.RuneError, 1))
        self.assertEqual(utf8.DecodeRune(b"\xed\xa0\x80"), (utf8.RuneError, 1))
        self.assertEqual(utf8.DecodeRune(b"\xf0\x9f\x99\x8f"), (0x1f64f, 4))
        self.assertEqual(utf8.DecodeRune("мир"), (0x43c, 2))
        self.assertEqual(utf8.DecodeLastRune(b"a\xd1\x80"), (0x440, 2))
        self.assertEqual(utf8.DecodeLastRune(b"a\x80"), (utf8.RuneError, 1))
        self.assertEqual(utf8.DecodeLastRune(b""), (utf8.RuneError, 0))

    def test_encode_count_valid(self):
        self.assertEqual(utf8.EncodeRune(0x43c), b"\xd0\xbc")
        self.assertEqual(utf8.EncodeRune(0xd800), b"\xef\xbf\xbd")
        self.assertEqual(utf8.EncodeRune(-1), b"\xef\xbf\xbd")
        self.assertEqual(utf8.AppendRune(b"x", 0x61), b"xa")
        self.assertEqual([utf8.RuneLen(r) for r in
                          (0x61, 0x43c, 0x20ac, 0x1f64f, 0xd800, 0x110000)],
                         [1, 2, 3, 4, -1, -1])
        self.assertEqual(utf8.RuneCount(b"a\xffb\xd0\xbc"), 4)
        self.assertEqual(utf8.RuneCountInString("мир"), 3)
        self.assertTrue(utf8.Valid(b"\xef\xbf\xbd"))
        self.assertFalse(utf8.Valid(b"a\xc3("))
        self.assertTrue(utf8.ValidString("hello, мир"))
        self.assertFalse(utf8.ValidRune(0xdfff))
        self.assertTrue(utf8.ValidRune(utf8.MaxRune))
        self.assertTrue(utf8.FullRune(b"\xd0\xbc"))
        self.assertFalse(utf8.FullRune(b"\xd0"))
        self.assertFalse(utf8.FullRune(b"\xf0\x9f\x99"))
        self.assertTrue(utf8.FullRune(b"\xff"))
        self.assertFalse(utf8.RuneStart(0x80))
        self.assertEqual((utf8.RuneSelf, utf8.UTFMax), (0x80, 4))


if __name__ == "__main__":
    unittest.main()
