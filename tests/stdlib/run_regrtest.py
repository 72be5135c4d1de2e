#!/usr/bin/python3
"""Run CPython's regression tests under gpython and compare with python3.

    run_regrtest.py --gpython build/gpython test_poll [test_select ...]
    run_regrtest.py --make-baseline test_poll ...   # record python3's outcomes
    run_regrtest.py --table RESULTS_DIR             # markdown table of results

For every module, `<interp> regrtest_hook.py EVENTS -m test <module>` runs
CPython's own regrtest (same runner, same order) and records each test case's
outcome as it happens (pass/fail/error/skip/xfail/xpass), so a crash or a hang
killed by the timeout still tells which tests ran and which one hung.

The verdict: the module fails iff a test case that passed under python3 (the
committed baseline tests/stdlib/baseline/<module>.json, or a live run with
--live-baseline) does not pass under gpython (fails, errors, is skipped, or
never ran), is not listed in expected_failures.txt, still fails when re-run
alone under gpython, and passes when re-run alone under python3 right now
(the last two weed out timing flakes on a loaded machine and environment
differences since the baseline was recorded; both are reported).  A gpython
run that times out or dies without finishing regrtest always fails.

Must be run by /usr/bin/python3 (never the pyenv python3 first on PATH).
"""
import argparse
import fnmatch
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
HOOK = os.path.join(HERE, "regrtest_hook.py")
BASELINE_DIR = os.path.join(HERE, "baseline")
EXPECTED = os.path.join(HERE, "expected_failures.txt")
PYTHON3 = "/usr/bin/python3"
# Resources: everything but what needs the Internet or a display/sound card.
USE = "all,-network,-urlfetch,-gui,-audio"
# ... except modules that gate local-only tests behind "network".
MODULE_USE = {
    "test_socketserver": "all,-urlfetch,-gui,-audio",   # localhost servers
}
# Tests not run under either interpreter because they hang or cannot work on
# the test machine itself (not gpython-specific): regrtest -i patterns.
ENV_IGNORE = {
    # This VM has /dev/vsock (local CID 3) but nothing answers a connect to
    # it: the test hangs under python3 as well.
    "test_socket": ["test.test_socket.ThreadedVSOCKSocketStreamTest.*"],
}

PASS = "pass"


def short(tid):
    return tid[5:] if tid.startswith("test.") else tid


# ---------------------------------------------------------------- running

class Run:
    """The outcome of regrtest on one module (possibly resumed after deaths)."""

    def __init__(self):
        self.cases = {}       # short id -> (status, msg)
        self.fixtures = []    # (short id, status, msg): setUpClass errors...
        self.deaths = []      # (test id or None, what): hangs, crashes
        self.done = None      # regrtest's exit code of the last segment
        self.out_of_time = False
        self.duration = 0.0
        self.log = None
        self.version = None

    def counts(self):
        c = {"ran": len(self.cases), "pass": 0, "fail": 0, "skip": 0, "xfail": 0}
        for s, _ in self.cases.values():
            if s == PASS:
                c["pass"] += 1
            elif s == "skip":
                c["skip"] += 1
            elif s == "xfail":
                c["xfail"] += 1
            else:
                c["fail"] += 1          # fail, error, xpass, hang, crash
        return c

    def finished(self):
        return not self.deaths and not self.out_of_time and self.done is not None

    def brief(self):
        c = self.counts()
        s = "ran=%d pass=%d fail=%d skip=%d" % (c["ran"], c["pass"], c["fail"], c["skip"])
        if not self.finished():
            s += " [%s]" % self.death()
        return s

    def death(self):
        if len(self.deaths) > 2:
            kinds = {}
            for t, w, _ in self.deaths:
                k = self.cases.get(t, ("crash",))[0] if t else "crash"
                kinds[k] = kinds.get(k, 0) + 1
            what = [", ".join("%d %ss" % (n, k) for k, n in sorted(kinds.items()))]
        else:
            what = ["%s in %s" % (w, t) if t else w for t, w, _ in self.deaths]
        if self.out_of_time:
            what.append("out of time, the rest never ran")
        return "; ".join(what) or "did not finish"


def _child_setup():
    # A runner started in the background of a non-interactive shell inherits
    # SIGINT/SIGQUIT ignored; regrtest's signal tests need the defaults.
    for s in (signal.SIGINT, signal.SIGQUIT):
        signal.signal(s, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_SETMASK, [])


