#!/usr/bin/python3
# test_cli: command-line parity of gpython with /usr/bin/python3 — both run as
# subprocesses on the same inputs; stdout, stderr and exit status must match
# once the executable's path is normalised.
#
#   /usr/bin/python3 tests/py/test_cli.py --gpython build/gpython [unittest args]
#   GPYTHON=build/gpython /usr/bin/python3 tests/py/test_cli.py
#
# With --gpython /usr/bin/python3 the parity checks pass trivially (a check of
# the harness itself); the gpython-only checks are then skipped.
import difflib
import errno
import json
import os
import pty
import re
import select
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
import unittest
import zipfile

PY = "/usr/bin/python3"
GPY = None          # absolute path of the gpython under test, set in main()
SELFCHECK = False   # GPY is python3 itself: skip gpython-only checks
HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "clitest_data")
PROBE = os.path.join(DATA, "probe.py")
with open(PROBE) as _f:
    PROBE_SRC = _f.read()
TIMEOUT = 30


def base_env(**extra):
    """The environment both interpreters run in: no PYTHON* variables and the
    C locale, where python3 turns UTF-8 mode on by itself just as gpython
    does always; extra entries are added (value None removes)."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("PYTHON") and not k.startswith("LC_")
           and k != "LANG"}
    env["LC_ALL"] = "C"
    env["TERM"] = "dumb"
    for k, v in extra.items():
        if v is None:
            env.pop(k, None)
        else:
            env[k] = v
    return env


def normalise(text, exe):
    """Replace the interpreter's path (as given and resolved) by <python>."""
    names = {exe, os.path.realpath(exe)}
    for name in sorted(names, key=len, reverse=True):
        text = text.replace(name, "<python>")
    return text


class Result:
    def __init__(self, exe, proc, out, err):
        self.exe = exe
        self.returncode = proc.returncode
        self.raw_out = out
        self.raw_err = err
        self.out = normalise(out.decode("utf-8", "backslashreplace"), exe)
        self.err = normalise(err.decode("utf-8", "backslashreplace"), exe)

    def __repr__(self):
        return "<%s rc=%r\n--- stdout:\n%s\n--- stderr:\n%s>" % (
            self.exe, self.returncode, self.out, self.err)


def run(exe, args, input=None, env=None, cwd=None, timeout=TIMEOUT,
        stdin=None):
    """Run exe with args, return a Result. input is bytes/str for stdin."""
    if isinstance(input, str):
        input = input.encode()
    if stdin is None:
        stdin = subprocess.PIPE if input is not None else subprocess.DEVNULL
    proc = subprocess.Popen([exe] + list(args), stdin=stdin,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=env if env is not None else base_env(),
                            cwd=cwd)
    try:
        out, err = proc.communicate(input, timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        raise AssertionError("%s %r timed out after %ss\nstdout: %r\n"
                             "stderr: %r" % (exe, args, timeout, out, err))
    return Result(exe, proc, out, err)


def is_subsequence(short, long):
    it = iter(long)
    return all(e in it for e in short)


def diff(a, b):
    return "".join(difflib.unified_diff(
        a.splitlines(True), b.splitlines(True), "python3", "gpython"))


class CLITestCase(unittest.TestCase):
    maxDiff = None

    def both(self, args, **kw):
        """Run python3 and gpython on the same arguments."""
        return run(PY, args, **kw), run(GPY, args, **kw)

    def assertSame(self, p, g, what=("returncode", "out", "err")):
        for attr in what:
            a, b = getattr(p, attr), getattr(g, attr)
            if a != b:
                msg = "%s differs:\n" % attr
                if isinstance(a, str):
                    msg += diff(a, b)
                else:
                    msg += "python3: %r\ngpython: %r" % (a, b)
                msg += "\n\npython3 %r\n\ngpython %r" % (p, g)
                self.fail(msg)

    def parity(self, args, what=("returncode", "out", "err"), **kw):
        p, g = self.both(args, **kw)
        self.assertSame(p, g, what)
        return p, g

    def probe(self, args, drop=("hash", "path"), expect_rc=0, **kw):
        """Run args (which must run the probe) under both, compare the probes
        with the keys in drop removed; return both probe dicts."""
        p, g = self.both(args, **kw)
        self.assertSame(p, g, ("returncode", "err"))
        self.assertEqual(p.returncode, expect_rc, p)
        dp, dg = json.loads(p.out), json.loads(g.out)
        for k in drop:
            dp.pop(k, None)
            dg.pop(k, None)
        # orig_argv[0] is the interpreter as invoked
        for d, exe in ((dp, PY), (dg, GPY)):
            d["orig_argv"] = [normalise(a, exe) for a in d["orig_argv"]]
        if dp != dg:
            lines = ["%s: python3=%r gpython=%r" % (k, dp.get(k), dg.get(k))
                     for k in sorted(set(dp) | set(dg))
                     if dp.get(k) != dg.get(k)]
            shown = ["<probe.py>" if a == PROBE_SRC else a for a in args]
            self.fail("probe differs for %r:\n%s" % (shown,
                                                     "\n".join(lines)))
        return json.loads(p.out), json.loads(g.out)

    def gpython_only(self):
        if SELFCHECK:
            self.skipTest("gpython-only check (running against python3)")

    def tmpdir(self):
        d = tempfile.mkdtemp(prefix="gpy-cli-")
        self.addCleanup(shutil.rmtree, d, True)
        return d

    def write(self, path, text, mode=None):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)
        if mode is not None:
            os.chmod(path, mode)
        return path


