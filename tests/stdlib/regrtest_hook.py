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

events_path = sys.argv[1]
del sys.argv[1]
# Behave like `python -m test`: sys.path[0] is the current directory.
sys.path[0] = os.getcwd()

_pid = os.getpid()
_fd = os.open(events_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)


def emit(**ev):
    if os.getpid() != _pid:         # a forked child running test code
        return
    line = (json.dumps(ev) + "\n").encode()
    try:
        os.write(_fd, line)
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


from test.support import testresult  # noqa: E402
import unittest  # noqa: E402
from unittest.case import _SubTest  # noqa: E402

R = testresult.RegressionTestResult
_cur = {}   # id(result) -> state of the test being run


def _state(result):
    return _cur.get(id(result))


def _wrap(name, fn):
    orig = getattr(R, name)

    def method(self, test, *args):
        try:
            fn(self, test, *args)
        except Exception:  # never let the hook break the run
            pass
        return orig(self, test, *args)
    method.__name__ = name
    setattr(R, name, method)


def h_start(self, test):
    tid = _id(test)
    _cur[id(self)] = {"id": tid, "s": None, "msg": None, "sub": None}
    emit(e="start", id=tid)


def _set(self, test, status, msg=None):
    st = _state(self)
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


_wrap("startTest", h_start)
_wrap("addSuccess", lambda self, t: _set(self, t, "pass"))
_wrap("addFailure", lambda self, t, err: _set(self, t, "fail", _errmsg(err)))
_wrap("addError", lambda self, t, err: _set(self, t, "error", _errmsg(err)))
_wrap("addSkip", lambda self, t, reason: _set(self, t, "skip", str(reason)))
_wrap("addExpectedFailure", lambda self, t, err: _set(self, t, "xfail"))
_wrap("addUnexpectedSuccess", lambda self, t: _set(self, t, "xpass"))


def h_subtest(self, test, subtest, err):
    if err is None:
        return
    st = _state(self)
    if st is None:
        return
    status = "fail" if issubclass(err[0], test.failureException) else "error"
    if issubclass(err[0], unittest.SkipTest):
        return
    if st["sub"] is None:
        st["sub"] = (status, "subtest %s:\n%s" % (subtest._subDescription(), _errmsg(err)))


_wrap("addSubTest", h_subtest)

_orig_stop = R.stopTest


def h_stop(self, test):
    try:
        st = _cur.pop(id(self), None)
        if st is not None:
            s, msg = st["s"], st["msg"]
            if st["sub"] is not None and s in (None, "pass"):
                s, msg = st["sub"]
            emit(e="end", id=st["id"], s=s or "error",
                 msg=msg if s != "pass" else None)
    except Exception:
        pass
    return _orig_stop(self, test)


R.stopTest = h_stop

emit(e="begin", argv=sys.argv[1:], exe=sys.executable,
     version=sys.version.split()[0])
code = 0
try:
    from test.libregrtest import main
    main()
except SystemExit as e:
    code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    emit(e="done", code=code)
    raise
except BaseException as e:
    emit(e="done", code=-1, msg=repr(e))
    raise
emit(e="done", code=0)