def describe_group(pgid):
    """The processes left in a process group, for the log of a hang."""
    out = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % name) as f:
                stat = f.read()
            fields = stat[stat.rindex(")") + 2:].split()
            if int(fields[2]) != pgid:
                continue
            with open("/proc/%s/status" % name) as f:
                st = dict(l.split(":", 1) for l in f.read().splitlines() if ":" in l)
            with open("/proc/%s/cmdline" % name, "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode("utf-8", "replace")[:200]
            try:
                with open("/proc/%s/wchan" % name) as f:
                    wchan = f.read()
            except OSError:
                wchan = "?"
            out.append("  pid %s ppid %s state %s threads %s wchan %s sigblk %s "
                       "sigpnd %s shdpnd %s sigcgt %s sigign %s\n    %s\n" % (
                           name, st["PPid"].strip(), fields[0], st["Threads"].strip(),
                           wchan, st["SigBlk"].strip(), st["SigPnd"].strip(),
                           st["ShdPnd"].strip(), st["SigCgt"].strip(),
                           st["SigIgn"].strip(), cmd))
        except (OSError, ValueError, KeyError, IndexError):
            continue
    if not out:
        return ""
    return ("\n== run_regrtest.py: processes left in the group after the "
            "interpreter ended:\n" + "".join(out))


def _clean_env(extra_env=None):
    env = dict(os.environ)
    for k in ("PYTHONHOME", "PYTHONPATH", "PYTHONSTARTUP", "PYTHONWARNINGS",
              "PYENV_VERSION", "VIRTUAL_ENV"):
        env.pop(k, None)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    if extra_env:
        env.update(extra_env)
    return env


def _why_died(rc, log_path):
    """Classify the end of a regrtest process that did not finish."""
    try:
        with open(log_path, "rb") as f:
            f.seek(0, 2)
            f.seek(max(0, f.tell() - 200000))
            tail = f.read().decode("utf-8", "replace")
    except OSError:
        tail = ""
    if "all goroutines are asleep" in tail:
        return "crash", "deadlock abort (all goroutines are asleep)"
    if rc is not None and rc < 0:
        try:
            name = signal.Signals(-rc).name
        except ValueError:
            name = "signal %d" % -rc
        return "crash", "killed by " + name
    if "Timeout (" in tail and "!\nThread 0x" in tail:
        return "hang", "hang (faulthandler timeout)"
    if "Fatal Python error" in tail:
        line = tail[tail.rindex("Fatal Python error"):].splitlines()[0]
        return "crash", line
    return "crash", "exit %s before regrtest finished" % rc


def run_module(interp, module, timeout, workdir, match=None, use=USE,
               case_timeout=180, resume=True, extra_env=None, label=None):
    """Run regrtest on one module under interp within `timeout` seconds in
    all; return a Run.  When the process dies (crash, or a test case that
    hangs longer than case_timeout), the test it was running is recorded as
    "crash"/"hang" and regrtest resumes with the cases not run yet."""
    r = Run()
    os.makedirs(workdir, exist_ok=True)
    tag = "%s.%s%s" % (module, os.path.basename(interp), "." + label if label else "")
    t0 = time.monotonic()
    skip = set()            # full ids already run (for --ignorefile)
    seg = 0
    while True:
        seg += 1
        left = timeout - (time.monotonic() - t0)
        if left < 20:
            r.out_of_time = True
            break
        stag = tag if seg == 1 else "%s.resume%d" % (tag, seg - 1)
        events = os.path.join(workdir, stag + ".events")
        log_path = os.path.join(workdir, stag + ".log")
        if r.log is None:
            r.log = log_path
        if os.path.exists(events):
            os.unlink(events)
        cwd = tempfile.mkdtemp(prefix="gpy-regrtest-", dir=workdir)
        # regrtest's own faulthandler timeout (and the hook's per test case
        # one) fire before ours, so a hang dumps every thread's traceback into
        # the log before we kill the process group.
        inner = max(15, int(left) - 15)
        cmd = [interp, HOOK, events, "--timeout", str(inner), "-u", use]
        if match:
            mf = os.path.join(workdir, stag + ".match")
            with open(mf, "w") as f:
                f.write("".join("test." + m + "\n" for m in match))
            cmd += ["--matchfile", mf]
        if skip:
            igf = os.path.join(workdir, stag + ".ignore")
            with open(igf, "w") as f:
                f.write("".join(t + "\n" for t in sorted(skip)))
            cmd += ["--ignorefile", igf]
        for pat in ENV_IGNORE.get(module, ()):
            cmd += ["-i", pat]
        cmd.append(module)
        env = _clean_env(extra_env)
        env["GPY_REGRTEST_CASE_TIMEOUT"] = str(min(case_timeout, inner))
        timed_out = False
        with open(log_path, "wb") as log:
            log.write(("$ cd %s && %s\n" % (cwd, " ".join(cmd))).encode())
            log.flush()
            p = subprocess.Popen(cmd, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                                 stdout=log, stderr=subprocess.STDOUT,
                                 start_new_session=True, preexec_fn=_child_setup)
            try:
                rc = p.wait(left)
            except subprocess.TimeoutExpired:
                timed_out = True
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                rc = p.wait()
            # children the tests left behind: what were they doing?
            if rc != 0 or timed_out:
                log.write(describe_group(p.pid).encode())
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        shutil.rmtree(cwd, ignore_errors=True)
        started, done, nrun = parse_events(r, events, skip)
        r.done = done
        if done is not None and not timed_out:
            break
        if timed_out:
            kind, what = "hang", "hang (killed at the module timeout)"
        else:
            kind, what = _why_died(rc, log_path)
        r.deaths.append((started, what, log_path))
        if started is None:
            # died outside a test case (import, setUpClass, teardown...):
            # resuming would die the same way unless something ran
            if nrun == 0:
                break
        else:
            r.cases[started] = (kind, what)
            skip.add("test." + started)
        if not resume or len(r.deaths) >= 8:
            break
    r.duration = time.monotonic() - t0
    return r


def parse_events(r, path, seen):
    """Merge an events file into r; return (started-not-ended id, done code,
    number of cases run).  Adds the full ids of the cases run to seen."""
    started = None
    done = None
    n = 0
    try:
        f = open(path, encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return None, None, 0
    with f:
        for line in f:
            try:
                ev = json.loads(line)
            except ValueError:
                continue
            e = ev.get("e")
            if e == "start":
                started = short(ev["id"])
            elif e == "end":
                tid = short(ev["id"])
                r.cases[tid] = (ev.get("s"), ev.get("msg"))
                seen.add(ev["id"])
                n += 1
                started = None
            elif e == "fixture":
                r.fixtures.append((short(ev["id"]), ev.get("s"), ev.get("msg")))
            elif e == "begin":
                r.version = ev.get("version")
            elif e == "done":
                done = ev.get("code")
    return started, done, n


# ------------------------------------------------------------- baselines

def baseline_path(module):
    return os.path.join(BASELINE_DIR, module + ".json")


def save_baseline(module, r, use):
    c = r.counts()
    data = {
        "module": module,
        "python": PYTHON3,
        "version": r.version,
        "use": use,
        "recorded": time.strftime("%Y-%m-%d"),
        "duration": round(r.duration, 1),
        "finished": r.finished(),
        "counts": c,
        "cases": {k: s for k, (s, _) in sorted(r.cases.items())},
    }
    os.makedirs(BASELINE_DIR, exist_ok=True)
    with open(baseline_path(module), "w") as f:
        json.dump(data, f, indent=0, sort_keys=False)
        f.write("\n")


def load_baseline(module):
    try:
        with open(baseline_path(module)) as f:
            data = json.load(f)
    except FileNotFoundError:
        return None
    r = Run()
    r.cases = {k: (s, None) for k, s in data["cases"].items()}
    r.duration = data.get("duration", 0)
    r.done = 0 if data.get("finished", True) else None
    r.version = data.get("version")
    return r


# ------------------------------------------------------ expected failures

def load_expected(path=EXPECTED):
    """[(pattern, reason)] from `test_module.Class.test_name  # reason`."""
    out = []
    try:
        f = open(path)
    except FileNotFoundError:
        return out
    with f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            pat, _, reason = line.partition("#")
            out.append((pat.strip(), reason.strip()))
    return out


def expected_reason(tid, expected):
    for pat, reason in expected:
        if fnmatch.fnmatchcase(tid, pat) or tid == pat:
            return reason or "(no reason given)"
    return None


# ------------------------------------------------------------ comparison

def first_line(msg, n=200):
    if not msg:
        return ""
    lines = [l for l in msg.strip().splitlines() if l.strip()]
    if not lines:
        return ""
    s = lines[-1].strip()
    return s if len(s) <= n else s[:n] + "..."


def explain_missing(tid, g):
    """Why did tid not run under gpython?"""
    for fid, s, msg in g.fixtures:
        # "setUpClass (test_x.Cls)" / "setUpModule (test_x)"
        inner = fid[fid.find("(") + 1:fid.rfind(")")] if "(" in fid else fid
        inner = short(inner)
        if tid.startswith(inner + "."):
            return "%s %s: %s" % (fid, s, first_line(msg))
    if not g.finished():
        return "never ran: " + g.death()
    return "never ran"


def compare(module, base, g, expected):
    """Return (regressions, expected_hits, fixed_expected) lists of
    (tid, status, why)."""
    regress, exp_hits, fixed = [], [], []
    for tid, (bs, _) in sorted(base.cases.items()):
        if bs != PASS:
            continue
        gs, msg = g.cases.get(tid, (None, None))
        reason = expected_reason(tid, expected)
        if gs == PASS:
            if reason:
                fixed.append((tid, gs, reason))
            continue
        if gs is None:
            why = explain_missing(tid, g)
            gs = "missing"
        elif gs == "skip":
            why = "skipped: " + first_line(msg)
        else:
            why = first_line(msg)
        if reason:
            exp_hits.append((tid, gs, reason))
        else:
            regress.append((tid, gs, why))
    return regress, exp_hits, fixed


# ------------------------------------------------------------------- main

def do_module(args, module, expected):
    wd = os.path.join(args.workdir, module)
    if os.path.isdir(wd):
        shutil.rmtree(wd, ignore_errors=True)
    base = None if args.live_baseline else load_baseline(module)
    if base is None:
        base = run_module(PYTHON3, module, args.timeout, wd, use=args.use,
                          case_timeout=args.case_timeout)
        if args.live_baseline is False:
            print("stdlib %s: no baseline (tests/stdlib/baseline/%s.json); "
                  "ran python3 live" % (module, module), flush=True)
    g = run_module(args.gpython, module, args.timeout, wd, use=args.use,
                   case_timeout=args.case_timeout)
    regress, exp_hits, fixed = compare(module, base, g, expected)

    flaky, env = [], []
    # Re-run the failures (not the hangs and crashes: they cost a timeout
    # each) alone: under gpython to weed out timing flakes, then under
    # python3 to weed out what fails on this machine now anyway.
    again = [x for x in regress if x[1] not in ("hang", "crash")]
    if again and args.rerun and len(again) <= args.rerun_max:
        ids = [t for t, _, _ in again]
        rt = max(120, min(args.timeout, 60 + 20 * len(ids)))
        g2 = run_module(args.gpython, module, rt, wd, match=ids, use=args.use,
                        label="rerun", case_timeout=args.case_timeout)
        still = [x for x in again if g2.cases.get(x[0], (None,))[0] != PASS]
        flaky = [x for x in again if g2.cases.get(x[0], (None,))[0] == PASS]
        if still:
            p2 = run_module(PYTHON3, module, rt, wd, match=[t for t, _, _ in still],
                            use=args.use, label="rerun",
                            case_timeout=args.case_timeout)
            env = [x for x in still if p2.cases.get(x[0], (None,))[0] != PASS]
        regress = [x for x in regress if x not in flaky and x not in env]

    # a death outside any test case, or running out of time, fails the
    # module even if every case that ran passed
    ok = (not regress and not g.out_of_time
          and not any(t is None for t, _, _ in g.deaths))
    bc = base.counts()
    gc = g.counts()
    res = {
        "module": module,
        "python3": bc, "python3_duration": round(base.duration, 1),
        "gpython": gc, "gpython_duration": round(g.duration, 1),
        "gpython_finished": g.finished(),
        "gpython_death": None if g.finished() else g.death(),
        "regressions": [list(x) for x in regress],
        "expected": [list(x) for x in exp_hits],
        "flaky": [list(x) for x in flaky],
        "env": [list(x) for x in env],
        "fixed_expected": [list(x) for x in fixed],
        "ok": ok,
        "log": g.log,
    }
    if args.results:
        os.makedirs(args.results, exist_ok=True)
        with open(os.path.join(args.results, module + ".json"), "w") as f:
            json.dump(res, f, indent=1)
            f.write("\n")

    for tid, s, why in regress[:args.max_report]:
        print("  REGRESSION %s: %s: %s" % (tid, s, why))
    if len(regress) > args.max_report:
        print("  ... and %d more regressions (see %s)" % (
            len(regress) - args.max_report, args.results or "--results"))
    for tid, s, why in flaky:
        print("  flaky (passed when re-run alone) %s: %s: %s" % (tid, s, why))
    for tid, s, why in env:
        print("  also fails under python3 now (not counted) %s: %s: %s" % (tid, s, why))
    if args.show_expected:
        for tid, s, why in exp_hits:
            print("  expected failure %s: %s  # %s" % (tid, s, why))
    for tid, s, why in fixed:
        print("  NOTE: %s passes under gpython but is listed in expected_failures.txt" % tid)
    for t, what, log in g.deaths:
        print("  gpython died: %s in %s; log: %s" % (what, t, log))
        tail(log, 25)
    print("stdlib %-26s python3: %s | gpython: %s | regressions=%d expected=%d "
          "flaky=%d env=%d | %.0fs %s" % (
              module, base.brief(), g.brief(), len(regress), len(exp_hits),
              len(flaky), len(env), g.duration, "OK" if ok else "FAIL"),
          flush=True)
    return ok


def tail(path, n=40):
    """Print the log from the last crash/hang report (or its last lines)."""
    try:
        with open(path, "rb") as f:
            f.seek(0, 2)
            f.seek(max(0, f.tell() - 100000))
            data = f.read().decode("utf-8", "replace")
    except OSError:
        return
    lines = data.splitlines()
    at = None
    for i, line in enumerate(lines):
        if (line.startswith("Fatal Python error") or line.startswith("Timeout (")
                or "all goroutines are asleep" in line):
            at = i
    lines = lines[at:at + n] if at is not None else lines[-n:]
    for line in lines:
        print("    | " + line)


def make_baseline(args, module):
    wd = os.path.join(args.workdir, module)
    r = run_module(PYTHON3, module, args.timeout, wd, use=args.use,
                          case_timeout=args.case_timeout)
    save_baseline(module, r, args.use)
    print("baseline %-26s python3: %s | %.0fs" % (module, r.brief(), r.duration),
          flush=True)
    return r.finished()


def table(results_dir):
    rows = []
    for name in sorted(os.listdir(results_dir)):
        if not name.endswith(".json"):
            continue
        with open(os.path.join(results_dir, name)) as f:
            rows.append(json.load(f))
    print("| module | python3 ran / pass / fail / skip | gpython ran / pass / fail / skip "
          "| regressions | expected failures | flaky | time py3 / gpy (s) |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        b, g = r["python3"], r["gpython"]
        print("| %s | %d / %d / %d / %d | %d / %d / %d / %d%s | %d | %d | %d | %.0f / %.0f |" % (
            r["module"], b["ran"], b["pass"], b["fail"], b["skip"],
            g["ran"], g["pass"], g["fail"], g["skip"],
            "" if r["gpython_finished"] else " (did not finish)",
            len(r["regressions"]), len(r["expected"]), len(r["flaky"]),
            r["python3_duration"], r["gpython_duration"]))


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("modules", nargs="*")
    ap.add_argument("--gpython", default=os.path.join(HERE, "..", "..", "build", "gpython"))
    ap.add_argument("--timeout", type=float, default=900,
                    help="per module and interpreter, seconds (default 900)")
    ap.add_argument("--case-timeout", type=float, default=180,
                    help="a test case running longer counts as a hang (default 180)")
    ap.add_argument("--workdir", default=os.path.join(tempfile.gettempdir(),
                                                      "gpy-stdlib-%d" % os.getuid()))
    ap.add_argument("--use", default=None,
                    help="regrtest -u resources (default %s)" % USE)
    ap.add_argument("--results", help="write <module>.json results here")
    ap.add_argument("--make-baseline", action="store_true",
                    help="run under python3 and write baseline/<module>.json")
    ap.add_argument("--live-baseline", action="store_true", default=None,
                    help="run python3 now instead of using the committed baseline")
    ap.add_argument("--no-rerun", dest="rerun", action="store_false",
                    help="do not re-run regressions alone to weed out flakes")
    ap.add_argument("--rerun-max", type=int, default=200)
    ap.add_argument("--show-expected", action="store_true")
    ap.add_argument("--max-report", type=int, default=30,
                    help="print at most this many regressions per module")
    ap.add_argument("--table", metavar="RESULTS_DIR",
                    help="print a markdown table of a results dir and exit")
    args = ap.parse_args()
    if args.table:
        table(args.table)
        return 0
    if not args.modules:
        ap.error("no modules")
    if args.live_baseline is None:
        args.live_baseline = False
    args.gpython = os.path.abspath(args.gpython)
    ok = True
    default_use = args.use
    args.use = None
    if args.make_baseline:
        for m in args.modules:
            args.use = default_use or MODULE_USE.get(m, USE)
            ok &= make_baseline(args, m)
        return 0 if ok else 1
    if not os.access(args.gpython, os.X_OK):
        print("no gpython at %s" % args.gpython)
        return 1
    expected = load_expected()
    for m in args.modules:
        args.use = default_use or MODULE_USE.get(m, USE)
        ok &= do_module(args, m, expected)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