# ---------------------------------------------------------------------------
class TestRunModes(CLITestCase):
    """Where the program comes from: script, -c, -m, stdin, dir, zip."""

    def test_script_with_args(self):
        dp, _ = self.probe([PROBE, "a", "b c", "-O", "--x", "-c", ""])
        self.assertEqual(dp["argv"], [PROBE, "a", "b c", "-O", "--x", "-c",
                                      ""])
        self.assertEqual(dp["path0"], DATA)
        self.assertEqual(dp["name"], "__main__")
        self.assertEqual(dp["main_file"], PROBE)

    def test_script_relative_path(self):
        dp, _ = self.probe(["clitest_data/probe.py", "x"], cwd=HERE)
        self.assertEqual(dp["argv"], ["clitest_data/probe.py", "x"])
        self.assertEqual(dp["path0"], DATA)

    def test_double_dash_ends_options(self):
        dp, _ = self.probe(["--", PROBE, "-v"])
        self.assertEqual(dp["argv"], [PROBE, "-v"])

    def test_c(self):
        dp, _ = self.probe(["-c", PROBE_SRC, "a", "-b", "--"])
        self.assertEqual(dp["argv"], ["-c", "a", "-b", "--"])
        self.assertEqual(dp["path0"], "")
        self.assertIsNone(dp["main_file"])

    def test_c_attached_to_other_options(self):
        self.parity(["-Sc", "import sys; print(sys.argv, 'site' in "
                     "sys.modules)", "x"])

    def test_m_module_with_args(self):
        d = self.tmpdir()
        mod = self.write(os.path.join(d, "probemod.py"), PROBE_SRC)
        dp, _ = self.probe(["-m", "probemod", "a", "-c", "b"], cwd=d)
        self.assertEqual(dp["argv"], [mod, "a", "-c", "b"])
        self.assertEqual(dp["path0"], d)
        self.assertEqual(dp["main_file"], mod)
        self.assertEqual(dp["main_spec"], "probemod")

    def test_m_attached(self):
        d = self.tmpdir()
        self.write(os.path.join(d, "probemod.py"), PROBE_SRC)
        self.probe(["-mprobemod", "z"], cwd=d)

    def test_m_package_main(self):
        d = self.tmpdir()
        self.write(os.path.join(d, "pkg", "__init__.py"), "")
        main = self.write(os.path.join(d, "pkg", "__main__.py"), PROBE_SRC)
        dp, _ = self.probe(["-m", "pkg", "q"], cwd=d)
        self.assertEqual(dp["argv"], [main, "q"])
        self.assertEqual(dp["main_spec"], "pkg.__main__")

    def test_m_stdlib_module(self):
        self.parity(["-m", "json.tool", "--sort-keys"],
                    input='{"b": [1, 2], "a": "\u00e9"}')

    def test_m_missing(self):
        p, _ = self.parity(["-m", "no_such_module_gpy"])
        self.assertEqual(p.returncode, 1)

    def test_m_package_without_main(self):
        self.parity(["-m", "email"])

    def test_stdin_dash_with_args(self):
        dp, _ = self.probe(["-", "a", "b"], input=PROBE_SRC)
        self.assertEqual(dp["argv"], ["-", "a", "b"])
        self.assertEqual(dp["path0"], "")

    def test_stdin_piped_no_args(self):
        dp, _ = self.probe([], input=PROBE_SRC)
        self.assertEqual(dp["argv"], [""])

    def test_stdin_exception(self):
        p, _ = self.parity([], input="print('before')\n"
                                     "def f():\n    1/0\nf()\n")
        self.assertEqual(p.returncode, 1)

    def test_directory_with_main(self):
        d = self.tmpdir()
        self.write(os.path.join(d, "app", "__main__.py"), PROBE_SRC)
        app = os.path.join(d, "app")
        dp, _ = self.probe([app, "arg"])
        self.assertEqual(dp["argv"], [app, "arg"])
        self.assertEqual(dp["path0"], app)

    def test_zip_with_main(self):
        d = self.tmpdir()
        zpath = os.path.join(d, "app.pyz")
        with zipfile.ZipFile(zpath, "w") as z:
            z.writestr("__main__.py", PROBE_SRC)
            z.writestr("helper.py", "X = 42\n")
        dp, _ = self.probe([zpath, "arg"])
        self.assertEqual(dp["argv"], [zpath, "arg"])
        self.assertEqual(dp["path0"], zpath)
        self.parity([zpath], what=("returncode",))
        self.parity(["-c", "import sys; sys.path.insert(0, %r); "
                     "import helper; print(helper.X)" % zpath])

    def test_directory_without_main(self):
        d = self.tmpdir()
        p, _ = self.parity([d])
        self.assertEqual(p.returncode, 1)

    def test_missing_script(self):
        p, _ = self.parity(["/nonexistent/gpy_script.py"])
        self.assertEqual(p.returncode, 2)

    def test_x_skips_first_line(self):
        d = self.tmpdir()
        script = self.write(os.path.join(d, "s.py"),
                            "this is not python @@@\n"
                            "import sys\n"
                            "print('line', sys._getframe().f_lineno)\n"
                            "raise ValueError('x')\n")
        p, _ = self.parity(["-x", script])
        self.assertIn("line", p.out)
        self.assertEqual(p.returncode, 1)
        p, _ = self.parity([script])    # without -x: SyntaxError
        self.assertIn("SyntaxError", p.err)


