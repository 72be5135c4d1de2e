#!/usr/bin/python3
"""run_peer_suites.py: run goless's and pygolang's own Python tests under a
built gpython, against gpython's goless and golang (not theirs).

    tests/peers/run_peer_suites.py --gpython build/gpython \\
        [--goless CHECKOUT] [--pygolang CHECKOUT] [-k EXPR]

Needs pytest for /usr/bin/python3's site-packages (Debian: python3-pytest;
pygolang's tests also want python3-six and python3-py). Not part of the
default CTest run: the checkouts are not in this repository. The tests are
copied into a temporary directory without the peers' own packages, so that
`import goless` / `import golang` get gpython's.

goless: tests/ and examples/. pygolang: the Python-level test files of
golang/ (and golang/os/signal_test.py); files that need pygolang's compiled
Cython helpers fail to import and are reported as such.
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile

PYGOLANG_TESTS = [
    "golang_test.py", "sync_test.py", "context_test.py", "time_test.py",
    "errors_test.py", "fmt_test.py", "strconv_test.py", "golang_str_test.py",
    "golang_str_pickle_test.py", "io_test.py", "_gopath_test.py",
    "os/signal_test.py",
]

MOCK_CONFTEST = """\
import sys, unittest.mock
sys.modules.setdefault("mock", unittest.mock)   # goless's tests use mock
"""


# pygolang's test files import its compiled Cython helpers (and each other
# as golang.<x>_test) at the top: stand-ins let the rest of each file run;
# a test that calls a helper is skipped, saying which.
PYGOLANG_CONFTEST = """\
import importlib, importlib.abc, importlib.util, sys, types
import pytest
import golang

class _Helper(types.ModuleType):
    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        def needs_helper(*argv, **kw):
            pytest.skip("needs pygolang's compiled %s.%s" % (self.__name__, name))
        return needs_helper

for h in ("_golang_test", "_context", "_errors", "_fmt", "_sync_test",
          "_time_test", "_errors_test", "_fmt_test", "_strings_test",
          "_cxx_test", "_os_test", "_golang_str", "_golang_str_pickle"):
    if not hasattr(golang, h):
        m = _Helper("golang." + h)
        sys.modules["golang." + h] = m
        setattr(golang, h, m)

class _TestsAsGolang(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    # `from golang.golang_test import x`: the copied test file golang_test
    def find_spec(self, name, path, target=None):
        if name.startswith("golang.") and name.endswith("_test"):
            return importlib.util.spec_from_loader(name, self)
    def create_module(self, spec):
        return importlib.import_module(spec.name.split(".", 1)[1])
    def exec_module(self, module):
        pass

sys.meta_path.insert(0, _TestsAsGolang())
"""


def run(argv, cwd, timeout):
    print("$ " + " ".join(argv), flush=True)
    try:
        return subprocess.run(argv, cwd=cwd, timeout=timeout).returncode
    except subprocess.TimeoutExpired:
        print("timeout after %d s" % timeout)
        return 124


def goless_suite(gp, src, opts):
    with tempfile.TemporaryDirectory() as d:
        shutil.copytree(os.path.join(src, "tests"), os.path.join(d, "tests"))
        with open(os.path.join(d, "conftest.py"), "w") as f:
            f.write(MOCK_CONFTEST)
        rc = run([gp, "-m", "pytest", "-q", "-p", "no:cacheprovider"] +
                 opts + ["tests"], d, 600)
        ex = os.path.join(src, "examples")
        for name in sorted(os.listdir(ex)) if os.path.isdir(ex) else []:
            if name.endswith(".py"):
                r = run([gp, os.path.join(ex, name)], ex, 120)
                rc = rc or r
        return rc


def pygolang_suite(gp, src, opts):
    with tempfile.TemporaryDirectory() as d:
        t = os.path.join(d, "pygolang_tests")
        os.makedirs(os.path.join(t, "os"))
        files = []
        for rel in PYGOLANG_TESTS:
            p = os.path.join(src, "golang", rel)
            if os.path.exists(p):
                shutil.copy(p, os.path.join(t, rel))
                files.append(rel)
        for sub in ("testdata", "testprog"):
            p = os.path.join(src, "golang", sub)
            if os.path.isdir(p):
                shutil.copytree(p, os.path.join(t, sub))
        shutil.copy(os.path.join(src, "conftest.py"), d)
        with open(os.path.join(t, "conftest.py"), "w") as f:
            f.write(PYGOLANG_CONFTEST)
        return run([gp, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                    "-rfE", "--continue-on-collection-errors"] + opts + files,
                   t, 1800)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--gpython", required=True)
    ap.add_argument("--goless")
    ap.add_argument("--pygolang")
    ap.add_argument("-k", help="pytest -k expression")
    o = ap.parse_args()
    gp = os.path.abspath(o.gpython)
    opts = ["-k", o.k] if o.k else []
    rc = 0
    if o.goless:
        rc |= goless_suite(gp, os.path.abspath(o.goless), opts)
    if o.pygolang:
        rc |= pygolang_suite(gp, os.path.abspath(o.pygolang), opts)
    if not (o.goless or o.pygolang):
        ap.error("give --goless and/or --pygolang checkouts")
    return 1 if rc else 0


if __name__ == "__main__":
    sys.exit(main())
