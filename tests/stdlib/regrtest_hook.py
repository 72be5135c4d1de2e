# regrtest_hook.py EVENTS_FILE [regrtest options] TEST...
#
# Runs CPython's regrtest (`python -m test ...`) in this interpreter (gpython
# or /usr/bin/python3) and appends one JSON line per test case outcome to
# EVENTS_FILE as it happens, so the results survive a crash, a hang killed by
# the timeout, or a deadlock abort: the last "start" without an "end" names
# the test that was running.  Used by run_regrtest.py; nothing else changes:
# same regrtest, same result class, same test order.
import json
import os
import sys
import traceback

_pid = None
_fd = None


def emit(**ev):
    if os.getpid() != _pid:         # a forked child running test code
        return
    try:
        os.write(_fd, (json.dumps(ev) + "\n").encode())
    except OSError:
        pass


def _errmsg(err):
    try:
        s = "".join(traceback.format_exception(*err))
    except Exception as e:  # pragma: no cover
        s = "<unformattable exception: %r>" % (e,)
    if len(s) > 4000:
        s = s[:1000] + "\n[...]\n" + s[-3000:]
    return s


def _id(test):
    try:
        return test.id()
    except Exception:
        return str(test)


def install(case_timeout):
    import faulthandler
    from test.support import testresult
    import unittest
    from unittest.case import _SubTest

    R = testresult.RegressionTestResult
    cur = {}   # id(result) -> state of the test being run

    def wrap(name, fn):
        orig = getattr(R, name)

        def method(self, test, *args):
            try:
                fn(self, test, *args)
            except Exception:       # never let the hook break the run
                pass
            return orig(self, test, *args)
        method.__name__ = name
        setattr(R, name, method)

    def arm():
        # One test case (or the fixtures between two) hanging longer than
        # this dumps all tracebacks and exits: run_regrtest.py then records
        # it as a hang and resumes with the cases not run yet.  (This takes
        # over regrtest's per-module faulthandler timer; the runner keeps its
        # own per-module timeout.)
        if case_timeout:
            faulthandler.dump_traceback_later(case_timeout, exit=True)

    def on_start(self, test):
        arm()
        tid = _id(test)
        cur[id(self)] = {"id": tid, "s": None, "msg": None, "sub": None}
        emit(e="start", id=tid)

    def outcome(self, test, status, msg=None):
        st = cur.get(id(self))
        if isinstance(test, _SubTest):
            if st is not None and status in ("fail", "error") and st["sub"] is None:
                st["sub"] = (status, msg)
            return
        if st is None or st["id"] != _id(test):
            # an error outside a started test: setUpClass/setUpModule/
            # tearDown*: unittest reports it on an _ErrorHolder
            emit(e="fixture", id=_id(test), s=status, msg=msg)
            return
        st["s"] = status
        st["msg"] = msg

    def on_subtest(self, test, subtest, err):
        if err is None or issubclass(err[0], unittest.SkipTest):
            return
        st = cur.get(id(self))
        if st is None or st["sub"] is not None:
            return
        status = "fail" if issubclass(err[0], test.failureException) else "error"
        st["sub"] = (status, "subtest %s:\n%s" % (subtest._subDescription(), _errmsg(err)))

    def on_stop(self, test):
        arm()
        st = cur.pop(id(self), None)
        if st is None:
            return
        s, msg = st["s"], st["msg"]
        if st["sub"] is not None and s in (None, "pass"):
            s, msg = st["sub"]
        emit(e="end", id=st["id"], s=s or "error", msg=msg if s != "pass" else None)

    wrap("startTest", on_start)
    wrap("addSuccess", lambda self, t: outcome(self, t, "pass"))
    wrap("addFailure", lambda self, t, err: outcome(self, t, "fail", _errmsg(err)))
    wrap("addError", lambda self, t, err: outcome(self, t, "error", _errmsg(err)))
    wrap("addSkip", lambda self, t, reason: outcome(self, t, "skip", str(reason)))
    wrap("addExpectedFailure", lambda self, t, err: outcome(self, t, "xfail"))
    wrap("addUnexpectedSuccess", lambda self, t: outcome(self, t, "xpass"))
    wrap("addSubTest", on_subtest)
    wrap("stopTest", on_stop)


def main():
    global _pid, _fd
    events_path = sys.argv.pop(1)
    # Behave like `python -m test`: sys.path[0] is the current directory.
    sys.path[0] = os.getcwd()
    _pid = os.getpid()
    _fd = os.open(events_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    install(float(os.environ.pop("GPY_REGRTEST_CASE_TIMEOUT", "0") or 0))
    emit(e="begin", argv=sys.argv[1:], exe=sys.executable,
         version=sys.version.split()[0])
    try:
        from test.libregrtest import main as regrtest_main
        regrtest_main()
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
        emit(e="done", code=code)
        raise
    except BaseException as e:
        emit(e="done", code=-1, msg=repr(e))
        raise
    emit(e="done", code=0)


# Guarded: multiprocessing's spawn and forkserver children re-import the main
# script as __mp_main__.
if __name__ == "__main__":
    main()