# ---------------------------------------------------------------------------
class TestInteractiveNoTTY(CLITestCase):
    """-i and the REPL with stdin a pipe (prompts go to stderr)."""

    def test_i_after_c(self):
        p, _ = self.parity(["-i", "-c", "x = 21"], input="print(x * 2)\n")
        self.assertIn("42", p.out)

    def test_i_after_script(self):
        d = self.tmpdir()
        script = self.write(os.path.join(d, "s.py"), "y = 'from script'\n")
        p, _ = self.parity(["-i", script], input="print(y)\n1 + 1\n")
        self.assertIn("from script", p.out)

    def test_i_after_exception(self):
        p, _ = self.parity(["-i", "-c", "raise ValueError('v')"],
                           input="print('still here')\n")
        self.assertIn("still here", p.out)

    def test_i_after_sys_exit(self):
        self.parity(["-i", "-c", "import sys; sys.exit(5)"],
                    input="print('inspect')\n")

    def test_i_alone_banner_and_prompts(self):
        p, _ = self.parity(["-i"], input="print(3)\nx = 4\nx\n")
        self.assertIn(">>> ", p.err)

    def test_q_suppresses_banner(self):
        p, _ = self.parity(["-q", "-i"], input="print(3)\n")
        self.assertNotIn("Type \"help\"", p.err)

    def test_i_exit_code(self):
        p, _ = self.parity(["-i"], input="import sys\nsys.exit(7)\n")
        self.assertEqual(p.returncode, 7)

    def test_i_multiline_and_error(self):
        self.parity(["-i"], input="def f(a):\n    return a * 3\n\n"
                                  "f(2)\nundefined_name\nf('z')\n")

    def test_pythonstartup(self):
        d = self.tmpdir()
        st = self.write(os.path.join(d, "startup.py"), "STARTED = 'yes'\n")
        p, _ = self.parity(["-i"], input="print(STARTED)\n",
                           env=base_env(PYTHONSTARTUP=st))
        self.assertIn("yes", p.out)

    def test_pythoninspect(self):
        self.parity(["-c", "z = 9"], input="print(z)\n",
                    env=base_env(PYTHONINSPECT="1"))


# ---------------------------------------------------------------------------
class TestExitStatus(CLITestCase):

    def test_sys_exit_codes(self):
        for code, rc in (("3", 3), ("'msg'", 1), ("None", 0), ("0", 0),
                         ("256", 0), ("-1", 255), ("True", 1),
                         ("[1, 2]", 1)):
            with self.subTest(code=code):
                p, _ = self.parity(["-c", "import sys; sys.exit(%s)" % code])
                self.assertEqual(p.returncode, rc)

    def test_sys_exit_message_stderr(self):
        p, _ = self.parity(["-c", "import sys; print('out'); "
                            "sys.exit('bye bye')"])
        self.assertEqual(p.err, "bye bye\n")

    def test_systemexit_raised_in_c(self):
        p, _ = self.parity(["-c", "raise SystemExit(4)"])
        self.assertEqual(p.returncode, 4)

    def test_exit_in_finally_and_atexit(self):
        self.parity(["-c", "import atexit, sys\n"
                     "atexit.register(print, 'atexit')\n"
                     "try:\n    sys.exit(6)\nfinally:\n    print('finally')"])

    def test_uncaught_exception_script(self):
        d = self.tmpdir()
        script = self.write(os.path.join(d, "boom.py"),
                            "def inner(x):\n"
                            "    return {'a': 1}[x]\n"
                            "def outer():\n"
                            "    try:\n"
                            "        inner('b')\n"
                            "    except KeyError as e:\n"
                            "        raise RuntimeError('chained') from e\n"
                            "print('start')\n"
                            "outer()\n")
        p, _ = self.parity([script])
        self.assertEqual(p.returncode, 1)
        self.assertIn("Traceback (most recent call last)", p.err)
        self.assertIn("RuntimeError: chained", p.err)

    def test_uncaught_exception_c(self):
        p, _ = self.parity(["-c", "x = [1]\nx[5]"])
        self.assertIn("IndexError", p.err)

    def test_exception_in_m(self):
        d = self.tmpdir()
        self.write(os.path.join(d, "bad.py"), "import json\n"
                   "json.loads('{bad')\n")
        p, _ = self.parity(["-m", "bad"], cwd=d)
        self.assertEqual(p.returncode, 1)

    def test_syntax_error_script(self):
        d = self.tmpdir()
        script = self.write(os.path.join(d, "syn.py"),
                            "print('never')\nx = (1,\ny = ]\n")
        p, _ = self.parity([script])
        self.assertEqual(p.returncode, 1)
        self.assertIn("SyntaxError", p.err)
        self.assertEqual(p.out, "")

    def test_indentation_error_script(self):
        d = self.tmpdir()
        script = self.write(os.path.join(d, "ind.py"),
                            "if 1:\nprint('x')\n")
        self.parity([script])

    def test_syntax_error_c(self):
        p, _ = self.parity(["-c", "1 +* 2"])
        self.assertEqual(p.returncode, 1)

    def test_raised_keyboardinterrupt(self):
        p, _ = self.parity(["-c", "raise KeyboardInterrupt"])
        self.assertEqual(p.returncode, -signal.SIGINT)

    def test_unicode_output_and_error(self):
        self.parity(["-c", "print('h\u00e9llo \u4e16\u754c'); "
                     "raise ValueError('\u00e9')"])


def wait_sleeping(pid, timeout):
    """Wait until process pid sleeps in the kernel (state S: its blocking
    call), at most timeout seconds (a busy loop never does)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with open("/proc/%d/stat" % pid) as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
        except OSError:
            return
        if state == "S":
            return
        time.sleep(0.01)


# ---------------------------------------------------------------------------
class TestSignals(CLITestCase):
    """SIGINT delivered to a child blocked in various ways: python3 dies with
    KeyboardInterrupt's traceback and the SIGINT status; so must gpython."""

    def interrupt(self, exe, code, stdin=subprocess.DEVNULL, blocks=True):
        proc = subprocess.Popen([exe, "-c", code], stdin=stdin,
                                stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, env=base_env())
        try:
            line = proc.stdout.readline()
            self.assertEqual(line, b"ready\n", "%s did not start" % exe)
            time.sleep(0.3)     # let it enter the blocking call
            if blocks:      # (a loaded machine is slower)
                wait_sleeping(proc.pid, 3.0)
            proc.send_signal(signal.SIGINT)
            out, err = proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
            self.fail("%s ignored SIGINT in %r\nstderr: %r" % (exe, code,
                                                                err))
        finally:
            if proc.stdin:
                proc.stdin.close()
        return Result(exe, proc, line + out, err)

    def check(self, code, full_stderr=True, stdin=subprocess.DEVNULL,
              blocks=True):
        code = "import sys\nprint('ready', flush=True)\n" + code
        p = self.interrupt(PY, code, stdin, blocks)
        g = self.interrupt(GPY, code, stdin, blocks)
        self.assertEqual(p.returncode, -signal.SIGINT, p)
        if full_stderr:
            self.assertSame(p, g)
        else:
            self.assertSame(p, g, ("returncode", "out"))
            self.assertEqual(p.err.splitlines()[-1:],
                             g.err.splitlines()[-1:], g)
        self.assertTrue(g.err.endswith("KeyboardInterrupt\n"), g)

    def test_busy_loop(self):
        self.check("while True: pass", blocks=False)

    def test_sleep(self):
        self.check("import time\ntime.sleep(100)")

    def test_pipe_read(self):
        self.check("sys.stdin.buffer.raw.read(10)", stdin=subprocess.PIPE)

    def test_select(self):
        self.check("import select, os\nr, w = os.pipe()\n"
                   "select.select([r], [], [])")

    def test_lock_acquire(self):
        # with a timeout: a wait nothing can end is a deadlock for gpython
        # (fatal error, status 2), see test_builtins_api
        self.check("import threading\nthreading.Event().wait(100)",
                   full_stderr=False)
        self.check("import threading\nlk = threading.Lock()\nlk.acquire()\n"
                   "lk.acquire(timeout=100)")

    def test_handled_keyboardinterrupt(self):
        # a handler that catches the interrupt keeps running and exits 0
        code = ("import time\ntry:\n    time.sleep(100)\n"
                "except KeyboardInterrupt:\n    print('caught')\n")
        p, g = (self.interrupt(e, "print('ready', flush=True)\n" + code)
                for e in (PY, GPY))
        self.assertSame(p, g)
        self.assertEqual(g.out, "ready\ncaught\n")

    def test_custom_handler(self):
        code = ("import signal, time\n"
                "signal.signal(signal.SIGINT, lambda *a: print('handler',"
                " flush=True) or sys.exit(9))\n"
                "time.sleep(100)\n")
        p = self.interrupt(PY, "import sys\nprint('ready', flush=True)\n"
                           + code)
        g = self.interrupt(GPY, "import sys\nprint('ready', flush=True)\n"
                           + code)
        self.assertEqual(p.returncode, 9)
        self.assertSame(p, g)


# ---------------------------------------------------------------------------
class TestOptions(CLITestCase):
    """Every option python3 3.11 accepts, checked by its visible effect."""

    def test_flags_of_each_option(self):
        for opts in (["-b"], ["-bb"], ["-B"], ["-d"], ["-E"], ["-I"],
                     ["-O"], ["-OO"], ["-P"], ["-q"], ["-s"], ["-S"],
                     ["-u"], ["-v"], ["-vv"], ["-R"], ["-t"],
                     ["-W", "error"], ["-Wignore::DeprecationWarning",
                                       "-W", "always"],
                     ["-X", "dev"], ["-X", "utf8"], ["-X", "utf8=0"],
                     ["-X", "faulthandler"], ["-X", "tracemalloc"],
                     ["-X", "int_max_str_digits=1000"],
                     ["-X", "warn_default_encoding"],
                     ["-X", "frozen_modules=off"],
                     ["-X", "no_debug_ranges"], ["-X", "a", "-Xb=c"],
                     ["--check-hash-based-pycs", "always"],
                     ["--check-hash-based-pycs", "never"],
                     ["-OObBsSu"], ["-I", "-X", "dev", "-W", "default"]):
            with self.subTest(opts=opts):
                # -v chatter on stderr differs with what each imports;
                # it is checked separately below
                if any(o.startswith("-v") for o in opts):
                    p, g = self.both(opts + ["-c", PROBE_SRC])
                    self.assertEqual(p.returncode, 0, p)
                    self.assertEqual(g.returncode, 0, g)
                    dp, dg = json.loads(p.out), json.loads(g.out)
                    self.assertEqual(dp["flags"], dg["flags"])
                    continue
                self.probe(opts + ["-c", PROBE_SRC])
                self.probe(opts + [PROBE, "arg"])

    def test_option_values(self):
        dp, _ = self.probe(["-OO", "-c", PROBE_SRC])
        self.assertIsNone(dp["doc"])
        self.assertFalse(dp["debug"])
        self.assertFalse(dp["asserts"])
        dp, _ = self.probe(["-O", "-c", PROBE_SRC])
        self.assertEqual(dp["doc"], "docstring kept unless -OO")
        self.assertFalse(dp["debug"])
        dp, _ = self.probe(["-c", PROBE_SRC])
        self.assertTrue(dp["debug"])
        self.assertTrue(dp["asserts"])
        self.assertEqual(dp["doc"], "docstring kept unless -OO")
        dp, _ = self.probe(["-B", "-c", PROBE_SRC])
        self.assertTrue(dp["dont_write_bytecode"])
        dp, _ = self.probe(["-W", "error", "-Wd", "-c", PROBE_SRC])
        self.assertEqual(dp["warnoptions"], ["error", "d"])
        dp, _ = self.probe(["-X", "a", "-Xb=c", "-c", PROBE_SRC])
        self.assertEqual(dp["xoptions"], {"a": True, "b": "c"})
        dp, _ = self.probe(["-S", "-c", PROBE_SRC])
        self.assertFalse(dp["site_imported"])
        dp, _ = self.probe(["-s", "-c", PROBE_SRC])
        self.assertFalse(dp["user_site"])
        dp, _ = self.probe(["-P", PROBE])
        self.assertNotEqual(dp["path0"], DATA)
        dp, _ = self.probe(["-I", PROBE])
        self.assertNotEqual(dp["path0"], DATA)
        dp, _ = self.probe(["--check-hash-based-pycs", "always", "-c",
                            PROBE_SRC])
        self.assertEqual(dp["check_hash_based_pycs"], "always")
        dp, _ = self.probe(["-X", "int_max_str_digits=1000", "-c",
                            PROBE_SRC])
        self.assertEqual(dp["int_max_str_digits"], 1000)
        dp, _ = self.probe(["-X", "faulthandler", "-c", PROBE_SRC])
        self.assertTrue(dp["faulthandler"])

    def test_sys_path_contains_python3s(self):
        # gpython may add its own entries, but must keep python3's
        for args in (["-c", PROBE_SRC], [PROBE], ["-I", "-c", PROBE_SRC],
                     ["-S", "-c", PROBE_SRC]):
            with self.subTest(args=args):
                p, g = self.both(args)
                pp = json.loads(p.out)["path"]
                gp = json.loads(g.out)["path"]
                self.assertTrue(is_subsequence(pp, gp),
                                "python3 %r\ngpython %r" % (pp, gp))
                self.assertEqual(pp[0], gp[0])

    def test_env_variables(self):
        d = self.tmpdir()
        for env in ({"PYTHONDONTWRITEBYTECODE": "1"},
                    {"PYTHONOPTIMIZE": "2"},
                    {"PYTHONWARNINGS": "error::UserWarning,ignore"},
                    {"PYTHONPATH": d + ":/nonexistent"},
                    {"PYTHONSAFEPATH": "1"}, {"PYTHONNOUSERSITE": "1"},
                    {"PYTHONUNBUFFERED": "1"}, {"PYTHONDEVMODE": "1"},
                    {"PYTHONINTMAXSTRDIGITS": "700"},
                    {"PYTHONHASHSEED": "0"}, {"PYTHONHASHSEED": "1234"},
                    {"PYTHONFAULTHANDLER": "1"},
                    {"PYTHONWARNDEFAULTENCODING": "1"},
                    {"PYTHONIOENCODING": "latin-1:replace"}):
            with self.subTest(env=env):
                drop = ("path",) if "PYTHONHASHSEED" in env else \
                    ("path", "hash")
                self.probe(["-c", PROBE_SRC], drop=drop,
                           env=base_env(**env))
                # -E and -I ignore them all
                self.probe(["-E", "-c", PROBE_SRC], env=base_env(**env))
                self.probe(["-I", "-c", PROBE_SRC], env=base_env(**env))
        dp, dg = self.probe(["-c", PROBE_SRC], env=base_env(PYTHONPATH=d))
        self.assertEqual(dp["path"][:2], ["", d])
        self.assertEqual(dg["path"][:2], ["", d])
        self.assertTrue(is_subsequence(dp["path"], dg["path"]))

    def test_B_writes_no_bytecode(self):
        for exe in (PY, GPY):
            for opts, written in (([], True), (["-B"], False)):
                with self.subTest(exe=exe, opts=opts):
                    d = self.tmpdir()
                    self.write(os.path.join(d, "somemod.py"), "X = 1\n")
                    r = run(exe, opts + ["-c", "import somemod"], cwd=d)
                    self.assertEqual(r.returncode, 0, r)
                    self.assertEqual(
                        os.path.isdir(os.path.join(d, "__pycache__")),
                        written, exe)

    def test_bytes_warning(self):
        code = "print(str(b'x') == \"b'x'\")"
        self.parity(["-c", code])
        self.parity(["-b", "-c", code])
        p, _ = self.parity(["-bb", "-c", code])
        self.assertIn("BytesWarning", p.err)

    def test_W_error_and_filters(self):
        code = ("import warnings\nwarnings.warn('careful', UserWarning)\n"
                "print('after')")
        self.parity(["-c", code])
        p, _ = self.parity(["-W", "error", "-c", code])
        self.assertEqual(p.returncode, 1)
        self.parity(["-W", "ignore", "-c", code])
        self.parity(["-W", "bogus_action", "-c", code])
        self.parity(["-W", "error::NoSuchWarningClass", "-c", code])

    def test_O_removes_asserts(self):
        self.parity(["-O", "-c", "assert False, 'x'; print(__debug__)"])
        p, _ = self.parity(["-c", "assert False, 'x'"])
        self.assertIn("AssertionError: x", p.err)

    def test_u_unbuffered_interleaving(self):
        code = ("import sys\nprint('o1')\nsys.stderr.write('e1\\n')\n"
                "print('o2')\nsys.stderr.write('e2\\n')\n")
        for opts in ([], ["-u"]):
            with self.subTest(opts=opts):
                outs = []
                for exe in (PY, GPY):
                    r = subprocess.run([exe] + opts + ["-c", code],
                                       stdout=subprocess.PIPE,
                                       stderr=subprocess.STDOUT,
                                       env=base_env(), timeout=TIMEOUT)
                    outs.append(r.stdout)
                self.assertEqual(outs[0], outs[1])
        self.assertEqual(outs[0], b"o1\ne1\no2\ne2\n")

    def test_v_traces_imports(self):
        for exe in (PY, GPY):
            r = run(exe, ["-v", "-c", "import json"])
            self.assertEqual(r.returncode, 0, r)
            self.assertRegex(r.err, r"(?m)^import 'json' # ")
            self.assertIn("# cleanup", r.err)
            r = run(exe, ["-c", "import json"])
            self.assertNotIn("import 'json'", r.err)

    def test_X_importtime(self):
        for exe in (PY, GPY):
            r = run(exe, ["-X", "importtime", "-c", "import json"])
            self.assertEqual(r.returncode, 0, r)
            self.assertIn("import time: self [us] | cumulative", r.err)
            self.assertRegex(r.err, r"(?m)\|\s+json$")

    def test_X_dev_shows_warnings(self):
        self.parity(["-X", "dev", "-c", "import warnings; "
                     "warnings.warn('dep', DeprecationWarning)"])

    def test_X_int_max_str_digits_effect(self):
        p, _ = self.parity(["-X", "int_max_str_digits=640", "-c",
                            "print(len(str(10**700)))"])
        self.assertIn("ValueError", p.err)

    def test_E_ignores_pythonpath(self):
        d = self.tmpdir()
        self.write(os.path.join(d, "onlyhere.py"), "print('imported')\n")
        env = base_env(PYTHONPATH=d)
        p, _ = self.parity(["-c", "import onlyhere"], env=env)
        self.assertEqual(p.out, "imported\n")
        p, _ = self.parity(["-E", "-c", "import onlyhere"], env=env)
        self.assertIn("ModuleNotFoundError", p.err)

    def test_I_ignores_script_dir_and_env(self):
        d = self.tmpdir()
        self.write(os.path.join(d, "sibling.py"), "print('sibling')\n")
        script = self.write(os.path.join(d, "main.py"), "import sibling\n")
        p, _ = self.parity([script])
        self.assertEqual(p.out, "sibling\n")
        p, _ = self.parity(["-I", script])
        self.assertIn("ModuleNotFoundError", p.err)
        p, _ = self.parity(["-P", script])
        self.assertIn("ModuleNotFoundError", p.err)

    def test_hash_seed(self):
        env = base_env(PYTHONHASHSEED="42")
        self.parity(["-c", "print(hash('gpython'), {'a', 'b', 'c', 'd'})"],
                    env=env)

    def test_help_outputs(self):
        for opt in ("-h", "--help", "-?", "--help-env", "--help-xoptions",
                    "--help-all"):
            with self.subTest(opt=opt):
                p, _ = self.parity([opt])
                self.assertEqual(p.returncode, 0)
                if opt in ("-h", "--help", "-?", "--help-all"):
                    self.assertIn("usage: <python> ", p.out)

    def test_version(self):
        for opt in ("-V", "--version"):
            with self.subTest(opt=opt):
                p, _ = self.parity([opt])
                self.assertEqual(p.out, "Python 3.11.2\n")

    def test_version_verbose(self):
        # -VV keeps python3's line and names gpython
        p, g = self.both(["-VV"])
        self.assertEqual(p.returncode, 0)
        self.assertEqual(g.returncode, 0, g)
        self.assertEqual(g.err, p.err)
        self.assertTrue(g.out.startswith(p.out), "%r\n%r" % (p.out, g.out))
        self.gpython_only()
        self.assertIn("gpython", g.out.lower())

    def test_bad_options(self):
        for args in (["-z"], ["--xyz"], ["-J"], ["-3", "-c", "1"], ["-U"],
                     ["-c"], ["-m"], ["-W"], ["-X"],
                     ["--check-hash-based-pycs"],
                     ["--check-hash-based-pycs", "sometimes", "-c", "1"],
                     ["-O", "-Z", "-c", "1"], ["--help-nothing"],
                     ["--version=3"]):
            with self.subTest(args=args):
                p, _ = self.parity(args)
                self.assertEqual(p.returncode, 2)


# ---------------------------------------------------------------------------
class TestEncoding(CLITestCase):

    def enc_probe(self, opts, env):
        return self.probe(opts + ["-c", PROBE_SRC], env=env)

    def test_utf8_in_c_locale(self):
        for env in (base_env(),
                    base_env(LC_ALL=None, LANG="C"),
                    base_env(LC_ALL=None, LANG=None, LC_CTYPE="POSIX")):
            with self.subTest(env={k: env.get(k) for k in
                                   ("LC_ALL", "LANG", "LC_CTYPE")}):
                dp, _ = self.enc_probe([], env)
                self.assertIn("utf8_mode=1", dp["flags"])
                self.assertEqual(dp["stdout"][0], "utf-8")
                p, _ = self.parity(["-c", "print('\u00e9\u4e16')"], env=env)
                self.assertEqual(p.raw_out, "\u00e9\u4e16\n".encode())

    def test_utf8_disabled(self):
        for env in (base_env(), base_env(LC_ALL=None, LANG="C"),
                    base_env(LC_ALL="C.UTF-8")):
            for opts, extra in (([], {"PYTHONUTF8": "0"}),
                                (["-X", "utf8=0"], {}),
                                (["-X", "utf8=0"], {"PYTHONUTF8": "1"}),
                                (["-X", "utf8=0", "-E"], {})):
                e = dict(env, **extra)
                with self.subTest(opts=opts, env=extra, lc=env.get("LC_ALL")):
                    dp, _ = self.enc_probe(opts, e)
                    self.assertIn("utf8_mode=0", dp["flags"])
                    self.parity(opts + ["-c", "print('\u00e9')"], env=e)

    def test_utf8_env_ignored_with_E(self):
        # -E ignores PYTHONUTF8=0: back to each interpreter's default, which
        # for gpython is UTF-8 mode on whatever the locale
        for lc in ("C", "C.UTF-8"):
            with self.subTest(lc=lc):
                env = base_env(LC_ALL=lc, PYTHONUTF8="0")
                if lc == "C":
                    self.enc_probe(["-E"], env)
                self.gpython_only()
                g = run(GPY, ["-E", "-c", "import sys; "
                              "print(sys.flags.utf8_mode)"], env=env)
                self.assertEqual((g.returncode, g.out), (0, "1\n"), g)

    def test_utf8_default_under_utf8_locale(self):
        # python3 leaves UTF-8 mode off under a UTF-8 locale; gpython turns
        # it on always
        env = base_env(LC_ALL="C.UTF-8")
        g = run(GPY, ["-c", "import sys, locale; print(sys.flags.utf8_mode,"
                      " sys.stdout.encoding, locale.getpreferredencoding("
                      "False))"], env=env)
        self.assertEqual(g.returncode, 0, g)
        self.gpython_only()
        self.assertEqual(g.out, "1 utf-8 utf-8\n")


# ---------------------------------------------------------------------------
class TestExecutable(CLITestCase):

    def test_sys_executable_absolute(self):
        r = run(GPY, ["-c", "import sys; print(sys.executable)"])
        self.assertEqual(r.raw_out.decode().strip(), GPY)

    def test_sys_executable_relative_invocation(self):
        d, name = os.path.split(GPY)
        r = subprocess.run(["./" + name, "-c",
                            "import sys; print(sys.executable)"],
                           cwd=d, env=base_env(), stdout=subprocess.PIPE,
                           timeout=TIMEOUT, executable=GPY)
        self.assertEqual(r.stdout.decode().strip(), GPY)

    def test_sys_executable_via_path(self):
        bindir = self.path_dir()
        env = base_env(PATH=bindir + os.pathsep + os.environ["PATH"])
        r = subprocess.run(["gpython", "-c",
                            "import sys; print(sys.executable)"],
                           env=env, stdout=subprocess.PIPE, timeout=TIMEOUT)
        self.assertEqual(r.stdout.decode().strip(),
                         os.path.join(bindir, "gpython"))

    def test_child_has_builtins(self):
        self.gpython_only()
        code = ("import subprocess, sys\n"
                "r = subprocess.run([sys.executable, '-c', "
                "'print(chan, go, select, default, nilchan, sep=chr(10))'], "
                "capture_output=True, text=True)\n"
                "print(r.returncode); print(r.stderr); print(r.stdout)\n")
        r = run(GPY, ["-c", code])
        self.assertEqual(r.returncode, 0, r)
        self.assertTrue(r.out.startswith("0\n\n"), r)
        self.assertEqual(len(r.out.split("\n\n", 1)[1].strip().splitlines()),
                         5, r)

    def test_builtins_present(self):
        self.gpython_only()
        for opts in ([], ["-S"], ["-I"], ["-E", "-s", "-B"]):
            with self.subTest(opts=opts):
                r = run(GPY, opts + ["-c", "import builtins; print(all("
                                     "hasattr(builtins, n) for n in ('go', "
                                     "'chan', 'select', 'default', "
                                     "'nilchan')))"])
                self.assertEqual((r.returncode, r.out), (0, "True\n"), r)

    def path_dir(self):
        """A directory holding the interpreter under the name gpython: the
        build directory itself when that is its name."""
        d, name = os.path.split(GPY)
        if name == "gpython":
            return d
        d = self.tmpdir()
        os.symlink(GPY, os.path.join(d, "gpython"))
        return d

    def test_shebang_absolute(self):
        d = self.tmpdir()
        script = self.write(os.path.join(d, "prog"),
                            "#!%s\nimport sys\nprint(sys.argv[1:])\n"
                            "print(sys.executable)\n" % GPY, mode=0o755)
        r = subprocess.run([script, "a", "b"], env=base_env(),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=TIMEOUT)
        self.assertEqual(r.returncode, 0, r)
        self.assertEqual(r.stdout.decode(), "['a', 'b']\n%s\n" % GPY)

    def test_shebang_env(self):
        bindir = self.path_dir()
        d = self.tmpdir()
        script = self.write(os.path.join(d, "prog"),
                            "#!/usr/bin/env gpython\nimport sys\n"
                            "print(sys.argv[1:], sys.executable)\n"
                            "print('go' in dir(__builtins__))\n",
                            mode=0o755)
        env = base_env(PATH=bindir + os.pathsep + os.environ["PATH"])
        r = subprocess.run([script, "x"], env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=TIMEOUT)
        self.assertEqual(r.returncode, 0, r)
        lines = r.stdout.decode().splitlines()
        self.assertEqual(lines[0], "['x'] %s" % os.path.join(bindir,
                                                             "gpython"))
        if not SELFCHECK:
            self.assertEqual(lines[1], "True")


# ---------------------------------------------------------------------------
class PTY:
    """A child interpreter on a pseudo-terminal (its controlling tty)."""

    def __init__(self, argv, env):
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            try:
                os.execve(argv[0], argv, env)
            finally:
                os._exit(127)
        self.buf = b""
        self.status = None

    def read_until(self, pattern, timeout=10):
        """Read output until regex pattern (bytes) matches the unread part;
        return the match. Fails with the transcript on timeout/EOF."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while True:
            m = rx.search(self.buf)
            if m:
                self.buf = self.buf[m.end():]
                return m
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("timeout waiting for %r; got %r"
                                     % (pattern, self.buf))
            r, _, _ = select.select([self.fd], [], [], left)
            if not r:
                continue
            try:
                data = os.read(self.fd, 4096)
            except OSError as e:
                if e.errno != errno.EIO:
                    raise
                data = b""
            if not data:
                raise AssertionError("EOF waiting for %r; got %r"
                                     % (pattern, self.buf))
            self.buf += data

    def drain(self, seconds):
        """Collect whatever arrives within seconds."""
        deadline = time.monotonic() + seconds
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return self.buf
            r, _, _ = select.select([self.fd], [], [], left)
            if r:
                try:
                    data = os.read(self.fd, 4096)
                except OSError:
                    return self.buf
                if not data:
                    return self.buf
                self.buf += data

    def send(self, text):
        os.write(self.fd, text.encode())

    def wait(self, timeout=10):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.drain(0.05)
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.status = os.waitstatus_to_exitcode(status)
                return self.status
        raise AssertionError("child did not exit; output %r" % self.buf)

    def close(self):
        if self.status is None:
            try:
                os.kill(self.pid, signal.SIGKILL)
                os.waitpid(self.pid, 0)
            except OSError:
                pass
        os.close(self.fd)


class TestREPL(CLITestCase):
    PROMPT = rb">>> "

    def start(self, exe, args=()):
        env = base_env(LC_ALL="C.UTF-8", TERM="dumb")
        t = PTY([exe] + list(args), env)
        self.addCleanup(t.close)
        return t

    def basic_session(self, exe):
        t = self.start(exe)
        banner = t.read_until(rb"(?s)(.*?)" + self.PROMPT).group(1)
        self.assertIn(b"Python 3.11", banner)
        self.assertIn(b'Type "help"', banner)
        t.send("1+1\r")
        t.read_until(rb"\r?\n2\r?\n" + self.PROMPT)
        t.send("def f(x):\r")
        t.read_until(rb"\.\.\. ")
        t.send("    return x * 3\r")
        t.read_until(rb"\.\.\. ")
        t.send("\r")
        t.read_until(self.PROMPT)
        t.send("f('ab')\r")
        t.read_until(rb"'ababab'\r?\n" + self.PROMPT)
        # Ctrl-C at the prompt: KeyboardInterrupt. CPython's readline loop
        # loses a SIGINT that lands between printing the prompt and entering
        # select(), so give it time to get there first.
        time.sleep(0.3)
        t.send("\x03")
        t.read_until(rb"KeyboardInterrupt\r?\n" + self.PROMPT)
        return t

    def test_python3_session(self):
        # the same conversation against python3: checks the harness
        t = self.basic_session(PY)
        t.send("exit()\r")
        self.assertEqual(t.wait(), 0)

    def test_session(self):
        t = self.basic_session(GPY)
        if not SELFCHECK:
            t.send("print(chan)\r")
            m = t.read_until(rb"\r?\n(.*)\r?\n" + self.PROMPT)
            self.assertNotIn(b"Error", m.group(1), m.group(0))
            self.assertTrue(m.group(1).strip(), m.group(0))
            t.send("ch = chan(1); ch.send('v' * 2); ch.recv()\r")
            t.read_until(rb"'vv'\r?\n" + self.PROMPT)
        t.send("exit()\r")
        self.assertEqual(t.wait(), 0)

    def test_ctrl_d_exits(self):
        t = self.start(GPY, ["-q"])
        t.read_until(self.PROMPT)
        t.send("\x04")
        self.assertEqual(t.wait(), 0)

    def test_goroutine_runs_while_repl_waits(self):
        # EXPECTATION: a goroutine started at the prompt keeps running while
        # the REPL waits for input. The REPL reads through readline, which
        # select()s on stdin with the GIL released; gpython's interposed
        # select must park the main goroutine there instead of blocking the
        # OS thread, otherwise the goroutine only runs on the next keypress.
        self.gpython_only()
        t = self.start(GPY, ["-q"])
        t.read_until(self.PROMPT)
        t.send("import time\r")
        t.read_until(self.PROMPT)
        t.send("go(lambda: (time.sleep(0.3), print('gor' + 'outine-woke')))"
               "\r")
        t.read_until(self.PROMPT)
        # type nothing: the goroutine must print on its own
        t.read_until(rb"goroutine-woke", timeout=5)
        # and a goroutine blocked on a channel is woken from the prompt
        t.send("ch = chan(); done = chan()\r")
        t.read_until(self.PROMPT)
        t.send("go(lambda: (print('got', ch.recv()), done.close()))\r")
        t.read_until(self.PROMPT)
        t.send("ch.send(123); done.recv_()\r")
        t.read_until(rb"got 123")
        t.read_until(rb"\(None, False\)\r?\n" + self.PROMPT)
        t.send("exit()\r")
        self.assertEqual(t.wait(), 0)

    def test_i_script_then_prompt(self):
        d = self.tmpdir()
        script = self.write(os.path.join(d, "s.py"), "v = 6 * 7\n")
        for exe in (PY, GPY):
            with self.subTest(exe=exe):
                t = self.start(exe, ["-i", script])
                t.read_until(self.PROMPT)
                t.send("v\r")
                t.read_until(rb"42\r?\n" + self.PROMPT)
                t.send("raise SystemExit(3)\r")
                self.assertEqual(t.wait(), 3)


def main():
    global GPY, SELFCHECK
    argv = list(sys.argv)
    gpy = os.environ.get("GPYTHON")
    if "--gpython" in argv:
        i = argv.index("--gpython")
        gpy = argv[i + 1]
        del argv[i:i + 2]
    if not gpy:
        sys.exit("usage: test_cli.py --gpython PATH [unittest args] "
                 "(or GPYTHON=PATH)")
    GPY = os.path.abspath(gpy)
    if not os.access(GPY, os.X_OK):
        sys.exit("test_cli.py: %s is not an executable" % GPY)
    SELFCHECK = os.path.realpath(GPY) == os.path.realpath(PY)
    unittest.main(argv=argv)


if __name__ == "__main__":
    main()
